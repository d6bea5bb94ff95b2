//! HTTP over TCP port 80 with smoltcp on the board's Ethernet MAC (QEMU user network:
//! the guest is 10.0.2.15; `run-qemu.sh ethernet PORT` forwards a host port to it).
//!
//! Served by the library's smoltcp server (`io::smoltcp`, feature `smoltcp`): `SOCKETS`
//! sockets listen at once, so that parallel clients wait in their sockets, and a SYN guard
//! drops (rather than resets) a SYN that finds them all busy; the blocking driver serves them
//! in turn.
//!
//! Besides the app every binary serves, two streaming routes of the library's demo:
//! `POST /upload` reads a body of any size (Content-Length or chunked) through the 1.5 KiB
//! receive buffer and answers `{"bytes":N,"crc32":"xxxxxxxx"}`; `GET /events?interval_ms=M&count=K`
//! sends Server-Sent Events, sleeping in between with the interface still polled.
//!
//! One connection is served at a time (the blocking driver): a connection holds the firmware
//! for as long as its handler runs. An upload goes on as long as its pieces keep coming (the
//! body idle timeout), but an event stream without `count` runs until its client leaves, and meanwhile other clients
//! only complete their TCP handshakes and wait in their sockets (they are served after it,
//! if they have not given up). Serving streams concurrently takes an async driver.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use demo_app as demo;
use embedded_responder::io::blocking::Polled;
use embedded_responder::io::smoltcp::{self as served, syn_guard, Net, Platform};
use embedded_responder::{get_async, post_async, Connection, Limits};
use firmware::app::{self, Stats};
use firmware::enet::{self, Enet};
use firmware::irq::{self, sleep_unless};
use firmware::{clock, stack};
use smoltcp::iface::{Config, Interface, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address};

/// More than the clients expected at once: a socket whose connection is closing (LAST-ACK)
/// is not listening, and a client reconnecting at that moment would be reset.
const SOCKETS: usize = 12;
const SOCKET_RX: usize = 1024;
const SOCKET_TX: usize = 1024;
const RX: usize = 1536;
const TX: usize = 512;
/// Header lines per request (a browser sends about 15).
const HEADERS: usize = 24;
/// The guest's address on QEMU's user network, its gateway, and the HTTP port.
const ADDRESS: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
const PORT: u16 = 80;
/// Largest `POST /upload` body: no limit but the request deadline (the CRC needs no room).
const UPLOAD_LIMIT: u64 = u64::MAX;
/// The largest WebSocket message `/ws` and `/ws/ticks` take (larger: close 1009).
const WS_LIMIT: u64 = 1024;
/// The WebSocket handlers move messages a piece of this size at a time (on the stack, in the
/// handler's future the blocking driver polls).
const WS_PIECE: usize = 1024;

#[link_section = ".vector_table.interrupts"]
#[no_mangle]
static __INTERRUPTS: [unsafe extern "C" fn(); 43] = [irq::wake; 43];

#[entry]
fn main() -> ! {
    stack::paint();
    let core = cortex_m::Peripherals::take().unwrap_or_else(|| unreachable!());
    clock::start(core.SYST);

    let mut socket_rx = [[0u8; SOCKET_RX]; SOCKETS];
    let mut socket_tx = [[0u8; SOCKET_TX]; SOCKETS];
    // The TCP sockets, and the SYN guard: a SYN that finds them all busy is dropped (the
    // client sends it again), not reset.
    let mut storage = [SocketStorage::EMPTY; SOCKETS + 1];
    let mut sockets = SocketSet::new(&mut storage[..]);
    for (rx, tx) in socket_rx.iter_mut().zip(socket_tx.iter_mut()) {
        sockets.add(tcp::Socket::new(
            tcp::SocketBuffer::new(&mut rx[..]),
            tcp::SocketBuffer::new(&mut tx[..]),
        ));
    }
    sockets.add(syn_guard());
    let mut mac = Enet::new();
    let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac.mac())));
    config.random_seed = clock::now_ms() ^ 0x5DEE_CE66_D1CE_4E5B;
    let mut iface = Interface::new(
        config,
        &mut mac,
        Instant::from_millis(clock::now_ms() as i64),
    );
    iface.update_ip_addrs(|addrs| {
        let _ = addrs.push(IpCidr::new(ADDRESS.into(), 24));
    });
    let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
    let mut net = Net::new(iface, &mut mac, sockets);

    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, Limits::DEFAULT);
    // The streaming routes are the demo's async handlers: the blocking driver polls them
    // (every operation on the connection completes at once on it).
    let mut app = Polled(
        app::app(&STATS)
            .route(
                "/upload",
                post_async(demo::upload).stream_body(UPLOAD_LIMIT),
            )
            .route("/events", get_async(demo::events))
            .route(
                "/ws",
                get_async(async |req, res| {
                    demo::ws_echo_within::<WS_PIECE>(req, res, WS_LIMIT).await
                }),
            )
            .route(
                "/ws/ticks",
                get_async(async |req, res| {
                    demo::ws_ticks_within::<WS_PIECE>(req, res, WS_LIMIT).await
                }),
            ),
    );
    let config = served::Config {
        on_response: Some(|_| STATS.responded()),
        ..served::Config::new(PORT)
    };
    served::serve(&mut net, &Board, &mut conn, &mut app, &config)
}

/// Shown at `/stats`.
static STATS: Stats = Stats::new();

/// The board's clock (SysTick) and sleep (`wfi` until a frame, the tick, or the deadline).
struct Board;

impl Platform for Board {
    fn now_ms(&self) -> u64 {
        clock::now_ms()
    }

    fn sleep_until(&self, deadline_ms: u64) {
        sleep_unless(irq::ETHERNET, || {
            enet::rx_ready() || clock::now_ms() >= deadline_ms
        });
    }
}
