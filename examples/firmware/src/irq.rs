//! Sleeping until something happens, without a busy loop and without a lost wake-up.
//!
//! Device interrupts only wake the core: [`wake`] disables its own NVIC line and returns,
//! and the main loop, which does all the work, enables the line again just before it sleeps
//! in [`sleep_unless`]. Interrupts are masked (PRIMASK) between the last check and `wfi`;
//! `wfi` still wakes on a pending interrupt, so an event in that window is not missed.

use cortex_m::interrupt::InterruptNumber;
use cortex_m::peripheral::scb::VectActive;
use cortex_m::peripheral::{NVIC, SCB};

/// An IRQ number of this board (UART0 is 5, the Ethernet MAC 42).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Irq(pub u16);

/// UART0's interrupt.
pub const UART0: Irq = Irq(5);
/// The Ethernet controller's interrupt.
pub const ETHERNET: Irq = Irq(42);

// SAFETY: the numbers used (`UART0`, `ETHERNET`) are valid IRQs of the LM3S6965, and `wake`
// only passes back the number the NVIC reports as active.
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// The handler in every interrupt table slot: disable the active line, which stays pending
/// at the device until the main loop has dealt with it.
pub extern "C" fn wake() {
    if let VectActive::Interrupt { irqn } = SCB::vect_active() {
        NVIC::mask(Irq(u16::from(irqn)));
    }
}

/// Sleep until an interrupt (`irq`, or the clock's tick) unless `ready()` already holds.
pub fn sleep_unless(irq: Irq, ready: impl FnOnce() -> bool) {
    cortex_m::interrupt::free(|_| {
        if !ready() {
            // SAFETY: `wake` is this line's handler and shares no state with the main loop,
            // so unmasking it cannot break a critical section.
            unsafe { NVIC::unmask(irq) };
            cortex_m::asm::wfi();
        }
    });
}
