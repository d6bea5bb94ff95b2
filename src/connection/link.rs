//! The link between the core and a driver while a handler runs: the driver's side ([`Wire`],
//! the raw transport it lends), the handler layer's side ([`Channel`], what its readers and
//! writers reach the driver through) and the core's [`Link`] between them, which decodes a
//! streamed request body, sends `100 Continue` on the first read that needs the peer, and
//! passes the output through.
//!
//! The deadline arithmetic of reads on a lent transport ([`ReadDeadlines`]) is here once, for
//! both drivers: they keep only how they wait.

use core::cell::Cell;
use core::task::{Context, Poll};

use super::incoming::{BodyIn, Decoding};
use super::Timeouts;
use crate::error::{Error, StreamError};
use crate::wire::response_head::CONTINUE;

/// The raw transport of one exchange, as a driver lends it to the core while a handler runs
/// ([`crate::io::Pending::handle_with`], [`crate::io::Pending::handle_async`]). The core decides
/// every byte; the wire only moves them and applies the driver's deadlines.
///
/// The methods poll, so that one implementation in the core serves both drivers: the
/// blocking driver's wire does its IO at once and is always `Ready`; the async driver's wire
/// polls its transport (whose reads and writes must be cancel-safe, as `embedded-io-async`
/// asks; embassy-net's sockets and the tokio adapter are) and its timer.
pub trait Wire {
    /// Whether every poll is ready at once (a blocking driver): only then may a blocking
    /// handler stream. On the async driver, blocking calls fail with
    /// [`StreamError::Unsupported`].
    fn is_blocking(&self) -> bool;
    /// When the request's first bytes were seen, in the driver's milliseconds (what the
    /// driver's [`crate::Connection::read_deadline`] calls recorded), told before the handler
    /// runs: the request deadline counts from there while the body is read. `None` if the
    /// driver asked for no deadline.
    fn request_started_at(&mut self, started_ms: Option<u64>);
    /// Read what has arrived into `buf` (at least one byte); `Ok(0)` at end of stream.
    /// Fails with [`StreamError::TimedOut`] at the request deadline.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, StreamError>>;
    /// Write some of `bytes` (at least one) and push them toward the peer; how many. The
    /// caller passes what is left of a piece until all of it is written; a piece not out
    /// whole within the driver's write timeout, counted from its first call, fails with
    /// [`StreamError::TimedOut`] (so a peer taking a few bytes now and then is no progress).
    fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<Result<usize, StreamError>>;
    /// The connection now carries another protocol (a `101` response was sent): reads wait
    /// without the request deadline, until `read_deadline_ms` on the driver's clock if it is
    /// given (then [`StreamError::TimedOut`]: the protocol asked to wait no longer) or as
    /// long as the peer stays connected, and fail with [`StreamError::ShuttingDown`] when
    /// the server stops. Called again to change the deadline. The default does nothing (the
    /// request deadline keeps counting).
    fn upgraded(&mut self, _read_deadline_ms: Option<u64>) {}
    /// Push what [`Wire::poll_write`] took toward the peer now, for a transport that holds
    /// written bytes back (the thread server gathers them into larger writes). A blocking
    /// driver also flushes before it reads or sleeps. The default: written bytes are already
    /// on their way.
    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        Poll::Ready(Ok(()))
    }
    /// The driver's clock in milliseconds, if it has one.
    fn now_ms(&mut self) -> Option<u64>;
    /// Complete at `deadline_ms` on the driver's clock; [`StreamError::ShuttingDown`]
    /// (possibly early) when the server is stopping; [`StreamError::Unsupported`] without a
    /// clock.
    fn poll_sleep_until(
        &mut self,
        cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>>;
}

/// Not known yet, or no deadline: the largest time.
const NEVER: u64 = u64::MAX;

/// When a read on a transport lent to a handler must end, from the times the driver passes
/// in: the request's deadline while its body is read (counted from the request's first
/// bytes, or from the first body read if the driver did not say), or, once the connection is
/// upgraded, the new protocol's own deadline and the server's stop. Both drivers ask it
/// before each read and keep only how they wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadDeadlines {
    /// When the request's first bytes were seen ([`NEVER`]: not known yet).
    started_ms: u64,
    /// Another protocol has the connection: reads wait without the request deadline.
    upgraded: bool,
    /// An upgraded connection's read deadline ([`NEVER`]: as long as the peer stays).
    until_ms: u64,
    /// Since when the current read of a streamed body has waited ([`NEVER`]: no read
    /// waiting), for the idle timeout between pieces.
    waiting_ms: u64,
}

