//! Routing: method + path to handler, with the answers HTTP expects for everything else (the
//! user-facing account is [`Router`]'s). The chain of routes is built at compile time, one
//! type per route (`Route`, `Nested`, in front of `NoRoutes`); each path's handlers by method
//! are `methods.rs`'s, what a route can hold `endpoint.rs`'s. The traits that walk the chains
//! are sealed (`sealed.rs`, which also says how one chain serves blocking and async handlers).

mod endpoint;
mod methods;
pub(crate) mod sealed;

pub(crate) use endpoint::blocking_endpoint;
#[cfg(feature = "async")]
pub use endpoint::Async;
pub use endpoint::{Blocking, BlockingEndpoint, Endpoint, NotFound};
pub use methods::{delete, get, on, options, patch, post, put, MethodRoutes, OnMethod};
#[cfg(feature = "async")]
pub use methods::{delete_async, get_async, options_async, patch_async, post_async, put_async};

#[cfg(feature = "async")]
use core::future::{ready, Future};

#[cfg(feature = "async")]
use futures_util::future::Either;

use super::path::{Pattern, Specificity};
use crate::handler::{Handler, Responded, Responder};
#[cfg(feature = "async")]
use crate::wire::Status;
use crate::wire::{Method, Request};
use methods::{answer_with_allow, AnyMethod};
use sealed::{
    Answer, AnswerBlocking, BlockingMethodChain, BlockingRouteChain, Later, MethodChain, MethodSet,
    RouteChain, Step,
};

/// The routes of a [`Router`], for naming a router's type in a signature:
/// `Router<impl Routes, impl Handler>`. Sealed: implemented by the types [`Router::route`],
/// [`Router::mount`] and [`Router::nest`] build.
pub trait Routes: RouteChain {}

impl<T: RouteChain> Routes for T {}

/// [`Routes`] whose handlers are all blocking: a router of them serves on the blocking
/// driver (it is a [`Handler`]). Sealed.
pub trait BlockingRoutes: BlockingRouteChain {}

impl<T: BlockingRouteChain> BlockingRoutes for T {}

/// The passes of a dispatch, most specific first.
const PASSES: [Specificity; 3] = [
    Specificity::Literal,
    Specificity::Params,
    Specificity::Prefix,
];

/// The end of a route chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRoutes;

impl RouteChain for NoRoutes {
    const PASSES: bool = false;
    const LEN: usize = 0;
    fn methods(&self) -> MethodSet {
        MethodSet::default()
    }
    fn stream_limit_in(
        &self,
        _req: &Request<'_>,
        _path: &str,
        _pass: Option<Specificity>,
    ) -> Option<Option<u64>> {
        None
    }
    fn answer_now_in<'a, 's>(
        &mut self,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
        _path: &str,
        _pass: Option<Specificity>,
    ) -> Step<'a, 's> {
        Step::Miss(res)
    }
    #[cfg(feature = "async")]
    fn answer_later_at<'x, 'r, 'a, 's>(
        &'x mut self,
        _route: usize,
        _method: Method,
        _req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        // Not reached (the synchronous step named a route of the chain); a 500, not a panic.
        ready(res.status(Status::INTERNAL_SERVER_ERROR))
    }
}

impl BlockingRouteChain for NoRoutes {
    fn dispatch_in<'a, 's>(
        &mut self,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
        _path: &str,
        _pass: Option<Specificity>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Err(res)
    }
}

/// One path and its method handlers, after the routes added before it.
#[derive(Debug, Clone, Copy)]
pub struct Route<Prev, M, P = &'static str> {
    prev: Prev,
    path: P,
    methods: M,
}

impl<Prev, M, P: Pattern> Route<Prev, M, P> {
    /// Whether this route answers `path` in `pass` (`None`: any pass).
    fn answers(&self, path: &str, pass: Option<Specificity>) -> bool {
        pass.is_none_or(|p| p == self.path.specificity()) && self.path.matches(path)
    }
}

