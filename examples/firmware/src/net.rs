//! `smoltcp` (no alloc) on the Stellaris MAC, and a TCP socket as an `embedded_io`
//! transport for the library's blocking driver.
//!
//! One main loop, several listening sockets: a connection is served when its first bytes
//! arrive, one at a time, and after idling between requests for [`GIVE_WAY_MS`] it gives
//! way to another socket whose request is waiting (the driver's `will_read` hook says when
//! nothing would be lost). So parallel
//! clients queue in their sockets instead of being reset.
//!
//! The interface is polled wherever the firmware waits: in the main loop, in the transport's
//! reads and writes, and in the driver's `sleep_ms` hook while a streaming handler sleeps
//! ([`Wait`] for the shared [`Net`]); so a streamed connection's ACKs and retransmissions
//! keep moving and other clients' handshakes complete while it runs. The transport and the
//! hooks both reach the interface, hence the `RefCell`: one of them at a time uses it, as
//! the driver calls one at a time.

use core::cell::RefCell;

use embedded_io::{ErrorKind, ErrorType, Read, Write};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address};

use crate::app::{ReadState, Wait};
use crate::clock;
use crate::enet::{self, Enet};
use crate::irq::{self, sleep_unless};

/// The guest's address on QEMU's user network, its gateway, and the HTTP port.
pub const ADDRESS: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// QEMU's user-network gateway.
pub const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// The port served.
pub const PORT: u16 = 80;
/// A write that makes no progress for this long fails (the peer stopped reading).
pub const WRITE_MS: u64 = 5_000;
/// A connection idle between requests gives way to a waiting one after this long. Not at
/// once: a keep-alive client sends its next request right after reading a response, and
/// closing under it would make that request fail.
pub const GIVE_WAY_MS: u64 = 100;

fn now() -> Instant {
    Instant::from_millis(clock::now_ms() as i64)
}

/// The interface, its device and its sockets. The device (with its two 1.5 KiB frame
/// buffers) and the sockets are borrowed, so that moving a `Net` (into a `RefCell`) copies
/// little.
pub struct Net<'s> {
    iface: Interface,
    dev: &'s mut Enet,
    /// The sockets; every one is a TCP socket.
    pub sockets: SocketSet<'s>,
}

impl<'s> Net<'s> {
    /// Bring the interface up with [`ADDRESS`]/24 via [`GATEWAY`].
    pub fn new(dev: &'s mut Enet, sockets: SocketSet<'s>) -> Self {
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(dev.mac())));
        config.random_seed = clock::now_ms() ^ 0x5DEE_CE66_D1CE_4E5B;
        let mut iface = Interface::new(config, dev, now());
        iface.update_ip_addrs(|addrs| {
            let _ = addrs.push(IpCidr::new(ADDRESS.into(), 24));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
        Net {
            iface,
            dev,
            sockets,
        }
    }

    /// Move packets both ways, run TCP's timers, and put every closed socket back to
    /// listening at once, also while a connection is being served, so that a new client
    /// finds a listener.
    pub fn poll(&mut self) {
        self.iface.poll(now(), self.dev, &mut self.sockets);
        for (_, socket) in self.sockets.iter_mut() {
            // The only kind of socket this firmware builds (smoltcp's "socket-tcp" alone).
            let smoltcp::socket::Socket::Tcp(socket) = socket;
            match socket.state() {
                // Closing actively leaves a socket in TIME-WAIT for seconds; with few sockets,
                // reuse it at once (the peer has closed its side too).
                tcp::State::TimeWait => {
                    socket.abort();
                    let _ = socket.listen(PORT);
                }
                tcp::State::Closed => {
                    let _ = socket.listen(PORT);
                }
                _ => {}
            }
        }
    }

    /// Sleep until a frame arrives or the clock ticks.
    pub fn sleep(&mut self) {
        sleep_unless(irq::ETHERNET, enet::rx_ready);
    }

    /// [`Net::sleep`], or not at all once `deadline_ms` has passed.
    fn sleep_until(&mut self, deadline_ms: u64) {
        sleep_unless(irq::ETHERNET, || {
            enet::rx_ready() || clock::now_ms() >= deadline_ms
        });
    }

    /// The socket behind `handle`.
    pub fn socket(&mut self, handle: SocketHandle) -> &mut tcp::Socket<'s> {
        self.sockets.get_mut::<tcp::Socket>(handle)
    }

    /// Whether a connection other than `handle` has a request waiting (sockets already
    /// closed on our side may hold unread bytes; they do not count).
    fn other_waiting(&self, handle: SocketHandle) -> bool {
        self.sockets.iter().any(|(h, socket)| {
            let smoltcp::socket::Socket::Tcp(s) = socket;
            h != handle
                && matches!(s.state(), tcp::State::Established | tcp::State::CloseWait)
                && s.can_recv()
        })
    }
}

/// A handler sleeping: move packets, then sleep until a frame, the tick or the deadline.
impl Wait for RefCell<Net<'_>> {
    fn wait(&self, deadline_ms: u64) {
        let mut net = self.borrow_mut();
        net.poll();
        net.sleep_until(deadline_ms);
    }
}

/// One accepted TCP connection as a byte stream.
pub struct TcpIo<'n, 's, 'r> {
    /// The network it lives on (shared with the hooks' [`Wait`]).
    pub net: &'n RefCell<Net<'s>>,
    /// Its socket.
    pub handle: SocketHandle,
    /// Deadline and request state from the driver's hooks.
    pub read: &'r ReadState,
}

/// Why a read or write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpError {
    /// The read deadline passed, or the connection gave way to another.
    TimedOut,
    /// The peer reset the connection or stopped reading.
    Reset,
}

impl core::fmt::Display for TcpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TcpError::TimedOut => "timed out",
            TcpError::Reset => "connection reset",
        })
    }
}

impl core::error::Error for TcpError {}

impl embedded_io::Error for TcpError {
    fn kind(&self) -> ErrorKind {
        match self {
            TcpError::TimedOut => ErrorKind::TimedOut,
            TcpError::Reset => ErrorKind::ConnectionReset,
        }
    }
}

impl ErrorType for TcpIo<'_, '_, '_> {
    type Error = TcpError;
}

impl Read for TcpIo<'_, '_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        let waiting_since = clock::now_ms();
        let mut net = self.net.borrow_mut();
        loop {
            net.poll();
            let socket = net.socket(self.handle);
            if socket.can_recv() {
                return socket.recv_slice(buf).map_err(|_| TcpError::Reset);
            }
            if !socket.may_recv() {
                return Ok(0);
            }
            let give_way = self.read.between_requests()
                && clock::now_ms() - waiting_since >= GIVE_WAY_MS
                && net.other_waiting(self.handle);
            if self.read.expired() || give_way {
                return Err(TcpError::TimedOut);
            }
            net.sleep();
        }
    }
}

impl Write for TcpIo<'_, '_, '_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TcpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let give_up = clock::now_ms() + WRITE_MS;
        let mut net = self.net.borrow_mut();
        loop {
            let socket = net.socket(self.handle);
            if !socket.may_send() {
                return Err(TcpError::Reset);
            }
            if socket.can_send() {
                let n = socket.send_slice(buf).map_err(|_| TcpError::Reset)?;
                net.poll();
                return Ok(n);
            }
            if clock::now_ms() >= give_up {
                return Err(TcpError::TimedOut);
            }
            net.poll();
            net.sleep();
        }
    }

    fn flush(&mut self) -> Result<(), TcpError> {
        self.net.borrow_mut().poll();
        Ok(())
    }
}
