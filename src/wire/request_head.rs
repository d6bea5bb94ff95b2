//! Request head: bytes in, a borrowed [`Request`] out.
//!
//! Two steps, so that a head arriving in many reads is never rescanned from the start:
//! [`HeadScanner`] remembers how far its search for the blank line got and checks line endings
//! on the way (httparse accepts bare LF; this crate does not), then [`parse_head`] runs httparse
//! once on the complete head and adds the checks httparse leaves to servers: method, target,
//! version, Host and the body framing (see `body_in.rs`).
//!
//! Nothing here does IO or allocates. httparse's header table is [`parse_head`]'s own, on its
//! stack while it runs: no httparse type leaves this file, and the [`Request`] it returns reads
//! its fields from the buffer.

use super::body_in::{Framing, FramingFields};
use super::request::{Method, Request, Version};
use super::syntax::{is_token_byte, list_items};
use crate::error::Error;

/// The outcome of parsing a complete head: the request (body still empty) and how its body
/// is framed.
#[derive(Debug)]
pub struct Head<'a> {
    /// The request, with an empty body.
    pub request: Request<'a>,
    /// How the body that follows the head is delimited.
    pub framing: Framing,
    /// The client asked to keep (`true`) or close (`false`) the connection, by the rules of
    /// its version (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// The client sent `Expect: 100-continue` and waits for `100 Continue` before the body.
    pub expect_continue: bool,
}

/// Incremental search for the end of a request head, with line-ending checks.
///
/// Feed it the same growing buffer on each read; it resumes where it stopped, so a head that
/// arrives a byte at a time costs O(n) in total, not O(n²).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadScanner {
    /// Bytes before this offset have been checked and contain no blank line.
    scanned: usize,
    /// A line feed has been seen: the request line is complete.
    /// A line feed has been seen: the request line is complete.
    line_complete: bool,
}

/// What [`HeadScanner::scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// No blank line yet.
    Partial,
    /// The head is the first `n` bytes (including the blank line).
    Complete(usize),
}

impl HeadScanner {
    /// A scanner at the start of a head.
    pub const fn new() -> Self {
        HeadScanner {
            scanned: 0,
            line_complete: false,
        }
    }

    /// Scan `buf` (the bytes received so far for this request, starting at its first byte)
    /// for the CRLF CRLF that ends the head.
    pub fn scan(&mut self, buf: &[u8]) -> Result<Scan, Error> {
        let mut i = self.scanned;
        loop {
            i = skip_to_line_feed(buf, i);
            if i >= buf.len() {
                break;
            }
            // Every line ends in CRLF: a bare LF is refused here, because httparse would take
            // it. (A bare CR inside a line is refused by httparse, as malformed syntax.)
            if i == 0 || buf[i - 1] != b'\r' {
                return Err(Error::BareLineEnding);
            }
            self.line_complete = true;
            if i >= 3 && buf[i - 2] == b'\n' {
                // buf[i-3] is '\r': checked when the line feed at i-2 was found.
                return Ok(Scan::Complete(i + 1));
            }
            i += 1;
        }
        // A CR at the end is looked at again with what follows it: until then, a lone "\r"
        // may still be the start of an empty line before the request line.
        self.scanned = match buf.last() {
            Some(b'\r') => buf.len() - 1,
            _ => buf.len(),
        };
        Ok(Scan::Partial)
    }

    /// Whether the request line has been fully received (used to tell 414 from 431 when the
    /// buffer fills up).
    pub fn request_line_complete(&self) -> bool {
        self.line_complete
    }

    /// Whether the complete request line of `head` holds a request-target
    /// longer than `max_target`: then a head too large for the buffer is 414, as the same
    /// target in a head that fits is (RFC 9112 §3), not 431. The target is what lies
    /// between the method and ` HTTP/1.x` (the version is checked later, by httparse).
    #[cfg(feature = "std")]
    pub(crate) fn target_too_long(&self, head: &[u8], max_target: usize) -> bool {
        let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(0);
        let line = &head[..line_end];
        let method = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
        self.line_complete && line.len().saturating_sub(method + 1 + 9) > max_target
    }
}

