//! The per-connection state machine, without IO: bytes in, actions out.
//!
//! Owns: the connection's buffers and where it is in its byte stream ([`Connection`]), the
//! reading half (`reading.rs`), the hand-over from reading to writing (`exchange.rs`), a
//! request body read as it arrives (`incoming.rs`), the link to a driver while a handler runs
//! and the read deadlines both drivers share (`link.rs`), the writing half (`writing.rs`);
//! deadlines computed from times the driver passes in ([`Timeouts`]), [`Limits`], and the
//! error -> status mapping of a refused request. Everything that changes the state machine
//! lives in this folder.
//!
//! Never does: touch a socket or a clock, know about routers, handlers' types or drivers, or
//! frame bytes itself (the wire's codecs do).
//!
//! # Theory of operation
//!
//! A driver loops on [`Connection::step`] and does what it is told: read into
//! [`Connection::read_buf`] and report with [`Connection::received`] (0 at end of stream) or
//! [`Connection::timed_out`]; write a [`Transmit`]'s bytes; close. When a request's head is
//! whole, `step` hands out a [`Pending`] request instead, which the handler layer runs (with
//! the driver's [`Wire`] when the body or the response streams), and which yields the next
//! action.
//!
//! The machine has two halves, as hyper's and h11's do:
//! - reading (`reading.rs`): waiting for a head, then for a body taken whole (by length, or
//!   chunked and decoded in place), or handing the body to the handler as it arrives
//!   (`incoming.rs`); or closing;
//! - writing (`writing.rs`): the response staged in the transmit buffer, or streamed while
//!   the handler runs (chunked, by declared length, or until close), written through the
//!   outbox the exchange lends the handler layer.
//!
//! Invariants:
//! - `rx[start..filled]` holds the bytes not yet consumed: the current request from its
//!   first byte, then whatever was pipelined behind it; nothing before `start` is needed.
//! - Errors are sticky: a protocol error becomes its status response with
//!   `Connection: close`, after which the connection only closes (`State::Closing`).
//! - A response is only ever framed by this crate (`Content-Length`, chunked, or close), and
//!   a connection goes on to a next request only when both the request body and the response
//!   are complete on the wire.
//! - Time comes from the driver ([`Connection::read_deadline`], `timed_out`); nothing here
//!   reads a clock.

mod exchange;
mod incoming;
mod link;
mod reading;
mod writing;

#[cfg(feature = "async")]
pub(crate) use exchange::Open;
pub use exchange::{Next, Pending};
pub use link::Wire;
pub(crate) use link::{Channel, ReadDeadlines};
#[cfg(test)]
pub(crate) use writing::ResponseContext;
pub(crate) use writing::{Outbox, Outgoing, Sent};

use crate::error::{Error, Failure};
use crate::wire::body_in::ChunkedDecoder;
use crate::wire::request_head::HeadScanner;
use crate::wire::response_head::error_response;
use crate::wire::{Method, Request, Status};

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

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// How many header fields a request may carry by default. Browsers send 10 to 20; each slot
/// costs two slices (16 bytes on 32-bit targets) of stack while a request is handled.
pub const DEFAULT_MAX_HEADERS: usize = 32;

/// How long a peer may take, in the driver's milliseconds. The core reads no clock: drivers
/// pass the time to [`Connection::read_deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Between requests: an idle keep-alive connection is closed (silently) after this.
    pub idle_ms: u64,
    /// From a request's first bytes until it is complete, head and body; then 408. A deadline
    /// rather than a per-read timeout, so a client trickling bytes cannot hold a connection.
    pub request_ms: u64,
    /// From a request's first bytes until its head is complete (never more than
    /// `request_ms`); then 408. A host shortens it under load so that slow heads (slowloris)
    /// give way to requests that make progress; a body keeps `request_ms`.
    pub head_ms: u64,
    /// How long a write may take (a client that stops reading a response); then the
    /// connection is dropped. Each piece of a streamed body (at most the transmit buffer)
    /// must be written whole within it, so a client that reads a byte now and then is
    /// dropped too. The blocking driver times its response heads and staged bodies by the
    /// transport's own timeout (a socket's `SO_SNDTIMEO`), the async driver by this one.
    pub write_ms: u64,
    /// While a request body streams to its handler (a route with `.stream_body`), how long
    /// the server waits for each next piece, in place of `request_ms` once the head is in: an
    /// upload that keeps making progress (a firmware image over slow Wi-Fi) is not cut,
    /// and one that stalls gets 408. `None`: the request deadline counts for the body too.
    pub body_idle_ms: Option<u64>,
}

impl Timeouts {
    /// 5 s idle, 10 s per request (and its head), 5 s per write, 5 s between the pieces of
    /// a streamed body.
    pub const DEFAULT: Timeouts = Timeouts {
        idle_ms: 5_000,
        request_ms: 10_000,
        head_ms: 10_000,
        write_ms: 5_000,
        body_idle_ms: Some(5_000),
    };
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::DEFAULT
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
const MAX_EMPTY_LINES: u8 = 8;

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
    /// Every response from now on says `Connection: close` (the server is stopping).
    no_keep_alive: bool,
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
        no_keep_alive: false,
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
    /// `idle_ms` after the connection became idle between requests; after the current
    /// request's first bytes, `head_ms` while its head is incomplete and `request_ms` then.
    /// Asking again does not move the deadline (but different timeouts do: a driver asks
    /// with the timeouts of the moment). If it is not after `now_ms`, call
    /// [`Connection::timed_out`] instead of reading.
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
        let allowed = match cursor.state {
            State::Head => timeouts.head_ms.min(timeouts.request_ms),
            _ => timeouts.request_ms,
        };
        started.saturating_add(allowed)
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

