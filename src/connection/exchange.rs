//! The exchange half of the state machine: a request handed out by [`Connection::step`](super::Connection::step)
//! ([`Pending`]), and while its handler runs, the link to the driver's [`Wire`] through which
//! a streamed request body is read (decoded here) and a response is sent ([`Open`], [`Link`]).
//! When the handler is done, the connection moves past the request, or closes if the body
//! was left unread and is not all here, or the link broke.
//!
//! Which handler runs, and how, is the handler layer's business (`crate::handler`).

use core::task::{Context, Poll};

use super::body_in::{BodyIn, Decoding};
use super::reading::{chunked_progress, wait_for_more};
use super::{fail, Action, Cursor, Exchange, State, Transmit, CONTINUE};
use crate::error::Error;
use crate::request::{HeadScanner, Limits, Request};
use crate::response::{Outgoing, Responded, Responder, ResponseContext};
use crate::stream::{Channel, StreamError, Wire};

/// What [`Connection::step`](super::Connection::step) found.
#[derive(Debug)]
pub enum Next<'c> {
    /// Something for the driver to do.
    Action(Action<'c>),
    /// A request: hand it to a handler with [`Pending::handle_with`] (or [`Pending::handle`]
    /// or [`Pending::handle_async`]), then do the action that returns.
    Request(Pending<'c>),
}

/// A body that had not all arrived with its head.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unread {
    /// Body bytes decoded at the front of the buffer after the head (chunked).
    pub(super) decoded: usize,
    /// Bytes received after the head (decoded ones included).
    pub(super) received: usize,
    pub(super) decoding: Decoding,
    pub(super) expect_continue: bool,
}

/// A request waiting for its handler: whole, or with its body still to come. Handling it
/// stages (or streams) the response and moves the connection past the request; dropping it
/// unhandled leaves the request to be parsed again.
#[derive(Debug)]
pub struct Pending<'c> {
    pub(super) request: Request<'c>,
    pub(super) ctx: ResponseContext,
    pub(super) tx: &'c mut [u8],
    /// Head and body bytes of this request, consumed once it is answered.
    pub(super) consumed: usize,
    pub(super) head_len: usize,
    pub(super) cursor: &'c mut Cursor,
    pub(super) limits: &'c Limits,
    /// The receive buffer after the head and the whole body (all of it after the head when
    /// the body has not all arrived).
    pub(super) rest: &'c mut [u8],
    /// Bytes received into `rest` (after the whole body): what a connection upgraded to
    /// another protocol reads first.
    pub(super) rest_received: usize,
    pub(super) unread: Option<Unread>,
}

