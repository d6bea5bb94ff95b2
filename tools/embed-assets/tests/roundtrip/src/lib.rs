//! The example web UI, embedded by build.rs with embed-assets.
#![no_std]
#![deny(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/assets.rs"));
include!(concat!(env!("OUT_DIR"), "/plain.rs"));
