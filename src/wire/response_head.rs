//! The response head as bytes: the status line, checked header fields, the framing fields and
//! the blank line, written at the front of a transmit buffer ([`HeadWriter`]); the error
//! response every protocol error gets ([`error_response`]), and the fixed responses a server
//! sends without a handler (`100 Continue`, the fallback 500, the busy 503).
//!
//! One writer for the connection's own answers and the handler layer's responses alike, so
//! that the code that frames a head is linked once. Nothing here calls `core::fmt`: numbers
//! go through the integer writer.

use super::request::Version;
use super::status::Status;
use super::syntax::{is_token, write_decimal};
use crate::error::{Error, Failure};

/// The interim response to `Expect: 100-continue` (RFC 9110 §15.2.1).
pub(crate) const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The whole response a server sends, without reading the request, to a client beyond its
/// connection limit: 503 with `Retry-After` (RFC 9110 §15.6.4, §10.2.3), then a close.
#[cfg(feature = "std")]
pub(crate) const BUSY_RESPONSE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 20\r\nConnection: close\r\n\r\n\
server is too busy\r\n";

/// The response sent when a response cannot be encoded (its head does not fit the transmit
/// buffer, or a header is invalid). If even this does not fit, nothing is staged and the
/// connection closes silently.
pub(crate) const FALLBACK_500: &[u8] =
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Stage [`FALLBACK_500`] at the front of `tx`: its length, or 0 if it does not fit.
pub(crate) fn stage_fallback_500(tx: &mut [u8]) -> usize {
    match tx.get_mut(..FALLBACK_500.len()) {
        Some(dst) => {
            dst.copy_from_slice(FALLBACK_500);
            FALLBACK_500.len()
        }
        None => 0,
    }
}

/// Stage a 500 whose plain-text body is `text` and a line feed, with `Connection: close`:
/// its length, or 0 if it does not fit.
pub(crate) fn stage_text_500(tx: &mut [u8], text: &str) -> usize {
    let status = Status::INTERNAL_SERVER_ERROR;
    let mut head = HeadWriter::start(tx, status, status.reason());
    head.push(tx, b"Content-Type: text/plain; charset=utf-8\r\n");
    head.content_length(tx, text.len() as u64 + 1);
    head.end(tx, true, Version::Http11);
    head.push(tx, text.as_bytes());
    head.push(tx, b"\n");
    match head.failure() {
        None => head.len(),
        Some(_) => 0,
    }
}

/// Whether a header value is visible ASCII, space or tab (RFC 9110 §5.5): no CR, LF, NUL or
/// other control byte, which could split the response.
pub(crate) fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// A response head being written at the front of the transmit buffer, which each call is
/// handed (the writer holds only where it is and how it failed, so that the buffer stays with
/// whoever owns the response).
///
/// Failures are remembered, not reported per call: once the head does not fit or a field is
/// refused, further writes do nothing, and [`HeadWriter::failure`] says why; the owner then
/// sends the fallback 500 instead of this head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeadWriter {
    /// Bytes of head written at the front of the buffer.
    len: usize,
    failure: Option<Failure>,
}

impl HeadWriter {
    /// Write the status line `HTTP/1.1 <code> <reason>` (always inlined: the uart firmware's
    /// size counts on `Responder::start` and the error response compiling it in place).
    #[inline(always)]
    pub(crate) fn start(tx: &mut [u8], status: Status, reason: &str) -> Self {
        let mut head = HeadWriter::new();
        head.push(tx, b"HTTP/1.1 ");
        let mut code = [0u8; 3];
        let n = write_decimal(u64::from(status.code()), &mut code).unwrap_or(0);
        head.push(tx, &code[..n]);
        head.push(tx, b" ");
        head.push(tx, reason.as_bytes());
        head.push(tx, b"\r\n");
        head
    }

