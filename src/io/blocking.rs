//! The blocking driver: one connection over any `embedded_io::{Read, Write}` transport (a
//! TCP socket, a UART, a `std::net::TcpStream` through `host::std_server::StdIo`).
//!
//! A transport's read that fails with [`ErrorKind::TimedOut`] is taken as the peer being too
//! slow: mid-request that is a 408, between requests a close.

use core::task::{Context, Poll};

use embedded_io::{Error as _, ErrorKind, Read, Write};

use super::{Hooks, ServeError};
use crate::connection::{Action, Connection, Next, ReadDeadlines, Wire};
use crate::error::StreamError;
use crate::handler::Handler;
#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub use crate::handler::Polled;

/// The transport and the hooks, lent to the core while a handler runs.
struct DriverWire<'d, T: ?Sized, O: ?Sized> {
    io: &'d mut T,
    hooks: &'d mut O,
    /// How long each read may wait (the core's arithmetic, for both drivers).
    deadlines: ReadDeadlines,
}

/// Blocking IO, always ready: the wire of [`Wire`]'s blocking side.
impl<T, O> Wire for DriverWire<'_, T, O>
where
    T: Read + Write + ?Sized,
    O: Hooks + ?Sized,
{
    fn is_blocking(&self) -> bool {
        true
    }

    fn request_started_at(&mut self, started_ms: Option<u64>) {
        self.deadlines.request_started_at(started_ms);
    }

    fn poll_read(
        &mut self,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, StreamError>> {
        // What was written goes before the wait for the peer.
        if let Err(e) = self.io.flush() {
            return Poll::Ready(Err(stream_error(e)));
        }
        loop {
            let hooks = &mut *self.hooks;
            let wait = self.deadlines.next_read(
                hooks.now_ms(),
                &hooks.timeouts(),
                hooks.stopping(),
                hooks.check_interval_ms(),
            );
            let wait = match wait {
                Ok(wait) => wait,
                Err(e) => return Poll::Ready(Err(e)),
            };
            if let Some(ms) = wait.timeout_ms {
                hooks.set_read_timeout(ms);
            }
            hooks.will_read(false);
            match self.io.read(buf) {
                // A transport that wakes before the deadline (or to let the hooks look for
                // shutdown) has not timed out yet: ask again.
                Err(e) if e.kind() == ErrorKind::TimedOut && wait.recheck => {}
                result => {
                    self.deadlines.read_done();
                    return Poll::Ready(result.map_err(stream_error));
                }
            }
        }
    }

    fn poll_write(
        &mut self,
        _cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<Result<usize, StreamError>> {
        // The whole piece within the write timeout, however the transport's own timeout
        // counts: a peer that takes a few bytes now and then does not keep it going.
        let deadline = self
            .hooks
            .now_ms()
            .map(|now| now.saturating_add(self.hooks.timeouts().write_ms));
        let mut done = 0;
        while done < bytes.len() {
            match self.io.write(&bytes[done..]) {
                Ok(0) => return Poll::Ready(Err(StreamError::Io(ErrorKind::WriteZero))),
                Ok(n) => done += n,
                Err(e) => return Poll::Ready(Err(stream_error(e))),
            }
            if done < bytes.len() && deadline.is_some() && !before(deadline, self.hooks.now_ms()) {
                return Poll::Ready(Err(StreamError::TimedOut));
            }
        }
        // Flushed before the next read or sleep, on `poll_flush`, and after the response: a
        // transport that gathers writes (the thread server's) makes fewer, larger ones.
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        Poll::Ready(self.io.flush().map_err(stream_error))
    }

    fn upgraded(&mut self, read_deadline_ms: Option<u64>) {
        self.deadlines.upgraded(read_deadline_ms);
    }

    fn now_ms(&mut self) -> Option<u64> {
        self.hooks.now_ms()
    }

    fn poll_sleep_until(
        &mut self,
        _cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>> {
        let Some(now) = self.hooks.now_ms() else {
            return Poll::Ready(Err(StreamError::Unsupported));
        };
        // What was written goes out before the wait.
        if let Err(e) = self.io.flush() {
            return Poll::Ready(Err(stream_error(e)));
        }
        Poll::Ready(self.hooks.sleep_ms(deadline_ms.saturating_sub(now)))
    }
}

/// Whether `now` is still before `deadline`: a transport's read that timed out then woke
/// early (to let the hooks look for shutdown) and is no timeout.
fn before(deadline: Option<u64>, now: Option<u64>) -> bool {
    matches!((deadline, now), (Some(deadline), Some(now)) if now < deadline)
}

/// A transport error as a stream sees it: a timeout, or the transport's kind.
pub(crate) fn stream_error<E: embedded_io::Error>(e: E) -> StreamError {
    match e.kind() {
        ErrorKind::TimedOut => StreamError::TimedOut,
        kind => StreamError::Io(kind),
    }
}

/// No clock, no log.
impl Hooks for () {}

/// Serve requests on `io` until the peer closes, the connection must close, or IO fails.
///
/// `conn` carries the buffers and limits; it is [`Connection::reset`] first, so one
/// `Connection` can serve one transport after another.
pub fn serve<T, A, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: Handler + ?Sized,
{
    serve_with_hooks(io, conn, app, &mut ())
}

/// [`serve`], with a clock for read deadlines and a report of each request.
pub fn serve_with_hooks<T, A, O, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    hooks: &mut O,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: Handler + ?Sized,
    O: Hooks + ?Sized,
{
    drive::<T, A, O, H, true>(io, conn, app, hooks)
}

/// [`serve_with_hooks`] without streaming: every request body is taken whole in the receive
/// buffer (413 if it cannot fit) and every response is staged in the transmit buffer (a
/// handler that tries to stream gets [`crate::StreamError::Unsupported`], and a response
/// that outgrows the buffer becomes a 500). None of the streaming code is linked: the choice
/// for firmware that serves small pages and forms and counts its flash.
pub fn serve_buffered<T, A, O, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    hooks: &mut O,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: Handler + ?Sized,
    O: Hooks + ?Sized,
{
    drive::<T, A, O, H, false>(io, conn, app, hooks)
}

/// The driver loop; `STREAM`: lend the transport to handlers (streamed bodies and responses).
fn drive<T, A, O, const H: usize, const STREAM: bool>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    hooks: &mut O,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: Handler + ?Sized,
    O: Hooks + ?Sized,
{
    conn.reset();
    let mut answered = false;
    loop {
        if hooks.stopping() || !hooks.keep_alive() {
            conn.stop_keep_alive();
        }
        let next = if STREAM {
            conn.step()
        } else {
            conn.step_staged()
        };
        let action = match next {
            Next::Action(action) => action,
            Next::Request(pending) if STREAM => {
                hooks.head_received();
                let mut wire = DriverWire {
                    deadlines: ReadDeadlines::new(),
                    io: &mut *io,
                    hooks: &mut *hooks,
                };
                pending.handle_with(app, &mut wire)
            }
            Next::Request(pending) => {
                hooks.head_received();
                pending.handle(app)
            }
        };
        match action {
            Action::Read => {
                let was_idle = conn.is_idle();
                if was_idle && hooks.give_way(answered) {
                    return Ok(());
                }
                let mut deadline = None;
                if let Some(now) = hooks.now_ms() {
                    let due = conn.read_deadline(now, &hooks.timeouts());
                    if due <= now {
                        conn.timed_out();
                        continue;
                    }
                    hooks.set_read_timeout(due - now);
                    deadline = Some(due);
                }
                hooks.will_read(was_idle);
                match io.read(conn.read_buf()) {
                    Ok(n) => {
                        conn.received(n);
                        if was_idle && n > 0 {
                            hooks.request_started();
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::TimedOut => {
                        // A transport that wakes before the deadline (to let the hooks check
                        // for shutdown) has not timed out yet.
                        if !before(deadline, hooks.now_ms()) {
                            conn.timed_out();
                        }
                    }
                    Err(e) => return Err(ServeError::Io(e)),
                }
            }
            Action::Write(t) => {
                io.write_all(t.head).map_err(ServeError::Io)?;
                io.write_all(t.body).map_err(ServeError::Io)?;
                io.flush().map_err(ServeError::Io)?;
                if let Some(exchange) = &t.exchange {
                    answered = true;
                    crate::log::exchange(exchange);
                    hooks.responded(exchange);
                    if let Some(e) = exchange.error {
                        return Err(ServeError::Protocol(e));
                    }
                }
            }
            Action::Close => return Ok(()),
        }
    }
}
