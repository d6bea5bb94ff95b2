//! Peak stack use, by painting: at boot the free RAM below the stack is filled with a
//! pattern, and the high-water mark is where the pattern first turns out overwritten.

use core::ptr::addr_of;

const PAINT: u32 = 0xC0DE_5AFE;
/// Left unpainted below the painter's own stack pointer: its frame and an exception frame.
const MARGIN: usize = 256;

extern "C" {
    // From cortex-m-rt's link.x: the end of .bss/.uninit (start of free RAM) and the initial
    // stack pointer (end of RAM).
    static __sheap: u32;
    static _stack_start: u32;
}

fn free_start() -> usize {
    // Taking the address of an extern static is safe; it is never read.
    addr_of!(__sheap) as usize
}

fn stack_top() -> usize {
    addr_of!(_stack_start) as usize
}

/// Paint the free RAM. Call first thing in `main`, before any interrupt is enabled.
#[inline(never)]
pub fn paint() {
    let end = cortex_m::register::msp::read() as usize - MARGIN;
    let mut word = free_start();
    while word < end {
        // SAFETY: [__sheap, sp - MARGIN) is RAM that nothing uses yet: no heap, and the stack
        // has not grown there.
        unsafe { core::ptr::write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// The most stack used since [`paint`], in bytes.
pub fn peak() -> usize {
    let mut word = free_start();
    let top = stack_top();
    // SAFETY: reads aligned words of RAM between the end of statics and the stack top.
    while word < top && unsafe { core::ptr::read_volatile(word as *const u32) } == PAINT {
        word += 4;
    }
    top - word
}

/// RAM taken by statics (`.data` + `.bss` + `.uninit`), in bytes.
pub fn statics() -> usize {
    free_start() - 0x2000_0000
}