    /// [`HeadWriter::start`] in front of `fields` bytes of header fields already written at
    /// the front of `tx` (a layer's, feature `layers`): they move behind the status line.
    #[inline(always)]
    pub(crate) fn start_after(tx: &mut [u8], status: Status, reason: &str, fields: usize) -> Self {
        #[cfg(feature = "layers")]
        if fields > 0 {
            return Self::start_before_fields(tx, status, reason, fields);
        }
        let _ = fields;
        Self::start(tx, status, reason)
    }

    /// [`HeadWriter::start_after`] with fields to move.
    #[cfg(feature = "layers")]
    #[inline(never)]
    fn start_before_fields(tx: &mut [u8], status: Status, reason: &str, fields: usize) -> Self {
        // `HTTP/1.1 ` + three digits + ` ` + the reason + CRLF.
        let line = 9 + 3 + 1 + reason.len() + 2;
        if line + fields > tx.len() || fields > tx.len() {
            return Self::failed(Failure::HeadTooLarge { room: tx.len() });
        }
        tx.copy_within(..fields, line);
        let mut head = Self::start(tx, status, reason);
        head.advance(fields);
        head
    }

    /// An empty head, for a caller that writes its own status line.
    pub(crate) const fn new() -> Self {
        HeadWriter {
            len: 0,
            failure: None,
        }
    }

