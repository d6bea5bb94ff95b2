//! Host servers (feature `std`), and the policy they share, written once here: the
//! configuration, the clock and timeouts a connection runs with, admission at the connection
//! cap (`admission.rs`), the per-request log line (`log.rs`), the lingering close's bounds,
//! and shutdown. Never does: protocol decisions (the drivers run the core), a reactor of its
//! own (threads, or tokio), or naming the application layer (any [`crate::Handler`] serves).
//!
//! - [`tokio_server`] (feature `tokio`, on by default): connections are tasks on tokio's
//!   current-thread runtime, running the async driver. The recommended host server: cheap
//!   connections, streams that wait without a thread, measured against hyper.
//! - [`std_server`]: a thread per connection, running the blocking driver; no runtime. The
//!   simple path.
//!
//! Both serve the same apps with the same [`Config`], answer the same bytes, and stop through
//! the same [`ShutdownHandle`]. Both serve plain TCP, HTTPS ([`tls`], feature `tls`: rustls),
//! or whatever an acceptor of yours makes of each connection ([`transport`]:
//! `Server::with_acceptor`), with this policy kept around the handshake.
//!
//! # Under load
//!
//! Clients that hold a connection without finishing a request (slowloris: a header byte now
//! and then, a new connection as soon as one is dropped) cannot take the server from
//! clients whose requests make progress. Both servers, with `max_connections` places:
//!
//! - **Pressure**: while more than three quarters of the places are taken, a connection
//!   waiting for a request head has 2 s at most: idle (since it was accepted or since its
//!   last response) it closes after 2 s; a head whose first byte came 2 s ago and is still
//!   incomplete gets 408 (and the lingering close after it lasts 0.5 s at most). This is
//!   re-checked every 100 ms, so a connection that has already waited longer goes within
//!   100 ms of the pressure starting. Request bodies, handlers and streams keep their
//!   timeouts: only connections that have not delivered a head are cut short.
//! - **At the cap**, a new connection waits on probation, holding no buffers (a task on the
//!   tokio server; on the thread server, one thread looks after all of them), until it has
//!   sent a whole request head, or 1 KiB of one, looked at every 50 ms without being read.
//!   Then it takes a place freed meanwhile, or the place of the connection that has waited
//!   longest for a request head (idle or mid-head, for at least 250 ms), which is closed
//!   within 100 ms (408 if it had sent part of a head) without a lingering close. After 2 s
//!   without either it gets 503. Up to four connections per place wait on probation; more
//!   are refused with 503 at once.
//!
//! A client that sends its request at once is thus served while slow clients hold every
//! place: it never waits behind them, and being the newest it is not the one evicted. On
//! loopback (see the README), 1,000 reconnecting slowloris clients left `GET /` probes served
//! 100% of the time on both servers with the default cap, which they do not reach; with a cap
//! of 256, both still served every probe (10% to 13% without this policy).

pub(crate) mod admission;
#[cfg(feature = "tokio")]
mod gather;
mod log;
pub mod std_server;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio_server;
pub mod transport;

pub(crate) use admission::{Admission, Admitted};
pub(crate) use log::Log;
pub use transport::{Handshake, Plain};

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::connection::{Exchange, Limits, Timeouts};
use crate::error::StreamError;
use crate::io::Hooks;

