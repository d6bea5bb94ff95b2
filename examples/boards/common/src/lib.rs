#![no_std]
#![forbid(unsafe_code)]
//! What the board examples (`examples/boards/*`) share, so that a board's own code is its
//! HAL bring-up (clocks, network interface, pins, flash) and one call:
//!
//! - [`serve!`]: the demo app (`demo-app`: the page, the LED API `/api/leds`, the device UI
//!   `/ui/`, `/events`, `/ws`, Basic auth on `/admin` and `/ota`) served on port 80 of an
//!   embassy-net [`Stack`] through embedded-responder's `io::embassy_net`: [`SOCKETS`]
//!   sockets and [`PLACES`] places, each a task, their buffers in statics made here.
//! - [`serve!`]`(.., ota: Sink = lock)`: the same with `POST /ota` written into the board's
//!   DFU partition through [`FlashSink`] (embassy-boot's updater) and `GET /ota/status`
//!   reading it back; the board makes the partitions ([`Partition`] over a [`FlashLock`]).
//! - [`LedWatch`] and [`mirror_leds`]: the demo's four LEDs (`demo_app::led_is_on`), as
//!   `PUT /api/leds/{id}` sets them, shown on the board's pins.
//!
//! The stack must have room for [`STACK_SOCKETS`] sockets (the server's, its SYN guard and
//! DHCP's): `StackResources<{ board_common::STACK_SOCKETS }>`.

use core::cell::RefCell;

use embassy_executor::{SpawnError, SpawnToken, Spawner};
use embassy_net::Stack;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::blocking_mutex::Mutex;
use embassy_time::{Duration, Ticker};
use embedded_hal::digital::{OutputPin, PinState};
use embedded_responder::io::embassy_net::{Config, Place, Server, Socket, State};
use embedded_responder::AsyncHandler;
use static_cell::{ConstStaticCell, StaticCell};

pub use demo_app::{FirmwareSink, OtaLock};
pub use ota::FlashSink;

/// A board's flash (or a region of it), shared by its partitions.
pub type FlashLock<F> = Mutex<CriticalSectionRawMutex, RefCell<F>>;
/// A partition (DFU, state) of a [`FlashLock`]ed flash: `Partition::new(&lock, offset, size)`.
pub type Partition<F> =
    embassy_embedded_hal::flash::partition::BlockingPartition<'static, CriticalSectionRawMutex, F>;

/// Listening sockets: more than places, so that a browser's six connections, and a
/// second browser's, find one listening.
pub const SOCKETS: usize = 12;
/// Connections served at once (each holds its buffers and the driver's future).
pub const PLACES: usize = 8;
/// Each socket's receive and transmit buffers (smoltcp's windows).
pub const SOCKET_RX: usize = 1024;
pub const SOCKET_TX: usize = 1024;
/// Each place's receive buffer (a request head must fit) and transmit buffer.
pub const RX: usize = 1024;
pub const TX: usize = 512;
/// Header lines a request may have (a browser sends about 15).
pub const HEADERS: usize = 24;
/// The sockets the board's `StackResources` must hold: the server's, the SYN guard's raw
/// socket and DHCP's.
pub const STACK_SOCKETS: usize = SOCKETS + 2;
/// The HTTP port.
pub const PORT: u16 = 80;

/// The password of `/admin` and `/ota` (user `admin`): `ADMIN_PASSWORD` at build time, or
/// the demo's default (`admin`).
pub const ADMIN_PASSWORD: &str = match option_env!("ADMIN_PASSWORD") {
    Some(password) => password,
    None => demo_app::ADMIN_PASSWORD,
};

/// A socket of the boards' server, as its task is handed it.
pub type HttpSocket = Socket<'static, SOCKETS, PLACES>;
/// A place of the boards' server, as its task is handed it.
pub type HttpPlace = Place<'static, SOCKETS, PLACES, HEADERS>;

type HttpServer = Server<SOCKETS, PLACES, SOCKET_RX, SOCKET_TX, RX, TX, HEADERS>;
/// The server's buffers, zeroed at compile time (in `.bss`: made at run time they would
/// pass through the stack).
static SERVER: ConstStaticCell<HttpServer> = ConstStaticCell::new(Server::new());
/// What its sockets and places share (made at run time: the sockets are not `Send`).
static STATE: StaticCell<State<'static, SOCKETS, PLACES>> = StaticCell::new();
/// The library's defaults on [`PORT`].
static HTTP: Config = Config::new(PORT);

/// The demo app as every board serves it: [`ADMIN_PASSWORD`], the demo's CORS origins, and
/// `POST /ota` checked and discarded (no partition given).
pub fn app() -> impl AsyncHandler {
    demo_app::app_with(ADMIN_PASSWORD, demo_app::CORS_ORIGINS)
}

/// The demo app with `POST /ota` into `ota` (a board's [`FlashSink`]) and `GET /ota/status`
/// reading it back.
pub fn app_with_ota<S: FirmwareSink + Send + 'static>(
    ota: &'static OtaLock<S>,
) -> impl AsyncHandler {
    demo_app::app_with_ota(ADMIN_PASSWORD, demo_app::CORS_ORIGINS, ota)
}

