//! A response body written in pieces ([`ResponseStream`]), through the connection's transmit
//! buffer, so that a body of any size passes through a few KiB of RAM. (The request body read
//! in pieces is `request_body.rs`.)
//!
//! The framing stays the core's: the writer frames what it is given with the wire's body
//! encoder (`Transfer-Encoding: chunked` to HTTP/1.1 clients, close-delimited to HTTP/1.0
//! ones, or a declared `Content-Length` that it enforces). A driver moves the bytes; without
//! one ([`crate::Connection::poll`]), a streamed response must fit the transmit buffer.
//!

use core::future::{poll_fn, Future};
use core::task::Poll;

use super::responder::{Responded, ResponseHead};
use super::{block, poll_once};
use crate::connection::{Channel, Outbox, Outgoing, Sent};
use crate::error::{Failure, StreamError};
use crate::wire::body_out::{BodyEncoder, Delimit, CHUNK_LINE_MAX};
use crate::wire::syntax::write_decimal;
use crate::wire::Status;

/// Wait `ms` milliseconds on the channel's clock ([`StreamError::Unsupported`] without a
/// channel or a clock). One `poll_fn`, not an `async fn`: its future is the closure's few
/// bytes, inside every handler future that sleeps.
fn sleep<'c, 'd: 'c>(
    mut channel: Option<&'c mut (dyn Channel + 'd)>,
    ms: u64,
) -> impl Future<Output = Result<(), StreamError>> + use<'c, 'd> {
    let mut deadline = None;
    poll_fn(move |cx| {
        let Some(channel) = channel.as_deref_mut() else {
            return Poll::Ready(Err(StreamError::Unsupported));
        };
        let deadline = match deadline {
            Some(deadline) => deadline,
            None => match channel.now_ms() {
                Some(now) => *deadline.insert(now.saturating_add(ms)),
                None => return Poll::Ready(Err(StreamError::Unsupported)),
            },
        };
        channel.poll_sleep_until(cx, deadline)
    })
}

/// Room kept before buffered data for a chunk-size line: 8 hex digits and CRLF, enough for
/// any piece under 4 GiB (a buffered piece is kept under that).
const CHUNK_LINE: usize = 10;
/// Room kept at the end: the CRLF after chunk data and the last chunk `0\r\n\r\n`.
const CHUNK_TAIL: usize = 7;

impl<'a, 's> ResponseHead<'a, 's> {
    /// Finish the head and write a body of unknown length in pieces: chunked to HTTP/1.1
    /// clients, close-delimited to HTTP/1.0 ones. See [`ResponseStream`].
    pub fn stream(self) -> ResponseStream<'a, 's> {
        let delimit = Delimit::unknown_length(self.r.outbox.ctx.version);
        self.start_stream(delimit)
    }

    /// Finish the head with `Content-Length: len` and write the body in pieces. Writing more
    /// or fewer bytes never corrupts the stream: the connection closes instead, and
    /// [`ResponseStream::write`] reports the excess. See [`ResponseStream`].
    pub fn stream_length(self, len: u64) -> ResponseStream<'a, 's> {
        self.start_stream(Delimit::Length(len))
    }

    /// [`ResponseHead::stream`] with a closure: `Ok` finishes the body, `Err` aborts it (see
    /// [`ResponseStream::abort`]), so `?` can be used on every write.
    pub fn stream_with(
        self,
        write: impl FnOnce(&mut ResponseStream<'a, 's>) -> Result<(), StreamError>,
    ) -> Responded {
        let mut stream = self.stream();
        match write(&mut stream) {
            Ok(()) => stream.finish(),
            Err(_) => stream.abort(),
        }
    }

    fn start_stream(mut self, delimit: Delimit) -> ResponseStream<'a, 's> {
        let encoder = BodyEncoder::new(delimit);
        if self.status.allows_body() {
            self.close |= encoder.head_field(&mut self.head, self.r.outbox.tx);
        }
        self.push_connection();
        let encoder = if self.status.allows_body() && !self.r.outbox.ctx.head_only {
            encoder
        } else {
            BodyEncoder::new(Delimit::Discarded)
        };
        let ResponseHead {
            r,
            head,
            status,
            close,
        } = self;
        // The head could not be encoded: the stream starts failed, and ends as a 500.
        r.outbox.out.failure = head.failure();
        ResponseStream {
            outbox: r.outbox,
            encoder,
            status,
            close,
            pending: head.len(),
            data: 0,
            sent: false,
            dirty: false,
            error: head.failure().map(|_| StreamError::Unsupported),
        }
    }
}

