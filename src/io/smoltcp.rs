//! Serving on smoltcp from a blocking firmware (feature `smoltcp`): every TCP socket of a
//! [`Net`]'s set listens on the port, and [`serve`] serves their connections in turn with the
//! blocking driver, forever.
//!
//! ```ignore
//! let mut net = Net::new(iface, &mut mac, sockets); // the sockets: TCP, and the SYN guard
//! let (mut rx, mut tx) = ([0u8; 1536], [0u8; 512]);
//! let mut conn = Connection::<24>::new(&mut rx, &mut tx);
//! smoltcp::serve(&mut net, &Board, &mut conn, &mut app, &Config::new(80))
//! ```
//!
//! One connection is served at a time; the others wait in their sockets, which is why a
//! firmware gives the set more sockets than clients come at once. A connection is served
//! once its first bytes arrive; one that sends nothing for [`Config::first_byte_ms`] is
//! closed. Between requests, a connection that has been idle for [`Config::give_way_ms`]
//! gives way to another whose request is waiting (not at once: a keep-alive client sends its
//! next request right after reading a response). [`syn_guard`] makes a raw socket that, in
//! the set, keeps smoltcp from resetting a SYN that finds every socket busy: it is dropped,
//! and the client sends it again.
//!
//! The interface is polled wherever the firmware waits: in this loop, in the transport's
//! reads and writes, and while a streaming handler sleeps ([`crate::io::Hooks::sleep_ms`]), so a
//! streamed connection's acknowledgements and retransmissions keep moving and other
//! clients' handshakes complete while it runs. A handler that streams forever (an event
//! stream without end) holds the firmware until its client leaves: serving streams
//! concurrently takes the async driver (`io::embassy_net`).

use core::cell::{Cell, RefCell};

use embedded_io::{ErrorKind, ErrorType, Read, Write};
use smoltcp::iface::{Interface, SocketHandle, SocketSet};
use smoltcp::phy::Device;
use smoltcp::socket::{raw, tcp, Socket};
use smoltcp::time::Instant;
use smoltcp::wire::IpProtocol;

use super::blocking::serve_with_hooks;
use super::Hooks;
use crate::connection::{Connection, Exchange, Timeouts};
use crate::error::StreamError;
use crate::handler::Handler;

/// What the firmware gives the server: its clock, and a way to sleep.
pub trait Platform {
    /// Milliseconds from any fixed start.
    fn now_ms(&self) -> u64;
    /// Sleep until something may have happened (a frame arrived, the clock ticked), at most
    /// until `deadline_ms`. Returning early is always allowed.
    fn sleep_until(&self, deadline_ms: u64);
}

/// How [`serve`] serves.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The TCP port every socket listens on.
    pub port: u16,
    /// The driver's timeouts for each connection.
    pub timeouts: Timeouts,
    /// A connection that sends nothing for this long after it connects is closed.
    pub first_byte_ms: u64,
    /// A write that makes no progress for this long fails (the peer stopped reading).
    pub write_ms: u64,
    /// A connection idle between requests for this long gives way to a waiting one.
    pub give_way_ms: u64,
    /// Called with each exchange as it is answered (a counter, a log of your own).
    pub on_response: Option<fn(&Exchange<'_>)>,
}

impl Config {
    /// The defaults on `port`: the driver's default timeouts, 5 s for a first byte, 5 s for a
    /// write to progress, giving way after 100 ms idle, no `on_response`.
    pub const fn new(port: u16) -> Self {
        Config {
            port,
            timeouts: Timeouts::DEFAULT,
            first_byte_ms: 5_000,
            write_ms: 5_000,
            give_way_ms: 100,
            on_response: None,
        }
    }
}

/// A raw socket for the set that takes every TCP segment no TCP socket accepts, so that
/// smoltcp drops a SYN that finds every socket busy instead of resetting it (it marks the
/// packet handled, and its empty buffers drop it). It also drops, rather than resets, stray
/// segments of connections long gone.
pub fn syn_guard() -> raw::Socket<'static> {
    let (rx_meta, rx): (&'static mut [raw::PacketMetadata], &'static mut [u8]) = (&mut [], &mut []);
    let (tx_meta, tx): (&'static mut [raw::PacketMetadata], &'static mut [u8]) = (&mut [], &mut []);
    raw::Socket::new(
        None,
        Some(IpProtocol::Tcp),
        raw::PacketBuffer::new(rx_meta, rx),
        raw::PacketBuffer::new(tx_meta, tx),
    )
}

/// An interface, its device and its sockets (TCP sockets to serve with, and any other: a
/// [`syn_guard`]).
pub struct Net<'s, D: Device> {
    iface: Interface,
    device: &'s mut D,
    sockets: SocketSet<'s>,
}

impl<D: Device> core::fmt::Debug for Net<'_, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net").finish_non_exhaustive()
    }
}

impl<'s, D: Device> Net<'s, D> {
    /// An interface (configured: addresses, routes) with its device and sockets.
    pub fn new(iface: Interface, device: &'s mut D, sockets: SocketSet<'s>) -> Self {
        Net {
            iface,
            device,
            sockets,
        }
    }

