//! Streaming, as a handler sees it: a request body read in pieces ([`RequestBody`]) and a
//! response body written in pieces ([`ResponseStream`]), both through the connection's own
//! buffers, so that a body of any size passes through a few KiB of RAM.
//!
//! The framing stays the core's: the reader hands out bytes the connection decoded
//! (Content-Length or chunked, limits and trailers checked), and the writer frames what it is
//! given (`Transfer-Encoding: chunked` to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones,
//! or a declared `Content-Length` that it enforces). A driver moves the bytes through a
//! [`Wire`]; without one ([`crate::Connection::poll`]), a streamed response must fit the
//! transmit buffer and a request body must fit the receive buffer.
//!
//! What happens when a stream goes wrong:
//! - writing more than a declared length: the write fails with [`StreamError::TooLong`], the
//!   extra bytes are not sent, and the connection closes after the response;
//! - finishing short of a declared length, or [`ResponseStream::abort`] after the head was
//!   sent: the connection closes without completing the body (no terminating chunk), so the
//!   client sees a failed transfer, never a truncated success;
//! - aborting before anything was sent: the response becomes a `500`;
//! - a request body left unread: see [`crate::Responder::request_body`].

use core::future::{poll_fn, Future};
use core::task::{Context, Poll, Waker};

use crate::error::{Error, Failure};
use crate::response::{fallback_500, write_hex, Outgoing, Responded, Status};

/// Why reading a request body or writing a streamed response failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamError {
    /// The request body is unacceptable: bad chunked framing, over the route's limit, or
    /// cut short by the peer. [`Error::status`] says what to answer; the connection closes
    /// after the response.
    Body(Error),
    /// The peer sent nothing before the request deadline, or did not take what was written
    /// within the write timeout.
    TimedOut,
    /// The transport failed: most often the peer went away.
    Io(embedded_io::ErrorKind),
    /// More body bytes than the declared `Content-Length`; none of this write was sent.
    TooLong,
    /// The server is shutting down: end the stream.
    ShuttingDown,
    /// This needs a driver that can move bytes while the handler runs (the blocking driver
    /// for [`crate::Handler`]s), or the response could not be encoded (see the log's reason).
    Unsupported,
}

impl StreamError {
    /// The status to answer with, if no response has been sent yet: the body error's status,
    /// 408 for a timeout, 503 at shutdown, 500 otherwise.
    pub fn status(self) -> Status {
        match self {
            StreamError::Body(e) => e.status(),
            StreamError::TimedOut => Status::REQUEST_TIMEOUT,
            StreamError::ShuttingDown => Status::SERVICE_UNAVAILABLE,
            _ => Status::INTERNAL_SERVER_ERROR,
        }
    }
}

impl core::fmt::Display for StreamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StreamError::Body(e) => write!(f, "request body: {e}"),
            StreamError::TimedOut => f.write_str("timed out"),
            StreamError::Io(kind) => write!(f, "transport: {kind:?}"),
            StreamError::TooLong => f.write_str("more than the declared length"),
            StreamError::ShuttingDown => f.write_str("server shutting down"),
            StreamError::Unsupported => f.write_str("not possible on this driver"),
        }
    }
}

impl core::error::Error for StreamError {}

impl embedded_io::Error for StreamError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            StreamError::Body(_) => embedded_io::ErrorKind::InvalidData,
            StreamError::TimedOut => embedded_io::ErrorKind::TimedOut,
            StreamError::Io(kind) => *kind,
            StreamError::TooLong => embedded_io::ErrorKind::InvalidInput,
            StreamError::ShuttingDown => embedded_io::ErrorKind::Interrupted,
            StreamError::Unsupported => embedded_io::ErrorKind::Unsupported,
        }
    }
}

/// The raw transport of one exchange, as a driver lends it to the core while a handler runs
/// ([`crate::Pending::handle_with`], [`crate::Pending::handle_async`]). The core decides
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

/// Run `fut` once, for a blocking caller on a blocking driver (whose wire is always ready, so
/// the future completes); a blocking call on the async driver gets
/// [`StreamError::Unsupported`].
pub(crate) fn block<T>(
    blocking: bool,
    fut: impl Future<Output = Result<T, StreamError>>,
) -> Result<T, StreamError> {
    if !blocking {
        return Err(StreamError::Unsupported);
    }
    poll_once(fut).unwrap_or(Err(StreamError::Unsupported))
}

