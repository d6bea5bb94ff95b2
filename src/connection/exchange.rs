//! Where the reading half hands over to the writing half: a complete head is parsed into a
//! request handed out by [`Connection::step`](super::Connection::step) ([`Pending`]); while
//! its handler runs, the exchange ([`Open`]) holds the request, the outbox the response is
//! written through, and the [`Link`] to the driver's [`Wire`] through which a streamed request
//! body is read and a response is sent. When the handler is done, the connection moves past
//! the request, or closes if the body was left unread and is not all here, or the link broke.
//!
//! Which handler runs, and how, is the handler layer's business (`crate::handler`).

use core::cell::Cell;

use super::incoming::{BodyIn, Decoding};
use super::link::{Link, Wire};
use super::reading::{buffer, decode_chunks, Unread};
use super::writing::{Outbox, Outgoing, ResponseContext, Sent};
use super::{fail, Action, Connection, Cursor, Exchange, Limits, State, Transmit};
use crate::error::{Error, Failure};
use crate::wire::body_in::{ChunkedDecoder, Framing};
use crate::wire::request_head::{parse_head, HeadScanner};
use crate::wire::{Method, Request};

/// What [`Connection::step`](super::Connection::step) found.
#[derive(Debug)]
pub enum Next<'c> {
    /// Something for the driver to do.
    Action(Action<'c>),
    /// A request: hand it to a handler with [`Pending::handle_with`] (or [`Pending::handle`]
    /// or [`Pending::handle_async`]), then do the action that returns.
    Request(Pending<'c>),
}

impl<const MAX_HEADERS: usize> Connection<'_, MAX_HEADERS> {
    /// A complete head of `head_len` bytes starts at `rx[start]`: validate it, and hand out
    /// the request: with its body once the body is here too (`body_len` if already known), or
    /// with the body still to come, for the handler to decide.
    pub(super) fn prepare(
        &mut self,
        head_len: usize,
        body_len: Option<usize>,
        may_stream: bool,
    ) -> Next<'_> {
        // Borrow fields one by one, and the buffer as head and body apart: the request borrows
        // the head for as long as the returned action lives, while the body may still be
        // decoded in place, and errors and waiting only touch `state` and `tx`.
        let Connection {
            rx,
            tx,
            limits,
            cursor,
        } = self;
        let request_start = cursor.start;
        let (before, after) = rx.split_at_mut(request_start + head_len);
        let head_bytes: &[u8] = &before[request_start..];
        let received = cursor.filled - request_start - head_len;
        let head = match parse_head::<MAX_HEADERS>(head_bytes, limits.max_target) {
            Ok(head) => head,
            Err(e) => return Next::Action(fail(&mut cursor.state, tx, e, None)),
        };
        let ctx = ResponseContext {
            head_only: head.request.method() == Method::Head,
            version: head.request.version(),
            keep_alive: head.keep_alive && !cursor.no_keep_alive,
        };
        let unread = |decoded, decoding| Unread {
            decoded,
            received,
            decoding,
            expect_continue: head.expect_continue,
        };
        let (body_len, unread) = match (body_len, head.framing) {
            (Some(n), _) => (n, None),
            (None, Framing::None) => (0, None),
            (None, Framing::Length(n)) => match usize::try_from(n) {
                // The fast path: the whole body came with the head.
                Ok(n) if n <= received && n as u64 <= limits.max_body => (n, None),
                _ => (0, Some(unread(0, Decoding::Length(n)))),
            },
            (None, Framing::Chunked) => {
                let mut decoder =
                    ChunkedDecoder::new(limits.max_chunk_extension, limits.max_trailers);
                match decode_chunks(&mut decoder, &mut after[..received], 0) {
                    // Which comes first in the stream, this error or a route's body limit,
                    // is for the handler layer to tell.
                    Err(error) if may_stream => {
                        let data = decoder.data_len();
                        (0, Some(unread(0, Decoding::Broken { error, data })))
                    }
                    Err(e) => {
                        let e = decoder.error_within(e, limits.max_body);
                        let request = Some(&head.request);
                        return Next::Action(fail(&mut cursor.state, tx, e, request));
                    }
                    Ok((decoded, removed)) => {
                        cursor.filled -= removed;
                        let received = received - removed;
                        if decoder.is_done() && decoded as u64 <= limits.max_body {
                            (decoded, None)
                        } else {
                            let mut unread = unread(decoded, Decoding::Chunked(decoder));
                            unread.received = received;
                            (0, Some(unread))
                        }
                    }
                }
            }
        };
        if let (Some(unread), false) = (unread, may_stream) {
            let room = after.len();
            let request = head.request;
            return Next::Action(buffer(cursor, tx, limits, head_len, room, unread, &request));
        }
        let rest_received = (cursor.filled - request_start - head_len).saturating_sub(body_len);
        let (body, rest) = after.split_at_mut(body_len);
        let body: &[u8] = body;
        Next::Request(Pending {
            request: head.request.with_body(body),
            ctx,
            tx,
            consumed: head_len + body_len,
            head_len,
            cursor,
            limits,
            rest,
            rest_received,
            unread,
        })
    }
}

/// A request waiting for its handler: whole, or with its body still to come. Handling it
/// stages (or streams) the response and moves the connection past the request; dropping it
/// unhandled leaves the request to be parsed again.
#[derive(Debug)]
pub struct Pending<'c> {
    request: Request<'c>,
    ctx: ResponseContext,
    tx: &'c mut [u8],
    /// Head and body bytes of this request, consumed once it is answered.
    consumed: usize,
    head_len: usize,
    cursor: &'c mut Cursor,
    limits: &'c Limits,
    /// The receive buffer after the head and the whole body (all of it after the head when
    /// the body has not all arrived).
    rest: &'c mut [u8],
    /// Bytes received into `rest` (after the whole body): what a connection upgraded to
    /// another protocol reads first.
    rest_received: usize,
    unread: Option<Unread>,
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
        handle: impl FnOnce(&Request<'c>, Outbox<'c, '_>),
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
        let outbox = Outbox {
            tx: &mut *pending.tx,
            out: &mut out,
            ctx: pending.ctx,
            link: None,
        };
        handle(&pending.request, outbox);
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
                sent: false,
                blocked: Cell::new(false),
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
        let nothing = matches!(out.sent, Sent::Nothing | Sent::Staged(0));
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
            head: &tx[..out.staged()],
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
    /// The request and the outbox the handler answers through, borrowed together.
    pub(crate) fn parts(&mut self) -> (&Request<'c>, Outbox<'c, '_>) {
        self.out.request_body = self.request.body();
        let outbox = Outbox {
            tx: self.tx,
            out: &mut self.out,
            ctx: self.ctx,
            link: Some(&mut self.link),
        };
        (&self.request, outbox)
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
        if link.blocked.get() && !link.sent {
            // A blocking handler tried to stream on the async driver: say so, in the
            // response too (the handler's own answer, if any, was written for a stream that
            // could not be).
            out = Outgoing::blocking_on_async(tx, out.error);
        } else if out.sent == Sent::Nothing {
            // The handler left without answering: its future was dropped half-way (an async
            // handler that awaited something else than the connection, polled on the
            // blocking driver). A failure already recorded (a stream's, an upgrade's, or a
            // 500 that did not fit) is the one the log gives.
            let failure = out.failure.or(Some(Failure::NoResponse));
            out = match link.sent {
                true => Outgoing {
                    sent: Sent::Streamed,
                    failure,
                    ..Outgoing::NONE
                },
                false => Outgoing::fallback_500(tx, failure),
            };
        }
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
