//! Responses as a handler writes them: [`Responder`], [`ResponseHead`] and [`BodyWriter`],
//! staged into the connection's transmit buffer so that the head and a small body leave in
//! one write.
//!
//! A handler receives a [`Responder`] and must turn it into a [`Responded`] token (the only way
//! to make one), so every request gets exactly one response. The framing headers are the
//! library's job, not the handler's: `Content-Length` is computed, `Connection` follows the
//! persistence decision, and HEAD, 1xx, 204 and 304 responses carry no body (RFC 9110 §6.4.1,
//! §8.6, §9.3.2). The bytes are written by the wire's head writer; nothing here calls
//! `core::fmt`.

use crate::connection::{Outbox, Outgoing, Sent};
use crate::error::{Error, Failure, StreamError};
use crate::wire::response_head::{error_response, is_field_value, HeadWriter};
use crate::wire::syntax::{is_token, write_decimal, write_hex};
use crate::wire::Status;

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
    pub(crate) outbox: Outbox<'a, 's>,
}

impl core::fmt::Debug for Responder<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Responder")
            .field("ctx", &self.outbox.ctx)
            .field("streaming", &self.outbox.link.is_some())
            .finish()
    }
}

impl<'a, 's> Responder<'a, 's> {
    /// The responder for an exchange the connection lent out.
    pub(crate) fn new(outbox: Outbox<'a, 's>) -> Self {
        Responder { outbox }
    }

    /// Begin a response with this status: the status line is staged now, headers follow.
    pub fn start(self, status: Status) -> ResponseHead<'a, 's> {
        self.start_with(status, status.reason())
    }

