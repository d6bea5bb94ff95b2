//! Streaming over the blocking driver, in memory: request bodies read in pieces through small
//! receive buffers (split at every byte, followed by a pipelined request), streamed
//! responses (chunked, close-delimited, declared length), their failure modes, and
//! Server-Sent Events. The same routes over real sockets and real clients are in
//! `tests/streaming_sockets.rs` and `tests/streaming_clients.py`.

mod common;

use common::Scripted;
use demo_app as demo;
use embedded_responder::io::blocking::serve_with_hooks;
use embedded_responder::io::blocking::Polled;
use embedded_responder::io::Hooks;
use embedded_responder::post_async;
use embedded_responder::{
    get, post, Connection, Exchange, Failure, Handler, Request, Responded, Responder, Router,
    Status, StreamError,
};

/// One response read off the wire: chunked, by length, or until the end.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
    /// The body ended where its framing says (the last chunk, or the declared length).
    complete: bool,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Split a byte stream into responses; `head_only[i]` says response i answers a HEAD.
fn replies(mut bytes: &[u8], head_only: &[bool]) -> Vec<Reply> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head")
            + 4;
        let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
        let status: u16 = head[9..12].parse().unwrap();
        bytes = &bytes[end..];
        let mut reply = Reply {
            status,
            head,
            body: Vec::new(),
            complete: true,
        };
        let no_body = status < 200
            || status == 204
            || status == 304
            || head_only.get(out.len()).copied().unwrap_or(false);
        if status == 100 {
            continue;
        }
        if no_body {
        } else if reply.header("transfer-encoding") == Some("chunked") {
            reply.complete = false;
            loop {
                let Some(line_end) = bytes.windows(2).position(|w| w == b"\r\n") else {
                    bytes = &[];
                    break;
                };
                let size =
                    usize::from_str_radix(std::str::from_utf8(&bytes[..line_end]).unwrap(), 16)
                        .unwrap();
                bytes = &bytes[line_end + 2..];
                if size == 0 {
                    assert!(bytes.starts_with(b"\r\n"), "no trailers are sent");
                    bytes = &bytes[2..];
                    reply.complete = true;
                    break;
                }
                if bytes.len() < size + 2 {
                    reply
                        .body
                        .extend_from_slice(&bytes[..size.min(bytes.len())]);
                    bytes = &[];
                    break;
                }
                reply.body.extend_from_slice(&bytes[..size]);
                assert_eq!(&bytes[size..size + 2], b"\r\n");
                bytes = &bytes[size + 2..];
            }
        } else if let Some(length) = reply.header("content-length") {
            let length: usize = length.parse().unwrap();
            let n = length.min(bytes.len());
            reply.body = bytes[..n].to_vec();
            reply.complete = n == length;
            bytes = &bytes[n..];
        } else {
            reply.body = bytes.to_vec();
            bytes = &[];
        }
        out.push(reply);
    }
    out
}

/// A clock that moves only when a handler sleeps; records each exchange.
#[derive(Default)]
struct Clock {
    now: u64,
    log: Vec<(u16, Option<Failure>, bool)>,
}

impl Hooks for Clock {
    fn now_ms(&mut self) -> Option<u64> {
        Some(self.now)
    }
    fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        self.now += ms;
        Ok(())
    }
    fn responded(&mut self, exchange: &Exchange<'_>) {
        self.log
            .push((exchange.status.code(), exchange.failure, exchange.close));
    }
}

