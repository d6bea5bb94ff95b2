//! Responses: the status line, headers and body framing, staged into the connection's
//! transmit buffer so that the head and a small body leave in one write.
//!
//! A handler receives a [`Responder`] and must turn it into a [`Responded`] token (the only way
//! to make one), so every request gets exactly one response. The framing headers are this
//! module's job, not the handler's: `Content-Length` is computed, `Connection` follows the
//! persistence decision, and HEAD, 1xx, 204 and 304 responses carry no body (RFC 9110 §6.4.1,
//! §8.6, §9.3.2). Nothing here calls `core::fmt`: numbers go through [`write_decimal`].

use crate::error::{Error, Failure};
use crate::request::Version;
use crate::stream::{Channel, Delimit, RequestBody, ResponseStream, StreamStart};
use crate::upgrade::{UpgradeHead, Upgraded};

/// An HTTP status code (RFC 9110 §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status(u16);

impl Status {
    /// 100 Continue
    pub const CONTINUE: Status = Status(100);
    /// 101 Switching Protocols (see [`crate::Responder::upgrade`])
    pub const SWITCHING_PROTOCOLS: Status = Status(101);
    /// 200 OK
    pub const OK: Status = Status(200);
    /// 201 Created
    pub const CREATED: Status = Status(201);
    /// 202 Accepted
    pub const ACCEPTED: Status = Status(202);
    /// 204 No Content
    pub const NO_CONTENT: Status = Status(204);
    /// 301 Moved Permanently
    pub const MOVED_PERMANENTLY: Status = Status(301);
    /// 302 Found
    pub const FOUND: Status = Status(302);
    /// 303 See Other
    pub const SEE_OTHER: Status = Status(303);
    /// 304 Not Modified
    pub const NOT_MODIFIED: Status = Status(304);
    /// 307 Temporary Redirect
    pub const TEMPORARY_REDIRECT: Status = Status(307);
    /// 308 Permanent Redirect
    pub const PERMANENT_REDIRECT: Status = Status(308);
    /// 400 Bad Request
    pub const BAD_REQUEST: Status = Status(400);
    /// 401 Unauthorized
    pub const UNAUTHORIZED: Status = Status(401);
    /// 403 Forbidden
    pub const FORBIDDEN: Status = Status(403);
    /// 404 Not Found
    pub const NOT_FOUND: Status = Status(404);
    /// 405 Method Not Allowed
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 408 Request Timeout
    pub const REQUEST_TIMEOUT: Status = Status(408);
    /// 409 Conflict
    pub const CONFLICT: Status = Status(409);
    /// 411 Length Required
    pub const LENGTH_REQUIRED: Status = Status(411);
    /// 413 Content Too Large
    pub const CONTENT_TOO_LARGE: Status = Status(413);
    /// 413 Content Too Large, by its RFC 7231 name.
    #[deprecated(note = "RFC 9110 calls it Content Too Large: use Status::CONTENT_TOO_LARGE")]
    pub const PAYLOAD_TOO_LARGE: Status = Status(413);
    /// 414 URI Too Long
    pub const URI_TOO_LONG: Status = Status(414);
    /// 415 Unsupported Media Type
    pub const UNSUPPORTED_MEDIA_TYPE: Status = Status(415);
    /// 417 Expectation Failed
    pub const EXPECTATION_FAILED: Status = Status(417);
    /// 422 Unprocessable Content
    pub const UNPROCESSABLE_CONTENT: Status = Status(422);
    /// 429 Too Many Requests
    pub const TOO_MANY_REQUESTS: Status = Status(429);
    /// 426 Upgrade Required
    pub const UPGRADE_REQUIRED: Status = Status(426);
    /// 431 Request Header Fields Too Large
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500 Internal Server Error
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501 Not Implemented
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 503 Service Unavailable
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// 505 HTTP Version Not Supported
    pub const HTTP_VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The status of a three-digit code (100..=599: every registered code and the unassigned
    /// ones a client must treat as its class, RFC 9110 §15); `None` outside. A 1xx status is
    /// not a handler's response (interim responses are the connection's: `100 Continue`, or
    /// `101` through [`Responder::upgrade`]): starting one makes a 500. Codes outside
    /// [`Status::reason`]'s table go out with an empty reason phrase, which RFC 9112 §4
    /// allows.
    pub const fn from_code(code: u16) -> Option<Status> {
        if code >= 100 && code <= 599 {
            Some(Status(code))
        } else {
            None
        }
    }

    /// The three-digit code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The standard reason phrase, or `""` for codes without one here. (101 and 426 are not
    /// in the table: the code that sends them writes their phrase, so that firmware without
    /// upgrades does not carry it.)
    pub fn reason(self) -> &'static str {
        let mut start = 0;
        for &(code, end) in &PACKED_PHRASE_ENDS {
            if code == self.0 {
                return PACKED_PHRASES.get(start..usize::from(end)).unwrap_or("");
            }
            start = usize::from(end);
        }
        ""
    }

