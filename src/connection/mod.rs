//! The per-connection state machine, without IO: bytes in, actions out.
//!
//! A driver loops on [`Connection::poll`] and does what the returned [`Action`] says: read
//! into [`Connection::read_buf`] and report with [`Connection::received`], write the
//! [`Transmit`]'s bytes, or close. The connection reads the head (however it is split across
//! reads), reads the body by its framing, calls the application once, stages the response,
//! keeps pipelined bytes for the next request, and decides keep-alive or close. Protocol
//! errors become their status response followed by a close. Time comes in from the driver as
//! [`Connection::timed_out`]; nothing here reads a clock.

mod body_in;

use crate::body::{ChunkedDecoder, Framing};
use crate::error::{Error, Failure};
use crate::request::{parse_head, HeadScanner, Method, Request, Scan, Version, EMPTY_HEADER};
use crate::response::{Outgoing, Responded, Responder, ResponseContext, Status};
use crate::router::Handler;
use crate::stream::{Channel, StreamError, Wire};
use body_in::{BodyIn, Decoding};
use core::task::{Context, Poll};

/// How many header fields a request may carry by default. Browsers send 10 to 20; each slot
/// costs two slices (16 bytes on 32-bit targets) of stack while a request is handled.
pub const DEFAULT_MAX_HEADERS: usize = 32;

/// Size limits on a request, on top of the buffer's own size. The defaults fit a
/// microcontroller; the buffer usually binds first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest request-target in bytes (414 beyond). 1 KiB holds any URL a small device
    /// serves; RFC 9112 §3 recommends supporting at least 8000 octets, which a host server can
    /// configure.
    pub max_target: usize,
    /// Largest head (request line + headers + blank line) in bytes (431 beyond, or 414 if the
    /// request line alone does not fit). Capped by the receive buffer.
    pub max_head: usize,
    /// Largest body in bytes (413 beyond). Capped by the receive buffer minus the head, since
    /// the body is handed to the handler whole.
    pub max_body: u64,
    /// Longest chunk extension (`;name=value...`) per chunk, in bytes (400 beyond). Extensions
    /// are skipped, so a long one only costs time; the bound keeps that time finite.
    pub max_chunk_extension: usize,
    /// Largest trailer section of a chunked body, in bytes (431 beyond). Trailers are checked
    /// and dropped.
    pub max_trailers: usize,
}

impl Limits {
    /// The defaults: 1 KiB targets, 8 KiB heads, bodies bounded only by the buffer, 256-byte
    /// chunk extensions, 1 KiB trailers.
    pub const DEFAULT: Limits = Limits {
        max_target: 1024,
        max_head: 8 * 1024,
        max_body: u64::MAX,
        max_chunk_extension: 256,
        max_trailers: 1024,
    };
}

/// How long a peer may take, in the driver's milliseconds. The core reads no clock: drivers
/// pass the time to [`Connection::read_deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Between requests: an idle keep-alive connection is closed (silently) after this.
    pub idle_ms: u64,
    /// From a request's first bytes until it is complete, head and body; then 408. A deadline
    /// rather than a per-read timeout, so a client trickling bytes cannot hold a connection.
    pub request_ms: u64,
    /// How long a write may make no progress (a client that stops reading a response); then
    /// the connection is dropped. Drivers whose transport has its own write timeout (a
    /// socket's `SO_SNDTIMEO`) leave it to the transport.
    pub write_ms: u64,
}

