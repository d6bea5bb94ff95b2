//! The real-socket tests of `tests/std_server.rs` (in `common/server_suite.rs`), against the
//! tokio server.
#![cfg(feature = "tokio")]

const TOKIO: bool = true;

mod common;

include!("common/server_suite.rs");