/// Settings of a host server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Receive buffer per connection: bounds a request's head (and a body taken whole;
    /// streamed bodies pass through it in pieces).
    pub rx_size: usize,
    /// Transmit buffer per connection: response heads and bodies that fit are sent in one
    /// write; streamed bodies leave in pieces of this size.
    pub tx_size: usize,
    /// Request size limits.
    pub limits: Limits,
    /// Connections served at once (default 4,096: with the default buffers a connection
    /// costs about 24 KiB of memory on either server, the thread server's thread included,
    /// so the cap can be high enough that a few hundred slow clients do not reach it). Near
    /// the cap, connections waiting for a request head wait less, and at the cap a new
    /// connection that shows progress takes the place of the one that has waited longest
    /// (see "Under load" in the [module docs](self)); otherwise it gets `503` with
    /// `Retry-After` and is closed.
    pub max_connections: usize,
    /// How long a keep-alive connection may stay idle (no byte of a next request) before it
    /// is closed without a response.
    pub idle_timeout: Duration,
    /// How long a connection's handshake may take (TLS, or whatever the server's acceptor
    /// does before HTTP starts; see [`tls`]), from its acceptance: it counts as waiting for a
    /// request head, so under pressure it is 2 s at most, and at the cap a connection still
    /// in its handshake may be evicted (see "Under load" in the [module docs](self)). It
    /// holds no HTTP buffers meanwhile. A plain TCP server has no handshake.
    pub handshake_timeout: Duration,
    /// How long a request may take to arrive, head and body, from its first byte; then the
    /// client gets 408 and the connection closes. A deadline, not a per-read timeout, so a
    /// client trickling a byte at a time cannot hold a connection forever.
    pub request_timeout: Duration,
    /// How long a write may take before the connection is dropped: a client that stops
    /// reading, or reads a byte now and then. Each piece of a streamed body (at most
    /// `tx_size` bytes) must be written whole within it; see [`Timeouts::write_ms`].
    pub write_timeout: Duration,
    /// While a request body streams to its handler (a route with `.stream_body`), how long
    /// to wait for each next piece, in place of `request_timeout` once the head is in: an
    /// upload that keeps making progress is never cut, one that stalls gets 408. `None`:
    /// `request_timeout` counts for the body too. See [`Timeouts::body_idle_ms`].
    pub body_idle_timeout: Option<Duration>,
    /// After the last response, how long to keep reading (and discarding) what the client
    /// still sends, so that closing does not reset the connection under the response.
    pub linger: Duration,
    /// Print one line per request to standard error (from a thread of its own, through a
    /// bounded queue: a log sink that fails or blocks drops lines, never service).
    pub log: bool,
    /// The listen backlog: connections the kernel completes and queues before `accept`. A
    /// burst larger than it makes clients believe they are connected while their handshake
    /// is dropped; the kernel may cap it (`net.core.somaxconn`).
    pub backlog: u32,
    /// At `bind`, raise the process's soft limit on open files to its hard limit (where the
    /// system allows), so that the connection cap, not the file limit, is what refuses
    /// clients.
    pub raise_fd_limit: bool,
    /// At shutdown, the server stops accepting at once, then, within this grace period:
    /// every request whose first byte has arrived is answered, with `Connection: close`; a
    /// connection idle between requests stays open for half a second more, so that a request
    /// already on its way is answered (with `Connection: close`) instead of lost, then
    /// closes; open event streams end at their next wait, with their last chunk. Whatever
    /// is still open when the grace period ends is closed.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rx_size: 16 * 1024,
            tx_size: 2 * 1024,
            limits: Limits {
                max_target: 8 * 1024,
                ..Limits::DEFAULT
            },
            max_connections: 4096,
            idle_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(5),
            body_idle_timeout: Some(Duration::from_secs(5)),
            linger: Duration::from_secs(2),
            log: true,
            backlog: 1024,
            raise_fd_limit: true,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// The idle, request and write timeouts as the core's [`Timeouts`] (milliseconds).
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            idle_ms: millis(self.idle_timeout),
            request_ms: millis(self.request_timeout),
            head_ms: millis(self.request_timeout),
            write_ms: millis(self.write_timeout),
            body_idle_ms: self.body_idle_timeout.map(millis),
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What a plain TCP server sends a client it turns away: 503 with `Retry-After`.
pub(crate) const BUSY: &[u8] = crate::wire::response_head::BUSY_RESPONSE;

/// Most bytes a lingering close reads and discards.
pub(crate) const LINGER_MAX_BYTES: usize = 1 << 20;

/// How long a connection that ends now lingers: `Config::linger`; less under pressure, and
/// not at all when it was evicted to make room (see `admission`).
pub(crate) fn linger_for(config: &Config, admitted: &Admitted) -> Duration {
    if admitted.evicted() {
        Duration::ZERO
    } else if admitted.admission().under_pressure() {
        config.linger.min(admission::PRESSURE_LINGER)
    } else {
        config.linger
    }
}