impl Timeouts {
    /// 5 s idle, 10 s per request, 5 s per write.
    pub const DEFAULT: Timeouts = Timeouts {
        idle_ms: 5_000,
        request_ms: 10_000,
        write_ms: 5_000,
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What the driver must do next.
#[derive(Debug)]
pub enum Action<'a> {
    /// Read from the peer into [`Connection::read_buf`], then call [`Connection::received`]
    /// (with 0 at end of stream) or [`Connection::timed_out`].
    Read,
    /// Write these bytes, then poll again. Either a final response, or an interim
    /// `100 Continue` (then [`Transmit::exchange`] is `None`).
    Write(Transmit<'a>),
    /// Close the connection; polling again returns `Close` again.
    Close,
}

/// A response ready to be written: `head`, then `body` (usually empty, because small bodies are
/// staged in `head` so that one write carries both).
#[derive(Debug)]
pub struct Transmit<'a> {
    /// Status line, headers and (when it fit) the body.
    pub head: &'a [u8],
    /// The rest of the body, when it did not fit the transmit buffer.
    pub body: &'a [u8],
    /// What was asked and answered, for logging; `None` for an interim `100 Continue`.
    pub exchange: Option<Exchange<'a>>,
}

/// One request and its answer, as a driver may log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange<'a> {
    /// The method, if the request got far enough to have one.
    pub method: Option<Method>,
    /// The request path (still percent-encoded), or `""` if the request line was not parsed.
    pub path: &'a str,
    /// The status sent.
    pub status: Status,
    /// The protocol error that caused the response, if any; the connection closes after it.
    pub error: Option<Error>,
    /// Why the response is a 500 or a streamed body ended early, when the handler did not
    /// choose it (a head that did not fit, a refused header, a short stream...).
    pub failure: Option<Failure>,
    /// The connection closes after this response.
    pub close: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a request head.
    Head,
    /// The head at the request start is `head_len` bytes and valid; waiting until `body_len`
    /// body bytes follow it.
    Body {
        head_len: usize,
        body_len: usize,
        send_continue: bool,
    },
    /// A chunked body after a valid head: `decoded` body bytes follow the head, then the
    /// encoded bytes not yet decoded.
    Chunked {
        head_len: usize,
        decoded: usize,
        decoder: ChunkedDecoder,
        send_continue: bool,
    },
    /// The last response said `Connection: close`; nothing more is read.
    Closing,
}

/// Empty lines skipped before a request line (RFC 9112 §2.2 asks for at least one).
pub const MAX_EMPTY_LINES: u8 = 8;

/// The interim response to `Expect: 100-continue` (RFC 9110 §15.2.1).
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// One HTTP/1.1 connection's protocol state, over two caller-provided buffers: `rx` holds the
/// request head and body (and pipelined bytes after them), `tx` holds the response head and
/// small bodies.
///
/// `MAX_HEADERS` sizes the header table, which lives on the stack only while a request is
/// handled.
#[derive(Debug)]
pub struct Connection<'b, const MAX_HEADERS: usize = DEFAULT_MAX_HEADERS> {
    rx: &'b mut [u8],
    tx: &'b mut [u8],
    limits: Limits,
    cursor: Cursor,
}

/// A [`Connection`]'s state without its buffers: see [`Connection::park`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parked {
    limits: Limits,
    cursor: Cursor,
    rx_len: usize,
    tx_len: usize,
}

impl Parked {
    /// Whether no byte of a next request has arrived (see [`Connection::is_idle`]).
    pub fn is_idle(&self) -> bool {
        self.cursor.is_idle()
    }
}

/// Where a connection is in its byte stream and its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    /// The current request begins at `rx[start]`.
    start: usize,
    /// `rx[..filled]` holds received bytes.
    filled: usize,
    scanner: HeadScanner,
    /// Empty lines skipped before the current request line.
    empty_lines: u8,
    state: State,
    peer_closed: bool,
    timed_out: bool,
    /// When the current request's first bytes were seen, in the driver's milliseconds.
    request_started_ms: Option<u64>,
    /// When the connection became idle (after a response, or at the start).
    idle_since_ms: Option<u64>,
}

impl Cursor {
    /// No byte of a next request is here.
    fn is_idle(&self) -> bool {
        self.state == State::Head && self.start == self.filled
    }

    const NEW: Cursor = Cursor {
        start: 0,
        filled: 0,
        scanner: HeadScanner::new(),
        empty_lines: 0,
        state: State::Head,
        peer_closed: false,
        timed_out: false,
        request_started_ms: None,
        idle_since_ms: None,
    };
}

