//! HTTP over TCP port 80 on embassy: the executor (thread mode, no heap: every task lives in
//! a static pool sized by its future), embassy-time on SysTick ([`firmware::time`]),
//! embassy-net over the Stellaris MAC ([`firmware::enet_async`], interrupt-driven), and the
//! library's async driver (QEMU user network: the guest is 10.0.2.15; `run-qemu.sh embassy
//! PORT` forwards a host port to it).
//!
//! HTTP is served through the library's embassy-net server (`io::embassy_net::Server`):
//! [`SOCKETS`] sockets listen (a task each), [`PLACES`] places (a task each) serve
//! their connections at once, streams included (an endless event stream holds one place,
//! not the firmware), oldest first; a connection that waits too long for a place is answered 503, and
//! a SYN that finds every socket busy is dropped (the client sends it again) rather than
//! reset. A sensor task publishes a reading every [`SENSOR_MS`] through an embassy-sync
//! `Watch`; `GET /sensor` (Server-Sent Events) and `GET /ws/sensor` (a WebSocket) push each
//! new reading to their client, from whichever place serves it.
//!
//! The library logs one line per exchange to UART0 (feature `log`, [`firmware::logger`];
//! `run-qemu.sh` prints it).
//!
//! Routes: the app every binary serves (`/`, `/echo`, `/stats`, 404, 405), the streaming
//! routes of the `ethernet` firmware (`/upload`, `/events`, `/ws`, `/ws/ticks`), the sensor
//! routes, and `GET /stats/async`: the size of one connection's futures.
#![no_std]
#![no_main]

use core::mem::size_of;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::NVIC;
use cortex_m_rt::entry;
use demo_app as demo;
use embassy_executor::Executor;
use embassy_futures::select::{select, Either};
use embassy_net::tcp::TcpSocket;
use embassy_net::{Ipv4Address, Ipv4Cidr, Runner, StackResources, StaticConfigV4};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::watch::Watch;
use embassy_time::{Duration, Instant, Ticker};
use embedded_responder::auth::BasicAuth;
use embedded_responder::io::asynch;
use embedded_responder::io::embassy_net::{Config, EmbassyTimer, Place, Server, Socket, State};
use embedded_responder::sse::{decimal, Event};
use embedded_responder::ws::Handshake;
use embedded_responder::AsyncHandler;
use embedded_responder::{
    get, get_async, post_async, Connection, Request, Responded, Responder, Status,
};
use firmware::app::{self, Stats};
use firmware::enet::Enet;
use firmware::hostflash::{self, HostFlash};
use firmware::{clock, enet_async, irq, logger, stack};
use static_cell::{ConstStaticCell, StaticCell};

/// Sockets: more than places, so that a browser's six connections, and another's, find one
/// listening (a socket that is closing does not listen).
const SOCKETS: usize = 12;
/// Connections served at once; each takes its buffers and the driver's future.
const PLACES: usize = 8;
const SOCKET_RX: usize = 640;
const SOCKET_TX: usize = 640;
const RX: usize = 1024;
const TX: usize = 512;
/// Header lines per request (a browser sends about 15).
const HEADERS: usize = 24;
/// The guest's address on QEMU's user network, its gateway, and the HTTP port.
const ADDRESS: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
const PORT: u16 = 80;
/// Largest `POST /upload` body: no limit but the request deadline (the CRC needs no room).
const UPLOAD_LIMIT: u64 = u64::MAX;
/// The largest WebSocket message `/ws`, `/ws/ticks` and `/ws/sensor` take (larger: close 1009).
const WS_LIMIT: u64 = 1024;
/// The WebSocket handlers move messages a piece of this size at a time (in their future).
const WS_PIECE: usize = 128;
/// How often the sensor task publishes a reading.
const SENSOR_MS: u64 = 100;
/// The admin's credentials for `POST /ota` (the demo's: user `admin`).
const ADMIN: (&str, &str) = ("admin", demo::ADMIN_PASSWORD);
/// Largest `POST /ota` body: the image, and a multipart form's delimiters and part heads.
const OTA_BODY_LIMIT: u64 = hostflash::DFU_SIZE as u64 + 4096;
/// Room for the head of a multipart part (a browser's is about 150 bytes).
const OTA_PART_HEAD: usize = 256;