/// Serve `input`, cut into reads at `cuts`, with buffers of `rx` and `tx` bytes.
fn serve_cut<A: Handler>(
    app: &mut A,
    input: &[u8],
    cuts: Vec<usize>,
    rx: usize,
    tx: usize,
) -> (Vec<u8>, Clock) {
    let mut io = Scripted::cut_at(input, cuts);
    let (mut rx, mut tx) = (vec![0u8; rx], vec![0u8; tx]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut clock = Clock::default();
    let _ = serve_with_hooks(&mut io, &mut conn, app, &mut clock);
    (io.output, clock)
}

fn crc_json(body: &[u8]) -> String {
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(body);
    format!("{{\"bytes\":{},\"crc32\":\"{crc:08x}\"}}", body.len())
}

fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in body.chunks(size) {
        out.extend_from_slice(format!("{:x};ext=1\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    out
}

const PIPELINED: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn body_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[test]
fn uploads_larger_than_the_receive_buffer_at_every_split() {
    let body = body_of(700);
    let mut by_length = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    by_length.extend_from_slice(&body);
    by_length.extend_from_slice(PIPELINED);
    let mut by_chunks =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    by_chunks.extend_from_slice(&chunked(&body, 97));
    by_chunks.extend_from_slice(PIPELINED);
    for input in [&by_length, &by_chunks] {
        for cut in 1..input.len() {
            // Two reads, cut anywhere; then a read a byte at a time up to the cut.
            for cuts in [vec![cut], (1..=cut).collect()] {
                if cuts.len() > 1 && cut % 37 != 0 {
                    continue;
                }
                let (out, _) = serve_cut(&mut Polled(demo::app()), input, cuts, 128, 256);
                let r = replies(&out, &[]);
                assert_eq!(r.len(), 2, "cut {cut}: {}", String::from_utf8_lossy(&out));
                assert_eq!(r[0].status, 200, "cut {cut}");
                assert_eq!(r[0].body, crc_json(&body).as_bytes(), "cut {cut}");
                assert!(r[0].header("connection").is_none(), "cut {cut}: keep-alive");
                assert_eq!(r[1].body, demo::PAGE.as_bytes(), "cut {cut}");
            }
        }
    }
}

/// A router with a 100-byte streamed upload, a handler that refuses without reading, and
/// handlers that break their streams in each way.
fn strict_app() -> impl Handler {
    Polled(
        Router::new()
            .route("/upload", post_async(demo::upload).stream_body(100))
            .route(
                "/refuse",
                post(|_req, res| res.status(Status::UNAUTHORIZED)).stream_body(u64::MAX),
            )
            .route(
                "/long",
                get(|_req, res| {
                    let mut s = res.start(Status::OK).stream_length(5);
                    assert_eq!(s.write(b"abc"), Ok(()));
                    assert_eq!(s.flush(), Ok(()));
                    assert_eq!(s.write(b"def"), Err(StreamError::TooLong));
                    s.finish()
                }),
            )
            .route(
                "/short",
                get(|_req, res| {
                    let mut s = res.start(Status::OK).stream_length(5);
                    let _ = s.write(b"abc");
                    s.finish()
                }),
            )
            .route(
                "/abort-early",
                get(|_req, res| {
                    let mut s = res.start(Status::OK).stream();
                    let _ = s.write(b"not sent yet");
                    s.abort()
                }),
            )
            .route(
                "/abort-late",
                get(|_req, res| {
                    res.start(Status::OK).stream_with(|s| {
                        s.write(b"sent")?;
                        s.flush()?;
                        Err(StreamError::Unsupported)
                    })
                }),
            )
            .route(
                "/exact",
                get(|_req, res| {
                    let mut s = res.start(Status::OK).stream_length(6);
                    let _ = s.write(b"abc");
                    let _ = s.write(b"def");
                    s.finish()
                }),
            ),
    )
}

fn one(app: &mut impl Handler, input: &[u8]) -> (Vec<Reply>, Clock, Vec<u8>) {
    let head_end = input.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let (out, clock) = serve_cut(app, input, vec![head_end], 128, 256);
    (replies(&out, &[]), clock, out)
}

#[test]
fn a_route_limit_refuses_declared_lengths_before_the_body_and_chunked_totals_as_they_grow() {
    let (r, clock, raw) = one(
        &mut strict_app(),
        b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n",
    );
    assert_eq!(r[0].status, 413);
    assert!(
        !raw.starts_with(b"HTTP/1.1 100"),
        "no 100 Continue for a refused body"
    );
    assert_eq!(clock.log, [(413, None, true)]);

    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(&chunked(&body_of(150), 40));
    let (r, _, _) = one(&mut strict_app(), &input);
    assert_eq!(r[0].status, 413);
    assert_eq!(r[0].header("connection"), Some("close"));

    // At the limit: fine.
    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(&chunked(&body_of(100), 40));
    let (r, _, _) = one(&mut strict_app(), &input);
    assert_eq!(r[0].body, crc_json(&body_of(100)).as_bytes());
}

#[test]
fn continue_is_sent_on_the_first_read_and_never_to_a_handler_that_refuses() {
    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 50\r\n\r\n"
            .to_vec();
    input.extend_from_slice(&body_of(50));
    let (r, _, raw) = one(&mut strict_app(), &input);
    assert!(raw.starts_with(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
    assert_eq!(r[0].body, crc_json(&body_of(50)).as_bytes());

    let mut input =
        b"POST /refuse HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"
            .to_vec();
    input.extend_from_slice(PIPELINED);
    let (r, _, raw) = one(&mut strict_app(), &input);
    assert!(raw.starts_with(b"HTTP/1.1 401"));
    assert_eq!(r.len(), 1, "the connection closed: the body is unread");
    assert_eq!(r[0].header("connection"), Some("close"));
}

#[test]
fn an_unread_body_closes_the_connection_unless_it_is_all_here() {
    // The body arrives after the head: unread, the connection cannot go on.
    let mut input = b"POST /refuse HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n".to_vec();
    input.extend_from_slice(b"0123456789");
    input.extend_from_slice(PIPELINED);
    let (r, _, _) = one(&mut strict_app(), &input);
    assert_eq!((r.len(), r[0].status), (1, 401));
    assert_eq!(r[0].header("connection"), Some("close"));
    // The body came with the head: it is skipped and the next request served.
    let (out, _) = serve_cut(&mut strict_app(), &input, vec![], 128, 256);
    let r = replies(&out, &[]);
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].status, r[1].status), (401, 404));
}

#[test]
fn bodies_that_lie_or_break_their_framing_get_400_and_a_close() {
    // Shorter than declared, then the end of the stream.
    let mut input = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 90\r\n\r\n".to_vec();
    input.extend_from_slice(&body_of(40));
    let (r, _, _) = one(&mut strict_app(), &input);
    assert_eq!(r[0].status, 400);
    assert_eq!(r[0].header("connection"), Some("close"));
    // Bad chunk framing mid-stream.
    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(b"5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n");
    let (r, _, _) = one(&mut strict_app(), &input);
    assert_eq!(r[0].status, 400);
    assert_eq!(r[0].header("connection"), Some("close"));
    // Longer than declared: the rest is read as the next request, which is malformed.
    let mut input = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n".to_vec();
    input.extend_from_slice(b"12345 and more\r\n\r\n");
    let (out, _) = serve_cut(&mut strict_app(), &input, vec![10], 128, 256);
    let r = replies(&out, &[]);
    assert_eq!((r[0].status, r[1].status), (200, 400));
}

#[test]
fn streamed_responses_chunked_close_delimited_and_head() {
    let expected: Vec<u8> = b"0123456789abcdef"
        .iter()
        .copied()
        .cycle()
        .take(5000)
        .collect();
    let get = b"GET /stream?bytes=5000 HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut input = get.to_vec();
    input.extend_from_slice(b"HEAD /stream?bytes=5000 HTTP/1.1\r\nHost: x\r\n\r\n");
    input.extend_from_slice(get);
    input.extend_from_slice(b"GET /stream?bytes=5000 HTTP/1.0\r\n\r\n");
    input.extend_from_slice(PIPELINED);
    for tx in [100, 256, 2048, 8192] {
        let (out, clock) = serve_cut(&mut Polled(demo::app()), &input, vec![], 1024, tx);
        let r = replies(&out, &[false, true, false, false]);
        assert_eq!(
            r.len(),
            4,
            "tx {tx}: the HTTP/1.0 stream ends the connection"
        );
        for i in [0, 2] {
            assert_eq!(r[i].header("transfer-encoding"), Some("chunked"));
            assert!(r[i].complete, "tx {tx}");
            assert_eq!(r[i].body, expected, "tx {tx}");
        }
        assert_eq!(r[1].header("transfer-encoding"), Some("chunked"));
        assert!(r[1].body.is_empty());
        assert_eq!(r[3].header("connection"), Some("close"));
        assert_eq!(r[3].header("transfer-encoding"), None);
        assert_eq!(r[3].body, expected);
        assert!(clock
            .log
            .iter()
            .all(|(status, failure, _)| *status == 200 && failure.is_none()));
    }
    let (out, _) = serve_cut(
        &mut Polled(demo::app()),
        b"GET /stream?bytes=0 HTTP/1.1\r\nHost: x\r\n\r\nGET /stream?bytes=1x HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n",
        vec![],
        1024,
        256,
    );
    let r = replies(&out, &[]);
    assert_eq!(
        (r[0].status, r[0].body.len(), r[0].complete),
        (200, 0, true)
    );
    assert_eq!((r[1].status, r[2].status), (400, 400));
}

#[test]
fn a_stream_never_lies_about_its_length_or_its_end() {
    let req = |path: &str| format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes();
    // Too long: what fits the declared length is sent, then the connection closes.
    let (r, clock, _) = one(&mut strict_app(), &req("/long"));
    assert_eq!(
        (r[0].status, r[0].body.as_slice(), r[0].complete),
        (200, &b"abc"[..], false)
    );
    assert_eq!(
        clock.log,
        [(200, Some(Failure::StreamTooLong { declared: 5 }), true)]
    );
    // Too short: likewise.
    let (r, clock, _) = one(&mut strict_app(), &req("/short"));
    assert!(!r[0].complete);
    assert_eq!(
        clock.log[0].1,
        Some(Failure::StreamTooShort {
            declared: 5,
            written: 3
        })
    );
    // Aborted before anything left: a 500 instead.
    let (r, clock, _) = one(&mut strict_app(), &req("/abort-early"));
    assert_eq!(r[0].status, 500);
    assert_eq!(clock.log, [(500, Some(Failure::StreamAborted), true)]);
    // Aborted after: no last chunk, then a close.
    let mut input = req("/abort-late");
    input.extend_from_slice(PIPELINED);
    let (out, clock) = serve_cut(&mut strict_app(), &input, vec![], 128, 256);
    let r = replies(&out, &[]);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].body.as_slice(), r[0].complete), (&b"sent"[..], false));
    assert_eq!(clock.log, [(200, Some(Failure::StreamAborted), true)]);
    // Exact: keep-alive.
    let mut input = req("/exact");
    input.extend_from_slice(PIPELINED);
    let (out, _) = serve_cut(&mut strict_app(), &input, vec![], 128, 256);
    let r = replies(&out, &[]);
    assert_eq!(
        (r.len(), r[0].body.as_slice(), r[0].complete),
        (2, &b"abcdef"[..], true)
    );
}

