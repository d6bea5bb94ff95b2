//! Admission: the places of a server (its connection cap), and the bookkeeping of the
//! policy that defends requests that make progress when they run short, stated in the host
//! module's docs ("Under load"): which connection waits for a head and since when, which was
//! evicted, and whether the server is under pressure. The servers apply it: deadlines
//! through [`super::HostHooks`], probation in their accept loops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::millis;

/// Under pressure, how long a connection may wait for a request head: idle, or from the
/// head's first byte to its end.
pub(crate) const PRESSURE_WAIT: Duration = Duration::from_secs(2);

/// At the cap, a connection that has waited this long for a request head may be evicted to
/// make room.
pub(crate) const EVICT_AFTER: Duration = Duration::from_millis(250);

/// At the cap: how much of a request head a connection on probation must have sent (or all
/// of a shorter one) to take a place.
pub(crate) const PROBATION_PEEK: usize = 1024;

/// At most this many connections per place wait on probation (each costs a socket and, on
/// the tokio server, a small task with [`PROBATION_PEEK`] bytes; no buffers); past that, new
/// connections are refused at once.
pub(crate) const PROBATION_PER_PLACE: usize = 4;

/// Whether what a connection on probation has sent (looked at, not read) shows progress: a
/// whole request head, or [`PROBATION_PEEK`] bytes of one.
pub(crate) fn shows_progress(peeked: &[u8]) -> bool {
    peeked.len() >= PROBATION_PEEK || peeked.windows(4).any(|w| w == b"\r\n\r\n")
}

/// How often a connection on probation is looked at.
pub(crate) const PROBATION_POLL: Duration = Duration::from_millis(50);

/// Under pressure, the longest lingering close (instead of `Config::linger`).
pub(crate) const PRESSURE_LINGER: Duration = Duration::from_millis(500);

/// `waiting_since` of a connection whose request is being handled.
const HANDLING: u64 = u64::MAX;

/// The places of one server.
#[derive(Debug)]
pub(crate) struct Admission {
    cap: usize,
    epoch: Instant,
    /// Connections open (evicted ones included until they close).
    open: AtomicUsize,
    /// Evicted connections not yet closed: their places are already taken again.
    evicted: AtomicUsize,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    next_id: u64,
    open: HashMap<u64, Arc<Slot>>,
}

/// One open connection, as admission sees it.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Since when (milliseconds since the server's epoch) it has waited for a request head;
    /// [`HANDLING`] while a request is handled.
    waiting_since: AtomicU64,
    evicted: AtomicBool,
}

/// A place taken by a connection; given back when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    admission: Arc<Admission>,
    id: u64,
    slot: Arc<Slot>,
}

impl Admission {
    pub(crate) fn new(cap: usize, epoch: Instant) -> Arc<Admission> {
        Arc::new(Admission {
            cap,
            epoch,
            open: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            slots: Mutex::new(Slots::default()),
        })
    }

    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// Connections open, evicted ones included until they close.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// More than three quarters of the places are taken.
    pub(crate) fn under_pressure(&self) -> bool {
        let taken = self
            .open()
            .saturating_sub(self.evicted.load(Ordering::Relaxed));
        taken.saturating_mul(4) > self.cap.saturating_mul(3)
    }