impl<Prev: RouteChain, M: MethodChain, P: Pattern + Later> RouteChain for Route<Prev, M, P> {
    const PASSES: bool = Prev::PASSES || P::PARAMS;
    const LEN: usize = Prev::LEN + 1;
    fn methods(&self) -> MethodSet {
        self.prev.methods().union(self.methods.methods())
    }

    fn stream_limit_in(
        &self,
        req: &Request<'_>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Option<Option<u64>> {
        // The first matching route answers, as in `dispatch_in`.
        if let Some(limit) = self.prev.stream_limit_in(req, path, pass) {
            return Some(limit);
        }
        if !self.answers(path, pass) {
            return None;
        }
        let routed = self.path.route(req);
        let req = routed.as_ref().unwrap_or(req);
        Some(match req.method() {
            Method::Head => self.methods.stream_limit(Method::Get, req),
            method => self.methods.stream_limit(method, req),
        })
    }

    fn answer_now_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Step<'a, 's> {
        // Earlier routes first: the first matching route wins.
        let res = match self.prev.answer_now_in(req, res, path, pass) {
            Step::Miss(res) => res,
            found => return found,
        };
        if !self.answers(path, pass) {
            return Step::Miss(res);
        }
        let routed = self.path.route(req);
        let req = routed.as_ref().unwrap_or(req);
        let method = req.method();
        let step = match self.methods.answer_now(method, req, res) {
            Step::Miss(res) if method == Method::Head => {
                self.methods.answer_now(Method::Get, req, res)
            }
            step => step,
        };
        match step {
            Step::Miss(res) => Step::Done(answer_with_allow(res, method, self.methods.methods())),
            Step::Later(_, method, res) => Step::Later(Prev::LEN, method, res),
            done => done,
        }
    }

    #[cfg(feature = "async")]
    fn answer_later_at<'x, 'r, 'a, 's>(
        &'x mut self,
        route: usize,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        if route == Prev::LEN {
            Either::Left(self.path.later(&mut self.methods, method, req, res))
        } else {
            Either::Right(self.prev.answer_later_at(route, method, req, res))
        }
    }
}

impl<Prev: BlockingRouteChain, M: BlockingMethodChain, P: Pattern + Later> BlockingRouteChain
    for Route<Prev, M, P>
{
    fn dispatch_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Result<Responded, Responder<'a, 's>> {
        // Earlier routes first: the first matching route wins.
        let res = match self.prev.dispatch_in(req, res, path, pass) {
            Ok(done) => return Ok(done),
            Err(res) => res,
        };
        if !self.answers(path, pass) {
            return Err(res);
        }
        // Only a pattern with parameters is kept in the request (for `Request::param`).
        let routed = self.path.route(req);
        let req = routed.as_ref().unwrap_or(req);
        let method = req.method();
        let res = match self.methods.call(method, req, res) {
            Ok(done) => return Ok(done),
            Err(res) if method == Method::Head => match self.methods.call(Method::Get, req, res) {
                Ok(done) => return Ok(done),
                Err(res) => res,
            },
            Err(res) => res,
        };
        Ok(answer_with_allow(res, method, self.methods.methods()))
    }
}

/// One pass over the routes, out of line: the chain's code is there once, not once a pass.
#[inline(never)]
fn dispatch_pass<'a, 's, R: BlockingRouteChain>(
    routes: &mut R,
    req: &Request<'a>,
    res: Responder<'a, 's>,
    path: &str,
    pass: Option<Specificity>,
) -> Result<Responded, Responder<'a, 's>> {
    routes.dispatch_in(req, res, path, pass)
}

/// A handler (a router, usually) under a path prefix, after the routes added before it
/// ([`Router::nest`]).
#[derive(Debug, Clone, Copy)]
pub struct Nested<Prev, H> {
    prev: Prev,
    prefix: &'static str,
    handler: H,
}

impl<Prev, H> Nested<Prev, H> {
    /// How much of `path` the nested handler does not see: the prefix, if `path` continues
    /// it with `/` (`/api/leds` under `/api`: it sees `/leds`); else `None` (`/api` alone
    /// and `/apix` are not under `/api`).
    fn inner(&self, path: &str) -> Option<usize> {
        path.strip_prefix(self.prefix)?
            .starts_with('/')
            .then_some(self.prefix.len())
    }