    /// From now on, every response says `Connection: close`, and the connection closes after
    /// it: a server that stops answers what is in flight and keeps nothing open.
    pub fn stop_keep_alive(&mut self) {
        self.cursor.no_keep_alive = true;
    }

    /// Report that the peer sent nothing for the driver's timeout. Mid-request this yields a
    /// 408 response and a close; between requests, a close.
    pub fn timed_out(&mut self) {
        self.cursor.timed_out = true;
    }

    /// Advance the state machine without calling a handler: either an action for the driver,
    /// or a whole request for the driver to hand to its handler through [`Pending`]. This is
    /// [`Connection::poll`] for drivers that lend the handler their transport (streaming) or
    /// whose handlers await. The head is validated against a table of `MAX_HEADERS` slots on
    /// the stack of this call; the request keeps no table.
    pub fn step(&mut self) -> Next<'_> {
        self.step_as(true)
    }

    /// [`Connection::step`] for a caller that takes every body whole (no driver, or a
    /// driver that does not stream): a body that has not all arrived is waited for in the
    /// buffer at once, and no request with a body still to come is handed out.
    pub(crate) fn step_staged(&mut self) -> Next<'_> {
        self.step_as(false)
    }

    fn step_as(&mut self, may_stream: bool) -> Next<'_> {
        match self.cursor.state {
            State::Closing => Next::Action(Action::Close),
            State::Head => match self.scan_head() {
                Ok(Some(head_len)) => self.prepare(head_len, None, may_stream),
                Ok(None) => Next::Action(self.wait()),
                Err(e) => Next::Action(fail(&mut self.cursor.state, self.tx, e, None)),
            },
            State::Body {
                head_len, body_len, ..
            } => {
                if self.cursor.filled - self.cursor.start < head_len + body_len {
                    return Next::Action(self.wait());
                }
                self.prepare(head_len, Some(body_len), may_stream)
            }
            State::Chunked { head_len, .. } => match self.decode_more() {
                Ok(Some(body_len)) => self.prepare(head_len, Some(body_len), may_stream),
                Ok(None) => Next::Action(self.wait()),
                Err(e) => Next::Action(fail(&mut self.cursor.state, self.tx, e, None)),
            },
        }
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
    let staged = error_response(tx, error, false, 0);
    if staged == 0 {
        return Action::Close;
    }
    Action::Write(Transmit {
        head: &tx[..staged],
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
    use crate::handler::{Responded, Responder};

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
        // A target over `max_target` is 414 even when it is the headers that overflow the
        // buffer (hosts); a target within the limit there is 431.
        let head = |target_len: usize| {
            let mut head = format!("GET /{} HTTP/1.1\r\nX: ", "t".repeat(target_len - 1));
            head.push_str(&"v".repeat(5000));
            head.into_bytes()
        };
        let max = Limits::DEFAULT.max_target;
        assert_eq!(status(&head(max + 1), 4096), "HTTP/1.1 414");
        assert_eq!(status(&head(max), 4096), "HTTP/1.1 431");
    }

    #[test]
    fn incomplete_request_at_eof_is_400_and_idle_eof_is_silent() {
        assert!(run(b"GET / HTTP/1.1\r\nHost:", 4, 128).starts_with(b"HTTP/1.1 400"));
        assert!(run(b"", 4, 128).is_empty());
    }

    #[test]
    fn read_deadline_idle_then_head_then_body() {
        let mut rx = [0u8; 128];
        let mut tx = [0u8; 256];
        let mut conn: Connection<'_> = Connection::new(&mut rx, &mut tx);
        let mut app = app;
        let timeouts = Timeouts {
            idle_ms: 100,
            request_ms: 1_000,
            head_ms: 300,
            write_ms: 5_000,
            body_idle_ms: None,
        };
        let feed = |conn: &mut Connection<'_>, bytes: &[u8]| {
            conn.read_buf()[..bytes.len()].copy_from_slice(bytes);
            conn.received(bytes.len());
        };
        assert!(matches!(conn.poll(&mut app), Action::Read));
        assert_eq!(conn.read_deadline(10, &timeouts), 110);
        feed(&mut conn, b"POST / HTTP/1.1\r\n");
        assert!(matches!(conn.poll(&mut app), Action::Read));
        // The head's deadline counts from its first bytes; shorter timeouts move it.
        assert_eq!(conn.read_deadline(50, &timeouts), 350);
        assert_eq!(conn.read_deadline(60, &timeouts), 350);
        let pressed = Timeouts {
            head_ms: 20,
            ..timeouts
        };
        assert_eq!(conn.read_deadline(60, &pressed), 70);
        // Never more than the whole request's.
        let longer = Timeouts {
            head_ms: 5_000,
            ..timeouts
        };
        assert_eq!(conn.read_deadline(60, &longer), 1_050);
        // Once the head is in, the body has what is left of the request's time.
        feed(&mut conn, b"Host: h\r\nContent-Length: 3\r\n\r\na");
        assert!(matches!(conn.poll(&mut app), Action::Read));
        assert_eq!(conn.read_deadline(70, &pressed), 1_050);
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