/// The first index from `i` whose byte is LF, or `buf.len()`: a word (8 bytes on 64-bit
/// hosts, 4 on 32-bit MCUs) at a time with the "has a zero byte" test on `word ^ LFs` (no
/// `unsafe`, no SIMD), then byte by byte. Most of a head is not LF, so the scanner mostly
/// runs here.
fn skip_to_line_feed(buf: &[u8], mut i: usize) -> usize {
    const WORD: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::from_ne_bytes([0x01; WORD]);
    const HIGHS: usize = usize::from_ne_bytes([0x80; WORD]);
    const LFS: usize = usize::from_ne_bytes([b'\n'; WORD]);
    while let Some(chunk) = buf.get(i..i + WORD) {
        let Ok(bytes) = <[u8; WORD]>::try_from(chunk) else {
            break;
        };
        let x = usize::from_ne_bytes(bytes) ^ LFS;
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            break;
        }
        i += WORD;
    }
    while i < buf.len() && buf[i] != b'\n' {
        i += 1;
    }
    i
}

/// Parse a complete head (as delimited by [`HeadScanner`], blank line included) against a
/// table of `MAX_HEADERS` fields, and apply the checks a server owes on top of httparse:
/// method, target (at most `max_target` bytes), version, Host, body framing, `Expect`.
pub fn parse_head<'a, const MAX_HEADERS: usize>(
    head: &'a [u8],
    max_target: usize,
) -> Result<Head<'a>, Error> {
    let mut table = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut table);
    let status = parsed.parse(head).map_err(|e| match e {
        httparse::Error::TooManyHeaders => Error::HeadTooLarge,
        httparse::Error::Version if has_unsupported_version(head) => Error::UnsupportedVersion,
        _ => Error::Malformed,
    });
    match status? {
        httparse::Status::Complete(n) if n == head.len() => {}
        // The scanner found the blank line, so httparse must agree on where the head ends.
        _ => return Err(Error::Malformed),
    }
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(Error::Malformed);
    };
    let headers: &[httparse::Header<'a>] = parsed.headers;
    // The field lines: after the request line (and the empty lines httparse skipped before
    // it), up to the blank line.
    let mut line_end = 0;
    while let Some(at) = head[line_end..].iter().position(|&b| b == b'\n') {
        line_end += at + 1;
        if at > 1 {
            break;
        }
    }
    let fields = head.get(line_end..head.len() - 2).unwrap_or_default();

    if target.len() > max_target {
        return Err(Error::UriTooLong);
    }
    let method = Method::from_token(method).ok_or(Error::MethodNotImplemented)?;
    let version = match version {
        0 => Version::Http10,
        _ => Version::Http11,
    };
    let (path, query) = split_target(method, target)?;

    // One pass over the fields: each name is classified once, and the verdicts are given
    // after it in a fixed order (Host, framing, Expect) whatever the fields' order.
    let mut hosts = 0usize;
    let mut framing = FramingFields::default();
    let (mut close, mut keep_alive) = (false, false);
    let (mut expect_continue, mut expectation_failed) = (false, false);
    for h in headers {
        match Field::of(h.name) {
            Field::Host => hosts += 1,
            Field::ContentLength => framing.content_length(h.value),
            Field::TransferEncoding => framing.transfer_encoding(h.value),
            Field::Connection => {
                for option in list_items(h.value) {
                    close |= option.eq_ignore_ascii_case(b"close");
                    keep_alive |= option.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            // RFC 9110 §10.1.1: `100-continue` (case-insensitive) is the only expectation;
            // any other is answered with 417.
            Field::Expect => {
                for item in list_items(h.value).filter(|i| !i.is_empty()) {
                    if item.eq_ignore_ascii_case(b"100-continue") {
                        expect_continue = true;
                    } else {
                        expectation_failed = true;
                    }
                }
            }
            Field::Other => {}
        }
    }
    if hosts > 1 || (version == Version::Http11 && hosts == 0) {
        return Err(Error::HostMissingOrRepeated);
    }
    let framing = framing.framing(version)?;
    // Persistence as the client asked for it (RFC 9112 §9.3): HTTP/1.1 keeps the connection
    // unless told `close`; HTTP/1.0 closes unless told `keep-alive`.
    let keep_alive = match version {
        Version::Http11 => !close,
        Version::Http10 => keep_alive && !close,
    };
    // An HTTP/1.0 client cannot expect anything, so its `Expect` is ignored.
    let expect_continue = version == Version::Http11 && expect_continue;
    if version == Version::Http11 && expectation_failed {
        return Err(Error::ExpectationFailed);
    }
    Ok(Head {
        request: Request::new(method, target, (path, query), version, fields),
        framing,
        keep_alive,
        expect_continue,
    })
}

/// Whether the request line is well-formed, `method SP request-target SP HTTP-version` with
/// single spaces (RFC 9112 §3), but names a well-formed version other than 1.0 or 1.1: that
/// alone earns 505 (RFC 9112 §2.3, RFC 9110 §15.6.6). Any other fault in the line is 400, even
/// when its last word looks like a version (`GET /  HTTP/1.1`).
fn has_unsupported_version(head: &[u8]) -> bool {
    // httparse skips empty lines before the request line (RFC 9112 §2.2); so does this.
    let mut line = head;
    while let Some(rest) = line.strip_prefix(b"\r\n") {
        line = rest;
    }
    let Some(end) = line.iter().position(|&b| b == b'\r') else {
        return false;
    };
    if line.get(end + 1) != Some(&b'\n') {
        return false;
    }
    let mut words = line[..end].split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    let method_ok = !method.is_empty() && method.iter().all(|&b| is_token_byte(b));
    let target_ok = !target.is_empty() && target.iter().all(|b| (0x21..=0x7e).contains(b));
    let version_unsupported = match version {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            !(*major == b'1' && matches!(minor, b'0' | b'1'))
        }
        _ => false,
    };
    method_ok && target_ok && version_unsupported
}

/// Check the request-target's bytes and form (RFC 9112 §3.2) and split it into path and query.
fn split_target(method: Method, target: &str) -> Result<(&str, Option<&str>), Error> {
    // httparse lets bytes >= 0x80 through; a request-target is visible ASCII, and '#' (a
    // fragment) is never sent (RFC 9112 §3.2, RFC 3986 §3.5).
    if target
        .bytes()
        .any(|b| !(0x21..=0x7e).contains(&b) || b == b'#')
    {
        return Err(Error::InvalidTarget);
    }
    let rest = if target == "*" {
        // asterisk-form: only for a server-wide OPTIONS (RFC 9112 §3.2.4).
        return if method == Method::Options {
            Ok(("*", None))
        } else {
            Err(Error::InvalidTarget)
        };
    } else if target.starts_with('/') {
        target
    } else if let Some(after_scheme) = strip_http_scheme(target) {
        // absolute-form (RFC 9112 §3.2.2): servers must accept it; the authority is ignored
        // in favour of routing by path, as the Host header already named this server.
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme.as_bytes()[i] == b'/' => &after_scheme[i..],
            Some(i) => {
                return Ok(("/", Some(&after_scheme[i + 1..])));
            }
            None => "/",
        }
    } else {
        // authority-form is only for CONNECT, which is refused before this point.
        return Err(Error::InvalidTarget);
    };
    Ok(match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    })
}

