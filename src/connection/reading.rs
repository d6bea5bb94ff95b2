//! The reading half of the state machine: finding the end of a request head (however it is
//! split across reads) and waiting for a body that is taken whole, in the receive buffer
//! (Content-Length, or chunked and decoded in place). A body that streams is read through
//! the exchange's link instead (`incoming.rs`).
//!
//! # Theory of operation
//!
//! States (`State`, in `mod.rs`): `Head` (scanning for the blank line; the scanner resumes
//! where it stopped, so a head that arrives a byte at a time is never rescanned), `Body` (a
//! valid head and a Content-Length body not all here), `Chunked` (a valid head and a chunked
//! body decoded in place as it arrives), `Closing` (nothing more is read). From `Head`, a
//! complete head goes to the exchange (`exchange.rs`), which validates it and either hands
//! the request out or comes back here to wait for its body ([`buffer`]).
//!
//! Invariants:
//! - every byte of the current request lies in `rx[start..filled]`, head first; a chunked
//!   body's decoded bytes follow the head contiguously, then the bytes not yet decoded;
//! - a body taken whole never passes `Limits::max_body` or the buffer: 413 as soon as that is
//!   known (from the declared length, or from the decoded length of a chunked body);
//! - `100 Continue` goes out once, on the first read that needs the peer's body;
//! - between requests, a timeout or the peer's close is a silent close; mid-request it is
//!   408 or 400 and a close.

use super::incoming::Decoding;
use super::{fail, Action, Connection, Cursor, Limits, State, Transmit, MAX_EMPTY_LINES};
use crate::error::Error;
use crate::wire::body_in::ChunkedDecoder;
use crate::wire::request_head::{treat_higher_minor_as_http11, HeadScanner, Scan};
use crate::wire::response_head::CONTINUE;
use crate::wire::Request;

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
            Scan::Complete(n) if n > self.limits.max_head => {
                Err(self.unless_target_too_long(Error::HeadTooLarge))
            }
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
                    self.unless_target_too_long(Error::HeadTooLarge)
                } else {
                    Error::UriTooLong
                })
            }
            Scan::Partial => Ok(None),
        }
    }

    /// `error` for a head that does not fit though its request line does: or, on hosts
    /// (feature `std`), 414 if that line holds a target over `max_target`, as it would be were
    /// the head small. (Firmware leaves the check out, for its hundred bytes: with a receive
    /// buffer no larger than `max_target`, the usual sizing, a target over the limit leaves
    /// its request line incomplete, which is 414 already.)
    #[inline(always)]
    fn unless_target_too_long(&self, error: Error) -> Error {
        #[cfg(feature = "std")]
        if self.cursor.scanner.target_too_long(
            &self.rx[self.cursor.start..self.cursor.filled],
            self.limits.max_target,
        ) {
            return Error::UriTooLong;
        }
        error
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
fn chunked_progress(
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
fn wait_for_more<'t>(cursor: &mut Cursor, tx: &'t mut [u8]) -> Action<'t> {
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
