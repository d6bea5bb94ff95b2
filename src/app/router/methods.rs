//! A path's handlers by method: the chain [`get`], [`post`] and their siblings build
//! ([`OnMethod`] in front of [`NoMethods`]), blocking or async ([`get_async`] and its
//! siblings), a handler for every method ([`AnyMethod`], `Router::mount`), a handler that
//! takes its body as a stream ([`Streamed`]), and the method sets that `Allow` headers list.

#[cfg(feature = "async")]
use core::future::{ready, Future};

#[cfg(feature = "async")]
use futures_util::future::Either;

use super::endpoint::Endpoint;
use super::sealed::{Answer, AnswerBlocking, BlockingMethodChain, MethodChain, MethodSet, Step};
#[cfg(feature = "async")]
use crate::handler::{async_fn, AsyncFn};
use crate::handler::{Responded, Responder};
use crate::wire::{Method, Request, Status};

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
    fn answer_now<'a, 's>(
        &mut self,
        _method: Method,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Step<'a, 's> {
        Step::Miss(res)
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        _method: Method,
        _req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        // Not reached (`answer_now` found the handler); a 500 rather than a panic.
        ready(res.status(Status::INTERNAL_SERVER_ERROR))
    }
}

impl BlockingMethodChain for NoMethods {
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

impl<H: Answer, Next: MethodChain> MethodChain for OnMethod<H, Next> {
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
    fn answer_now<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Step<'a, 's> {
        if method != self.method {
            return self.next.answer_now(method, req, res);
        }
        match self.handler.answer_now(req, res) {
            Ok(done) => Step::Done(done),
            Err(res) => Step::Later(0, method, res),
        }
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        if method == self.method {
            Either::Left(self.handler.answer_later(req, res))
        } else {
            Either::Right(self.next.answer_later(method, req, res))
        }
    }
}

impl<H: AnswerBlocking, Next: BlockingMethodChain> BlockingMethodChain for OnMethod<H, Next> {
    fn call<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        if method == self.method {
            Ok(self.handler.answer(req, res))
        } else {
            self.next.call(method, req, res)
        }
    }
}

/// Route `method` to any [`Endpoint`]: a closure or `fn` (for those, [`get`] and friends
/// also infer the closure's argument types), an async one from [`crate::async_fn`], a
/// protected handler, assets, a router.
pub fn on<H: Endpoint>(method: Method, handler: H) -> OnMethod<H, NoMethods> {
    OnMethod {
        method,
        handler,
        next: NoMethods,
    }
}

macro_rules! method_shortcuts {
    ($($name:ident, $name_async:ident => $method:ident),* $(,)?) => {
        $(
            #[doc = concat!("Route `", stringify!($method), "` requests to a blocking closure or `fn`.")]
            pub fn $name<F>(handler: F) -> OnMethod<F, NoMethods>
            where
                F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
            {
                on(Method::$method, handler)
            }

            #[doc = concat!("Route `", stringify!($method), "` requests to an async closure or `async fn` (feature `async`; the router then serves on the async driver).")]
            #[cfg(feature = "async")]
            #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
            pub fn $name_async<F>(handler: F) -> OnMethod<AsyncFn<F>, NoMethods>
            where
                F: for<'r, 'a, 's> AsyncFnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
            {
                on(Method::$method, async_fn(handler))
            }
        )*

        impl<H, Next> OnMethod<H, Next> {
            /// Also route `method` on this path, to any [`Endpoint`].
            pub fn on<H2: Endpoint>(self, method: Method, handler: H2) -> OnMethod<H2, Self> {
                OnMethod { method, handler, next: self }
            }

            /// The handler added last reads its request body as a stream, up to `limit`
            /// bytes: bodies larger than the receive buffer reach it as they arrive (see
            /// [`crate::Handler::stream_limit`] and [`Responder::request_body`]); a larger
            /// declared length is refused with 413 before the handler runs.
            pub fn stream_body(self, limit: u64) -> OnMethod<Streamed<H>, Next> {
                let OnMethod { method, handler, next } = self;
                OnMethod { method, handler: Streamed { handler, limit }, next }
            }
            $(
                #[doc = concat!("Also route `", stringify!($method), "` on this path, to a blocking closure or `fn`.")]
                pub fn $name<F>(self, handler: F) -> OnMethod<F, Self>
                where
                    F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
                {
                    self.on(Method::$method, handler)
                }

                #[doc = concat!("Also route `", stringify!($method), "` on this path, to an async closure or `async fn`.")]
                #[cfg(feature = "async")]
                #[cfg_attr(docsrs, doc(cfg(feature = "async")))]
                pub fn $name_async<F>(self, handler: F) -> OnMethod<AsyncFn<F>, Self>
                where
                    F: for<'r, 'a, 's> AsyncFnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
                {
                    self.on(Method::$method, async_fn(handler))
                }
            )*
        }
    };
}

method_shortcuts! {
    get, get_async => Get,
    post, post_async => Post,
    put, put_async => Put,
    delete, delete_async => Delete,
    patch, patch_async => Patch,
    options, options_async => Options,
}

/// A handler that reads its request body as a stream, up to `limit` bytes: made by
/// [`OnMethod::stream_body`] (a separate type, so that routes without it pay nothing).
#[derive(Debug, Clone, Copy)]
pub struct Streamed<H> {
    handler: H,
    limit: u64,
}

impl<H: Answer> Answer for Streamed<H> {
    fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
        Some(self.limit)
    }
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        self.handler.answer_now(req, res)
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        self.handler.answer_later(req, res)
    }
}

impl<H: AnswerBlocking> AnswerBlocking for Streamed<H> {
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.handler.answer(req, res)
    }
}

/// Any [`Endpoint`] answering every method of a path ([`super::Router::mount`]): it decides
/// what each method gets.
#[derive(Debug, Clone, Copy)]
pub struct AnyMethod<H>(pub(super) H);

impl<H: Answer> MethodChain for AnyMethod<H> {
    fn methods(&self) -> MethodSet {
        Method::ALL
            .into_iter()
            .fold(MethodSet::default(), MethodSet::with)
    }
    fn stream_limit(&self, _method: Method, req: &Request<'_>) -> Option<u64> {
        self.0.stream_limit(req)
    }
    fn answer_now<'a, 's>(
        &mut self,
        method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Step<'a, 's> {
        match self.0.answer_now(req, res) {
            Ok(done) => Step::Done(done),
            Err(res) => Step::Later(0, method, res),
        }
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        _method: Method,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        self.0.answer_later(req, res)
    }
}

impl<H: AnswerBlocking> BlockingMethodChain for AnyMethod<H> {
    fn call<'a, 's>(
        &mut self,
        _method: Method,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Ok(self.0.answer(req, res))
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
