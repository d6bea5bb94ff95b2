//! Streamed request bodies through the blocking driver, over in-memory IO, with the public
//! API only: `POST /upload` (`demo::upload`, `.stream_body(limit)`) and `GET /`.
//!
//! Input: 8 control bytes, then the body (or, in raw mode, the whole request stream).
//! - byte 0: the receive buffer, 64..=512 bytes.
//! - byte 1, bits 0-1: the framing: 0 an exact Content-Length; 1 a Content-Length off by
//!   `byte 3 as i8`; 2 chunked, the fuzz bytes being the (likely malformed) encoding; 3 the
//!   fuzz bytes chunk-encoded in chunks of `1 + byte 3`.
//! - byte 1, bit 2: `Expect: 100-continue`.
//! - byte 1, bits 3-4: the route's limit: 0 none, 1 `byte 2`, 2 the body's length +
//!   `byte 2 as i8`, 3 `16 * byte 2`.
//! - byte 1, bits 5-6 both set: raw mode, the fuzz bytes are the whole input.
//! - byte 1, bit 7: a `GET /` before the upload.
//! - bytes 4-5 and 6-7: two cut offsets (u16 LE, modulo the input's length + 1).
//!
//! The upload is followed by a pipelined `GET /`.
//!
//! Checks: no panic, no read loop, the core never lends an empty read buffer; the output is a
//! sequence of well-formed HTTP/1.1 responses, nothing after `Connection: close`, no
//! `100 Continue` unless asked for and never two in a row; after dropping interim
//! `100 Continue` responses (sent only when the body is not already here), the output is the
//! same whether the input arrives whole, cut at the two offsets, or one byte per read. For
//! well-formed bodies whose head fits the buffer, the answers are also checked against the
//! body: its length and CRC-32 then `ok`, or 413 when it is above the route's limit.
#![no_main]

use demo_app as demo;
use embedded_io::{ErrorType, Read, Write};
use embedded_responder::io::blocking::{self, Polled};
use embedded_responder::{get, post_async, Connection, Router};
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// Whether a run read into an empty buffer (allowed only with `empty-read` masked).
    static EMPTY_READ: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

struct Scripted<'a> {
    input: &'a [u8],
    cuts: Vec<usize>,
    /// Index of the next cut at or after `pos`.
    next_cut: usize,
    pos: usize,
    output: Vec<u8>,
    reads: usize,
}

impl ErrorType for Scripted<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Scripted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.reads += 1;
        // Every read must make progress or end the stream: a connection that keeps asking
        // after end of stream would loop forever.
        assert!(
            self.reads <= self.input.len() + 2 * self.cuts.len() + 4,
            "read loop"
        );
        // An empty buffer could only be answered with Ok(0), which means end of stream.
        if buf.is_empty() && self.pos < self.input.len() {
            assert!(
                masked("empty-read"),
                "read into an empty buffer with {} input bytes still to come",
                self.input.len() - self.pos
            );
            EMPTY_READ.set(true);
        }
        while self.cuts.get(self.next_cut).is_some_and(|&c| c <= self.pos) {
            self.next_cut += 1;
        }
        let stop = self
            .cuts
            .get(self.next_cut)
            .copied()
            .unwrap_or(self.input.len())
            .min(self.input.len());
        let n = (stop - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Scripted<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.output.extend_from_slice(buf);
        assert!(self.output.len() < 1 << 20, "runaway output");
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn serve(input: &[u8], cuts: Vec<usize>, rx_len: usize, limit: u64) -> Vec<u8> {
    let mut rx = vec![0u8; rx_len];
    let mut tx = [0u8; 256];
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut app = Polled(
        Router::new()
            .route("/", get(|_, res| res.html("ok")))
            .route("/upload", post_async(demo::upload).stream_body(limit)),
    );
    let mut io = Scripted {
        input,
        cuts,
        next_cut: 0,
        pos: 0,
        output: Vec::new(),
        reads: 0,
    };
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    io.output
}

/// One response: status, head (through the blank line), body.
#[derive(PartialEq, Eq)]
struct Response<'a> {
    status: u16,
    head: &'a [u8],
    body: &'a [u8],
}

impl core::fmt::Debug for Response<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let head = String::from_utf8_lossy(self.head);
        let body = String::from_utf8_lossy(self.body);
        write!(f, "{head:?}+{body:?}")
    }
}

fn starts_response(b: &[u8]) -> bool {
    b.is_empty() || b.starts_with(b"HTTP/1.1 ")
}

fn header<'a>(head: &'a [u8], name: &str) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&b| b == b':')?;
        line[..colon]
            .eq_ignore_ascii_case(name.as_bytes())
            .then(|| line[colon + 1..].trim_ascii())
    })
}