    /// Whether a response with this status may carry a body (not 1xx, 204 or 304).
    pub const fn allows_body(self) -> bool {
        !(self.0 < 200 || self.0 == 204 || self.0 == 304)
    }
}

/// The reason phrases of the statuses this crate names (RFC 9110 §15).
const REASON_PHRASES: [(u16, &str); 30] = [
    (100, "Continue"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (204, "No Content"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (411, "Length Required"),
    (413, "Content Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (417, "Expectation Failed"),
    (422, "Unprocessable Content"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (503, "Service Unavailable"),
    (505, "HTTP Version Not Supported"),
];

/// [`REASON_PHRASES`] as flash holds it: the phrases back to back, and each code with where
/// its phrase ends, four bytes an entry instead of a `&str`'s eight (plus the code's padding)
/// on a 32-bit MCU. Built at compile time.
const PACKED_PHRASES: &str = match core::str::from_utf8(&PACKED_PHRASE_BYTES) {
    Ok(phrases) => phrases,
    Err(_) => panic!("reason phrases are ASCII"),
};
const PACKED_PHRASE_ENDS: [(u16, u16); REASON_PHRASES.len()] = {
    let mut ends = [(0, 0); REASON_PHRASES.len()];
    let (mut i, mut end) = (0, 0);
    while i < REASON_PHRASES.len() {
        end += REASON_PHRASES[i].1.len();
        ends[i] = (REASON_PHRASES[i].0, end as u16);
        i += 1;
    }
    ends
};
const PACKED_PHRASE_BYTES: [u8; PACKED_PHRASE_ENDS[REASON_PHRASES.len() - 1].1 as usize] = {
    let mut bytes = [0; PACKED_PHRASE_ENDS[REASON_PHRASES.len() - 1].1 as usize];
    let (mut i, mut at) = (0, 0);
    while i < REASON_PHRASES.len() {
        let phrase = REASON_PHRASES[i].1.as_bytes();
        let mut j = 0;
        while j < phrase.len() {
            bytes[at] = phrase[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    bytes
};

/// Write `n` in decimal into the front of `out`; returns the number of bytes written, or
/// `None` if `out` is too short. Used instead of `core::fmt` on the response path.
pub fn write_decimal(mut n: u64, out: &mut [u8]) -> Option<usize> {
    // Digits by repeated subtraction of powers of ten: no 64-bit division, which 32-bit
    // MCUs do in software (about 900 bytes of flash on a Cortex-M3).
    let mut len = 0;
    for (i, power) in POWERS_OF_TEN.into_iter().enumerate() {
        let mut digit = b'0';
        while n >= power {
            n -= power;
            digit += 1;
        }
        if digit != b'0' || len > 0 || i == POWERS_OF_TEN.len() - 1 {
            *out.get_mut(len)? = digit;
            len += 1;
        }
    }
    Some(len)
}

/// Write `n` in lowercase hex into the front of `out` (at least one digit); returns the number
/// of bytes written. `out` must hold 16 bytes, or as many as `n` needs.
pub(crate) fn write_hex(n: u64, out: &mut [u8]) -> usize {
    let digits = (64 - (n | 1).leading_zeros()).div_ceil(4) as usize;
    for (i, slot) in out.iter_mut().take(digits).enumerate() {
        let nibble = (n >> (4 * (digits - 1 - i))) & 0xf;
        *slot = b"0123456789abcdef"[nibble as usize];
    }
    digits.min(out.len())
}

/// 10^19 down to 10^0.
const POWERS_OF_TEN: [u64; 20] = {
    let mut powers = [1u64; 20];
    let mut i = 19;
    while i > 0 {
        i -= 1;
        powers[i] = powers[i + 1] * 10;
    }
    powers
};

/// What the request asked of the response, fixed before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseContext {
    /// HEAD request: send the headers a GET would get, no body.
    pub head_only: bool,
    /// Version of the request (decides how keep-alive is spelled).
    pub version: Version,
    /// The connection stays open after this response, unless the handler asks to close.
    pub keep_alive: bool,
}

/// The finished response as the connection sends it: `tx[..staged]`, then `body`; or, for a
/// streamed response, nothing more (the handler sent it through the driver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outgoing<'a> {
    pub staged: usize,
    pub body: &'a [u8],
    pub status: Status,
    pub close: bool,
    /// The response went out while the handler ran.
    pub streamed: bool,
    /// Why the response is a 500 or ended early, when the handler did not choose it.
    pub failure: Option<Failure>,
    /// The request body when it was taken whole: what [`RequestBody`] reads when it does not
    /// stream. (Here rather than in the [`Responder`], which handlers pass by value.)
    pub request_body: &'a [u8],
    /// The protocol error this response answers, for the log.
    pub error: Option<Error>,
}

impl Outgoing<'_> {
    pub const NONE: Outgoing<'static> = Outgoing {
        staged: 0,
        body: &[],
        status: Status::INTERNAL_SERVER_ERROR,
        close: true,
        streamed: false,
        failure: None,
        request_body: &[],
        error: None,
    };
}

/// Proof that a handler produced its response; only [`ResponseHead`]'s finishing methods
/// make one.
#[derive(Debug)]
#[must_use = "return it from the handler"]
pub struct Responded(pub(crate) ());

/// The handle a handler answers through. Start a response with [`Responder::start`] or use a
/// shortcut such as [`Responder::html`].
///
/// `'a` is the lifetime of the request's buffer: a body borrowed from the request (an echo)
/// or from a `static` is sent without copying.
pub struct Responder<'a, 's> {
    tx: &'s mut [u8],
    out: &'s mut Outgoing<'a>,
    ctx: ResponseContext,
    /// The driver, while the handler runs, for a streamed body in or out.
    link: Option<&'s mut dyn Channel>,
}

impl core::fmt::Debug for Responder<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Responder")
            .field("ctx", &self.ctx)
            .field("streaming", &self.link.is_some())
            .finish()
    }
}

impl<'a, 's> Responder<'a, 's> {
    pub(crate) fn new(tx: &'s mut [u8], out: &'s mut Outgoing<'a>, ctx: ResponseContext) -> Self {
        Responder {
            tx,
            out,
            ctx,
            link: None,
        }
    }

    /// A responder whose request body, if it did not come whole (`out.request_body`), comes
    /// through `link`, and whose response may stream through it.
    pub(crate) fn linked(
        tx: &'s mut [u8],
        out: &'s mut Outgoing<'a>,
        ctx: ResponseContext,
        link: &'s mut dyn Channel,
    ) -> Self {
        Responder {
            tx,
            out,
            ctx,
            link: Some(link),
        }
    }

    /// The request body, to read in pieces whatever its size: what [`crate::Request::body`]
    /// holds when the body was whole in the receive buffer, else the body as it arrives
    /// (on routes that accept streamed bodies, see [`crate::router::OnMethod::stream_body`]).
    ///
    /// `Expect: 100-continue` is answered on the first read that needs the peer, so a handler
    /// that answers without reading (401, 413, 415) never makes the client send its body. A
    /// body left unread is not drained: unless all of it has already arrived, the response
    /// says `Connection: close` and the connection closes after it (reading an upload the
    /// handler refused could take as long as the upload; the host servers' lingering close
    /// discards what the client still sends, bounded in time and bytes).
    pub fn request_body(&mut self) -> RequestBody<'_> {
        match self.link.as_deref_mut() {
            Some(link) if self.out.request_body.is_empty() => RequestBody::streamed(link),
            _ => RequestBody::buffered(self.out.request_body),
        }
    }

    /// Begin a response with this status: the status line is staged now, headers follow.
    pub fn start(self, status: Status) -> ResponseHead<'a, 's> {
        self.start_with(status, status.reason())
    }

    /// [`Responder::start`] with this reason phrase. (Always inlined: a second caller must
    /// not change how `start` is compiled into firmware that does not use it.)
    #[inline(always)]
    pub(crate) fn start_with(self, status: Status, reason: &str) -> ResponseHead<'a, 's> {
        let mut head = ResponseHead {
            len: 0,
            status,
            close: !self.ctx.keep_alive,
            // An interim status would leave the client waiting for a final one.
            failure: (status.0 < 200).then_some(Failure::InterimStatus),
            r: self,
        };
        head.push(b"HTTP/1.1 ");
        let mut code = [0u8; 3];
        let n = write_decimal(u64::from(status.code()), &mut code).unwrap_or(0);
        head.push(&code[..n]);
        head.push(b" ");
        head.push(reason.as_bytes());
        head.push(b"\r\n");
        head
    }

    /// `200 OK` with this `Content-Type` and body.
    pub fn ok(self, content_type: &str, body: &'a [u8]) -> Responded {
        self.start(Status::OK)
            .header("Content-Type", content_type)
            .body(body)
    }

    /// `200 OK` with an HTML body (`text/html; charset=utf-8`).
    pub fn html(self, body: &'a str) -> Responded {
        self.ok("text/html; charset=utf-8", body.as_bytes())
    }

    /// `200 OK` with a plain-text body (`text/plain; charset=utf-8`).
    pub fn text(self, body: &'a str) -> Responded {
        self.ok("text/plain; charset=utf-8", body.as_bytes())
    }

    /// A response with this status and its reason phrase as a plain-text body (or no body
    /// where the status allows none).
    pub fn status(self, status: Status) -> Responded {
        let head = self.start(status);
        if status.allows_body() {
            head.header("Content-Type", "text/plain; charset=utf-8")
                .body_with(|w| {
                    w.push_str(status.reason());
                    w.push_str("\n");
                })
        } else {
            head.body(&[])
        }
    }

    /// Answer a stream that failed before the response began, as the connection answers
    /// protocol errors: a request body that broke its framing, went over the limit or was cut
    /// short gets the error's status and text, a timeout 408, a shutdown 503, anything else
    /// 500; always with `Connection: close`, since the rest of the body cannot be trusted.
    pub fn error(self, error: crate::StreamError) -> Responded {
        use crate::StreamError;
        match error {
            StreamError::Body(e) => self.protocol_error(e),
            StreamError::TimedOut => self.protocol_error(Error::Timeout),
            other => {
                let status = other.status();
                self.start(status)
                    .close()
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body_with(|w| {
                        w.push_str(status.reason());
                        w.push_str("\n");
                    })
            }
        }
    }

    /// The response to a protocol error: its status, its text, and a close.
    pub(crate) fn protocol_error(self, error: Error) -> Responded {
        self.out.error = Some(error);
        self.start(error.status())
            .close()
            .header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| {
                w.push_str(error.as_str());
                w.push_str("\n");
            })
    }

    /// Begin a `101 Switching Protocols` response that hands the connection to `protocol`
    /// (the `Upgrade` token, e.g. `websocket`): see [`crate::upgrade`]. `Connection: Upgrade`
    /// and `Upgrade` are written here; checking that the client asked for it is the
    /// caller's part (as [`crate::ws::Handshake`] does, feature `ws`).
    pub fn upgrade(self, protocol: &str) -> UpgradeHead<'a, 's> {
        let valid = !protocol.is_empty()
            && protocol.split('/').count() <= 2
            && protocol.split('/').all(is_token);
        let http11 = self.ctx.version == Version::Http11;
        let mut head = ResponseHead {
            len: 0,
            status: Status::SWITCHING_PROTOCOLS,
            close: true,
            failure: None,
            r: self,
        };
        head.push(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ");
        head.push(protocol.as_bytes());
        head.push(b"\r\n");
        if !valid {
            head.failure.get_or_insert(Failure::InvalidHeader);
        } else if !http11 {
            // RFC 9110 §7.8: an upgrade is ignored in HTTP/1.0.
            head.failure.get_or_insert(Failure::Upgrade);
        }
        UpgradeHead { head }
    }

    /// Whether the response's body will be dropped (the request was HEAD).
    pub fn is_head(&self) -> bool {
        self.ctx.head_only
    }
}

