//! The async driver (feature `async`): the blocking driver's loop, awaited, over
//! `embedded_io_async::{Read, Write}` (which embassy-net's `TcpSocket` implements).
//!
//! It makes no protocol decisions: the same [`Connection`] parses, frames, times out and
//! stages responses. Handlers are [`AsyncHandler`]s: every sync [`crate::Handler`] (a [`Router`])
//! is one, and [`crate::async_fn`] makes one from an async closure, for endpoints that must await a
//! sensor or a bus. Time comes from a [`Timer`] the user implements (embassy-time fits it).
//!
//! [`serve_pool`] serves N connections from one task with N caller-provided buffers. When all
//! N are connected, no socket listens, and a new client would be refused; so idle keep-alive
//! connections give way: while the pool is full, a connection that is idle between requests
//! closes (within [`GIVE_WAY_CHECK_MS`]), and its socket listens again.
//!
//! [`Router`]: crate::Router

use core::cell::Cell;
use core::convert::Infallible;
use core::future::{poll_fn, Future};
use core::task::{Context, Poll};

use embassy_futures::select::{select, Either};
use embedded_io::{Error as _, ErrorKind};
use embedded_io_async::{Read, Write};

use super::blocking::stream_error;
use super::{Hooks, ServeError};
use crate::connection::{Action, Connection, Next, ReadDeadlines, Timeouts, Wire};
use crate::error::StreamError;
use crate::handler::AsyncHandler;

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
/// async twin of [`crate::io::blocking::serve_with_hooks`]. `hooks` give the timeouts and see
/// each exchange (`&mut ()` for the defaults and no log).
pub fn serve<'f, 'b, T, A, C, O, const H: usize>(
    io: &'f mut T,
    conn: &'f mut Connection<'b, H>,
    app: &'f mut A,
    timer: &'f C,
    hooks: &'f mut O,
) -> impl Future<Output = Result<(), ServeError<T::Error>>> + use<'f, 'b, T, A, C, O, H>
where
    T: Read + Write + ?Sized,
    A: AsyncHandler + ?Sized,
    C: Timer + ?Sized,
    O: Hooks + ?Sized,
{
    serve_giving_way(io, conn, app, timer, hooks, None)
}

/// [`serve`] for a host that may stop, or must make room: a connection that is idle between
/// requests closes as soon as `give_way(answered)` says so (`answered`: it has served a
/// request), checked every [`GIVE_WAY_CHECK_MS`]; and while the hooks say the server is
/// [`Hooks::stopping`], streams end at their next wait.
pub fn serve_giving_way<'f, 'b, T, A, C, O, const H: usize>(
    io: &'f mut T,
    conn: &'f mut Connection<'b, H>,
    app: &'f mut A,
    timer: &'f C,
    hooks: &'f mut O,
    give_way: Option<&'f dyn Fn(bool) -> bool>,
) -> impl Future<Output = Result<(), ServeError<T::Error>>> + use<'f, 'b, T, A, C, O, H>
where
    T: Read + Write + ?Sized,
    A: AsyncHandler + ?Sized,
    C: Timer + ?Sized,
    O: Hooks + ?Sized,
{
    conn.reset();
    drive(io, conn, app, timer, hooks, give_way)
}

/// While a pool is full (or a host stops), an idle connection rechecks this often whether to
/// give way.
pub const GIVE_WAY_CHECK_MS: u64 = 100;