#[test]
fn body_with_that_overflows_says_why_in_the_log() {
    let mut app = Router::new().route(
        "/big",
        get(|_req, res| res.start(Status::OK).body_with(|w| w.push(&[b'x'; 4403]))),
    );
    let (out, clock) = serve_cut(
        &mut app,
        b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n",
        vec![],
        128,
        2048,
    );
    assert!(out.starts_with(b"HTTP/1.1 500"));
    let Some(failure @ Failure::BodyTooLarge { body: 4403, .. }) = clock.log[0].1 else {
        panic!("{:?}", clock.log);
    };
    assert!(failure.to_string().contains("4403 B"), "{failure}");
}

#[test]
fn events_are_sent_one_by_one_and_continue_after_last_event_id() {
    let input =
        b"GET /events?interval_ms=250&count=3 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\n\r\n";
    let (out, clock) = serve_cut(&mut Polled(demo::app()), input, vec![], 256, 256);
    let r = replies(&out, &[]);
    assert_eq!(r[0].header("content-type"), Some("text/event-stream"));
    assert_eq!(r[0].header("cache-control"), Some("no-cache"));
    assert!(r[0].complete);
    assert_eq!(
        String::from_utf8(r[0].body.clone()).unwrap(),
        "event: tick\nid: 42\ndata: {\"seq\":42,\"uptime_ms\":0}\n\n\
         event: tick\nid: 43\ndata: {\"seq\":43,\"uptime_ms\":250}\n\n\
         event: tick\nid: 44\ndata: {\"seq\":44,\"uptime_ms\":500}\n\n"
    );
    assert_eq!(clock.now, 500);
    let (out, _) = serve_cut(
        &mut Polled(demo::app()),
        b"GET /events?count=1&interval_ms=x HTTP/1.1\r\nHost: x\r\n\r\n",
        vec![],
        256,
        256,
    );
    assert!(out.starts_with(b"HTTP/1.1 400"));
}

