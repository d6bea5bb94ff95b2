//! Layers (feature `layers`): something that wraps a router or a route and sees every request
//! it answers before its handler does, without a heap. A layer adds header fields to the
//! response whatever it turns out to be (the handler's own, the router's 404, 405 and
//! OPTIONS answers, an error answer: see `Responder::with_header`), or answers the request
//! itself (a CORS preflight).
//!
//! ```
//! use embedded_responder::layer::{DefaultHeaders, Layer};
//! use embedded_responder::{get, Router};
//!
//! static SECURITY: DefaultHeaders = DefaultHeaders::new(&[
//!     ("X-Content-Type-Options", "nosniff"),
//!     ("Referrer-Policy", "no-referrer"),
//!     ("Cache-Control", "no-store"),
//! ]);
//!
//! let app = Router::new()
//!     // This answer sets its own Cache-Control: the default is left out.
//!     .route("/", get(|_req, res| res.start(embedded_responder::Status::OK)
//!         .header("Cache-Control", "max-age=60")
//!         .body(b"hello")))
//!     .layer(SECURITY);
//! # let _ = app;
//! ```

#[cfg(feature = "async")]
use core::future::{ready, Future};

#[cfg(feature = "async")]
use futures_util::future::Either;

use super::router::sealed::{Answer, AnswerBlocking};
use super::router::{Endpoint, Router};
use crate::handler::{Handler, Responded, Responder};
use crate::wire::Request;

/// What a layer does before the handler it wraps; see the [module docs](self).
pub trait Layer {
    /// Add header fields to the response (`res.with_header(..)`,
    /// `res.with_default_header(..)`) and give the responder back for the handler, or
    /// answer the request here.
    fn before<'a, 's>(
        &self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>>;

    /// This layer in front of `handler` (a router, a route's handler, any endpoint).
    fn wrap<H: Endpoint>(self, handler: H) -> Layered<Self, H>
    where
        Self: Sized,
    {
        Layered {
            layer: self,
            inner: handler,
        }
    }
}

/// A layer shared by reference (a `static` one).
impl<L: Layer + ?Sized> Layer for &L {
    fn before<'a, 's>(
        &self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        (**self).before(req, res)
    }
}

impl<R, F> Router<R, F> {
    /// This router behind `layer`: it sees every request the router answers, the router's
    /// own 404, 405 and OPTIONS answers included.
    pub fn layer<L: Layer>(self, layer: L) -> Layered<L, Self> {
        Layered { layer, inner: self }
    }
}

/// A handler behind a [`Layer`]; made by [`Layer::wrap`] or [`Router::layer`]. Blocking if
/// the handler is, async if it is.
#[derive(Debug, Clone, Copy)]
pub struct Layered<L, H> {
    layer: L,
    inner: H,
}

impl<L: Layer, H: Answer> Answer for Layered<L, H> {
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.inner.stream_limit(req)
    }
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        match self.layer.before(req, res) {
            Ok(done) => Ok(done),
            Err(res) => self.inner.answer_now(req, res),
        }
    }
    /// After [`Answer::answer_now`]: the layer has had its turn.
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        self.inner.answer_later(req, res)
    }
    #[cfg(feature = "async")]
    fn answer_async<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        match self.layer.before(req, res) {
            Ok(done) => Either::Left(ready(done)),
            Err(res) => Either::Right(self.inner.answer_async(req, res)),
        }
    }
}

impl<L: Layer, H: AnswerBlocking> AnswerBlocking for Layered<L, H> {
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        match self.layer.before(req, res) {
            Ok(done) => done,
            Err(res) => self.inner.answer(req, res),
        }
    }
}

/// A layered handler of blocking handlers serves on the blocking driver.
impl<L: Layer, H: AnswerBlocking> Handler for Layered<L, H> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.answer(req, res)
    }
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.inner.stream_limit(req)
    }
}

/// Header fields every response carries unless it sets a field of the same name itself
/// (security headers, a default `Cache-Control`); a `const`, so it can be a `static`.
#[derive(Debug, Clone, Copy)]
pub struct DefaultHeaders<'h> {
    headers: &'h [(&'h str, &'h str)],
}

impl<'h> DefaultHeaders<'h> {
    /// These `(name, value)` fields, in this order.
    pub const fn new(headers: &'h [(&'h str, &'h str)]) -> Self {
        DefaultHeaders { headers }
    }
}

impl Layer for DefaultHeaders<'_> {
    fn before<'a, 's>(
        &self,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        let mut res = res;
        for &(name, value) in self.headers {
            res = res.with_default_header(name, value);
        }
        Err(res)
    }
}