/// The connection's loop. (Not an `async fn`: its future would hold each argument twice, as
/// argument and as local.)
#[allow(clippy::manual_async_fn)]
fn drive<'f, 'b, T, A, C, O, const H: usize>(
    io: &'f mut T,
    conn: &'f mut Connection<'b, H>,
    app: &'f mut A,
    timer: &'f C,
    hooks: &'f mut O,
    give_way: Option<&'f dyn Fn(bool) -> bool>,
) -> impl Future<Output = Result<(), ServeError<T::Error>>> + use<'f, 'b, T, A, C, O, H>
where
    T: Read + Write + ?Sized,
    A: AsyncHandler + ?Sized,
    C: Timer + ?Sized,
    O: Hooks + ?Sized,
{
    async move {
        let mut answered = false;
        loop {
            let timeouts = hooks.timeouts();
            if hooks.stopping() || !hooks.keep_alive() {
                conn.stop_keep_alive();
            }
            let check_ms = match give_way {
                Some(_) => Some(GIVE_WAY_CHECK_MS),
                None => hooks.check_interval_ms(),
            };
            let action = match conn.step() {
                Next::Action(action) => action,
                Next::Request(pending) => 'handled: {
                    hooks.head_received();
                    let watch = Cell::new(NO_DEADLINE);
                    let mut wire = AsyncWire {
                        deadlines: ReadDeadlines::new(),
                        io: &mut *io,
                        timer,
                        timeouts: &timeouts,
                        watch: &watch,
                        write_deadline: NO_DEADLINE,
                        hooks: &*hooks,
                        check_stop: check_ms.is_some(),
                    };
                    // The handler's future is moved into `select`, not kept beside it.
                    let handled = match pending.handle_async(app, &mut wire) {
                        Ok(handled) => handled,
                        Err(action) => break 'handled action,
                    };
                    let action = match select(handled, watch_deadlines(timer, &watch)).await {
                        Either::First(action) => action,
                        Either::Second(never) => match never {},
                    };
                    action
                }
            };
            match action {
                Action::Read => {
                    let idle = conn.is_idle();
                    // A host that stops, or a full pool: an idle connection may have to go.
                    let go = give_way.is_some_and(|give_way| give_way(answered))
                        || hooks.give_way(answered);
                    if idle && go {
                        return Ok(());
                    }
                    let now = timer.now_ms();
                    let deadline = conn.read_deadline(now, &timeouts);
                    if deadline <= now {
                        conn.timed_out();
                        continue;
                    }
                    // Such a connection wakes now and then to see whether it must give way.
                    let wake = match check_ms {
                        Some(check) => deadline.min(now.saturating_add(check)),
                        None => deadline,
                    };
                    match select(io.read(conn.read_buf()), timer.sleep_until(wake)).await {
                        Either::First(Ok(n)) => {
                            conn.received(n);
                            if idle && n > 0 {
                                hooks.request_started();
                            }
                        }
                        Either::First(Err(e)) if e.kind() == ErrorKind::TimedOut => {
                            conn.timed_out()
                        }
                        Either::First(Err(e)) => return Err(ServeError::Io(e)),
                        Either::Second(()) if wake < deadline => {}
                        Either::Second(()) => conn.timed_out(),
                    }
                }
                Action::Write(t) => {
                    let deadline = timer.now_ms().saturating_add(timeouts.write_ms);
                    let written = async {
                        io.write_all(t.head).await?;
                        io.write_all(t.body).await?;
                        io.flush().await
                    };
                    match select(written, timer.sleep_until(deadline)).await {
                        Either::First(result) => result.map_err(ServeError::Io)?,
                        Either::Second(()) => return Err(ServeError::WriteTimedOut),
                    }
                    if let Some(exchange) = t.exchange {
                        answered = true;
                        crate::log::exchange(&exchange);
                        hooks.responded(&exchange);
                        if let Some(e) = exchange.error {
                            return Err(ServeError::Protocol(e));
                        }
                    }
                }
                Action::Close => return Ok(()),
            }
        }
    }
}

/// No deadline for the watch.
const NO_DEADLINE: u64 = u64::MAX;

/// The transport and the timer, lent to the core while a handler runs. Each poll makes a
/// fresh read or write future and polls it once, which is sound because `embedded-io-async`
/// reads and writes are cancel-safe where it matters here (embassy-net's sockets, the tokio
/// adapter): a dropped, pending read or write has moved no byte, and the transport keeps the
/// waker. Deadlines go to `watch`, which [`watch_deadlines`] sleeps toward beside the
/// handler, so the task wakes when one passes.
struct AsyncWire<'w, T: ?Sized, C: ?Sized, O: ?Sized> {
    io: &'w mut T,
    timer: &'w C,
    timeouts: &'w Timeouts,
    watch: &'w Cell<u64>,
    /// How long each read may wait (the core's arithmetic, for both drivers).
    deadlines: ReadDeadlines,
    /// When the piece being written must be out whole ([`NO_DEADLINE`]: no write).
    write_deadline: u64,
    /// For [`Hooks::stopping`].
    hooks: &'w O,
    /// Check for stopping while sleeping (a host that can stop).
    check_stop: bool,
}

impl<T: ?Sized, C: Timer + ?Sized, O: ?Sized> AsyncWire<'_, T, C, O> {
    /// Have the task woken at `deadline`, or before: a wake-up already set for earlier (and
    /// still to come) is kept, since the operation then looks at the time again and sets
    /// its own. So a read and a write taking turns, or a read whose deadline moves with the
    /// clock (an upgraded connection's shutdown checks), do not restart the watch, and wake
    /// the task for it, on every poll.
    /// `now` is the clock as the caller just read it.
    fn arm(&self, cx: &mut Context<'_>, deadline: u64, now: u64) {
        let current = self.watch.get();
        if current == deadline || (current < deadline && current > now) {
            return;
        }
        self.watch.set(deadline);
        // Let the watch see the new deadline.
        cx.waker().wake_by_ref();
    }
}

