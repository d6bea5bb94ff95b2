//! The demo app on a Raspberry Pi Pico W (RP2040, 2 MiB flash, 264 KiB RAM) over Wi-Fi: the
//! CYW43439 on PIO SPI (cyw43, cyw43-pio), a station of the network `WIFI_SSID` with
//! `WIFI_PASSWORD` (WPA2; both read at build time), an address from DHCP, port 80.
//!
//! This file is the board's bring-up only: the radio (its power, SPI and firmware), joining
//! the network, the LED pins. Serving and the LEDs' logic are `board-common`'s.
//!
//! OTA: `POST /ota` writes the image into the DFU partition (0x10087000, 516 KiB) through
//! embassy-boot's updater and marks it in the state partition (0x10006000, 4 KiB); at the
//! next reset the bootloader, embassy-boot-rp at 0x10000100, swaps it into ACTIVE
//! (0x10007000, where this firmware is linked: `memory.x`). Once it runs, the new firmware
//! marks itself booted (else the next reset swaps back).
//!
//! LEDs: the demo's LED 0 is the board's LED (on the radio chip's GPIO 0), LEDs 1, 2, 3 are
//! GP13, GP14, GP15 (pins 17, 19, 20: an LED and a resistor each, to ground).
#![no_std]
#![no_main]

use board_common::{FlashLock, FlashSink, OtaLock, Partition};
use cyw43::{Aligned, JoinOptions, A4};
use cyw43_pio::{PioSpi, DEFAULT_CLOCK_DIVIDER};
use embassy_executor::Spawner;
use embassy_net::StackResources;
use embassy_rp::clocks::RoscRng;
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::{DMA_CH0, FLASH, PIO0};
use embassy_rp::pio::{InterruptHandler, Pio};
use embassy_rp::{bind_interrupts, dma};
use embassy_time::Timer;
use embedded_hal::digital::{OutputPin, PinState};
use panic_halt as _;
use static_cell::StaticCell;

bind_interrupts!(struct Irqs {
    PIO0_IRQ_0 => InterruptHandler<PIO0>;
    DMA_IRQ_0 => dma::InterruptHandler<DMA_CH0>;
});

/// The network to join (`WIFI_SSID` at build time; a placeholder without it).
const WIFI_SSID: &str = match option_env!("WIFI_SSID") {
    Some(ssid) => ssid,
    None => "embedded-responder",
};
/// Its WPA2 passphrase (`WIFI_PASSWORD` at build time).
const WIFI_PASSWORD: &str = match option_env!("WIFI_PASSWORD") {
    Some(password) => password,
    None => "password",
};

/// The radio's firmware and country table, 4-byte aligned as cyw43 loads them.
static FIRMWARE: &Aligned<A4, [u8]> = &Aligned(*cyw43_firmware::CYW43_43439A0);
static CLM: &Aligned<A4, [u8]> = &Aligned(*cyw43_firmware::CYW43_43439A0_CLM);
/// The Pico W's radio module settings (its NVRAM: crystal, power tables, the LED's GPIO),
/// as the Raspberry Pi Pico SDK has them (`wifi_nvram_43439.h`): `key=value` lines, each
/// NUL-terminated, two NULs at the end. cyw43-firmware carries no NVRAM.
static NVRAM: &Aligned<A4, [u8]> = &Aligned(
    *b"\
NVRAMRev=$Rev$\0manfid=0x2d0\0prodid=0x0727\0vendid=0x14e4\0devid=0x43e2\0\
boardtype=0x0887\0boardrev=0x1100\0boardnum=22\0macaddr=00:A0:50:b5:59:5e\0sromrev=11\0\
boardflags=0x00404001\0boardflags3=0x04000000\0xtalfreq=37400\0nocrc=1\0ag0=255\0aa2g=1\0\
ccode=ALL\0pa0itssit=0x20\0extpagain2g=0\0pa2ga0=-168,6649,-778\0AvVmid_c0=0x0,0xc8\0\
cckpwroffset0=5\0maxp2ga0=84\0txpwrbckof=6\0cckbw202gpo=0\0legofdmbw202gpo=0x66111111\0\
mcsbw202gpo=0x77711111\0propbw202gpo=0xdd\0ofdmdigfilttype=18\0ofdmdigfilttypebe=18\0\
papdmode=1\0papdvalidtest=1\0pacalidx2g=45\0papdepsoffset=-30\0papdendidx=58\0ltecxmux=0\0\
ltecxpadnum=0x0102\0ltecxfnsel=0x44\0ltecxgcigpio=0x01\0il0macaddr=00:90:4c:c5:12:38\0\
wl0id=0x431b\0deadman_to=0xffffffff\0muxenab=0x100\0spurconfig=0x3\0\
glitch_based_crsmin=1\0btc_mode=1\0\0\0",
);

