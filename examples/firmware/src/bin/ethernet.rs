//! HTTP over TCP port 80 with smoltcp on the board's Ethernet MAC (QEMU user network:
//! the guest is 10.0.2.15; `run-qemu.sh ethernet PORT` forwards a host port to it).
//!
//! `SOCKETS` sockets listen at once, so that parallel clients wait in their sockets instead
//! of being reset; the library's blocking driver serves them in turn, each over a
//! [`TcpIo`] adapter.
//!
//! Besides the app every binary serves, two streaming routes of the library's demo:
//! `POST /upload` reads a body of any size (Content-Length or chunked) through the 1.5 KiB
//! receive buffer and answers `{"bytes":N,"crc32":"xxxxxxxx"}`; `GET /events?interval_ms=M&count=K`
//! sends Server-Sent Events, sleeping in between with the interface still polled.
//!
//! One connection is served at a time (the blocking driver): a connection holds the firmware
//! for as long as its handler runs. An upload is bounded by the request deadline
//! ([`Timeouts::request_ms`], from the request's first byte through its body's last), but an
//! event stream without `count` runs until its client leaves, and meanwhile other clients
//! only complete their TCP handshakes and wait in their sockets (they are served after it,
//! if they have not given up). Serving streams concurrently takes an async driver.
#![no_std]
#![no_main]

use core::cell::RefCell;

use cortex_m_rt::entry;
use demo_app as demo;
use embedded_responder::io::blocking::{serve_with_hooks, Polled};
use embedded_responder::{get_async, post_async, Connection, Limits, Timeouts};
use firmware::app::{self, FirmwareHooks, ReadState, Stats};
use firmware::enet::Enet;
use firmware::net::{Net, TcpIo};
use firmware::{clock, irq, stack};
use smoltcp::iface::{SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp::{self, State};

/// More than the clients expected at once: a socket whose connection is closing (LAST-ACK)
/// is not listening, and a client reconnecting at that moment would be reset.
const SOCKETS: usize = 12;
const SOCKET_RX: usize = 1024;
const SOCKET_TX: usize = 1024;
const RX: usize = 1536;
const TX: usize = 512;
/// Header lines per request (a browser sends about 15).
const HEADERS: usize = 24;
/// A connection that sends nothing for this long after connecting is closed.
const SILENT_MS: u64 = 5_000;
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
    let mut storage = [SocketStorage::EMPTY; SOCKETS];
    let mut sockets = SocketSet::new(&mut storage[..]);
    let mut handles = [None::<SocketHandle>; SOCKETS];
    for ((rx, tx), handle) in socket_rx
        .iter_mut()
        .zip(socket_tx.iter_mut())
        .zip(&mut handles)
    {
        let socket = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut rx[..]),
            tcp::SocketBuffer::new(&mut tx[..]),
        );
        *handle = Some(sockets.add(socket));
    }
    let mut mac = Enet::new();
    let net = RefCell::new(Net::new(&mut mac, sockets));

    let read = ReadState::new();
    let stats = Stats::default();
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, Limits::DEFAULT);
    // The streaming routes are the demo's async handlers: the blocking driver polls them
    // (every operation on the connection completes at once on it).
    let mut app = Polled(
        app::app(&stats)
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
    let mut hooks = FirmwareHooks {
        read: &read,
        stats: &stats,
        timeouts: Timeouts::DEFAULT,
        wait: &net,
    };
    let mut connected_at = [None::<u64>; SOCKETS];

    loop {
        net.borrow_mut().poll();
        let mut served = false;
        for (&handle, since) in handles.iter().flatten().zip(&mut connected_at) {
            let mut borrowed = net.borrow_mut();
            let socket = borrowed.socket(handle);
            // `net.poll` keeps closed sockets listening; serve the connected ones.
            if !matches!(socket.state(), State::Established | State::CloseWait) {
                *since = None;
                continue;
            }
            if socket.can_recv() {
                drop(borrowed);
                read.clear();
                let mut io = TcpIo {
                    net: &net,
                    handle,
                    read: &read,
                };
                // Every way out (close asked, timeout, give-way, error already answered)
                // ends with closing the socket; smoltcp sends what is queued, then FIN.
                let _ = serve_with_hooks(&mut io, &mut conn, &mut app, &mut hooks);
                net.borrow_mut().socket(handle).close();
                *since = None;
                served = true;
            } else if !socket.may_recv() {
                socket.close();
                *since = None;
            } else {
                let at = *since.get_or_insert(clock::now_ms());
                if clock::now_ms() - at >= SILENT_MS {
                    socket.close();
                    *since = None;
                }
            }
        }
        if !served {
            net.borrow_mut().sleep();
        }
    }
}