impl<'c> Pending<'c> {
    /// The request.
    pub fn request(&self) -> &Request<'c> {
        &self.request
    }

    /// Whether the body has not all arrived with the head: the handler may take it as a
    /// stream (see [`crate::Handler::stream_limit`]).
    pub fn body_to_come(&self) -> bool {
        self.unread.is_some()
    }

    /// Whether the request has a body, here or to come: only then does a route's body limit
    /// ([`crate::Handler::stream_limit`]) matter.
    pub fn has_body(&self) -> bool {
        self.unread.is_some() || !self.request.body().is_empty()
    }

    /// 413 for a body that came whole but is larger than the route's `limit`: the same
    /// answer it gets when it arrives after its head.
    fn over_limit(self, limit: Option<u64>) -> Result<Self, Action<'c>> {
        match limit {
            Some(limit) if self.unread.is_none() && self.request.body().len() as u64 > limit => {
                let request = Some(&self.request);
                Err(fail(
                    &mut self.cursor.state,
                    self.tx,
                    Error::BodyTooLarge,
                    request,
                ))
            }
            _ => Ok(self),
        }
    }

    /// Run `handle` on the request without a driver: a body that has not all arrived is
    /// waited for in the receive buffer (413 if it cannot fit), and a streamed response must
    /// fit the transmit buffer.
    pub(crate) fn run_staged(
        self,
        limit: Option<u64>,
        handle: impl FnOnce(&Request<'c>, Responder<'c, '_>) -> Responded,
    ) -> Action<'c> {
        if self.unread.is_some() {
            return self.buffer_body();
        }
        let pending = match self.over_limit(limit) {
            Ok(pending) => pending,
            Err(action) => return action,
        };
        let mut out = Outgoing {
            request_body: pending.request.body(),
            ..Outgoing::NONE
        };
        let _: Responded = handle(
            &pending.request,
            Responder::new(&mut *pending.tx, &mut out, pending.ctx),
        );
        pending.finish(out, None)
    }

    /// Begin the exchange: with a body still to come, stream it to a handler that takes one
    /// up to `limit` (413 at once for a larger declared length), else wait for it in the
    /// buffer (the returned action).
    pub(crate) fn open<'w>(
        self,
        limit: Option<u64>,
        wire: &'w mut dyn Wire,
    ) -> Result<Open<'c, 'w>, Action<'c>> {
        wire.request_started_at(self.cursor.request_started_ms);
        self.over_limit(limit)?.open_within(limit, wire)
    }

    /// [`Pending::open`] once a body that came whole is known to be within the limit.
    fn open_within<'w>(
        self,
        limit: Option<u64>,
        wire: &'w mut dyn Wire,
    ) -> Result<Open<'c, 'w>, Action<'c>> {
        let streamed = match (self.unread, limit) {
            (None, _) => None,
            (Some(_), None) => return Err(self.buffer_body()),
            (Some(unread), Some(limit)) => {
                let limit = limit.min(self.limits.max_body);
                // No room after the head to read a body into (the head fills the buffer):
                // the body cannot be received.
                let no_room = self.rest.is_empty();
                let too_large = match unread.decoding {
                    Decoding::Length(n) => n > limit,
                    Decoding::Broken { data, .. } => data > limit,
                    _ => false,
                };
                if let (Decoding::Broken { error, .. }, false) = (unread.decoding, too_large) {
                    let request = Some(&self.request);
                    return Err(fail(&mut self.cursor.state, self.tx, error, request));
                }
                if no_room || too_large {
                    // Refused before the client sends it (no 100 Continue).
                    let request = Some(&self.request);
                    return Err(fail(
                        &mut self.cursor.state,
                        self.tx,
                        Error::BodyTooLarge,
                        request,
                    ));
                }
                Some((unread, limit))
            }
        };
        let Pending {
            request,
            ctx,
            tx,
            consumed,
            head_len,
            cursor,
            rest,
            rest_received,
            ..
        } = self;
        let (body, spare) = match streamed {
            Some((unread, limit)) => (
                Some(BodyIn::new(
                    rest,
                    unread.decoded,
                    unread.received,
                    unread.decoding,
                    limit,
                )),
                None,
            ),
            None => (None, Some((rest, rest_received))),
        };
        Ok(Open {
            request,
            ctx,
            tx,
            consumed,
            head_len,
            cursor,
            out: Outgoing::NONE,
            link: Link {
                wire,
                body,
                spare,
                upgraded: false,
                send_continue: streamed.is_some_and(|(unread, _)| unread.expect_continue),
                continue_sent: 0,
                broken: false,
            },
        })
    }

    /// Wait for the rest of the body in the receive buffer (today's path for handlers that
    /// take `req.body()` whole): 413 if it cannot fit.
    fn buffer_body(self) -> Action<'c> {
        match self.unread {
            Some(unread) => buffer(
                self.cursor,
                self.tx,
                self.limits,
                self.head_len,
                self.rest.len(),
                unread,
                &self.request,
            ),
            None => Action::Read,
        }
    }

    /// Move past the request and hand out its response.
    fn finish(self, out: Outgoing<'c>, skipped: Option<(usize, usize)>) -> Action<'c> {
        Pending::conclude(
            self.request,
            self.tx,
            self.cursor,
            self.consumed,
            out,
            skipped,
        )
    }

    /// Move past the request (its `consumed` bytes, or to the bytes `skipped` leaves after a
    /// streamed body) and hand out its response.
    fn conclude(
        request: Request<'c>,
        tx: &'c mut [u8],
        cursor: &'c mut Cursor,
        consumed: usize,
        out: Outgoing<'c>,
        skipped: Option<(usize, usize)>,
    ) -> Action<'c> {
        match skipped {
            Some((start, end)) => {
                let base = cursor.start;
                cursor.start = base + start;
                cursor.filled = base + end;
            }
            None => cursor.start += consumed,
        }
        cursor.scanner = HeadScanner::new();
        cursor.empty_lines = 0;
        cursor.request_started_ms = None;
        cursor.idle_since_ms = None;
        let nothing = out.staged == 0 && !out.streamed;
        cursor.state = if out.close || nothing {
            State::Closing
        } else {
            State::Head
        };
        if nothing {
            // Not even a 500 fit the transmit buffer.
            return Action::Close;
        }
        Action::Write(Transmit {
            head: &tx[..out.staged],
            body: out.body,
            exchange: Some(Exchange {
                method: Some(request.method()),
                path: request.path(),
                status: out.status,
                error: out.error,
                failure: out.failure,
                close: out.close,
            }),
        })
    }
}