/// How the next read on a lent transport may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadWait {
    /// At most this many milliseconds (`u64::MAX`: no limit); `None` without a clock.
    pub timeout_ms: Option<u64>,
    /// A transport read that times out is no answer yet: ask again (the deadline, or the stop
    /// check, decides).
    pub recheck: bool,
}

impl ReadDeadlines {
    /// Before the handler runs: nothing known.
    pub(crate) const fn new() -> Self {
        ReadDeadlines {
            started_ms: NEVER,
            upgraded: false,
            until_ms: NEVER,
            waiting_ms: NEVER,
        }
    }

    /// See [`Wire::request_started_at`].
    pub(crate) fn request_started_at(&mut self, started_ms: Option<u64>) {
        self.started_ms = started_ms.unwrap_or(NEVER);
    }

    /// See [`Wire::upgraded`].
    pub(crate) fn upgraded(&mut self, read_deadline_ms: Option<u64>) {
        self.upgraded = true;
        self.until_ms = read_deadline_ms.unwrap_or(NEVER);
    }

    /// A read ended (with bytes, the end of the stream, or an error): the next one waits
    /// afresh.
    pub(crate) fn read_done(&mut self) {
        self.waiting_ms = NEVER;
    }

    /// How the next read may wait at `now_ms` (`None`: the driver has no clock), or why it
    /// must not: [`StreamError::TimedOut`] past the deadline, [`StreamError::ShuttingDown`]
    /// when the server of an upgraded connection is `stopping`. An upgraded connection wakes
    /// every `check_ms` (if given) to look at `stopping` again; a body read waits
    /// `timeouts.body_idle_ms` from when it began waiting, or what is left of `request_ms`
    /// from the request's start.
    pub(crate) fn next_read(
        &mut self,
        now_ms: Option<u64>,
        timeouts: &Timeouts,
        stopping: bool,
        check_ms: Option<u64>,
    ) -> Result<ReadWait, StreamError> {
        if self.upgraded {
            if stopping {
                return Err(StreamError::ShuttingDown);
            }
            let mut wait = check_ms.unwrap_or(u64::MAX);
            if let Some(now) = now_ms.filter(|_| self.until_ms != NEVER) {
                if self.until_ms <= now {
                    return Err(StreamError::TimedOut);
                }
                wait = wait.min(self.until_ms - now);
            }
            return Ok(ReadWait {
                timeout_ms: Some(wait),
                recheck: wait < u64::MAX,
            });
        }
        let Some(now) = now_ms else {
            return Ok(ReadWait {
                timeout_ms: None,
                recheck: false,
            });
        };
        let due = match timeouts.body_idle_ms {
            Some(idle) => {
                if self.waiting_ms == NEVER {
                    self.waiting_ms = now;
                }
                self.waiting_ms.saturating_add(idle)
            }
            None => {
                if self.started_ms == NEVER {
                    self.started_ms = now;
                }
                self.started_ms.saturating_add(timeouts.request_ms)
            }
        };
        if due <= now {
            return Err(StreamError::TimedOut);
        }
        Ok(ReadWait {
            timeout_ms: Some(due - now),
            recheck: true,
        })
    }
}