impl<T, C, O> Wire for AsyncWire<'_, T, C, O>
where
    T: Read + Write + ?Sized,
    C: Timer + ?Sized,
    O: Hooks + ?Sized,
{
    fn is_blocking(&self) -> bool {
        false
    }

    fn request_started_at(&mut self, started_ms: Option<u64>) {
        self.deadlines.request_started_at(started_ms);
    }

    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, StreamError>> {
        let now = self.timer.now_ms();
        let check_ms = self.check_stop.then_some(GIVE_WAY_CHECK_MS);
        let wait =
            self.deadlines
                .next_read(Some(now), self.timeouts, self.hooks.stopping(), check_ms);
        let wait = match wait {
            Ok(wait) => wait.timeout_ms.unwrap_or(u64::MAX),
            Err(e) => return Poll::Ready(Err(e)),
        };
        // The task wakes then, and the read looks at the time again.
        self.arm(cx, now.saturating_add(wait), now);
        let read = core::pin::pin!(self.io.read(buf));
        let result = core::task::ready!(read.poll(cx));
        self.deadlines.read_done();
        Poll::Ready(result.map_err(stream_error))
    }

    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<Result<usize, StreamError>> {
        let now = self.timer.now_ms();
        if self.write_deadline == NO_DEADLINE {
            self.write_deadline = now.saturating_add(self.timeouts.write_ms);
        }
        let deadline = self.write_deadline;
        if deadline <= now {
            return Poll::Ready(Err(StreamError::TimedOut));
        }
        self.arm(cx, deadline, now);
        let write = core::pin::pin!(self.io.write(bytes));
        let result = core::task::ready!(write.poll(cx));
        // Only a write that took all it was given ends the deadline: the rest of the piece
        // comes next, under the same one.
        if !matches!(result, Ok(n) if n < bytes.len()) {
            self.write_deadline = NO_DEADLINE;
        }
        Poll::Ready(match result {
            Ok(0) => Err(StreamError::Io(ErrorKind::WriteZero)),
            other => other.map_err(stream_error),
        })
    }

    fn upgraded(&mut self, read_deadline_ms: Option<u64>) {
        self.deadlines.upgraded(read_deadline_ms);
    }

    fn now_ms(&mut self) -> Option<u64> {
        Some(self.timer.now_ms())
    }

    fn poll_sleep_until(
        &mut self,
        cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>> {
        if self.hooks.stopping() {
            return Poll::Ready(Err(StreamError::ShuttingDown));
        }
        let now = self.timer.now_ms();
        if now >= deadline_ms {
            return Poll::Ready(Ok(()));
        }
        let wake = if self.check_stop {
            deadline_ms.min(now.saturating_add(GIVE_WAY_CHECK_MS))
        } else {
            deadline_ms
        };
        self.arm(cx, wake, now);
        Poll::Pending
    }
}

/// Sleep toward the deadline in `watch`, starting over when it changes, so that the task
/// wakes when it passes (the handler's pending operation then sees the time). Never ends.
async fn watch_deadlines<C: Timer + ?Sized>(timer: &C, watch: &Cell<u64>) -> Infallible {
    loop {
        let deadline = watch.get();
        // Woken with the task whenever the handler side runs; ready once it set a new one.
        let moved = || {
            poll_fn(move |_| {
                if watch.get() != deadline {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
        };
        if deadline == NO_DEADLINE {
            moved().await;
        } else if let Either::First(()) = select(timer.sleep_until(deadline), moved()).await {
            moved().await;
        }
    }
}

/// A pool's hooks: its timeouts.
struct PoolHooks(Timeouts);

impl Hooks for PoolHooks {
    fn timeouts(&self) -> Timeouts {
        self.0
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
    /// Request size limits for this place's connections.
    pub limits: crate::Limits,
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
    // A connection that has served a request gives way while every place is taken.
    let full = |answered: bool| answered && connected.get() >= N;
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
    full: &dyn Fn(bool) -> bool,
) where
    L: Listener,
    A: AsyncHandler,
    C: Timer + ?Sized,
{
    let Place {
        listener,
        rx,
        tx,
        limits,
    } = place;
    let mut conn: Connection<'_, H> = Connection::with_limits(rx, tx, *limits);
    loop {
        if let Ok(io) = listener.accept().await {
            connected.set(connected.get() + 1);
            let mut app = make_app();
            let mut hooks = PoolHooks(*timeouts);
            let _ = serve_giving_way(io, &mut conn, &mut app, timer, &mut hooks, Some(full)).await;
            connected.set(connected.get() - 1);
        }
        listener.close().await;
    }
}
