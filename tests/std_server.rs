//! The std server over real loopback sockets, checked by clients written elsewhere: ureq (a
//! Rust HTTP client), curl (when installed), and raw TCP for what clients hide (keep-alive,
//! pipelining, timeouts, the connection cap, restarting on the same port, shutdown).
#![cfg(feature = "std")]
//!
//! The tests live in `common/server_suite.rs`; `tests/tokio_server.rs` runs them against the
//! tokio server.

// Read by the suite only when the `tokio` feature is on.
#[allow(dead_code)]
const TOKIO: bool = false;

mod common;

include!("common/server_suite.rs");