impl<'b> Connection<'b> {
    /// A connection with the default header table and [`Limits::DEFAULT`].
    ///
    /// `rx` bounds the head plus body of one request (1 KiB serves simple pages and forms; a
    /// browser's head is 400 to 800 bytes). `tx` holds a response head and small bodies
    /// staged with it: 256 bytes is a workable minimum, smaller buffers make every response a
    /// 500 or a silent close.
    pub fn new(rx: &'b mut [u8], tx: &'b mut [u8]) -> Self {
        Self::with_limits(rx, tx, Limits::DEFAULT)
    }
}

impl<'b, const MAX_HEADERS: usize> Connection<'b, MAX_HEADERS> {
    /// A connection with explicit limits (and a header table of `MAX_HEADERS` entries).
    pub fn with_limits(rx: &'b mut [u8], tx: &'b mut [u8], limits: Limits) -> Self {
        Connection {
            rx,
            tx,
            limits,
            cursor: Cursor::NEW,
        }
    }

    /// Forget everything and start over, as for a new peer on the same buffers.
    pub fn reset(&mut self) {
        self.cursor = Cursor::NEW;
    }

    /// Set the connection aside without its buffers (they must stay as they are): an event
    /// loop keeps many connections this way, buffers in one place and state in another, and
    /// [`Connection::unpark`]s one when its socket is ready.
    pub fn park(self) -> Parked {
        Parked {
            limits: self.limits,
            cursor: self.cursor,
            rx_len: self.rx.len(),
            tx_len: self.tx.len(),
        }
    }

    /// Take up a [`Parked`] connection again, on the buffers it was parked with. Buffers of
    /// other sizes start it over as a new connection (a mistake, but never a panic).
    pub fn unpark(rx: &'b mut [u8], tx: &'b mut [u8], parked: Parked) -> Self {
        let same = rx.len() == parked.rx_len && tx.len() == parked.tx_len;
        Connection {
            rx,
            tx,
            limits: parked.limits,
            cursor: if same { parked.cursor } else { Cursor::NEW },
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// No bytes of a next request have arrived: a timeout now is an idle keep-alive timeout,
    /// answered by a silent close rather than 408.
    pub fn is_idle(&self) -> bool {
        self.cursor.is_idle()
    }

    /// When the next read must complete, given the time now (any monotonic milliseconds):
    /// `idle_ms` after the connection became idle between requests, `request_ms` after the
    /// current request's first bytes otherwise. Asking again does not move the deadline. If
    /// it is not after `now_ms`, call [`Connection::timed_out`] instead of reading.
    pub fn read_deadline(&mut self, now_ms: u64, timeouts: &Timeouts) -> u64 {
        let idle = self.is_idle();
        let cursor = &mut self.cursor;
        if idle {
            cursor.request_started_ms = None;
            let since = *cursor.idle_since_ms.get_or_insert(now_ms);
            return since.saturating_add(timeouts.idle_ms);
        }
        cursor.idle_since_ms = None;
        // First asked just after the read that brought the request's first bytes.
        let started = *cursor.request_started_ms.get_or_insert(now_ms);
        started.saturating_add(timeouts.request_ms)
    }

    /// Where the driver reads to. Never empty when [`Action::Read`] was returned.
    pub fn read_buf(&mut self) -> &mut [u8] {
        if self.cursor.start > 0 {
            // Move the unread bytes (a partial or pipelined request) to the front.
            self.rx
                .copy_within(self.cursor.start..self.cursor.filled, 0);
            self.cursor.filled -= self.cursor.start;
            self.cursor.start = 0;
        }
        &mut self.rx[self.cursor.filled..]
    }

    /// Report that `n` bytes were read into [`Connection::read_buf`]; `0` means the peer
    /// closed its sending side.
    pub fn received(&mut self, n: usize) {
        if n == 0 {
            self.cursor.peer_closed = true;
        }
        // A driver cannot claim more than the buffer it was given.
        self.cursor.filled = (self.cursor.filled + n).min(self.rx.len());
    }

    /// Report that the peer sent nothing for the driver's timeout. Mid-request this yields a
    /// 408 response and a close; between requests, a close.
    pub fn timed_out(&mut self) {
        self.cursor.timed_out = true;
    }

    /// Advance the state machine: parse what has arrived, call `app` once a request is whole,
    /// and say what the driver must do.
    pub fn poll<A: Handler + ?Sized>(&mut self, app: &mut A) -> Action<'_> {
        match self.step() {
            Next::Action(action) => action,
            Next::Request(pending) => pending.handle(app),
        }
    }

    /// Advance the state machine without calling a handler: either an action for the driver,
    /// or a whole request for the driver to hand to its handler through [`Pending`]. This is
    /// [`Connection::poll`] for drivers that lend the handler their transport (streaming) or
    /// whose handlers await. The head is validated against a table of `MAX_HEADERS` slots on
    /// the stack of this call; the request keeps no table.
    pub fn step(&mut self) -> Next<'_> {
        match self.cursor.state {
            State::Closing => Next::Action(Action::Close),
            State::Head => match self.scan_head() {
                Ok(Some(head_len)) => self.prepare(head_len, None),
                Ok(None) => Next::Action(self.wait()),
                Err(e) => Next::Action(fail(&mut self.cursor.state, self.tx, e, None)),
            },
            State::Body {
                head_len, body_len, ..
            } => {
                if self.cursor.filled - self.cursor.start < head_len + body_len {
                    return Next::Action(self.wait());
                }
                self.prepare(head_len, Some(body_len))
            }
            State::Chunked { head_len, .. } => match self.decode_more() {
                Ok(Some(body_len)) => self.prepare(head_len, Some(body_len)),
                Ok(None) => Next::Action(self.wait()),
                Err(e) => Next::Action(fail(&mut self.cursor.state, self.tx, e, None)),
            },
        }
    }