/// Split the output into responses, panicking on anything that is not one. A response to
/// HEAD declares a length but has no body: where the declared body is not followed by a
/// response but the head is, the body is taken as empty.
fn responses(mut out: &[u8]) -> Vec<Response<'_>> {
    let mut list = Vec::new();
    while !out.is_empty() {
        assert!(
            out.starts_with(b"HTTP/1.1 "),
            "not a response: {:?}",
            String::from_utf8_lossy(&out[..out.len().min(80)])
        );
        let status = &out[9..12.min(out.len())];
        assert!(
            status.len() == 3
                && status.iter().all(u8::is_ascii_digit)
                && out.get(12) == Some(&b' '),
            "bad status line"
        );
        let status = status
            .iter()
            .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
        let end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response head without its blank line")
            + 4;
        let (head, rest) = out.split_at(end);
        assert!(
            header(head, "transfer-encoding").is_none(),
            "unexpected chunked response"
        );
        let body_len = if status < 200 {
            assert_eq!(head, CONTINUE, "interim response other than 100 Continue");
            0
        } else {
            let declared = header(head, "content-length").map(|v| {
                let v = core::str::from_utf8(v).expect("Content-Length not ASCII");
                v.parse::<usize>().expect("Content-Length not a number")
            });
            match declared {
                Some(n) if rest.len() >= n && starts_response(&rest[n..]) => n,
                Some(_) if starts_response(rest) => 0, // HEAD
                Some(n) => panic!("{n}-byte body not followed by a response"),
                None if status == 204 || status == 304 => 0,
                None => rest.len(), // close-delimited
            }
        };
        let (body, rest) = rest.split_at(body_len);
        let close = header(head, "connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        assert!(!close || rest.is_empty(), "bytes after Connection: close");
        list.push(Response { status, head, body });
        out = rest;
    }
    list
}

/// The final responses (interim `100 Continue` depends on whether the body came with the
/// head).
fn finals(out: &[u8]) -> Vec<Response<'_>> {
    let all = responses(out);
    for pair in all.windows(2) {
        assert!(
            pair[0].status >= 200 || pair[1].status >= 200,
            "two 100 Continue in a row"
        );
    }
    all.into_iter().filter(|r| r.status >= 200).collect()
}

/// Whether the output holds an interim `100 Continue`.
fn has_continue(out: &[u8]) -> bool {
    responses(out).iter().any(|r| r.status < 200)
}

/// While a known bug is being fixed, `STREAM_BODY_MASK` (a comma-separated list) can name it
/// so that the fuzzer looks for others:
/// - `limit`: skip inputs where any arrival answers 413 (a body that arrives with its head is
///   not held to the route's stream limit, so the answers differ around every 413);
/// - `reason`: compare error responses (4xx, 5xx) by status and `Connection` only (a body
///   error found before the handler runs says what was wrong; found by a streaming handler,
///   it says the status's reason phrase);
/// - `empty-read`: let the core read into an empty buffer (the transport answers `Ok(0)`, as
///   a real one may, which the core takes as end of stream).
fn masked(name: &str) -> bool {
    std::env::var("STREAM_BODY_MASK").is_ok_and(|m| m.split(',').any(|m| m == name))
}

fn known_difference(outputs: &[&[u8]]) -> bool {
    if EMPTY_READ.get() {
        return true;
    }
    let has_413 = |out: &[u8]| finals(out).iter().any(|r| r.status == 413);
    masked("limit") && outputs.iter().any(|o| has_413(o))
}

