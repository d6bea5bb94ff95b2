//! What a route can hold ([`Endpoint`]): a blocking closure or `fn`, an async one
//! ([`crate::async_fn`], or the `*_async` route functions), a [`super::Router`], static
//! assets, a protected handler, or any [`Handler`] / [`AsyncHandler`] of your own behind
//! [`Blocking`] / [`Async`]. Blocking endpoints answer during the router's synchronous step;
//! async ones after it (see `sealed.rs`).

#[cfg(feature = "async")]
use core::future::{ready, Future};

use super::sealed::{Answer, AnswerBlocking};
#[cfg(feature = "async")]
use crate::handler::{AsyncFn, AsyncHandler};
use crate::handler::{Handler, Responded, Responder};
use crate::wire::{Request, Status};

/// What a route can hold; blocking endpoints answer during the router's synchronous step,
/// async ones after it. Sealed: implemented by closures and
/// `fn`s of the handler shape, [`crate::AsyncFn`], [`super::Router`], [`crate::assets::Assets`],
/// `auth::Protected`, [`Blocking`], [`Async`] and the router's own wrappers.
pub trait Endpoint: Answer {}

impl<T: Answer> Endpoint for T {}

/// An [`Endpoint`] that never awaits: what a router needs to serve on the blocking driver.
/// Sealed, as [`Endpoint`] is.
pub trait BlockingEndpoint: AnswerBlocking {}

impl<T: AnswerBlocking> BlockingEndpoint for T {}

/// Every endpoint is an async handler: it answers at once if it can, else awaits.
#[cfg(feature = "async")]
impl<T: Answer> AsyncHandler for T {
    fn handle<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> + use<'x, 'r, 'a, 's, T> {
        Answer::answer_async(self, req, res)
    }

    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        Answer::stream_limit(self, req)
    }
}

/// A blocking closure or `fn`.
impl<F> Answer for F
where
    F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
{
    fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
        None
    }
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Ok(self(req, res))
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        ready(self(req, res))
    }
}

impl<F> AnswerBlocking for F
where
    F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
{
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self(req, res)
    }
}

/// An async closure or `async fn`: it always answers later.
#[cfg(feature = "async")]
impl<F> Answer for AsyncFn<F>
where
    F: for<'r, 'a, 's> AsyncFnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
{
    fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
        self.stream_limit
    }
    fn answer_now<'a, 's>(
        &mut self,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Err(res)
    }
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        (self.f)(req, res)
    }
}

/// Any [`Handler`] of your own as an [`Endpoint`] (closures, `fn`s, routers and assets are
/// endpoints already): `on(Method::Get, Blocking(my_handler))`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Blocking<H>(pub H);

impl<H: Handler> Handler for Blocking<H> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.0.handle(req, res)
    }
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.0.stream_limit(req)
    }
}

impl<H: Handler> Answer for Blocking<H> {
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.0.stream_limit(req)
    }
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Ok(self.0.handle(req, res))
    }
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        ready(self.0.handle(req, res))
    }
}

impl<H: Handler> AnswerBlocking for Blocking<H> {
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.0.handle(req, res)
    }
}

/// Any [`AsyncHandler`] of your own as an [`Endpoint`]: `on(Method::Get, Async(my_app))`.
/// (For an async closure or `async fn`, [`crate::async_fn`] or the `*_async` route
/// functions.)
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Async<H>(pub H);

#[cfg(feature = "async")]
impl<H: AsyncHandler> Answer for Async<H> {
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.0.stream_limit(req)
    }
    fn answer_now<'a, 's>(
        &mut self,
        _req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        Err(res)
    }
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl Future<Output = Responded> {
        self.0.handle(req, res)
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

/// Implement [`Answer`] and [`AnswerBlocking`] for a type that is a blocking [`Handler`]
/// (the library's own: [`NotFound`], assets, a blocking router, a protected handler).
macro_rules! blocking_endpoint {
    ($(#[$m:meta])* impl[$($g:tt)*] $ty:ty $(where $($w:tt)*)?) => {
        $(#[$m])*
        impl<$($g)*> $crate::app::router::sealed::Answer for $ty $(where $($w)*)? {
            fn stream_limit(&self, req: &$crate::Request<'_>) -> Option<u64> {
                $crate::Handler::stream_limit(self, req)
            }
            fn answer_now<'a, 's>(
                &mut self,
                req: &$crate::Request<'a>,
                res: $crate::Responder<'a, 's>,
            ) -> Result<$crate::Responded, $crate::Responder<'a, 's>> {
                Ok($crate::Handler::handle(self, req, res))
            }
            #[cfg(feature = "async")]
            fn answer_later<'x, 'r, 'a, 's>(
                &'x mut self,
                req: &'r $crate::Request<'a>,
                res: $crate::Responder<'a, 's>,
            ) -> impl core::future::Future<Output = $crate::Responded> {
                core::future::ready($crate::Handler::handle(self, req, res))
            }
        }
        impl<$($g)*> $crate::app::router::sealed::AnswerBlocking for $ty $(where $($w)*)? {
            fn answer<'a>(
                &mut self,
                req: &$crate::Request<'a>,
                res: $crate::Responder<'a, '_>,
            ) -> $crate::Responded {
                $crate::Handler::handle(self, req, res)
            }
        }
    };
}
pub(crate) use blocking_endpoint;

blocking_endpoint!(impl[] NotFound);
