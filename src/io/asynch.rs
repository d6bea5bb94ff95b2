//! The async driver (feature `async`): the blocking driver's loop, awaited, over
//! `embedded_io_async::{Read, Write}` (which embassy-net's `TcpSocket` implements).
//!
//! It makes no protocol decisions: the same [`Connection`] parses, frames, times out and
//! stages responses. Handlers are [`AsyncHandler`]s: every sync [`Handler`] (a [`Router`])
//! is one, and [`async_fn`] makes one from an async closure, for endpoints that must await a
//! sensor or a bus. Time comes from a [`Timer`] the user implements (embassy-time fits it).
//!
//! [`serve_pool`] serves N connections from one task with N caller-provided buffers. When all
//! N are connected, no socket listens, and a new client would be refused; so idle keep-alive
//! connections give way: while the pool is full, a connection that is idle between requests
//! closes (within [`GIVE_WAY_CHECK_MS`]), and its socket listens again.
//!
//! [`Router`]: crate::Router

use core::cell::Cell;

use embassy_futures::select::{select, Either};
use embedded_io::{Error as _, ErrorKind};
use embedded_io_async::{Read, Write};

use crate::connection::{Action, Connection, Next, Timeouts};
use crate::io::blocking::ServeError;
use crate::request::{Request, EMPTY_HEADER};
use crate::response::{Responded, Responder};
use crate::router::Handler;

/// Something that answers requests and may await while doing so.
///
/// Every [`Handler`] is an `AsyncHandler`; for an async closure use [`async_fn`]. An app
/// with one async endpoint can implement this trait and delegate the other paths to a
/// [`crate::Router`].
#[allow(async_fn_in_trait)] // single-threaded executors (embassy) need no Send bound
pub trait AsyncHandler {
    /// Answer `req` through `res`.
    async fn handle<'a>(&mut self, req: &Request<'a, '_>, res: Responder<'a, '_>) -> Responded;
}

impl<H: Handler + ?Sized> AsyncHandler for H {
    async fn handle<'a>(&mut self, req: &Request<'a, '_>, res: Responder<'a, '_>) -> Responded {
        Handler::handle(self, req, res)
    }
}

/// An [`AsyncHandler`] made from an async closure; see [`async_fn`].
#[derive(Debug, Clone, Copy)]
pub struct AsyncFn<F>(F);