/// A response body written in pieces, framed by the core. Made by
/// [`crate::ResponseHead::stream`] (length unknown) or
/// [`crate::ResponseHead::stream_length`]; end it with [`ResponseStream::finish`] (or
/// [`ResponseStream::abort`]), which makes the handler's [`Responded`]. Async handlers use
/// the `_async` twins of the methods that send.
///
/// Writes are gathered in the transmit buffer and leave as one chunk when it is full, at
/// [`ResponseStream::flush`], or at the end; a write larger than the buffer leaves at once,
/// as one chunk, without a copy.
///
/// What happens when a stream goes wrong:
/// - writing more than a declared length: the write fails with [`StreamError::TooLong`], the
///   extra bytes are not sent, and the connection closes after the response;
/// - finishing short of a declared length, or [`ResponseStream::abort`] after the head was
///   sent: the connection closes without completing the body (no terminating chunk), so the
///   client sees a failed transfer, never a truncated success;
/// - aborting before anything was sent: the response becomes a `500`;
/// - a request body left unread: see [`crate::Responder::request_body`].
pub struct ResponseStream<'a, 's> {
    outbox: Outbox<'a, 's>,
    encoder: BodyEncoder,
    status: Status,
    close: bool,
    /// Framed bytes at the front of the transmit buffer, not sent yet (the head, at first).
    pending: usize,
    /// Unframed data after `pending` and the room for a chunk line.
    data: usize,
    /// Something has been sent.
    sent: bool,
    /// A send was interrupted (an async write dropped half-way): the framing on the wire is
    /// unknown, so nothing more may be sent.
    dirty: bool,
    /// The first error, sticky. (The first failure, what the log will say, is kept in the
    /// response's record, `outbox.out`, not here: a streaming handler's future holds this.)
    error: Option<StreamError>,
}

impl core::fmt::Debug for ResponseStream<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.status)
            .field("delimit", &self.encoder.delimit())
            .field("written", &self.encoder.written())
            .field("error", &self.error)
            .finish()
    }
}

impl<'a, 's> ResponseStream<'a, 's> {
    /// Body bytes written so far (dropped ones too, for HEAD).
    pub fn written(&self) -> u64 {
        self.encoder.written()
    }

    /// Whether the body is dropped (HEAD request, or a status without a body): writes
    /// succeed and send nothing, so a handler may skip producing it.
    pub fn is_discarded(&self) -> bool {
        self.encoder.delimit() == Delimit::Discarded
    }

    fn reserve(&self) -> usize {
        if self.encoder.is_chunked() {
            CHUNK_LINE
        } else {
            0
        }
    }

    /// Room for data after what is pending, before the end reserve (under 4 GiB, so that a
    /// buffered chunk's size line fits its reserve).
    fn capacity(&self) -> usize {
        let tail = if self.encoder.is_chunked() {
            CHUNK_TAIL
        } else {
            0
        };
        let room = self
            .outbox
            .tx
            .len()
            .saturating_sub(self.pending + self.reserve() + tail);
        room.min(u32::MAX as usize)
    }

    fn fail(&mut self, error: StreamError, failure: Failure) -> StreamError {
        self.error.get_or_insert(error);
        self.outbox.out.failure.get_or_insert(failure);
        self.close = true;
        error
    }

    /// The sticky error, or a stream left half-sent by a dropped async write.
    fn check(&mut self) -> Result<(), StreamError> {
        if self.dirty {
            return Err(self.fail(StreamError::Unsupported, Failure::StreamWrite));
        }
        self.error.map_or(Ok(()), Err)
    }

    /// Account for a write of `len` bytes: whether to send them (not for a discarded body).
    fn admit(&mut self, len: usize) -> Result<bool, StreamError> {
        self.check()?;
        self.encoder
            .admit(len)
            .map_err(|failure| self.fail(StreamError::TooLong, failure))
    }

    /// Put the chunk-size line for `len` bytes at `tx[pending..]` (nothing unless chunked).
    fn push_chunk_line(&mut self, len: usize) -> Result<(), StreamError> {
        let mut line = [0u8; CHUNK_LINE_MAX];
        let n = self.encoder.chunk_line(len, &mut line);
        match self.outbox.tx.get_mut(self.pending..self.pending + n) {
            Some(dst) => dst.copy_from_slice(&line[..n]),
            None => return Err(self.fail(StreamError::Unsupported, Failure::NeedsDriver)),
        }
        self.pending += n;
        Ok(())
    }