    /// Look for the end of the head; `Ok(None)` means more bytes are needed.
    fn scan_head(&mut self) -> Result<Option<usize>, Error> {
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
    fn decode_more(&mut self) -> Result<Option<usize>, Error> {
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
        )?;
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
    fn wait(&mut self) -> Action<'_> {
        if self.is_idle() && (self.cursor.timed_out || self.cursor.peer_closed) {
            self.cursor.state = State::Closing;
            return Action::Close;
        }
        wait_for_more(&mut self.cursor, self.tx)
    }

    /// A complete head of `head_len` bytes starts at `rx[start]`: validate it, and hand out
    /// the request: with its body once the body is here too (`body_len` if already known), or
    /// with the body still to come, for the handler to decide.
    fn prepare(&mut self, head_len: usize, body_len: Option<usize>) -> Next<'_> {
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
            keep_alive: head.keep_alive,
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
                let (decoded, removed) =
                    match decode_chunks(&mut decoder, &mut after[..received], 0) {
                        Ok(progress) => progress,
                        Err(e) => {
                            let request = Some(&head.request);
                            return Next::Action(fail(&mut cursor.state, tx, e, request));
                        }
                    };
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
        };
        let (body, rest) = after.split_at_mut(body_len);
        let body: &[u8] = body;
        Next::Request(Pending {
            request: head.request.with_body(body),
            ctx,
            tx,
            consumed: head_len + body_len,
            head_len,
            cursor,
            limits: *limits,
            rest,
            unread,
        })
    }
}

/// What [`Connection::step`] found.
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
struct Unread {
    /// Body bytes decoded at the front of the buffer after the head (chunked).
    decoded: usize,
    /// Bytes received after the head (decoded ones included).
    received: usize,
    decoding: Decoding,
    expect_continue: bool,
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
    limits: Limits,
    /// The receive buffer after the head and the whole body (all of it after the head when
    /// the body has not all arrived).
    rest: &'c mut [u8],
    unread: Option<Unread>,
}