/// Make an [`AsyncHandler`] from an async closure:
/// `async_fn(async |req, res| { let t = sensor.read().await; ... })`.
pub fn async_fn<F>(f: F) -> AsyncFn<F>
where
    F: for<'r, 'a, 'h, 's> AsyncFnMut(&'r Request<'a, 'h>, Responder<'a, 's>) -> Responded,
{
    AsyncFn(f)
}

impl<F> AsyncHandler for AsyncFn<F>
where
    F: for<'r, 'a, 'h, 's> AsyncFnMut(&'r Request<'a, 'h>, Responder<'a, 's>) -> Responded,
{
    async fn handle<'a>(&mut self, req: &Request<'a, '_>, res: Responder<'a, '_>) -> Responded {
        (self.0)(req, res).await
    }
}

/// A clock and a sleep, for read deadlines. With embassy-time:
/// `now_ms` is `Instant::now().as_millis()` and `sleep_until` is
/// `Timer::at(Instant::from_millis(deadline_ms)).await`.
#[allow(async_fn_in_trait)]
pub trait Timer {
    /// Milliseconds from any fixed start; never decreasing.
    fn now_ms(&self) -> u64;
    /// Complete at `deadline_ms` (at once if it has passed).
    async fn sleep_until(&self, deadline_ms: u64);
}

/// No clock: reads wait forever (only the transport's own timeouts apply).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTimer;

impl Timer for NoTimer {
    fn now_ms(&self) -> u64 {
        0
    }
    async fn sleep_until(&self, _deadline_ms: u64) {
        core::future::pending::<()>().await
    }
}

/// Serve requests on `io` until the peer closes, the connection must close, or IO fails; the
/// async twin of [`crate::io::blocking::serve`].
pub async fn serve<T, A, C, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    timer: &C,
    timeouts: &Timeouts,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: AsyncHandler + ?Sized,
    C: Timer + ?Sized,
{
    serve_giving_way(io, conn, app, timer, timeouts, None).await
}

/// While the pool is full, an idle connection rechecks this often whether to give way.
pub const GIVE_WAY_CHECK_MS: u64 = 100;

/// [`serve`], closing the connection when it is idle after a response and `give_way()` (a
/// newly accepted connection waits for its first request as usual).
async fn serve_giving_way<T, A, C, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    timer: &C,
    timeouts: &Timeouts,
    give_way: Option<&dyn Fn() -> bool>,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: AsyncHandler + ?Sized,
    C: Timer + ?Sized,
{
    conn.reset();
    let mut answered = false;
    loop {
        let mut headers = [EMPTY_HEADER; H];
        let action = match conn.next(&mut headers) {
            Next::Action(action) => action,
            Next::Request(pending) => pending.handle_async(app).await,
        };
        match action {
            Action::Read => {
                // In a pool, an idle keep-alive connection may have to make room.
                let may_give_way = give_way.filter(|_| answered && conn.is_idle());
                if may_give_way.is_some_and(|give_way| give_way()) {
                    return Ok(());
                }
                let now = timer.now_ms();
                let deadline = conn.read_deadline(now, timeouts);
                if deadline <= now {
                    conn.timed_out();
                    continue;
                }
                // Such a connection wakes now and then to see whether it must give way.
                let wake = if may_give_way.is_some() {
                    deadline.min(now.saturating_add(GIVE_WAY_CHECK_MS))
                } else {
                    deadline
                };
                match select(io.read(conn.read_buf()), timer.sleep_until(wake)).await {
                    Either::First(Ok(n)) => conn.received(n),
                    Either::First(Err(e)) if e.kind() == ErrorKind::TimedOut => conn.timed_out(),
                    Either::First(Err(e)) => return Err(ServeError::Io(e)),
                    Either::Second(()) if wake < deadline => {}
                    Either::Second(()) => conn.timed_out(),
                }
            }
            Action::Write(t) => {
                io.write_all(t.head).await.map_err(ServeError::Io)?;
                io.write_all(t.body).await.map_err(ServeError::Io)?;
                io.flush().await.map_err(ServeError::Io)?;
                if let Some(exchange) = t.exchange {
                    answered = true;
                    if let Some(e) = exchange.error {
                        return Err(ServeError::Protocol(e));
                    }
                }
            }
            Action::Close => return Ok(()),
        }
    }
}

/// One connection place of a [`serve_pool`]: a socket that can wait for a client, be
/// served, and be closed to wait again (embassy-net's `TcpSocket` with `accept` and
/// `close`).
#[allow(async_fn_in_trait)]
pub trait Listener {
    /// The transport once a client is connected.
    type Io: Read + Write;
    /// Wait for a client.
    async fn accept(
        &mut self,
    ) -> Result<&mut Self::Io, <Self::Io as embedded_io::ErrorType>::Error>;
    /// Close the connection (flushing what was written) before the next `accept`.
    async fn close(&mut self);
}

/// One place of a [`serve_pool`]: a listener and the buffers of its connection.
#[derive(Debug)]
pub struct Place<'b, L> {
    /// Waits for and closes this place's connections.
    pub listener: L,
    /// Receive buffer: a request's head and body.
    pub rx: &'b mut [u8],
    /// Transmit buffer: response heads and small bodies.
    pub tx: &'b mut [u8],
}

/// Serve up to `N` connections concurrently from one task, one per [`Place`], each with its
/// own app from `make_app`. Runs forever.
///
/// When all `N` places are connected, no socket is listening; connections that are idle
/// between requests then close (within [`GIVE_WAY_CHECK_MS`]) so that their place listens
/// again and a new client is served. A connection in the middle of a request finishes it.
pub async fn serve_pool<L, A, C, const N: usize, const H: usize>(
    places: &mut [Place<'_, L>; N],
    make_app: &dyn Fn() -> A,
    timer: &C,
    timeouts: &Timeouts,
) -> core::convert::Infallible
where
    L: Listener,
    A: AsyncHandler,
    C: Timer + ?Sized,
{
    let connected = Cell::new(0usize);
    let full = || connected.get() >= N;
    let served = places.each_mut().map(|place| {
        serve_place::<L, A, C, H>(place, make_app, timer, timeouts, &connected, &full)
    });
    embassy_futures::join::join_array(served).await;
    // Every place loops forever, so the join never completes.
    core::future::pending().await
}

async fn serve_place<L, A, C, const H: usize>(
    place: &mut Place<'_, L>,
    make_app: &dyn Fn() -> A,
    timer: &C,
    timeouts: &Timeouts,
    connected: &Cell<usize>,
    full: &dyn Fn() -> bool,
) where
    L: Listener,
    A: AsyncHandler,
    C: Timer + ?Sized,
{
    let Place { listener, rx, tx } = place;
    let mut conn: Connection<'_, H> = Connection::with_limits(rx, tx, crate::Limits::DEFAULT);
    loop {
        if let Ok(io) = listener.accept().await {
            connected.set(connected.get() + 1);
            let mut app = make_app();
            let _ = serve_giving_way(io, &mut conn, &mut app, timer, timeouts, Some(full)).await;
            connected.set(connected.get() - 1);
        }
        listener.close().await;
    }
}
