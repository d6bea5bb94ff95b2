//! The app every binary serves (the std example's `GET /`, `POST /echo` and 404, from the
//! project's demo app, `examples/demo`) plus one firmware-typical route: `GET /stats`, counters and the
//! memory figures a firmware author watches. Also the [`Hooks`] that give the library's
//! blocking driver its clock, and a sleep for streaming handlers ([`Wait`]).

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use demo_app::{self as demo, PAGE};
use embedded_responder::io::Hooks;
use embedded_responder::router::{BlockingEndpoint, BlockingRoutes};
use embedded_responder::{get, post, Exchange, Router, Status, StreamError, Timeouts};

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

/// Counters shown at `/stats`; a `static` where several tasks share them.
#[derive(Debug, Default)]
pub struct Stats {
    /// Responses written.
    pub responses: AtomicU32,
}

impl Stats {
    /// All zero.
    pub const fn new() -> Self {
        Stats {
            responses: AtomicU32::new(0),
        }
    }

    /// Count a response. (A load and a store, as cheap as a `Cell`: one core, and a lost
    /// count under an interrupt would not matter.)
    #[inline(always)]
    pub fn responded(&self) {
        let n = self.responses.load(Ordering::Relaxed);
        self.responses.store(n.wrapping_add(1), Ordering::Relaxed);
    }
}

/// How the firmware waits while a handler sleeps ([`Hooks::sleep_ms`], e.g. between
/// Server-Sent Events): do the work that must go on meanwhile (moving packets), then sleep
/// until an interrupt unless more work or `deadline_ms` has come. Called until the deadline
/// passes; the clock's tick wakes the core, so a sleep ends at most one tick late.
pub trait Wait {
    /// Work, then sleep once (unless there is more to do or `deadline_ms` has passed).
    fn wait(&self, deadline_ms: u64);
}

impl<W: Wait + ?Sized> Wait for &W {
    fn wait(&self, deadline_ms: u64) {
        (**self).wait(deadline_ms);
    }
}

/// Nothing to keep going meanwhile: sleep until the next interrupt, the clock's tick at the
/// latest. Only time is waited for, so no check is guarded against a lost wake-up: a tick
/// between the deadline check and `wfi` makes the sleep end one tick late. (As small as the
/// library's default spin, so it costs the `uart` firmware, which never sleeps, nothing.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Idle;

impl Wait for Idle {
    fn wait(&self, _deadline_ms: u64) {
        cortex_m::asm::wfi();
    }
}

/// The blocking driver's hooks: the SysTick clock, the timeouts, a response counter, and a
/// sleep that lets `wait` work.
pub struct FirmwareHooks<'a, W: Wait = Idle> {
    /// Shared with the transport.
    pub read: &'a ReadState,
    /// Shared with the `/stats` route.
    pub stats: &'a Stats,
    /// The deadlines to enforce.
    pub timeouts: Timeouts,
    /// What sleeping handlers do meanwhile.
    pub wait: W,
}

impl<W: Wait> Hooks for FirmwareHooks<'_, W> {
    fn now_ms(&mut self) -> Option<u64> {
        Some(clock::now_ms())
    }
    fn timeouts(&self) -> Timeouts {
        self.timeouts
    }
    fn set_read_timeout(&mut self, ms: u64) {
        self.read
            .deadline
            .set(Some(clock::now_ms().saturating_add(ms)));
    }
    fn will_read(&mut self, between_requests: bool) {
        self.read.between_requests.set(between_requests);
    }
    fn responded(&mut self, _exchange: &Exchange<'_>) {
        self.stats.responded();
    }
    /// Never fails: the firmware does not shut down, so streams end only when their
    /// handler or client ends them.
    fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        let deadline = clock::now_ms().saturating_add(ms);
        while clock::now_ms() < deadline {
            self.wait.wait(deadline);
        }
        Ok(())
    }
}

/// `GET /`, `POST /echo`, `GET /stats`, 404 elsewhere. A router, so that a firmware can
/// add routes of its own (`.route(..)` after the fallback works).
pub fn app(stats: &Stats) -> Router<impl BlockingRoutes + '_, impl BlockingEndpoint> {
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
                        w.push_u64(u64::from(stats.responses.load(Ordering::Relaxed)));
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
