//! Byte-at-a-time `memcpy`, `memmove` and `memset` (and their ARM EABI aliases), replacing
//! compiler-builtins' word-wise versions, which take about 2.7 KB of flash on a Cortex-M3.
//! The library copies little (response heads, the unread tail of a pipelined request), so
//! speed is not the concern here; a firmware that copies a lot can drop this module.
//!
//! compiler-builtins links its versions weakly, so these take precedence. Volatile accesses
//! keep the compiler from recognising the loops as `memcpy` and calling back into them.

use core::ptr::{read_volatile, write_volatile};

/// Copy `n` bytes forwards, one at a time.
///
/// # Safety
/// Both ranges valid; if they overlap, `dst` is not above `src`.
#[inline(always)]
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n`, within both ranges by the caller's contract.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        i += 1;
    }
}

/// Copy `n` bytes between possibly overlapping ranges.
///
/// # Safety
/// Both ranges valid.
#[inline(always)]
unsafe fn copy_any(dst: *mut u8, src: *const u8, n: usize) {
    if (dst as usize) <= (src as usize) {
        // SAFETY: forwards is right for overlap when the destination is below the source.
        return unsafe { copy_forward(dst, src, n) };
    }
    let mut i = n;
    while i > 0 {
        i -= 1;
        // SAFETY: backwards, within both ranges.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
}

/// Fill `n` bytes with `c`.
///
/// # Safety
/// The range is valid.
#[inline(always)]
unsafe fn fill(dst: *mut u8, c: u8, n: usize) {
    let mut i = 0;
    while i < n {
        // SAFETY: within the range by the caller's contract.
        unsafe { write_volatile(dst.add(i), c) };
        i += 1;
    }
}

/// C `memcpy`.
///
/// # Safety
/// Both ranges valid, not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { copy_forward(dst, src, n) };
    dst
}

/// C `memmove`.
///
/// # Safety
/// Both ranges valid.
#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { copy_any(dst, src, n) };
    dst
}

/// C `memset`.
///
/// # Safety
/// The range is valid.
#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe { fill(dst, c as u8, n) };
    dst
}

// The ARM EABI names, which the compiler calls on this target. Each holds its own loop: a
// call to `memcpy` here would be lowered to `__aeabi_memcpy` again.
macro_rules! aeabi {
    ($($copy:ident),*; $($mv:ident),*; $($set:ident),*; $($clr:ident),*) => {
        $(
            /// ARM EABI `memcpy`.
            ///
            /// # Safety
            /// As for [`memcpy`].
            #[no_mangle]
            pub unsafe extern "C" fn $copy(dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: same contract.
                unsafe { copy_forward(dst, src, n) };
            }
        )*
        $(
            /// ARM EABI `memmove`.
            ///
            /// # Safety
            /// As for [`memmove`].
            #[no_mangle]
            pub unsafe extern "C" fn $mv(dst: *mut u8, src: *const u8, n: usize) {
                // SAFETY: same contract.
                unsafe { copy_any(dst, src, n) };
            }
        )*
        $(
            /// ARM EABI `memset` (note the argument order).
            ///
            /// # Safety
            /// As for [`memset`].
            #[no_mangle]
            pub unsafe extern "C" fn $set(dst: *mut u8, n: usize, c: i32) {
                // SAFETY: same contract.
                unsafe { fill(dst, c as u8, n) };
            }
        )*
        $(
            /// ARM EABI zero fill.
            ///
            /// # Safety
            /// As for [`memset`].
            #[no_mangle]
            pub unsafe extern "C" fn $clr(dst: *mut u8, n: usize) {
                // SAFETY: same contract.
                unsafe { fill(dst, 0, n) };
            }
        )*
    };
}

aeabi!(__aeabi_memcpy, __aeabi_memcpy4, __aeabi_memcpy8;
       __aeabi_memmove, __aeabi_memmove4, __aeabi_memmove8;
       __aeabi_memset, __aeabi_memset4, __aeabi_memset8;
       __aeabi_memclr, __aeabi_memclr4, __aeabi_memclr8);
