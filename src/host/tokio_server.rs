//! The tokio server (feature `tokio`): connections are tasks on tokio's current-thread
//! runtime, each running the async driver over the same core as firmware does. The
//! recommended host server: a connection costs its two buffers and a small task, not a
//! thread, so the cap can be high; a stream that waits (Server-Sent Events) holds no thread.
//!
//! It keeps every promise of [`Config`]: `TCP_NODELAY`; the idle, request and write
//! timeouts; a connection cap (4,096 by default) defended as the host module says under
//! "Under load", where a new connection at the cap waits on probation, holding no buffers,
//! until it shows progress; 503 past it; a lingering close after errors; the
//! per-request log line; a graceful shutdown that stops accepting, closes idle connections,
//! lets requests in flight finish and ends open streams; and no allocation per request in
//! steady state (a connection's receive and transmit buffers, and the gather buffer its
//! writes go through, are lent by pools while it has work: an idle keep-alive connection
//! holds none; see `host/gather.rs` and `ConnectionTask::run`).
//!
//! ```no_run
//! use embedded_responder::host::{tokio_server::Server, Config};
//! use embedded_responder::{get, Router};
//!
//! let server = Server::bind("127.0.0.1:8000", Config::default()).unwrap();
//! server
//!     .run(|| Router::new().route("/", get(|_req, res| res.html("<h1>Hello</h1>"))))
//!     .unwrap();
//! ```

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use tokio::io::{AsyncRead, AsyncWrite};

use super::admission::{PRESSURE_WAIT, PROBATION_PEEK, PROBATION_PER_PLACE, PROBATION_POLL};
use super::gather::{Gathered, Pool};
use super::{Admission, Admitted, HostHooks, Log, Shutdown, LINGER_MAX_BYTES, SHUTDOWN_QUIET};
use super::{Config, ShutdownHandle};

pub use super::transport::asynch::{AcceptWith, Acceptor, Transport};
pub use super::transport::Plain;
use crate::connection::{Connection, DEFAULT_MAX_HEADERS};
use crate::handler::AsyncHandler;
use crate::io::asynch::{self, Timer};
use crate::io::{Hooks as _, ServeError};

/// The driver's clock: tokio's, in milliseconds since the server started.
struct TokioTimer(tokio::time::Instant);

impl Timer for TokioTimer {
    fn now_ms(&self) -> u64 {
        super::millis(self.0.elapsed())
    }
    async fn sleep_until(&self, deadline_ms: u64) {
        tokio::time::sleep_until(self.0 + Duration::from_millis(deadline_ms)).await
    }
}

/// A bound HTTP/1.1 server on tokio; see the [module docs](self). It serves plain HTTP
/// unless given an [`Acceptor`] ([`Server::with_acceptor`]: TLS with
/// [`crate::host::tls::Tls`], or a stream of your own).
#[derive(Debug)]
pub struct Server<A = Plain> {
    listener: StdListener,
    config: Config,
    shutdown: Arc<Shutdown>,
    wake: Arc<Notify>,
    handle: ShutdownHandle,
    acceptor: A,
}

impl Server {
    /// Bind to `addr` (e.g. `"127.0.0.1:8000"`, or port 0 for any free port), with
    /// `config.backlog` (and `config.raise_fd_limit`). No runtime is needed yet.
    pub fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Server> {
        let listener: StdListener = super::listen(addr, &config, true)?;
        let shutdown = Arc::new(Shutdown::default());
        let wake = Arc::new(Notify::new());
        let waking = Arc::clone(&wake);
        let handle = ShutdownHandle::new(
            Arc::clone(&shutdown),
            // A stored permit: the accept loop sees it even if it is not waiting yet.
            Arc::new(move || waking.notify_one()),
        );
        Ok(Server {
            listener,
            config,
            shutdown,
            wake,
            handle,
            acceptor: Plain,
        })
    }
}

