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
//! | [`upgrade`], `ws` | `101 Switching Protocols` and the connection handed over; WebSocket (feature `ws`): handshake, the sans-IO frame codec, a session |
//! | [`router`], [`path`] | method + pattern to [`Handler`] (literal, typed parameters, prefixes, nested routers), 404, 405 + `Allow`, HEAD and OPTIONS, per-route body limits |
//! | [`form`], [`cookie`], `json`, `auth`, [`assets`], [`target`] | the application layer: query and form fields, cookies, JSON (feature `json`), Basic auth (feature `auth`), static files from flash with ETag, gzip and ranges, percent-decoding |
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
//! A JSON API with a typed path parameter, and a static page from flash (features `json`,
//! on by default on hosts):
//!
//! ```
//! # #[cfg(all(feature = "json", feature = "params"))] {
//! use core::sync::atomic::{AtomicBool, Ordering::Relaxed};
//! use embedded_responder::assets::{Asset, Assets};
//! use embedded_responder::{get, path::params, Method, Request, Responded, Responder, Router, Status};
//!
//! #[derive(serde::Serialize)]
//! struct Led { id: u8, on: bool }
//! #[derive(serde::Deserialize)]
//! struct Set { on: bool }
//!
//! static LEDS: [AtomicBool; 4] = [const { AtomicBool::new(false) }; 4];
//! static UI: Assets = Assets::new(&[
//!     Asset::new("index.html", "text/html; charset=utf-8", "\"v1\"", b"<h1>Four LEDs</h1>"),
//! ]);
//!
//! fn led<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
//!     let Some(id @ 0..4) = req.param::<u8>("id") else { return res.status(Status::NOT_FOUND) };
//!     if req.method() == Method::Put {
//!         match req.json::<Set>() {
//!             Ok(set) => LEDS[usize::from(id)].store(set.on, Relaxed),
//!             Err(e) => return e.respond(res), // 415, or 400 with {"error":"..."}
//!         }
//!     }
//!     res.json(Status::OK, &Led { id, on: LEDS[usize::from(id)].load(Relaxed) })
//! }
//!
//! let app = Router::new()
//!     .route(params("/api/leds/{id:u8}"), get(led).put(led)) // "/api/leds/+1": 404
//!     .nest("/ui", UI); // GET /ui/: index.html, with ETag, 304, HEAD and ranges
//! # let _ = app; }
//! ```
//!
//! Captured state and servers: firmware's blocking loop can capture anything (`&Cell<T>`);
//! `tokio_server` makes an app per connection on one thread (`Rc<Cell<T>>`, statics,
//! atomics); `std_server` runs a thread per connection, so its app factory is `Sync`
//! (atomics, `Mutex`, `Arc`; a `&Cell<T>` does not compile). See the README's table.
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `std` | yes | `host`: `std_server` (threads) and what both host servers share |
//! | `tokio` | yes | `tokio_server` (tasks on one thread, the recommended host server); implies `std`, `async` |
//! | `ws` | yes | `ws`: WebSocket (RFC 6455) over [`Responder::upgrade`] (`sha1`, `base64`) |
//! | `json` | yes | `json`: `Request::json`, `Responder::json` (`serde`, `serde-json-core`) |
//! | `auth` | yes | `auth`: HTTP Basic authentication (`base64`, constant-time comparison) |
//! | `params` | yes | typed parameter patterns ([`path::params`], `Request::param`) |
//! | `async` | no | `io::asynch`: the driver over `embedded-io-async` (embassy-net) |
//! | `log` / `defmt` | no | one log line per exchange through `log` or `defmt` (not both) |
//!
//! Firmware builds with `default-features = false` and adds what it uses; code it does not
//! use is not linked (the `uart` example firmware carries none of the above).
//!
//! ## Limits
//!
//! A request's head must fit the receive buffer, and so must a body the handler takes whole
//! ([`Request::body`]); see [`Limits`] and [`DEFAULT_MAX_HEADERS`]. A route that takes its
//! body as a stream (`.stream_body(limit)`, [`Responder::request_body`]) reads a body of any
//! size through the buffer in pieces, and any handler can stream its response
//! ([`ResponseHead::stream`]).

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod assets;
#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub mod auth;
pub mod body;
pub mod connection;
pub mod cookie;
pub mod error;
pub mod form;
pub mod handler;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod host;
pub mod io;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
mod log;
pub mod path;
pub mod request;
pub mod response;
pub mod router;
pub mod sse;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use host::std_server;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use host::tokio_server;
pub mod stream;
pub mod target;
pub mod upgrade;
#[cfg(feature = "ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
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
