//! Layers over both drivers in memory, each request whole, a byte per read and cut at every
//! offset: CORS (preflights answered 204 with `Access-Control-Allow-*` and `Vary: Origin`;
//! actual responses, the router's own 404 and 405, error answers and 500s carrying
//! `Access-Control-Allow-Origin` for an allowed origin and nothing for another), default
//! headers (left out where the response sets its own), and `Responder::with_header` on
//! shortcut answers; async routes behind a layer as blocking ones.

#![cfg(all(feature = "layers", feature = "async"))]

mod common;

use common::{parse_responses, Parsed, Scripted};
use embedded_responder::cors::Cors;
use embedded_responder::io::asynch::{self, NoTimer};
use embedded_responder::io::blocking::{serve, Polled};
use embedded_responder::layer::DefaultHeaders;
use embedded_responder::{
    get, get_async, post, AsyncHandler, Connection, Method, Request, Responded, Responder, Router,
    Status, StreamError,
};

static CORS: Cors = Cors::new(&["http://localhost:3000", "https://ui.example"])
    .methods(&[Method::Get, Method::Put])
    .headers(&["content-type", "x-token"])
    .expose(&["x-count"])
    .max_age(600);

static DEFAULTS: DefaultHeaders = DefaultHeaders::new(&[
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
]);

async fn ticks<'a>(_req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let mut events = res.event_stream();
    let _ = events
        .send_async(&embedded_responder::sse::Event::new("1"))
        .await;
    events.finish_async().await
}

/// `/api` behind CORS, the whole app behind the defaults.
fn app() -> impl AsyncHandler {
    let api = Router::new()
        .route(
            "/leds",
            get(|_req, res| res.json_text("[]")).put(|_req, res| res.text("set")),
        )
        .route("/ticks", get_async(ticks))
        .route(
            "/broken",
            get(|_req, res| res.error(StreamError::Body(embedded_responder::Error::InvalidChunk))),
        )
        .route(
            "/cached",
            get(|_req, res| {
                res.start(Status::OK)
                    .header("Cache-Control", "max-age=60")
                    .body(b"cached")
            }),
        )
        .route(
            "/bad-header",
            get(|_req, res| res.with_header("X", "a\r\nb").text("never")),
        );
    Router::new()
        .route(
            "/",
            get(|_req, res| res.with_header("X-Extra", "1").status(Status::OK)),
        )
        .nest("/api", api.layer(&CORS))
        .route("/form", post(|_req, res| res.text("posted")))
        .layer(&DEFAULTS)
}

/// A JSON-ish text answer without the `json` feature.
trait JsonText<'a> {
    fn json_text(self, body: &'a str) -> Responded;
}

impl<'a> JsonText<'a> for Responder<'a, '_> {
    fn json_text(self, body: &'a str) -> Responded {
        self.ok("application/json", body.as_bytes())
    }
}

/// The responses to `input`, served whole, a byte per read and cut at every offset, on the
/// blocking driver (through `Polled`) and the async driver: all must agree.
fn serve_every_way(input: &str, heads: &[bool]) -> Vec<Parsed> {
    parse_responses(serve_every_way_raw(input).as_bytes(), heads)
}

