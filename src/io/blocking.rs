//! The blocking driver: one connection over any `embedded_io::{Read, Write}` transport (a
//! TCP socket, a UART, a `std::net::TcpStream` through [`crate::std_server::StdIo`]).
//!
//! A transport's read that fails with [`ErrorKind::TimedOut`] is taken as the peer being too
//! slow: mid-request that is a 408, between requests a close.

use embedded_io::{Error as _, ErrorKind, Read, Write};

use crate::connection::{Action, Connection, Exchange};
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

/// Hooks for a driver's owner: to set read deadlines, log each exchange and time it.
///
/// The core reads no clock; these hooks are where a driver with one brings time in.
pub trait Observer {
    /// About to read; `idle` means no byte of a next request has arrived. Return `false` if
    /// the peer's time is already up: the driver then acts as on a read timeout (408 mid-request,
    /// a silent close when idle) without reading.
    fn before_read(&mut self, _idle: bool) -> bool {
        true
    }
    /// The first bytes of a new request arrived.
    fn request_started(&mut self) {}
    /// A response was written.
    fn responded(&mut self, _exchange: &Exchange<'_>) {}
}

/// The observer that observes nothing.
impl Observer for () {}

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
    serve_observed(io, conn, app, &mut ())
}

/// [`serve`], reporting each request to `observer`.
pub fn serve_observed<T, A, O, const H: usize>(
    io: &mut T,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    observer: &mut O,
) -> Result<(), ServeError<T::Error>>
where
    T: Read + Write + ?Sized,
    A: Handler + ?Sized,
    O: Observer + ?Sized,
{
    conn.reset();
    loop {
        match conn.poll(app) {
            Action::Read => {
                let was_idle = conn.is_idle();
                if !observer.before_read(was_idle) {
                    conn.timed_out();
                    continue;
                }
                match io.read(conn.read_buf()) {
                    Ok(n) => {
                        conn.received(n);
                        if was_idle && n > 0 {
                            observer.request_started();
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
                    observer.responded(exchange);
                    if let Some(e) = exchange.error {
                        return Err(ServeError::Protocol(e));
                    }
                }
            }
            Action::Close => return Ok(()),
        }
    }
}
