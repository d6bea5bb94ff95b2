//! HTTP over TCP port 80 with smoltcp on the board's Ethernet MAC (QEMU user network:
//! the guest is 10.0.2.15; `run-qemu.sh ethernet PORT` forwards a host port to it).
//!
//! `SOCKETS` sockets listen at once, so that parallel clients wait in their sockets instead
//! of being reset; the library's blocking driver serves them in turn, each over a
//! [`TcpIo`] adapter.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use embedded_responder::io::blocking::serve_with_hooks;
use embedded_responder::{Connection, Limits, Timeouts};
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
    let mut net = Net::new(Enet::new(), sockets);

    let read = ReadState::new();
    let stats = Stats::default();
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::<HEADERS>::with_limits(&mut rx, &mut tx, Limits::DEFAULT);
    let mut app = app::app(&stats);
    let mut hooks = FirmwareHooks {
        read: &read,
        stats: &stats,
        timeouts: Timeouts::DEFAULT,
    };
    let mut connected_at = [None::<u64>; SOCKETS];

    loop {
        net.poll();
        let mut served = false;
        for (&handle, since) in handles.iter().flatten().zip(&mut connected_at) {
            let socket = net.socket(handle);
            // `net.poll` keeps closed sockets listening; serve the connected ones.
            if !matches!(socket.state(), State::Established | State::CloseWait) {
                *since = None;
                continue;
            }
            if socket.can_recv() {
                read.clear();
                let mut io = TcpIo {
                    net: &mut net,
                    handle,
                    read: &read,
                };
                // Every way out (close asked, timeout, give-way, error already answered)
                // ends with closing the socket; smoltcp sends what is queued, then FIN.
                let _ = serve_with_hooks(&mut io, &mut conn, &mut app, &mut hooks);
                net.socket(handle).close();
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
            net.sleep();
        }
    }
}