/// Poll `fut` once; its output if it completed. How the blocking side runs the async code.
pub(crate) fn poll_once<T>(fut: impl Future<Output = T>) -> Option<T> {
    let mut fut = core::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// What a [`crate::Responder`] reaches the driver through while a handler runs: the request
/// body's bytes (decoded by the core) and the raw output. Implemented by the core's link.
pub(crate) trait Channel {
    /// See [`Wire::is_blocking`].
    fn is_blocking(&self) -> bool;
    /// Make decoded body bytes available, reading more if none are here; with none at the
    /// end of the body.
    fn poll_fill_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>>;
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
    /// The driver's clock.
    fn now_ms(&mut self) -> Option<u64>;
    /// Wait until `deadline_ms`, unless the server stops.
    fn poll_sleep_until(
        &mut self,
        cx: &mut Context<'_>,
        deadline_ms: u64,
    ) -> Poll<Result<(), StreamError>>;
}

/// Send all of `bytes` through `channel`.
async fn send_all(channel: &mut dyn Channel, mut bytes: &[u8]) -> Result<(), StreamError> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| channel.poll_send(cx, bytes)).await?;
        bytes = &bytes[n.min(bytes.len())..];
    }
    Ok(())
}

/// Wait `ms` milliseconds on the channel's clock.
async fn sleep(channel: &mut dyn Channel, ms: u64) -> Result<(), StreamError> {
    let now = channel.now_ms().ok_or(StreamError::Unsupported)?;
    let deadline = now.saturating_add(ms);
    poll_fn(|cx| channel.poll_sleep_until(cx, deadline)).await
}

/// The request body, read in pieces; get it from [`crate::Responder::request_body`].
///
/// It reads the body whatever its size or framing: a body that was already whole in the
/// receive buffer ([`crate::Request::body`]) comes from there; a larger one arrives through
/// the receive buffer a piece at a time, decoded by the connection. Blocking handlers use
/// [`RequestBody::fill`] / [`RequestBody::read`] (and `embedded_io::{Read, BufRead}`); async
/// ones the `_async` twins (and `embedded_io_async::{Read, BufRead}`, feature `async`).
/// [`RequestBody::fill`] lends the decoded bytes where they lie, without a copy.
pub struct RequestBody<'r> {
    source: Source<'r>,
}

enum Source<'r> {
    Buffered(&'r [u8]),
    Streamed(&'r mut dyn Channel),
}

impl core::fmt::Debug for RequestBody<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.source {
            Source::Buffered(b) => write!(f, "RequestBody(buffered, {} B left)", b.len()),
            Source::Streamed(_) => f.write_str("RequestBody(streamed)"),
        }
    }
}

impl<'r> RequestBody<'r> {
    pub(crate) fn buffered(body: &'r [u8]) -> Self {
        RequestBody {
            source: Source::Buffered(body),
        }
    }

    pub(crate) fn streamed(channel: &'r mut dyn Channel) -> Self {
        RequestBody {
            source: Source::Streamed(channel),
        }
    }

    /// The next decoded bytes, waiting for the peer if none are here; empty at the end of
    /// the body. Call [`RequestBody::consume`] with what you used.
    pub async fn fill_async(&mut self) -> Result<&[u8], StreamError> {
        match &mut self.source {
            Source::Buffered(rest) => Ok(rest),
            Source::Streamed(channel) => {
                poll_fn(|cx| channel.poll_fill_body(cx)).await?;
                Ok(channel.available_body())
            }
        }
    }

    /// [`RequestBody::fill_async`] for blocking handlers.
    pub fn fill(&mut self) -> Result<&[u8], StreamError> {
        if let Source::Streamed(channel) = &mut self.source {
            let blocking = channel.is_blocking();
            block(blocking, poll_fn(|cx| channel.poll_fill_body(cx)))?;
        }
        Ok(match &self.source {
            Source::Buffered(rest) => rest,
            Source::Streamed(channel) => channel.available_body(),
        })
    }

    /// Mark `n` bytes of [`RequestBody::fill`] as used.
    pub fn consume(&mut self, n: usize) {
        match &mut self.source {
            Source::Buffered(rest) => *rest = rest.get(n..).unwrap_or_default(),
            Source::Streamed(channel) => channel.consume_body(n),
        }
    }