    /// The length of the prefix `path` is under, in `pass` (`None`: any pass).
    fn under(&self, path: &str, pass: Option<Specificity>) -> Option<usize> {
        match pass {
            None | Some(Specificity::Prefix) => self.inner(path),
            _ => None,
        }
    }
}

impl<Prev: RouteChain, H: Answer> RouteChain for Nested<Prev, H> {
    const PASSES: bool = true;
    const LEN: usize = Prev::LEN + 1;
    fn methods(&self) -> MethodSet {
        self.prev.methods()
    }

    fn stream_limit_in(
        &self,
        req: &Request<'_>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Option<Option<u64>> {
        if let Some(limit) = self.prev.stream_limit_in(req, path, pass) {
            return Some(limit);
        }
        let len = self.under(path, pass)?;
        Some(self.handler.stream_limit(&req.nested(len)))
    }

    fn answer_now_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Step<'a, 's> {
        let res = match self.prev.answer_now_in(req, res, path, pass) {
            Step::Miss(res) => res,
            found => return found,
        };
        let Some(len) = self.under(path, pass) else {
            return Step::Miss(res);
        };
        match self.handler.answer_now(&req.nested(len), res) {
            Ok(done) => Step::Done(done),
            Err(res) => Step::Later(Prev::LEN, req.method(), res),
        }
    }

    #[cfg(feature = "async")]
    fn answer_later_at<'x, 'r, 'a, 's>(
        &'x mut self,
        route: usize,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        if route == Prev::LEN {
            // The nested handler sees the rest of the path: a request of its own, which the
            // future keeps.
            let nested = req.nested(self.inner(req.route_path()).unwrap_or(0));
            let handler = &mut self.handler;
            Either::Left(async move { handler.answer_later(&nested, res).await })
        } else {
            Either::Right(self.prev.answer_later_at(route, method, req, res))
        }
    }
}

impl<Prev: BlockingRouteChain, H: AnswerBlocking> BlockingRouteChain for Nested<Prev, H> {
    fn dispatch_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Result<Responded, Responder<'a, 's>> {
        let res = match self.prev.dispatch_in(req, res, path, pass) {
            Ok(done) => return Ok(done),
            Err(res) => res,
        };
        match self.under(path, pass) {
            Some(len) => Ok(self.handler.answer(&req.nested(len), res)),
            None => Err(res),
        }
    }
}

/// Routes requests by method and path, with the answers HTTP expects for everything else.
///
/// A [`Router`] is a chain of routes built at compile time (no heap, no `dyn`): each
/// [`Router::route`] adds a path and its [`MethodRoutes`], made with [`get`], [`post`] and
/// friends. Handlers are closures or types implementing [`Handler`], so they can capture
/// state (an LED, a sensor, a counter in a `Cell`). The router answers on its own:
/// - unknown path: the fallback handler (404 by default);
/// - known path, other method: 405 with `Allow` (RFC 9110 §15.5.6);
/// - `HEAD` on a `GET` route: the GET handler, body dropped (RFC 9110 §9.3.2);
/// - `OPTIONS` on a route or `*`: 204 with `Allow` (RFC 9110 §9.3.7).
///
/// Patterns ([`crate::path`]): literal paths (`"/api/leds"`), parameters
/// (`path::params("/api/leds/{id:u8}")`, read with [`Request::param`]; a value that is not canonical for its type does not match,
/// so it is a 404 like any unknown path), and prefixes (`/static/*`). Literal routes win over
/// routes with parameters, which win over prefixes, whatever the order they were added in;
/// among equals the first added wins. Trailing slashes are not trimmed: `/a` and `/a/` are
/// different paths.
///
/// Routers nest ([`Router::nest`]: `/api` + a router of `/leds`, `/leds/{id:u8}`), and any
/// [`Handler`] can answer a path for every method ([`Router::mount`]) or be the fallback
/// ([`Router::fallback_to`]).
///
/// ```
/// use embedded_responder::{get, post, Router};
///
/// let mut router = Router::new()
///     .route("/", get(|_req, res| res.html("<h1>Hello</h1>")))
///     .route("/echo", post(|req, res| res.ok("text/plain", req.body())));
/// # let _ = &mut router;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Router<R = NoRoutes, F = NotFound> {
    routes: R,
    fallback: F,
}

