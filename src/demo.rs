//! The demo application served by `examples/server.rs`, the tests and the firmware examples:
//! the classic "Hello, World" page at `/`, an echo at `/echo`, an HTML 404 elsewhere.
//!
//! It is ordinary library code (a [`Router`] of closures), kept here so that every place
//! that serves "the example app" serves the same bytes.

use crate::request::Request;
use crate::response::{Responded, Responder, Status};
use crate::router::{get, post, Handler, Router};

/// The page served at `GET /`.
pub const PAGE: &str = "<!DOCTYPE html>
<html>
  <head>
    <meta charset=\"utf-8\">
    <title>Page Title</title>
  </head>
  <body>
    <h1>Hello, World</h1>
  </body>
</html>
";

/// The page served with 404 for unknown paths.
pub const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>
<html>
  <head>
    <meta charset=\"utf-8\">
    <title>Not Found</title>
  </head>
  <body>
    <h1>404 Not Found</h1>
  </body>
</html>
";

/// `GET /` answers [`PAGE`]; `POST /echo` answers the request body with the request's
/// Content-Type (`application/octet-stream` if none); other paths answer 404 with
/// [`NOT_FOUND_PAGE`]; other methods on these paths answer 405 with `Allow`.
pub fn app() -> impl Handler {
    Router::new()
        .route("/", get(|_req, res| res.html(PAGE)))
        .route("/echo", post(echo))
        .fallback(not_found)
}

/// The request body back, with the request's Content-Type (`application/octet-stream` if
/// none).
pub fn echo<'a>(req: &Request<'a, '_>, res: Responder<'a, '_>) -> Responded {
    let content_type = req
        .header("content-type")
        .unwrap_or("application/octet-stream");
    res.ok(content_type, req.body())
}

/// 404 with [`NOT_FOUND_PAGE`].
pub fn not_found<'a>(_req: &Request<'a, '_>, res: Responder<'a, '_>) -> Responded {
    res.start(Status::NOT_FOUND)
        .header("Content-Type", "text/html; charset=utf-8")
        .body(NOT_FOUND_PAGE.as_bytes())
}