    /// Copy the next bytes into `buf`; `Ok(0)` at the end of the body (or for an empty
    /// `buf`).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = copy_into(self.fill()?, buf);
        self.consume(n);
        Ok(n)
    }

    /// [`RequestBody::read`], awaiting the peer.
    pub async fn read_async(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = copy_into(self.fill_async().await?, buf);
        self.consume(n);
        Ok(n)
    }

    /// Pass every piece of the body to `f`, in order, without copying; the total length.
    pub fn for_each(&mut self, mut f: impl FnMut(&[u8])) -> Result<u64, StreamError> {
        let mut total = 0u64;
        loop {
            let here = self.fill()?;
            if here.is_empty() {
                return Ok(total);
            }
            let n = here.len();
            f(here);
            total += n as u64;
            self.consume(n);
        }
    }

    /// [`RequestBody::for_each`], awaiting the peer.
    pub async fn for_each_async(&mut self, mut f: impl FnMut(&[u8])) -> Result<u64, StreamError> {
        let mut total = 0u64;
        loop {
            let here = self.fill_async().await?;
            if here.is_empty() {
                return Ok(total);
            }
            let n = here.len();
            f(here);
            total += n as u64;
            self.consume(n);
        }
    }
}

fn copy_into(here: &[u8], buf: &mut [u8]) -> usize {
    let n = here.len().min(buf.len());
    buf[..n].copy_from_slice(&here[..n]);
    n
}

impl embedded_io::ErrorType for RequestBody<'_> {
    type Error = StreamError;
}

impl embedded_io::Read for RequestBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        RequestBody::read(self, buf)
    }
}

impl embedded_io::BufRead for RequestBody<'_> {
    fn fill_buf(&mut self) -> Result<&[u8], StreamError> {
        self.fill()
    }
    fn consume(&mut self, amt: usize) {
        RequestBody::consume(self, amt)
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::Read for RequestBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        self.read_async(buf).await
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::BufRead for RequestBody<'_> {
    async fn fill_buf(&mut self) -> Result<&[u8], StreamError> {
        self.fill_async().await
    }
    fn consume(&mut self, amt: usize) {
        RequestBody::consume(self, amt)
    }
}

/// How a streamed body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimit {
    /// `Transfer-Encoding: chunked` (HTTP/1.1, length unknown).
    Chunked,
    /// A declared `Content-Length`, with this many bytes still to come.
    Length { declared: u64, remaining: u64 },
    /// Until the connection closes (HTTP/1.0, length unknown).
    UntilClose,
    /// No body goes out (HEAD, 204, 304): writes are counted and dropped.
    Discard,
}

/// Room kept before buffered data for a chunk-size line: 8 hex digits and CRLF, enough for
/// any transmit buffer under 4 GiB.
const CHUNK_LINE: usize = 10;
/// Room kept at the end: the CRLF after chunk data and the last chunk `0\r\n\r\n`.
const CHUNK_TAIL: usize = 7;

/// A response body written in pieces: see the [module docs](self). Made by
/// [`crate::ResponseHead::stream`] (length unknown) or
/// [`crate::ResponseHead::stream_length`]; end it with [`ResponseStream::finish`] (or
/// [`ResponseStream::abort`]), which makes the handler's [`Responded`]. Async handlers use
/// the `_async` twins of the methods that send.
///
/// Writes are gathered in the transmit buffer and leave as one chunk when it is full, at
/// [`ResponseStream::flush`], or at the end; a write larger than the buffer leaves at once,
/// as one chunk, without a copy.
pub struct ResponseStream<'a, 's> {
    tx: &'s mut [u8],
    out: &'s mut Outgoing<'a>,
    link: Option<&'s mut dyn Channel>,
    delimit: Delimit,
    status: Status,
    close: bool,
    /// Framed bytes at the front of `tx`, not sent yet (the head, at first).
    pending: usize,
    /// Unframed data after `pending` and the room for a chunk line.
    data: usize,
    /// Something has been sent.
    sent: bool,
    /// A send was interrupted (an async write dropped half-way): the framing on the wire is
    /// unknown, so nothing more may be sent.
    dirty: bool,
    written: u64,
    /// The first failure, sticky: what the log will say.
    failure: Option<Failure>,
    error: Option<StreamError>,
}

impl core::fmt::Debug for ResponseStream<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("status", &self.status)
            .field("delimit", &self.delimit)
            .field("written", &self.written)
            .field("error", &self.error)
            .finish()
    }
}