impl Router {
    /// A router with no routes: every path is 404.
    pub const fn new() -> Self {
        Router {
            routes: NoRoutes,
            fallback: NotFound,
        }
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new()
    }
}

impl<R: Routes, F: Endpoint> Router<R, F> {
    /// Add a route: a pattern (see [`crate::path`]: `"/a/b"`, `"/a/*"`,
    /// `path::params("/a/{id:u8}")`) and its handlers by method.
    pub fn route<M: MethodRoutes, P: Pattern>(
        self,
        path: P,
        methods: M,
    ) -> Router<Route<R, M, P>, F> {
        debug_assert!(
            !path.as_str().contains('{') || P::PARAMS,
            "a pattern with parameters is written path::params(\"{}\")",
            path.as_str()
        );
        Router {
            routes: Route {
                prev: self.routes,
                path,
                methods,
            },
            fallback: self.fallback,
        }
    }

    /// Answer every method of a pattern with any [`Endpoint`] (it decides what each method
    /// gets: no 405 from the router).
    pub fn mount<H: Endpoint, P: Pattern>(
        self,
        path: P,
        handler: H,
    ) -> Router<Route<R, AnyMethod<H>, P>, F> {
        self.route(path, AnyMethod(handler))
    }

    /// Hand every path under `prefix/` to `handler` (a [`Router`], usually), which sees the
    /// rest, from its `/`, as the path it routes: [`Request::path`] and [`Request::route_path`]
    /// both give the rest, and the whole target is in [`Request::target`]. `prefix` is literal, without a trailing `/`; the prefix alone (`/api`)
    /// is not under it (route it here if it should answer). Nested routers rank with
    /// prefix routes: after this router's literal and parameter routes.
    ///
    /// ```
    /// # #[cfg(feature = "params")] {
    /// use embedded_responder::{get, path::params, Router};
    ///
    /// let api = Router::new()
    ///     .route("/leds", get(|_req, res| res.text("[]")))
    ///     .route(params("/leds/{id:u8}"), get(|_req, res| res.text("{}")));
    /// let app = Router::new()
    ///     .route("/", get(|_req, res| res.html("<h1>Hi</h1>")))
    ///     .nest("/api", api);
    /// # let _ = app; }
    /// ```
    pub fn nest<H: Endpoint>(self, prefix: &'static str, handler: H) -> Router<Nested<R, H>, F> {
        debug_assert!(
            !prefix.ends_with('/'),
            "nest(\"{prefix}\"): no trailing slash"
        );
        Router {
            routes: Nested {
                prev: self.routes,
                prefix,
                handler,
            },
            fallback: self.fallback,
        }
    }

    /// Answer unmatched paths with `handler` (a closure) instead of the plain 404.
    pub fn fallback<G>(self, handler: G) -> Router<R, G>
    where
        G: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
    {
        self.fallback_to(handler)
    }

    /// Answer unmatched paths with any [`Endpoint`] (a router, a named function, assets, an
    /// async handler).
    pub fn fallback_to<G: Endpoint>(self, handler: G) -> Router<R, G> {
        Router {
            routes: self.routes,
            fallback: handler,
        }
    }
}

impl<R: RouteChain, F> Router<R, F> {
    /// The synchronous step over every pass, most specific first (see `sealed.rs`);
    /// `Step::Miss` for the fallback.
    fn find<'a, 's>(&mut self, req: &Request<'a>, res: Responder<'a, 's>) -> Step<'a, 's> {
        if req.path() == "*" {
            // Only OPTIONS gets this far with `*` (the request layer refuses the rest).
            return Step::Done(answer_with_allow(
                res,
                Method::Options,
                self.routes.methods(),
            ));
        }
        if !R::PASSES {
            return self.routes.answer_now_in(req, res, req.route_path(), None);
        }
        let mut res = res;
        for pass in PASSES {
            res = match self
                .routes
                .answer_now_in(req, res, req.route_path(), Some(pass))
            {
                Step::Miss(res) => res,
                found => return found,
            };
        }
        Step::Miss(res)
    }
}

