//! The reading half of the state machine: finding the end of a request head (however it is
//! split across reads), validating it, and waiting for a body that is taken whole, in the
//! receive buffer (Content-Length, or chunked and decoded in place). A body that is streamed
//! is read by the exchange half instead (`exchange.rs`, through `body_in.rs`).

use super::body_in::Decoding;
use super::exchange::{buffer, Next, Pending, Unread};
use super::{fail, Action, Connection, Cursor, State, Transmit, CONTINUE, MAX_EMPTY_LINES};
use crate::body::{ChunkedDecoder, Framing};
use crate::error::Error;
use crate::request::{parse_head, HeadScanner, Limits, Method, Scan, EMPTY_HEADER};
use crate::response::ResponseContext;

impl<const MAX_HEADERS: usize> Connection<'_, MAX_HEADERS> {
    /// Look for the end of the head; `Ok(None)` means more bytes are needed.
    pub(super) fn scan_head(&mut self) -> Result<Option<usize>, Error> {
        // RFC 9112 §2.2: ignore empty lines before a request line, but not endlessly: a
        // peer sending nothing but CRLFs would otherwise look idle forever.
        if self.cursor.scanner == HeadScanner::new() {
            while self.rx[self.cursor.start..self.cursor.filled].starts_with(b"\r\n") {
                self.cursor.start += 2;
                self.cursor.empty_lines += 1;
                if self.cursor.empty_lines > MAX_EMPTY_LINES {
                    return Err(Error::Malformed);
                }
            }
        }
        let pending = &self.rx[self.cursor.start..self.cursor.filled];
        match self.cursor.scanner.scan(pending)? {
            Scan::Complete(n) if n > self.limits.max_head => Err(Error::HeadTooLarge),
            Scan::Complete(n) => {
                // A head deep in the buffer (behind pipelined requests) moves to the front
                // when less than half the buffer is left behind it: a body that streams reads
                // into the room after its head, which must not be tiny (or empty).
                let start = self.cursor.start;
                if start > 0 && self.rx.len() - (start + n) < self.rx.len() / 2 {
                    self.rx.copy_within(start..self.cursor.filled, 0);
                    self.cursor.filled -= start;
                    self.cursor.start = 0;
                }
                let start = self.cursor.start;
                treat_higher_minor_as_http11(&mut self.rx[start..start + n]);
                Ok(Some(n))
            }
            Scan::Partial if pending.len() >= self.rx.len().min(self.limits.max_head) => {
                Err(if self.cursor.scanner.request_line_complete() {
                    Error::HeadTooLarge
                } else {
                    Error::UriTooLong
                })
            }
            Scan::Partial => Ok(None),
        }
    }

    /// Decode the chunked body bytes that arrived since the last call; the body length once
    /// the body is complete.
    pub(super) fn decode_more(&mut self) -> Result<Option<usize>, Error> {
        let State::Chunked {
            head_len,
            decoded,
            mut decoder,
            send_continue,
        } = self.cursor.state
        else {
            return Ok(None);
        };
        let body_start = self.cursor.start + head_len;
        let (decoded, removed) = decode_chunks(
            &mut decoder,
            &mut self.rx[body_start..self.cursor.filled],
            decoded,
        )
        .map_err(|e| decoder.error_within(e, self.limits.max_body))?;
        self.cursor.filled -= removed;
        self.cursor.state = State::Chunked {
            head_len,
            decoded,
            decoder,
            send_continue,
        };
        chunked_progress(
            &self.limits,
            decoded,
            decoder.is_done(),
            self.cursor.filled - self.cursor.start,
            self.rx.len(),
        )
    }

    /// Ask for more bytes (sending `100 Continue` first where the client waits for it),
    /// unless the peer is gone or too slow: mid-request that is an error response, between
    /// requests a silent close.
    pub(super) fn wait(&mut self) -> Action<'_> {
        if self.is_idle() && (self.cursor.timed_out || self.cursor.peer_closed) {
            self.cursor.state = State::Closing;
            return Action::Close;
        }
        wait_for_more(&mut self.cursor, self.tx)
    }

    /// A complete head of `head_len` bytes starts at `rx[start]`: validate it, and hand out
    /// the request: with its body once the body is here too (`body_len` if already known), or
    /// with the body still to come, for the handler to decide.
    pub(super) fn prepare(
        &mut self,
        head_len: usize,
        body_len: Option<usize>,
        may_stream: bool,
    ) -> Next<'_> {
        let mut headers = [EMPTY_HEADER; MAX_HEADERS];
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
        let head = match parse_head(head_bytes, &mut headers, limits) {
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

/// Decode what has arrived of a chunked body in place: `body` holds `decoded` body bytes, then
/// encoded bytes. Returns the new decoded length and how many bytes the buffer shrank by (the
/// encoding that was consumed; bytes after the body move down to follow it).
pub(super) fn decode_chunks(
    decoder: &mut ChunkedDecoder,
    body: &mut [u8],
    decoded: usize,
) -> Result<(usize, usize), Error> {
    let progress = decoder.decode_in_place(&mut body[decoded..])?;
    body.copy_within(decoded + progress.read.., decoded + progress.written);
    Ok((decoded + progress.written, progress.read - progress.written))
}

/// After decoding chunks: the body length once complete; an error if the body is too large or
/// cannot grow (`used` bytes of the request fill the whole `capacity`).
pub(super) fn chunked_progress(
    limits: &Limits,
    decoded: usize,
    done: bool,
    used: usize,
    capacity: usize,
) -> Result<Option<usize>, Error> {
    if decoded as u64 > limits.max_body {
        Err(Error::BodyTooLarge)
    } else if done {
        Ok(Some(decoded))
    } else if used >= capacity {
        // The encoded rest cannot be read: nowhere to put it.
        Err(Error::BodyTooLarge)
    } else {
        Ok(None)
    }
}

/// Read more, unless the peer is gone (400) or too slow (408).
pub(super) fn wait_for_more<'t>(cursor: &mut Cursor, tx: &'t mut [u8]) -> Action<'t> {
    if cursor.timed_out {
        fail(&mut cursor.state, tx, Error::Timeout, None)
    } else if cursor.peer_closed {
        fail(&mut cursor.state, tx, Error::Incomplete, None)
    } else {
        take_continue(&mut cursor.state)
    }
}

/// `Read`, or first `100 Continue` if the client waits for it before sending its body.
fn take_continue(state: &mut State) -> Action<'static> {
    match state {
        State::Body { send_continue, .. } | State::Chunked { send_continue, .. }
            if *send_continue =>
        {
            *send_continue = false;
            Action::Write(Transmit {
                head: CONTINUE,
                body: &[],
                exchange: None,
            })
        }
        _ => Action::Read,
    }
}

/// RFC 9112 §2.3: a request in `HTTP/1.x` with x > 1 is processed as HTTP/1.1, the highest
/// minor version implemented. httparse knows only 1.0 and 1.1, so the version digit is
/// rewritten in place before parsing.
fn treat_higher_minor_as_http11(head: &mut [u8]) {
    let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(0);
    let version = head[..line_end].get_mut(line_end.saturating_sub(9)..);
    if let Some([b' ', b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor @ b'2'..=b'9']) = version {
        *minor = b'1';
    }
}