/// A response whose status line is staged: add headers, then finish with a body.
#[derive(Debug)]
pub struct ResponseHead<'a, 's> {
    r: Responder<'a, 's>,
    len: usize,
    status: Status,
    close: bool,
    /// The head did not fit the transmit buffer, or a header was invalid: send 500 instead.
    failure: Option<Failure>,
}

/// Longest framing tail appended by the finishing methods:
/// `Content-Length: <20 digits>\r\nConnection: keep-alive\r\n\r\n`.
const FRAMING_TAIL_MAX: usize = 16 + 20 + 2 + 24 + 2;

impl<'a, 's> ResponseHead<'a, 's> {
    fn push(&mut self, bytes: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        match self.r.tx.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => {
                self.failure = Some(Failure::HeadTooLarge {
                    room: self.r.tx.len(),
                })
            }
        }
    }

    /// Add a header. The name must be a token and the value visible ASCII, space or tab
    /// (RFC 9110 §5.1, §5.5), else the response becomes a 500: a CR or LF here would let a
    /// value split the response.
    ///
    /// `Content-Length` and `Transfer-Encoding` are computed by the finishing methods and are
    /// ignored here; `Connection: close` closes the connection after the response, and other
    /// `Connection` values are ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if !is_token(name)
            || !value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            self.failure.get_or_insert(Failure::InvalidHeader);
            return self;
        }
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return self;
        }
        if name.eq_ignore_ascii_case("connection") {
            self.close |= value
                .as_bytes()
                .split(|&b| b == b',')
                .any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"));
            return self;
        }
        self.push(name.as_bytes());
        self.push(b": ");
        self.push(value.as_bytes());
        self.push(b"\r\n");
        self
    }

    /// Close the connection after this response.
    pub fn close(mut self) -> Self {
        self.close = true;
        self
    }

    /// Finish with this body. It is copied next to the head if it fits the transmit buffer
    /// (one write), else sent from where it lies right after the head.
    pub fn body(mut self, body: &'a [u8]) -> Responded {
        self.push_framing(body.len() as u64);
        let send_body = self.status.allows_body() && !self.r.ctx.head_only;
        let body = if !send_body {
            &[][..]
        } else if self.failure.is_none() && self.r.tx.len() - self.len >= body.len() {
            self.push(body);
            &[][..]
        } else {
            body
        };
        self.finish(body)
    }

    /// Finish with a body written by `write` into the transmit buffer after the head; if it
    /// does not fit, the response becomes a 500.
    pub fn body_with(mut self, write: impl FnOnce(&mut BodyWriter<'_>)) -> Responded {
        if self.failure.is_some() {
            return self.finish(&[]);
        }
        // Write the body after room for the framing tail, then move it next to the tail.
        let body_start = self.len + FRAMING_TAIL_MAX;
        let mut writer = BodyWriter {
            buf: self.r.tx.get_mut(body_start..).unwrap_or_default(),
            len: 0,
            overflow: false,
            attempted: 0,
        };
        write(&mut writer);
        let (body_len, overflow, attempted) = (writer.len, writer.overflow, writer.attempted);
        if overflow || self.r.tx.len() < body_start {
            self.failure = Some(Failure::BodyTooLarge {
                body: attempted,
                room: self.r.tx.len().saturating_sub(body_start),
            });
            return self.finish(&[]);
        }
        self.push_framing(body_len as u64);
        if self.status.allows_body() && !self.r.ctx.head_only && self.failure.is_none() {
            self.r
                .tx
                .copy_within(body_start..body_start + body_len, self.len);
            self.len += body_len;
        }
        self.finish(&[])
    }

    /// Append `Content-Length` (where the status allows a body), `Connection` and the blank
    /// line.
    fn push_framing(&mut self, body_len: u64) {
        if self.status.allows_body() {
            self.push_content_length(body_len);
        }
        self.push_connection();
    }

    fn push_content_length(&mut self, body_len: u64) {
        self.push(b"Content-Length: ");
        let mut digits = [0u8; 20];
        let n = write_decimal(body_len, &mut digits).unwrap_or(0);
        self.push(&digits[..n]);
        self.push(b"\r\n");
    }

    /// `Connection` and the blank line. A request body that streams and is not all here yet
    /// closes the connection: nothing will read the rest of it.
    fn push_connection(&mut self) {
        if let Some(link) = self.r.link.as_deref_mut() {
            self.close |= !link.body_complete();
        }
        if self.close {
            self.push(b"Connection: close\r\n");
        } else if self.r.ctx.version == Version::Http10 {
            self.push(b"Connection: keep-alive\r\n");
        }
        self.push(b"\r\n");
    }

    fn finish(self, body: &'a [u8]) -> Responded {
        let out = if self.failure.is_some() {
            fallback_500(self.r.tx, self.failure)
        } else {
            Outgoing {
                staged: self.len,
                body,
                status: self.status,
                close: self.close,
                streamed: false,
                failure: None,
                request_body: self.r.out.request_body,
                error: self.r.out.error,
            }
        };
        *self.r.out = out;
        Responded(())
    }

    /// End a `101` head and take the connection (see [`UpgradeHead::switch`]).
    pub(crate) fn switch(mut self) -> Upgraded<'a, 's> {
        self.push(b"\r\n");
        let upgraded = match self.r.link.as_deref_mut() {
            Some(link) => link.upgrade(),
            None => false,
        };
        if !upgraded {
            self.failure.get_or_insert(Failure::Upgrade);
        }
        let r = self.r;
        Upgraded::new(r.tx, r.out, r.link, self.len, self.failure)
    }

    /// Finish the head and write a body of unknown length in pieces: chunked to HTTP/1.1
    /// clients, close-delimited to HTTP/1.0 ones. See [`crate::stream`].
    pub fn stream(self) -> ResponseStream<'a, 's> {
        let delimit = if self.r.ctx.version == Version::Http11 {
            Delimit::Chunked
        } else {
            Delimit::UntilClose
        };
        self.start_stream(delimit)
    }

    /// Finish the head with `Content-Length: len` and write the body in pieces. Writing more
    /// or fewer bytes never corrupts the stream: the connection closes instead, and
    /// [`ResponseStream::write`] reports the excess. See [`crate::stream`].
    pub fn stream_length(self, len: u64) -> ResponseStream<'a, 's> {
        self.start_stream(Delimit::Length {
            declared: len,
            remaining: len,
        })
    }

    /// [`ResponseHead::stream`] with a closure: `Ok` finishes the body, `Err` aborts it (see
    /// [`ResponseStream::abort`]), so `?` can be used on every write.
    pub fn stream_with(
        self,
        write: impl FnOnce(&mut ResponseStream<'a, 's>) -> Result<(), crate::StreamError>,
    ) -> Responded {
        let mut stream = self.stream();
        match write(&mut stream) {
            Ok(()) => stream.finish(),
            Err(_) => stream.abort(),
        }
    }

    fn start_stream(mut self, delimit: Delimit) -> ResponseStream<'a, 's> {
        match delimit {
            _ if !self.status.allows_body() => {}
            Delimit::Chunked => self.push(b"Transfer-Encoding: chunked\r\n"),
            Delimit::Length { declared, .. } => self.push_content_length(declared),
            Delimit::UntilClose => self.close = true,
            Delimit::Discard => {}
        }
        self.push_connection();
        let delimit = if self.status.allows_body() && !self.r.ctx.head_only {
            delimit
        } else {
            Delimit::Discard
        };
        let r = self.r;
        ResponseStream::new(StreamStart {
            tx: r.tx,
            out: r.out,
            link: r.link,
            head_len: self.len,
            delimit,
            status: self.status,
            close: self.close,
            failure: self.failure,
        })
    }
}