/// A transport that fails every write after the first `ok` ones: the peer went away.
struct Vanishing {
    input: Scripted,
    writes_left: usize,
}

impl embedded_io::ErrorType for Vanishing {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io::Read for Vanishing {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        Ok(self.input.read(buf).unwrap_or(0))
    }
}
impl embedded_io::Write for Vanishing {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if self.writes_left == 0 {
            return Err(embedded_io::ErrorKind::BrokenPipe);
        }
        self.writes_left -= 1;
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn a_client_that_vanishes_ends_its_event_stream_at_the_next_event() {
    let mut io = Vanishing {
        input: Scripted::stepped(
            b"GET /events?interval_ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n",
            64,
        ),
        writes_left: 3,
    };
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut clock = Clock::default();
    let result = serve_with_hooks(&mut io, &mut conn, &mut Polled(demo::app()), &mut clock);
    // The head with the first event, two more; the fourth write fails and the endless
    // stream ends there.
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(clock.now, 3000);
    assert_eq!(clock.log, [(200, Some(Failure::StreamWrite), true)]);
}

/// A handler reading the body a few bytes at a time with `read`, echoing it streamed.
fn streaming_echo<'a>(_req: &Request<'a>, mut res: Responder<'a, '_>) -> Responded {
    let mut buf = [0u8; 7];
    let mut collected = Vec::new();
    loop {
        match res.request_body().read(&mut buf) {
            Ok(0) => break,
            Ok(n) => collected.extend_from_slice(&buf[..n]),
            Err(e) => return res.error(e),
        }
    }
    res.start(Status::OK).stream_with(|s| s.write(&collected))
}

