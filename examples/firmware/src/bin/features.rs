//! The `uart` firmware plus one route (for `fp-cors`, a layer over the router) for each
//! application-layer feature of the library that is enabled (cargo features of this crate,
//! `feature-footprint.sh` builds each alone):
//! - `fp-params`: `GET /led/{id:u8}`, a path parameter (`on` or `off` for LEDs 0-3, 404
//!   for any other id or a non-canonical one);
//! - `fp-json`: `PUT /api/led` with `{"on":true}` sets LED 0 and answers
//!   `{"id":0,"on":true}` (400 or 415 with a JSON error);
//! - `fp-assets`: `/ui/` and `/static/`, `examples/webui` embedded by `build.rs`
//!   (tools/embed-assets), with gzip copies, ETags, ranges;
//! - `fp-auth`: `GET /admin` behind Basic auth (`admin` / `admin`);
//! - `fp-form`: `POST /config`, a form with `ssid` (1-32 bytes) and `interval` (1-3600),
//!   303 to `/config` or 422 naming the field;
//! - `fp-cookie`: `GET /session`, a cookie read or set with its attributes;
//! - `fp-multipart`: `POST /fw`, a `multipart/form-data` upload: answers
//!   `{"bytes":N,"crc32":"xxxxxxxx"}` of the part named `firmware` (other parts skipped; 422
//!   without one, 415 not multipart, 400 naming what broke). `serve_buffered` does not
//!   stream: the body is taken whole in the receive buffer (413 if it cannot fit), and
//!   `Multipart` reads it from there;
//! - `fp-cors`: the whole router behind CORS for `http://localhost:3000` (preflights answered
//!   204, `Access-Control-Allow-Origin` and `Vary: Origin` on every answer to that origin).
//!
//! With none of them it is the `uart` firmware: the same transport, buffers, loop and app.
#![no_std]
#![no_main]

#[cfg(any(feature = "fp-params", feature = "fp-json"))]
use core::cell::Cell;
#[cfg(feature = "fp-form")]
use core::cell::RefCell;

use cortex_m_rt::entry;
use embedded_responder::io::blocking::serve_buffered;
use embedded_responder::io::ServeError;
#[allow(unused_imports)] // which of them depends on the features
use embedded_responder::{get, post, put, Status};
use embedded_responder::{Connection, Error, Limits, Timeouts};
use firmware::app::{self, FirmwareHooks, Idle, ReadState, Stats};
use firmware::{clock, irq, stack, uart::Uart};

#[cfg(feature = "fp-multipart")]
use embedded_responder::multipart::{Multipart, MultipartError};

#[cfg(feature = "fp-assets")]
include!(concat!(env!("OUT_DIR"), "/assets.rs")); // pub static ASSETS: Assets

/// Bytes of a request (head + body) the firmware accepts; larger heads get 431.
const RX: usize = 1536;
/// Response head and small generated bodies (larger bodies are written from where they lie).
const TX: usize = 512;
/// The request target may fill the buffer, as in the `uart` firmware.
const LIMITS: Limits = Limits {
    max_target: RX,
    ..Limits::DEFAULT
};
/// Header lines per request.
const HEADERS: usize = 24;
/// A request must be whole this long after its first byte.
const REQUEST_MS: u64 = 1_000;
/// After a refused request, input is dropped until the line has been quiet this long.
const QUIET_MS: u64 = 100;

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 6] = [irq::wake; 6];

/// The body of `PUT /api/led`.
#[cfg(feature = "fp-json")]
#[derive(serde::Deserialize)]
struct SetLed {
    on: bool,
}

/// An LED's state, as `PUT /api/led` answers it.
#[cfg(feature = "fp-json")]
#[derive(serde::Serialize)]
struct Led {
    id: u8,
    on: bool,
}

/// What a page served from a development server may call: the API's methods, with a JSON
/// (or form) `Content-Type`; browsers may cache a preflight's answer for 10 minutes.
#[cfg(feature = "fp-cors")]
static CORS: embedded_responder::cors::Cors =
    embedded_responder::cors::Cors::new(&["http://localhost:3000"])
        .methods(&[
            embedded_responder::Method::Get,
            embedded_responder::Method::Post,
            embedded_responder::Method::Put,
        ])
        .headers(&["content-type"])
        .max_age(600);

/// The length and CRC-32 (that of zlib and PNG) of the `firmware` part, if there is one; the
/// other parts are skipped.
#[cfg(feature = "fp-multipart")]
fn firmware_part(form: &mut Multipart<'_, '_>) -> Result<Option<(u64, u32)>, MultipartError> {
    let mut head = [0u8; 256]; // a part's header lines must fit
    let mut found = None;
    while let Some(part) = form.next_part(&mut head)? {
        if part.name() == "firmware" {
            let mut crc = !0u32;
            let len = form.for_each_data(|piece| crc = crc32_update(crc, piece))?;
            found = Some((len, !crc));
        } // other parts: next_part skips them
    }
    Ok(found)
}