/// What a [`crate::Responder`] reaches the driver through while a handler runs: the request
/// body's bytes (decoded by the core) and the raw output. Implemented by the core's link.
pub(crate) trait Channel {
    /// A blocking method of the handler layer is about to move bytes: whether it can (the
    /// driver is blocking, see [`Wire::is_blocking`]). On the async driver it cannot, and the
    /// link remembers that a blocking handler tried, for the response and the log line.
    fn blocking_call(&self) -> bool;
    /// Make at least `wanted` decoded body bytes available, reading more while fewer are
    /// here (the available ones stay, and what is read is decoded after them); fewer at the
    /// end of the body, or when the receive buffer is full of available bytes.
    fn poll_fill_body(
        &mut self,
        cx: &mut Context<'_>,
        wanted: usize,
    ) -> Poll<Result<(), StreamError>>;
    /// Hand the connection to another protocol (after a `101` response): from now on the
    /// body is every byte the peer sends until it closes, starting with those already
    /// received after the request. False if the request has a body that streams (its end is
    /// not known) or the driver has no way to move bytes.
    fn upgrade(&mut self) -> bool;
    /// The decoded body bytes not taken yet.
    fn available_body(&self) -> &[u8];
    /// On an upgraded connection: reads wait until this deadline (see [`Wire::upgraded`]).
    fn set_read_deadline(&mut self, deadline_ms: Option<u64>);
    /// [`Channel::available_body`], to decode in place.
    #[cfg(feature = "ws")]
    fn available_body_mut(&mut self) -> &mut [u8];
    /// The handler took `n` bytes of [`Channel::available_body`].
    fn consume_body(&mut self, n: usize);
    /// Whether the whole body is here (decoded, perhaps not taken), so the connection can
    /// go on after the response without reading more.
    fn body_complete(&mut self) -> bool;
    /// Send some of `bytes` as they are.
    fn poll_send(&mut self, cx: &mut Context<'_>, bytes: &[u8])
        -> Poll<Result<usize, StreamError>>;
    /// Push what was sent toward the peer now ([`Wire::poll_flush`]).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>>;
    /// The driver's clock.
    fn now_ms(&mut self) -> Option<u64>;
    /// Wait until `deadline_ms`, unless the server stops.
    fn poll_sleep_until(
        &mut self,
        cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>>;
}

/// The core's side of a driver's [`Wire`] while a handler runs: the request body decoded in
/// the receive buffer, `100 Continue` on the first read that needs the peer, and the raw
/// output.
pub(super) struct Link<'x, 'w> {
    pub(super) wire: &'w mut dyn Wire,
    pub(super) body: Option<BodyIn<'x>>,
    /// Without a streamed body: the receive buffer after the request and how much of it has
    /// arrived, for an upgrade to read from.
    pub(super) spare: Option<(&'x mut [u8], usize)>,
    /// The connection carries another protocol now: `body` is its raw input.
    pub(super) upgraded: bool,
    pub(super) send_continue: bool,
    /// Bytes of `100 Continue` sent so far.
    pub(super) continue_sent: usize,
    /// The transport failed or the body broke its framing: the connection must close.
    pub(super) broken: bool,
    /// Some of the response went out through the link.
    pub(super) sent: bool,
    /// A blocking method was called on the async driver.
    pub(super) blocked: Cell<bool>,
}

impl Channel for Link<'_, '_> {
    fn blocking_call(&self) -> bool {
        let blocking = self.wire.is_blocking();
        if !blocking {
            self.blocked.set(true);
        }
        blocking
    }

    fn poll_fill_body(
        &mut self,
        cx: &mut Context<'_>,
        wanted: usize,
    ) -> Poll<Result<(), StreamError>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            if let Err(e) = body.decode() {
                self.broken = true;
                return Poll::Ready(Err(StreamError::Body(e)));
            }
            if body.available().len() >= wanted || body.is_complete() {
                return Poll::Ready(Ok(()));
            }
            while self.send_continue && self.continue_sent < CONTINUE.len() {
                match self.wire.poll_write(cx, &CONTINUE[self.continue_sent..]) {
                    Poll::Ready(Ok(n)) => self.continue_sent += n.max(1),
                    Poll::Ready(Err(e)) => {
                        self.broken = true;
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            let space = body.read_space();
            if space.is_empty() {
                // Every byte of the buffer is available and not taken: nowhere to read to.
                return Poll::Ready(Ok(()));
            }
            match self.wire.poll_read(cx, space) {
                Poll::Ready(Ok(0)) if body.end_of_stream() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(0)) => {
                    self.broken = true;
                    return Poll::Ready(Err(StreamError::Body(Error::Incomplete)));
                }
                Poll::Ready(Ok(n)) => body.received(n),
                Poll::Ready(Err(e)) => {
                    self.broken = true;
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn upgrade(&mut self) -> bool {
        if self.upgraded || self.body.is_some() {
            return self.upgraded;
        }
        let Some((rest, received)) = self.spare.take() else {
            return false;
        };
        self.body = Some(BodyIn::new(rest, 0, received, Decoding::Raw, u64::MAX));
        self.upgraded = true;
        self.wire.upgraded(None);
        true
    }

    fn available_body(&self) -> &[u8] {
        self.body.as_ref().map_or(&[], BodyIn::available)
    }

    fn set_read_deadline(&mut self, deadline_ms: Option<u64>) {
        if self.upgraded {
            self.wire.upgraded(deadline_ms);
        }
    }

    #[cfg(feature = "ws")]
    fn available_body_mut(&mut self) -> &mut [u8] {
        self.body.as_mut().map_or(&mut [], BodyIn::available_mut)
    }

    fn consume_body(&mut self, n: usize) {
        if let Some(body) = self.body.as_mut() {
            body.consume(n);
        }
    }

    fn body_complete(&mut self) -> bool {
        match self.body.as_mut() {
            None => true,
            Some(body) => body.decode().is_ok() && body.is_complete(),
        }
    }

    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<Result<usize, StreamError>> {
        let result = self.wire.poll_write(cx, bytes);
        match result {
            Poll::Ready(Err(_)) => self.broken = true,
            Poll::Ready(Ok(n)) => self.sent |= n > 0,
            Poll::Pending => {}
        }
        result
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let result = self.wire.poll_flush(cx);
        if let Poll::Ready(Err(_)) = result {
            self.broken = true;
        }
        result
    }

    fn now_ms(&mut self) -> Option<u64> {
        self.wire.now_ms()
    }

    fn poll_sleep_until(
        &mut self,
        cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>> {
        self.wire.poll_sleep_until(cx, deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timeouts with this request deadline and no idle rule for bodies.
    fn request(ms: u64) -> Timeouts {
        Timeouts {
            request_ms: ms,
            body_idle_ms: None,
            ..Timeouts::DEFAULT
        }
    }

    #[test]
    fn a_streamed_body_waits_its_idle_timeout_for_each_piece_however_long_it_takes() {
        let idle = Timeouts {
            request_ms: 1_000,
            body_idle_ms: Some(300),
            ..Timeouts::DEFAULT
        };
        let mut d = ReadDeadlines::new();
        d.request_started_at(Some(0));
        // Long past the request deadline, each piece still has its own 300 ms.
        for start in [5_000u64, 10_000, 60_000] {
            assert_eq!(
                d.next_read(Some(start), &idle, false, None)
                    .unwrap()
                    .timeout_ms,
                Some(300)
            );
            // Asked again while the same read waits: what is left of it.
            assert_eq!(
                d.next_read(Some(start + 100), &idle, false, None)
                    .unwrap()
                    .timeout_ms,
                Some(200)
            );
            d.read_done();
        }
        // A read that waits its whole idle timeout: 408.
        d.next_read(Some(70_000), &idle, false, None).unwrap();
        assert_eq!(
            d.next_read(Some(70_300), &idle, false, None),
            Err(StreamError::TimedOut)
        );
    }

    #[test]
    fn a_body_read_has_what_is_left_of_the_request_deadline() {
        let mut d = ReadDeadlines::new();
        d.request_started_at(Some(100));
        let wait = d
            .next_read(Some(300), &request(1_000), true, Some(50))
            .unwrap();
        // Neither the stop nor the check interval matters to a body read.
        assert_eq!(
            wait,
            ReadWait {
                timeout_ms: Some(800),
                recheck: true
            }
        );
        assert_eq!(
            d.next_read(Some(1_100), &request(1_000), false, None),
            Err(StreamError::TimedOut)
        );
        // Unknown start: it counts from the first read; no clock: the transport's own wait.
        let mut d = ReadDeadlines::new();
        assert_eq!(
            d.next_read(Some(5), &request(10), false, None)
                .unwrap()
                .timeout_ms,
            Some(10)
        );
        assert_eq!(
            d.next_read(Some(9), &request(10), false, None)
                .unwrap()
                .timeout_ms,
            Some(6)
        );
        let wait = ReadDeadlines::new()
            .next_read(None, &request(10), false, None)
            .unwrap();
        assert_eq!(
            wait,
            ReadWait {
                timeout_ms: None,
                recheck: false
            }
        );
    }

    #[test]
    fn an_upgraded_read_waits_for_its_own_deadline_and_the_stop() {
        let mut d = ReadDeadlines::new();
        d.request_started_at(Some(0));
        d.upgraded(None);
        // No request deadline any more; wake to check for the stop, or never.
        let wait = d
            .next_read(Some(1_000_000), &request(10), false, Some(100))
            .unwrap();
        assert_eq!(
            wait,
            ReadWait {
                timeout_ms: Some(100),
                recheck: true
            }
        );
        let wait = d
            .next_read(Some(1_000_000), &request(10), false, None)
            .unwrap();
        assert_eq!(
            wait,
            ReadWait {
                timeout_ms: Some(u64::MAX),
                recheck: false
            }
        );
        assert_eq!(
            d.next_read(Some(0), &request(10), true, None),
            Err(StreamError::ShuttingDown)
        );
        d.upgraded(Some(500));
        assert_eq!(
            d.next_read(Some(450), &request(10), false, Some(100))
                .unwrap()
                .timeout_ms,
            Some(50)
        );
        assert_eq!(
            d.next_read(Some(500), &request(10), false, None),
            Err(StreamError::TimedOut)
        );
        // Without a clock the protocol's deadline cannot be told: the check interval alone.
        assert_eq!(
            d.next_read(None, &request(10), false, Some(100))
                .unwrap()
                .timeout_ms,
            Some(100)
        );
    }
}
