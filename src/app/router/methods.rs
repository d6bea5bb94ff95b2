//! A path's handlers by method: the chain [`get`], [`post`] and their siblings build
//! ([`OnMethod`] in front of [`NoMethods`]), a handler for every method ([`AnyMethod`],
//! `Router::mount`), a handler that takes its body as a stream ([`Streamed`]), and the method
//! sets that `Allow` headers list.

use super::sealed::MethodChain;
use crate::handler::{Handler, Responded, Responder};
use crate::wire::{Method, Request, Status};

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

/// The handlers of one path, by method: what [`get`], [`post`] and the rest build, chained as
/// `get(show).post(update)`. Sealed: implemented by the types those functions make.
pub trait MethodRoutes: MethodChain {}

impl<T: MethodChain> MethodRoutes for T {}

/// The end of a method chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMethods;

impl MethodChain for NoMethods {
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

impl<H: Handler, Next: MethodChain> MethodChain for OnMethod<H, Next> {
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

/// Any [`Handler`] answering every method of a path ([`Router::mount`]): it decides what
/// each method gets.
#[derive(Debug, Clone, Copy)]
pub struct AnyMethod<H>(pub(super) H);

impl<H: Handler> MethodChain for AnyMethod<H> {
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

/// A path's methods, told: 204 to OPTIONS, else 405, each with `Allow` (RFC 9110 §9.3.7,
/// §15.5.6). One function for every route rather than a copy in each.
#[inline(never)]
pub(super) fn answer_with_allow<'a>(
    res: Responder<'a, '_>,
    method: Method,
    methods: MethodSet,
) -> Responded {
    let status = if method == Method::Options {
        Status::NO_CONTENT
    } else {
        Status::METHOD_NOT_ALLOWED
    };
    res.start(status)
        .header("Allow", &methods.allow_header())
        .body(&[])
}
