//! # embedded-responder
//!
//! An HTTP/1.1 server core for microcontrollers first and hosts second: `no_std`, no heap,
//! no `unsafe`. Requests are parsed with `httparse` into caller-sized buffers, small
//! collections are `heapless`, and bytes move through the `embedded-io` traits.
//!
//! ## Layers
//!
//! Dependencies point down this list only:
//!
//! | module | owns |
//! |---|---|
//! | [`request`], [`body`], [`response`], [`sse`] | wire codecs: head bytes to [`Request`] (httparse plus the checks it leaves to servers), body framing in (Content-Length, chunked), the response head and staged body, Server-Sent Events |
//! | [`connection`] | the per-connection state machine (sans-IO): a reading half (head, body taken whole or handed over as it arrives) and a writing half (staged or streamed), keep-alive or close |
//! | [`stream`], [`handler`] | what a handler is handed: [`RequestBody`] (a body read in pieces), [`ResponseStream`] (a body written in pieces: chunked, by declared length, until close); the [`Handler`] traits |
//! | [`router`] | method + path to [`Handler`], 404, 405 + `Allow`, HEAD and OPTIONS, per-route body limits |
//! | [`io`] | drivers: [`io::blocking`] over `embedded_io::{Read, Write}`; `io::asynch` (feature `async`) over `embedded_io_async`; one [`io::Hooks`] trait for both |
//! | `host` | (feature `std`) what the host servers share; `tokio_server` (feature `tokio`, tasks) and `std_server` (threads) |
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
//! A named handler has this signature (one request lifetime shared with its responder):
//!
//! ```
//! use embedded_responder::{Request, Responded, Responder};
//!
//! fn echo<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
//!     res.ok("text/plain", req.body())
//! }
//! # let _ = embedded_responder::Router::new().route("/echo", embedded_responder::post(echo));
//! ```
//!
//! ## Limits
//!
//! A request's head must fit the receive buffer, and so must a body the handler takes whole
//! ([`Request::body`]); see [`Limits`] and [`DEFAULT_MAX_HEADERS`]. A route that takes its
//! body as a stream (`.stream_body(limit)`, [`Responder::request_body`]) reads a body of any
//! size through the buffer in pieces, and any handler can stream its response
//! ([`ResponseHead::stream`]).

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod assets;
#[cfg(feature = "auth")]
pub mod auth;
pub mod body;
pub mod connection;
pub mod cookie;
pub mod demo;
pub mod error;
pub mod form;
pub mod handler;
#[cfg(feature = "std")]
pub mod host;
pub mod io;
#[cfg(feature = "json")]
pub mod json;
mod log;
pub mod path;
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
pub mod upgrade;
#[cfg(feature = "ws")]
pub mod ws;

pub use connection::{
    Action, Connection, Exchange, Limits, Next, Pending, Timeouts, Transmit, DEFAULT_MAX_HEADERS,
};
pub use error::{Error, Failure};
pub use handler::Handler;
pub use request::{Header, Method, Request, Version};
pub use response::{BodyWriter, Redirect, Responded, Responder, ResponseHead, Status};
pub use router::{delete, get, on, patch, post, put, Router};
pub use stream::{RequestBody, ResponseStream, StreamError};
pub use upgrade::{UpgradeHead, Upgraded};

/// The README's code blocks, compiled and run as doc tests so that they stay true (with
/// `--features async`: one block uses the async driver).
#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
