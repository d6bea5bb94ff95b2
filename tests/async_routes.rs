//! Async routes in one router with blocking ones, over both drivers in memory, each script
//! whole, a byte per read and cut at every offset (the async driver through its own reads,
//! the blocking one through `Polled`): streamed bodies with their limits (413 before the body
//! is asked for), Basic auth in front of an async handler, 405 + `Allow` and OPTIONS for
//! async routes, HEAD of an async event stream, a nested router of async routes, and the 500
//! that a blocking streaming handler gets on the async driver, with its reason in the body.

#![cfg(all(feature = "async", feature = "auth"))]

mod common;

use common::Scripted;
use embedded_responder::auth::BasicAuth;
use embedded_responder::io::asynch::{self, NoTimer};
use embedded_responder::io::blocking::{serve, Polled};
use embedded_responder::sse::Event;
use embedded_responder::{
    async_fn, get, get_async, on, post_async, AsyncHandler, Connection, Method, Request, Responded,
    Responder, Router, Status,
};

/// Three events, ids 1-3.
async fn ticks<'a>(_req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let mut events = res.event_stream();
    for id in ["1", "2", "3"] {
        if events
            .send_async(&Event::new(id).event("tick").id(id))
            .await
            .is_err()
        {
            return events.abort();
        }
    }
    events.finish_async().await
}

/// The body's length, read as it arrives.
async fn count<'a>(_req: &Request<'a>, mut res: Responder<'a, '_>) -> Responded {
    match res.request_body().for_each_async(|_piece| {}).await {
        Ok(n) => res
            .start(Status::OK)
            .header("Content-Type", "text/plain")
            .body_with(|w| w.push_u64(n)),
        Err(e) => res.error(e),
    }
}

fn app() -> impl AsyncHandler {
    let auth = BasicAuth::new("test", "admin", "secret").unwrap();
    let api = Router::new().route(
        "/hello",
        get_async(async |req, res| {
            let path = req.path();
            res.start(Status::OK).body_with(|w| {
                w.push_str("nested ");
                w.push_str(path);
            })
        }),
    );
    Router::new()
        .route("/", get(|_req, res| res.text("page")))
        .route("/ticks", get_async(ticks))
        .route("/count", post_async(count).stream_body(1000))
        .route(
            "/secret",
            on(Method::Post, auth.protect(async_fn(count))).stream_body(1000),
        )
        .route(
            // A blocking handler that streams: fine on the blocking driver, a 500 that says
            // why on the async one.
            "/blocking-stream",
            get(|_req, res| {
                let mut out = res.start(Status::OK).stream();
                match out.write(b"streamed") {
                    Ok(()) => out.finish(),
                    Err(_) => out.abort(),
                }
            }),
        )
        .nest("/api", api)
}

/// Serve `input` on the blocking driver through `Polled` and on the async driver, whole, a
/// byte per read and cut at every offset; every way gives the same bytes as the blocking
/// driver given it whole, except where `async_differs` (then each driver agrees with itself).
fn serve_every_way(input: &str, async_differs: bool) -> (String, String) {
    let input = input.as_bytes();
    let blocking = |io: &mut Scripted| {
        let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let _ = serve(io, &mut conn, &mut Polled(app()));
    };
    let asynchronous = |io: &mut Scripted| {
        futures_executor::block_on(async {
            let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
            let mut conn = Connection::new(&mut rx, &mut tx);
            let mut app = app();
            let _ = asynch::serve(io, &mut conn, &mut app, &NoTimer, &mut ()).await;
        })
    };
    let ways = || {
        let mut ways = vec![
            Scripted::stepped(input, input.len()),
            Scripted::stepped(input, 1),
        ];
        ways.extend((1..input.len()).map(|cut| Scripted::cut_at(input, vec![cut])));
        ways
    };
    let mut first = Scripted::stepped(input, input.len());
    blocking(&mut first);
    let on_blocking = String::from_utf8(first.output).unwrap();
    let mut first = Scripted::stepped(input, input.len());
    asynchronous(&mut first);
    let on_async = String::from_utf8(first.output).unwrap();
    if !async_differs {
        assert_eq!(
            on_async, on_blocking,
            "the async driver answers as the blocking one"
        );
    }
    for mut io in ways() {
        blocking(&mut io);
        assert_eq!(String::from_utf8_lossy(&io.output), on_blocking);
    }
    for mut io in ways() {
        asynchronous(&mut io);
        assert_eq!(String::from_utf8_lossy(&io.output), on_async);
    }
    (on_blocking, on_async)
}