/// The whole response a server sends, without reading the request, to a client beyond its
/// connection limit: 503 with `Retry-After` (RFC 9110 §15.6.4, §10.2.3), then a close.
pub const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n\
server is too busy\r\n";

/// The response sent when a handler's response cannot be encoded (its head does not fit the
/// transmit buffer, or a header is invalid). If even this does not fit, nothing is staged and
/// the connection closes silently.
const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

pub(crate) fn fallback_500<'a>(tx: &mut [u8], failure: Option<Failure>) -> Outgoing<'a> {
    let staged = match tx.get_mut(..FALLBACK_500.len()) {
        Some(dst) => {
            dst.copy_from_slice(FALLBACK_500);
            FALLBACK_500.len()
        }
        None => 0,
    };
    Outgoing {
        staged,
        body: &[],
        status: Status::INTERNAL_SERVER_ERROR,
        close: true,
        streamed: false,
        failure,
        request_body: &[],
        error: None,
    }
}

/// Writes a response body into the transmit buffer. Overflow is remembered, not reported per
/// call, and turns the response into a 500.
#[derive(Debug)]
pub struct BodyWriter<'t> {
    buf: &'t mut [u8],
    len: usize,
    overflow: bool,
    /// Bytes the handler tried to write, for the log when they did not fit.
    attempted: usize,
}

