//! Milliseconds since boot, from SysTick.
//!
//! QEMU's lm3s6965evb runs the core at 12.5 MHz after reset (200 MHz PLL / 16, as the
//! reset value of RCC selects); the firmware never changes it.
//!
//! The blocking binaries tick at 100 Hz and count here. With feature `embassy` SysTick ticks
//! at 1 kHz and drives the embassy-time driver instead ([`crate::time`]), and [`now_ms`]
//! reads embassy-time's clock, so the shared app (`/stats`) and hooks see one clock.

#[cfg(not(feature = "embassy"))]
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::exception;

/// Core clock in Hz.
pub const CPU_HZ: u32 = 12_500_000;
/// Milliseconds per tick. Each tick also wakes the core, so sleeps re-check their deadlines
/// at this granularity.
#[cfg(not(feature = "embassy"))]
pub const TICK_MS: u32 = 10;
/// Milliseconds per tick: embassy-time's tick (feature `tick-hz-1_000`).
#[cfg(feature = "embassy")]
pub const TICK_MS: u32 = 1;

#[cfg(not(feature = "embassy"))]
static TICKS: AtomicU32 = AtomicU32::new(0);

/// Start the tick. Call once, at boot.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(CPU_HZ / 1000 * TICK_MS - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Milliseconds since [`start`] (wraps after 497 days of ticks).
#[cfg(not(feature = "embassy"))]
pub fn now_ms() -> u64 {
    u64::from(TICKS.load(Ordering::Relaxed)) * u64::from(TICK_MS)
}

/// Milliseconds since [`start`]: embassy-time's clock.
#[cfg(feature = "embassy")]
pub fn now_ms() -> u64 {
    embassy_time_driver::now()
}

#[exception]
fn SysTick() {
    #[cfg(not(feature = "embassy"))]
    TICKS.fetch_add(1, Ordering::Relaxed);
    #[cfg(feature = "embassy")]
    crate::time::tick();
}