/// What the comparison looks at in a response: all of it, unless masked.
fn key(r: &Response<'_>) -> (u16, bool, Vec<u8>, Vec<u8>) {
    if r.status >= 400 && masked("reason") {
        let close = header(r.head, "connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        (r.status, close, Vec::new(), Vec::new())
    } else {
        (r.status, false, r.head.to_vec(), r.body.to_vec())
    }
}

fn keys(out: &[u8]) -> Vec<(u16, bool, Vec<u8>, Vec<u8>)> {
    finals(out).iter().map(key).collect()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

fn cut(lo: u8, hi: u8, len: usize) -> usize {
    usize::from(u16::from_le_bytes([lo, hi])) % (len + 1)
}

fuzz_target!(|data: &[u8]| {
    let Some((control, body)) = data.split_first_chunk::<8>() else {
        return;
    };
    let rx_len = 64 + usize::from(control[0]) * 449 / 256;
    let flags = control[1];
    let (limit_param, framing_param) = (control[2], control[3]);
    let raw = flags >> 5 & 3 == 3;
    let framing = flags & 3;
    let expect = flags & 4 != 0;
    let len = body.len() as u64;
    let limit = match flags >> 3 & 3 {
        0 => u64::MAX,
        1 => u64::from(limit_param),
        2 => len.saturating_add_signed(i64::from(limit_param as i8)),
        _ => 16 * u64::from(limit_param),
    };

    // The request stream, and for well-formed bodies, the expected answer to the upload.
    let mut input = Vec::new();
    let mut well_formed = false;
    let mut upload_head_end = 0;
    if raw {
        input.extend_from_slice(body);
    } else {
        if flags & 0x80 != 0 {
            input.extend_from_slice(GET);
        }
        let head_start = input.len();
        input.extend_from_slice(b"POST /upload HTTP/1.1\r\nHost: x\r\n");
        if expect {
            input.extend_from_slice(b"Expect: 100-continue\r\n");
        }
        match framing {
            0 | 1 => {
                let declared = if framing == 0 {
                    len
                } else {
                    len.saturating_add_signed(i64::from(framing_param as i8))
                };
                input.extend_from_slice(format!("Content-Length: {declared}\r\n\r\n").as_bytes());
                upload_head_end = input.len() - head_start;
                input.extend_from_slice(body);
                well_formed = declared == len;
            }
            2 => {
                input.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                upload_head_end = input.len() - head_start;
                input.extend_from_slice(body);
            }
            _ => {
                input.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                upload_head_end = input.len() - head_start;
                let size = 1 + usize::from(framing_param);
                for chunk in body.chunks(size) {
                    input.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    input.extend_from_slice(chunk);
                    input.extend_from_slice(b"\r\n");
                }
                input.extend_from_slice(b"0\r\n\r\n");
                well_formed = true;
            }
        }
        input.extend_from_slice(GET);
    }

    EMPTY_READ.set(false);
    let whole = serve(&input, Vec::new(), rx_len, limit);
    // Raw input may be nothing a server answers (empty, or blank lines): a silent close.
    assert!(
        whole.starts_with(b"HTTP/1.1 ") || raw && whole.is_empty(),
        "no response"
    );
    let expected = finals(&whole);

    let mut cuts = vec![
        cut(control[4], control[5], input.len()),
        cut(control[6], control[7], input.len()),
    ];
    cuts.sort_unstable();
    let split = serve(&input, cuts.clone(), rx_len, limit);
    let bytewise = serve(&input, (1..input.len()).collect(), rx_len, limit);
    if std::env::var_os("STREAM_BODY_PRINT").is_some() {
        // For reading a reproducer: what went in and what came out.
        eprintln!("rx {rx_len} limit {limit} cuts {cuts:?}");
        for (name, bytes) in [
            ("input", &input),
            ("whole", &whole),
            ("cut", &split),
            ("bytewise", &bytewise),
        ] {
            eprintln!("{name}: {:?}", String::from_utf8_lossy(bytes));
        }
    }
    let (split_finals, bytewise_finals) = (finals(&split), finals(&bytewise));
    // Any request may ask, including one the fuzz bytes make after the upload's body.
    let asked = input
        .windows(12)
        .any(|w| w.eq_ignore_ascii_case(b"100-continue"));
    if !asked {
        for out in [&whole, &split, &bytewise] {
            assert!(!has_continue(out), "100 Continue unasked");
        }
    }
    if known_difference(&[&whole, &split, &bytewise]) {
        return;
    }
    if keys(&whole) != keys(&split) {
        assert_eq!(expected, split_finals, "whole vs cut at {cuts:?}");
    }
    if keys(&whole) != keys(&bytewise) {
        assert_eq!(expected, bytewise_finals, "whole vs byte at a time");
    }

    // What the answers must be, when the upload's head fits with room for its body.
    if well_formed && upload_head_end < rx_len {
        let mut rest = &expected[..];
        if flags & 0x80 != 0 {
            assert_eq!(
                rest.first().map(|r| (r.status, r.body)),
                Some((200, &b"ok"[..]))
            );
            rest = &rest[1..];
        }
        let upload = rest.first().expect("no answer to the upload");
        if len <= limit {
            let json = format!("{{\"bytes\":{len},\"crc32\":\"{:08x}\"}}", crc32(body));
            assert_eq!(
                (upload.status, upload.body),
                (200, json.as_bytes()),
                "upload answer"
            );
            assert_eq!(
                rest.get(1).map(|r| (r.status, r.body)),
                Some((200, &b"ok"[..])),
                "pipelined GET after the upload"
            );
        } else {
            assert_eq!(upload.status, 413, "body of {len} above the limit {limit}");
            assert_eq!(rest.len(), 1, "answers after a 413");
        }
    }
});
