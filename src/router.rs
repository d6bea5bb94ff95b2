//! Routing: method + path to handler, with the answers HTTP expects for everything else.
//!
//! A [`Router`] is a chain of routes built at compile time (no heap, no `dyn`): each
//! [`Router::route`] adds a path and its [`MethodRoutes`], made with [`get`], [`post`] and
//! friends. Handlers are closures or types implementing [`Handler`], so they can capture
//! state (an LED, a sensor, a counter in a `Cell`). The router answers on its own:
//! - unknown path: the fallback handler (404 by default);
//! - known path, other method: 405 with `Allow` (RFC 9110 §15.5.6);
//! - `HEAD` on a `GET` route: the GET handler, body dropped (RFC 9110 §9.3.2);
//! - `OPTIONS` on a route or `*`: 204 with `Allow` (RFC 9110 §9.3.7).
//!
//! Patterns ([`crate::path`]): literal paths (`"/api/leds"`), parameters
//! (`path::params("/api/leds/{id:u8}")`, read with [`Request::param`]; a value that is not canonical for its type does not match,
//! so it is a 404 like any unknown path), and prefixes (`/static/*`). Literal routes win over
//! routes with parameters, which win over prefixes, whatever the order they were added in;
//! among equals the first added wins. Trailing slashes are not trimmed: `/a` and `/a/` are
//! different paths.
//!
//! Routers nest ([`Router::nest`]: `/api` + a router of `/leds`, `/leds/{id:u8}`), and any
//! [`Handler`] can answer a path for every method ([`Router::mount`]) or be the fallback
//! ([`Router::fallback_to`]).

pub use crate::handler::Handler;
use crate::path::{Pattern, Specificity};
use crate::request::{Method, Request};
use crate::response::{Responded, Responder, Status};

#[doc(hidden)]
/// A handler that reads its request body as a stream, up to `limit` bytes: made by
/// [`OnMethod::stream_body`] (a separate type, so that routes without it pay nothing).
#[derive(Debug, Clone, Copy)]
pub struct Streamed<H> {
    handler: H,
    limit: u64,
}

impl<H: Handler> Handler for Streamed<H> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.handler.handle(req, res)
    }

    fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
        Some(self.limit)
    }
}

/// The default fallback: `404 Not Found` with a plain-text body.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotFound;

impl Handler for NotFound {
    fn handle<'a>(&mut self, _req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        res.status(Status::NOT_FOUND)
    }
}

#[doc(hidden)]
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

#[doc(hidden)]
/// The handlers of one path, by method. Built with [`get`], [`post`], ... and chained:
/// `get(show).post(update)`.
pub trait MethodRoutes {
    /// The methods with a handler.
    fn methods(&self) -> MethodSet;
    /// The stream limit of the handler for `method` (see [`Handler::stream_limit`]).
    fn stream_limit(&self, method: Method, req: &Request<'_>) -> Option<u64>;
    /// Run the handler for `method`, or give the responder back if there is none.
    fn call<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>>;
}

#[doc(hidden)]
/// The end of a method chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMethods;

impl MethodRoutes for NoMethods {
    fn methods(&self) -> MethodSet {
        MethodSet::default()
    }
    fn stream_limit(&self, _method: Method, _req: &Request<'_>) -> Option<u64> {
        None
    }
    fn call<'a, 's>(
        &mut self,
        _method: Method,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Err(res)
    }
}

/// One method's handler, in front of the rest of a path's method chain.
#[derive(Debug, Clone, Copy)]
pub struct OnMethod<H, Next> {
    method: Method,
    handler: H,
    next: Next,
}

impl<H: Handler, Next: MethodRoutes> MethodRoutes for OnMethod<H, Next> {
    fn methods(&self) -> MethodSet {
        self.next.methods().with(self.method)
    }
    fn stream_limit(&self, method: Method, req: &Request<'_>) -> Option<u64> {
        if method == self.method {
            self.handler.stream_limit(req)
        } else {
            self.next.stream_limit(method, req)
        }
    }
    fn call<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        if method == self.method {
            Ok(self.handler.handle(req, res))
        } else {
            self.next.call(method, req, res)
        }
    }
}

/// Route `method` to a handler; [`get`] and friends are shortcuts that also let closures
/// infer their argument types.
pub fn on<H: Handler>(method: Method, handler: H) -> OnMethod<H, NoMethods> {
    OnMethod {
        method,
        handler,
        next: NoMethods,
    }
}

macro_rules! method_shortcuts {
    ($($name:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("Route `", stringify!($method), "` requests to a closure or function.")]
            pub fn $name<F>(handler: F) -> OnMethod<F, NoMethods>
            where
                F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
            {
                on(Method::$method, handler)
            }
        )*

        impl<H, Next> OnMethod<H, Next> {
            /// Also route `method` on this path, to any [`Handler`].
            pub fn on<H2: Handler>(self, method: Method, handler: H2) -> OnMethod<H2, Self> {
                OnMethod { method, handler, next: self }
            }

            /// The handler added last reads its request body as a stream, up to `limit`
            /// bytes: bodies larger than the receive buffer reach it as they arrive (see
            /// [`Handler::stream_limit`] and [`Responder::request_body`]); a larger declared
            /// length is refused with 413 before the handler runs.
                        pub fn stream_body(self, limit: u64) -> OnMethod<Streamed<H>, Next> {
                let OnMethod { method, handler, next } = self;
                OnMethod { method, handler: Streamed { handler, limit }, next }
            }
            $(
                #[doc = concat!("Also route `", stringify!($method), "` on this path.")]
                pub fn $name<F>(self, handler: F) -> OnMethod<F, Self>
                where
                    F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
                {
                    self.on(Method::$method, handler)
                }
            )*
        }
    };
}