    /// The interface, its device and its sockets, for what else the firmware does with them.
    pub fn parts(&mut self) -> (&mut Interface, &mut D, &mut SocketSet<'s>) {
        (&mut self.iface, self.device, &mut self.sockets)
    }

    /// Move packets both ways, run TCP's timers, and put every closed TCP socket back to
    /// listening on `port` at once (a socket in TIME-WAIT too: with few sockets, reuse it),
    /// also while a connection is being served, so that a new client finds a listener.
    pub fn poll(&mut self, now_ms: u64, port: u16) {
        let now = Instant::from_millis(i64::try_from(now_ms).unwrap_or(i64::MAX));
        self.iface.poll(now, self.device, &mut self.sockets);
        for (_, socket) in self.sockets.iter_mut() {
            #[allow(irrefutable_let_patterns)] // only TCP sockets without other features
            let Socket::Tcp(socket) = socket
            else {
                continue;
            };
            match socket.state() {
                tcp::State::TimeWait => {
                    socket.abort();
                    let _ = socket.listen(port);
                }
                tcp::State::Closed => {
                    let _ = socket.listen(port);
                }
                _ => {}
            }
        }
    }

    fn tcp(&mut self, handle: SocketHandle) -> Option<&mut tcp::Socket<'s>> {
        self.sockets
            .iter_mut()
            .find(|(h, _)| *h == handle)
            .and_then(|(_, socket)| match socket {
                #[allow(unreachable_patterns)] // only TCP sockets without other features
                Socket::Tcp(socket) => Some(socket),
                _ => None,
            })
    }

    /// Whether a connection other than `handle` has a request waiting (sockets already
    /// closed on our side may hold unread bytes; they do not count).
    fn other_waiting(&self, handle: SocketHandle) -> bool {
        self.sockets.iter().any(|(h, socket)| match socket {
            #[allow(unreachable_patterns)]
            Socket::Tcp(s) => {
                h != handle
                    && matches!(s.state(), tcp::State::Established | tcp::State::CloseWait)
                    && s.can_recv()
            }
            _ => false,
        })
    }

    /// The TCP sockets' handles, `N` at most.
    fn tcp_handles<const N: usize>(&self) -> heapless::Vec<SocketHandle, N> {
        let mut handles = heapless::Vec::new();
        for (h, socket) in self.sockets.iter() {
            #[allow(unreachable_patterns)]
            if let Socket::Tcp(_) = socket {
                let _ = handles.push(h);
            }
        }
        handles
    }
}

/// At most this many TCP sockets are served (more are left listening, unserved).
pub const MAX_SOCKETS: usize = 32;

/// Serve `app` on every TCP socket of `net`, in turn, forever. See the [module docs](self).
pub fn serve<D, A, P, const H: usize>(
    net: &mut Net<'_, D>,
    platform: &P,
    conn: &mut Connection<'_, H>,
    app: &mut A,
    config: &Config,
) -> !
where
    D: Device,
    A: Handler + ?Sized,
    P: Platform + ?Sized,
{
    let handles = net.tcp_handles::<MAX_SOCKETS>();
    let net = RefCell::new(net);
    let read = ReadState::default();
    let mut hooks = ServerHooks {
        net: &net,
        platform,
        read: &read,
        config,
    };
    let mut connected_at = [None::<u64>; MAX_SOCKETS];
    loop {
        poll(&net, platform, config);
        let mut served = false;
        for (&handle, since) in handles.iter().zip(&mut connected_at) {
            let now = platform.now_ms();
            let Ok(mut borrowed) = net.try_borrow_mut() else {
                break;
            };
            let Some(socket) = borrowed.tcp(handle) else {
                continue;
            };
            if !matches!(
                socket.state(),
                tcp::State::Established | tcp::State::CloseWait
            ) {
                *since = None;
                continue;
            }
            if socket.can_recv() {
                drop(borrowed);
                read.clear();
                let mut io = TcpIo {
                    net: &net,
                    handle,
                    platform,
                    read: &read,
                    config,
                };
                // Every way out (close asked, a timeout, giving way, an error answered)
                // ends with closing the socket: smoltcp sends what is queued, then FIN.
                let _ = serve_with_hooks(&mut io, conn, app, &mut hooks);
                if let Ok(mut net) = net.try_borrow_mut() {
                    if let Some(socket) = net.tcp(handle) {
                        socket.close();
                    }
                }
                *since = None;
                served = true;
            } else if !socket.may_recv() {
                socket.close();
                *since = None;
            } else {
                let at = *since.get_or_insert(now);
                if now.saturating_sub(at) >= config.first_byte_ms {
                    socket.close();
                    *since = None;
                }
            }
        }
        if !served {
            platform.sleep_until(platform.now_ms().saturating_add(config.timeouts.idle_ms));
        }
    }
}

