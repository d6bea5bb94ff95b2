//! HTTP over UART0. QEMU bridges the UART to a host TCP port, one client at a time; the byte
//! stream outlives each client, so the firmware stays in step by answering with
//! `Content-Length`, by a short per-request deadline (a client that vanishes mid-request is
//! given up after `REQUEST_MS`), and by discarding what is left of a refused request:
//! through the end of its head when the head was too large, else until the line is quiet.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use embedded_responder::io::blocking::serve_buffered;
use embedded_responder::io::ServeError;
use embedded_responder::{Connection, Error, Limits, Timeouts};
use firmware::app::{self, FirmwareHooks, Idle, ReadState, Stats};
use firmware::{clock, irq, stack, uart::Uart};

/// Bytes of a request (head + body) the firmware accepts; larger heads get 431.
const RX: usize = 1536;
/// Response head and small generated bodies (larger bodies are written from where they lie).
const TX: usize = 512;
/// The request target may fill the buffer: then a 414 or 431 always means the head did not
/// fit, so its end is still to come on the line.
const LIMITS: Limits = Limits {
    max_target: RX,
    ..Limits::DEFAULT
};
/// Header lines per request (a browser sends about 15).
const HEADERS: usize = 24;
/// A request must be whole this long after its first byte (at QEMU's ~20 KB/s a full buffer
/// takes under 100 ms).
const REQUEST_MS: u64 = 1_000;
/// After a refused request, input is dropped until the line has been quiet this long.
const QUIET_MS: u64 = 100;

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 6] = [irq::wake; 6];

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);

    let read = ReadState::new();
    let stats = Stats::default();
    let mut uart = Uart::new(&read);
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, LIMITS);
    let mut app = app::app(&stats);
    let mut hooks = FirmwareHooks {
        read: &read,
        stats: &stats,
        timeouts: Timeouts {
            request_ms: REQUEST_MS,
            ..Timeouts::DEFAULT
        },
        wait: Idle,
    };
    loop {
        read.clear();
        // A refused request leaves the line out of step; any other ending (the client asked
        // to close, or was idle) leaves it between requests: the next byte starts one.
        if let Err(ServeError::Protocol(e)) =
            serve_buffered(&mut uart, &mut conn, &mut app, &mut hooks)
        {
            match e {
                // The client vanished mid-request: the line is already quiet.
                Error::Timeout => {}
                // The head did not fit: its end is still on the line (or, in the rare case
                // that the buffer ended inside the blank line, the line goes quiet).
                Error::HeadTooLarge | Error::UriTooLong => uart.discard_until_quiet(QUIET_MS, true),
                // Refused mid-request (and answered): the rest of it may still be arriving.
                _ => uart.discard_until_quiet(QUIET_MS, false),
            }
        }
    }
}
