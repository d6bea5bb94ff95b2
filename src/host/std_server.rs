//! The std server (feature `std`): a `TcpListener`, one thread per connection up to a cap,
//! each running the blocking driver over the same core as firmware does.
//!
//! What the classic "one `recv`, one reply, loop on `accept`" lesson leaves out is here:
//! `TCP_NODELAY`, read and write timeouts, a connection cap (defended near and at it as the
//! host module says under "Under load", with one thread for the connections on probation;
//! 503 past it) instead of a hang, a lingering close so that an error response is not wiped out by a TCP reset, a
//! per-request log line, and a graceful shutdown (stop accepting, wake idle keep-alive
//! connections, let in-flight requests finish). `std` binds with `SO_REUSEADDR` on Unix, so a
//! restarted server gets its port back at once.

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown as Close, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::admission::{PRESSURE_WAIT, PROBATION_PEEK, PROBATION_PER_PLACE, PROBATION_POLL};
use super::{Admission, Admitted, HostHooks, Log, Shutdown, LINGER_MAX_BYTES};
use super::{Config, ShutdownHandle};

pub use super::transport::blocking::{AcceptWith, Acceptor, Transport, Waiting};
pub use super::transport::Plain;
use crate::connection::{Connection, DEFAULT_MAX_HEADERS};
use crate::handler::Handler;
use crate::io::blocking::serve_with_hooks;
use crate::io::ServeError;

/// An `embedded_io` view of a std stream. Read timeouts (`WouldBlock` or `TimedOut` from a
/// socket with `SO_RCVTIMEO`) surface as [`embedded_io::ErrorKind::TimedOut`], which the
/// blocking driver turns into 408 or an idle close; interrupted calls are retried.
#[derive(Debug)]
pub struct StdIo<S>(pub S);

/// A std IO error, with the kind mapping [`StdIo`] needs.
#[derive(Debug)]
pub struct StdIoError(pub io::Error);

impl core::fmt::Display for StdIoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for StdIoError {}

impl embedded_io::Error for StdIoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self.0.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => embedded_io::ErrorKind::TimedOut,
            kind => kind.into(),
        }
    }
}

impl<S> embedded_io::ErrorType for StdIo<S> {
    type Error = StdIoError;
}

impl<S: io::Read> embedded_io::Read for StdIo<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StdIoError> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other.map_err(StdIoError),
            }
        }
    }
}

impl<S: io::Write> embedded_io::Write for StdIo<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StdIoError> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other.map_err(StdIoError),
            }
        }
    }

    fn flush(&mut self) -> Result<(), StdIoError> {
        self.0.flush().map_err(StdIoError)
    }
}

/// How many bytes a connection gathers before it writes (as the tokio server's).
const GATHER: usize = 256 * 1024;
/// Free gather buffers kept for the connections that write at once (more are freed).
const POOL_KEEP: usize = 16;
/// The gather buffers, shared by every connection thread of the process.
static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// The server's transport: [`StdIo`] with gathered writes, so that a streamed body leaves in
/// writes of up to [`GATHER`] bytes instead of one per transmit buffer. Bytes are held back
/// until the buffer fills, the driver flushes (after each response, when a handler flushes a
/// stream) or the connection reads or sleeps (the blocking driver flushes first). The buffer
/// is borrowed from [`POOL`] while there are bytes to send: idle connections hold none.
struct Gathered<S> {
    stream: S,
    out: Option<Vec<u8>>,
    write_timeout: Duration,
}

impl<S: Transport> Gathered<S> {
    fn write_out(&mut self) -> Result<(), StdIoError> {
        let Some(mut out) = self.out.take() else {
            // What the stream holds back (a TLS layer's records).
            return self.stream.flush().map_err(StdIoError);
        };
        // All of it within the write timeout, however the socket's own timeout counts: a
        // peer that takes a few bytes now and then does not keep it going.
        let deadline = Instant::now() + self.write_timeout;
        let mut done = 0;
        let written = loop {
            if done == out.len() {
                break Ok(());
            }
            match embedded_io::Write::write(&mut StdIo(&mut self.stream), &out[done..]) {
                Ok(0) => break Err(StdIoError(io::ErrorKind::WriteZero.into())),
                Ok(n) => done += n,
                Err(e) => break Err(e),
            }
            if done < out.len() && Instant::now() >= deadline {
                break Err(StdIoError(io::ErrorKind::TimedOut.into()));
            }
        };
        out.clear();
        let mut free = lock(&POOL);
        if free.len() < POOL_KEEP {
            free.push(out);
        }
        drop(free);
        written?;
        self.stream.flush().map_err(StdIoError)
    }
}

