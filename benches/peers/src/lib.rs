//! The page every peer serves at `/`: the library's demo page, byte for byte.

/// The example's page (`demo_app::PAGE`, examples/demo), read from its source at
/// build time so that both serve the same bytes.
pub const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/page.html"));

pub mod hyper_app;