impl BodyWriter<'_> {
    /// Let `write` fill the free space directly; it returns how many bytes it wrote, or
    /// `None` if they did not fit (the body then overflows: a 500).
    #[cfg(feature = "json")]
    pub(crate) fn write_with(&mut self, write: impl FnOnce(&mut [u8]) -> Option<usize>) {
        let free = self.buf.get_mut(self.len..).unwrap_or_default();
        let room = free.len();
        match write(free) {
            Some(n) if !self.overflow && n <= room => self.len += n,
            _ => {
                self.overflow = true;
                self.attempted = self.attempted.saturating_add(room + 1);
            }
        }
    }

    /// Append bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.attempted = self.attempted.saturating_add(bytes.len());
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            _ => self.overflow = true,
        }
    }

    /// Append a string.
    pub fn push_str(&mut self, s: &str) {
        self.push(s.as_bytes());
    }

    /// Append an unsigned number in decimal, without `core::fmt`.
    pub fn push_u64(&mut self, n: u64) {
        let mut digits = [0u8; 20];
        let len = write_decimal(n, &mut digits).unwrap_or(0);
        self.push(&digits[..len]);
    }

    /// Append a signed number in decimal, without `core::fmt`.
    pub fn push_i64(&mut self, n: i64) {
        if n < 0 {
            self.push(b"-");
        }
        self.push_u64(n.unsigned_abs());
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left before the body overflows.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.len)
    }
}