/// [`serve_every_way`]'s bytes.
fn serve_every_way_raw(input: &str) -> String {
    let input = input.as_bytes();
    let blocking = |io: &mut Scripted| {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let _ = serve(io, &mut conn, &mut Polled(app()));
    };
    let mut io = Scripted::stepped(input, input.len());
    blocking(&mut io);
    let whole = io.output.clone();
    let mut ways = vec![Scripted::stepped(input, 1)];
    ways.extend(
        (1..input.len())
            .step_by(7)
            .map(|cut| Scripted::cut_at(input, vec![cut])),
    );
    for mut io in ways {
        blocking(&mut io);
        assert_eq!(
            String::from_utf8_lossy(&io.output),
            String::from_utf8_lossy(&whole)
        );
    }
    let mut io = Scripted::stepped(input, 3);
    futures_executor::block_on(async {
        let (mut rx, mut tx) = ([0u8; 1024], [0u8; 1024]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let mut app = app();
        let _ = asynch::serve(&mut io, &mut conn, &mut app, &NoTimer, &mut ()).await;
    });
    assert_eq!(
        String::from_utf8_lossy(&io.output),
        String::from_utf8_lossy(&whole),
        "the async driver answers as the blocking one"
    );
    String::from_utf8(whole).unwrap()
}

fn request(line: &str, headers: &[&str]) -> String {
    let mut r = format!("{line} HTTP/1.1\r\nHost: device\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

const ORIGIN: &str = "Origin: http://localhost:3000";

#[test]
fn a_preflight_from_an_allowed_origin_is_answered_204() {
    let input = request(
        "OPTIONS /api/leds",
        &[
            ORIGIN,
            "Access-Control-Request-Method: PUT",
            "Access-Control-Request-Headers: content-type",
        ],
    );
    let r = &serve_every_way(&input, &[false])[0];
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert_eq!(r.header("access-control-allow-methods"), Some("GET, PUT"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type, x-token")
    );
    assert_eq!(r.header("access-control-max-age"), Some("600"));
    assert_eq!(r.header("vary"), Some("Origin"));
    assert!(r.body.is_empty());
    // The defaults layer sees the preflight too.
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn every_answer_to_an_allowed_origin_carries_its_cors_headers() {
    let paths = [
        ("GET /api/leds", 200),
        ("GET /api/nowhere", 404),
        ("DELETE /api/leds", 405),
        ("GET /api/broken", 400),
        ("GET /api/bad-header", 500),
    ];
    let input: String = paths
        .iter()
        .map(|(line, _)| request(line, &[ORIGIN]))
        .collect();
    let responses = serve_every_way(&input, &[false; 5]);
    assert_eq!(
        responses.len(),
        paths.len() - 1,
        "the 400 closes the connection"
    );
    for (r, (line, status)) in responses.iter().zip(paths) {
        assert_eq!(r.status, status, "{line}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some("http://localhost:3000"),
            "{line}"
        );
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("x-count"),
            "{line}"
        );
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("vary") && v == "Origin"));
    }
    assert_eq!(
        responses[2].header("allow"),
        Some("GET, HEAD, PUT, OPTIONS")
    );
    // After the 400 (which closes), on a connection of its own: a response that could not
    // be encoded is the fallback 500, without the layer's fields (they were what broke it).
    let r = &serve_every_way(&request("GET /api/bad-header", &[ORIGIN]), &[false])[0];
    assert_eq!(r.status, 500);
    assert_eq!(r.header("access-control-allow-origin"), None);
    // An async route's event stream (chunked) carries them in its head.
    let raw = serve_every_way_raw(&request("GET /api/ticks", &[ORIGIN]));
    let head = raw.split("\r\n\r\n").next().unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{raw}");
    assert!(
        head.contains("\r\nAccess-Control-Allow-Origin: http://localhost:3000\r\n"),
        "{raw}"
    );
    assert!(
        head.contains("\r\nContent-Type: text/event-stream\r\n"),
        "{raw}"
    );
    assert!(raw.ends_with("data: 1\n\n\r\n0\r\n\r\n"), "{raw}");
}

#[test]
fn another_origin_or_none_gets_no_cors_headers() {
    let input = request("GET /api/leds", &["Origin: http://evil.example"])
        + &request(
            "OPTIONS /api/leds",
            &[
                "Origin: http://evil.example",
                "Access-Control-Request-Method: PUT",
            ],
        )
        + &request("GET /api/leds", &[]);
    let r = serve_every_way(&input, &[false; 3]);
    assert_eq!(r[0].status, 200);
    assert_eq!(r[0].header("access-control-allow-origin"), None);
    assert_eq!(r[0].header("vary"), Some("Origin"));
    // The preflight reaches the router: its OPTIONS answer, no CORS.
    assert_eq!(r[1].status, 204);
    assert_eq!(r[1].header("access-control-allow-origin"), None);
    assert_eq!(r[1].header("allow"), Some("GET, HEAD, PUT, OPTIONS"));
    assert_eq!(r[2].header("access-control-allow-origin"), None);
    assert_eq!(r[2].header("vary"), None);
    // Outside the CORS layer's routes, nothing either.
    let r = &serve_every_way(
        &request("POST /form", &[ORIGIN, "Content-Length: 0"]),
        &[false],
    )[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn default_headers_unless_the_response_sets_its_own() {
    let input = request("GET /api/cached", &[])
        + &request("GET /api/leds", &[])
        + &request("GET /missing", &[]);
    let r = serve_every_way(&input, &[false; 3]);
    assert_eq!(r[0].header("cache-control"), Some("max-age=60"));
    let cache_controls = r[0]
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cache-control"))
        .count();
    assert_eq!(cache_controls, 1);
    assert_eq!(r[0].header("x-content-type-options"), Some("nosniff"));
    for response in &r[1..] {
        assert_eq!(response.header("cache-control"), Some("no-store"));
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    }
    assert_eq!(r[2].status, 404);
}

#[test]
fn a_shortcut_answer_takes_extra_headers() {
    let r = &serve_every_way(&request("GET /", &[]), &[false])[0];
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-extra"), Some("1"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(String::from_utf8_lossy(&r.body), "OK\n");
}
