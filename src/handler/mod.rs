//! The handler interface: what answers requests ([`Handler`]; [`AsyncHandler`] with the
//! `async` feature), what a handler is handed, and how a request the connection hands out
//! ([`Pending`]) is run on one: without a driver ([`Pending::handle`], [`Connection::poll`]:
//! everything staged in the buffers), or with the driver's [`Wire`] at hand, so that bodies
//! and responses can stream ([`Pending::handle_with`], [`Pending::handle_async`]).
//!
//! Owns: a handler is handed the [`Request`] and a [`Responder`], which wraps the outbox the
//! connection lends for the exchange: the responder stages a small response
//! (`responder.rs`), streams a large one (`stream.rs`: [`ResponseStream`]), reads a request
//! body in pieces (`request_body.rs`: [`RequestBody`]) or hands the connection to another
//! protocol (`upgrade.rs`: [`Upgraded`]). Each has async methods and blocking twins; the
//! twins poll the async code once on a blocking driver ([`block`]).
//!
//! Never does: protocol framing (the wire's encoders and the connection decide every byte),
//! routing, or IO.

#[cfg(feature = "layers")]
mod fields;
mod request_body;
mod responder;
mod stream;
mod upgrade;

pub use request_body::RequestBody;
pub use responder::{BodyWriter, Redirect, Responded, Responder, ResponseHead};
pub use stream::ResponseStream;
pub use upgrade::{UpgradeHead, Upgraded};

use core::future::Future;
use core::task::{Context, Poll, Waker};

#[cfg(feature = "async")]
use crate::connection::Open;
use crate::connection::{Action, Connection, Next, Pending, Wire};
use crate::error::StreamError;
use crate::wire::Request;

/// Something that answers requests: one endpoint, or a whole application such as a
/// [`crate::Router`]. Closures of the right shape implement it.
pub trait Handler {
    /// Answer `req` through `res`.
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded;

    /// Whether this handler reads `req`'s body as a stream
    /// ([`Responder::request_body`]), and up to how many bytes. `None` (the default): the
    /// body must fit the receive buffer, and the handler runs once it is all there
    /// ([`Request::body`]). `Some(limit)`: a body that has not all arrived with the head is
    /// handed over as it arrives, and a declared length above `limit` is refused with 413
    /// before the handler runs (and before the client is asked to send it).
    fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
        None
    }
}

impl<F> Handler for F
where
    F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
{
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self(req, res)
    }
}

impl<'c> Pending<'c> {
    /// Run `app` on the request, without a driver: a body that has not all arrived is
    /// waited for in the receive buffer (413 if it cannot fit), and a streamed response must
    /// fit the transmit buffer. The response to write, or a close.
    pub fn handle<A: Handler + ?Sized>(self, app: &mut A) -> Action<'c> {
        let limit = self
            .has_body()
            .then(|| app.stream_limit(self.request()))
            .flatten();
        self.run_staged(limit, |req, outbox| {
            let _: Responded = app.handle(req, Responder::new(outbox));
        })
    }

    /// Run `app` on the request with the driver's `wire` at hand: a route that accepts a
    /// streamed body ([`Handler::stream_limit`]) reads it as it arrives, and a response may
    /// stream. The action that returns is the response to write (empty when it was
    /// streamed; it still carries the exchange for the log), or a close.
    pub fn handle_with<A: Handler + ?Sized>(self, app: &mut A, wire: &mut dyn Wire) -> Action<'c> {
        let limit = self
            .has_body()
            .then(|| app.stream_limit(self.request()))
            .flatten();
        let mut open = match self.open(limit, wire) {
            Ok(open) => open,
            Err(action) => return action,
        };
        let (request, outbox) = open.parts();
        let _: Responded = app.handle(request, Responder::new(outbox));
        open.close()
    }

    /// Set up the exchange for an async `app` with the driver's `wire` at hand, the async
    /// twin of [`Pending::handle_with`]: `Ok` is the future that runs the handler (it holds
    /// only what the handler needs; await it, then do the action it returns), `Err` an action
    /// to do at once (a refused body, or one to wait for in the buffer).
    #[cfg(feature = "async")]
    pub fn handle_async<'x, A: AsyncHandler + ?Sized>(
        self,
        app: &'x mut A,
        wire: &'x mut dyn Wire,
    ) -> Result<impl core::future::Future<Output = Action<'c>> + 'x, Action<'c>>
    where
        'c: 'x,
    {
        let limit = self
            .has_body()
            .then(|| app.stream_limit(self.request()))
            .flatten();
        Ok(run(self.open(limit, wire)?, app))
    }
}

