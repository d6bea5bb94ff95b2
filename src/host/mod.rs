//! Host servers (feature `std`), and the policy they share, written once here: the
//! configuration, the clock and timeouts a connection runs with, the per-request log line, the
//! lingering close's bounds, and shutdown.
//!
//! - [`tokio_server`] (feature `tokio`, on by default): connections are tasks on tokio's
//!   current-thread runtime, running the async driver. The recommended host server: cheap
//!   connections, streams that wait without a thread, measured against hyper.
//! - [`std_server`]: a thread per connection, running the blocking driver; no runtime. The
//!   simple path.
//!
//! Both serve the same apps with the same [`Config`], answer the same bytes, and stop through
//! the same [`ShutdownHandle`].

pub mod std_server;
#[cfg(feature = "tokio")]
pub mod tokio_server;

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connection::{Exchange, Limits, Timeouts};
use crate::error::Failure;
use crate::io::Hooks;
use crate::stream::StreamError;

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
    /// Connections served at once; one more gets `503` with `Retry-After` and is closed.
    pub max_connections: usize,
    /// How long a keep-alive connection may stay idle (no byte of a next request) before it
    /// is closed without a response.
    pub idle_timeout: Duration,
    /// How long a request may take to arrive, head and body, from its first byte; then the
    /// client gets 408 and the connection closes. A deadline, not a per-read timeout, so a
    /// client trickling a byte at a time cannot hold a connection forever.
    pub request_timeout: Duration,
    /// How long a write may make no progress (a client that stops reading) before the
    /// connection is dropped.
    pub write_timeout: Duration,
    /// After the last response, how long to keep reading (and discarding) what the client
    /// still sends, so that closing does not reset the connection under the response.
    pub linger: Duration,
    /// Print one line per request to standard error.
    pub log: bool,
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
            max_connections: 256,
            idle_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(5),
            linger: Duration::from_secs(2),
            log: true,
        }
    }
}

impl Config {
    /// The idle, request and write timeouts as the core's [`Timeouts`] (milliseconds).
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            idle_ms: millis(self.idle_timeout),
            request_ms: millis(self.request_timeout),
            write_ms: millis(self.write_timeout),
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Most bytes a lingering close reads and discards.
pub(crate) const LINGER_MAX_BYTES: usize = 1 << 20;

/// Tells a running server to stop; cloneable, and usable from a signal handler's thread.
#[derive(Clone)]
pub struct ShutdownHandle {
    stopping: Arc<AtomicBool>,
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
    pub(crate) fn new(stopping: Arc<AtomicBool>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        ShutdownHandle { stopping, wake }
    }

    /// Stop accepting; close idle connections; let requests in flight finish; end open
    /// streams (Server-Sent Events) at their next wait. The server's `serve` returns when
    /// every connection is closed.
    pub fn shutdown(&self) {
        if !self.stopping.swap(true, Ordering::SeqCst) {
            (self.wake)();
        }
    }

    /// Whether shutdown has been requested.
    pub fn is_shutting_down(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// The hooks every host connection runs with: the server's clock (milliseconds since it
/// started, so that `uptime_ms` means the server's uptime), its timeouts, the log line, and
/// shutdown; with a socket, its read timeout follows the read deadline (blocking driver).
pub(crate) struct HostHooks<'c> {
    pub config: &'c Config,
    pub peer: SocketAddr,
    pub epoch: Instant,
    pub stopping: &'c AtomicBool,
    /// When the request being logged started.
    pub started: Instant,
    /// The connection's socket, to set its read timeout (blocking driver).
    pub socket: Option<TcpStream>,
    /// The read timeout last set on the socket, to avoid a system call when it is unchanged.
    pub socket_timeout: Option<Duration>,
}

impl<'c> HostHooks<'c> {
    pub(crate) fn new(
        config: &'c Config,
        peer: SocketAddr,
        epoch: Instant,
        stopping: &'c AtomicBool,
    ) -> Self {
        HostHooks {
            config,
            peer,
            epoch,
            stopping,
            started: Instant::now(),
            socket: None,
            socket_timeout: None,
        }
    }
}

/// How often a sleeping stream checks for shutdown (blocking driver).
const SLEEP_SLICE: Duration = Duration::from_millis(50);

impl Hooks for HostHooks<'_> {
    fn now_ms(&mut self) -> Option<u64> {
        Some(millis(self.epoch.elapsed()))
    }

    fn timeouts(&self) -> Timeouts {
        self.config.timeouts()
    }

    fn set_read_timeout(&mut self, ms: u64) {
        // Socket timeouts must not be zero (that means "never" to the OS).
        let timeout = Duration::from_millis(ms.max(1));
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

    fn responded(&mut self, exchange: &Exchange<'_>) {
        if self.config.log {
            log_exchange(self.peer, self.started, exchange);
        }
        // A pipelined next request is already here: its time starts now.
        self.started = Instant::now();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
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

/// The per-request log line: peer, method, path, status, time since the request's first
/// bytes, and the protocol error or the reason for a 500 or a broken stream, if any. A log
/// that cannot be written (standard error closed) is dropped: it never stops service.
pub(crate) fn log_exchange(peer: SocketAddr, started: Instant, exchange: &Exchange<'_>) {
    let elapsed = started.elapsed();
    let method = exchange.method.map_or("-", |m| m.as_str());
    let path = if exchange.path.is_empty() {
        "-"
    } else {
        exchange.path
    };
    let error = exchange.error.map_or("", |e| e.as_str());
    let _ = writeln!(
        std::io::stderr().lock(),
        "{} {} {} {} {:.3}ms {}{}",
        peer,
        method,
        path,
        exchange.status.code(),
        elapsed.as_secs_f64() * 1e3,
        error,
        Reason(exchange.failure)
    );
}

/// A [`Failure`] for the log, or nothing.
struct Reason(Option<Failure>);

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(failure) => write!(f, "{failure}"),
            None => Ok(()),
        }
    }
}