impl<S> embedded_io::ErrorType for Gathered<S> {
    type Error = StdIoError;
}

impl<S: Transport> embedded_io::Read for Gathered<S> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StdIoError> {
        self.write_out()?;
        embedded_io::Read::read(&mut StdIo(&mut self.stream), buf)
    }
}

impl<S: Transport> embedded_io::Write for Gathered<S> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, StdIoError> {
        if self
            .out
            .as_ref()
            .is_some_and(|out| out.len() + buf.len() > GATHER)
        {
            self.write_out()?;
        }
        if self.out.is_none() && buf.len() >= GATHER {
            // Large, and nothing before it: from where it lies.
            return embedded_io::Write::write(&mut StdIo(&mut self.stream), buf);
        }
        let out = self.out.get_or_insert_with(|| {
            lock(&POOL)
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(GATHER))
        });
        let n = buf.len().min(GATHER - out.len());
        out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), StdIoError> {
        self.write_out()
    }
}

/// A bound HTTP/1.1 server. See the [module docs](self). It serves plain HTTP unless given
/// an [`Acceptor`] ([`Server::with_acceptor`]: TLS with [`crate::host::tls::Tls`], or a
/// stream of your own).
#[derive(Debug)]
pub struct Server<A = Plain> {
    listener: TcpListener,
    config: Config,
    shared: Arc<Shared>,
    handle: ShutdownHandle,
    acceptor: A,
}

