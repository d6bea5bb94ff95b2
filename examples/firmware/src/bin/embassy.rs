//! HTTP over TCP port 80 on embassy: the executor (thread mode, no heap: every task lives in
//! a static pool sized by its future), embassy-time on SysTick ([`firmware::time`]),
//! embassy-net over the Stellaris MAC ([`firmware::enet_async`], interrupt-driven), and the
//! library's async driver (QEMU user network: the guest is 10.0.2.15; `run-qemu.sh embassy
//! PORT` forwards a host port to it).
//!
//! [`SERVERS`] server tasks each own a socket and its buffers and serve one connection at a
//! time, so that many are served at once, streams included: an endless event stream holds
//! one task, not the firmware. A sensor task publishes a reading every [`SENSOR_MS`] through
//! an embassy-sync `Watch`; `GET /sensor` (Server-Sent Events) and `GET /ws/sensor` (a
//! WebSocket) push each new reading to their client, from whichever server task serves it.
//!
//! The library logs one line per exchange to UART0 (feature `log`, [`firmware::logger`];
//! `run-qemu.sh` prints it).
//!
//! Routes: the app every binary serves (`/`, `/echo`, `/stats`, 404, 405), the streaming
//! routes of the `ethernet` firmware (`/upload`, `/events`, `/ws`, `/ws/ticks`), the sensor
//! routes, and `GET /stats/async`: the size of one connection's futures.
#![no_std]
#![no_main]

use core::mem::size_of_val;
use core::pin::pin;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::NVIC;
use cortex_m_rt::entry;
use demo_app as demo;
use embassy_executor::Executor;
use embassy_futures::select::{select, Either};
use embassy_net::tcp::{State, TcpSocket};
use embassy_net::{Ipv4Address, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4};
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::watch::Watch;
use embassy_time::{with_timeout, Duration, Instant, Ticker};
use embedded_responder::io::asynch;
use embedded_responder::io::Hooks;
use embedded_responder::sse::{decimal, Event};
use embedded_responder::ws::Handshake;
use embedded_responder::AsyncHandler;
use embedded_responder::{
    get, get_async, post_async, Connection, Exchange, Limits, Request, Responded, Responder,
    Status, Timeouts,
};
use firmware::app::{self, Stats};
use firmware::enet::Enet;
use firmware::{clock, enet_async, irq, logger, stack};
use static_cell::ConstStaticCell;

/// Server tasks, each with one socket: as many connections are served at once. More than
/// the clients expected at once, as a socket that is closing does not listen.
const SERVERS: usize = 10;
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
/// After a connection, how long its socket waits for the peer to close before resetting.
const LINGER: Duration = Duration::from_secs(2);
/// Unacknowledged data for this long ends a connection (a peer that vanished).
const TCP_TIMEOUT: Duration = Duration::from_secs(10);

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

/// The latest reading; one receiver per server task at most.
static SENSOR: Watch<CriticalSectionRawMutex, Reading, SERVERS> = Watch::new();
/// Shown at `/stats` (all tasks count into it).
static STATS: Stats = Stats::new();
/// Shown at `/stats/async`, measured by the server tasks: the driver's future with this
/// app, and with the router alone (the sync routes every binary serves).
static SERVE_FUTURE: AtomicU32 = AtomicU32::new(0);
static SERVE_FUTURE_ROUTER: AtomicU32 = AtomicU32::new(0);

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);
    // The library's line per exchange (debug), refusals (info) and failures (warn).
    logger::init(log::LevelFilter::Debug);
    log::info!("embassy firmware: {SERVERS} server tasks on {ADDRESS}:{PORT}");

    // In statics, initialised at compile time: built at run time, they would pass through
    // the stack (6 KB of it), which the tasks do not otherwise need.
    static MAC: ConstStaticCell<Enet> = ConstStaticCell::new(Enet::UNSTARTED);
    static RESOURCES: ConstStaticCell<StackResources<SERVERS>> =
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
        for _ in 0..SERVERS {
            spawner.spawn(server(stack).unwrap_or_else(|_| unreachable!()));
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

/// One server: its socket and buffers, serving one connection after another with the
/// library's async driver.
#[embassy_executor::task(pool_size = SERVERS)]
async fn server(stack: Stack<'static>) -> ! {
    let (mut socket_rx, mut socket_tx) = ([0u8; SOCKET_RX], [0u8; SOCKET_TX]);
    let (mut rx, mut tx) = ([0u8; RX], [0u8; TX]);
    let mut socket = TcpSocket::new(stack, &mut socket_rx, &mut socket_tx);
    socket.set_timeout(Some(TCP_TIMEOUT));
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, Limits::DEFAULT);
    let mut app = firmware_app();
    SERVE_FUTURE_ROUTER.store(
        router_future_size(&mut socket, &mut conn),
        Ordering::Relaxed,
    );
    loop {
        if socket.accept(PORT).await.is_ok() {
            let mut hooks = TaskHooks;
            // Pinned where it is made, so that awaiting it does not move it into a second slot.
            let served = pin!(asynch::serve(
                &mut socket,
                &mut conn,
                &mut app,
                &Clock,
                &mut hooks
            ));
            SERVE_FUTURE.store(size_of_val(&*served) as u32, Ordering::Relaxed);
            let _ = served.await;
        }
        close(&mut socket).await;
    }
}

/// The size of the driver's future serving the router alone (never polled: only its type's
/// size is taken).
fn router_future_size<const H: usize>(
    socket: &mut TcpSocket<'_>,
    conn: &mut Connection<'_, H>,
) -> u32 {
    let (mut router, mut hooks) = (app::app(&STATS), TaskHooks);
    let served = asynch::serve(socket, conn, &mut router, &Clock, &mut hooks);
    size_of_val(&served) as u32
}

/// Close the connection: our FIN after what is queued, then (for at most [`LINGER`]) read
/// and drop what the peer still sends until it closes too, so that it is not reset while
/// reading the response. Whatever state that leaves, the socket is then closed for the next
/// `accept`.
async fn close(socket: &mut TcpSocket<'_>) {
    socket.close();
    let _ = with_timeout(LINGER, async {
        let mut sink = [0u8; 64];
        while let Ok(n) = socket.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
        socket.flush().await
    })
    .await;
    if !matches!(socket.state(), State::Closed | State::TimeWait) {
        socket.abort();
        let _ = with_timeout(LINGER, socket.flush()).await;
    }
}

/// The library's clock: embassy-time.
struct Clock;

impl asynch::Timer for Clock {
    fn now_ms(&self) -> u64 {
        Instant::now().as_millis()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        embassy_time::Timer::at(Instant::from_millis(deadline_ms)).await
    }
}

/// The driver's hooks: the default timeouts, and a response counter for `/stats`.
struct TaskHooks;

impl Hooks for TaskHooks {
    fn timeouts(&self) -> Timeouts {
        Timeouts::DEFAULT
    }

    fn responded(&mut self, _exchange: &Exchange<'_>) {
        STATS.responded();
    }
}

/// The app: the routes every binary serves (blocking handlers), and the ones that await, in
/// one router.
fn firmware_app() -> impl AsyncHandler {
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
}

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
            w.push_str("servers ");
            w.push_u64(SERVERS as u64);
            w.push_str("\nserve_future ");
            w.push_u64(u64::from(SERVE_FUTURE.load(Ordering::Relaxed)));
            w.push_str("\nserve_future_router ");
            w.push_u64(u64::from(SERVE_FUTURE_ROUTER.load(Ordering::Relaxed)));
            w.push_str("\n");
        })
}