/// `POST /ota`'s way into the DFU partition: embassy-boot's updater over the host file.
type OtaSink = ota::FlashSink<HostFlash, HostFlash, { hostflash::WRITE_SIZE }>;
static OTA: StaticCell<demo::OtaLock<OtaSink>> = StaticCell::new();

/// The HTTP server: its sockets' and places' buffers, initialised at compile time (built at
/// run time, they would pass through the stack).
type HttpServer = Server<SOCKETS, PLACES, SOCKET_RX, SOCKET_TX, RX, TX, HEADERS>;
static SERVER: ConstStaticCell<HttpServer> = ConstStaticCell::new(Server::new());
/// What its sockets and places share (made at run time: the sockets are not `Send`).
static STATE: StaticCell<State<'static, SOCKETS, PLACES>> = StaticCell::new();
/// How it serves: on [`PORT`], counting responses for `/stats`.
static HTTP: Config = Config {
    on_response: Some(|_| STATS.responded()),
    ..Config::new(PORT)
};

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 43] = {
    let mut table = [irq::wake as unsafe extern "C" fn(); 43];
    table[irq::ETHERNET.0 as usize] = enet_async::interrupt;
    table
};

/// A reading of the "sensor": its sequence number and the uptime it was taken at.
#[derive(Debug, Clone, Copy)]
struct Reading {
    seq: u64,
    uptime_ms: u64,
}

/// The latest reading; one receiver per place at most.
static SENSOR: Watch<CriticalSectionRawMutex, Reading, PLACES> = Watch::new();
/// Shown at `/stats` (all tasks count into it).
static STATS: Stats = Stats::new();
/// Shown at `/stats/async`: the driver's future with this app, and with the router alone
/// (the sync routes every binary serves), as `main` measures their types.
static SERVE_FUTURE: AtomicU32 = AtomicU32::new(0);
static SERVE_FUTURE_ROUTER: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);
    // The library's line per exchange (debug), refusals (info) and failures (warn).
    logger::init(log::LevelFilter::Debug);
    log::info!("embassy firmware: {SOCKETS} sockets, {PLACES} places on {ADDRESS}:{PORT}");
    // The partitions (a file on the host, through semihosting) and their updater.
    let ota: &'static demo::OtaLock<OtaSink> = match HostFlash::open() {
        Ok((dfu, state)) => OTA.init(demo::OtaLock::new(ota::FlashSink::new(dfu, state))),
        Err(_) => {
            log::warn!("no OTA partition file: is semihosting on?");
            cortex_m::asm::udf()
        }
    };
    SERVE_FUTURE.store(serve_future_size(&|| firmware_app(ota)), Ordering::Relaxed);
    SERVE_FUTURE_ROUTER.store(serve_future_size(&|| app::app(&STATS)), Ordering::Relaxed);

    // In statics, initialised at compile time: built at run time, they would pass through
    // the stack (6 KB of it), which the tasks do not otherwise need.
    static MAC: ConstStaticCell<Enet> = ConstStaticCell::new(Enet::UNSTARTED);
    // The server's sockets and its SYN guard.
    static RESOURCES: ConstStaticCell<StackResources<{ SOCKETS + 1 }>> =
        ConstStaticCell::new(StackResources::new());
    let mac = MAC.take();
    mac.start();
    let resources = RESOURCES.take();
    let config = embassy_net::Config::ipv4_static(StaticConfigV4 {
        address: Ipv4Cidr::new(ADDRESS, 24),
        gateway: Some(GATEWAY),
        dns_servers: Default::default(),
    });
    let (stack, runner) = embassy_net::new(mac, config, resources, 0x5DEE_CE66_D1CE_4E5B);
    // SAFETY: the line's handler (`enet_async::interrupt`) shares only an `AtomicWaker` and
    // the MAC's interrupt mask with the tasks, so unmasking it breaks no critical section.
    unsafe { NVIC::unmask(irq::ETHERNET) };

    let executor =
        cortex_m::singleton!(: Executor = Executor::new()).unwrap_or_else(|| unreachable!());
    executor.run(|spawner| {
        spawner.spawn(net(runner).unwrap_or_else(|_| unreachable!()));
        spawner.spawn(sensor().unwrap_or_else(|_| unreachable!()));
        let (sockets, places) = SERVER.take().split(STATE.init(State::new()), stack, &HTTP);
        for socket in sockets {
            spawner.spawn(http_socket(socket).unwrap_or_else(|_| unreachable!()));
        }
        for place in places {
            spawner.spawn(http_place(place, ota).unwrap_or_else(|_| unreachable!()));
        }
    })
}