    /// A free place for a new connection, if there is one.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Admitted> {
        self.admit_at(self.now_ms(), false)
    }

    /// A place for a new connection: a free one, or the place of the connection that has
    /// waited longest for a request head (at least [`EVICT_AFTER`]), which is told to go.
    /// `None`: refuse it.
    pub(crate) fn admit_evicting(self: &Arc<Self>) -> Option<Admitted> {
        self.admit_at(self.now_ms(), true)
    }

    /// [`Admission::try_admit`] or (`evict`) [`Admission::admit_evicting`] at `now`
    /// (milliseconds since the epoch).
    fn admit_at(self: &Arc<Self>, now: u64, evict: bool) -> Option<Admitted> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = self
            .open()
            .saturating_sub(self.evicted.load(Ordering::Relaxed));
        if taken >= self.cap {
            if !evict {
                return None;
            }
            let victim = slots
                .open
                .values()
                .filter(|slot| !slot.evicted.load(Ordering::Relaxed))
                .map(|slot| (slot.waiting_since.load(Ordering::Relaxed), slot))
                // (A connection being handled has waited 0 ms.)
                .filter(|&(since, _)| now.saturating_sub(since) >= millis(EVICT_AFTER))
                .min_by_key(|&(since, _)| since)
                .map(|(_, slot)| slot);
            let victim = victim?;
            victim.evicted.store(true, Ordering::Relaxed);
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        slots.next_id += 1;
        let id = slots.next_id;
        let slot = Arc::new(Slot {
            waiting_since: AtomicU64::new(now),
            evicted: AtomicBool::new(false),
        });
        slots.open.insert(id, Arc::clone(&slot));
        self.open.fetch_add(1, Ordering::Relaxed);
        Some(Admitted {
            admission: Arc::clone(self),
            id,
            slot,
        })
    }
}

impl Admitted {
    /// The server this place belongs to.
    pub(crate) fn admission(&self) -> &Admission {
        &self.admission
    }

    /// This connection was told to make room.
    pub(crate) fn evicted(&self) -> bool {
        self.slot.evicted.load(Ordering::Relaxed)
    }

    /// A request's head is in: its handler runs, so the connection is not evicted.
    pub(crate) fn handling(&self) {
        self.slot.waiting_since.store(HANDLING, Ordering::Relaxed);
    }

    /// A response is done: the connection waits for a next request from now.
    pub(crate) fn waiting(&self) {
        let now = self.admission.now_ms();
        self.slot.waiting_since.store(now, Ordering::Relaxed);
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut slots = self
            .admission
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slots.open.remove(&self.id);
        if self.evicted() {
            self.admission.evicted.fetch_sub(1, Ordering::Relaxed);
        }
        self.admission.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: u64 = EVICT_AFTER.as_millis() as u64;

    #[test]
    fn a_free_place_else_the_place_of_the_longest_waiting() {
        let admission = Admission::new(3, Instant::now());
        let first = admission.admit_at(0, true).unwrap();
        let handling = admission.admit_at(0, true).unwrap();
        handling.handling();
        let third = admission.admit_at(10, true).unwrap();
        // Full: no free place; and no one has waited long enough to be evicted.
        assert!(admission.admit_at(WAIT + 10, false).is_none());
        assert!(admission.admit_at(WAIT - 1, true).is_none());
        assert_eq!(admission.open(), 3);
        // The one that waited longest goes; the handled one never does.
        let fourth = admission.admit_at(WAIT + 10, true).unwrap();
        assert!(first.evicted() && !handling.evicted() && !third.evicted());
        assert_eq!(admission.open(), 4);
        let fifth = admission.admit_at(WAIT + 10, true).unwrap();
        assert!(third.evicted() && !fourth.evicted());
        // Only the handled one and the two new ones are left to choose from; too recent.
        assert!(admission.admit_at(WAIT + 20, true).is_none());
        drop((first, third));
        assert_eq!(admission.open(), 3);
        assert!(admission.admit_at(WAIT + 20, true).is_none());
        drop(fifth);
        assert!(admission.admit_at(WAIT + 20, true).is_some());
    }

    #[test]
    fn pressure_past_three_quarters_of_the_places() {
        let admission = Admission::new(8, Instant::now());
        let held: Vec<_> = (0..6)
            .map(|_| admission.admit_at(0, true).unwrap())
            .collect();
        assert!(!admission.under_pressure());
        let seventh = admission.admit_at(0, true).unwrap();
        assert!(admission.under_pressure());
        drop(seventh);
        assert!(!admission.under_pressure());
        drop(held);
        assert_eq!(admission.open(), 0);
    }
}