method_shortcuts! {
    get => Get,
    post => Post,
    put => Put,
    delete => Delete,
    patch => Patch,
}

#[doc(hidden)]
/// A chain of routes; implemented by the types [`Router::route`] builds.
pub trait Routes {
    /// Some route has parameters, or a router is nested: dispatch in passes.
    #[doc(hidden)]
    const PASSES: bool;
    /// All methods any route answers (for `OPTIONS *`).
    fn methods(&self) -> MethodSet;
    /// The stream limit of the route that would answer `req` among routes of `pass`'s
    /// specificity (`None`: any route, in the order added): `None` if none matches its path, `Some(None)` if it takes whole bodies.
    #[doc(hidden)]
    fn stream_limit_in(
        &self,
        req: &Request<'_>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Option<Option<u64>>;
    /// Answer `req` if a route of `pass`'s specificity (`None`: any, in the order added)
    /// matches its path, else give the responder back.
    #[doc(hidden)]
    fn dispatch_in<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
        path: &str,
        pass: Option<Specificity>,
    ) -> Result<Responded, Responder<'a, 's>>;
}

/// The passes of a dispatch, most specific first.
const PASSES: [Specificity; 3] = [
    Specificity::Literal,
    Specificity::Params,
    Specificity::Prefix,
];

#[doc(hidden)]
/// The end of a route chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRoutes;

impl Routes for NoRoutes {
    const PASSES: bool = false;
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

#[doc(hidden)]
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

impl<Prev: Routes, M: MethodRoutes, P: Pattern> Routes for Route<Prev, M, P> {
    const PASSES: bool = Prev::PASSES || P::PARAMS;
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
fn dispatch_pass<'a, 's, R: Routes>(
    routes: &mut R,
    req: &Request<'a>,
    res: Responder<'a, 's>,
    path: &str,
    pass: Option<Specificity>,
) -> Result<Responded, Responder<'a, 's>> {
    routes.dispatch_in(req, res, path, pass)
}

/// A path's methods, told: 204 to OPTIONS, else 405, each with `Allow` (RFC 9110 §9.3.7,
/// §15.5.6). One function for every route rather than a copy in each.
#[inline(never)]
fn answer_with_allow<'a>(res: Responder<'a, '_>, method: Method, methods: MethodSet) -> Responded {
    let status = if method == Method::Options {
        Status::NO_CONTENT
    } else {
        Status::METHOD_NOT_ALLOWED
    };
    res.start(status)
        .header("Allow", &methods.allow_header())
        .body(&[])
}

#[doc(hidden)]
/// Any [`Handler`] answering every method of a path ([`Router::mount`]): it decides what
/// each method gets.
#[derive(Debug, Clone, Copy)]
pub struct AnyMethod<H>(H);

impl<H: Handler> MethodRoutes for AnyMethod<H> {
    fn methods(&self) -> MethodSet {
        Method::ALL
            .into_iter()
            .fold(MethodSet::default(), MethodSet::with)
    }
    fn stream_limit(&self, _method: Method, req: &Request<'_>) -> Option<u64> {
        self.0.stream_limit(req)
    }
    fn call<'a, 's>(
        &mut self,
        _method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Ok(self.0.handle(req, res))
    }
}

#[doc(hidden)]
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
}

impl<Prev: Routes, H: Handler> Routes for Nested<Prev, H> {
    const PASSES: bool = true;
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
        match (pass, self.inner(path)) {
            (None | Some(Specificity::Prefix), Some(len)) => {
                Some(self.handler.stream_limit(&req.nested(len)))
            }
            _ => None,
        }
    }

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
        match (pass, self.inner(path)) {
            (None | Some(Specificity::Prefix), Some(len)) => {
                Ok(self.handler.handle(&req.nested(len), res))
            }
            _ => Err(res),
        }
    }
}

/// Routes requests by path and method; see the [module docs](self).
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

impl<R: Routes, F: Handler> Router<R, F> {
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

    /// Answer every method of a pattern with any [`Handler`] (it decides what each method
    /// gets: no 405 from the router).
    pub fn mount<H: Handler, P: Pattern>(
        self,
        path: P,
        handler: H,
    ) -> Router<Route<R, AnyMethod<H>, P>, F> {
        self.route(path, AnyMethod(handler))
    }

    /// Hand every path under `prefix/` to `handler` (a [`Router`], usually), which sees the
    /// rest, from its `/`, as the path it routes ([`Request::route_path`]; [`Request::path`]
    /// stays whole). `prefix` is literal, without a trailing `/`; the prefix alone (`/api`)
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
    pub fn nest<H: Handler>(self, prefix: &'static str, handler: H) -> Router<Nested<R, H>, F> {
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

    /// Answer unmatched paths with any [`Handler`] (a router, a named function, a type).
    pub fn fallback_to<G: Handler>(self, handler: G) -> Router<R, G> {
        Router {
            routes: self.routes,
            fallback: handler,
        }
    }
}

impl<R: Routes, F: Handler> Handler for Router<R, F> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        if req.path() == "*" {
            // Only OPTIONS gets this far with `*` (the request layer refuses the rest).
            return answer_with_allow(res, Method::Options, self.routes.methods());
        }
        if !R::PASSES {
            // `&str` routes only: one pass, first match first.
            return match self.routes.dispatch_in(req, res, req.route_path(), None) {
                Ok(done) => done,
                Err(res) => self.fallback.handle(req, res),
            };
        }
        let mut res = res;
        for pass in PASSES {
            res = match dispatch_pass(&mut self.routes, req, res, req.route_path(), Some(pass)) {
                Ok(done) => return done,
                Err(res) => res,
            };
        }
        self.fallback.handle(req, res)
    }

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