/// CRC-32 (reflected, polynomial 0xEDB88320) a bit at a time: no table in flash, so that
/// `fp-multipart` measures the multipart reader, not a CRC.
#[cfg(feature = "fp-multipart")]
fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    crc
}

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);

    let read = ReadState::new();
    let stats = Stats::default();
    let mut uart = Uart::new(&read);
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, LIMITS);

    // Four LEDs, one bit each.
    #[cfg(any(feature = "fp-params", feature = "fp-json"))]
    let leds = Cell::new(0u8);
    // The stored configuration: SSID and interval.
    #[cfg(feature = "fp-form")]
    let config = RefCell::new(None);

    let app = app::app(&stats);
    #[cfg(feature = "fp-params")]
    let app = app.route(
        embedded_responder::path::params("/led/{id:u8}"),
        get(|req, res| match req.param::<u8>("id") {
            Some(id) if id < 4 => res.text(if leds.get() & 1 << id != 0 {
                "on\n"
            } else {
                "off\n"
            }),
            _ => demo_app::not_found(req, res),
        }),
    );
    #[cfg(feature = "fp-json")]
    let app = app.route(
        "/api/led",
        put(|req, res| match req.json::<SetLed>() {
            Ok(set) => {
                leds.set(leds.get() & !1 | u8::from(set.on));
                res.json(Status::OK, &Led { id: 0, on: set.on })
            }
            // 415 for another Content-Type, 400 {"error":..} for malformed JSON
            Err(e) => e.respond(res),
        }),
    );
    #[cfg(feature = "fp-assets")]
    let app = app
        .route("/ui", get(|req, res| ASSETS.at("/ui/").serve(req, res)))
        .nest("/ui", ASSETS)
        // The page's script and stylesheet.
        .mount("/static/*", ASSETS.at("/static/"));
    #[cfg(feature = "fp-auth")]
    let app = {
        use embedded_responder::auth::BasicAuth;
        let auth = BasicAuth::new("device", "admin", "admin").unwrap_or_else(|_| unreachable!());
        app.route(
            "/admin",
            get(move |req, res| match auth.check(req) {
                true => res.text("admin page\n"),
                false => auth.challenge(res),
            }),
        )
    };
    #[cfg(feature = "fp-form")]
    let app = app.route(
        "/config",
        post(|req, res| {
            use embedded_responder::form::{FieldError, FieldErrorKind, Form};
            use embedded_responder::Redirect;
            let form = match Form::from_request(req) {
                Ok(form) => form,
                Err(e) => return e.respond(res), // 415 for another Content-Type
            };
            let ssid = match form.text::<32>("ssid") {
                Ok(ssid) if ssid.is_empty() => Err(FieldError::new("ssid", FieldErrorKind::Empty)),
                other => other,
            };
            match (ssid, form.number_in::<u32>("interval", 1..=3600)) {
                (Ok(ssid), Ok(interval)) => {
                    *config.borrow_mut() = Some((ssid, interval));
                    res.redirect(Redirect::SeeOther, "/config")
                }
                // "ssid: missing", "interval: out of range", ...
                (Err(e), _) | (_, Err(e)) => e.respond(res, Status::UNPROCESSABLE_CONTENT),
            }
        }),
    );
    #[cfg(feature = "fp-cookie")]
    let app = app.route(
        "/session",
        get(|req, res| {
            use embedded_responder::cookie::{cookie, SameSite, SetCookie};
            match cookie(req, "session") {
                Some(_session) => res.text("welcome back\n"),
                None => {
                    let session = SetCookie::new("session", "abc123")
                        .path("/")
                        .max_age(3600)
                        .http_only()
                        .same_site(SameSite::Strict);
                    res.start(Status::OK)
                        .set_cookie(&session)
                        .header("Content-Type", "text/plain; charset=utf-8")
                        .body(b"hello\n")
                }
            }
        }),
    );
    #[cfg(feature = "fp-multipart")]
    let app = app.route(
        "/fw",
        // `serve_buffered` takes the body whole in the receive buffer (413 if it cannot fit)
        // and `request_body()` lends it from there; on a driver that streams
        // (`serve_with_hooks`, as in the `ethernet` firmware) the same handler behind
        // `.stream_body(limit)` reads uploads larger than the buffer as they arrive.
        post(|req, mut res| {
            let found = Multipart::new(req, res.request_body())
                .and_then(|mut form| firmware_part(&mut form));
            match found {
                Ok(Some((len, crc))) => res
                    .start(Status::OK)
                    .header("Content-Type", "application/json")
                    .body_with(|w| {
                        w.push_str("{\"bytes\":");
                        w.push_u64(len);
                        w.push_str(",\"crc32\":\"");
                        w.push_hex(u64::from(crc), 8);
                        w.push_str("\"}");
                    }),
                Ok(None) => res
                    .start(Status::UNPROCESSABLE_CONTENT)
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body(b"no firmware part\n"),
                // 415 not multipart, 400 naming the broken rule, 431 a part's head too large
                Err(e) => e.respond(res),
            }
        }),
    );
    // Last: the layer sees every request the router answers, its 404 and 405 included.
    #[cfg(feature = "fp-cors")]
    let app = app.layer(&CORS);
    let mut app = app;

    let mut hooks = FirmwareHooks {
        read: &read,
        stats: &stats,
        timeouts: Timeouts {
            request_ms: REQUEST_MS,
            ..Timeouts::DEFAULT
        },
        wait: Idle,
    };
    loop {
        read.clear();
        // As in the `uart` firmware: after a refused request, discard its rest.
        if let Err(ServeError::Protocol(e)) =
            serve_buffered(&mut uart, &mut conn, &mut app, &mut hooks)
        {
            match e {
                Error::Timeout => {}
                Error::HeadTooLarge | Error::UriTooLong => uart.discard_until_quiet(QUIET_MS, true),
                _ => uart.discard_until_quiet(QUIET_MS, false),
            }
        }
    }
}