/// `write!` works too, for those who accept `core::fmt`'s cost.
impl core::fmt::Write for BodyWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push_str(s);
        if self.overflow {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

/// `token` of RFC 9110 §5.6.2.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(crate::request::is_token_byte)
}

/// A redirect's status: [`Responder::redirect`] takes one of these and a `Location`, so that
/// no redirect leaves without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Redirect {
    /// 303 See Other: the client GETs the location (after a form POST: post, redirect, get).
    SeeOther,
    /// 307 Temporary Redirect: the client repeats the same method and body at the location.
    Temporary,
    /// 308 Permanent Redirect: as 307, and the client may remember the new location.
    Permanent,
    /// 302 Found: as 307, but clients historically turn a POST into a GET; prefer
    /// [`Redirect::SeeOther`] or [`Redirect::Temporary`], which say which is meant.
    Found,
    /// 301 Moved Permanently: as 308, with 302's POST-to-GET history; prefer
    /// [`Redirect::Permanent`].
    MovedPermanently,
}

impl Redirect {
    /// The status it is sent with.
    pub const fn status(self) -> Status {
        match self {
            Redirect::SeeOther => Status::SEE_OTHER,
            Redirect::Temporary => Status::TEMPORARY_REDIRECT,
            Redirect::Permanent => Status::PERMANENT_REDIRECT,
            Redirect::Found => Status::FOUND,
            Redirect::MovedPermanently => Status::MOVED_PERMANENTLY,
        }
    }
}