/// The part after `http://` or `https://` (scheme compared case-insensitively), if either.
fn strip_http_scheme(target: &str) -> Option<&str> {
    let bytes = target.as_bytes();
    let skip = if bytes.get(..7)?.eq_ignore_ascii_case(b"http://") {
        7
    } else if bytes.get(..8)?.eq_ignore_ascii_case(b"https://") {
        8
    } else {
        return None;
    };
    target.get(skip..)
}

/// RFC 9112 §2.3: a request in `HTTP/1.x` with x > 1 is processed as HTTP/1.1, the highest
/// minor version implemented. httparse knows only 1.0 and 1.1, so the version digit is
/// rewritten in place before parsing.
pub(crate) fn treat_higher_minor_as_http11(head: &mut [u8]) {
    let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(0);
    let version = head[..line_end].get_mut(line_end.saturating_sub(9)..);
    if let Some([b' ', b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor @ b'2'..=b'9']) = version {
        *minor = b'1';
    }
}

/// The header fields the server acts on itself; every other field is the application's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Host,
    ContentLength,
    TransferEncoding,
    Connection,
    Expect,
    Other,
}

impl Field {
    /// Classify a field name (ASCII case-insensitive): by length first, so most names are
    /// told apart without comparing a byte.
    fn of(name: &str) -> Field {
        let (known, field) = match name.len() {
            4 => ("host", Field::Host),
            6 => ("expect", Field::Expect),
            10 => ("connection", Field::Connection),
            14 => ("content-length", Field::ContentLength),
            17 => ("transfer-encoding", Field::TransferEncoding),
            _ => return Field::Other,
        };
        if name.eq_ignore_ascii_case(known) {
            field
        } else {
            Field::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The connection's default `Limits::max_target`.
    const MAX_TARGET: usize = 1024;

    fn scan_all(bytes: &[u8]) -> Result<Scan, Error> {
        HeadScanner::default().scan(bytes)
    }

    fn parse(bytes: &[u8]) -> Result<(Method, String, Option<String>, Version, bool), Error> {
        let head = parse_head::<8>(bytes, MAX_TARGET)?;
        let r = head.request;
        Ok((
            r.method(),
            r.path().to_string(),
            r.query().map(str::to_string),
            r.version(),
            head.keep_alive,
        ))
    }

    #[test]
    fn scanner_finds_the_blank_line() {
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest"),
            Ok(Scan::Complete(27))
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nHost: a\r\n"),
            Ok(Scan::Partial)
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r"),
            Ok(Scan::Partial)
        );
    }

    #[test]
    fn scanner_rejects_bare_lf_and_httparse_rejects_bare_cr() {
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\nHost: a\r\n\r\n"),
            Err(Error::BareLineEnding)
        );
        assert_eq!(
            scan_all(b"GET / HTTP/1.1\r\nHost: a\n\n"),
            Err(Error::BareLineEnding)
        );
        for bare_cr in [
            &b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
            b"GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n",
        ] {
            let Ok(Scan::Complete(n)) = scan_all(bare_cr) else {
                panic!("{bare_cr:?} should be a whole head to the scanner");
            };
            let parsed = parse_head::<4>(&bare_cr[..n], MAX_TARGET);
            assert_eq!(parsed.err(), Some(Error::Malformed), "{bare_cr:?}");
        }
    }

