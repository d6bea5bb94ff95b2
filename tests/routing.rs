//! Routing with path parameters, precedence and nesting, over the blocking driver in memory:
//! non-canonical values are 404 (never 405, never another resource), literal routes win over
//! parameters and parameters over prefixes whatever the order, nested routers see the rest of
//! the path, and any handler can be mounted or be the fallback.

#![cfg(feature = "params")]

mod common;

use common::{parse_responses, Scripted};
use demo_app as demo;
use embedded_responder::io::blocking::serve;
use embedded_responder::io::blocking::Polled;
use embedded_responder::path::params;
use embedded_responder::{
    get, put, Connection, Handler, Request, Responded, Responder, Router, Status,
};

/// Status and body of each request in `input`, served by `app` on one connection.
fn serve_all(app: &mut impl Handler, requests: &[&str]) -> Vec<(u16, String)> {
    let input: String = requests
        .iter()
        .map(|r| format!("{r} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))
        .collect();
    let mut io = Scripted::stepped(input.as_bytes(), 1 << 20);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, app);
    let heads: Vec<bool> = requests.iter().map(|r| r.starts_with("HEAD")).collect();
    parse_responses(&io.output, &heads)
        .into_iter()
        .map(|p| (p.status, String::from_utf8(p.body).unwrap()))
        .collect()
}

fn led<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    match req.param::<u8>("id") {
        Some(id) if id < 4 => res.start(Status::OK).body_with(|w| {
            w.push_str("led ");
            w.push_u64(u64::from(id));
        }),
        _ => res.status(Status::NOT_FOUND),
    }
}

fn api() -> impl embedded_responder::router::BlockingEndpoint {
    Router::new()
        .route(params("/leds/{id:u8}"), get(led).put(led))
        .route("/leds", get(|_req, res| res.text("all leds")))
        .route("/leds/count", get(|_req, res| res.text("4")))
}

#[test]
fn parameters_are_canonical_or_404() {
    let mut app = Router::new().nest("/api", api());
    let got = serve_all(
        &mut app,
        &[
            "GET /api/leds/2",
            "PUT /api/leds/3",
            "GET /api/leds/9",
            "GET /api/leds/+1",
            "PUT /api/leds/+1",
            "GET /api/leds/01",
            "DELETE /api/leds/01",
            "GET /api/leds/",
            "GET /api/leds/256",
            "GET /api/leds/1/",
            "DELETE /api/leds/1",
        ],
    );
    let statuses: Vec<u16> = got.iter().map(|g| g.0).collect();
    assert_eq!(
        statuses,
        vec![200, 200, 404, 404, 404, 404, 404, 404, 404, 404, 405]
    );
    assert_eq!(got[0].1, "led 2");
}

#[test]
fn literal_beats_parameter_beats_prefix_whatever_the_order() {
    // Added in the worst order: prefix, parameter, then literal.
    let mut app = Router::new()
        .route("/files/*", get(|_req, res| res.text("prefix")))
        .route(params("/files/{name}"), get(|_req, res| res.text("param")))
        .route("/files/index", get(|_req, res| res.text("literal")));
    let got = serve_all(
        &mut app,
        &[
            "GET /files/index",
            "GET /files/other",
            "GET /files/a/b",
            "GET /files",
        ],
    );
    assert_eq!(
        got,
        vec![
            (200, "literal".into()),
            (200, "param".into()),
            (200, "prefix".into()),
            (404, "Not Found\n".into()),
        ]
    );
}

#[test]
fn nesting_mounting_and_any_handler_as_fallback() {
    let mut app = Router::new()
        .route("/", get(|_req, res| res.text("root")))
        .nest("/api", api())
        .mount(
            "/any",
            |req: &Request<'_>, res: Responder<'_, '_>| -> Responded {
                let m = req.method().as_str();
                res.start(Status::OK).body_with(|w| w.push_str(m))
            },
        )
        .fallback_to(Router::new().route("/late", get(|_req, res| res.text("fallback router"))));
    let got = serve_all(
        &mut app,
        &[
            "GET /api/leds",
            "GET /api/leds/count",
            "GET /api",
            "GET /apix/leds",
            "DELETE /any",
            "GET /late",
            "GET /nowhere",
            "PUT /api/leds",
        ],
    );
    assert_eq!(
        got,
        vec![
            (200, "all leds".into()),
            (200, "4".into()),
            (404, "Not Found\n".into()),
            (404, "Not Found\n".into()),
            (200, "DELETE".into()),
            (200, "fallback router".into()),
            (404, "Not Found\n".into()),
            (405, "".into()),
        ]
    );
}