/// Wait for the rest of a body in the receive buffer (`room` bytes after its head): 413 if
/// it cannot fit, else the reading half's body state and a read (or `100 Continue`).
pub(super) fn buffer<'c>(
    cursor: &'c mut Cursor,
    tx: &'c mut [u8],
    limits: &Limits,
    head_len: usize,
    room: usize,
    unread: Unread,
    request: &Request<'c>,
) -> Action<'c> {
    let request = Some(request);
    match unread.decoding {
        Decoding::Length(n) => {
            if n > limits.max_body || n > room as u64 {
                return fail(&mut cursor.state, tx, Error::BodyTooLarge, request);
            }
            cursor.state = State::Body {
                head_len,
                // Fits the buffer, so a usize.
                body_len: n as usize,
                send_continue: unread.expect_continue,
            };
        }
        Decoding::Chunked(decoder) => {
            let (used, capacity) = (head_len + unread.received, head_len + room);
            match chunked_progress(limits, unread.decoded, false, used, capacity) {
                Ok(_) => {
                    cursor.state = State::Chunked {
                        head_len,
                        decoded: unread.decoded,
                        decoder,
                        send_continue: unread.expect_continue,
                    }
                }
                Err(e) => return fail(&mut cursor.state, tx, e, request),
            }
        }
        Decoding::Broken { error, data } => {
            let error = if data > limits.max_body {
                Error::BodyTooLarge
            } else {
                error
            };
            return fail(&mut cursor.state, tx, error, request);
        }
        Decoding::Done | Decoding::Raw => {}
    }
    wait_for_more(cursor, tx)
}

/// An exchange under way: the request, the driver's link, and the response's state.
pub(crate) struct Open<'c, 'w> {
    request: Request<'c>,
    ctx: ResponseContext,
    tx: &'c mut [u8],
    consumed: usize,
    head_len: usize,
    cursor: &'c mut Cursor,
    out: Outgoing<'c>,
    link: Link<'c, 'w>,
}

impl<'c, 'w> Open<'c, 'w> {
    /// The request and what the handler answers through, borrowed together.
    pub(crate) fn parts(&mut self) -> (&Request<'c>, Responder<'c, '_>) {
        self.out.request_body = self.request.body();
        let responder = Responder::linked(self.tx, &mut self.out, self.ctx, &mut self.link);
        (&self.request, responder)
    }

    /// Move past the request (after a streamed body: to what followed it, if all of it is
    /// here; else close) and hand out the response.
    pub(crate) fn close(self) -> Action<'c> {
        let Open {
            request,
            tx,
            consumed,
            head_len,
            cursor,
            mut out,
            mut link,
            ..
        } = self;
        let skipped = match &mut link.body {
            // Another protocol had the connection: it ends with it.
            Some(_) if link.upgraded => {
                out.close = true;
                None
            }
            Some(body) => {
                let done = body.skip_received() && !link.broken;
                out.close |= !done;
                let leftover = body.leftover();
                Some((head_len + leftover.start, head_len + leftover.end))
            }
            None => {
                out.close |= link.broken;
                None
            }
        };
        Pending::conclude(request, tx, cursor, consumed, out, skipped)
    }
}

/// The core's side of a driver's [`Wire`] while a handler runs: the request body decoded in
/// the receive buffer, `100 Continue` on the first read that needs the peer, and the raw
/// output.
struct Link<'x, 'w> {
    wire: &'w mut dyn Wire,
    body: Option<BodyIn<'x>>,
    /// Without a streamed body: the receive buffer after the request and how much of it has
    /// arrived, for an upgrade to read from.
    spare: Option<(&'x mut [u8], usize)>,
    /// The connection carries another protocol now: `body` is its raw input.
    upgraded: bool,
    send_continue: bool,
    /// Bytes of `100 Continue` sent so far.
    continue_sent: usize,
    /// The transport failed or the body broke its framing: the connection must close.
    broken: bool,
}

impl Channel for Link<'_, '_> {
    fn is_blocking(&self) -> bool {
        self.wire.is_blocking()
    }

    fn poll_fill_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let Some(body) = self.body.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        loop {
            if let Err(e) = body.decode() {
                self.broken = true;
                return Poll::Ready(Err(StreamError::Body(e)));
            }
            if !body.available().is_empty() || body.is_complete() {
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
            match self.wire.poll_read(cx, body.read_space()) {
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
