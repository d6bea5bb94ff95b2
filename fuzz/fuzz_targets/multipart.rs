//! `multipart/form-data` bodies through the blocking driver, over in-memory IO, with the
//! public API only: `POST /form` reads every part with `multipart::Multipart` (or skips
//! their data) and `GET /next` follows it.
//!
//! Input: 8 control bytes, then the body.
//! - byte 0: the receive buffer, 192..=702 bytes.
//! - byte 1: the handler's head buffer, 0..=255 bytes.
//! - byte 2, bits 0-2: the boundary: `b`, `XyZ`, a browser's, a 70-character one, `a b`
//!   (quoted), `-` ; 6 and 7: the Content-Type is the body up to its first LF (the rest is
//!   the body), so the fuzzer writes its own.
//! - byte 2, bit 3: chunked framing (in chunks of `1 + byte 3`), else Content-Length.
//! - byte 2, bit 4: the handler skips every part's data (`next_part` only).
//! - bytes 4-5 and 6-7: two cut offsets (u16 LE, modulo the input's length + 1).
//!
//! Checks: no panic, no read loop; the output is well-formed responses; the handler sees the
//! same parts, the same data and the same error, and answers the same, whether the input
//! arrives whole, cut at the two offsets, or one byte per read. For a body read without
//! error: no part's data holds the delimiter, each part's data is followed in the body by
//! the delimiter (in order), skipping gives the same heads as reading, and the pipelined
//! `GET /next` is answered.
#![no_main]

use std::cell::RefCell;

use embedded_io::{ErrorType, Read, Write};
use embedded_responder::io::blocking;
use embedded_responder::multipart::{Multipart, MultipartError};
use embedded_responder::{get, post, Connection, Router, Status};
use libfuzzer_sys::fuzz_target;

struct Scripted<'a> {
    input: &'a [u8],
    cuts: Vec<usize>,
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
        assert!(
            self.reads <= self.input.len() + 2 * self.cuts.len() + 4,
            "read loop"
        );
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

/// A part as the handler saw it: name, filename, content type, data.
type Seen = (String, Option<String>, Option<String>, Vec<u8>);

/// What the handler read: every part, then the error that stopped it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Outcome {
    parts: Vec<Seen>,
    error: Option<MultipartError>,
}

const NEXT: &[u8] = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n";

/// Serve `input` cut at `cuts`; the output and what the handler read.
fn serve(
    input: &[u8],
    cuts: Vec<usize>,
    rx_len: usize,
    head_len: usize,
    skip: bool,
) -> (Vec<u8>, Vec<Outcome>) {
    let log = RefCell::new(Vec::new());
    let mut app = Router::new()
        .route(
            "/form",
            post(|req, mut res| {
                let mut head = vec![0u8; head_len];
                let mut outcome = Outcome::default();
                let mut run = || -> Result<(), MultipartError> {
                    let mut form = Multipart::new(req, res.request_body())?;
                    while let Some(part) = form.next_part(&mut head)? {
                        outcome.parts.push((
                            part.name().to_string(),
                            part.filename().map(str::to_string),
                            part.content_type().map(str::to_string),
                            Vec::new(),
                        ));
                        if skip {
                            continue;
                        }
                        while let Some(piece) = form.read_data()? {
                            assert!(!piece.is_empty(), "an empty piece of data");
                            outcome.parts.last_mut().unwrap().3.extend_from_slice(piece);
                        }
                    }
                    Ok(())
                };
                outcome.error = run().err();
                let answer = match outcome.error {
                    None => res
                        .start(Status::OK)
                        .body_with(|w| w.push_u64(outcome.parts.len() as u64)),
                    Some(e) => e.respond(res),
                };
                log.borrow_mut().push(outcome);
                answer
            })
            .stream_body(u64::MAX),
        )
        .route("/next", get(|_req, res| res.text("next")));
    let mut rx = vec![0u8; rx_len];
    let mut tx = [0u8; 256];
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut io = Scripted {
        input,
        cuts,
        next_cut: 0,
        pos: 0,
        output: Vec::new(),
        reads: 0,
    };
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    (io.output, log.into_inner())
}

/// One response: status and body (all framed by Content-Length here).
fn responses(mut out: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut list = Vec::new();
    while !out.is_empty() {
        assert!(out.starts_with(b"HTTP/1.1 "), "not a response");
        let end = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response head without its blank line")
            + 4;
        let head = std::str::from_utf8(&out[..end]).expect("head not ASCII");
        let status: u16 = head[9..12].parse().expect("status");
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        let body = &out[end..];
        assert!(body.len() >= length, "truncated body");
        list.push((status, body[..length].to_vec()));
        out = &body[length..];
    }
    list
}