    /// [`Responder::start`] with this reason phrase. (Always inlined: a second caller must
    /// not change how `start` is compiled into firmware that does not use it.)
    #[inline(always)]
    pub(crate) fn start_with(self, status: Status, reason: &str) -> ResponseHead<'a, 's> {
        let pre = self.outbox.out.pre_written();
        #[allow(unused_mut)]
        let mut head = if status.code() < 200 {
            // An interim status would leave the client waiting for a final one.
            HeadWriter::failed(Failure::InterimStatus)
        } else {
            HeadWriter::start_after(self.outbox.tx, status, reason, pre)
        };
        #[cfg(feature = "layers")]
        if let Some(failure) = self.outbox.out.failure {
            // A field written before the response did not fit or was refused.
            head.refuse(failure);
        }
        ResponseHead {
            head,
            status,
            close: !self.outbox.ctx.keep_alive,
            r: self,
        }
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
    pub fn error(self, error: StreamError) -> Responded {
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

    /// The response to a protocol error, as the connection answers one (the wire's error
    /// response): its status, its text, and a close.
    pub(crate) fn protocol_error(self, error: Error) -> Responded {
        let Outbox { tx, out, ctx, .. } = self.outbox;
        let staged = error_response(tx, error, ctx.head_only, out.pre_written());
        *out = Outgoing {
            sent: if staged == 0 {
                Sent::Nothing
            } else {
                Sent::Staged(staged)
            },
            status: error.status(),
            error: Some(error),
            ..Outgoing::NONE
        };
        Responded(())
    }

    /// Whether the response's body will be dropped (the request was HEAD).
    pub fn is_head(&self) -> bool {
        self.outbox.ctx.head_only
    }
}

/// A response whose status line is staged: add headers, then finish with a body.
#[derive(Debug)]
pub struct ResponseHead<'a, 's> {
    pub(crate) r: Responder<'a, 's>,
    /// The head so far; it failed if it did not fit or a header was invalid: then a 500.
    pub(crate) head: HeadWriter,
    pub(crate) status: Status,
    pub(crate) close: bool,
}

/// Longest framing tail appended by the finishing methods:
/// `Content-Length: <20 digits>\r\nConnection: keep-alive\r\n\r\n`.
const FRAMING_TAIL_MAX: usize = 16 + 20 + 2 + 24 + 2;

impl<'a, 's> ResponseHead<'a, 's> {
    /// Add a header. The name must be a token and the value visible ASCII, space or tab
    /// (RFC 9110 §5.1, §5.5), else the response becomes a 500: a CR or LF here would let a
    /// value split the response.
    ///
    /// `Content-Length` and `Transfer-Encoding` are computed by the finishing methods and are
    /// ignored here; `Connection: close` closes the connection after the response, and other
    /// `Connection` values are ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if !is_token(name) || !is_field_value(value) {
            self.head.refuse(Failure::InvalidHeader);
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
        #[cfg(feature = "layers")]
        if self.r.outbox.out.defaults > 0 {
            self.drop_default(name);
        }
        let tx = &mut *self.r.outbox.tx;
        self.head.push(tx, name.as_bytes());
        self.head.push(tx, b": ");
        self.head.push(tx, value.as_bytes());
        self.head.push(tx, b"\r\n");
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
        let send_body = self.status.allows_body() && !self.r.outbox.ctx.head_only;
        let tx = &mut *self.r.outbox.tx;
        let body = if !send_body {
            &[][..]
        } else if self.head.failure().is_none() && tx.len() - self.head.len() >= body.len() {
            self.head.push(tx, body);
            &[][..]
        } else {
            body
        };
        self.finish(body)
    }

    /// Finish with a body written by `write` into the transmit buffer after the head; if it
    /// does not fit, the response becomes a 500.
    pub fn body_with(mut self, write: impl FnOnce(&mut BodyWriter<'_>)) -> Responded {
        if self.head.failure().is_some() {
            return self.finish(&[]);
        }
        // Write the body after room for the framing tail, then move it next to the tail.
        let body_start = self.head.len() + FRAMING_TAIL_MAX;
        let tx = &mut *self.r.outbox.tx;
        let mut writer = BodyWriter {
            buf: tx.get_mut(body_start..).unwrap_or_default(),
            len: 0,
            overflow: false,
            attempted: 0,
        };
        write(&mut writer);
        let (body_len, overflow, attempted) = (writer.len, writer.overflow, writer.attempted);
        if overflow || tx.len() < body_start {
            self.head.refuse(Failure::BodyTooLarge {
                body: attempted,
                room: tx.len().saturating_sub(body_start),
            });
            return self.finish(&[]);
        }
        self.push_framing(body_len as u64);
        let tx = &mut *self.r.outbox.tx;
        if self.status.allows_body() && !self.r.outbox.ctx.head_only {
            // Its own bytes, moved next to the head (nothing happens to a failed head).
            let (head_len, failed) = (self.head.len(), self.head.failure().is_some());
            if !failed {
                tx.copy_within(body_start..body_start + body_len, head_len);
                self.head.advance(body_len);
            }
        }
        self.finish(&[])
    }

    /// Append `Content-Length` (where the status allows a body), `Connection` and the blank
    /// line.
    fn push_framing(&mut self, body_len: u64) {
        if self.status.allows_body() {
            self.head.content_length(self.r.outbox.tx, body_len);
        }
        self.push_connection();
    }

    /// `Connection` and the blank line. A request body that streams and is not all here yet
    /// closes the connection: nothing will read the rest of it.
    pub(crate) fn push_connection(&mut self) {
        let outbox = &mut self.r.outbox;
        if let Some(link) = outbox.link.as_deref_mut() {
            self.close |= !link.body_complete();
        }
        self.head.end(outbox.tx, self.close, outbox.ctx.version);
    }

    fn finish(self, body: &'a [u8]) -> Responded {
        let Outbox { tx, out, .. } = self.r.outbox;
        // (The record's layer counters, feature `layers`, are done with.)
        #[allow(clippy::needless_update)]
        let done = match self.head.failure() {
            Some(failure) => Outgoing::fallback_500(tx, Some(failure)),
            None => Outgoing {
                sent: Sent::Staged(self.head.len()),
                body,
                status: self.status,
                close: self.close,
                failure: None,
                request_body: out.request_body,
                error: out.error,
                ..Outgoing::NONE
            },
        };
        *out = done;
        Responded(())
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

    /// Append `n` in lowercase hex, zero-padded to at least `width` digits (at most 16):
    /// `push_hex(crc, 8)` for a CRC-32 as `xxxxxxxx`.
    pub fn push_hex(&mut self, n: u64, width: usize) {
        let mut digits = [0u8; 16];
        let len = write_hex(n, &mut digits);
        for _ in len..width.min(16) {
            self.push(b"0");
        }
        self.push(&digits[..len]);
    }

    /// Append `text` escaped for HTML (the five characters `&`, `<`, `>`,
    /// `"`, `'` as character references), in text or in a quoted attribute value: a stored
    /// value (a form field echoed back) cannot add markup or end an attribute.
    pub fn push_html(&mut self, text: &str) {
        let mut rest = text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            self.push_str(&rest[..at]);
            self.push_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            });
            rest = &rest[at + 1..];
        }
        self.push_str(rest);
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
    /// use embedded_responder::{post, Redirect, Router};
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
        self.head.refuse(failure);
        self
    }