    /// A head that failed before its first byte, for `failure`.
    pub(crate) const fn failed(failure: Failure) -> Self {
        HeadWriter {
            len: 0,
            failure: Some(failure),
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Why the head cannot be sent, if it cannot.
    pub(crate) fn failure(&self) -> Option<Failure> {
        self.failure
    }

    /// Fail the head for `failure` (the first failure is kept).
    pub(crate) fn refuse(&mut self, failure: Failure) {
        self.failure.get_or_insert(failure);
    }

    /// Append raw bytes (the caller checked them).
    #[inline(never)]
    pub(crate) fn push(&mut self, tx: &mut [u8], bytes: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        match tx.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.failure = Some(Failure::HeadTooLarge { room: tx.len() }),
        }
    }

    /// `n` more bytes were put right after the head, in the buffer (a body moved next to it).
    pub(crate) fn advance(&mut self, n: usize) {
        if self.failure.is_none() {
            self.len += n;
        }
    }

    /// `n` bytes were taken out of the head (a default field the response replaced).
    #[cfg(feature = "layers")]
    pub(crate) fn cut(&mut self, n: usize) {
        self.len = self.len.saturating_sub(n);
    }

    /// Append `name: value` whose value is `parts` one after the other, checked (RFC 9110
    /// §5.1, §5.5): a name that is not a token or a value with a control byte fails the head
    /// with [`Failure::InvalidHeader`].
    pub(crate) fn field_parts(&mut self, tx: &mut [u8], name: &str, parts: &[&str]) {
        if !is_token(name) || !parts.iter().all(|part| is_field_value(part)) {
            return self.refuse(Failure::InvalidHeader);
        }
        self.push(tx, name.as_bytes());
        self.push(tx, b": ");
        for part in parts {
            self.push(tx, part.as_bytes());
        }
        self.push(tx, b"\r\n");
    }

    /// Append `Content-Length: n`.
    pub(crate) fn content_length(&mut self, tx: &mut [u8], n: u64) {
        self.push(tx, b"Content-Length: ");
        let mut digits = [0u8; 20];
        let len = write_decimal(n, &mut digits).unwrap_or(0);
        self.push(tx, &digits[..len]);
        self.push(tx, b"\r\n");
    }

    /// Append the `Connection` field the persistence decision needs (`close`; `keep-alive` to
    /// an HTTP/1.0 client, whose default is to close) and the blank line that ends the head.
    pub(crate) fn end(&mut self, tx: &mut [u8], close: bool, version: Version) {
        if close {
            self.push(tx, b"Connection: close\r\n");
        } else if version == Version::Http10 {
            self.push(tx, b"Connection: keep-alive\r\n");
        }
        self.push(tx, b"\r\n");
    }

    /// The length of what to send from the front of `tx`: this head (and whatever was appended
    /// after it), or, if it failed, the fallback 500 staged over it (0 if even that does not
    /// fit).
    pub(crate) fn staged(&self, tx: &mut [u8]) -> usize {
        match self.failure {
            None => self.len,
            Some(_) => stage_fallback_500(tx),
        }
    }
}

/// Stage the response to a protocol error at the front of `tx`: its status, the `fields` a
/// layer wrote there before (feature `layers`; 0 for the connection's own refusals), its text
/// as a plain-text body (none for a HEAD request), and `Connection: close`, since the framing
/// of what follows cannot be trusted. Returns the length staged: the fallback 500's if the
/// response does not fit, 0 if nothing does. The connection's own refusals and a handler's
/// answer to a broken body are this one response.
pub(crate) fn error_response(tx: &mut [u8], error: Error, head_only: bool, fields: usize) -> usize {
    let status = error.status();
    let text = error.as_str();
    let mut head = HeadWriter::start_after(tx, status, status.reason(), fields);
    head.push(tx, b"Content-Type: text/plain; charset=utf-8\r\n");
    head.content_length(tx, text.len() as u64 + 1);
    head.end(tx, true, Version::Http11);
    if !head_only {
        head.push(tx, text.as_bytes());
        head.push(tx, b"\n");
    }
    head.staged(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(tx: &[u8], n: usize) -> &str {
        core::str::from_utf8(&tx[..n]).unwrap()
    }

    #[test]
    fn head_fields_and_framing() {
        let mut tx = [0u8; 128];
        let mut head = HeadWriter::start(&mut tx, Status::OK, "OK");
        head.field_parts(&mut tx, "X-A", &["1", "-", "2"]);
        head.content_length(&mut tx, 42);
        head.end(&mut tx, false, Version::Http10);
        let n = head.staged(&mut tx);
        assert_eq!(
            text(&tx, n),
            "HTTP/1.1 200 OK\r\nX-A: 1-2\r\nContent-Length: 42\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn a_refused_field_or_a_head_too_large_stages_the_fallback_500() {
        let mut tx = [0u8; 128];
        let mut head = HeadWriter::start(&mut tx, Status::OK, "OK");
        head.field_parts(&mut tx, "X", &["a\r\nEvil: 1"]);
        assert_eq!(head.failure(), Some(Failure::InvalidHeader));
        let n = head.staged(&mut tx);
        assert_eq!(&tx[..n], FALLBACK_500);

        let mut tx = [0u8; 90];
        let mut head = HeadWriter::start(&mut tx, Status::OK, "OK");
        head.field_parts(&mut tx, "X-Long", &[&"v".repeat(100)]);
        assert_eq!(head.failure(), Some(Failure::HeadTooLarge { room: 90 }));
        assert_eq!(head.staged(&mut tx), FALLBACK_500.len());
        assert_eq!(stage_fallback_500(&mut [0u8; 10]), 0);
    }

    #[test]
    fn error_responses_are_well_framed_and_close() {
        for error in [Error::Malformed, Error::HeadTooLarge, Error::Timeout] {
            let mut tx = [0u8; 256];
            let n = error_response(&mut tx, error, false, 0);
            let response = text(&tx, n).to_string();
            let (head, body) = response.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with(&format!("HTTP/1.1 {} ", error.status().code())));
            assert!(head.contains(&format!("Content-Length: {}", body.len())));
            assert!(head.ends_with("Connection: close"));
            assert_eq!(body, format!("{}\n", error.as_str()));
            // HEAD: the same head, no body.
            let n = error_response(&mut tx, error, true, 0);
            assert_eq!(text(&tx, n), format!("{head}\r\n\r\n"));
        }
        // Too small for the response, not for the fallback 500.
        let mut tx = [0u8; 100];
        let n = error_response(&mut tx, Error::HeadTooLarge, false, 0);
        assert_eq!(&tx[..n], FALLBACK_500);
    }

    #[test]
    fn busy_response_is_well_framed() {
        let text = core::str::from_utf8(BUSY_RESPONSE).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }
}