const LONG: &str = "0123456789012345678901234567890123456789012345678901234567890123456789";
const BOUNDARIES: [&str; 6] = [
    "b",
    "XyZ",
    "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    LONG,
    "\"a b\"",
    "-",
];

fn cut(lo: u8, hi: u8, len: usize) -> usize {
    usize::from(u16::from_le_bytes([lo, hi])) % (len + 1)
}

fuzz_target!(|data: &[u8]| {
    let Some((control, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let rx_len = 192 + usize::from(control[0]) * 2;
    let head_len = usize::from(control[1]);
    let flags = control[2];
    let chunked = flags & 8 != 0;
    let skip = flags & 16 != 0;
    // The boundary, when the target chose it.
    let (content_type, body, boundary): (Vec<u8>, &[u8], Option<&str>) =
        match usize::from(flags & 7) {
            i @ 0..=5 => {
                let ct = format!("multipart/form-data; boundary={}", BOUNDARIES[i]);
                (ct.into_bytes(), rest, Some(BOUNDARIES[i].trim_matches('"')))
            }
            _ => match rest.iter().position(|&b| b == b'\n') {
                Some(lf) => (rest[..lf].to_vec(), &rest[lf + 1..], None),
                None => return,
            },
        };
    if content_type
        .iter()
        .any(|&b| b == b'\r' || b == b'\n' || b == 0 || b == 0x7f)
    {
        return;
    }

    let mut input = b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: ".to_vec();
    input.extend_from_slice(&content_type);
    if chunked {
        input.extend_from_slice(b"\r\nTransfer-Encoding: chunked\r\n\r\n");
        for chunk in body.chunks(1 + usize::from(control[3])) {
            input.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            input.extend_from_slice(chunk);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b"0\r\n\r\n");
    } else {
        input.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
        input.extend_from_slice(body);
    }
    input.extend_from_slice(NEXT);

    let (whole_out, whole) = serve(&input, Vec::new(), rx_len, head_len, skip);
    let whole_responses = responses(&whole_out);
    if whole.is_empty() {
        // The request itself was refused (a Content-Type the head parser does not take).
        assert!(whole_responses.first().is_some_and(|r| r.0 >= 400));
        return;
    }
    assert_eq!(whole.len(), 1, "one form handled");

    let mut cuts = vec![
        cut(control[4], control[5], input.len()),
        cut(control[6], control[7], input.len()),
    ];
    cuts.sort_unstable();
    let (split_out, split) = serve(&input, cuts.clone(), rx_len, head_len, skip);
    let (bytewise_out, bytewise) =
        serve(&input, (1..input.len()).collect(), rx_len, head_len, skip);
    assert_eq!(whole, split, "whole vs cut at {cuts:?}");
    assert_eq!(whole, bytewise, "whole vs byte at a time");
    let first = |out: &[u8]| responses(out).into_iter().next();
    assert_eq!(
        whole_responses.first().cloned(),
        first(&split_out),
        "answer: whole vs cut at {cuts:?}"
    );
    assert_eq!(
        whole_responses.first().cloned(),
        first(&bytewise_out),
        "answer: whole vs byte at a time"
    );

    let outcome = &whole[0];
    let Some(status) = whole_responses.first().map(|r| r.0) else {
        panic!("no answer");
    };
    match outcome.error {
        Some(e) => assert_eq!(status, e.status().code(), "{e:?}"),
        None => {
            assert_eq!(status, 200);
            assert_eq!(
                whole_responses.get(1).map(|r| &r.1[..]),
                Some(&b"next"[..]),
                "pipelined GET"
            );
            if let (false, Some(boundary)) = (skip, boundary) {
                let delimiter = format!("\r\n--{boundary}");
                let delimiter = delimiter.as_bytes();
                let mut at = 0;
                for (_, _, _, data) in &outcome.parts {
                    assert!(
                        !data.windows(delimiter.len()).any(|w| w == delimiter),
                        "a delimiter in data"
                    );
                    let mut expected = data.clone();
                    expected.extend_from_slice(delimiter);
                    let found = body[at..]
                        .windows(expected.len())
                        .position(|w| w == &expected[..])
                        .expect("part data followed by its delimiter");
                    at += found + expected.len();
                }
                // Skipping the data gives the same heads.
                let (_, skipped) = serve(&input, Vec::new(), rx_len, head_len, true);
                let heads = |o: &Outcome| {
                    o.parts
                        .iter()
                        .map(|p| (p.0.clone(), p.1.clone(), p.2.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(heads(&skipped[0]), heads(outcome), "skipping vs reading");
                assert_eq!(skipped[0].error, None);
            }
        }
    }
});
