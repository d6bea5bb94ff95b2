//! The demo app on a NUCLEO-F429ZI (STM32F429ZI, 2 MiB flash, 256 KiB RAM) over its
//! Ethernet port (RMII to the LAN8742A PHY), an address from DHCP, port 80.
//!
//! This file is the board's bring-up only: clocks (180 MHz from the ST-LINK's 8 MHz),
//! the MAC and its pins, the RNG for embassy-net's seed, the LED pins. Serving and the LEDs'
//! logic are `board-common`'s.
//!
//! OTA: `POST /ota` writes the image into the DFU partition (sectors 8-10) through
//! embassy-boot's updater and marks it in the state partition (sector 5); at the next reset
//! the bootloader, embassy-boot-stm32 at 0x08000000, swaps it into ACTIVE (sectors 6-7,
//! where this firmware is linked: `memory.x`). Once it runs, the new firmware marks itself
//! booted (else the next reset swaps back).
//!
//! LEDs: the demo's LED 0, 1, 2 are LD1 (green, PB0), LD2 (blue, PB7), LD3 (red, PB14);
//! LED 3 has no LED on this board.
#![no_std]
#![no_main]

use board_common::{FlashLock, FlashSink, OtaLock, Partition};
use embassy_executor::Spawner;
use embassy_net::StackResources;
use embassy_stm32::eth::{Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::flash::{Bank1Region3, Blocking, Flash};
use embassy_stm32::gpio::{Level, Output, Speed};
use embassy_stm32::peripherals::{ETH, ETH_SMA};
use embassy_stm32::rng::Rng;
use embassy_stm32::time::Hertz;
use embassy_stm32::{bind_interrupts, eth, peripherals, rng, Config};
use panic_halt as _;
use static_cell::StaticCell;

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<peripherals::RNG>;
});

/// Bank 1's 128 KiB sectors (5-11, from 0x08020000), where the state, ACTIVE and DFU
/// partitions are.
type OtaFlash = Bank1Region3<'static, Blocking>;
/// `POST /ota`'s way into the DFU partition (the flash writes 4 bytes at a time).
type OtaSink = FlashSink<Partition<OtaFlash>, Partition<OtaFlash>, 4>;
/// The state partition: sector 5, offset and size in the region.
const STATE: (u32, u32) = (0, 128 * 1024);
/// The DFU partition: sectors 8-10.
const DFU: (u32, u32) = (0x6_0000, 384 * 1024);

/// The MAC with the board's PHY.
type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    let p = embassy_stm32::init(clocks());

    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    rng.fill_bytes(&mut seed);

    // A locally administered MAC address from the chip's unique ID.
    let uid = embassy_stm32::uid::uid();
    let mac = [0x02, uid[0], uid[2], uid[4], uid[6], uid[8]];

    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,  // REF_CLK
        p.PA7,  // CRS_DV
        p.PC4,  // RXD0
        p.PC5,  // RXD1
        p.PG13, // TXD0
        p.PB13, // TXD1
        p.PG11, // TX_EN
        mac,
        p.ETH_SMA,
        p.PA2, // MDIO
        p.PC1, // MDC
    );

    static RESOURCES: StaticCell<StackResources<{ board_common::STACK_SOCKETS }>> =
        StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(net(runner).expect("one net task"));

    let ld1 = Output::new(p.PB0, Level::Low, Speed::Low);
    let ld2 = Output::new(p.PB7, Level::Low, Speed::Low);
    let ld3 = Output::new(p.PB14, Level::Low, Speed::Low);
    spawner.spawn(leds([ld1, ld2, ld3]).expect("one led task"));

    board_common::serve!(spawner, stack, ota: OtaSink = ota(Flash::new_blocking(p.FLASH)));
}

/// The OTA sink over the DFU and state partitions; the running firmware marked booted.
fn ota(flash: Flash<'static, Blocking>) -> &'static OtaLock<OtaSink> {
    static FLASH: StaticCell<FlashLock<OtaFlash>> = StaticCell::new();
    let flash = FLASH.init(FlashLock::new(
        flash.into_blocking_regions().bank1_region3.into(),
    ));
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

/// 180 MHz from the 8 MHz clock the ST-LINK gives the board (HSE bypass); the MAC needs
/// at least 25 MHz on AHB.
fn clocks() -> Config {
    use embassy_stm32::rcc::{
        AHBPrescaler, APBPrescaler, Hse, HseMode, Pll, PllMul, PllPDiv, PllPreDiv, PllSource,
        Sysclk,
    };
    let mut config = Config::default();
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL180,
        divp: Some(PllPDiv::DIV2), // 8 MHz / 4 * 180 / 2 = 180 MHz
        divq: None,
        divr: None,
    });
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config.rcc.sys = Sysclk::PLL1_P;
    config
}

/// embassy-net: moves frames between the MAC and the sockets, runs TCP's timers and DHCP.
#[embassy_executor::task]
async fn net(mut runner: embassy_net::Runner<'static, Device>) -> ! {
    runner.run().await
}

/// The demo's LEDs 0-2 on LD1-LD3.
#[embassy_executor::task]
async fn leds(pins: [Output<'static>; 3]) -> ! {
    board_common::mirror_leds(pins).await
}