impl Responder<'_, '_> {
    /// Redirect to `location` (a URI reference, RFC 9110 §10.2.2: `/config`,
    /// `https://example.com/`), with no body.
    ///
    /// `location` must be non-empty visible ASCII (percent-encode anything else): a CR, LF,
    /// space, control or non-ASCII byte makes the response a 500 whose reason the log shows
    /// ([`Failure::InvalidHeader`]), so that no value can split the response.
    ///
    /// ```
    /// use embedded_responder::{post, response::Redirect, Router};
    ///
    /// let app = Router::new().route(
    ///     "/config",
    ///     post(|_req, res| res.redirect(Redirect::SeeOther, "/config")),
    /// );
    /// # let _ = app;
    /// ```
    pub fn redirect(self, to: Redirect, location: &str) -> Responded {
        let head = self.start(to.status());
        let head = if !location.is_empty() && location.bytes().all(|b| b.is_ascii_graphic()) {
            head.header("Location", location)
        } else {
            head.refuse(Failure::InvalidHeader)
        };
        head.body(&[])
    }
}

impl ResponseHead<'_, '_> {
    /// Make the response a 500 for `failure` (the first failure is kept).
    pub(crate) fn refuse(mut self, failure: Failure) -> Self {
        self.failure.get_or_insert(failure);
        self
    }