fn request(line: &str, headers: &[&str], body: &str) -> String {
    let mut r = format!("{line} HTTP/1.1\r\nHost: device\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

/// The status codes of the responses in `out`, in order (interim ones included).
fn statuses(out: &str) -> Vec<u16> {
    out.match_indices("HTTP/1.1 ")
        .map(|(at, _)| out[at + 9..at + 12].parse().unwrap())
        .collect()
}

#[test]
fn async_and_blocking_routes_answer_in_one_router_pipelined() {
    let body = "x".repeat(600);
    let chunked = "12c\r\n".to_string() + &"y".repeat(300) + "\r\n0\r\n\r\n";
    let input = [
        request("GET /", &[], ""),
        request("HEAD /ticks", &[], ""),
        request("GET /ticks", &[], ""),
        request("POST /count", &["Content-Length: 600"], &body),
        request("POST /count", &["Transfer-Encoding: chunked"], &chunked),
        request("PUT /count", &["Content-Length: 0"], ""),
        request("OPTIONS /count", &[], ""),
        request("OPTIONS /ticks", &[], ""),
        request("GET /api/hello", &[], ""),
        request("GET /api/nope", &[], ""),
        request(
            "POST /secret",
            &["Authorization: Basic YWRtaW46c2VjcmV0", "Content-Length: 5"],
            "12345",
        ),
        request("GET /nope", &[], ""),
    ]
    .concat();
    let (out, _) = serve_every_way(&input, false);
    assert_eq!(
        statuses(&out),
        [200, 200, 200, 200, 200, 405, 204, 204, 200, 404, 200, 404],
        "{out}"
    );
    // HEAD of the event stream: its head (chunked, as a GET's), no events.
    let head = &out[out
        .find("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream")
        .unwrap()..];
    let get_at = head[1..].find("HTTP/1.1 200").unwrap() + 1;
    assert!(!head[..get_at].contains("event: tick"), "{out}");
    // GET: the three events, in order.
    let events = &head[get_at..];
    let (a, b, c) = (
        events.find("event: tick\nid: 1\ndata: 1\n\n").unwrap(),
        events.find("event: tick\nid: 2\ndata: 2\n\n").unwrap(),
        events.find("event: tick\nid: 3\ndata: 3\n\n").unwrap(),
    );
    assert!(a < b && b < c, "{out}");
    assert!(out.contains("\r\n\r\n600HTTP/1.1"), "{out}");
    assert!(out.contains("\r\n\r\n300HTTP/1.1"), "{out}");
    assert!(out.contains("Allow: POST, OPTIONS\r\n"), "{out}");
    assert!(out.contains("Allow: GET, HEAD, OPTIONS\r\n"), "{out}");
    assert!(out.contains("\r\n\r\nnested /hello"), "{out}");
    assert!(out.contains("\r\n\r\n5HTTP/1.1 404"), "{out}");
}

#[test]
fn a_body_over_an_async_routes_limit_is_refused_before_it_is_asked_for() {
    let input = request(
        "POST /count",
        &["Content-Length: 1001", "Expect: 100-continue"],
        "",
    );
    let (out, _) = serve_every_way(&input, false);
    assert_eq!(statuses(&out), [413], "{out}");
    assert!(out.contains("Connection: close"), "{out}");
}

#[test]
fn an_async_route_behind_basic_auth_refuses_without_reading_the_body() {
    let input = request(
        "POST /secret",
        &["Content-Length: 500", "Expect: 100-continue"],
        "",
    );
    let (out, _) = serve_every_way(&input, false);
    // No 100 Continue: the client never sends the body.
    assert_eq!(statuses(&out), [401], "{out}");
    assert!(
        out.contains("WWW-Authenticate: Basic realm=\"test\""),
        "{out}"
    );
    let wrong = request(
        "POST /secret",
        &["Authorization: Basic YWRtaW46d3Jvbmc=", "Content-Length: 0"],
        "",
    );
    let (out, _) = serve_every_way(&wrong, false);
    assert_eq!(statuses(&out), [401], "{out}");
}

#[test]
fn a_blocking_handler_that_streams_on_the_async_driver_gets_a_500_that_says_why() {
    let input = request("GET /blocking-stream", &[], "");
    let (on_blocking, on_async) = serve_every_way(&input, true);
    assert_eq!(statuses(&on_blocking), [200], "{on_blocking}");
    assert!(on_blocking.contains("streamed"), "{on_blocking}");
    assert_eq!(statuses(&on_async), [500], "{on_async}");
    assert!(
        on_async.contains("a blocking handler cannot stream on the async driver: make it async"),
        "{on_async}"
    );
}
