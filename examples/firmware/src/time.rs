//! An embassy-time driver on SysTick (feature `embassy`): the clock counts 1 kHz ticks
//! ([`crate::clock::start`] sets the rate), and alarms live in embassy's timer queue (the
//! integrated one: an item in each task's header, no fixed capacity). Every tick compares the
//! clock with the earliest alarm; when it is due, the queue wakes the tasks whose timers
//! expired (waking a task sets the event that ends the executor's `wfe`).
//!
//! A periodic tick rather than a tickless one-shot: SysTick is a 24-bit down-counter (1.3 s
//! at 12.5 MHz), and a 1 ms tick costs a few hundred cycles a millisecond. A board with a
//! 32-bit timer and a compare register would program the next alarm instead.

use core::cell::{Cell, RefCell};
use core::task::Waker;

use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

struct SysTickDriver {
    /// Ticks since boot.
    now: Mutex<Cell<u64>>,
    /// When the earliest alarm is due (`u64::MAX`: none).
    alarm: Mutex<Cell<u64>>,
    queue: Mutex<RefCell<Queue>>,
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.now.borrow(cs).get())
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut queue = self.queue.borrow(cs).borrow_mut();
            if queue.schedule_wake(at, waker) {
                // The earliest alarm changed; one already due wakes its task at once.
                let next = queue.next_expiration(self.now.borrow(cs).get());
                self.alarm.borrow(cs).set(next);
            }
        });
    }
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    now: Mutex::new(Cell::new(0)),
    alarm: Mutex::new(Cell::new(u64::MAX)),
    queue: Mutex::new(RefCell::new(Queue::new())),
});

/// One tick passed (the SysTick handler): advance the clock, and wake the tasks whose
/// alarms are due.
pub(crate) fn tick() {
    critical_section::with(|cs| {
        let now = DRIVER.now.borrow(cs).get() + 1;
        DRIVER.now.borrow(cs).set(now);
        let alarm = DRIVER.alarm.borrow(cs);
        if now >= alarm.get() {
            let next = DRIVER.queue.borrow(cs).borrow_mut().next_expiration(now);
            alarm.set(next);
        }
    });
}
