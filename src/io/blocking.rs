//! The blocking driver: one connection over any `embedded_io::{Read, Write}` transport (a
//! TCP socket, a UART, a `std::net::TcpStream` through [`crate::std_server::StdIo`]).
//!
//! A transport's read that fails with [`ErrorKind::TimedOut`] is taken as the peer being too
//! slow: mid-request that is a 408, between requests a close.

use embedded_io::{Error as _, ErrorKind, Read, Write};

use crate::connection::{Action, Connection, Exchange, Timeouts};
use crate::error::Error;
use crate::router::Handler;

/// Why [`serve`] stopped, other than the peer closing after a complete exchange.
///
/// IO and protocol errors stay apart: a protocol error has already been answered with its
/// status when it is returned here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeError<E> {
    /// The transport failed.
    Io(E),
    /// The peer sent something unacceptable; it was told so and the connection closed.
    Protocol(Error),
}

impl<E: core::fmt::Debug> core::fmt::Display for ServeError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServeError::Io(e) => write!(f, "transport error: {e:?}"),
            ServeError::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for ServeError<E> {}

/// Hooks for a driver's owner: a clock for read deadlines, and a log of each exchange.
///
/// The core reads no clock; a driver with one brings time in through [`Hooks::now_ms`], and
/// the connection turns it into deadlines ([`Connection::read_deadline`]).
pub trait Hooks {
    /// Milliseconds from any fixed start, if there is a clock; `None` (the default) disables
    /// read deadlines (the transport's own timeouts still count).
    fn now_ms(&mut self) -> Option<u64> {
        None
    }
    /// The timeouts to enforce with the clock.
    fn timeouts(&self) -> Timeouts {
        Timeouts::DEFAULT
    }
    /// The next read must complete within `ms` milliseconds: tell the transport (e.g. a
    /// socket's receive timeout). Its read must then fail with `ErrorKind::TimedOut`.
    fn set_read_timeout(&mut self, _ms: u64) {}
    /// The driver is about to read. `between_requests` is true when no byte of a next request
    /// has arrived, so that ending the connection now loses nothing: a transport that serves
    /// several peers in turn (a few TCP sockets on a microcontroller) may then fail the read
    /// with `ErrorKind::TimedOut` to give way, which closes the connection quietly.
    fn will_read(&mut self, _between_requests: bool) {}
    /// The first bytes of a new request arrived.
    fn request_started(&mut self) {}
    /// A response was written.
    fn responded(&mut self, _exchange: &Exchange<'_>) {}
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
    conn.reset();
    loop {
        match conn.poll(app) {
            Action::Read => {
                let was_idle = conn.is_idle();
                if let Some(now) = hooks.now_ms() {
                    let deadline = conn.read_deadline(now, &hooks.timeouts());
                    if deadline <= now {
                        conn.timed_out();
                        continue;
                    }
                    hooks.set_read_timeout(deadline - now);
                }
                hooks.will_read(was_idle);
                match io.read(conn.read_buf()) {
                    Ok(n) => {
                        conn.received(n);
                        if was_idle && n > 0 {
                            hooks.request_started();
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::TimedOut => conn.timed_out(),
                    Err(e) => return Err(ServeError::Io(e)),
                }
            }
            Action::Write(t) => {
                io.write_all(t.head).map_err(ServeError::Io)?;
                io.write_all(t.body).map_err(ServeError::Io)?;
                io.flush().map_err(ServeError::Io)?;
                if let Some(exchange) = &t.exchange {
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