impl<const MAX_HEADERS: usize> Connection<'_, MAX_HEADERS> {
    /// Advance the state machine without a driver: parse what has arrived, call `app` once a
    /// request is whole, and say what the driver must do (see [`Pending::handle`]).
    pub fn poll<A: Handler + ?Sized>(&mut self, app: &mut A) -> Action<'_> {
        match self.step_staged() {
            Next::Action(action) => action,
            Next::Request(pending) => pending.handle(app),
        }
    }
}

/// Run an async handler on an open exchange. (Not an `async fn`: its future would hold the
/// exchange twice, as argument and as local.)
#[cfg(feature = "async")]
#[allow(clippy::manual_async_fn)]
fn run<'c, 'w, 'x, A: AsyncHandler + ?Sized>(
    mut open: Open<'c, 'w>,
    app: &'x mut A,
) -> impl core::future::Future<Output = Action<'c>> + use<'c, 'w, 'x, A>
where
    'c: 'x,
    'w: 'x,
{
    async move {
        let (request, outbox) = open.parts();
        let _: Responded = app.handle(request, Responder::new(outbox)).await;
        open.close()
    }
}

/// Run `fut` once, for a blocking caller on a blocking driver (whose wire is always ready, so
/// the future completes); a blocking call on the async driver gets
/// [`StreamError::Unsupported`].
pub(crate) fn block<T>(
    blocking: bool,
    fut: impl Future<Output = Result<T, StreamError>>,
) -> Result<T, StreamError> {
    if !blocking {
        return Err(StreamError::Unsupported);
    }
    poll_once(fut).unwrap_or(Err(StreamError::Unsupported))
}

/// Poll `fut` once; its output if it completed. How the blocking side runs the async code.
pub(crate) fn poll_once<T>(fut: impl Future<Output = T>) -> Option<T> {
    let mut fut = core::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use async_handlers::{async_fn, AsyncFn, AsyncHandler, Polled};

/// Handlers that await (feature `async`).
#[cfg(feature = "async")]
mod async_handlers {
    use super::{Handler, Responded, Responder};
    use crate::wire::Request;

    /// Something that answers requests and may await while doing so: what the async driver
    /// serves.
    ///
    /// A [`crate::Router`] is one, whatever its routes (blocking handlers answer at once,
    /// async ones are awaited), and so are closures and `fn`s of the handler shape, the
    /// async ones [`async_fn`] wraps, assets and protected handlers. A [`Handler`] type of
    /// your own becomes one behind `router::Blocking`.
    #[allow(async_fn_in_trait)] // single-threaded executors (embassy) need no Send bound
    pub trait AsyncHandler {
        /// Answer `req` through `res`.
        async fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded;

        /// Whether this handler reads `req`'s body as a stream, and up to how many bytes; see
        /// [`Handler::stream_limit`].
        fn stream_limit(&self, _req: &Request<'_>) -> Option<u64> {
            None
        }
    }

    /// An [`AsyncHandler`] served by the blocking driver: a [`crate::Router`] with async
    /// routes, on `std_server`'s threads or a blocking firmware. On the blocking driver every
    /// operation on the connection (reading the body, writing a stream, an upgraded
    /// connection, a sleep through the hooks) completes at once, so an async handler that
    /// awaits only the connection completes in the one poll this gives it. One that awaits
    /// something else (a channel, a timer of its own) is dropped where it waits: the
    /// response is then a 500 whose reason the log shows ([`crate::Failure::NoResponse`]),
    /// or, after part of a stream went out, a close. Without this wrapper, a router with
    /// async routes does not compile on the blocking driver.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Polled<A>(pub A);

    impl<A: AsyncHandler> Handler for Polled<A> {
        fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
            super::poll_once(self.0.handle(req, res)).unwrap_or(Responded(()))
        }

        fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
            self.0.stream_limit(req)
        }
    }

    /// An [`AsyncHandler`] made from an async closure; see [`async_fn`].
    #[derive(Debug, Clone, Copy)]
    pub struct AsyncFn<F> {
        pub(crate) f: F,
        pub(crate) stream_limit: Option<u64>,
    }

    /// Make an [`AsyncHandler`] from an async closure:
    /// `async_fn(async |req, res| { let t = sensor.read().await; ... })`.
    pub fn async_fn<F>(f: F) -> AsyncFn<F>
    where
        F: for<'r, 'a, 's> AsyncFnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
    {
        AsyncFn {
            f,
            stream_limit: None,
        }
    }

    impl<F> AsyncFn<F> {
        /// The closure reads its request body as a stream, up to `limit` bytes (see
        /// [`Handler::stream_limit`]).
        pub fn stream_body(mut self, limit: u64) -> Self {
            self.stream_limit = Some(limit);
            self
        }
    }
}
