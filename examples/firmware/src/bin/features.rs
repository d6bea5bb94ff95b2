//! The `uart` firmware plus one route for each application-layer feature of the library that
//! is enabled (cargo features of this crate, `feature-footprint.sh` builds each alone):
//! - `fp-params`: `GET /led/{id:u8}`, a path parameter (`on` or `off` for LEDs 0-3, 404
//!   for any other id or a non-canonical one);
//! - `fp-json`: `PUT /api/led` with `{"on":true}` sets LED 0 and answers
//!   `{"id":0,"on":true}` (400 or 415 with a JSON error);
//! - `fp-assets`: `/ui/` and `/static/`, `examples/webui` embedded by `build.rs`
//!   (tools/embed-assets), with gzip copies, ETags, ranges;
//! - `fp-auth`: `GET /admin` behind Basic auth (`admin` / `admin`);
//! - `fp-form`: `POST /config`, a form with `ssid` (1-32 bytes) and `interval` (1-3600),
//!   303 to `/config` or 422 naming the field;
//! - `fp-cookie`: `GET /session`, a cookie read or set with its attributes.
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