#[test]
fn embedded_io_read_and_a_response_larger_than_the_transmit_buffer() {
    let mut app = Router::new().route("/e", post(streaming_echo).stream_body(1 << 20));
    let body = body_of(3000);
    let mut input = format!(
        "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    input.extend_from_slice(&body);
    input.extend_from_slice(PIPELINED);
    let (out, _) = serve_cut(&mut app, &input, vec![60, 1000, 2000], 256, 200);
    let r = replies(&out, &[]);
    assert_eq!((r[0].body.len(), r[0].complete), (3000, true));
    assert_eq!(r[0].body, body);
    assert_eq!(r[1].status, 404);
}

/// The same streams over the async driver, on tokio's current-thread runtime with paused time
/// (it jumps ahead whenever every task waits, so sleeps and deadlines are instant and exact).
#[cfg(feature = "async")]
mod over_the_async_driver {
    use super::*;
    use embedded_responder::io::asynch::{self, Timer};
    use embedded_responder::AsyncHandler;
    use embedded_responder::Timeouts;
    use std::time::Duration;

    struct TokioTimer(tokio::time::Instant);

    impl Timer for TokioTimer {
        fn now_ms(&self) -> u64 {
            self.0.elapsed().as_millis() as u64
        }
        async fn sleep_until(&self, deadline_ms: u64) {
            tokio::time::sleep_until(self.0 + Duration::from_millis(deadline_ms)).await
        }
    }

    /// Serve `io` with `app`; the output, the driver's result, and the time it took.
    fn serve_io<T, A>(app: &mut A, mut io: T, rx: usize, tx: usize) -> (T, String, u64)
    where
        T: embedded_io_async::Read + embedded_io_async::Write,
        A: AsyncHandler,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let (result, elapsed) = runtime.block_on(async {
            let timer = TokioTimer(tokio::time::Instant::now());
            let (mut rx, mut tx) = (vec![0u8; rx], vec![0u8; tx]);
            let mut conn = Connection::new(&mut rx, &mut tx);
            let mut timeouts = Timeouts {
                request_ms: 2_000,
                write_ms: 1_000,
                ..Timeouts::DEFAULT
            };
            let result = asynch::serve(&mut io, &mut conn, app, &timer, &mut timeouts).await;
            (format!("{result:?}"), timer.now_ms())
        });
        (io, result, elapsed)
    }

    fn serve_cut<A: AsyncHandler>(
        app: &mut A,
        input: &[u8],
        cuts: Vec<usize>,
        rx: usize,
        tx: usize,
    ) -> Vec<u8> {
        serve_io(app, Scripted::cut_at(input, cuts), rx, tx)
            .0
            .output
    }

    #[test]
    fn uploads_larger_than_the_receive_buffer_at_every_split() {
        let body = body_of(700);
        let mut input =
            b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        input.extend_from_slice(&chunked(&body, 97));
        input.extend_from_slice(PIPELINED);
        for cut in 1..input.len() {
            let cuts = vec![cut, cut + 100]
                .into_iter()
                .filter(|&c| c < input.len())
                .collect();
            let out = serve_cut(&mut demo::app(), &input, cuts, 128, 256);
            let r = replies(&out, &[]);
            assert_eq!(r.len(), 2, "cut {cut}: {}", String::from_utf8_lossy(&out));
            assert_eq!(r[0].body, crc_json(&body).as_bytes(), "cut {cut}");
            assert_eq!(r[1].body, demo::PAGE.as_bytes(), "cut {cut}");
        }
    }

    #[test]
    fn streamed_responses_chunked_close_delimited_and_head() {
        let expected: Vec<u8> = b"0123456789abcdef"
            .iter()
            .copied()
            .cycle()
            .take(50_000)
            .collect();
        let mut input = b"GET /stream?bytes=50000 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        input.extend_from_slice(b"HEAD /stream?bytes=50000 HTTP/1.1\r\nHost: x\r\n\r\n");
        input.extend_from_slice(b"GET /stream?bytes=50000 HTTP/1.0\r\n\r\n");
        for tx in [100, 2048] {
            let out = serve_cut(&mut demo::app(), &input, vec![], 1024, tx);
            let r = replies(&out, &[false, true, false]);
            assert_eq!(r.len(), 3);
            assert!(r[0].complete);
            assert_eq!(r[0].body, expected, "tx {tx}");
            assert!(r[1].body.is_empty());
            assert_eq!(r[2].header("connection"), Some("close"));
            assert_eq!(r[2].body, expected);
        }
    }

    #[test]
    fn events_are_paced_by_the_timer() {
        let input =
            b"GET /events?interval_ms=250&count=3 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\n\r\n";
        let (io, _, elapsed) =
            serve_io(&mut demo::app(), Scripted::cut_at(input, vec![]), 256, 256);
        let r = replies(&io.output, &[]);
        assert!(r[0].complete);
        assert_eq!(
            String::from_utf8(r[0].body.clone()).unwrap(),
            "event: tick\nid: 42\ndata: {\"seq\":42,\"uptime_ms\":0}\n\n\
             event: tick\nid: 43\ndata: {\"seq\":43,\"uptime_ms\":250}\n\n\
             event: tick\nid: 44\ndata: {\"seq\":44,\"uptime_ms\":500}\n\n"
        );
        assert_eq!(elapsed, 500);
    }

    /// Sends its input, then neither sends nor closes; its writes fail after `writes_left`,
    /// or (with `stall_writes`) never complete.
    struct Stalling {
        input: Scripted,
        writes_left: usize,
        stall_writes: bool,
    }

    impl embedded_io::ErrorType for Stalling {
        type Error = embedded_io::ErrorKind;
    }
    impl embedded_io_async::Read for Stalling {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            match embedded_io_async::Read::read(&mut self.input, buf).await {
                Ok(0) | Err(_) => std::future::pending().await,
                Ok(n) => Ok(n),
            }
        }
    }
    impl embedded_io_async::Write for Stalling {
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            if self.writes_left == 0 {
                if self.stall_writes {
                    std::future::pending::<()>().await;
                }
                return Err(embedded_io::ErrorKind::BrokenPipe);
            }
            self.writes_left -= 1;
            embedded_io::Write::write(&mut self.input, buf).map_err(|e| match e {})
        }
    }

    #[test]
    fn a_stalled_upload_gets_408_when_a_piece_is_late() {
        let mut input =
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n".to_vec();
        input.extend_from_slice(&body_of(300));
        let io = Stalling {
            input: Scripted::cut_at(&input, vec![40]),
            writes_left: 10,
            stall_writes: false,
        };
        let (io, result, elapsed) = serve_io(&mut demo::app(), io, 128, 256);
        assert_eq!(
            elapsed,
            Timeouts::DEFAULT.body_idle_ms.unwrap(),
            "the idle timeout between pieces, from the last one"
        );
        let r = replies(&io.input.output, &[]);
        assert_eq!(r[0].status, 408);
        assert_eq!(r[0].header("connection"), Some("close"));
        // Answered as the connection answers protocol errors, and reported as one.
        assert_eq!(result, "Err(Protocol(Timeout))");
    }

    /// Reads that each wait `gap_ms` (on tokio's paused clock) before they bring their bytes;
    /// cancel-safe as a socket is: the wait is kept here, so a read dropped and made again
    /// waits for the same time, and the task is woken when it passes.
    struct Trickling {
        input: Scripted,
        gap_ms: u64,
        wait: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    }

    impl embedded_io::ErrorType for Trickling {
        type Error = embedded_io::ErrorKind;
    }
    impl embedded_io_async::Read for Trickling {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let gap = Duration::from_millis(self.gap_ms);
            let wait = self
                .wait
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(gap)));
            wait.as_mut().await;
            let n = embedded_io_async::Read::read(&mut self.input, buf)
                .await
                .map_err(|e| match e {});
            self.wait = None;
            n
        }
    }
    impl embedded_io_async::Write for Trickling {
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            embedded_io::Write::write(&mut self.input, buf).map_err(|e| match e {})
        }
    }

    #[test]
    fn an_upload_that_keeps_coming_is_not_cut_by_the_request_deadline() {
        // 20 pieces a second apart: ten times the request deadline, each piece well within
        // the idle timeout.
        let body = body_of(2_000);
        let mut input = format!(
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        let head_len = input.len();
        input.extend_from_slice(&body);
        let cuts = (0..20).map(|i| head_len + i * 100).collect();
        let io = Trickling {
            input: Scripted::cut_at(&input, cuts),
            gap_ms: 1_000,
            wait: None,
        };
        let (io, _, elapsed) = serve_io(&mut demo::app(), io, 128, 256);
        assert!(elapsed >= 20_000, "it took {elapsed} ms");
        let r = replies(&io.input.output, &[]);
        assert_eq!(r[0].status, 200);
        assert!(String::from_utf8_lossy(&r[0].body).starts_with("{\"bytes\":2000,"));
    }

    #[test]
    fn clients_that_vanish_or_stop_reading_end_their_event_streams() {
        let input = b"GET /events?interval_ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n";
        // Gone: the fourth write fails.
        let io = Stalling {
            input: Scripted::cut_at(input, vec![]),
            writes_left: 3,
            stall_writes: false,
        };
        let (_, result, elapsed) = serve_io(&mut demo::app(), io, 256, 256);
        assert_eq!((result.as_str(), elapsed), ("Ok(())", 3_000));
        // Not reading: the fourth write never completes; the write timeout ends it.
        let io = Stalling {
            input: Scripted::cut_at(input, vec![]),
            writes_left: 3,
            stall_writes: true,
        };
        let (_, result, elapsed) = serve_io(&mut demo::app(), io, 256, 256);
        assert_eq!((result.as_str(), elapsed), ("Ok(())", 4_000));
    }
}