    #[test]
    fn scanner_resumes_and_agrees_with_a_whole_scan_at_every_split() {
        let inputs: [&[u8]; 3] = [
            b"GET /x HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\n\r\n",
            b"GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
        ];
        for input in inputs {
            let whole = scan_all(input);
            for end in 0..=input.len() {
                let mut s = HeadScanner::default();
                let mut result = Ok(Scan::Partial);
                for k in (1..=end).chain(core::iter::once(input.len())) {
                    result = s.scan(&input[..k]);
                    if result != Ok(Scan::Partial) {
                        break;
                    }
                }
                assert_eq!(result, whole, "{input:?} fed up to {end} first");
            }
        }
    }

    #[test]
    fn request_line_and_keep_alive() {
        assert_eq!(
            parse(b"GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n"),
            Ok((
                Method::Get,
                "/a/b".into(),
                Some("x=1&y".into()),
                Version::Http11,
                true
            ))
        );
        assert_eq!(
            parse(b"GET / HTTP/1.0\r\n\r\n"),
            Ok((Method::Get, "/".into(), None, Version::Http10, false))
        );
        assert_eq!(
            parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").map(|r| r.4),
            Ok(true)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n").map(|r| r.4),
            Ok(false)
        );
    }

    #[test]
    fn target_forms() {
        assert_eq!(
            parse(b"GET http://h:80/p?q HTTP/1.1\r\nHost: h\r\n\r\n").map(|r| (r.1, r.2)),
            Ok(("/p".into(), Some("q".into())))
        );
        assert_eq!(
            parse(b"GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").map(|r| r.1),
            Ok("/".into())
        );
        assert_eq!(
            parse(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").map(|r| r.1),
            Ok("*".into())
        );
        assert_eq!(
            parse(b"GET * HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::InvalidTarget)
        );
        assert_eq!(
            parse(b"GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::InvalidTarget)
        );
        assert_eq!(
            parse("GET /\u{e9} HTTP/1.1\r\nHost: h\r\n\r\n".as_bytes()),
            Err(Error::InvalidTarget)
        );
        assert_eq!(
            parse(b"GET /#f HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::InvalidTarget)
        );
    }

    #[test]
    fn only_an_otherwise_well_formed_request_line_earns_505() {
        for line in [
            "GET / HTTP/2.0",
            "GET / HTTP/3.0",
            "GET / HTTP/0.9",
            "GET / HTTP/1.2",
            "OPTIONS * HTTP/2.0",
            "\r\nGET / HTTP/2.0",
        ] {
            let head = format!("{line}\r\nHost: h\r\n\r\n");
            assert_eq!(
                parse(head.as_bytes()),
                Err(Error::UnsupportedVersion),
                "{line:?}"
            );
        }
        // The last word is a well-formed version, but the line around it is not: 400.
        for line in [
            "GET /  HTTP/1.1",
            "GET  HTTP/1.1",
            "GET  / HTTP/1.1",
            "GET /  HTTP/2.0",
            "GET  / HTTP/2.0",
            "GET  HTTP/2.0",
            " GET / HTTP/2.0",
            "GET / x HTTP/2.0",
            "GET /\tHTTP/2.0",
            "GET / HTTP/2.0 ",
            "GET / HTTP/2.0\rX",
            "G(T / HTTP/2.0",
            "GET /\x7f HTTP/2.0",
            "GET / HTTP/20.0",
            "GET / HTTP/2",
        ] {
            let head = format!("{line}\r\nHost: h\r\n\r\n");
            assert_eq!(parse(head.as_bytes()), Err(Error::Malformed), "{line:?}");
        }
    }

    #[test]
    fn methods_versions_and_host() {
        assert_eq!(
            parse(b"get / HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::MethodNotImplemented)
        );
        assert_eq!(
            parse(b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::MethodNotImplemented)
        );
        assert_eq!(
            parse(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n"),
            Err(Error::UnsupportedVersion)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n"),
            Err(Error::UnsupportedVersion)
        );
        assert_eq!(
            parse(b"GET / http/1.1\r\nHost: h\r\n\r\n"),
            Err(Error::Malformed)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n"),
            Err(Error::HostMissingOrRepeated)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
            Err(Error::HostMissingOrRepeated)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
            Err(Error::Malformed)
        );
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"),
            Err(Error::Malformed)
        );
    }

    #[test]
    fn too_many_headers_and_too_long_target() {
        let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for _ in 0..8 {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(Error::HeadTooLarge));

        let mut long = b"GET /".to_vec();
        long.resize(5 + MAX_TARGET, b'a');
        long.extend_from_slice(b" HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(parse(&long), Err(Error::UriTooLong));
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let head = parse_head::<4>(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n",
            MAX_TARGET,
        )
        .unwrap();
        assert_eq!(head.request.header("content-type"), Some("text/plain"));
        assert_eq!(head.request.header("CONTENT-TYPE"), Some("text/plain"));
        assert_eq!(head.request.header("accept"), None);
        assert_eq!(head.request.headers().count(), 3);
    }

    #[test]
    fn fields_read_from_the_buffer_are_what_httparse_parsed() {
        let heads: [&[u8]; 6] = [
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"\r\n\r\nGET / HTTP/1.1\r\nHost:h\r\nX:  \t a b \t \r\nEmpty:\r\n\r\n",
            b"GET / HTTP/1.0\r\nA: 1\r\nA: 2\r\nB:\t3\r\n\r\n",
            b"POST /x HTTP/1.1\r\nHost: h\r\nX-Colon: a:b: c\r\nObs: caf\xc3\xa9\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: h\r\nWeird-Value: \x80\xff\r\n\r\n",
        ];
        for raw in heads {
            let Ok(head) = parse_head::<8>(raw, MAX_TARGET) else {
                continue;
            };
            let mut reference = [httparse::EMPTY_HEADER; 8];
            let mut parsed = httparse::Request::new(&mut reference);
            parsed.parse(raw).unwrap();
            let ours: Vec<(&str, &[u8])> =
                head.request.headers().map(|h| (h.name, h.value)).collect();
            let theirs: Vec<(&str, &[u8])> =
                parsed.headers.iter().map(|h| (h.name, h.value)).collect();
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(raw));
        }
    }
}