/// What the accept loop, the connections and the shutdown handle share.
#[derive(Debug, Default)]
struct Shared {
    shutdown: Arc<Shutdown>,
    /// A clone of each open connection's stream, to wake it at shutdown.
    open: Mutex<HashMap<u64, TcpStream>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking connection thread must not take the server down with it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Server {
    /// Bind to `addr` (e.g. `"127.0.0.1:8000"`, or port 0 for any free port), with
    /// `config.backlog` (and `config.raise_fd_limit`).
    pub fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Server> {
        let listener: TcpListener = super::listen(addr, &config, false)?;
        let local = listener.local_addr()?;
        let wake_ip = match local.ip() {
            ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
            ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        let wake_addr = SocketAddr::new(wake_ip, local.port());
        let shared = Arc::new(Shared::default());
        let waking = Arc::clone(&shared);
        let grace = config.shutdown_grace;
        let wake = move || {
            // Wake `accept` with a connection of our own; it is dropped unread. Connections
            // see the shutdown within their next check (their reads wake every 100 ms).
            let _ = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1));
            // When the grace period ends, whatever is still open is closed.
            let open = Arc::clone(&waking);
            let _ = std::thread::Builder::new()
                .name("http-grace".into())
                .stack_size(64 * 1024)
                .spawn(move || {
                    let end = Instant::now() + grace;
                    while Instant::now() < end && !lock(&open.open).is_empty() {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    for stream in lock(&open.open).values() {
                        let _ = stream.shutdown(Close::Both);
                    }
                });
        };
        let handle = ShutdownHandle::new(Arc::clone(&shared.shutdown), Arc::new(wake));
        Ok(Server {
            listener,
            config,
            shared,
            handle,
            acceptor: Plain,
        })
    }
}

impl<X: Acceptor> Server<X> {
    /// Serve over what `acceptor` makes of each accepted connection (TLS: see
    /// [`crate::host::tls`]), with every promise of the host module kept around its
    /// handshake (see [`Config::handshake_timeout`]).
    pub fn with_acceptor<B: Acceptor>(self, acceptor: B) -> Server<B> {
        Server {
            listener: self.listener,
            config: self.config,
            shared: self.shared,
            handle: self.handle,
            acceptor,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Serve until shut down. Each connection gets its own application from `make_app`
    /// (cheap for a [`crate::Router`] of closures); share state between connections through
    /// what `make_app` captures (atomics, `Arc<Mutex<_>>`).
    pub fn serve<A, F>(self, make_app: F) -> io::Result<()>
    where
        A: Handler,
        F: Fn() -> A + Sync,
    {
        let shared = &self.shared;
        let config = &self.config;
        let make_app = &make_app;
        let log = config.log.then(Log::start);
        let log = log.as_ref();
        // Every connection's clock: milliseconds since the server started.
        let epoch = Instant::now();
        let admission = Admission::new(config.max_connections, epoch);
        let acceptor = &self.acceptor;
        let serving = Serving {
            shared,
            config,
            make_app,
            log,
            epoch,
            next_id: AtomicU64::new(0),
            acceptor,
        };
        let serving = &serving;
        let on_probation: Mutex<Vec<OnProbation>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            let (admission, on_probation) = (&admission, &on_probation);
            // Connections that found every place taken wait here (see `admission`).
            let _ = std::thread::Builder::new()
                .name("http-probation".into())
                .stack_size(64 * 1024)
                .spawn_scoped(scope, move || {
                    probation(
                        on_probation,
                        (admission, acceptor),
                        &shared.shutdown,
                        |stream, peer, admitted| serving.start(scope, stream, peer, admitted),
                    )
                });
            while !shared.shutdown.is_stopping() {
                let (stream, peer) = match self.listener.accept() {
                    Ok(accepted) => accepted,
                    // Out of file descriptors or similar: back off instead of spinning.
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                if shared.shutdown.is_stopping() {
                    break;
                }
                if let Some(admitted) = admission.try_admit() {
                    serving.start(scope, stream, peer, admitted);
                    continue;
                }
                let mut waiting = lock(on_probation);
                let room = config.max_connections.saturating_mul(PROBATION_PER_PLACE);
                if waiting.len() >= room || stream.set_nonblocking(true).is_err() {
                    drop(waiting);
                    super::refuse(stream, acceptor.refusal());
                    continue;
                }
                waiting.push(OnProbation {
                    stream,
                    peer,
                    until: Instant::now() + PRESSURE_WAIT,
                });
            }
        });
        if let Some(log) = log {
            log.report_dropped();
        }
        Ok(())
    }
}

/// What starting a connection's thread needs.
struct Serving<'s, F, X> {
    shared: &'s Shared,
    config: &'s Config,
    make_app: &'s F,
    log: Option<&'s Log>,
    epoch: Instant,
    next_id: AtomicU64,
    acceptor: &'s X,
}

impl<'s, A: Handler, F: Fn() -> A + Sync, X: Acceptor> Serving<'s, F, X> {
    /// Serve the connection on a thread of its own, in its place.
    fn start<'scope>(
        &'s self,
        scope: &'scope std::thread::Scope<'scope, 's>,
        stream: TcpStream,
        peer: SocketAddr,
        admitted: Admitted,
    ) {
        let shared = self.shared;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.open).insert(id, clone);
        }
        let spawned = std::thread::Builder::new()
            .name("http-conn".into())
            .stack_size(256 * 1024)
            .spawn_scoped(scope, move || {
                let mut app = (self.make_app)();
                let server = (self.config, self.log, self.epoch, &*shared.shutdown);
                serve_stream(self.acceptor, stream, peer, &mut app, server, &admitted);
                lock(&shared.open).remove(&id);
            });
        if spawned.is_err() {
            lock(&shared.open).remove(&id);
        }
    }
}

/// A connection that found every place taken, until it shows progress.
struct OnProbation {
    /// Nonblocking while it waits.
    stream: TcpStream,
    peer: SocketAddr,
    until: Instant,
}

