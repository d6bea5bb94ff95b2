//! # embedded-responder
//!
//! An HTTP/1.1 server core for microcontrollers first and hosts second: `no_std`, no heap,
//! no `unsafe`. Requests are parsed with `httparse` into caller-sized buffers, small
//! collections are `heapless`, and bytes move through the `embedded-io` traits.
//!
//! ## Layers
//!
//! Data flows down this list and back up, once:
//!
//! | module | owns |
//! |---|---|
//! | [`request`] | head bytes to [`Request`]: httparse plus the checks it leaves to servers |
//! | [`body`] | the body's framing, decided once from the head |
//! | [`response`] | status line, headers, `Content-Length`, HEAD/204/304 rules, staged for one write |
//! | [`connection`] | the per-connection state machine (sans-IO): head, body, handler, write, keep-alive or close |
//! | [`router`] | method + path to [`Handler`], 404, 405 + `Allow`, HEAD and OPTIONS |
//! | [`io`] | drivers: [`io::blocking`] over `embedded_io::{Read, Write}`; `io::asynch` (feature `async`) over `embedded_io_async` |
//! | `std_server` | (feature `std`) a `TcpListener` server with threads, timeouts and shutdown |
//!
//! ## Quick start (firmware)
//!
//! ```
//! use embedded_responder::{get, io::blocking, post, Connection, Router};
//!
//! fn serve_one<S: embedded_io::Read + embedded_io::Write>(socket: &mut S) {
//!     let mut app = Router::new()
//!         .route("/", get(|_req, res| res.html("<h1>Hello, World</h1>")))
//!         .route("/echo", post(|req, res| res.ok("text/plain", req.body())));
//!     let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
//!     let mut conn = Connection::new(&mut rx, &mut tx);
//!     let _ = blocking::serve(socket, &mut conn, &mut app);
//! }
//! ```
//!
//! ## Limits
//!
//! A request's head and body must fit the receive buffer together; see [`Limits`] and
//! [`DEFAULT_MAX_HEADERS`]. Chunked request bodies are decoded in place, so they too must fit.

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod body;
pub mod connection;
pub mod demo;
pub mod error;
pub mod handler;
#[cfg(feature = "std")]
pub mod host;
pub mod io;
pub mod request;
pub mod response;
pub mod router;
pub mod sse;
#[cfg(feature = "std")]
pub use host::std_server;
#[cfg(feature = "tokio")]
pub use host::tokio_server;
pub mod stream;
pub mod target;

pub use connection::{
    Action, Connection, Exchange, Limits, Next, Pending, Timeouts, Transmit, DEFAULT_MAX_HEADERS,
};
pub use error::{Error, Failure};
pub use handler::Handler;
pub use request::{Header, Method, Request, Version};
pub use response::{BodyWriter, Responded, Responder, ResponseHead, Status};
pub use router::{delete, get, on, patch, post, put, Router};
pub use stream::{RequestBody, ResponseStream, StreamError};

/// The README's code blocks, compiled and run as doc tests so that they stay true (with
/// `--all-features`: one block uses the async driver).
#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
