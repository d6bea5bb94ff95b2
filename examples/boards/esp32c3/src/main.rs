//! The demo app on an ESP32-C3 (RV32IMC, 400 KiB SRAM, 4 MiB flash on the usual modules)
//! over Wi-Fi: a station of the network `WIFI_SSID` with `WIFI_PASSWORD` (WPA2; both read at
//! build time), an address from DHCP, port 80.
//!
//! This file is the board's bring-up only: clocks, the scheduler esp-radio runs on, the
//! radio's heap, the Wi-Fi station, the LED pins. Serving and the LEDs' logic are
//! `board-common`'s.
//!
//! Flash (`partitions.csv`, 4 MiB): the ESP-IDF second-stage bootloader boots the OTA app
//! partition `otadata` selects (`ota_0`, 0x20000, where espflash writes this firmware, while
//! `otadata` is blank). `POST /ota` writes the image into the other one (`ota_1` when running
//! from `ota_0`, and the other way round; 1,920 KiB each) and, when it is whole, selects it in
//! `otadata`, so that the bootloader boots it at the next reset; at start-up the running image
//! marks itself valid there (`ota.rs`). `GET /ota/status` reads the written image back.
//!
//! LEDs: the demo's LEDs 0-3 are GPIO4, GPIO5, GPIO6, GPIO7 (an LED and a resistor each, to
//! ground; the DevKits' own LED is an addressable RGB LED, not a plain pin).
#![no_std]
#![no_main]

use board_common::OtaLock;
use embassy_executor::Spawner;
use embassy_net::StackResources;
use embassy_time::Timer;
use esp_hal::clock::CpuClock;
use esp_hal::gpio::{AnyPin, Level, Output, OutputConfig};
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config, ControllerConfig, Interface, WifiController,
};
use esp_storage::FlashStorage;
use static_cell::StaticCell;

mod ota;

esp_bootloader_esp_idf::esp_app_desc!();

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

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    let peripherals = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // The OTA partitions from the partition table; the running image marked valid in
    // otadata. If otadata cannot be read or written the selection stays as the bootloader
    // left it, and `GET /ota/status` answers 500.
    let mut sink = ota::IdfSink::new(FlashStorage::new(peripherals.FLASH))
        .expect("a partition table with otadata and two OTA app partitions, running from one");
    let _ = sink.mark_valid();
    // esp-radio's heap (as esp-hal's Wi-Fi examples size it): the RAM the ROM bootloader
    // used, and 36 KiB more.
    esp_alloc::heap_allocator!(#[esp_hal::ram(reclaimed)] size: 64 * 1024);
    esp_alloc::heap_allocator!(size: 36 * 1024);
    let timg0 = TimerGroup::new(peripherals.TIMG0);
    esp_rtos::start(timg0.timer0, peripherals.FROM_CPU_INTR0);

    let station = Config::Station(
        StationConfig::default()
            .with_ssid(WIFI_SSID.try_into().expect("an SSID of at most 32 bytes"))
            .with_authentication(AuthenticationMethodConfig::Wpa2Personal(
                WIFI_PASSWORD
                    .try_into()
                    .expect("a passphrase of at most 64 bytes"),
            )),
    );
    let controller = WifiController::new(
        peripherals.WIFI,
        ControllerConfig::default().with_initial_config(station),
    )
    .expect("the Wi-Fi driver starts");

    let rng = Rng::new();
    let seed = (u64::from(rng.random()) << 32) | u64::from(rng.random());
    static RESOURCES: StaticCell<StackResources<{ board_common::STACK_SOCKETS }>> =
        StaticCell::new();
    let (stack, runner) = embassy_net::new(
        Interface::station(),
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    spawner.spawn(wifi(controller).expect("one wifi task"));
    spawner.spawn(net(runner).expect("one net task"));

    let led = |pin: AnyPin<'static>| Output::new(pin, Level::Low, OutputConfig::default());
    let pins = [
        led(peripherals.GPIO4.into()),
        led(peripherals.GPIO5.into()),
        led(peripherals.GPIO6.into()),
        led(peripherals.GPIO7.into()),
    ];
    spawner.spawn(leds(pins).expect("one led task"));

    static OTA: StaticCell<OtaLock<ota::IdfSink>> = StaticCell::new();
    board_common::serve!(spawner, stack, ota: ota::IdfSink = OTA.init(OtaLock::new(sink)));
    loop {
        Timer::after_secs(3600).await;
    }
}

/// Joins the network, and joins it again whenever it is lost (after 5 s).
#[embassy_executor::task]
async fn wifi(mut controller: WifiController<'static>) -> ! {
    loop {
        if controller.connect_async().await.is_ok() {
            let _ = controller.wait_for_disconnect_async().await;
        }
        Timer::after_secs(5).await;
    }
}

/// embassy-net: moves frames between the radio and the sockets, runs TCP's timers and DHCP.
#[embassy_executor::task]
async fn net(mut runner: embassy_net::Runner<'static, Interface>) -> ! {
    runner.run().await
}

/// The demo's LEDs 0-3 on GPIO4-GPIO7.
#[embassy_executor::task]
async fn leds(pins: [Output<'static>; 4]) -> ! {
    board_common::mirror_leds(pins).await
}

/// A panic stops the board (the watchdog, if enabled, restarts it).
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
