//! The wire codecs and the vocabulary every layer shares. Sans-IO: bytes in, values and
//! decisions out (`Partial` / `Complete` / `Err`, as httparse has it); values in, bytes out.
//!
//! Owns: the lexical rules (`syntax.rs`: tokens, lists, hex, the integer writer), [`Status`]
//! (`status.rs`, a leaf), the request view (`request.rs`), the request head (`request_head.rs`:
//! the incremental scanner, httparse and the checks it leaves to servers), body framing in
//! (`body_in.rs`: Content-Length, the chunked decoder) and out (`body_out.rs`: the chunked
//! encoder, declared lengths enforced), the response head (`response_head.rs`: status line,
//! checked headers, framing fields, the error response), Server-Sent Events encoding
//! (`sse.rs`) and WebSocket frames (`ws/`).
//!
//! Never does: IO, clocks, routing, or anything that knows about a connection's state. No file
//! here imports from a layer above it.

pub(crate) mod body_in;
pub(crate) mod body_out;
pub(crate) mod request;
pub(crate) mod request_head;
pub(crate) mod response_head;
pub(crate) mod sse;
pub(crate) mod status;
pub(crate) mod syntax;
#[cfg(feature = "ws")]
pub(crate) mod ws;

pub use request::{Header, Headers, Method, Request, Version};
pub use status::Status;