impl<R: RouteChain, F: Answer> Answer for Router<R, F> {
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        let found = if R::PASSES {
            PASSES.into_iter().find_map(|pass| {
                self.routes
                    .stream_limit_in(req, req.route_path(), Some(pass))
            })
        } else {
            self.routes.stream_limit_in(req, req.route_path(), None)
        };
        found.unwrap_or_else(|| self.fallback.stream_limit(req))
    }

    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        match self.find(req, res) {
            Step::Done(done) => Ok(done),
            Step::Later(_, _, res) => Err(res),
            Step::Miss(res) => self.fallback.answer_now(req, res),
        }
    }

    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        // The same route as the synchronous step found (it stopped there without calling a
        // handler, since the handler is async).
        match self.find(req, res) {
            Step::Later(route, method, res) => {
                Either::Left(self.routes.answer_later_at(route, method, req, res))
            }
            Step::Miss(res) => Either::Right(Either::Left(self.fallback.answer_later(req, res))),
            Step::Done(done) => Either::Right(Either::Right(ready(done))),
        }
    }

    #[cfg(feature = "async")]
    fn answer_async<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        self.answer_once(req, res)
    }
}

impl<R: RouteChain, F: Answer> Router<R, F> {
    /// [`Answer::answer`] for the router: its route found once.
    #[cfg(feature = "async")]
    fn answer_once<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> + use<'x, 'r, 'a, 's, R, F> {
        match self.find(req, res) {
            Step::Done(done) => Either::Left(ready(done)),
            Step::Later(route, method, res) => Either::Right(Either::Left(
                self.routes.answer_later_at(route, method, req, res),
            )),
            Step::Miss(res) => Either::Right(Either::Right(self.fallback.answer_async(req, res))),
        }
    }
}

impl<R: BlockingRouteChain, F: AnswerBlocking> AnswerBlocking for Router<R, F> {
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        if req.path() == "*" {
            // Only OPTIONS gets this far with `*` (the request layer refuses the rest).
            return answer_with_allow(res, Method::Options, self.routes.methods());
        }
        if !R::PASSES {
            // `&str` routes only: one pass, first match first.
            return match self.routes.dispatch_in(req, res, req.route_path(), None) {
                Ok(done) => done,
                Err(res) => self.fallback.answer(req, res),
            };
        }
        let mut res = res;
        for pass in PASSES {
            res = match dispatch_pass(&mut self.routes, req, res, req.route_path(), Some(pass)) {
                Ok(done) => return done,
                Err(res) => res,
            };
        }
        self.fallback.answer(req, res)
    }
}

/// A router of blocking handlers serves on the blocking driver. (Every router serves on the
/// async driver: it is an [`crate::AsyncHandler`].)
impl<R: BlockingRouteChain, F: AnswerBlocking> Handler for Router<R, F> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.answer(req, res)
    }

    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        Answer::stream_limit(self, req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_header_lists_head_with_get_and_always_options() {
        let set = MethodSet::default().with(Method::Get).with(Method::Post);
        assert_eq!(set.allow_header().as_str(), "GET, HEAD, POST, OPTIONS");
        assert_eq!(MethodSet::default().allow_header().as_str(), "OPTIONS");
        let all = Method::ALL
            .into_iter()
            .fold(MethodSet::default(), MethodSet::with);
        assert_eq!(
            all.allow_header().as_str(),
            "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, TRACE"
        );
    }

    #[test]
    fn path_patterns() {
        assert!(Pattern::matches(&"/a", "/a"));
        assert!(!Pattern::matches(&"/a", "/a/"));
        assert!(!Pattern::matches(&"/a", "/ab"));
        assert!(Pattern::matches(&"/static/*", "/static/x.css"));
        assert!(Pattern::matches(&"/static/*", "/static/"));
        assert!(!Pattern::matches(&"/static/*", "/static"));
    }
}
