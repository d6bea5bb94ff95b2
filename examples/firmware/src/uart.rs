//! UART0, a PL011 (Stellaris variant) at 0x4000_C000, as an `embedded_io` transport.
//!
//! Reads sleep with `wfi` until a byte or the clock's tick arrives, and fail with
//! `TimedOut` once the driver's read deadline (shared through [`ReadState`]) has passed.
//! Writes go out byte by byte (QEMU's UART takes each at once; real hardware waits on the
//! transmit FIFO).

use embedded_io::{ErrorKind, ErrorType, Read, Write};

use crate::app::ReadState;
use crate::irq::{self, sleep_unless};
use crate::{clock, reg};

const BASE: usize = 0x4000_C000;
const DR: usize = BASE;
const FR: usize = BASE + 0x18;
const LCRH: usize = BASE + 0x2C;
const CR: usize = BASE + 0x30;
const IMSC: usize = BASE + 0x38;

const FR_BUSY: u32 = 1 << 3;
const FR_RXFE: u32 = 1 << 4;
const FR_TXFF: u32 = 1 << 5;
const LCRH_FEN: u32 = 1 << 4;
const LCRH_WLEN8: u32 = 0b11 << 5;
const CR_UARTEN: u32 = 1;
const CR_TXE: u32 = 1 << 8;
const CR_RXE: u32 = 1 << 9;
const IM_RX: u32 = 1 << 4;
const IM_RT: u32 = 1 << 6;

/// UART0.
pub struct Uart<'r> {
    read: &'r ReadState,
}

/// The only failure: the read deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

impl core::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("read deadline passed")
    }
}

impl core::error::Error for TimedOut {}

impl embedded_io::Error for TimedOut {
    fn kind(&self) -> ErrorKind {
        ErrorKind::TimedOut
    }
}

fn rx_ready() -> bool {
    reg::read(FR) & FR_RXFE == 0
}

impl<'r> Uart<'r> {
    /// Set up UART0: 8 bits, FIFOs on, receive interrupts on (they only wake the core). The
    /// baud rate is left as is: QEMU's UART bridges to a socket at its own pace.
    pub fn new(read: &'r ReadState) -> Self {
        reg::write(CR, 0);
        reg::write(LCRH, LCRH_FEN | LCRH_WLEN8);
        reg::write(IMSC, IM_RX | IM_RT);
        reg::write(CR, CR_UARTEN | CR_TXE | CR_RXE);
        Uart { read }
    }

    /// Discard input until none has arrived for `quiet_ms`, or, with `through_head_end`,
    /// until the blank line that ends a request head has passed. A UART has no connections:
    /// after a request was refused mid-stream, this is how the firmware finds the start of
    /// the next client's request.
    pub fn discard_until_quiet(&mut self, quiet_ms: u64, through_head_end: bool) {
        let mut last = clock::now_ms();
        let mut tail = 0u32;
        loop {
            while rx_ready() {
                tail = tail << 8 | (reg::read(DR) & 0xFF);
                last = clock::now_ms();
                if through_head_end && tail == u32::from_be_bytes(*b"\r\n\r\n") {
                    return;
                }
            }
            if clock::now_ms().saturating_sub(last) >= quiet_ms {
                return;
            }
            sleep_unless(irq::UART0, rx_ready);
        }
    }
}

impl ErrorType for Uart<'_> {
    type Error = TimedOut;
}

impl Read for Uart<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TimedOut> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if rx_ready() {
                let mut n = 0;
                while n < buf.len() && rx_ready() {
                    buf[n] = reg::read(DR) as u8;
                    n += 1;
                }
                return Ok(n);
            }
            if self.read.expired() {
                return Err(TimedOut);
            }
            sleep_unless(irq::UART0, rx_ready);
        }
    }
}

impl Write for Uart<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TimedOut> {
        for &byte in buf {
            while reg::read(FR) & FR_TXFF != 0 {}
            reg::write(DR, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), TimedOut> {
        while reg::read(FR) & FR_BUSY != 0 {}
        Ok(())
    }
}

/// Enable UART0 for sending only (8 bits, FIFOs on), for a log port: the `embassy` firmware
/// serves HTTP over Ethernet and logs here.
pub fn enable_tx() {
    reg::write(CR, 0);
    reg::write(LCRH, LCRH_FEN | LCRH_WLEN8);
    reg::write(CR, CR_UARTEN | CR_TXE);
}

/// Send `bytes` out of UART0, waiting on the transmit FIFO when it is full.
pub fn send_blocking(bytes: &[u8]) {
    for &byte in bytes {
        while reg::read(FR) & FR_TXFF != 0 {}
        reg::write(DR, u32::from(byte));
    }
}
