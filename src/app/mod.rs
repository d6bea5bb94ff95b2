//! The application layer: what a device web UI and a JSON API are built from, on top of the
//! handler interface.
//!
//! Owns: routing by method and pattern, blocking and async handlers alike, with typed path
//! parameters and nesting (`router/`, `path.rs`), percent-decoding and normalised paths (`target.rs`), query and form fields
//! (`form.rs`), `multipart/form-data` bodies read part by part as they arrive
//! (`multipart/`), cookies (`cookie.rs`), JSON bodies and answers (`json.rs`, feature `json`),
//! HTTP Basic authentication (`auth.rs`, feature `auth`), static assets with ETag, gzip and
//! ranges (`assets/`), layers that see every response and CORS (`layer.rs`, `cors.rs`, feature
//! `layers`), Server-Sent Events streams (`sse.rs`) and WebSocket sessions (`ws/`,
//! feature `ws`).
//!
//! Never does: protocol framing (the wire and the connection decide every byte on the wire)
//! or IO (the drivers move bytes; nothing here names them).

pub mod assets;
#[cfg(feature = "auth")]
pub mod auth;
pub mod cookie;
#[cfg(feature = "layers")]
pub mod cors;
pub mod form;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "layers")]
pub mod layer;
pub mod multipart;
pub mod path;
pub mod router;
pub mod sse;
pub mod target;
#[cfg(feature = "ws")]
pub mod ws;
