//! A `log` logger on UART0 (feature `embassy`): one line per record, `LEVEL message`, sent
//! byte by byte as it is formatted (no buffer). Blocking, so a firmware on real hardware
//! would rather queue lines for a task; under QEMU the UART takes every byte at once.
//!
//! The library logs one line per exchange through it (feature `log`): `GET /path 200` at
//! debug, a refused request with its reason at info, a 500 or a broken stream at warn.

use core::fmt::Write;

use log::{LevelFilter, Log, Metadata, Record};

use crate::uart;

struct UartLogger;

/// Formats straight into the UART.
struct Port;

impl Write for Port {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        uart::send_blocking(s.as_bytes());
        Ok(())
    }
}

impl Log for UartLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            // Tasks do not preempt each other and no interrupt logs, so lines do not mix.
            let _ = write!(Port, "{:<5} {}\r\n", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: UartLogger = UartLogger;

/// Enable UART0's transmitter and log records up to `level` to it. Call once, at boot.
pub fn init(level: LevelFilter) {
    uart::enable_tx();
    // Fails only if a logger was set before: then that one stays.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