/// The probation thread: every [`PROBATION_POLL`], each waiting connection is looked at
/// without being read; one that shows progress takes a free place or evicts (see
/// `admission`) and gets its thread from `start`; one that closed is forgotten; one still
/// waiting at its end, or when the server stops, gets 503. One thread for all of them.
fn probation<X: Acceptor>(
    waiting: &Mutex<Vec<OnProbation>>,
    (admission, acceptor): (&Arc<Admission>, &X),
    shutdown: &Shutdown,
    start: impl Fn(TcpStream, SocketAddr, Admitted),
) {
    let mut peeked = [0u8; PROBATION_PEEK];
    loop {
        let stopping = shutdown.is_stopping();
        let now = Instant::now();
        let list = std::mem::take(&mut *lock(waiting));
        let mut kept = Vec::with_capacity(list.len());
        for c in list {
            let shown = match c.stream.peek(&mut peeked) {
                Ok(0) => continue, // closed: forget it
                Ok(n) => !stopping && acceptor.shows_progress(&peeked[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
                Err(_) => continue,
            };
            if let Some(admitted) = shown.then(|| admission.admit_evicting()).flatten() {
                if c.stream.set_nonblocking(false).is_ok() {
                    start(c.stream, c.peer, admitted);
                }
            } else if stopping || now >= c.until {
                super::refuse(c.stream, acceptor.refusal());
            } else {
                kept.push(c);
            }
        }
        lock(waiting).extend(kept);
        if stopping {
            // The accept loop stops too; what it added meanwhile is turned away.
            for c in lock(waiting).drain(..) {
                super::refuse(c.stream, acceptor.refusal());
            }
            return;
        }
        std::thread::sleep(PROBATION_POLL);
    }
}

fn serve_stream<A: Handler, X: Acceptor>(
    acceptor: &X,
    tcp: TcpStream,
    peer: SocketAddr,
    app: &mut A,
    (config, log, epoch, shutdown): (&Config, Option<&Log>, Instant, &Shutdown),
    admitted: &Admitted,
) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_write_timeout(Some(config.write_timeout));
    let Ok(socket) = tcp.try_clone() else {
        return;
    };
    let accepted = Instant::now();
    let stream = match handshake(acceptor, tcp, config, admitted, shutdown) {
        Ok(stream) => stream,
        Err(e) => {
            if let Some(log) = log {
                log.handshake_failed(peer, accepted, &e);
            }
            return;
        }
    };
    // The buffers are taken once the handshake is done.
    let mut rx = vec![0u8; config.rx_size];
    let mut tx = vec![0u8; config.tx_size];
    let mut conn: Connection<'_, DEFAULT_MAX_HEADERS> =
        Connection::with_limits(&mut rx, &mut tx, config.limits);
    let mut hooks = HostHooks::new(config, log, peer, epoch, shutdown);
    hooks.socket = Some(socket);
    hooks.admitted = Some(admitted);
    let mut io = Gathered {
        stream,
        out: None,
        write_timeout: config.write_timeout,
    };
    let result = serve_with_hooks(&mut io, &mut conn, app, &mut hooks);
    // What is still gathered goes out (within the socket's write timeout), unless writing
    // already failed.
    let flushed = hooks.write_failed
        || matches!(result, Err(ServeError::Io(_)))
        || embedded_io::Write::flush(&mut io).is_ok();
    let mut stream = io.stream;
    // The buffers go before the lingering close, which needs none.
    drop((rx, tx));
    if flushed && !hooks.write_failed && !matches!(result, Err(ServeError::Io(_))) {
        linger_close(&mut stream, super::linger_for(config, admitted));
    }
}

/// Run `acceptor`'s handshake on a connection that has its place, as long as the server lets
/// a connection wait for a head (see [`super::handshake_left`]): its reads time out every
/// 100 ms at most, and the acceptor asks again after each (pressure, eviction, shutdown).
fn handshake<X: Acceptor>(
    acceptor: &X,
    tcp: TcpStream,
    config: &Config,
    admitted: &Admitted,
    shutdown: &Shutdown,
) -> io::Result<X::Stream> {
    let since = Instant::now();
    let slice = Duration::from_millis(super::STOP_CHECK_MS);
    tcp.set_read_timeout(Some(
        slice
            .min(config.handshake_timeout)
            .max(Duration::from_millis(1)),
    ))?;
    let keep_waiting = || {
        if shutdown.is_stopping() {
            return Err(io::Error::other("server shutting down"));
        }
        if super::handshake_left(config, admitted, since).is_zero() {
            return Err(super::handshake_expired(admitted));
        }
        Ok(())
    };
    let waiting = Waiting {
        keep_waiting: &keep_waiting,
        left: super::handshake_left(config, admitted, since),
    };
    acceptor.accept(tcp, &waiting)
}

/// Half-close (TLS: `close_notify` first), then read and discard until the peer closes
/// (bounded in time and bytes), so that unread request bytes do not make the kernel reset
/// the connection under the last response.
fn linger_close<S: Transport>(stream: &mut S, linger: Duration) {
    let _ = stream.close_write();
    let deadline = Instant::now() + linger;
    let mut sink = [0u8; 4096];
    let mut discarded = 0usize;
    while discarded < LINGER_MAX_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.tcp().set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}