/// The parts of a [`crate::ResponseHead`] a stream starts from.
pub(crate) struct StreamStart<'a, 's> {
    pub tx: &'s mut [u8],
    pub out: &'s mut Outgoing<'a>,
    pub link: Option<&'s mut dyn Channel>,
    pub head_len: usize,
    pub delimit: Delimit,
    pub status: Status,
    pub close: bool,
    /// The head could not be encoded: the stream starts failed, and ends as a 500.
    pub failure: Option<Failure>,
}

impl<'a, 's> ResponseStream<'a, 's> {
    pub(crate) fn new(start: StreamStart<'a, 's>) -> Self {
        ResponseStream {
            tx: start.tx,
            out: start.out,
            link: start.link,
            delimit: start.delimit,
            status: start.status,
            close: start.close,
            pending: start.head_len,
            data: 0,
            sent: false,
            dirty: false,
            written: 0,
            failure: start.failure,
            error: start.failure.map(|_| StreamError::Unsupported),
        }
    }

    /// Body bytes written so far (dropped ones too, for HEAD).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Whether the body is dropped (HEAD request, or a status without a body): writes
    /// succeed and send nothing, so a handler may skip producing it.
    pub fn is_discarded(&self) -> bool {
        self.delimit == Delimit::Discard
    }

    fn reserve(&self) -> usize {
        if self.delimit == Delimit::Chunked {
            CHUNK_LINE
        } else {
            0
        }
    }

    /// Room for data after what is pending, before the end reserve.
    fn capacity(&self) -> usize {
        let tail = if self.delimit == Delimit::Chunked {
            CHUNK_TAIL
        } else {
            0
        };
        self.tx
            .len()
            .saturating_sub(self.pending + self.reserve() + tail)
    }

    fn fail(&mut self, error: StreamError, failure: Failure) -> StreamError {
        self.error.get_or_insert(error);
        self.failure.get_or_insert(failure);
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
        match &mut self.delimit {
            Delimit::Discard => {
                self.written += len as u64;
                return Ok(false);
            }
            Delimit::Length {
                declared,
                remaining,
            } => {
                if len as u64 > *remaining {
                    let declared = *declared;
                    return Err(
                        self.fail(StreamError::TooLong, Failure::StreamTooLong { declared })
                    );
                }
                *remaining -= len as u64;
            }
            Delimit::Chunked | Delimit::UntilClose => {}
        }
        self.written += len as u64;
        Ok(true)
    }

    /// Put a chunk-size line for `len` bytes at `tx[pending..]`.
    fn push_chunk_line(&mut self, len: usize) -> Result<(), StreamError> {
        let mut line = [0u8; CHUNK_LINE];
        let n = write_hex(len as u64, &mut line);
        line[n..n + 2].copy_from_slice(b"\r\n");
        match self.tx.get_mut(self.pending..self.pending + n + 2) {
            Some(dst) => dst.copy_from_slice(&line[..n + 2]),
            None => return Err(self.fail(StreamError::Unsupported, Failure::NeedsDriver)),
        }
        self.pending += n + 2;
        Ok(())
    }

    /// Frame the buffered data (a chunk), so that `tx[..pending]` is ready to send.
    fn frame(&mut self) {
        if self.data == 0 {
            return;
        }
        let start = self.pending + self.reserve();
        if self.delimit == Delimit::Chunked {
            let mut line = [0u8; CHUNK_LINE];
            let n = write_hex(self.data as u64, &mut line);
            line[n..n + 2].copy_from_slice(b"\r\n");
            self.tx[self.pending..self.pending + n + 2].copy_from_slice(&line[..n + 2]);
            let at = self.pending + n + 2;
            self.tx.copy_within(start..start + self.data, at);
            self.tx[at + self.data..at + self.data + 2].copy_from_slice(b"\r\n");
            self.pending = at + self.data + 2;
        } else {
            self.pending += self.data;
        }
        self.data = 0;
    }

    /// Send `tx[..pending]`, or `extra` after it (bytes sent from where they lie).
    async fn send_pending(&mut self, extra: &[u8]) -> Result<(), StreamError> {
        let Some(link) = self.link.as_deref_mut() else {
            return Err(self.fail(StreamError::Unsupported, Failure::NeedsDriver));
        };
        self.dirty = true;
        let mut result = send_all(link, &self.tx[..self.pending]).await;
        if result.is_ok() {
            result = send_all(link, extra).await;
        }
        self.dirty = false;
        self.sent = true;
        self.pending = 0;
        result.map_err(|e| self.fail(e, Failure::StreamWrite))
    }