#[test]
fn an_options_route_answers_options_itself() {
    let mut app = Router::new().route(
        "/api",
        embedded_responder::options(|_req, res| {
            res.start(Status::NO_CONTENT)
                .header("Allow", "GET, OPTIONS")
                .header("X-Own", "1")
                .body(&[])
        })
        .get(|_req, res| res.text("api")),
    );
    let got = serve_all(&mut app, &["OPTIONS /api", "GET /api", "PUT /api"]);
    assert_eq!(got[0], (204, String::new()));
    assert_eq!(got[1], (200, "api".into()));
    assert_eq!(got[2].0, 405);
}

#[test]
fn a_nested_handler_sees_the_rest_as_its_path_and_the_whole_target() {
    let inner = Router::new().route(
        "/leds",
        get(|req, res| {
            let (path, route_path, target) = (req.path(), req.route_path(), req.target());
            res.start(Status::OK).body_with(|w| {
                for part in [path, " ", route_path, " ", target] {
                    w.push_str(part);
                }
            })
        }),
    );
    let mut app = Router::new().nest("/api", inner);
    assert_eq!(
        serve_all(&mut app, &["GET /api/leds?x=1"]),
        vec![(200, "/leds /leds /api/leds?x=1".into())]
    );
}

#[test]
fn a_named_handler_with_a_parameter_and_put() {
    let mut app = Router::new().route(
        params("/v/{n:i32}"),
        put(|req, res| {
            let n: i32 = req.param("n").unwrap_or(0);
            res.start(Status::OK)
                .body_with(|w| w.push_i64(i64::from(n) * 2))
        }),
    );
    let got = serve_all(&mut app, &["PUT /v/-21", "PUT /v/-0", "PUT /v/2147483648"]);
    assert_eq!(
        got,
        vec![
            (200, "-42".into()),
            (404, "Not Found\n".into()),
            (404, "Not Found\n".into())
        ]
    );
}

/// The demo's JSON API for four LEDs (feature `json`): typed ids, 404 for the rest, 415 and
/// 400 with a JSON error.
#[cfg(feature = "json")]
#[test]
fn the_demo_led_api() {
    let mut app = Polled(demo::app());
    let put = |id: &str, ct: &str, body: &str| {
        format!(
            "PUT /api/leds/{id} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let input = [
        put("3", "application/json", "{\"on\":true}"),
        "GET /api/leds HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        "GET /api/leds/+1 HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        "GET /api/leds/4 HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        put("1", "text/plain", "{\"on\":true}"),
        put("1", "application/json", "{\"on\":1}"),
        put("3", "application/json; charset=utf-8", " {\"on\": false} "),
    ]
    .concat();
    let mut io = Scripted::stepped(input.as_bytes(), 7);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    let got: Vec<(u16, String)> = parse_responses(&io.output, &[])
        .into_iter()
        .map(|p| (p.status, String::from_utf8(p.body).unwrap()))
        .collect();
    assert_eq!(got[0], (200, r#"{"id":3,"on":true}"#.into()));
    assert_eq!(
        got[1],
        (
            200,
            r#"[{"id":0,"on":false},{"id":1,"on":false},{"id":2,"on":false},{"id":3,"on":true}]"#
                .into()
        )
    );
    assert_eq!((got[2].0, got[3].0), (404, 404));
    assert_eq!(got[4].0, 415);
    assert!(got[4].1.starts_with(r#"{"error":"#), "{}", got[4].1);
    assert_eq!(got[5].0, 400);
    assert!(got[5].1.starts_with(r#"{"error":"#), "{}", got[5].1);
    assert_eq!(got[6], (200, r#"{"id":3,"on":false}"#.into()));
}

/// A JSON response larger than the transmit buffer streams from the handler's scratch buffer
/// (`json_via`); one larger than the scratch is a 500 with its reason.
#[cfg(feature = "json")]
#[test]
fn a_json_response_larger_than_the_transmit_buffer_streams() {
    #[derive(serde::Serialize)]
    struct Reading {
        sensor: u16,
        value: i32,
    }
    let readings: Vec<Reading> = (0..100)
        .map(|i| Reading {
            sensor: i,
            value: i32::from(i) * -37,
        })
        .collect();
    let expected = {
        let mut s = String::from("[");
        for (i, r) in readings.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(&format!(
                "{{\"sensor\":{},\"value\":{}}}",
                r.sensor, r.value
            ));
        }
        s.push(']');
        s
    };
    let readings = &readings[..];
    let mut app = Router::new()
        .route(
            "/readings",
            get(move |_req, res| {
                let mut scratch = [0u8; 4096];
                res.json_via(Status::OK, readings, &mut scratch)
            }),
        )
        .route(
            "/too-large",
            get(move |_req, res| {
                let mut scratch = [0u8; 64];
                res.json_via(Status::OK, readings, &mut scratch)
            }),
        );
    let got = serve_all(&mut app, &["GET /readings", "GET /too-large"]);
    assert!(expected.len() > 512, "larger than the transmit buffer");
    assert_eq!(got[0], (200, expected));
    assert_eq!(got[1].0, 500);
}
