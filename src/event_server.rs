//! The event-loop std server (feature `event-loop`): the same sans-IO core as firmware, driven
//! by epoll/kqueue through [`mio`], one loop per worker thread, many connections per loop.
//!
//! Each connection is a socket, two boxed buffers and a [`Parked`] state; a loop unparks a
//! connection when its socket is ready, runs it until it would block, and parks it again.
//! Nothing is allocated per request: buffers are allocated once per connection, and a
//! response is copied aside only when the socket cannot take it whole.
//!
//! Everything the threaded [`std_server`](crate::std_server) guarantees holds here too, with
//! the same [`Config`]: `TCP_NODELAY`, the idle and whole-request deadlines (408), a write
//! deadline, the connection cap answered with 503, a lingering close after the last response,
//! the per-request log line, and a graceful shutdown.

use std::io::{self, IoSlice, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mio::net::{TcpListener as MioListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::connection::{Action, Connection, Parked, DEFAULT_MAX_HEADERS};
use crate::response::BUSY_RESPONSE;
use crate::router::Handler;
use crate::std_server::{millis, Config};

const LISTENER: Token = Token(usize::MAX - 1);
const WAKER: Token = Token(usize::MAX - 2);
/// How often deadlines are checked: they fire up to this much late.
const TICK: Duration = Duration::from_millis(50);
/// The most a lingering close reads and discards.
const LINGER_BYTES: usize = 1 << 20;

/// Tells a running [`EventServer`] to stop: no more accepting, idle connections closed,
/// in-flight requests finished. Cloneable, usable from a signal handler thread.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

impl ShutdownHandle {
    /// Ask every worker to stop; [`EventServer::serve`] returns once all connections closed.
    pub fn shutdown(&self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        let wakers = self
            .shared
            .wakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for waker in wakers.iter() {
            let _ = waker.wake();
        }
    }

    /// Whether shutdown has been requested.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.stopping.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Default)]
struct Shared {
    stopping: AtomicBool,
    /// Connections being served, across workers (lingering ones do not count).
    active: AtomicUsize,
    wakers: Mutex<Vec<Arc<Waker>>>,
}

/// A bound event-loop server. See the [module docs](self).
#[derive(Debug)]
pub struct EventServer {
    listener: TcpListener,
    config: Config,
    workers: usize,
    handle: ShutdownHandle,
}

impl EventServer {
    /// Bind to `addr`; `workers` event loops (threads) will share the listener: one per core
    /// is the usual choice ([`std::thread::available_parallelism`]).
    pub fn bind(addr: impl ToSocketAddrs, config: Config, workers: usize) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(EventServer {
            listener,
            config,
            workers: workers.max(1),
            handle: ShutdownHandle {
                shared: Arc::default(),
            },
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// A handle to stop the server from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Serve until shut down. Each worker gets one application from `make_app`, shared by
    /// the connections of that worker in turn.
    pub fn serve<A, F>(self, make_app: F) -> io::Result<()>
    where
        A: Handler,
        F: Fn() -> A + Sync,
    {
        let mut loops = Vec::with_capacity(self.workers);
        for _ in 0..self.workers {
            let poll = Poll::new()?;
            let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
            self.handle
                .shared
                .wakers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(waker);
            let mut listener = MioListener::from_std(self.listener.try_clone()?);
            poll.registry()
                .register(&mut listener, LISTENER, Interest::READABLE)?;
            loops.push((poll, listener));
        }
        // A shutdown requested before the wakers existed would have woken nobody.
        if self.handle.is_shutting_down() {
            return Ok(());
        }
        let shared = &*self.handle.shared;
        let config = &self.config;
        let make_app = &make_app;
        std::thread::scope(|scope| {
            let workers: Vec<_> = loops
                .into_iter()
                .map(|(poll, listener)| {
                    std::thread::Builder::new()
                        .name("http-loop".into())
                        .spawn_scoped(scope, move || {
                            Worker::new(poll, listener, config, shared).run(&mut make_app())
                        })
                })
                .collect();
            let mut result = Ok(());
            for worker in workers {
                match worker {
                    Ok(handle) => {
                        if let Ok(Err(e)) = handle.join() {
                            result = Err(e);
                        }
                    }
                    Err(e) => result = Err(e),
                }
            }
            result
        })
    }
}

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Being served: reading requests, writing responses.
    Serving,
    /// Done: write side shut, reading and discarding until the peer closes or `deadline`.
    Lingering,
}

struct Slot {
    stream: TcpStream,
    peer: SocketAddr,
    rx: Box<[u8]>,
    tx: Box<[u8]>,
    parked: Parked,
    /// Response bytes the socket could not take yet, from `backlog_pos`.
    backlog: Vec<u8>,
    backlog_pos: usize,
    /// After the backlog is written: close (the last response said so).
    close_after_backlog: bool,
    phase: Phase,
    /// Read deadline while serving, write deadline while a backlog waits, end of lingering.
    deadline_ms: Option<u64>,
    /// Whether the connection counts toward `Config::max_connections`.
    counted: bool,
    discarded: usize,
    /// Start of the request being logged.
    started: Instant,
}

struct Worker<'s> {
    poll: Poll,
    listener: MioListener,
    config: &'s Config,
    shared: &'s Shared,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    epoch: Instant,
    listening: bool,
}

/// What running a connection came to.
enum Outcome {
    /// Waiting for the socket.
    Keep,
    /// Drop it now.
    Drop,
}

impl<'s> Worker<'s> {
    fn new(poll: Poll, listener: MioListener, config: &'s Config, shared: &'s Shared) -> Self {
        Worker {
            poll,
            listener,
            config,
            shared,
            slots: Vec::new(),
            free: Vec::new(),
            epoch: Instant::now(),
            listening: true,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn run<A: Handler>(mut self, app: &mut A) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut last_tick = self.now_ms();
        loop {
            if self.shared.stopping.load(Ordering::SeqCst) {
                self.begin_shutdown();
                if self.slots.iter().all(Option::is_none) {
                    return Ok(());
                }
            }
            let timeout = (self.slots.len() > self.free.len()).then_some(TICK);
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(app),
                    WAKER => {}
                    Token(i) => self.drive(i, app),
                }
            }
            let now = self.now_ms();
            if now.saturating_sub(last_tick) >= TICK.as_millis() as u64 {
                last_tick = now;
                self.expire(now, app);
            }
        }
    }

    /// Stop accepting and close every connection that is between requests.
    fn begin_shutdown(&mut self) {
        if self.listening {
            self.listening = false;
            let _ = self.poll.registry().deregister(&mut self.listener);
        }
        for i in 0..self.slots.len() {
            let idle = self.slots[i].as_ref().is_some_and(|s| {
                s.phase == Phase::Serving && s.backlog.is_empty() && s.parked.is_idle()
            });
            if idle {
                self.remove(i);
            }
        }
    }

    fn accept<A: Handler>(&mut self, app: &mut A) {
        while self.listening {
            let (stream, peer) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Out of file descriptors or similar: try again on the next readiness event.
                Err(_) => return,
            };
            let _ = stream.set_nodelay(true);
            let busy = self.shared.active.load(Ordering::SeqCst) >= self.config.max_connections;
            let Some(i) = self.insert(stream, peer, !busy) else {
                continue;
            };
            if busy {
                self.refuse_busy(i);
            } else {
                self.drive(i, app);
            }
        }
    }

    fn insert(&mut self, mut stream: TcpStream, peer: SocketAddr, counted: bool) -> Option<usize> {
        let i = self.free.pop().unwrap_or(self.slots.len());
        self.poll
            .registry()
            .register(&mut stream, Token(i), Interest::READABLE)
            .ok()?;
        let (mut rx, mut tx) = if counted {
            (
                vec![0u8; self.config.rx_size].into_boxed_slice(),
                vec![0u8; self.config.tx_size].into_boxed_slice(),
            )
        } else {
            (Box::default(), Box::default())
        };
        let parked =
            Connection::<DEFAULT_MAX_HEADERS>::with_limits(&mut rx, &mut tx, self.config.limits)
                .park();
        let slot = Slot {
            stream,
            peer,
            rx,
            tx,
            parked,
            backlog: Vec::new(),
            backlog_pos: 0,
            close_after_backlog: false,
            phase: Phase::Serving,
            deadline_ms: None,
            counted,
            discarded: 0,
            started: Instant::now(),
        };
        if counted {
            self.shared.active.fetch_add(1, Ordering::SeqCst);
        }
        if i == self.slots.len() {
            self.slots.push(Some(slot));
        } else {
            self.slots[i] = Some(slot);
        }
        Some(i)
    }

    fn remove(&mut self, i: usize) {
        if let Some(mut slot) = self.slots.get_mut(i).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut slot.stream);
            if slot.counted {
                self.shared.active.fetch_sub(1, Ordering::SeqCst);
            }
            self.free.push(i);
        }
    }

    /// One over the cap: 503 without reading the request, then a lingering close.
    fn refuse_busy(&mut self, i: usize) {
        let now = self.now_ms();
        if let Some(slot) = self.slots[i].as_mut() {
            slot.backlog.extend_from_slice(BUSY_RESPONSE);
            slot.close_after_backlog = true;
            slot.deadline_ms = Some(now + millis(self.config.write_timeout));
        }
        if let Outcome::Drop = self.flush_backlog(i, now) {
            self.remove(i);
        }
    }

    /// Deadlines: a read deadline makes the connection time out (408 or an idle close), a
    /// write or linger deadline drops it.
    fn expire<A: Handler>(&mut self, now: u64, app: &mut A) {
        for i in 0..self.slots.len() {
            let Some(slot) = self.slots[i].as_mut() else {
                continue;
            };
            if slot.deadline_ms.is_none_or(|d| d > now) {
                continue;
            }
            if slot.phase == Phase::Serving && slot.backlog.is_empty() {
                let mut conn = Connection::<DEFAULT_MAX_HEADERS>::unpark(
                    &mut slot.rx,
                    &mut slot.tx,
                    slot.parked,
                );
                conn.timed_out();
                slot.parked = conn.park();
                self.drive(i, app);
            } else {
                self.remove(i);
            }
        }
    }

    /// Run connection `i` until its socket would block.
    fn drive<A: Handler>(&mut self, i: usize, app: &mut A) {
        let now = self.now_ms();
        let outcome = match self.slots.get(i).and_then(Option::as_ref).map(|s| s.phase) {
            None => return,
            Some(Phase::Lingering) => self.linger(i, now),
            Some(Phase::Serving) => match self.flush_backlog(i, now) {
                Outcome::Keep if self.has_backlog(i) => Outcome::Keep,
                Outcome::Keep => self.serve(i, app, now),
                Outcome::Drop => Outcome::Drop,
            },
        };
        if let Outcome::Drop = outcome {
            self.remove(i);
        }
    }

    fn has_backlog(&self, i: usize) -> bool {
        self.slots[i]
            .as_ref()
            .is_some_and(|s| !s.backlog.is_empty())
    }

    /// Write what the socket could not take before; then close or go on.
    fn flush_backlog(&mut self, i: usize, now: u64) -> Outcome {
        let Some(slot) = self.slots[i].as_mut() else {
            return Outcome::Drop;
        };
        while slot.backlog_pos < slot.backlog.len() {
            match slot.stream.write(&slot.backlog[slot.backlog_pos..]) {
                Ok(0) => return Outcome::Drop,
                Ok(n) => slot.backlog_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let _ = self.poll.registry().reregister(
                        &mut slot.stream,
                        Token(i),
                        Interest::READABLE | Interest::WRITABLE,
                    );
                    return Outcome::Keep;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Outcome::Drop,
            }
        }
        if !slot.backlog.is_empty() {
            slot.backlog.clear();
            slot.backlog_pos = 0;
            slot.deadline_ms = None;
            let _ = self
                .poll
                .registry()
                .reregister(&mut slot.stream, Token(i), Interest::READABLE);
            if slot.close_after_backlog {
                return self.start_linger(i, now);
            }
        }
        Outcome::Keep
    }

    /// Serve requests until the socket would block or the connection must close.
    fn serve<A: Handler>(&mut self, i: usize, app: &mut A, now: u64) -> Outcome {
        let config = self.config;
        let timeouts = config.timeouts();
        let Some(slot) = self.slots[i].as_mut() else {
            return Outcome::Drop;
        };
        let Slot {
            stream,
            peer,
            rx,
            tx,
            parked,
            backlog,
            close_after_backlog,
            deadline_ms,
            started,
            ..
        } = slot;
        let mut conn = Connection::<DEFAULT_MAX_HEADERS>::unpark(rx, tx, *parked);
        let mut close = false;
        // A read that returned less than it asked for took everything the socket had; with
        // edge-triggered readiness, bytes arriving later raise a new event, so the read that
        // would only say "would block" is skipped (one system call less per request).
        let mut drained = false;
        loop {
            match conn.poll(app) {
                Action::Read => {
                    let deadline = conn.read_deadline(now, &timeouts);
                    if deadline <= now {
                        conn.timed_out();
                        continue;
                    }
                    if drained {
                        *deadline_ms = Some(deadline);
                        break;
                    }
                    let was_idle = conn.is_idle();
                    let buf = conn.read_buf();
                    let asked = buf.len();
                    match stream.read(buf) {
                        Ok(n) => {
                            drained = n < asked;
                            conn.received(n);
                            if was_idle && n > 0 {
                                *started = Instant::now();
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            *deadline_ms = Some(deadline);
                            break;
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => {
                            *parked = conn.park();
                            return Outcome::Drop;
                        }
                    }
                }
                Action::Write(t) => {
                    if let Some(exchange) = &t.exchange {
                        if config.log {
                            crate::std_server::log_exchange(*peer, *started, exchange);
                        }
                        *started = Instant::now();
                        close = exchange.close;
                    }
                    match write_all_or_keep(stream, t.head, t.body, backlog) {
                        Ok(true) => {}
                        Ok(false) => {
                            // The rest waits in the backlog, until the socket is writable.
                            *close_after_backlog = close;
                            *deadline_ms = Some(now + millis(config.write_timeout));
                            *parked = conn.park();
                            let _ = self.poll.registry().reregister(
                                stream,
                                Token(i),
                                Interest::READABLE | Interest::WRITABLE,
                            );
                            return Outcome::Keep;
                        }
                        Err(_) => {
                            *parked = conn.park();
                            return Outcome::Drop;
                        }
                    }
                }
                Action::Close => {
                    *parked = conn.park();
                    return self.start_linger(i, now);
                }
            }
        }
        *parked = conn.park();
        Outcome::Keep
    }

    /// Shut the write side and read until the peer closes, so that unread request bytes do
    /// not make the kernel reset the connection under the last response.
    fn start_linger(&mut self, i: usize, now: u64) -> Outcome {
        let linger = millis(self.config.linger);
        let Some(slot) = self.slots[i].as_mut() else {
            return Outcome::Drop;
        };
        if slot.stream.shutdown(Shutdown::Write).is_err() {
            return Outcome::Drop;
        }
        slot.phase = Phase::Lingering;
        slot.deadline_ms = Some(now + linger);
        if slot.counted {
            slot.counted = false;
            self.shared.active.fetch_sub(1, Ordering::SeqCst);
        }
        self.linger(i, now)
    }

    fn linger(&mut self, i: usize, _now: u64) -> Outcome {
        let Some(slot) = self.slots[i].as_mut() else {
            return Outcome::Drop;
        };
        let mut sink = [0u8; 4096];
        loop {
            match slot.stream.read(&mut sink) {
                Ok(0) => return Outcome::Drop,
                Ok(n) => {
                    slot.discarded += n;
                    if slot.discarded >= LINGER_BYTES {
                        return Outcome::Drop;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Outcome::Keep,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Outcome::Drop,
            }
        }
    }
}

/// Write `head` and `body` in one system call where possible. `Ok(false)`: the socket would
/// block, and what it did not take is now in `backlog`.
fn write_all_or_keep(
    stream: &mut TcpStream,
    head: &[u8],
    body: &[u8],
    backlog: &mut Vec<u8>,
) -> io::Result<bool> {
    let total = head.len() + body.len();
    let mut written = 0;
    while written < total {
        let result = if written < head.len() {
            let slices = [IoSlice::new(&head[written..]), IoSlice::new(body)];
            if body.is_empty() {
                stream.write(&head[written..])
            } else {
                stream.write_vectored(&slices)
            }
        } else {
            stream.write(&body[written - head.len()..])
        };
        match result {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if written < head.len() {
                    backlog.extend_from_slice(&head[written..]);
                    backlog.extend_from_slice(body);
                } else {
                    backlog.extend_from_slice(&body[written - head.len()..]);
                }
                return Ok(false);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