/// The network stack: moves frames between the MAC and the sockets, runs TCP's timers.
#[embassy_executor::task]
async fn net(mut runner: Runner<'static, &'static mut Enet>) -> ! {
    runner.run().await
}

/// The "sensor": publishes a reading every [`SENSOR_MS`].
#[embassy_executor::task]
async fn sensor() -> ! {
    let mut ticker = Ticker::every(Duration::from_millis(SENSOR_MS));
    let sender = SENSOR.sender();
    for seq in 1.. {
        sender.send(Reading {
            seq,
            uptime_ms: Instant::now().as_millis(),
        });
        ticker.next().await;
    }
    unreachable!()
}

/// One of the HTTP server's sockets: listens, queues its connection for a place, closes.
#[embassy_executor::task(pool_size = SOCKETS)]
async fn http_socket(socket: Socket<'static, SOCKETS, PLACES>) -> ! {
    socket.run().await
}

/// One of the HTTP server's places: serves a connection after another.
#[embassy_executor::task(pool_size = PLACES)]
async fn http_place(
    place: Place<'static, SOCKETS, PLACES, HEADERS>,
    ota: &'static demo::OtaLock<OtaSink>,
) -> ! {
    place.run(&|| firmware_app(ota)).await
}

/// The size of the driver's future serving `make_app`'s apps over a socket, as the server's
/// places hold it (its type's size: nothing is made or run).
fn serve_future_size<A: AsyncHandler + 'static>(_make_app: &dyn Fn() -> A) -> u32 {
    fn size<A: 'static, R>(
        _serve: &impl FnOnce(
            &'static mut TcpSocket<'static>,
            &'static mut Connection<'static, HEADERS>,
            &'static mut A,
            &'static mut (),
        ) -> R,
    ) -> u32 {
        size_of::<R>() as u32
    }
    size::<A, _>(&|socket, conn, app, hooks| asynch::serve(socket, conn, app, &EmbassyTimer, hooks))
}

/// The app: the routes every binary serves (blocking handlers), and the ones that await, in
/// one router; `POST /ota` writes into `ota`.
fn firmware_app(ota: &'static demo::OtaLock<OtaSink>) -> impl AsyncHandler {
    app::app(&STATS)
        .route(
            "/upload",
            post_async(demo::upload).stream_body(UPLOAD_LIMIT),
        )
        .route("/events", get_async(demo::events))
        .route("/sensor", get_async(sensor_events))
        .route(
            "/ws",
            get_async(async |req, res| demo::ws_echo_within::<WS_PIECE>(req, res, WS_LIMIT).await),
        )
        .route(
            "/ws/ticks",
            get_async(async |req, res| demo::ws_ticks_within::<WS_PIECE>(req, res, WS_LIMIT).await),
        )
        .route("/ws/sensor", get_async(ws_sensor))
        .route("/stats/async", get(async_stats))
        .route(
            "/ota",
            post_async(async move |req, res| {
                let Ok(auth) = BasicAuth::new("device admin", ADMIN.0, ADMIN.1) else {
                    return res.status(Status::INTERNAL_SERVER_ERROR);
                };
                if !auth.check(req) {
                    // 401 before a byte of the image is read.
                    return auth.challenge(res);
                }
                demo::ota_into::<OtaSink, OTA_PART_HEAD>(req, res, ota).await
            })
            .stream_body(OTA_BODY_LIMIT),
        )
        .route(
            "/ota/status",
            get(move |req, res| demo::ota_status(req, res, ota)),
        )
        .route("/many", get(|_req, res| res.html(MANY_PAGE)))
        .route(
            "/dot.svg",
            get(|_req, res| res.ok("image/svg+xml", DOT_SVG.as_bytes())),
        )
}

/// `GET /many`: a page of twelve images, which a browser fetches in parallel over several
/// connections (the oversubscription check loads it).
const MANY_PAGE: &str = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Twelve</title></head><body>\n\
<h1>Twelve images</h1>\n\
<img src=\"/dot.svg?1\"><img src=\"/dot.svg?2\"><img src=\"/dot.svg?3\"><img src=\"/dot.svg?4\">\n\
<img src=\"/dot.svg?5\"><img src=\"/dot.svg?6\"><img src=\"/dot.svg?7\"><img src=\"/dot.svg?8\">\n\
<img src=\"/dot.svg?9\"><img src=\"/dot.svg?10\"><img src=\"/dot.svg?11\"><img src=\"/dot.svg?12\">\n\
</body></html>\n";