impl<A: Acceptor> Server<A> {
    /// Serve over what `acceptor` makes of each accepted connection (TLS: see
    /// [`crate::host::tls`]), with every promise of the host module kept around its
    /// handshake (see [`Config::handshake_timeout`]).
    pub fn with_acceptor<B: Acceptor>(self, acceptor: B) -> Server<B> {
        Server {
            listener: self.listener,
            config: self.config,
            shutdown: self.shutdown,
            wake: self.wake,
            handle: self.handle,
            acceptor,
        }
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server, from any thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Serve on a current-thread runtime of its own until shut down; blocks. Each connection
    /// gets its own application from `make_app`: any [`AsyncHandler`], so a
    /// [`crate::Router`] of blocking handlers too (but only async handlers can stream here:
    /// see [`crate::io::asynch`]).
    pub fn run<H, F>(self, make_app: F) -> io::Result<()>
    where
        H: AsyncHandler + 'static,
        F: Fn() -> H + 'static,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, self.serve(make_app))
    }

    /// Serve until shut down, inside a tokio [`LocalSet`](tokio::task::LocalSet) (handlers
    /// need not be `Send`); [`Server::run`] sets one up. Returns once every connection has
    /// closed.
    pub async fn serve<H, F>(self, make_app: F) -> io::Result<()>
    where
        H: AsyncHandler + 'static,
        F: Fn() -> H + 'static,
    {
        let listener = TcpListener::from_std(self.listener)?;
        let log = self.config.log.then(Log::start);
        let config = Rc::new(self.config);
        let make_app = Rc::new(make_app);
        let acceptor = Rc::new(self.acceptor);
        let timer = Rc::new(TokioTimer(tokio::time::Instant::now()));
        let epoch = Instant::now();
        let admission = Admission::new(config.max_connections, epoch);
        let on_probation = Rc::new(Cell::new(0usize));
        let pools = Rc::new(Pools {
            gather: Rc::new(Pool::new(super::gather::POOL_KEEP)),
            connection: Pool::new(CONNECTION_POOL_KEEP),
        });
        while !self.shutdown.is_stopping() {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = self.wake.notified() => continue,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let admitted = admission.try_admit();
            // At the cap, a new connection waits on probation (see `admission`), up to
            // PROBATION_PER_PLACE per place; past that it is refused at once.
            if admitted.is_none()
                && on_probation.get() >= config.max_connections.saturating_mul(PROBATION_PER_PLACE)
            {
                if let Ok(stream) = stream.into_std() {
                    super::refuse(stream, acceptor.refusal());
                }
                continue;
            }
            let connection = ConnectionTask {
                stream,
                peer,
                log: log.clone(),
                config: Rc::clone(&config),
                timer: Rc::clone(&timer),
                epoch,
                shutdown: Arc::clone(&self.shutdown),
                pools: Rc::clone(&pools),
                acceptor: Rc::clone(&acceptor),
            };
            let make_app = Rc::clone(&make_app);
            let (admission, on_probation) = (Arc::clone(&admission), Rc::clone(&on_probation));
            if admitted.is_none() {
                on_probation.set(on_probation.get() + 1);
            }
            tokio::task::spawn_local(async move {
                let admitted = match admitted {
                    Some(admitted) => admitted,
                    None => {
                        let admitted = probation(&connection, &admission).await;
                        on_probation.set(on_probation.get() - 1);
                        match admitted {
                            Some(admitted) => admitted,
                            None => return connection.refuse(),
                        }
                    }
                };
                connection.run(make_app(), admitted).await
            });
        }
        drop(listener);
        // Requests in flight finish (with `Connection: close`); idle connections close after
        // a short quiet time; streams end at their next wait. Whatever is still open when the
        // grace period ends is dropped with the runtime's tasks.
        let end = tokio::time::Instant::now() + config.shutdown_grace;
        while admission.open() > 0 && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(log) = &log {
            log.report_dropped();
        }
        Ok(())
    }
}

/// One accepted connection, before its task runs.
struct ConnectionTask<A> {
    stream: TcpStream,
    peer: SocketAddr,
    log: Option<Log>,
    config: Rc<Config>,
    timer: Rc<TokioTimer>,
    epoch: Instant,
    shutdown: Arc<Shutdown>,
    /// The buffers it borrows.
    pools: Rc<Pools>,
    /// Its handshake.
    acceptor: Rc<A>,
}