impl<'c> Pending<'c> {
    /// The request.
    pub fn request(&self) -> &Request<'c> {
        &self.request
    }

    /// When the request's first bytes were seen, in the driver's milliseconds, if the driver
    /// asked for a [`Connection::read_deadline`] since: the request deadline counts from
    /// there while a streamed body is read.
    pub fn started_ms(&self) -> Option<u64> {
        self.cursor.request_started_ms
    }

    /// Run `app` on the request, without a driver: a body that has not all arrived is
    /// waited for in the receive buffer (413 if it cannot fit), and a streamed response must
    /// fit the transmit buffer. The response to write, or a close.
    pub fn handle<A: Handler + ?Sized>(self, app: &mut A) -> Action<'c> {
        if self.unread.is_some() {
            return self.buffer_body();
        }
        let mut out = Outgoing::NONE;
        let _: Responded = app.handle(
            &self.request,
            Responder::new(&mut *self.tx, &mut out, self.ctx),
        );
        self.finish(out, None)
    }

    /// Run `app` on the request with the driver's `wire` at hand: a route that accepts a
    /// streamed body ([`Handler::stream_limit`]) reads it as it arrives, and a response may
    /// stream. The action that returns is the response to write (empty when it was
    /// streamed; it still carries the exchange for the log), or a close.
    pub fn handle_with<A: Handler + ?Sized>(self, app: &mut A, wire: &mut dyn Wire) -> Action<'c> {
        let limit = self.unread.and_then(|_| app.stream_limit(&self.request));
        let mut open = match self.open(limit, wire) {
            Ok(open) => open,
            Err(action) => return action,
        };
        let request = open.request;
        let _: Responded = app.handle(&request, open.responder());
        open.close()
    }

    /// Set up the exchange for an async `app` with the driver's `wire` at hand, the async
    /// twin of [`Pending::handle_with`]: `Ok` is the future that runs the handler (it holds
    /// only what the handler needs; await it, then do the action it returns), `Err` an action
    /// to do at once (a refused body, or one to wait for in the buffer).
    #[cfg(feature = "async")]
    pub fn handle_async<'x, A: crate::io::asynch::AsyncHandler + ?Sized>(
        self,
        app: &'x mut A,
        wire: &'x mut dyn Wire,
    ) -> Result<impl core::future::Future<Output = Action<'c>> + 'x, Action<'c>>
    where
        'c: 'x,
    {
        let limit = self.unread.and_then(|_| app.stream_limit(&self.request));
        Ok(self.open(limit, wire)?.run(app))
    }

    /// Begin the exchange: with a body still to come, stream it to a handler that takes one
    /// up to `limit` (413 at once for a larger declared length), else wait for it in the
    /// buffer (the returned action).
    fn open<'w>(
        self,
        limit: Option<u64>,
        wire: &'w mut dyn Wire,
    ) -> Result<Open<'c, 'w>, Action<'c>> {
        wire.request_started_at(self.cursor.request_started_ms);
        let streamed = match (self.unread, limit) {
            (None, _) => None,
            (Some(_), None) => return Err(self.buffer_body()),
            (Some(unread), Some(limit)) => {
                let limit = limit.min(self.limits.max_body);
                if matches!(unread.decoding, Decoding::Length(n) if n > limit) {
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
            ..
        } = self;
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
                body: streamed.map(|(unread, limit)| {
                    BodyIn::new(
                        rest,
                        unread.decoded,
                        unread.received,
                        unread.decoding,
                        limit,
                    )
                }),
                send_continue: streamed.is_some_and(|(unread, _)| unread.expect_continue),
                continue_sent: 0,
                broken: false,
            },
        })
    }

    /// Wait for the rest of the body in the receive buffer (today's path for handlers that
    /// take `req.body()` whole): 413 if it cannot fit.
    fn buffer_body(self) -> Action<'c> {
        let Some(unread) = self.unread else {
            return Action::Read;
        };
        let cursor = self.cursor;
        let room = self.rest.len();
        let request = Some(&self.request);
        match unread.decoding {
            Decoding::Length(n) => {
                if n > self.limits.max_body || n > room as u64 {
                    return fail(&mut cursor.state, self.tx, Error::BodyTooLarge, request);
                }
                cursor.state = State::Body {
                    head_len: self.head_len,
                    // Fits the buffer, so a usize.
                    body_len: n as usize,
                    send_continue: unread.expect_continue,
                };
            }
            Decoding::Chunked(decoder) => {
                let used = self.head_len + unread.received;
                let capacity = self.head_len + room;
                match chunked_progress(&self.limits, unread.decoded, false, used, capacity) {
                    Ok(_) => {
                        cursor.state = State::Chunked {
                            head_len: self.head_len,
                            decoded: unread.decoded,
                            decoder,
                            send_continue: unread.expect_continue,
                        }
                    }
                    Err(e) => return fail(&mut cursor.state, self.tx, e, request),
                }
            }
            Decoding::Done => {}
        }
        wait_for_more(cursor, self.tx)
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
                error: None,
                failure: out.failure,
                close: out.close,
            }),
        })
    }
}

