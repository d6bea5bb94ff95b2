//! The `uart` firmware without HTTP: the same runtime, clock, sleep and UART driver, echoing
//! bytes back. `footprint.sh` subtracts its size from `uart`'s to report the HTTP share.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use embedded_io::{Read, Write};
use firmware::app::ReadState;
use firmware::{clock, irq, stack, uart::Uart};

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 6] = [irq::wake; 6];

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);
    let read = ReadState::new();
    let mut uart = Uart::new(&read);
    let mut buf = [0u8; 64];
    loop {
        if let Ok(n) = uart.read(&mut buf) {
            let _ = uart.write_all(&buf[..n]);
        }
    }
}
