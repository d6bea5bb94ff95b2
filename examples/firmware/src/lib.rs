//! Board support shared by the firmware binaries for QEMU's `lm3s6965evb` (TI Stellaris
//! LM3S6965, Cortex-M3 at 12.5 MHz): a SysTick clock, a sleep that wakes on interrupts, a
//! PL011 UART driver and a Stellaris Ethernet MAC driver (both `embedded_io` /
//! `smoltcp` devices), stack painting, and the app every binary serves. With feature
//! `embassy`: an embassy-time driver on SysTick, the MAC as an `embassy-net-driver`, and a
//! `log` logger on UART0.
//!
//! No PAC: the few registers used are written here, each with its datasheet name. The
//! `unsafe` in this crate is MMIO and linker symbols only; the HTTP library has none.
#![no_std]

pub mod app;
pub mod clock;
pub mod enet;
#[cfg(feature = "embassy")]
pub mod enet_async;
#[cfg(feature = "embassy")]
pub mod hostflash;
pub mod irq;
#[cfg(feature = "embassy")]
pub mod logger;
pub mod mem;
pub mod stack;
#[cfg(feature = "embassy")]
pub mod time;
pub mod uart;

/// 32-bit memory-mapped register access.
mod reg {
    /// Read the register at `addr`.
    #[inline(always)]
    pub fn read(addr: usize) -> u32 {
        // SAFETY: only called with addresses of this board's UART0, Ethernet MAC and NVIC
        // registers, which are always mapped and readable as aligned words.
        unsafe { core::ptr::read_volatile(addr as *const u32) }
    }

    /// Write `value` to the register at `addr`.
    #[inline(always)]
    pub fn write(addr: usize, value: u32) {
        // SAFETY: as for `read`; writing these registers has no effect on memory safety.
        unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
    }
}

/// Stop on panic. Nothing in the HTTP path panics by design (the library answers bad input
/// with a status); this handler keeps `core::fmt` out of the image by not formatting the info.
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m::interrupt::disable();
    loop {
        cortex_m::asm::wfi();
    }
}
