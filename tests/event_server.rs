//! The real-socket tests of `tests/std_server.rs` (in `common/server_suite.rs`), against the
//! event-loop server (feature `event-loop`, two workers).
#![cfg(feature = "event-loop")]

const EVENT_LOOP: bool = true;

mod common;

include!("common/server_suite.rs");