    /// Add a header whose value is `parts` one after the other, checked as
    /// [`ResponseHead::header`] checks a value, without a buffer to join them in.
    pub(crate) fn header_parts(mut self, name: &str, parts: &[&str]) -> Self {
        let valid_value = parts
            .iter()
            .flat_map(|part| part.bytes())
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if !is_token(name) || !valid_value {
            return self.refuse(Failure::InvalidHeader);
        }
        self.push(name.as_bytes());
        self.push(b": ");
        for part in parts {
            self.push(part.as_bytes());
        }
        self.push(b"\r\n");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEEP: ResponseContext = ResponseContext {
        head_only: false,
        version: Version::Http11,
        keep_alive: true,
    };

    /// Run `respond` against a transmit buffer of `size` bytes; return the bytes that would be
    /// sent and whether the connection closes.
    fn render(
        size: usize,
        ctx: ResponseContext,
        respond: impl FnOnce(Responder<'static, '_>) -> Responded,
    ) -> (String, bool) {
        let mut tx = vec![0u8; size];
        let mut out = Outgoing::NONE;
        let _ = respond(Responder::new(&mut tx, &mut out, ctx));
        let mut bytes = tx[..out.staged].to_vec();
        bytes.extend_from_slice(out.body);
        (String::from_utf8(bytes).unwrap(), out.close)
    }

    #[test]
    fn every_reason_phrase_comes_out_of_the_packed_table() {
        for (code, phrase) in REASON_PHRASES {
            assert_eq!(Status(code).reason(), phrase);
        }
        assert_eq!(Status::NOT_FOUND.reason(), "Not Found");
        assert_eq!(Status(299).reason(), "");
    }

    #[test]
    fn decimal_writer() {
        let mut b = [0u8; 20];
        for n in [0u64, 7, 10, 99, 100, 65535, u64::MAX] {
            let len = write_decimal(n, &mut b).unwrap();
            assert_eq!(&b[..len], n.to_string().as_bytes());
        }
        assert_eq!(write_decimal(100, &mut [0u8; 2]), None);
    }

    #[test]
    fn small_body_is_staged_with_the_head() {
        let mut tx = [0u8; 256];
        let mut out = Outgoing::NONE;
        let _ = Responder::new(&mut tx, &mut out, KEEP).html("<p>hi</p>");
        assert!(out.body.is_empty(), "body should be staged");
        assert_eq!(
            &tx[..out.staged],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n\r\n<p>hi</p>"
        );
        assert!(!out.close);
    }

    #[test]
    fn large_body_is_sent_from_where_it_lies() {
        static BIG: [u8; 300] = [b'x'; 300];
        let mut tx = [0u8; 128];
        let mut out = Outgoing::NONE;
        let _ = Responder::new(&mut tx, &mut out, KEEP).ok("application/octet-stream", &BIG);
        assert_eq!(out.body.len(), 300);
        assert!(core::str::from_utf8(&tx[..out.staged])
            .unwrap()
            .contains("Content-Length: 300\r\n"));
    }

    #[test]
    fn head_no_content_and_close() {
        let head = ResponseContext {
            head_only: true,
            ..KEEP
        };
        assert_eq!(
            render(256, head, |r| r.text("hello")).0,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n"
        );
        assert_eq!(
            render(256, KEEP, |r| r.start(Status::NO_CONTENT).body(b"ignored")).0,
            "HTTP/1.1 204 No Content\r\n\r\n"
        );
        let http10 = ResponseContext {
            version: Version::Http10,
            ..KEEP
        };
        assert_eq!(
            render(256, http10, |r| r.text("a")).0,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\na"
        );
        let (text, close) = render(256, KEEP, |r| {
            r.start(Status::OK)
                .header("Connection", "close")
                .header("Content-Length", "999")
                .body(b"a")
        });
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na"
        );
        assert!(close);
    }

    #[test]
    fn body_with_writes_numbers_without_fmt() {
        let (text, _) = render(256, KEEP, |r| {
            r.start(Status::OK).body_with(|w| {
                w.push_str("n=");
                w.push_i64(-42);
                w.push_str(",");
                w.push_u64(7);
            })
        });
        assert_eq!(text, "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nn=-42,7");
    }

    #[test]
    fn encoding_failures_become_500() {
        let expected = core::str::from_utf8(FALLBACK_500).unwrap();
        // header value with CRLF: response splitting attempt
        let (text, close) = render(256, KEEP, |r| {
            r.start(Status::OK).header("X", "a\r\nEvil: 1").body(b"")
        });
        assert_eq!((text.as_str(), close), (expected, true));
        // invalid header name
        let (text, _) = render(256, KEEP, |r| {
            r.start(Status::OK).header("A B", "x").body(b"")
        });
        assert_eq!(text, expected);
        // head larger than the buffer
        let (text, _) = render(100, KEEP, |r| {
            r.start(Status::OK)
                .header("X-Long", &"v".repeat(200))
                .body(b"")
        });
        assert_eq!(text, expected);
        // body_with overflowing
        let (text, _) = render(120, KEEP, |r| {
            r.start(Status::OK).body_with(|w| w.push(&[b'x'; 200]))
        });
        assert_eq!(text, expected);
        // buffer too small even for the fallback: nothing is sent
        assert_eq!(render(10, KEEP, |r| r.text("x")).0, "");
    }

    #[test]
    fn busy_response_is_well_framed() {
        let text = core::str::from_utf8(BUSY_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }

    #[test]
    fn status_shortcut_and_reasons() {
        assert_eq!(
            render(256, KEEP, |r| r.status(Status::NOT_FOUND)).0,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n\r\nNot Found\n"
        );
        assert_eq!(Status::from_code(99), None);
        assert_eq!(Status::from_code(600), None);
        assert_eq!(Status::from_code(102), Some(Status(102)));
        // A handler cannot answer with an interim status: a 500 with the reason.
        let (out, _) = render(256, KEEP, |r| r.status(Status::CONTINUE));
        assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
        assert_eq!(Status::from_code(299).map(Status::reason), Some(""));
        assert!(!Status::NOT_MODIFIED.allows_body());
        assert!(is_token("X-Custom_1"));
        assert!(!is_token("a:b"));
    }
}
