//! Drivers: thin loops that move bytes between a transport and a [`crate::Connection`]:
//! [`blocking`] over `embedded_io::{Read, Write}`, `asynch` (feature `async`) over
//! `embedded_io_async`. Both take the same [`Hooks`] and stop with the same [`ServeError`];
//! a driver of your own is written against [`Action`], [`Transmit`], [`Next`], [`Pending`]
//! and [`Wire`].
//!
//! Owns: moving bytes, waiting (a transport's timeout, a timer), and the hooks that bring a
//! clock, a log and shutdown in. Never does: protocol decisions (the connection makes them:
//! if the two drivers ever need different fixes, the core is wrong), or naming the
//! application layer.

pub use crate::connection::{Action, Next, Pending, Transmit, Wire};

use crate::connection::{Exchange, Timeouts};
use crate::error::{Error, StreamError};

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub mod asynch;
pub mod blocking;
#[cfg(feature = "embassy-net")]
#[cfg_attr(docsrs, doc(cfg(feature = "embassy-net")))]
pub mod embassy_net;
#[cfg(feature = "smoltcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smoltcp")))]
pub mod smoltcp;

/// Why a driver's `serve` stopped, other than the peer closing after a complete exchange.
///
/// IO and protocol errors stay apart: a protocol error has already been answered with its
/// status when it is returned here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServeError<E> {
    /// The transport failed.
    Io(E),
    /// The peer sent something unacceptable; it was told so and the connection closed.
    Protocol(Error),
    /// The peer did not take a response within the write timeout (drivers that time writes
    /// themselves; a socket's own timeout surfaces as [`ServeError::Io`]).
    WriteTimedOut,
}

impl<E: core::fmt::Debug> core::fmt::Display for ServeError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ServeError::Io(e) => write!(f, "transport error: {e:?}"),
            ServeError::Protocol(e) => write!(f, "protocol error: {e}"),
            ServeError::WriteTimedOut => f.write_str("write timed out"),
        }
    }
}

impl<E: core::fmt::Debug> core::error::Error for ServeError<E> {}

/// Hooks for a driver's owner, shared by both drivers: the timeouts, a log of each exchange,
/// shutdown; and for the blocking driver a clock and the transport's read timeout (the async
/// driver's clock is its [`asynch::Timer`]).
///
/// The core reads no clock; a driver with one brings time in, and the connection turns it
/// into deadlines ([`crate::Connection::read_deadline`]).
pub trait Hooks {
    /// Milliseconds from any fixed start, if there is a clock; `None` (the default) disables
    /// read deadlines (the transport's own timeouts still count). Blocking driver only.
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
    /// The request's head arrived whole (and, for a driver that does not stream, its body):
    /// its handler runs next. A host under load uses it to tell requests that progress from
    /// connections still waiting for a head.
    fn head_received(&mut self) {}
    /// A response was written (for a streamed one: finished, or given up).
    fn responded(&mut self, _exchange: &Exchange<'_>) {}
    /// The server is stopping: open streams end at their next wait, and every response from
    /// now on says `Connection: close`.
    fn stopping(&self) -> bool {
        false
    }
    /// Whether the next response may keep the connection open: `false` makes it say
    /// `Connection: close` (and the connection close after it) without ending streams, e.g.
    /// while other clients wait for a place. Checked before each request.
    fn keep_alive(&self) -> bool {
        true
    }
    /// A connection idle between requests should close now (a host that stops, a pool that
    /// needs its place); `answered`: it has served a request. Checked every
    /// [`Hooks::check_interval_ms`].
    fn give_way(&self, _answered: bool) -> bool {
        false
    }
    /// How often a waiting connection wakes to check [`Hooks::give_way`] and
    /// [`Hooks::stopping`]; `None` (the default): only at its deadlines.
    fn check_interval_ms(&self) -> Option<u64> {
        None
    }
    /// Blocking driver: a handler streaming a response waits `ms` milliseconds
    /// ([`crate::ResponseStream::sleep_ms`]). Fail with [`StreamError::ShuttingDown`] when
    /// the server stops, so that open streams end. The default spins on [`Hooks::now_ms`]
    /// (a firmware would rather sleep until an interrupt) and is unsupported without a clock.
    fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        let start = self.now_ms().ok_or(StreamError::Unsupported)?;
        while self.now_ms().unwrap_or(u64::MAX) < start.saturating_add(ms) {
            core::hint::spin_loop();
        }
        Ok(())
    }
}

/// Timeouts alone are hooks: those deadlines, no log.
impl Hooks for Timeouts {
    fn timeouts(&self) -> Timeouts {
        *self
    }
}