fn poll<D: Device, P: Platform + ?Sized>(
    net: &RefCell<&mut Net<'_, D>>,
    platform: &P,
    config: &Config,
) {
    if let Ok(mut net) = net.try_borrow_mut() {
        net.poll(platform.now_ms(), config.port);
    }
}

/// What the transport and the hooks share: the read deadline the driver asked for, and
/// whether the connection is between requests.
#[derive(Debug)]
struct ReadState {
    deadline: Cell<Option<u64>>,
    between_requests: Cell<bool>,
}

impl Default for ReadState {
    fn default() -> Self {
        ReadState {
            deadline: Cell::new(None),
            between_requests: Cell::new(true),
        }
    }
}

impl ReadState {
    fn clear(&self) {
        self.deadline.set(None);
        self.between_requests.set(true);
    }
}

/// The driver's hooks: the platform's clock, the timeouts, the read state for the
/// transport, a sleep that keeps the interface polled, and `on_response`.
struct ServerHooks<'n, 'm, 's, D: Device, P: ?Sized> {
    net: &'n RefCell<&'m mut Net<'s, D>>,
    platform: &'n P,
    read: &'n ReadState,
    config: &'n Config,
}

impl<D: Device, P: Platform + ?Sized> Hooks for ServerHooks<'_, '_, '_, D, P> {
    fn now_ms(&mut self) -> Option<u64> {
        Some(self.platform.now_ms())
    }

    fn timeouts(&self) -> Timeouts {
        self.config.timeouts
    }

    fn set_read_timeout(&mut self, ms: u64) {
        let deadline = self.platform.now_ms().saturating_add(ms);
        self.read.deadline.set(Some(deadline));
    }

    fn will_read(&mut self, between_requests: bool) {
        self.read.between_requests.set(between_requests);
    }

    fn responded(&mut self, exchange: &Exchange<'_>) {
        if let Some(on_response) = self.config.on_response {
            on_response(exchange);
        }
    }

    /// Never fails: the firmware does not shut down, so streams end only when their handler
    /// or client ends them.
    fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        let deadline = self.platform.now_ms().saturating_add(ms);
        while self.platform.now_ms() < deadline {
            poll(self.net, self.platform, self.config);
            self.platform.sleep_until(deadline);
        }
        Ok(())
    }
}

/// One accepted TCP connection as a byte stream.
struct TcpIo<'n, 'm, 's, D: Device, P: ?Sized> {
    net: &'n RefCell<&'m mut Net<'s, D>>,
    handle: SocketHandle,
    platform: &'n P,
    read: &'n ReadState,
    config: &'n Config,
}

/// Why a read or write on a smoltcp socket failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl<D: Device, P: Platform + ?Sized> ErrorType for TcpIo<'_, '_, '_, D, P> {
    type Error = TcpError;
}

impl<D: Device, P: Platform + ?Sized> Read for TcpIo<'_, '_, '_, D, P> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, TcpError> {
        let waiting_since = self.platform.now_ms();
        loop {
            {
                let mut net = self.net.try_borrow_mut().map_err(|_| TcpError::Reset)?;
                net.poll(self.platform.now_ms(), self.config.port);
                let socket = net.tcp(self.handle).ok_or(TcpError::Reset)?;
                if socket.can_recv() {
                    return socket.recv_slice(buf).map_err(|_| TcpError::Reset);
                }
                if !socket.may_recv() {
                    return Ok(0);
                }
                let now = self.platform.now_ms();
                let give_way = self.read.between_requests.get()
                    && now.saturating_sub(waiting_since) >= self.config.give_way_ms
                    && net.other_waiting(self.handle);
                let expired = self.read.deadline.get().is_some_and(|d| now >= d);
                if expired || give_way {
                    return Err(TcpError::TimedOut);
                }
            }
            let wake = match self.read.deadline.get() {
                Some(deadline) => deadline,
                None => self
                    .platform
                    .now_ms()
                    .saturating_add(self.config.give_way_ms),
            };
            self.platform.sleep_until(wake);
        }
    }
}

impl<D: Device, P: Platform + ?Sized> Write for TcpIo<'_, '_, '_, D, P> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, TcpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let give_up = self.platform.now_ms().saturating_add(self.config.write_ms);
        loop {
            {
                let mut net = self.net.try_borrow_mut().map_err(|_| TcpError::Reset)?;
                let socket = net.tcp(self.handle).ok_or(TcpError::Reset)?;
                if !socket.may_send() {
                    return Err(TcpError::Reset);
                }
                if socket.can_send() {
                    let n = socket.send_slice(buf).map_err(|_| TcpError::Reset)?;
                    net.poll(self.platform.now_ms(), self.config.port);
                    return Ok(n);
                }
                if self.platform.now_ms() >= give_up {
                    return Err(TcpError::TimedOut);
                }
                net.poll(self.platform.now_ms(), self.config.port);
            }
            self.platform.sleep_until(give_up);
        }
    }

    fn flush(&mut self) -> Result<(), TcpError> {
        if let Ok(mut net) = self.net.try_borrow_mut() {
            net.poll(self.platform.now_ms(), self.config.port);
        }
        Ok(())
    }
}