/// The server's free buffers: for gathered writes, and connections' receive and transmit
/// buffers.
struct Pools {
    gather: Rc<Pool<Vec<u8>>>,
    connection: Pool<(Vec<u8>, Vec<u8>)>,
}

/// How many free receive-and-transmit buffer pairs the pool keeps: as many connections can
/// start a request at once without allocating.
const CONNECTION_POOL_KEEP: usize = 64;

impl<A: Acceptor> ConnectionTask<A> {
    /// Serve the connection to its end, then close it (lingering unless the transport
    /// failed). Its receive and transmit buffers come from the server's pool for each run of
    /// requests and go back when it is idle between requests: an idle keep-alive connection
    /// holds no buffer, only its socket and this task, while it waits for the peer under the
    /// same idle timeout, pressure, eviction and shutdown rules as the driver applies.
    async fn run<H: AsyncHandler>(self, mut app: H, admitted: Admitted) {
        let ConnectionTask {
            stream,
            peer,
            log,
            config,
            timer,
            epoch,
            shutdown,
            pools,
            acceptor,
        } = self;
        let _ = stream.set_nodelay(true);
        let accepted = Instant::now();
        let stream = match handshake(&*acceptor, stream, &config, &admitted, &shutdown).await {
            Ok(stream) => stream,
            Err(e) => {
                if let Some(log) = &log {
                    log.handshake_failed(peer, accepted, &e);
                }
                return;
            }
        };
        let gathered = Gathered::new(stream, Rc::clone(&pools.gather));
        let mut io = gathered.handle();
        let mut hooks = HostHooks::new(&config, log.as_ref(), peer, epoch, &shutdown);
        hooks.admitted = Some(&admitted);
        let result = loop {
            let (mut rx, mut tx) = pools
                .connection
                .take(|| (vec![0u8; config.rx_size], vec![0u8; config.tx_size]));
            // Once it has answered, an idle connection returns its buffers (see `wait_idle`).
            let idle_after_answer = Cell::new(false);
            let give_way = |answered: bool| {
                idle_after_answer.set(answered);
                answered
            };
            let result = {
                let mut conn: Connection<'_, DEFAULT_MAX_HEADERS> =
                    Connection::with_limits(&mut rx, &mut tx, config.limits);
                let result = {
                    let serving = std::pin::pin!(asynch::serve_giving_way(
                        &mut io,
                        &mut conn,
                        &mut app,
                        &*timer,
                        &mut hooks,
                        Some(&give_way),
                    ));
                    gathering(serving, &gathered).await
                };
                // Gave way idle (nothing of a next request read), not closed.
                let idle = conn.is_idle() && idle_after_answer.get();
                result.map(|()| idle)
            };
            pools.connection.give((rx, tx));
            match result {
                Ok(true) if wait_idle(&gathered, &hooks, &shutdown).await => {}
                Ok(_) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        // What is still gathered goes out, unless writing already failed or timed out (then
        // the peer is not reading, and the connection closes at once).
        let mut write_failed = hooks.write_failed
            || gathered.failed()
            || matches!(result, Err(ServeError::Io(_) | ServeError::WriteTimedOut));
        if !write_failed {
            let finished = tokio::time::timeout(config.write_timeout, gathered.finish()).await;
            write_failed = !matches!(finished, Ok(Ok(())));
        }
        let stream = gathered.into_stream();
        if !write_failed {
            linger_close(stream, super::linger_for(&config, &admitted)).await;
        }
    }
}

/// Run `acceptor`'s handshake on a connection that has its place, as long as the server
/// lets a connection wait for a head (see [`super::handshake_left`]), looked at again every
/// 100 ms for pressure, eviction and shutdown.
async fn handshake<A: Acceptor>(
    acceptor: &A,
    tcp: TcpStream,
    config: &Config,
    admitted: &Admitted,
    shutdown: &Shutdown,
) -> io::Result<A::Stream> {
    let since = Instant::now();
    let mut accepting = std::pin::pin!(acceptor.accept(tcp));
    loop {
        if shutdown.is_stopping() {
            return Err(io::Error::other("server shutting down"));
        }
        let left = super::handshake_left(config, admitted, since);
        if left.is_zero() {
            return Err(super::handshake_expired(admitted));
        }
        let check = left.min(Duration::from_millis(super::STOP_CHECK_MS));
        if let Ok(done) = tokio::time::timeout(check, accepting.as_mut()).await {
            return done;
        }
    }
}

/// Poll `serving`; whenever the task would wait, what it has gathered goes out.
async fn gathering<F: Future, S: Transport>(
    mut serving: std::pin::Pin<&mut F>,
    gathered: &Gathered<S>,
) -> F::Output {
    std::future::poll_fn(|cx| {
        let polled = serving.as_mut().poll(cx);
        if polled.is_pending() {
            gathered.poll_out(cx);
        }
        polled
    })
    .await
}

/// An idle keep-alive connection waits for the peer's next request without buffers: true
/// when something arrived (or the peer closed: the driver reads that), false when it must
/// close quietly: its idle timeout passed (shortened under pressure, zero once evicted:
/// `HostHooks::timeouts`), or the server has been stopping for [`SHUTDOWN_QUIET`].
async fn wait_idle<S: Transport>(
    gathered: &Gathered<S>,
    hooks: &HostHooks<'_>,
    shutdown: &Shutdown,
) -> bool {
    let since = tokio::time::Instant::now();
    loop {
        if shutdown.for_at_least(SHUTDOWN_QUIET) {
            return false;
        }
        let idle = Duration::from_millis(hooks.timeouts().idle_ms);
        let left = idle.saturating_sub(since.elapsed());
        if left.is_zero() {
            return false;
        }
        // Pressure, eviction and shutdown are looked at again this often.
        let check = left.min(Duration::from_millis(super::STOP_CHECK_MS));
        match tokio::time::timeout(check, gathered.readable()).await {
            Ok(Ok(())) => return true,
            Ok(Err(_)) => return false,
            Err(_) => {}
        }
    }
}

impl<A: Acceptor> ConnectionTask<A> {
    /// Turn the client away (see [`super::refuse`]): 503, or the acceptor's refusal.
    fn refuse(self) {
        if let Ok(stream) = self.stream.into_std() {
            super::refuse(stream, self.acceptor.refusal());
        }
    }
}

/// A connection that found every place taken shows progress (see `admission`): within
/// [`PRESSURE_WAIT`], a whole request head, or [`PROBATION_PEEK`] bytes of one, must have
/// arrived (looked at without being read, every [`PROBATION_POLL`]); then it takes the place
/// of the connection that has waited longest for a head, or a place freed meanwhile. `None`:
/// it did not, no place could be had in time, or the server stops.
async fn probation<A: Acceptor>(
    connection: &ConnectionTask<A>,
    admission: &Arc<Admission>,
) -> Option<Admitted> {
    let until = tokio::time::Instant::now() + PRESSURE_WAIT;
    let mut peeked = [0u8; PROBATION_PEEK];
    while !connection.shutdown.is_stopping() {
        let n = match tokio::time::timeout_at(until, connection.stream.peek(&mut peeked)).await {
            Ok(Ok(n)) if n > 0 => n,
            // Closed, failed, or silent until the end.
            _ => return None,
        };
        if connection.acceptor.shows_progress(&peeked[..n]) {
            if let Some(admitted) = admission.admit_evicting() {
                return Some(admitted);
            }
        }
        if tokio::time::Instant::now() + PROBATION_POLL >= until {
            return None;
        }
        tokio::time::sleep(PROBATION_POLL).await;
    }
    None
}

/// Half-close (TLS: `close_notify` first), then read and discard until the peer closes
/// (bounded in time and bytes), so that unread request bytes do not make the kernel reset
/// the connection under the last response.
async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, linger: Duration) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(linger, async {
        let mut discarded = 0usize;
        while discarded < LINGER_MAX_BYTES {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}