/// Regressions found by the `stream_body` fuzz target (fuzz/regressions/stream_body/): each
/// answer must not depend on how the input is split across reads.
mod fuzz_regressions {
    use super::*;

    /// The output for `input` whole, cut after the head, and one byte per read, with the
    /// interim `100 Continue` dropped (it is only sent when the body has not arrived yet).
    fn three_ways<A: Handler>(app: impl Fn() -> A, input: &[u8], rx: usize) -> [Vec<u8>; 3] {
        let head_end = input.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let run = |cuts: Vec<usize>| {
            let (out, _) = serve_cut(&mut app(), input, cuts, rx, 256);
            let text = String::from_utf8_lossy(&out).replace("HTTP/1.1 100 Continue\r\n\r\n", "");
            text.into_bytes()
        };
        [
            run(vec![]),
            run(vec![head_end]),
            run((1..input.len()).collect()),
        ]
    }

    fn limited() -> impl Handler {
        Polled(Router::new().route("/upload", post_async(demo::upload).stream_body(10)))
    }

    #[test]
    fn a_route_limit_holds_for_a_body_that_came_with_its_head() {
        let mut input = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n".to_vec();
        input.extend_from_slice(&[b'a'; 20]);
        let [whole, cut, bytewise] = three_ways(limited, &input, 512);
        assert!(
            whole.starts_with(b"HTTP/1.1 413"),
            "{}",
            String::from_utf8_lossy(&whole)
        );
        assert_eq!((&whole, &whole), (&cut, &bytewise));
        let mut input =
            b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        input.extend_from_slice(&chunked(&[b'a'; 20], 7));
        let [whole, cut, bytewise] = three_ways(limited, &input, 512);
        assert!(whole.starts_with(b"HTTP/1.1 413"));
        assert_eq!((&whole, &whole), (&cut, &bytewise));
    }