/// Serve the app `$make_app` makes (a path to a `fn() -> impl AsyncHandler`, such as
/// [`app`]) on `$stack` (an `embassy_net::Stack<'static>`), port [`PORT`]: defines the
/// socket and place tasks (a task fn cannot be generic, and the app's type is the board's)
/// and spawns them with `$spawner`. Once, after the stack is made (it need not be up).
/// The board depends on `embassy-executor` (the task macro names it).
///
/// `serve!(spawner, stack, ota: Sink = lock)` serves [`app_with_ota`]`(lock)` instead, `lock`
/// an `&'static OtaLock<Sink>`.
#[macro_export]
macro_rules! serve {
    ($spawner:expr, $stack:expr, ota: $sink:ty = $ota:expr) => {{
        /// One of the server's sockets: listens, queues its connection for a place, closes.
        #[embassy_executor::task(pool_size = $crate::SOCKETS)]
        async fn http_socket(socket: $crate::HttpSocket) -> ! {
            socket.run().await
        }
        /// One of the server's places: serves one connection after another, `POST /ota`
        /// into `ota`.
        #[embassy_executor::task(pool_size = $crate::PLACES)]
        async fn http_place(place: $crate::HttpPlace, ota: &'static $crate::OtaLock<$sink>) -> ! {
            place.run(&|| $crate::app_with_ota(ota)).await
        }
        let ota: &'static $crate::OtaLock<$sink> = $ota;
        $crate::spawn_server($spawner, $stack, http_socket, move |place| {
            http_place(place, ota)
        })
    }};
    ($spawner:expr, $stack:expr, $make_app:path) => {{
        /// One of the server's sockets: listens, queues its connection for a place, closes.
        #[embassy_executor::task(pool_size = $crate::SOCKETS)]
        async fn http_socket(socket: $crate::HttpSocket) -> ! {
            socket.run().await
        }
        /// One of the server's places: serves one connection after another.
        #[embassy_executor::task(pool_size = $crate::PLACES)]
        async fn http_place(place: $crate::HttpPlace) -> ! {
            place.run(&$make_app).await
        }
        $crate::spawn_server($spawner, $stack, http_socket, http_place)
    }};
}

/// Split the server on `stack` and spawn a `socket` task for each socket and a `place` task
/// for each place ([`serve!`] calls it with the tasks it defines).
///
/// Panics if called twice (the server's statics are taken), or if a task's pool is full
/// (it is sized for them).
pub fn spawn_server<S, P>(
    spawner: Spawner,
    stack: Stack<'static>,
    socket: impl Fn(HttpSocket) -> Result<SpawnToken<S>, SpawnError>,
    place: impl Fn(HttpPlace) -> Result<SpawnToken<P>, SpawnError>,
) {
    let (sockets, places) = SERVER.take().split(STATE.init(State::new()), stack, &HTTP);
    for s in sockets {
        spawner.spawn(socket(s).expect("socket pool sized for SOCKETS"));
    }
    for p in places {
        spawner.spawn(place(p).expect("place pool sized for PLACES"));
    }
}

/// How often the LEDs' states are checked.
pub const LED_POLL_MS: u64 = 20;
/// The demo's LEDs (`/api/leds/0` to `/api/leds/3`).
pub const LEDS: u8 = 4;

/// Watches the demo's LEDs for changes: [`LedWatch::changed`] answers each LED whose state
/// differs from the one it last answered (every LED once at first, to set the pins).
#[derive(Debug)]
pub struct LedWatch {
    shown: [Option<bool>; LEDS as usize],
    ticker: Ticker,
}

impl LedWatch {
    /// A watch that has shown nothing yet.
    pub fn new() -> Self {
        LedWatch {
            shown: [None; LEDS as usize],
            ticker: Ticker::every(Duration::from_millis(LED_POLL_MS)),
        }
    }

    /// The next LED whose state changed, and its state (checked every [`LED_POLL_MS`]).
    pub async fn changed(&mut self) -> (u8, bool) {
        loop {
            for (id, shown) in (0..LEDS).zip(&mut self.shown) {
                let on = demo_app::led_is_on(id);
                if *shown != Some(on) {
                    *shown = Some(on);
                    return (id, on);
                }
            }
            self.ticker.next().await;
        }
    }
}

impl Default for LedWatch {
    fn default() -> Self {
        Self::new()
    }
}

/// Show the demo's LEDs on `pins` (active high): pin `i` is LED `i`; with fewer than four
/// pins, the other LEDs are not shown. A board's LED task calls it.
pub async fn mirror_leds<P: OutputPin, const N: usize>(mut pins: [P; N]) -> ! {
    let mut watch = LedWatch::new();
    loop {
        let (id, on) = watch.changed().await;
        if let Some(pin) = pins.get_mut(usize::from(id)) {
            // A GPIO output of these HALs cannot fail (its error is `Infallible`).
            let _ = pin.set_state(PinState::from(on));
        }
    }
}