/// How long a connection still in its handshake may go on waiting, `since` it was
/// accepted: [`Config::handshake_timeout`], at most [`admission::PRESSURE_WAIT`] under
/// pressure, and nothing once it was evicted (the same rule as a request head's).
pub(crate) fn handshake_left(config: &Config, admitted: &Admitted, since: Instant) -> Duration {
    let wait = if admitted.evicted() {
        Duration::ZERO
    } else if admitted.admission().under_pressure() {
        config.handshake_timeout.min(admission::PRESSURE_WAIT)
    } else {
        config.handshake_timeout
    };
    wait.saturating_sub(since.elapsed())
}

/// Why a handshake that has waited too long ends (for the log line).
pub(crate) fn handshake_expired(admitted: &Admitted) -> std::io::Error {
    let why = if admitted.evicted() {
        "handshake evicted to make room"
    } else {
        "handshake timed out"
    };
    std::io::Error::new(std::io::ErrorKind::TimedOut, why)
}

/// Bind a listening socket the way both servers do: `SO_REUSEADDR` (a restarted server gets
/// its port back at once), the configured backlog, and (`raise_fd_limit`) the process's open
/// file limit raised first. Nonblocking when `nonblocking` (for tokio).
pub(crate) fn listen(
    addr: impl std::net::ToSocketAddrs,
    config: &Config,
    nonblocking: bool,
) -> std::io::Result<std::net::TcpListener> {
    if config.raise_fd_limit {
        // Best effort: a system that refuses leaves the limit as it was.
        let _ = rlimit::increase_nofile_limit(u64::MAX);
    }
    let mut last_error = None;
    for addr in addr.to_socket_addrs()? {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        let bound = (|| {
            #[cfg(unix)]
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(i32::try_from(config.backlog).unwrap_or(i32::MAX))?;
            socket.set_nonblocking(nonblocking)
        })();
        match bound {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind")
    }))
}

/// Turn away a client over the connection cap without a thread or task of its own: the
/// `refusal` (a 503, or a TLS server's alert: see the acceptors' `refusal`) is written if
/// the socket takes it at once, the write side is closed, and what the client has already
/// sent is read off (so that closing does not reset the connection under the refusal), all
/// without waiting. Best effort, by design: a client that is not reading, or still sending,
/// may see a reset instead.
pub(crate) fn refuse(stream: TcpStream, refusal: &[u8]) {
    use std::io::Read as _;
    if stream.set_nonblocking(true).is_err() {
        return;
    }
    let mut stream = stream;
    let _ = stream.write_all(refusal);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut sink = [0u8; 1024];
    for _ in 0..16 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

/// A server's shutdown state, shared by its accept loop, its connections and its handle.
#[derive(Debug, Default)]
pub(crate) struct Shutdown {
    stopping: AtomicBool,
    since: OnceLock<Instant>,
}

/// After shutdown starts, how long a connection idle between requests stays open: a request
/// already on its way (a busy keep-alive client's next one) is answered, with
/// `Connection: close`, rather than lost to a close.
pub(crate) const SHUTDOWN_QUIET: Duration = Duration::from_millis(500);

impl Shutdown {
    pub(crate) fn start(&self) -> bool {
        let _ = self.since.set(Instant::now());
        !self.stopping.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Whether shutdown started at least `after` ago.
    pub(crate) fn for_at_least(&self, after: Duration) -> bool {
        self.is_stopping() && self.since.get().is_some_and(|t| t.elapsed() >= after)
    }
}

/// Tells a running server to stop; cloneable, and usable from a signal handler's thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    state: Arc<Shutdown>,
    /// Wakes what waits: the accept loop, and connections blocked in a read.
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl core::fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ShutdownHandle")
            .field("stopping", &self.is_shutting_down())
            .finish()
    }
}

impl ShutdownHandle {
    pub(crate) fn new(state: Arc<Shutdown>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        ShutdownHandle { state, wake }
    }

    /// Stop, losing nothing accepted: see [`Config::shutdown_grace`] for what happens to
    /// each connection. The server's `serve` (or `run`) returns when every connection has
    /// closed, at the latest when the grace period ends.
    pub fn shutdown(&self) {
        if self.state.start() {
            (self.wake)();
        }
    }

    /// Whether shutdown has been requested.
    pub fn is_shutting_down(&self) -> bool {
        self.state.is_stopping()
    }
}

