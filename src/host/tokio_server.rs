//! The tokio server (feature `tokio`): connections are tasks on tokio's current-thread
//! runtime, each running the async driver over the same core as firmware does. The
//! recommended host server: a connection costs its two buffers and a small task, not a
//! thread, so the cap can be high; a stream that waits (Server-Sent Events) holds no thread.
//!
//! It keeps every promise of [`Config`]: `TCP_NODELAY`; the idle, request and write
//! timeouts; a connection cap answered with 503; a lingering close after errors; the
//! per-request log line; a graceful shutdown that stops accepting, closes idle connections,
//! lets requests in flight finish and ends open streams; and no allocation per request in
//! steady state (a connection's buffers are allocated once, when it is accepted).
//!
//! ```no_run
//! use embedded_responder::tokio_server::{Config, Server};
//! use embedded_responder::{get, Router};
//!
//! let server = Server::bind("127.0.0.1:8000", Config::default()).unwrap();
//! server
//!     .run(|| Router::new().route("/", get(|_req, res| res.html("<h1>Hello</h1>"))))
//!     .unwrap();
//! ```

use std::cell::Cell;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use embedded_io_adapters::tokio_1::FromTokio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

pub use super::{Config, ShutdownHandle};
use super::{HostHooks, Log, Shutdown, LINGER_MAX_BYTES};
use crate::connection::{Connection, DEFAULT_MAX_HEADERS};
use crate::io::asynch::{self, AsyncHandler, Timer};
use crate::io::ServeError;

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

/// A bound HTTP/1.1 server on tokio; see the [module docs](self).
#[derive(Debug)]
pub struct Server {
    listener: StdListener,
    config: Config,
    shutdown: Arc<Shutdown>,
    wake: Arc<Notify>,
    handle: ShutdownHandle,
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
        })
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
    pub fn run<A, F>(self, make_app: F) -> io::Result<()>
    where
        A: AsyncHandler + 'static,
        F: Fn() -> A + 'static,
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
    pub async fn serve<A, F>(self, make_app: F) -> io::Result<()>
    where
        A: AsyncHandler + 'static,
        F: Fn() -> A + 'static,
    {
        let listener = TcpListener::from_std(self.listener)?;
        let log = self.config.log.then(Log::start);
        let config = Rc::new(self.config);
        let make_app = Rc::new(make_app);
        let open = Rc::new(Cell::new(0usize));
        let timer = Rc::new(TokioTimer(tokio::time::Instant::now()));
        let epoch = Instant::now();
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
            if open.get() >= config.max_connections {
                if let Ok(stream) = stream.into_std() {
                    super::refuse(stream);
                }
                continue;
            }
            open.set(open.get() + 1);
            let connection = ConnectionTask {
                stream,
                peer,
                log: log.clone(),
                config: Rc::clone(&config),
                timer: Rc::clone(&timer),
                epoch,
                shutdown: Arc::clone(&self.shutdown),
            };
            let (open, make_app) = (Rc::clone(&open), Rc::clone(&make_app));
            tokio::task::spawn_local(async move {
                connection.run(make_app()).await;
                open.set(open.get() - 1);
            });
        }
        drop(listener);
        // Requests in flight finish (with `Connection: close`); idle connections close after
        // a short quiet time; streams end at their next wait. Whatever is still open when the
        // grace period ends is dropped with the runtime's tasks.
        let end = tokio::time::Instant::now() + config.shutdown_grace;
        while open.get() > 0 && tokio::time::Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(log) = &log {
            log.report_dropped();
        }
        Ok(())
    }
}

/// One accepted connection, before its task runs.
struct ConnectionTask {
    stream: TcpStream,
    peer: SocketAddr,
    log: Option<Log>,
    config: Rc<Config>,
    timer: Rc<TokioTimer>,
    epoch: Instant,
    shutdown: Arc<Shutdown>,
}

impl ConnectionTask {
    /// Serve the connection to its end, then close it (lingering unless the transport
    /// failed).
    async fn run<A: AsyncHandler>(self, mut app: A) {
        let ConnectionTask {
            stream,
            peer,
            log,
            config,
            timer,
            epoch,
            shutdown,
        } = self;
        let _ = stream.set_nodelay(true);
        let (mut rx, mut tx) = (vec![0u8; config.rx_size], vec![0u8; config.tx_size]);
        let mut conn: Connection<'_, DEFAULT_MAX_HEADERS> =
            Connection::with_limits(&mut rx, &mut tx, config.limits);
        let mut io = FromTokio::new(stream);
        let mut hooks = HostHooks::new(&config, log.as_ref(), peer, epoch, &shutdown);
        let result = asynch::serve(&mut io, &mut conn, &mut app, &*timer, &mut hooks).await;
        let stream = io.into_inner();
        if !matches!(result, Err(ServeError::Io(_) | ServeError::WriteTimedOut)) {
            linger_close(stream, config.linger).await;
        }
    }
}

/// Half-close, then read and discard until the peer closes (bounded in time and bytes), so
/// that unread request bytes do not make the kernel reset the connection under the last
/// response.
async fn linger_close(mut stream: TcpStream, linger: Duration) {
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