/// An exchange under way: the request, the driver's link, and the response's state.
struct Open<'c, 'w> {
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
    /// Run an async handler on the exchange. (Not an `async fn`: its future would hold the
    /// exchange twice, as argument and as local.)
    #[cfg(feature = "async")]
    fn run<'x, A: crate::io::asynch::AsyncHandler + ?Sized>(
        self,
        app: &'x mut A,
    ) -> impl core::future::Future<Output = Action<'c>> + use<'c, 'w, 'x, A>
    where
        'c: 'x,
        'w: 'x,
    {
        let mut open = self;
        async move {
            // Field by field, so that the request is borrowed where it lies, not copied.
            let Open {
                request,
                ctx,
                tx,
                out,
                link,
                ..
            } = &mut open;
            let responder = Responder::linked(
                tx,
                out,
                *ctx,
                request.body(),
                Some(link as &mut dyn Channel),
            );
            let _: Responded = app.handle(request, responder).await;
            open.close()
        }
    }

    /// What the handler answers through.
    fn responder(&mut self) -> Responder<'c, '_> {
        let body = self.request.body();
        Responder::linked(
            &mut *self.tx,
            &mut self.out,
            self.ctx,
            body,
            Some(&mut self.link),
        )
    }

    /// Move past the request (after a streamed body: to what followed it, if all of it is
    /// here; else close) and hand out the response.
    fn close(self) -> Action<'c> {
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

    fn available_body(&self) -> &[u8] {
        self.body.as_ref().map_or(&[], BodyIn::available)
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

/// Decode what has arrived of a chunked body in place: `body` holds `decoded` body bytes, then
/// encoded bytes. Returns the new decoded length and how many bytes the buffer shrank by (the
/// encoding that was consumed; bytes after the body move down to follow it).
fn decode_chunks(
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

/// Answer a protocol error with its status, and close after it. The log keeps the request's
/// method and path when they were parsed.
fn fail<'t>(
    state: &mut State,
    tx: &'t mut [u8],
    error: Error,
    request: Option<&Request<'t>>,
) -> Action<'t> {
    *state = State::Closing;
    let ctx = ResponseContext {
        head_only: false,
        version: Version::Http11,
        keep_alive: false,
    };
    let mut out = Outgoing::NONE;
    let _ = Responder::new(tx, &mut out, ctx)
        .start(error.status())
        .header("Content-Type", "text/plain; charset=utf-8")
        .body_with(|w| {
            w.push_str(error.as_str());
            w.push_str("\n");
        });
    if out.staged == 0 {
        return Action::Close;
    }
    Action::Write(Transmit {
        head: &tx[..out.staged],
        body: &[],
        exchange: Some(Exchange {
            method: request.map(Request::method),
            path: request.map_or("", Request::path),
            status: error.status(),
            error: Some(error),
            failure: None,
            close: true,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Responded;

    /// Echo app: `<METHOD> <path> <body>` as text.
    fn app(req: &crate::Request<'_>, res: Responder<'_, '_>) -> Responded {
        let (method, path, body) = (req.method(), req.path(), req.body());
        res.start(Status::OK).body_with(|w| {
            w.push_str(method.as_str());
            w.push_str(" ");
            w.push_str(path);
            w.push_str(" ");
            w.push(body);
        })
    }

    /// Feed `input` in pieces of `step` bytes; collect everything written until Close.
    fn run(input: &[u8], step: usize, rx_size: usize) -> Vec<u8> {
        let mut rx = vec![0u8; rx_size];
        let mut tx = vec![0u8; 256];
        let mut conn: Connection<'_> = Connection::new(&mut rx, &mut tx);
        let mut app = app;
        let mut fed = 0;
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match conn.poll(&mut app) {
                Action::Read => {
                    let buf = conn.read_buf();
                    assert!(!buf.is_empty());
                    let n = step.min(buf.len()).min(input.len() - fed);
                    buf[..n].copy_from_slice(&input[fed..fed + n]);
                    fed += n;
                    conn.received(n);
                }
                Action::Write(t) => {
                    out.extend_from_slice(t.head);
                    out.extend_from_slice(t.body);
                }
                Action::Close => return out,
            }
        }
        panic!("connection did not finish");
    }

    #[test]
    fn pipelined_requests_with_bodies_any_split() {
        let input = b"\r\nPOST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
        let expected = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nPOST /a abc\
                        HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nGET /b ";
        for step in 1..=input.len() {
            assert_eq!(
                String::from_utf8(run(input, step, 128)).unwrap(),
                expected,
                "step {step}"
            );
        }
    }

    #[test]
    fn limits_map_to_414_431_413() {
        let status = |input: &[u8], rx: usize| {
            let out = run(input, input.len(), rx);
            String::from_utf8(out[..12].to_vec()).unwrap()
        };
        let mut long_line = b"GET /".to_vec();
        long_line.resize(200, b'a');
        assert_eq!(status(&long_line, 128), "HTTP/1.1 414");
        let mut long_head = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long_head.resize(200, b'a');
        assert_eq!(status(&long_head, 128), "HTTP/1.1 431");
        assert_eq!(
            status(
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 200\r\n\r\n",
                128
            ),
            "HTTP/1.1 413"
        );
    }

    #[test]
    fn incomplete_request_at_eof_is_400_and_idle_eof_is_silent() {
        assert!(run(b"GET / HTTP/1.1\r\nHost:", 4, 128).starts_with(b"HTTP/1.1 400"));
        assert!(run(b"", 4, 128).is_empty());
    }

    #[test]
    fn timeout_mid_request_is_408_idle_is_close() {
        let mut rx = [0u8; 128];
        let mut tx = [0u8; 256];
        let mut conn: Connection<'_> = Connection::new(&mut rx, &mut tx);
        let mut app = app;
        assert!(matches!(conn.poll(&mut app), Action::Read));
        assert!(conn.is_idle());
        let part = b"GET / HT";
        conn.read_buf()[..part.len()].copy_from_slice(part);
        conn.received(part.len());
        assert!(matches!(conn.poll(&mut app), Action::Read));
        assert!(!conn.is_idle());
        conn.timed_out();
        match conn.poll(&mut app) {
            Action::Write(t) => {
                assert!(t.head.starts_with(b"HTTP/1.1 408"));
                assert_eq!(t.exchange.and_then(|e| e.error), Some(Error::Timeout));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(conn.poll(&mut app), Action::Close));

        conn.reset();
        conn.timed_out();
        assert!(matches!(conn.poll(&mut app), Action::Close));
    }
}