/// The Pico W's 2 MiB of flash, written with the XIP cache off (blocking).
type BoardFlash = Flash<'static, FLASH, Blocking, { 2 * 1024 * 1024 }>;
/// `POST /ota`'s way into the DFU partition (the flash writes any byte).
type OtaSink = FlashSink<Partition<BoardFlash>, Partition<BoardFlash>, 1>;
/// The state partition: offset and size in the flash.
const STATE: (u32, u32) = (0x6000, 4 * 1024);
/// The DFU partition.
const DFU: (u32, u32) = (0x8_7000, 516 * 1024);

/// The radio on PIO0's state machine 0.
type Radio = cyw43::SpiBus<Output<'static>, PioSpi<'static, PIO0, 0>>;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_rp::init(Default::default());

    // The radio: power on GP23, chip select GP25, data GP24, clock GP29.
    let power = Output::new(p.PIN_23, Level::Low);
    let cs = Output::new(p.PIN_25, Level::High);
    let mut pio = Pio::new(p.PIO0, Irqs);
    let spi = PioSpi::new(
        &mut pio.common,
        pio.sm0,
        DEFAULT_CLOCK_DIVIDER,
        pio.irq0,
        cs,
        p.PIN_24,
        p.PIN_29,
        dma::Channel::new(p.DMA_CH0, Irqs),
    );
    static RADIO: StaticCell<cyw43::State> = StaticCell::new();
    let (device, mut control, runner) =
        cyw43::new(RADIO.init(cyw43::State::new()), power, spi, FIRMWARE, NVRAM).await;
    spawner.spawn(radio(runner).expect("one radio task"));
    control.init(CLM).await;
    control
        .set_power_management(cyw43::PowerManagementMode::PowerSave)
        .await;

    static RESOURCES: StaticCell<StackResources<{ board_common::STACK_SOCKETS }>> =
        StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        RoscRng.next_u64(),
    );
    spawner.spawn(net(runner).expect("one net task"));
    board_common::serve!(spawner, stack, ota: OtaSink = ota(Flash::new_blocking(p.FLASH)));

    while control
        .join(WIFI_SSID, JoinOptions::new(WIFI_PASSWORD.as_bytes()))
        .await
        .is_err()
    {
        Timer::after_secs(1).await;
    }

    let pins = [
        Output::new(p.PIN_13, Level::Low),
        Output::new(p.PIN_14, Level::Low),
        Output::new(p.PIN_15, Level::Low),
    ];
    spawner.spawn(leds(control, pins).expect("one led task"));
}

/// The OTA sink over the DFU and state partitions; the running firmware marked booted.
fn ota(flash: BoardFlash) -> &'static OtaLock<OtaSink> {
    static FLASH: StaticCell<FlashLock<BoardFlash>> = StaticCell::new();
    let flash = FLASH.init(FlashLock::new(flash.into()));
    let mut sink = FlashSink::new(
        Partition::new(flash, DFU.0, DFU.1),
        Partition::new(flash, STATE.0, STATE.1),
    );
    // An image the bootloader has just swapped in, running: keep it. (A flash error here
    // leaves the mark as it was: the bootloader reverts at the next reset.)
    let _ = sink.mark_booted();
    static OTA: StaticCell<OtaLock<OtaSink>> = StaticCell::new();
    OTA.init(OtaLock::new(sink))
}

/// cyw43: moves frames and commands between the radio and the driver.
#[embassy_executor::task]
async fn radio(runner: cyw43::Runner<'static, Radio>) -> ! {
    runner.run().await
}

/// embassy-net: moves frames between the radio and the sockets, runs TCP's timers and DHCP.
#[embassy_executor::task]
async fn net(mut runner: embassy_net::Runner<'static, cyw43::NetDriver<'static>>) -> ! {
    runner.run().await
}

/// The demo's LED 0 on the board's LED (the radio's GPIO 0, a command to the radio), 1-3
/// on `pins`.
#[embassy_executor::task]
async fn leds(mut control: cyw43::Control<'static>, mut pins: [Output<'static>; 3]) -> ! {
    let mut watch = board_common::LedWatch::new();
    loop {
        match watch.changed().await {
            (0, on) => control.gpio_set(0, on).await,
            (id, on) => {
                if let Some(pin) = pins.get_mut(usize::from(id) - 1) {
                    // A GPIO output cannot fail (its error is `Infallible`).
                    let _ = pin.set_state(PinState::from(on));
                }
            }
        }
    }
}