/// `GET /dot.svg`: a small image.
const DOT_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"48\" height=\"48\">\
<circle cx=\"24\" cy=\"24\" r=\"20\" fill=\"#1f5fbf\"/></svg>\n";

/// `{"seq":<n>,"uptime_ms":<ms>}`.
fn reading_json(reading: Reading) -> heapless::String<64> {
    let (mut seq, mut uptime) = ([0u8; 20], [0u8; 20]);
    let mut json = heapless::String::new();
    for part in [
        "{\"seq\":",
        decimal(reading.seq, &mut seq),
        ",\"uptime_ms\":",
        decimal(reading.uptime_ms, &mut uptime),
        "}",
    ] {
        // 64 bytes hold two 20-digit numbers and the keys.
        let _ = json.push_str(part);
    }
    json
}

/// `GET /sensor?count=K`: Server-Sent Events, one `sensor` event per reading the sensor task
/// publishes (the latest at once), `id` its sequence number; K events, or until the client
/// leaves.
async fn sensor_events<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let count = req
        .query()
        .and_then(|q| embedded_responder::target::form_value(q, "count"))
        .map_or(Some(u64::MAX), parse_count);
    let (Some(count), Some(mut readings)) = (count, SENSOR.receiver()) else {
        return res.status(Status::BAD_REQUEST);
    };
    let mut events = res.event_stream();
    for _ in 0..count {
        let reading = readings.changed().await;
        let data = reading_json(reading);
        let mut id = [0u8; 20];
        let event = Event::new(&data)
            .event("sensor")
            .id(decimal(reading.seq, &mut id));
        if events.send_async(&event).await.is_err() {
            return events.abort();
        }
    }
    events.finish_async().await
}

/// Digits only, no overflow.
fn parse_count(raw: &str) -> Option<u64> {
    if raw.is_empty() {
        return None;
    }
    raw.bytes().try_fold(0u64, |n, b| {
        let digit = u64::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// `GET /ws/sensor`: a WebSocket that sends every reading as a text message
/// `{"seq":<n>,"uptime_ms":<ms>}` (the latest at once); what the client sends is read and
/// dropped; it ends when the client closes.
async fn ws_sensor<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let Some(mut readings) = SENSOR.receiver() else {
        return res.status(Status::SERVICE_UNAVAILABLE);
    };
    let mut ws = match Handshake::new(req) {
        Ok(handshake) => handshake.accept(res, None, WS_LIMIT),
        Err(refusal) => return refusal.respond(res),
    };
    let mut piece = [0u8; 64];
    loop {
        // Receiving is cancel-safe: a reading that comes first loses no byte of a message.
        match select(readings.changed(), ws.receive_part_async(&mut piece)).await {
            Either::First(reading) => {
                if ws.send_text_async(&reading_json(reading)).await.is_err() {
                    break;
                }
            }
            Either::Second(Ok(_)) => {}
            Either::Second(Err(_)) => break,
        }
    }
    ws.finish_async().await
}

/// `GET /stats/async`: the size of one connection's driver future (`serve`, with this app's
/// handlers in it; the buffers it borrows not included), and of the same with the router
/// alone, as measured by the tasks. (A whole server task, buffers included, is its pool's
/// static: `footprint.sh` reads it.)
fn async_stats<'a>(_req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    res.start(Status::OK)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body_with(|w| {
            w.push_str("sockets ");
            w.push_u64(SOCKETS as u64);
            w.push_str("\nplaces ");
            w.push_u64(PLACES as u64);
            w.push_str("\nsocket_buffers ");
            w.push_u64((SOCKET_RX + SOCKET_TX) as u64);
            w.push_str("\nplace_buffers ");
            w.push_u64((RX + TX) as u64);
            w.push_str("\nserve_future ");
            w.push_u64(u64::from(SERVE_FUTURE.load(Ordering::Relaxed)));
            w.push_str("\nserve_future_router ");
            w.push_u64(u64::from(SERVE_FUTURE_ROUTER.load(Ordering::Relaxed)));
            w.push_str("\n");
        })
}
