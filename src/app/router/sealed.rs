//! The plumbing behind [`super::Routes`], [`super::MethodRoutes`] and [`super::Endpoint`]:
//! public traits in a private module, so that the router's types implement them and no one
//! else can (picoserve's habit).
//!
//! # Theory of operation
//!
//! A router answers in two steps, so that blocking and async handlers share one chain of
//! routes and neither pays for the other:
//!
//! 1. **Now** (`answer_now`, synchronous): the chain is walked to the first route that
//!    matches; a blocking handler answers there and then, and so does the router itself (405
//!    with `Allow`, OPTIONS, the fallback). An async handler does not: the walk stops with
//!    [`Step::Later`], naming the route (its place in the chain) and the method whose
//!    handler answers.
//! 2. **Later** (`answer_later`, a future): only then, and only for that route, the async
//!    handler's future is made. Each route contributes one variant of a nested `Either`,
//!    which holds the one future that runs (no per-route state is kept beside it), so the
//!    future is as large as the largest async handler's, and a blocking-only router's is a
//!    few bytes.
//!
//! The blocking driver uses the third way, `Blocking*` (`answer`, `call`, `dispatch_in`):
//! the synchronous walk that calls the handler it finds, implemented only by chains whose
//! handlers are all blocking, so that a router with an async route does not compile there.
//!
//! Invariants: `answer_later` is only called with the responder that `answer_now` gave back
//! for the same request, and finds the same route (matching is a pure function of the
//! request); a chain that is asked for a route it does not hold answers 500 rather than
//! panic.

#[cfg(feature = "async")]
use core::future::{ready, Future};

#[cfg(feature = "async")]
use futures_util::future::Either;

use crate::app::path::Specificity;
use crate::handler::{Responded, Responder};
use crate::wire::{Method, Request};

/// A set of methods, one bit per [`Method`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MethodSet(u16);

impl MethodSet {
    /// Whether `method` is in the set.
    pub const fn contains(self, method: Method) -> bool {
        self.0 & method.bit() != 0
    }

    /// The set with `method` added.
    pub const fn with(self, method: Method) -> MethodSet {
        MethodSet(self.0 | method.bit())
    }

    /// The methods of both sets.
    pub const fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }

    /// The value of an `Allow` header: the set plus `HEAD` where `GET` is present and
    /// `OPTIONS`, which the router always answers.
    pub fn allow_header(self) -> heapless::String<64> {
        let mut set = self.with(Method::Options);
        if set.contains(Method::Get) {
            set = set.with(Method::Head);
        }
        let mut value = heapless::String::new();
        for method in Method::ALL.into_iter().filter(|&m| set.contains(m)) {
            // Every method name joined with ", " fits 64 bytes (the longest list is 50).
            let _ = value.push_str(if value.is_empty() { "" } else { ", " });
            let _ = value.push_str(method.as_str());
        }
        value
    }
}

/// What the synchronous step of a dispatch found.
pub enum Step<'a, 's> {
    /// Answered (by a blocking handler, or by the router itself).
    Done(Responded),
    /// Nothing here answers this request: the responder back.
    Miss(Responder<'a, 's>),
    /// An async handler answers: the route's place in its chain, the method whose handler
    /// it is, and the responder to hand it.
    Later(usize, Method, Responder<'a, 's>),
}

/// A handler a route holds: blocking (it answers now) or async (later).
pub trait Answer {
    /// See [`crate::Handler::stream_limit`].
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64>;
    /// Answer at once (a blocking handler), or give the responder back for
    /// [`Answer::answer_later`].
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>>;
    /// Answer what [`Answer::answer_now`] gave back.
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded>;
    /// Answer now if it can, else later: what serving it as an [`crate::AsyncHandler`] does.
    /// (A router finds its route once here, rather than once in each step.)
    #[cfg(feature = "async")]
    fn answer_async<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        match self.answer_now(req, res) {
            Ok(done) => Either::Left(ready(done)),
            Err(res) => Either::Right(self.answer_later(req, res)),
        }
    }
}

/// A handler that always answers at once.
pub trait AnswerBlocking: Answer {
    /// Answer `req` (the blocking driver's way: no future).
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded;
}

/// How a path's method chain answers.
pub trait MethodChain {
    /// The methods with a handler.
    fn methods(&self) -> MethodSet;
    /// The stream limit of the handler for `method`.
    fn stream_limit(&self, method: Method, req: &Request<'_>) -> Option<u64>;
    /// The synchronous step for `method` (`Step::Later` carries 0 for the route).
    fn answer_now<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Step<'a, 's>;
    /// The handler for `method`, which `answer_now` found to be async.
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded>;
}

/// A method chain of blocking handlers only.
pub trait BlockingMethodChain: MethodChain {
    /// Run the handler for `method`, or give the responder back if there is none.
    fn call<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>>;
}

/// How a chain of routes answers.
pub trait RouteChain {
    /// Some route has parameters, or a router is nested: dispatch in passes.
    const PASSES: bool;
    /// How many routes the chain holds (a route's place is the length before it).
    const LEN: usize;
    /// All methods any route answers (for `OPTIONS *`).
    fn methods(&self) -> MethodSet;
    /// The stream limit of the route that would answer `req` among routes of `pass`'s
    /// specificity (`None`: any route, in the order added): `None` if none matches its
    /// path, `Some(None)` if it takes whole bodies.
    fn stream_limit_in(
        &self,
        req: &Request<'_>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Option<Option<u64>>;
    /// The synchronous step among routes of `pass`'s specificity.
    fn answer_now_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Step<'a, 's>;
    /// The async handler of the route at `route`, for `method`.
    #[cfg(feature = "async")]
    fn answer_later_at<'x, 'r, 'a, 's>(
        &'x mut self,
        route: usize,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded>;
}

/// How a route's pattern hands the request to the handler found later: a literal pattern
/// lends the request as it is; a pattern with parameters keeps a routed copy (with itself in
/// it, for `Request::param`) in the future. One impl per pattern type, so that routes
/// without parameters carry no copy.
pub trait Later {
    /// The handler of `methods` for `method`, with the request as this pattern routes it.
    #[cfg(feature = "async")]
    fn later<'x, 'r, 'a, 's, M: MethodChain>(
        &self,
        methods: &'x mut M,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded>;
}

impl Later for &'static str {
    #[cfg(feature = "async")]
    fn later<'x, 'r, 'a, 's, M: MethodChain>(
        &self,
        methods: &'x mut M,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        methods.answer_later(method, req, res)
    }
}

#[cfg(feature = "params")]
impl Later for crate::app::path::Params {
    #[cfg(feature = "async")]
    fn later<'x, 'r, 'a, 's, M: MethodChain>(
        &self,
        methods: &'x mut M,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        use crate::app::path::Pattern;
        let routed = self.route(req).unwrap_or(*req);
        async move { methods.answer_later(method, &routed, res).await }
    }
}

/// A chain of routes whose handlers are all blocking.
pub trait BlockingRouteChain: RouteChain {
    /// Answer `req` if a route of `pass`'s specificity (`None`: any, in the order added)
    /// matches its path, else give the responder back.
    fn dispatch_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Result<Responded, Responder<'a, 's>>;
}