    /// Add a header whose value is `parts` one after the other, checked as
    /// [`ResponseHead::header`] checks a value, without a buffer to join them in.
    pub(crate) fn header_parts(mut self, name: &str, parts: &[&str]) -> Self {
        #[cfg(feature = "layers")]
        if self.r.outbox.out.defaults > 0 {
            self.drop_default(name);
        }
        self.head.field_parts(self.r.outbox.tx, name, parts);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::ResponseContext;
    use crate::wire::response_head::FALLBACK_500;
    use crate::wire::Version;

    const KEEP: ResponseContext = ResponseContext {
        head_only: false,
        version: Version::Http11,
        keep_alive: true,
    };

    /// A responder without a driver over `tx`.
    fn responder<'a, 's>(
        tx: &'s mut [u8],
        out: &'s mut Outgoing<'a>,
        ctx: ResponseContext,
    ) -> Responder<'a, 's> {
        Responder::new(Outbox {
            tx,
            out,
            ctx,
            link: None,
        })
    }

    /// Run `respond` against a transmit buffer of `size` bytes; return the bytes that would be
    /// sent and whether the connection closes.
    fn render(
        size: usize,
        ctx: ResponseContext,
        respond: impl FnOnce(Responder<'static, '_>) -> Responded,
    ) -> (String, bool) {
        let mut tx = vec![0u8; size];
        let mut out = Outgoing::NONE;
        let _ = respond(responder(&mut tx, &mut out, ctx));
        let mut bytes = tx[..out.staged()].to_vec();
        bytes.extend_from_slice(out.body);
        (String::from_utf8(bytes).unwrap(), out.close)
    }

    #[test]
    fn small_body_is_staged_with_the_head() {
        let mut tx = [0u8; 256];
        let mut out = Outgoing::NONE;
        let _ = responder(&mut tx, &mut out, KEEP).html("<p>hi</p>");
        assert!(out.body.is_empty(), "body should be staged");
        assert_eq!(
            &tx[..out.staged()],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n\r\n<p>hi</p>"
        );
        assert!(!out.close);
    }

    #[test]
    fn large_body_is_sent_from_where_it_lies() {
        static BIG: [u8; 300] = [b'x'; 300];
        let mut tx = [0u8; 128];
        let mut out = Outgoing::NONE;
        let _ = responder(&mut tx, &mut out, KEEP).ok("application/octet-stream", &BIG);
        assert_eq!(out.body.len(), 300);
        assert!(core::str::from_utf8(&tx[..out.staged()])
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
    fn body_with_escapes_html_and_writes_hex() {
        let (text, _) = render(256, KEEP, |r| {
            r.start(Status::OK).body_with(|w| {
                w.push_html("<a href=\"x\">Tom & 'Jerry'</a>");
                w.push_str(" ");
                w.push_hex(0xbeef, 8);
                w.push_str(" ");
                w.push_hex(u64::MAX, 4);
                w.push_str(" ");
                w.push_hex(0, 0);
            })
        });
        assert_eq!(
            text.split("\r\n\r\n").nth(1),
            Some("&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; 0000beef ffffffffffffffff 0")
        );
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
    fn status_shortcut_and_reasons() {
        assert_eq!(
            render(256, KEEP, |r| r.status(Status::NOT_FOUND)).0,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\n\r\nNot Found\n"
        );
        // A handler cannot answer with an interim status: a 500 with the reason.
        let (out, _) = render(256, KEEP, |r| r.status(Status::CONTINUE));
        assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
        // An unassigned code goes out with an empty reason phrase (RFC 9112 §4).
        let code_299 = Status::from_code(299).unwrap();
        assert!(render(256, KEEP, |r| r.status(code_299))
            .0
            .starts_with("HTTP/1.1 299 \r\n"));
    }
}