    /// Write body bytes. They may wait in the transmit buffer; see
    /// [`ResponseStream::flush_async`].
    pub async fn write_async(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        if !self.admit(bytes.len())? {
            return Ok(());
        }
        let mut bytes = bytes;
        while !bytes.is_empty() {
            let capacity = self.capacity();
            if self.data == 0 && bytes.len() >= capacity && self.link.is_some() {
                // Larger than the buffer: its chunk line goes out with what is pending, then
                // the bytes from where they lie; the chunk's CRLF waits for the next send.
                if self.delimit == Delimit::Chunked {
                    self.push_chunk_line(bytes.len())?;
                }
                self.send_pending(bytes).await?;
                if self.delimit == Delimit::Chunked {
                    self.tx[..2].copy_from_slice(b"\r\n");
                    self.pending = 2;
                }
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
            self.tx[at..at + n].copy_from_slice(&bytes[..n]);
            self.data += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// [`ResponseStream::write_async`] for blocking handlers.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        block(self.is_blocking(), self.write_async(bytes))
    }

    /// Whether the blocking methods may be used: no driver (everything is staged), or a
    /// blocking one.
    pub(crate) fn is_blocking(&self) -> bool {
        self.link.as_deref().is_none_or(Channel::is_blocking)
    }

    /// Write a string.
    pub fn write_str(&mut self, s: &str) -> Result<(), StreamError> {
        self.write(s.as_bytes())
    }

    /// Write a number in decimal, without `core::fmt`.
    pub fn write_u64(&mut self, n: u64) -> Result<(), StreamError> {
        let mut digits = [0u8; 20];
        let len = crate::response::write_decimal(n, &mut digits).unwrap_or(0);
        self.write(&digits[..len])
    }

    /// Send what has been written so far (the head too, if it is still waiting) now: a live
    /// stream (events, a log) flushes after each piece.
    pub async fn flush_async(&mut self) -> Result<(), StreamError> {
        self.check()?;
        if self.link.is_none() {
            // Without a driver everything leaves at the end.
            return Ok(());
        }
        self.frame();
        if self.pending == 0 {
            return Ok(());
        }
        self.send_pending(&[]).await
    }

    /// [`ResponseStream::flush_async`] for blocking handlers.
    pub fn flush(&mut self) -> Result<(), StreamError> {
        block(self.is_blocking(), self.flush_async())
    }

    /// The driver's clock in milliseconds, if it has one.
    pub fn now_ms(&mut self) -> Option<u64> {
        self.link.as_deref_mut().and_then(|link| link.now_ms())
    }

    /// Wait `ms` milliseconds between pieces. Fails with [`StreamError::ShuttingDown`] when
    /// the server is stopping: finish the stream then.
    pub async fn sleep_ms_async(&mut self, ms: u64) -> Result<(), StreamError> {
        match self.link.as_deref_mut() {
            Some(link) => sleep(link, ms).await,
            None => Err(StreamError::Unsupported),
        }
    }

    /// [`ResponseStream::sleep_ms_async`] for blocking handlers.
    pub fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        block(self.is_blocking(), self.sleep_ms_async(ms))
    }

    /// End the body: the last chunk for a chunked body; for a declared length, a close if
    /// fewer bytes were written (the client then sees a failed transfer). Sends what is left.
    pub async fn finish_async(mut self) -> Responded {
        if self.check().is_err() {
            return self.abort();
        }
        self.frame();
        match self.delimit {
            Delimit::Chunked => {
                // `capacity` kept room for it.
                self.tx[self.pending..self.pending + 5].copy_from_slice(b"0\r\n\r\n");
                self.pending += 5;
            }
            Delimit::Length {
                declared,
                remaining,
            } if remaining > 0 => {
                let written = declared - remaining;
                self.fail(
                    StreamError::TooLong,
                    Failure::StreamTooShort { declared, written },
                );
            }
            _ => {}
        }
        if self.link.is_some() {
            let _ = self.send_pending(&[]).await;
        }
        self.conclude()
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
        self.failure.get_or_insert(Failure::StreamAborted);
        self.close = true;
        if !self.sent && !self.dirty {
            *self.out = fallback_500(self.tx, self.failure);
            return Responded(());
        }
        self.conclude()
    }

    /// Tell the connection how the response went.
    fn conclude(self) -> Responded {
        *self.out = Outgoing {
            staged: if self.link.is_some() { 0 } else { self.pending },
            body: &[],
            status: self.status,
            close: self.close,
            streamed: self.link.is_some(),
            failure: self.failure,
            request_body: &[],
            error: None,
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
