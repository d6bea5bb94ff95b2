//! The conformance table: raw requests and the answer RFC 9110/9112 call for, each run
//! through the blocking driver over in-memory IO four ways: whole, split in two at every byte
//! offset, one byte per read, and followed by a pipelined request. Every way must produce the
//! same bytes; the pipelined request must be answered exactly when the case keeps the
//! connection open (otherwise it must not be read as a request: no smuggling).

mod common;

use common::cases::{cases, final_responses, serve, Case, CONTINUE, NEXT};
use common::{parse_responses, Parsed, Scripted};
use demo_app as demo;

fn check(c: &Case, responses: &[Parsed], how: &str) {
    let first = responses
        .first()
        .unwrap_or_else(|| panic!("{} ({how}): no response", c.name));
    assert_eq!(first.status, c.status, "{} ({how})", c.name);
    assert_eq!(
        first.closes(),
        !c.keep_alive,
        "{} ({how}): Connection header",
        c.name
    );
    if let Some(body) = c.body {
        assert_eq!(first.body, body, "{} ({how}): body", c.name);
    }
    if c.head {
        assert!(first.header("content-length").is_some());
    }
}

#[test]
fn table_has_the_cases_it_claims() {
    assert!(cases().len() >= 100, "{} cases", cases().len());
}

#[test]
fn each_case_whole() {
    for c in cases() {
        let out = serve(Scripted::stepped(&c.input, usize::MAX)).output;
        assert!(
            !out.starts_with(CONTINUE),
            "{}: no 100 when the body came along",
            c.name
        );
        let responses = parse_responses(&out, &[c.head]);
        check(&c, &responses, "whole");
        assert_eq!(responses.len(), 1, "{}: exactly one response", c.name);
    }
}

#[test]
fn each_case_split_at_every_byte_gives_the_same_bytes() {
    for c in cases() {
        let whole = final_responses(serve(Scripted::stepped(&c.input, usize::MAX)).output);
        for cut in 1..c.input.len() {
            let out = final_responses(serve(Scripted::cut_at(&c.input, vec![cut])).output);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&whole),
                "{} split at {cut}",
                c.name
            );
        }
        let out = final_responses(serve(Scripted::stepped(&c.input, 1)).output);
        assert_eq!(out, whole, "{} one byte per read", c.name);
    }
}

#[test]
fn each_case_followed_by_a_pipelined_request() {
    for c in cases() {
        let mut input = c.input.clone();
        input.extend_from_slice(NEXT);
        for step in [usize::MAX, 7, 1] {
            let out = final_responses(serve(Scripted::stepped(&input, step)).output);
            let responses = parse_responses(&out, &[c.head, false]);
            check(&c, &responses, "pipelined");
            if c.keep_alive {
                assert_eq!(
                    responses.len(),
                    2,
                    "{} (step {step}): next request answered",
                    c.name
                );
                assert_eq!(responses[1].status, 200, "{}: next request", c.name);
                assert_eq!(responses[1].body, demo::PAGE.as_bytes());
            } else {
                assert_eq!(
                    responses.len(),
                    1,
                    "{} (step {step}): nothing after close",
                    c.name
                );
            }
        }
    }
}

#[test]
fn keep_alive_serves_many_requests_and_stages_small_responses_in_one_write() {
    let mut input = Vec::new();
    for _ in 0..50 {
        input.extend_from_slice(NEXT);
    }
    let io = serve(Scripted::stepped(&input, 100));
    let responses = parse_responses(&io.output, &[]);
    assert_eq!(responses.len(), 50);
    assert!(responses.iter().all(|r| r.status == 200 && !r.closes()));
    // head + 152-byte page fit the 512-byte transmit buffer: one write per response
    assert_eq!(io.writes, 50);
}

#[test]
fn end_of_stream_mid_request_is_400_and_idle_end_is_silent() {
    let out = serve(Scripted::stepped(b"GET / HTTP/1.1\r\nHo", usize::MAX)).output;
    assert_eq!(parse_responses(&out, &[])[0].status, 400);
    let out = serve(Scripted::stepped(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        usize::MAX,
    ))
    .output;
    assert_eq!(parse_responses(&out, &[])[0].status, 400);
    assert!(serve(Scripted::stepped(b"", 1)).output.is_empty());
    assert!(serve(Scripted::stepped(b"\r\n", 1)).output.is_empty());
}

#[test]
fn expect_100_continue_is_sent_before_the_body_is_read_and_only_then() {
    let head =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    let mut input = head.to_vec();
    input.extend_from_slice(b"hello");
    let out = serve(Scripted::cut_at(&input, vec![head.len()])).output;
    assert!(
        out.starts_with(CONTINUE),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let r = parse_responses(&out[CONTINUE.len()..], &[]);
    assert_eq!((r[0].status, r[0].body.as_slice()), (200, &b"hello"[..]));

    // chunked, body in a later read
    let head = b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut input = head.to_vec();
    input.extend_from_slice(b"5\r\nhello\r\n0\r\n\r\n");
    let out = serve(Scripted::cut_at(&input, vec![head.len()])).output;
    assert!(out.starts_with(CONTINUE));
    assert_eq!(
        parse_responses(&out[CONTINUE.len()..], &[])[0].body,
        b"hello"
    );

    // too large: the final status at once, no 100
    let out = serve(Scripted::stepped(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 99999\r\n\r\n",
        usize::MAX,
    ))
    .output;
    assert!(out.starts_with(b"HTTP/1.1 413 "));

    // without Expect, no 100
    let head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
    let mut input = head.to_vec();
    input.extend_from_slice(b"hello");
    let out = serve(Scripted::cut_at(&input, vec![head.len()])).output;
    assert!(out.starts_with(b"HTTP/1.1 200 "));
}

#[test]
fn chunked_body_then_pipelined_requests_in_one_read() {
    let mut input =
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(b"3;ext\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n");
    input.extend_from_slice(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz");
    input.extend_from_slice(NEXT);
    for step in [usize::MAX, 1, 5, 13] {
        let out = serve(Scripted::stepped(&input, step)).output;
        let r = parse_responses(&out, &[]);
        assert_eq!(r.len(), 3, "step {step}");
        assert_eq!(r[0].body, b"abcde");
        assert_eq!(r[1].body, b"xyz");
        assert_eq!(r[2].body, demo::PAGE.as_bytes());
    }
}

/// The blocking driver tells its hooks, before each read, whether a request is under way:
/// a transport may give way only when nothing would be lost.
#[test]
fn will_read_says_when_a_connection_is_between_requests() {
    use embedded_responder::io::blocking::{serve_with_hooks, Polled};
    use embedded_responder::io::Hooks;
    use embedded_responder::Connection;

    struct Record(Vec<bool>);
    impl Hooks for Record {
        fn will_read(&mut self, between_requests: bool) {
            self.0.push(between_requests);
        }
    }
    // First request in two reads, then a second whole one, then the end of the stream.
    let first = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut input = first.to_vec();
    input.extend_from_slice(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut io = Scripted::cut_at(&input, vec![10, first.len()]);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut hooks = Record(Vec::new());
    serve_with_hooks(&mut io, &mut conn, &mut Polled(demo::app()), &mut hooks).unwrap();
    assert_eq!(hooks.0, [true, false, true, true]);
    let statuses: Vec<u16> = parse_responses(&io.output, &[false, false])
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 404]);
}
