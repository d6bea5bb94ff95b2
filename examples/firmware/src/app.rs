//! The app every binary serves (the std example's `GET /`, `POST /echo` and 404, from the
//! library's `demo` module) plus one firmware-typical route: `GET /stats`, counters and the
//! memory figures a firmware author watches. Also the [`Hooks`] that give the library's
//! blocking driver its clock.

use core::cell::Cell;

use embedded_responder::demo::{self, PAGE};
use embedded_responder::io::blocking::Hooks;
use embedded_responder::{get, post, Exchange, Handler, Router, Status, Timeouts};

use crate::{clock, stack};

/// What the transports and the hooks share: the read deadline the driver asked for, and
/// whether the connection is between requests.
#[derive(Debug, Default)]
pub struct ReadState {
    deadline: Cell<Option<u64>>,
    between_requests: Cell<bool>,
}

impl ReadState {
    /// No deadline yet.
    pub const fn new() -> Self {
        ReadState {
            deadline: Cell::new(None),
            between_requests: Cell::new(true),
        }
    }

    /// Whether the deadline set by the driver has passed.
    pub fn expired(&self) -> bool {
        self.deadline.get().is_some_and(|d| clock::now_ms() >= d)
    }

    /// Whether no byte of a next request has arrived (ending the connection loses nothing).
    pub fn between_requests(&self) -> bool {
        self.between_requests.get()
    }

    /// Forget the deadline (a new connection starts).
    pub fn clear(&self) {
        self.deadline.set(None);
        self.between_requests.set(true);
    }
}

/// Counters shown at `/stats`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Responses written.
    pub responses: Cell<u32>,
}

/// The blocking driver's hooks: the SysTick clock, the timeouts, and a response counter.
pub struct FirmwareHooks<'a> {
    /// Shared with the transport.
    pub read: &'a ReadState,
    /// Shared with the `/stats` route.
    pub stats: &'a Stats,
    /// The deadlines to enforce.
    pub timeouts: Timeouts,
}

impl Hooks for FirmwareHooks<'_> {
    fn now_ms(&mut self) -> Option<u64> {
        Some(clock::now_ms())
    }
    fn timeouts(&self) -> Timeouts {
        self.timeouts
    }
    fn set_read_timeout(&mut self, ms: u64) {
        self.read.deadline.set(Some(clock::now_ms() + ms));
    }
    fn will_read(&mut self, between_requests: bool) {
        self.read.between_requests.set(between_requests);
    }
    fn responded(&mut self, _exchange: &Exchange<'_>) {
        self.stats
            .responses
            .set(self.stats.responses.get().wrapping_add(1));
    }
}

/// `GET /`, `POST /echo`, `GET /stats`, 404 elsewhere.
pub fn app(stats: &Stats) -> impl Handler + '_ {
    Router::new()
        .route("/", get(|_req, res| res.html(PAGE)))
        .route("/echo", post(demo::echo))
        .route(
            "/stats",
            get(move |_req, res| {
                res.start(Status::OK)
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .body_with(|w| {
                        w.push_str("uptime_ms ");
                        w.push_u64(clock::now_ms());
                        w.push_str("\nresponses ");
                        w.push_u64(u64::from(stats.responses.get()));
                        w.push_str("\nstatic_ram ");
                        w.push_u64(stack::statics() as u64);
                        w.push_str("\nstack_peak ");
                        w.push_u64(stack::peak() as u64);
                        w.push_str("\n");
                    })
            }),
        )
        .fallback(demo::not_found)
}
