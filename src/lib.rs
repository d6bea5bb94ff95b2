//! # embedded-responder
//!
//! An HTTP/1.1 server core for microcontrollers first and hosts second: `no_std`, no heap,
//! no `unsafe`. Requests are parsed with `httparse` into caller-sized buffers, small
//! collections are `heapless`, and bytes move through the `embedded-io` traits.
//!
//! ## Layers
//!
//! From the bottom up; a layer uses only the layers above it in this table, and the crate is
//! sans-IO down to the drivers (bytes in, decisions and bytes out):
//!
//! | layer | owns |
//! |---|---|
//! | wire (`src/wire/`) | the codecs and shared vocabulary: [`Status`], [`Method`], the [`Request`] view; the request head (httparse plus the checks it leaves to servers), body framing in (Content-Length, chunked) and out (chunked, declared length enforced), the response head, Server-Sent Events encoding, WebSocket frames ([`ws::frame`]) |
//! | connection (`src/connection/`) | the per-connection state machine, [`Connection`]: a reading half (head, body taken whole or handed over as it arrives) and a writing half (staged or streamed); deadlines from the times a driver passes in; [`Limits`], [`Timeouts`] |
//! | handler (`src/handler/`) | the [`Handler`] traits and what a handler is handed: [`Responder`] (stage a small response), [`ResponseStream`] (stream a large one), [`RequestBody`] (a body read in pieces), [`Upgraded`] (`101` and the connection handed over) |
//! | app (`src/app/`) | [`Router`] ([`router`], [`path`]: blocking and async routes, literal, typed parameters, prefixes, nested routers; 404, 405 + `Allow`, HEAD, OPTIONS), [`form`], [`multipart`], [`cookie`], `json`, `auth`, `layer` and `cors`, [`assets`], [`target`], [`sse`] streams, `ws` sessions |
//! | drivers ([`io`], beside app) | [`io::blocking`] over `embedded_io::{Read, Write}`; `io::asynch` (feature `async`) over `embedded_io_async`; one [`io::Hooks`] trait for both; what a driver of your own needs ([`io::Action`], [`io::Wire`]) |
//! | host servers (`host`, feature `std`) | `host::tokio_server` (feature `tokio`, tasks) and `host::std_server` (threads): accept (TCP, TLS with `host::tls` (feature `tls`), or any `host::transport` acceptor), admission, the log line, linger, shutdown |
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
//! `host::tokio_server` makes an app per connection on one thread (`Rc<Cell<T>>`, statics,
//! atomics); `host::std_server` runs a thread per connection, so its app factory is `Sync`
//! (atomics, `Mutex`, `Arc`; a `&Cell<T>` does not compile). See the README's table.
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `std` | yes | `host`: `host::std_server` (threads) and what both host servers share |
//! | `tokio` | yes | `host::tokio_server` (tasks on one thread, the recommended host server); implies `std`, `async` |
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

#[cfg(all(feature = "log", feature = "defmt"))]
compile_error!("features `log` and `defmt` are mutually exclusive: choose one logger");

mod app;
mod connection;
mod error;
mod handler;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod host;
pub mod io;
mod log;
mod wire;

pub use connection::{Connection, Exchange, Limits, Timeouts, DEFAULT_MAX_HEADERS};
pub use error::{Error, Failure, StreamError};
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use handler::{async_fn, AsyncFn, AsyncHandler};
pub use handler::{
    BodyWriter, Handler, Redirect, RequestBody, Responded, Responder, ResponseHead, ResponseStream,
    UpgradeHead, Upgraded,
};
pub use wire::{Header, Headers, Method, Request, Status, Version};

#[cfg(feature = "auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "auth")))]
pub use app::auth;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub use app::json;
pub use app::router::{delete, get, on, options, patch, post, put, Router};
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use app::router::{delete_async, get_async, options_async, patch_async, post_async, put_async};
#[cfg(feature = "ws")]
#[cfg_attr(docsrs, doc(cfg(feature = "ws")))]
pub use app::ws;
pub use app::{assets, cookie, form, multipart, path, sse, target};
#[cfg(feature = "layers")]
#[cfg_attr(docsrs, doc(cfg(feature = "layers")))]
pub use app::{cors, layer};

/// What a route is built from, besides [`Router`] and [`get`] and its siblings: the method
/// chain a path's handlers form ([`router::OnMethod`]), what a route can hold
/// ([`router::Endpoint`]: closures, `fn`s and async ones, routers, assets, protected
/// handlers; a [`Handler`] or [`AsyncHandler`] type of your own behind [`router::Blocking`]
/// or `router::Async`), and the traits that name a router's type in a signature
/// (`Router<impl router::Routes, impl Handler>`). The traits are sealed: implemented by the
/// types the router's methods build, not by hand.
pub mod router {
    #[cfg(feature = "async")]
    #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
    pub use crate::app::router::Async;
    pub use crate::app::router::{
        Blocking, BlockingEndpoint, BlockingRoutes, Endpoint, MethodRoutes, NotFound, OnMethod,
        Routes,
    };
}

/// The sans-IO codecs as the fuzz targets and benchmarks drive them: the head scanner and
/// parser, the Content-Length parser and the chunked decoder. Not part of the stable API.
#[doc(hidden)]
pub mod _internals {
    pub use crate::wire::body_in::{parse_content_length, ChunkedDecoder, Decoded, Framing};
    pub use crate::wire::request_head::{parse_head, Head, HeadScanner, Scan};
}

/// The README's code blocks, compiled and run as doc tests so that they stay true (with
/// `--features async`: one block uses the async driver).
#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The code blocks of the reference in `docs/`, compiled and run as doc tests like the README's.
#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/limits.md")]
struct LimitsDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/streaming.md")]
struct StreamingDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/app-layer.md")]
struct AppLayerDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/websocket.md")]
struct WebsocketDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/firmware.md")]
struct FirmwareDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/footprint.md")]
struct FootprintDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/performance.md")]
struct PerformanceDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/hostile-load.md")]
struct HostileLoadDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/testing.md")]
struct TestingDoctests;

#[cfg(all(doctest, feature = "async"))]
#[doc = include_str!("../docs/layout.md")]
struct LayoutDoctests;

#[cfg(all(doctest, feature = "async", feature = "tls"))]
#[doc = include_str!("../docs/tls.md")]
struct TlsDoctests;