/// The hooks every host connection runs with: the server's clock (milliseconds since it
/// started, so that `uptime_ms` means the server's uptime), its timeouts, the log line, and
/// shutdown; with a socket, its read timeout follows the read deadline (blocking driver).
pub(crate) struct HostHooks<'c> {
    pub config: &'c Config,
    /// The request log, if on.
    pub log: Option<&'c Log>,
    pub peer: SocketAddr,
    pub epoch: Instant,
    pub shutdown: &'c Shutdown,
    /// When the request being logged started.
    pub started: Instant,
    /// The connection's socket, to set its read timeout (blocking driver).
    pub socket: Option<TcpStream>,
    /// The read timeout last set on the socket, to avoid a system call when it is unchanged.
    pub socket_timeout: Option<Duration>,
    /// The connection's place: its deadlines follow the server's load.
    pub admitted: Option<&'c Admitted>,
    /// Writing a streamed response failed (the peer went away or stopped reading): the
    /// connection ends without a lingering close, which would only wait for that peer.
    pub write_failed: bool,
}

impl<'c> HostHooks<'c> {
    pub(crate) fn new(
        config: &'c Config,
        log: Option<&'c Log>,
        peer: SocketAddr,
        epoch: Instant,
        shutdown: &'c Shutdown,
    ) -> Self {
        HostHooks {
            config,
            log,
            peer,
            epoch,
            shutdown,
            started: Instant::now(),
            socket: None,
            socket_timeout: None,
            admitted: None,
            write_failed: false,
        }
    }
}

/// How often a sleeping stream checks for shutdown (blocking driver).
const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// How often a waiting connection checks for shutdown.
pub(crate) const STOP_CHECK_MS: u64 = 100;

impl Hooks for HostHooks<'_> {
    fn now_ms(&mut self) -> Option<u64> {
        Some(millis(self.epoch.elapsed()))
    }

    fn timeouts(&self) -> Timeouts {
        let mut timeouts = self.config.timeouts();
        if let Some(admitted) = self.admitted {
            // See `admission`: a connection told to make room goes at once; under pressure,
            // one waiting for a request head waits less.
            let wait = if admitted.evicted() {
                0
            } else if admitted.admission().under_pressure() {
                millis(admission::PRESSURE_WAIT)
            } else {
                u64::MAX
            };
            timeouts.idle_ms = timeouts.idle_ms.min(wait);
            timeouts.head_ms = timeouts.head_ms.min(wait);
        }
        timeouts
    }

    fn set_read_timeout(&mut self, ms: u64) {
        // Socket timeouts must not be zero (that means "never" to the OS); and a blocked read
        // wakes at least every STOP_CHECK_MS, so that a waiting connection sees shutdown.
        let timeout = Duration::from_millis(ms.clamp(1, STOP_CHECK_MS));
        if let Some(socket) = &self.socket {
            if self.socket_timeout != Some(timeout) {
                let _ = socket.set_read_timeout(Some(timeout));
                self.socket_timeout = Some(timeout);
            }
        }
    }

    fn request_started(&mut self) {
        self.started = Instant::now();
    }

    fn head_received(&mut self) {
        if let Some(admitted) = self.admitted {
            admitted.handling();
        }
    }

    fn responded(&mut self, exchange: &Exchange<'_>) {
        if let Some(log) = self.log {
            log.exchange(self.peer, self.started, exchange);
        }
        if let Some(admitted) = self.admitted {
            admitted.waiting();
        }
        self.write_failed |= exchange.failure == Some(crate::error::Failure::StreamWrite);
        // A pipelined next request is already here: its time starts now.
        self.started = Instant::now();
    }

    fn stopping(&self) -> bool {
        self.shutdown.is_stopping()
    }

    fn give_way(&self, _answered: bool) -> bool {
        self.shutdown.for_at_least(SHUTDOWN_QUIET)
    }

    fn check_interval_ms(&self) -> Option<u64> {
        Some(STOP_CHECK_MS)
    }

    fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        // In slices, so that shutdown ends a stream within one.
        let until = Instant::now() + Duration::from_millis(ms);
        loop {
            if self.stopping() {
                return Err(StreamError::ShuttingDown);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            std::thread::sleep(left.min(SLEEP_SLICE));
        }
    }
}