    #[test]
    fn a_broken_body_gets_the_same_answer_whoever_finds_it() {
        let input = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        let [whole, cut, bytewise] = three_ways(|| Polled(demo::app()), input, 512);
        assert!(String::from_utf8_lossy(&whole).contains("invalid chunked encoding"));
        assert_eq!((&whole, &whole), (&cut, &bytewise));
    }

    #[test]
    fn a_head_at_the_end_of_the_buffer_still_gets_room_for_its_body() {
        // A pipelined GET, then an upload whose head ends exactly at the buffer's end.
        let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let head = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut input = get.to_vec();
        input.extend_from_slice(head);
        input.extend_from_slice(&chunked(b"0123456789", 4));
        let rx = get.len() + head.len();
        let [whole, cut, bytewise] = three_ways(|| Polled(demo::app()), &input, rx);
        let r = replies(&whole, &[]);
        assert_eq!(r[1].body, crc_json(b"0123456789").as_bytes());
        assert_eq!((&whole, &whole), (&cut, &bytewise));
        // A head that fills the whole buffer leaves no room at all: 413, however it arrives.
        let mut input = head.to_vec();
        input.extend_from_slice(&chunked(b"0123456789", 4));
        let [whole, cut, bytewise] = three_ways(|| Polled(demo::app()), &input, head.len());
        assert!(
            whole.starts_with(b"HTTP/1.1 413"),
            "{}",
            String::from_utf8_lossy(&whole)
        );
        assert_eq!((&whole, &whole), (&cut, &bytewise));
    }
}

/// A body that passes the route's limit, then breaks its framing: the limit came first in
/// the stream, so 413, whether the body came with its head or a byte at a time.
#[test]
fn a_limit_passed_before_broken_framing_is_413_however_the_body_arrives() {
    let mut input =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    input.extend_from_slice(b"10\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let head_end = input.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    for cuts in [vec![], vec![head_end], (1..input.len()).collect()] {
        let mut app =
            Polled(Router::new().route("/upload", post_async(demo::upload).stream_body(13)));
        let (out, _) = serve_cut(&mut app, &input, cuts, 85, 256);
        assert!(
            out.starts_with(b"HTTP/1.1 413"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
    // Within the limit, the framing error is what is answered, again however it arrives.
    for cuts in [vec![], vec![head_end], (1..input.len()).collect()] {
        let mut app =
            Polled(Router::new().route("/upload", post_async(demo::upload).stream_body(100)));
        let (out, _) = serve_cut(&mut app, &input, cuts, 85, 256);
        assert!(
            out.starts_with(b"HTTP/1.1 400"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}
