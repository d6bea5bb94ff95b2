//! The conformance table: raw requests and the answers RFC 9110/9112 call for, with the RFC
//! section of each rule in a comment. Run in memory by `tests/conformance.rs` and over real
//! sockets by `tests/std_server.rs`.

use super::Scripted;
use demo_app as demo;
use embedded_responder::io::blocking;
use embedded_responder::io::blocking::Polled;
use embedded_responder::Connection;

pub struct Case {
    pub name: &'static str,
    pub input: Vec<u8>,
    pub status: u16,
    pub keep_alive: bool,
    /// The expected body, where the case is about the body.
    pub body: Option<&'static [u8]>,
    pub head: bool,
}

fn case(name: &'static str, input: impl AsRef<[u8]>, status: u16, keep_alive: bool) -> Case {
    Case {
        name,
        input: input.as_ref().to_vec(),
        status,
        keep_alive,
        body: None,
        head: false,
    }
}

fn with_body(mut c: Case, body: &'static [u8]) -> Case {
    c.body = Some(body);
    c
}

fn head(mut c: Case) -> Case {
    c.head = true;
    c
}

pub const RX: usize = 1024;
pub const TX: usize = 512;
pub const NEXT: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

pub fn cases() -> Vec<Case> {
    let page = demo::PAGE.as_bytes();
    let mut many_headers = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..40 {
        many_headers.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    many_headers.extend_from_slice(b"\r\n");
    let mut twenty_headers = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..20 {
        twenty_headers.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    twenty_headers.extend_from_slice(b"\r\n");
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(2000));
    let target_over_limit = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1024));
    let long_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(2000)
    );

    vec![
        // --- valid requests (RFC 9112 §3, §9.3; RFC 9110 §9.3) ---
        with_body(case("get page", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true), page),
        // RFC 9110 §9.3.2: HEAD gets GET's headers without a body
        head(case("head page", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true)),
        with_body(
            case(
                "post echo",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
                200,
                true,
            ),
            b"hello",
        ),
        with_body(
            case("post echo empty", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 200, true),
            b"",
        ),
        // RFC 9110 §8.6: leading zeros are still 1*DIGIT
        with_body(
            case("content-length leading zeros", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 003\r\n\r\nabc", 200, true),
            b"abc",
        ),
        // RFC 9110 §8.6: a list of identical values may stand for one
        with_body(
            case("content-length identical list", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 200, true),
            b"abc",
        ),
        with_body(
            case("content-length repeated identical", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 200, true),
            b"abc",
        ),
        // a GET with a body: the body is read and discarded, never parsed as a request
        with_body(
            case("get with body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\nGET /evil HTTP/1.1\r\nH: x\r\n\r\n", 200, true),
            page,
        ),
        case("not found", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, true),
        // RFC 9110 §15.5.6: 405 for a known path and another method
        case("method not allowed", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, true),
        case("post to get-only", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, true),
        // RFC 9110 §9.3.7
        case("options path", "OPTIONS /echo HTTP/1.1\r\nHost: x\r\n\r\n", 204, true),
        // RFC 9112 §3.2.4
        case("options asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 204, true),
        // RFC 9112 §9.3: HTTP/1.0 closes unless keep-alive is asked for
        with_body(case("http/1.0", "GET / HTTP/1.0\r\n\r\n", 200, false), page),
        case("http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, true),
        case("http/1.0 with host", "GET / HTTP/1.0\r\nHost: x\r\n\r\n", 200, false),
        case("connection close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, false),
        case("connection list with close", "GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n", 200, false),
        // RFC 9112 §2.2: empty lines before the request line are ignored
        case("leading empty line", "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
        case("leading empty lines", "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
        // ... but not endlessly (MAX_EMPTY_LINES = 8)
        case("nine leading empty lines", format!("{}GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\r\n".repeat(9)), 400, false),
        // RFC 9112 §3.2.2: absolute-form must be accepted
        case("absolute form", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
        case("absolute form no path", "GET http://x HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
        case("query string", "GET /?a=1&b=%20 HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
        case("twenty headers", twenty_headers, 200, true),
        // RFC 9110 §5.6.3: OWS around field values is tab or space
        case("tab in OWS", "GET / HTTP/1.1\r\nHost:\tx\t\r\n\r\n", 200, true),
        case("empty header value", "GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n", 200, true),
        case("obs-text in value", b"GET / HTTP/1.1\r\nHost: x\r\nX-L: caf\xc3\xa9\r\n\r\n", 200, true),
        // RFC 9112 §2.3: a higher minor version is processed as 1.1
        case("http/1.2 as 1.1", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 200, true),
        // --- syntax errors: 400 and close (RFC 9112 §2.2, §3, §5) ---
        case("bare LF request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400, false),
        case("bare LF header", "GET / HTTP/1.1\r\nHost: x\n\r\n", 400, false),
        case("bare LF only", "GET / HTTP/1.1\nHost: x\n\n", 400, false),
        case("bare CR", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n", 400, false),
        case("leading bare LF", "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        // RFC 9112 §5.2: obs-fold is rejected
        case("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400, false),
        // RFC 9112 §5.1: no whitespace between field name and colon
        case("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, false),
        // RFC 9112 §2.2: whitespace before the first header line
        case("whitespace before first header", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, false),
        case("invalid header name", "GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400, false),
        case("empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n", 400, false),
        case("NUL in header value", b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400, false),
        case("control char in value", b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400, false),
        case("double space in request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("trailing space in request line", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, false),
        // ... even when the last word is a well-formed version: 505 is for a well-formed line
        case("double space before version", "GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("missing target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("missing target, http/1.2", "GET  HTTP/1.2\r\nHost: x\r\n\r\n", 400, false),
        case("double space before http/2.0", "GET /  HTTP/2.0\r\nHost: x\r\n\r\n", 400, false),
        case("double space after method, http/2.0", "GET  / HTTP/2.0\r\nHost: x\r\n\r\n", 400, false),
        case("missing target, http/2.0", "GET  HTTP/2.0\r\nHost: x\r\n\r\n", 400, false),
        case("extra word before http/2.0", "GET / x HTTP/2.0\r\nHost: x\r\n\r\n", 400, false),
        case("missing version", "GET /\r\nHost: x\r\n\r\n", 400, false),
        case("lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("malformed version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", 400, false),
        case("version without minor", "GET / HTTP/1\r\nHost: x\r\n\r\n", 400, false),
        // RFC 9112 §3.2: target bytes
        case("non-ascii target", "GET /caf\u{e9} HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("control char in target", b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("fragment in target", "GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("asterisk with GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        case("authority form with GET", "GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, false),
        // RFC 9112 §3.2: exactly one Host in HTTP/1.1
        case("missing host", "GET / HTTP/1.1\r\n\r\n", 400, false),
        case("duplicate host", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, false),
        case("duplicate host http/1.0", "GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n", 400, false),
        // --- framing (RFC 9112 §6.1, §6.3; RFC 9110 §8.6): 400 and close ---
        case("content-length abc", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, false),
        case("content-length +1", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na", 400, false),
        case("content-length -1", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, false),
        case("content-length 1 2", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\na", 400, false),
        case("content-length hex", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0x1\r\n\r\na", 400, false),
        case("content-length empty", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400, false),
        case("content-length overflow", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, false),
        case("content-length conflict", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, false),
        case("content-length list conflict", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab", 400, false),
        case("content-length with transfer-encoding", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false),
        case("transfer-encoding in http/1.0", "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false),
        // --- chunked bodies (RFC 9112 §7.1) ---
        with_body(
            case("chunked echo", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, true),
            b"hello",
        ),
        with_body(
            case("chunked several chunks", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\nA\r\n0123456789\r\n0\r\n\r\n", 200, true),
            b"abcd0123456789",
        ),
        with_body(
            case("chunked empty", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200, true),
            b"",
        ),
        // RFC 9112 §7.1.1: extensions are ignored
        with_body(
            case("chunked extensions", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b;c=\"d e\"\r\nabc\r\n0;z\r\n\r\n", 200, true),
            b"abc",
        ),
        with_body(
            case("chunked BWS before extension", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3 ;a\r\nabc\r\n0\r\n\r\n", 200, true),
            b"abc",
        ),
        // RFC 9112 §7.1.2: trailers are parsed and dropped; they never change framing
        with_body(
            case("chunked trailers", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\nContent-Length: 99\r\n\r\n", 200, true),
            b"abc",
        ),
        with_body(
            case("chunked upper-case hex and leading zeros", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00A\r\n0123456789\r\n0\r\n\r\n", 200, true),
            b"0123456789",
        ),
        case("chunked coding name case-insensitive", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n", 200, true),
        // RFC 9110 §5.6.1: empty list elements are ignored
        case("transfer-encoding empty elements", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n", 200, true),
        with_body(
            case("get with chunked body", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /\r\n0\r\n\r\n", 200, true),
            page,
        ),
        case("chunked size not hex", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nx\r\n", 400, false),
        case("chunked size missing", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\nabc\r\n0\r\n\r\n", 400, false),
        case("chunked size negative", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked size 0x", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked size overflow", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\n", 400, false),
        case("chunked size trailing space", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked size bare LF", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked data longer than size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked data without CRLF", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n", 400, false),
        case("chunked data bare LF", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400, false),
        case("chunked control byte in extension", b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n0\r\n\r\n", 400, false),
        case("chunked extension too long", format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(300)), 400, false),
        case("chunked trailer without colon", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum 1\r\n\r\n", 400, false),
        case("chunked trailer obs-fold", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400, false),
        case("chunked trailers too large", format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Big: {}\r\n\r\n", "t".repeat(1100)), 431, false),
        case("chunked body too large", format!("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n{}\r\n0\r\n\r\n", "d".repeat(1024)), 413, false),
        // RFC 9112 §6.1, §6.3: codings other than a final chunked
        case("transfer-encoding gzip", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, false),
        case("transfer-encoding gzip, chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, false),
        case("transfer-encoding chunked, gzip", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, false),
        case("transfer-encoding chunked twice", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false),
        case("transfer-encoding empty", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n", 400, false),
        // --- Expect (RFC 9110 §10.1.1) ---
        with_body(
            case("expect 100-continue", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok", 200, true),
            b"ok",
        ),
        case("expect 100-continue case-insensitive", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok", 200, true),
        with_body(
            case("expect 100-continue chunked", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 200, true),
            b"ok",
        ),
        case("expect 100-continue too large", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n", 413, false),
        case("expect unknown", "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nok", 417, false),
        case("expect in http/1.0 ignored", "POST /echo HTTP/1.0\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nok", 200, false),
        // --- more valid shapes ---
        with_body(
            case("post without body", "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", 200, true),
            b"",
        ),
        case("content-length with OWS", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:   2  \r\n\r\nok", 200, true),
        case("underscore in header name", "GET / HTTP/1.1\r\nHost: x\r\nX_Under: 1\r\n\r\n", 200, true),
        case("double slash path", "GET // HTTP/1.1\r\nHost: x\r\n\r\n", 404, true),
        case("put to echo", "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\na", 405, true),
        case("trace unrouted", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, true),
        // --- methods and versions (RFC 9110 §9.1, §15.6.2, §15.6.6) ---
        case("lowercase method", "get / HTTP/1.1\r\nHost: x\r\n\r\n", 501, false),
        case("unknown method", "BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 501, false),
        case("connect", "CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n", 501, false),
        case("http/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, false),
        case("http/0.9 style version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, false),
        case("http/3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", 505, false),
        case("http/2.0 after an empty line", "\r\nGET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, false),
        case("http/2.0 with asterisk", "OPTIONS * HTTP/2.0\r\nHost: x\r\n\r\n", 505, false),
        // --- limits ---
        // RFC 9112 §3: request line longer than the buffer: 414
        case("request line too long", long_target, 414, false),
        case("target over limit", target_over_limit, 414, false),
        // RFC 6585 §5: header section too large: 431
        case("header too large", long_header, 431, false),
        case("too many headers", many_headers, 431, false),
        // RFC 9110 §15.5.14: body larger than the buffer: 413
        case("body too large", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nabc", 413, false),
    ]
}

/// The output without interim `100 Continue` responses, which depend on whether the body
/// arrived with the head.
pub fn final_responses(out: Vec<u8>) -> Vec<u8> {
    let mut rest = &out[..];
    let mut kept = Vec::new();
    while !rest.is_empty() {
        if rest.starts_with(CONTINUE) {
            rest = &rest[CONTINUE.len()..];
        } else {
            kept.push(rest[0]);
            rest = &rest[1..];
        }
    }
    kept
}

pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Serve `io` with the demo app; return everything written.
pub fn serve(mut io: Scripted) -> Scripted {
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut app = Polled(demo::app());
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    io
}