    /// Frame the buffered data (a chunk), so that `tx[..pending]` is ready to send.
    fn frame(&mut self) {
        if self.data == 0 {
            return;
        }
        if !self.encoder.is_chunked() {
            // The data is right after what is pending, as it goes out.
            self.pending += self.data;
            self.data = 0;
            return;
        }
        let start = self.pending + self.reserve();
        let mut line = [0u8; CHUNK_LINE_MAX];
        let n = self.encoder.chunk_line(self.data, &mut line);
        let end = self.encoder.chunk_end();
        let tx = &mut *self.outbox.tx;
        tx[self.pending..self.pending + n].copy_from_slice(&line[..n]);
        let at = self.pending + n;
        tx.copy_within(start..start + self.data, at);
        tx[at + self.data..at + self.data + end.len()].copy_from_slice(end);
        self.pending = at + self.data + end.len();
        self.data = 0;
    }

    /// Send `tx[..pending]`, then `extra` (bytes sent from where they lie). One `poll_fn`
    /// over both, not nested `async fn`s: this future is inside every write, flush and
    /// finish, and so inside every streaming handler's future.
    fn send_pending<'f>(
        &'f mut self,
        extra: &'f [u8],
    ) -> impl Future<Output = Result<(), StreamError>> + use<'f, 'a, 's> {
        // How much of `tx[..pending]` and then of `extra` has gone.
        let mut at = 0;
        poll_fn(move |cx| {
            let Some(link) = self.outbox.link.as_deref_mut() else {
                return Poll::Ready(Err(
                    self.fail(StreamError::Unsupported, Failure::NeedsDriver)
                ));
            };
            self.dirty = true;
            let result = loop {
                let bytes = match at < self.pending {
                    true => &self.outbox.tx[at..self.pending],
                    false => &extra[at - self.pending..],
                };
                if bytes.is_empty() {
                    break Ok(());
                }
                match link.poll_send(cx, bytes) {
                    Poll::Ready(Ok(n)) => at += n.min(bytes.len()),
                    Poll::Ready(Err(e)) => break Err(e),
                    Poll::Pending => return Poll::Pending,
                }
            };
            self.dirty = false;
            self.sent = true;
            self.pending = 0;
            Poll::Ready(result.map_err(|e| self.fail(e, Failure::StreamWrite)))
        })
    }

    /// Write body bytes. They may wait in the transmit buffer; see
    /// [`ResponseStream::flush_async`].
    #[allow(clippy::manual_async_fn)] // an `async fn` would hold its arguments twice
    pub fn write_async<'f>(
        &'f mut self,
        mut bytes: &'f [u8],
    ) -> impl Future<Output = Result<(), StreamError>> + use<'f, 'a, 's> {
        async move {
            if !self.admit(bytes.len())? {
                return Ok(());
            }
            while !bytes.is_empty() {
                let capacity = self.capacity();
                if self.data == 0 && bytes.len() >= capacity && self.outbox.link.is_some() {
                    // Larger than the buffer: its chunk line goes out with what is pending, then
                    // the bytes from where they lie; what ends the chunk waits for the next send.
                    self.push_chunk_line(bytes.len())?;
                    self.send_pending(bytes).await?;
                    let end = self.encoder.chunk_end();
                    self.outbox.tx[..end.len()].copy_from_slice(end);
                    self.pending = end.len();
                    return Ok(());
                }
                let room = capacity - self.data;
                if room == 0 {
                    if self.data == 0 && self.pending == 0 {
                        // Not even one data byte fits beside the framing.
                        return Err(self.fail(StreamError::Unsupported, Failure::NeedsDriver));
                    }
                    self.frame();
                    self.send_pending(&[]).await?;
                    continue;
                }
                let n = room.min(bytes.len());
                let at = self.pending + self.reserve() + self.data;
                self.outbox.tx[at..at + n].copy_from_slice(&bytes[..n]);
                self.data += n;
                bytes = &bytes[n..];
            }
            Ok(())
        }
    }

    /// [`ResponseStream::write_async`] for blocking handlers.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        block(self.is_blocking(), self.write_async(bytes))
    }

    /// Whether the blocking methods may be used: no driver (everything is staged), or a
    /// blocking one. Called by the blocking methods only (on the async driver, the link
    /// remembers the attempt: the response becomes a 500 that says why).
    pub(crate) fn is_blocking(&self) -> bool {
        self.outbox
            .link
            .as_deref()
            .is_none_or(Channel::blocking_call)
    }

    /// Write a string.
    pub fn write_str(&mut self, s: &str) -> Result<(), StreamError> {
        self.write(s.as_bytes())
    }

    /// Write a number in decimal, without `core::fmt`.
    pub fn write_u64(&mut self, n: u64) -> Result<(), StreamError> {
        let mut digits = [0u8; 20];
        let len = write_decimal(n, &mut digits).unwrap_or(0);
        self.write(&digits[..len])
    }

    /// Send what has been written so far (the head too, if it is still waiting) now: a live
    /// stream (events, a log) flushes after each piece.
    #[allow(clippy::manual_async_fn)] // an `async fn` would hold its argument twice
    pub fn flush_async(
        &mut self,
    ) -> impl Future<Output = Result<(), StreamError>> + use<'_, 'a, 's> {
        async move {
            self.check()?;
            if self.outbox.link.is_none() {
                // Without a driver everything leaves at the end.
                return Ok(());
            }
            self.frame();
            if self.pending > 0 {
                self.send_pending(&[]).await?;
            }
            if !self.sent {
                // Nothing has gone yet (the head waits for the first bytes).
                return Ok(());
            }
            let link = self.outbox.link.as_deref_mut();
            match link {
                Some(link) => poll_fn(|cx| link.poll_flush(cx)).await,
                None => Ok(()),
            }
            .map_err(|e| self.fail(e, Failure::StreamWrite))
        }
    }

    /// [`ResponseStream::flush_async`] for blocking handlers.
    pub fn flush(&mut self) -> Result<(), StreamError> {
        block(self.is_blocking(), self.flush_async())
    }

    /// The driver's clock in milliseconds, if it has one.
    pub fn now_ms(&mut self) -> Option<u64> {
        self.outbox
            .link
            .as_deref_mut()
            .and_then(|link| link.now_ms())
    }

    /// Wait `ms` milliseconds between pieces. Fails with [`StreamError::ShuttingDown`] when
    /// the server is stopping: finish the stream then.
    pub fn sleep_ms_async(
        &mut self,
        ms: u64,
    ) -> impl Future<Output = Result<(), StreamError>> + use<'_, 'a, 's> {
        sleep(self.outbox.link.as_deref_mut(), ms)
    }

    /// [`ResponseStream::sleep_ms_async`] for blocking handlers.
    pub fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        block(self.is_blocking(), self.sleep_ms_async(ms))
    }

    /// End the body: the last chunk for a chunked body; for a declared length, a close if
    /// fewer bytes were written (the client then sees a failed transfer). Sends what is left.
    pub fn finish_async(mut self) -> impl Future<Output = Responded> + use<'a, 's> {
        let failed = self.check().is_err();
        if !failed {
            self.frame();
            match self.encoder.end() {
                // `capacity` kept room for it.
                Ok(last) => {
                    self.outbox.tx[self.pending..self.pending + last.len()].copy_from_slice(last);
                    self.pending += last.len();
                }
                Err(failure) => {
                    self.fail(StreamError::TooLong, failure);
                }
            }
        }
        // The stream is held once, by the block; what it awaits is borrowed from it.
        async move {
            if failed {
                return self.abort();
            }
            if self.outbox.link.is_some() {
                let _ = self.send_pending(&[]).await;
            }
            self.conclude()
        }
    }

    /// [`ResponseStream::finish_async`] for blocking handlers.
    pub fn finish(self) -> Responded {
        if !self.is_blocking() {
            // Nothing can be sent from here: end it as an abort does.
            return self.abort();
        }
        // If it cannot complete, the stream is dropped half-sent and the connection closes
        // (see `dirty`).
        poll_once(self.finish_async()).unwrap_or(Responded(()))
    }

    /// Give up on the body. Before anything was sent, the response becomes a `500`; after,
    /// the connection closes with the body unfinished (no last chunk), so the client sees a
    /// failed transfer.
    pub fn abort(mut self) -> Responded {
        let failure = *self
            .outbox
            .out
            .failure
            .get_or_insert(Failure::StreamAborted);
        self.close = true;
        if !self.sent && !self.dirty {
            self.outbox.fail(Some(failure));
            return Responded(());
        }
        self.conclude()
    }

    /// Tell the connection how the response went.
    fn conclude(self) -> Responded {
        let Outbox { out, link, .. } = self.outbox;
        *out = Outgoing {
            sent: match link {
                Some(_) => Sent::Streamed,
                None => Sent::Staged(self.pending),
            },
            status: self.status,
            close: self.close,
            failure: out.failure,
            ..Outgoing::NONE
        };
        Responded(())
    }
}

impl embedded_io::ErrorType for ResponseStream<'_, '_> {
    type Error = StreamError;
}

impl embedded_io::Write for ResponseStream<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        ResponseStream::write(self, buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), StreamError> {
        ResponseStream::flush(self)
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::Write for ResponseStream<'_, '_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, StreamError> {
        self.write_async(buf).await?;
        Ok(buf.len())
    }
    async fn flush(&mut self) -> Result<(), StreamError> {
        self.flush_async().await
    }
}

/// `write!` works too, for those who accept `core::fmt`'s cost.
impl core::fmt::Write for ResponseStream<'_, '_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        ResponseStream::write_str(self, s).map_err(|_| core::fmt::Error)
    }
}
