//! Feature `log`: one line per exchange at the level a firmware author expects (debug for an
//! ordinary exchange, info for a refused request with its reason, warn for a 500 with its
//! reason), captured by a logger installed here.
#![cfg(feature = "log")]

mod common;

use std::sync::Mutex;

use common::Scripted;
use demo_app as demo;
use embedded_responder::io::blocking::serve;
use embedded_responder::{get, Connection, Router, Status};

static LINES: Mutex<Vec<(log::Level, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.target().starts_with("embedded_responder") {
            let line = record.args().to_string();
            LINES.lock().unwrap().push((record.level(), line));
        }
    }
    fn flush(&self) {}
}

#[test]
fn one_line_per_exchange_at_its_level() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let input = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\
                  GET /nope HTTP/1.1\r\nHost: x\r\n\r\n\
                  GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut app = Router::new()
        .route("/", get(|_req, res| res.html(demo::PAGE)))
        .route(
            "/big",
            get(|_req, res| res.start(Status::OK).body_with(|w| w.push(&[b'x'; 1000]))),
        )
        .fallback(demo::not_found);
    let mut io = Scripted::stepped(input, 1 << 20);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    // The 500 closed that connection: a refused request on the next one.
    let mut io = Scripted::stepped(
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n",
        99,
    );
    let _ = serve(&mut io, &mut conn, &mut app);
    let lines = LINES.lock().unwrap().clone();
    assert_eq!(
        lines,
        vec![
            (log::Level::Debug, "GET / 200".to_string()),
            (log::Level::Debug, "GET /nope 404".to_string()),
            (
                log::Level::Warn,
                "GET /big 500: response body of 1000 B or more does not fit the 431 B left in \
                 the transmit buffer (stream it instead)"
                    .to_string()
            ),
            (
                log::Level::Info,
                "- - 400: invalid Content-Length".to_string()
            ),
        ]
    );
}
