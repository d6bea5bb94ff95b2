//! Serving on embassy-net (feature `embassy-net`): a [`Server`] holds every buffer (its
//! sockets', its places'), a [`State`] what they share; [`Server::split`] gives its
//! [`Socket`]s and its [`Place`]s, each to run in a task of its own, so that every future
//! (a place's holds the driver's, with the app's largest handler inside) is made in its
//! task's static storage, never on the stack:
//!
//! ```ignore
//! static SERVER: ConstStaticCell<Server<12, 8>> = ConstStaticCell::new(Server::new());
//! static STATE: StaticCell<State<'static, 12, 8>> = StaticCell::new();
//! static HTTP: Config = Config::new(80);
//!
//! #[embassy_executor::task(pool_size = 12)]
//! async fn socket(socket: Socket<'static, 12, 8>) -> ! {
//!     socket.run().await
//! }
//!
//! #[embassy_executor::task(pool_size = 8)]
//! async fn place(place: Place<'static, 12, 8, 24>) -> ! {
//!     place.run(&app).await // `app`: a fn that makes the app, once per connection
//! }
//!
//! // In main, once the stack is up:
//! let (sockets, places) = SERVER.take().split(STATE.init(State::new()), stack, &HTTP);
//! sockets.map(|s| spawner.spawn(socket(s).unwrap()));
//! places.map(|p| spawner.spawn(place(p).unwrap()));
//! ```
//!
//! # More clients than places, nothing reset
//!
//! A *place* is what serving a connection takes: its receive and transmit buffers and the
//! driver's future. A *socket* is cheaper (a smoltcp socket and its two buffers), so a server
//! has more sockets than places, and a browser's six connections, or two browsers', do not
//! find every socket busy:
//!
//! - Every socket that is not busy listens. A connection is handed to a place once its first
//!   bytes have arrived (a browser's speculative connection that sends nothing holds no
//!   place), oldest first.
//! - While someone waits for a place, every response says `Connection: close`, and a
//!   connection idle between requests for [`GIVE_WAY_IDLE_MS`] gives way (checked every
//!   [`asynch::GIVE_WAY_CHECK_MS`]), so places turn over.
//! - A connection that waited [`Config::place_wait_ms`] for a place gets a short `503` with
//!   `Retry-After: 1` from its socket, and a close: an answer, never a reset.
//! - With [`Config::syn_guard`], a raw socket takes every TCP segment no socket accepts, so
//!   that smoltcp drops a SYN that finds no listener instead of answering it with a reset:
//!   the client retransmits it (after about a second) and is served then. (It also drops,
//!   rather than resets, stray segments of connections long gone.) It takes one socket of
//!   the stack's `StackResources`.
//!
//! Every connection ends with a lingering close: our FIN after what is queued, then what the
//! peer still sends is read and dropped (for at most [`Config::linger_ms`]) until it closes
//! too, so that it is not reset while it reads the response. The socket then listens again
//! (a socket in TIME-WAIT listens again at once).

use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};

use embassy_futures::select::{select, Either};
use embassy_net::raw::{IpProtocol, RawSocket};
use embassy_net::tcp::{State as TcpState, TcpSocket};
use embassy_net::Stack;
use embassy_time::{with_timeout, Duration, Instant};

use super::asynch::{self, Timer};
use super::Hooks;
use crate::connection::{Connection, Exchange, Limits, Timeouts};
use crate::handler::AsyncHandler;

/// The library's [`Timer`] on embassy-time's clock (the firmware provides its driver).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbassyTimer;

impl Timer for EmbassyTimer {
    fn now_ms(&self) -> u64 {
        Instant::now().as_millis()
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        embassy_time::Timer::at(Instant::from_millis(deadline_ms)).await
    }
}

/// How a [`Server`] serves.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// The TCP port.
    pub port: u16,
    /// The driver's timeouts for each connection.
    pub timeouts: Timeouts,
    /// Request size limits for each connection.
    pub limits: Limits,
    /// A connection that waited this long for a place is answered `503` with
    /// `Retry-After: 1` and closed.
    pub place_wait_ms: u64,
    /// A connection that sends nothing for this long after it connects is closed.
    pub first_byte_ms: u64,
    /// How long a closed connection's socket reads and drops what the peer still sends
    /// before it is reset.
    pub linger_ms: u64,
    /// smoltcp's own timeout on a connected socket: no segment from the peer for this long
    /// (while data is unacknowledged or the socket waits) ends it. Longer than the driver's
    /// timeouts, which end connections first, with an answer.
    pub socket_timeout_ms: u64,
    /// Take the TCP segments no socket accepts with a raw socket, so that a SYN that finds
    /// every socket busy is dropped (the client retransmits it) instead of reset.
    pub syn_guard: bool,
    /// Called with each exchange as it is answered (a counter, a log of your own).
    pub on_response: Option<fn(&Exchange<'_>)>,
}

impl Config {
    /// The defaults on `port`: the driver's default timeouts and limits, 503 after 2 s
    /// waiting for a place, 5 s for a first byte, 2 s of lingering, 15 s of socket timeout,
    /// the SYN guard on, no `on_response`.
    pub const fn new(port: u16) -> Self {
        Config {
            port,
            timeouts: Timeouts::DEFAULT,
            limits: Limits::DEFAULT,
            place_wait_ms: 2_000,
            first_byte_ms: 5_000,
            linger_ms: 2_000,
            socket_timeout_ms: 15_000,
            syn_guard: true,
            on_response: None,
        }
    }
}

/// A server's buffers: `SOCKETS` sockets of `SOCKET_RX` + `SOCKET_TX` bytes, `PLACES`
/// places of `RX` + `TX` bytes (their connections' receive and transmit buffers, each with
/// `HEADERS` header slots). Made in a `static` (a `ConstStaticCell`: all zeros, so in
/// `.bss`, not in flash), then [`Server::split`] with a [`State`].
///
/// RAM: these buffers; each place's task (its connection, the driver's future with the
/// app's largest handler inside); each socket's task (about 200 B); and
/// smoltcp's 352 B a socket in the stack's `StackResources`, which must hold `SOCKETS`
/// sockets, one more for the SYN guard, and the firmware's others.
pub struct Server<
    const SOCKETS: usize,
    const PLACES: usize,
    const SOCKET_RX: usize = 1024,
    const SOCKET_TX: usize = 1024,
    const RX: usize = 1024,
    const TX: usize = 512,
    const HEADERS: usize = 24,
> {
    sockets: [([u8; SOCKET_RX], [u8; SOCKET_TX]); SOCKETS],
    places: [([u8; RX], [u8; TX]); PLACES],
}

impl<
        const SOCKETS: usize,
        const PLACES: usize,
        const SOCKET_RX: usize,
        const SOCKET_TX: usize,
        const RX: usize,
        const TX: usize,
        const HEADERS: usize,
    > Server<SOCKETS, PLACES, SOCKET_RX, SOCKET_TX, RX, TX, HEADERS>
{
    /// A server with zeroed buffers (a `const fn`: it can initialise a `static` at compile
    /// time, so its buffers never pass through the stack).
    pub const fn new() -> Self {
        Server {
            sockets: [([0; SOCKET_RX], [0; SOCKET_TX]); SOCKETS],
            places: [([0; RX], [0; TX]); PLACES],
        }
    }

    /// Make the sockets on `stack` (kept in `state`, with the SYN guard if `config` asks
    /// for it) and hand out the parts to run, a task each: the [`Socket`]s and the
    /// [`Place`]s, all serving as `config` says.
    pub fn split<'a>(
        &'a mut self,
        state: &'a mut State<'a, SOCKETS, PLACES>,
        stack: Stack<'a>,
        config: &'a Config,
    ) -> (
        [Socket<'a, SOCKETS, PLACES>; SOCKETS],
        [Place<'a, SOCKETS, PLACES, HEADERS>; PLACES],
    ) {
        let Server { sockets, places } = self;
        for ((rx, tx), slot) in sockets.iter_mut().zip(&state.0.sockets) {
            *slot.borrow_mut() = Some(TcpSocket::new(stack, rx, tx));
        }
        if config.syn_guard {
            // Empty buffers: every segment it is offered is dropped, and marks the packet
            // handled, which is all it is for.
            *state.0.guard.borrow_mut() = Some(RawSocket::new(
                stack,
                None,
                Some(IpProtocol::Tcp),
                &mut [],
                &mut [],
                &mut [],
                &mut [],
            ));
        }
        let shared: &'a Shared<'a, SOCKETS, PLACES> = &state.0;
        let mut index = 0;
        let places = places.each_mut().map(|(rx, tx)| {
            index += 1;
            Place {
                shared,
                rx,
                tx,
                config,
                index: index - 1,
            }
        });
        let sockets = core::array::from_fn(|index| Socket {
            shared,
            config,
            index,
        });
        (sockets, places)
    }
}

impl<
        const SOCKETS: usize,
        const PLACES: usize,
        const SOCKET_RX: usize,
        const SOCKET_TX: usize,
        const RX: usize,
        const TX: usize,
        const HEADERS: usize,
    > Default for Server<SOCKETS, PLACES, SOCKET_RX, SOCKET_TX, RX, TX, HEADERS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<
        const SOCKETS: usize,
        const PLACES: usize,
        const SOCKET_RX: usize,
        const SOCKET_TX: usize,
        const RX: usize,
        const TX: usize,
        const HEADERS: usize,
    > core::fmt::Debug for Server<SOCKETS, PLACES, SOCKET_RX, SOCKET_TX, RX, TX, HEADERS>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("sockets", &SOCKETS)
            .field("places", &PLACES)
            .finish()
    }
}

/// Where a socket's connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Listening, or waiting for the first bytes: the socket's task holds it.
    Accepting,
    /// In the queue, for a place.
    Waiting,
    /// A place serves it.
    Serving,
    /// Served: back to the socket's task, which closes it.
    Served,
    /// Waited too long: the socket's task answers 503.
    Refused,
}

/// What a [`Server`]'s sockets and places share while they run: the sockets themselves (an
/// embassy-net `TcpSocket` is a handle on the stack), where each connection is, the queue
/// of connections waiting for a place, and the tasks' wakers; about 40 B a socket. Made at
/// run time (a `StaticCell`: the sockets are not `Send`, so it cannot be a
/// `ConstStaticCell`), and given to [`Server::split`].
pub struct State<'a, const SOCKETS: usize, const PLACES: usize>(Shared<'a, SOCKETS, PLACES>);

impl<const SOCKETS: usize, const PLACES: usize> State<'_, SOCKETS, PLACES> {
    /// No sockets yet ([`Server::split`] makes them).
    pub const fn new() -> Self {
        State(Shared {
            sockets: [const { RefCell::new(None) }; SOCKETS],
            guard: RefCell::new(None),
            phase: [const { Cell::new(Phase::Accepting) }; SOCKETS],
            queue: RefCell::new(heapless::Deque::new()),
            socket_wakers: [const { Cell::new(None) }; SOCKETS],
            place_wakers: [const { Cell::new(None) }; PLACES],
        })
    }
}

impl<const SOCKETS: usize, const PLACES: usize> Default for State<'_, SOCKETS, PLACES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const SOCKETS: usize, const PLACES: usize> core::fmt::Debug for State<'_, SOCKETS, PLACES> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

/// What the sockets' tasks and the places' share (tasks of one executor, so plain cells).
struct Shared<'a, const S: usize, const P: usize> {
    sockets: [RefCell<Option<TcpSocket<'a>>>; S],
    /// The SYN guard (see [`Config::syn_guard`]), kept for as long as the server runs.
    guard: RefCell<Option<RawSocket<'a>>>,
    phase: [Cell<Phase>; S],
    /// Sockets with a connection waiting for a place, oldest first.
    queue: RefCell<heapless::Deque<usize, S>>,
    /// Each socket's task, waiting for a place to be done with its connection.
    socket_wakers: [Cell<Option<Waker>>; S],
    /// Each place's task, waiting for a connection.
    place_wakers: [Cell<Option<Waker>>; P],
}

impl<const S: usize, const P: usize> Shared<'_, S, P> {
    /// Whether a connection waits for a place.
    fn someone_waits(&self) -> bool {
        self.queue.try_borrow().is_ok_and(|q| !q.is_empty())
    }

    /// The oldest waiting connection, taken from the queue (those refused meanwhile are
    /// dropped from it).
    fn take_waiting(&self) -> Option<usize> {
        let mut queue = self.queue.try_borrow_mut().ok()?;
        while let Some(i) = queue.pop_front() {
            if let Some(phase) = self.phase.get(i) {
                if phase.get() == Phase::Waiting {
                    phase.set(Phase::Serving);
                    return Some(i);
                }
            }
        }
        None
    }

    /// Queue socket `i`'s connection and wake the places.
    fn enqueue(&self, i: usize) -> bool {
        let queued = self
            .queue
            .try_borrow_mut()
            .is_ok_and(|mut queue| queue.push_back(i).is_ok());
        if queued {
            if let Some(phase) = self.phase.get(i) {
                phase.set(Phase::Waiting);
            }
            for waker in &self.place_wakers {
                if let Some(waker) = waker.take() {
                    waker.wake();
                }
            }
        }
        queued
    }
}

/// Wait, with the waker kept in `slot`, until `ready` gives something.
async fn until<T>(slot: &Cell<Option<Waker>>, mut ready: impl FnMut() -> Option<T>) -> T {
    poll_fn(|cx| match ready() {
        Some(value) => Poll::Ready(value),
        None => {
            slot.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    })
    .await
}

/// One socket of a [`Server`]: run it in a task of its own ([`Socket::run`]).
pub struct Socket<'a, const S: usize, const P: usize> {
    shared: &'a Shared<'a, S, P>,
    config: &'a Config,
    index: usize,
}

impl<const S: usize, const P: usize> core::fmt::Debug for Socket<'_, S, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Socket")
            .field("index", &self.index)
            .finish()
    }
}

impl<const S: usize, const P: usize> Socket<'_, S, P> {
    /// Forever: listen, wait for the first bytes, queue for a place (or be refused with
    /// 503), then the lingering close.
    pub async fn run(self) -> ! {
        let Socket {
            shared,
            config,
            index: i,
        } = self;
        let (Some(cell), Some(phase), Some(waker)) = (
            shared.sockets.get(i),
            shared.phase.get(i),
            shared.socket_wakers.get(i),
        ) else {
            // Not one of the sockets (never: `split` numbers them).
            loop {
                core::future::pending::<()>().await;
            }
        };
        loop {
            phase.set(Phase::Accepting);
            let ready = match cell.try_borrow_mut().as_deref_mut() {
                Ok(Some(socket)) => connected(socket, config).await,
                _ => false,
            };
            if ready && shared.enqueue(i) {
                let deadline = Instant::now() + Duration::from_millis(config.place_wait_ms);
                let served = until(waker, || (phase.get() == Phase::Served).then_some(()));
                if let Either::Second(()) = select(served, embassy_time::Timer::at(deadline)).await
                {
                    if phase.get() == Phase::Waiting {
                        // Still waiting: answer 503 instead.
                        phase.set(Phase::Refused);
                    } else {
                        // A place took it meanwhile: wait until it is served.
                        until(waker, || (phase.get() == Phase::Served).then_some(())).await;
                    }
                }
            }
            if let Ok(Some(socket)) = cell.try_borrow_mut().as_deref_mut() {
                if phase.get() == Phase::Refused {
                    refuse(socket).await;
                }
                linger(socket, config).await;
            }
        }
    }
}

/// Accept a connection and wait for its first bytes: whether it has some.
async fn connected(socket: &mut TcpSocket<'_>, config: &Config) -> bool {
    socket.set_timeout(Some(Duration::from_millis(config.socket_timeout_ms)));
    if socket.accept(config.port).await.is_err() {
        // Not closed yet (a close still under way): reset it, and listen again.
        socket.abort();
        let _ = with_timeout(Duration::from_millis(config.linger_ms), socket.flush()).await;
        return false;
    }
    if !matches!(socket.state(), TcpState::Established | TcpState::CloseWait) {
        return false;
    }
    let first_byte = Duration::from_millis(config.first_byte_ms);
    with_timeout(first_byte, socket.wait_read_ready())
        .await
        .is_ok()
        && socket.can_recv()
}

/// The answer to a connection that waited too long for a place.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\nConnection: close\r\n\r\n\
busy: retry in a bit\n";

/// Answer `503` with `Retry-After: 1` (the request is left unread: the close drops it).
async fn refuse(socket: &mut TcpSocket<'_>) {
    crate::log::refused_busy();
    let mut rest = BUSY;
    while !rest.is_empty() {
        match socket.write(rest).await {
            Ok(n) if n > 0 => rest = rest.get(n..).unwrap_or_default(),
            _ => return,
        }
    }
}

/// Our FIN after what is queued; then, for at most [`Config::linger_ms`], read and drop what
/// the peer still sends until it closes too; then reset what is left, so that the socket can
/// listen again.
async fn linger(socket: &mut TcpSocket<'_>, config: &Config) {
    socket.close();
    let linger = Duration::from_millis(config.linger_ms);
    let _ = with_timeout(linger, async {
        let mut sink = [0u8; 64];
        while let Ok(n) = socket.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
        socket.flush().await
    })
    .await;
    if !matches!(socket.state(), TcpState::Closed | TcpState::TimeWait) {
        socket.abort();
        let _ = with_timeout(linger, socket.flush()).await;
    }
}

/// One place of a [`Server`]: run it in a task of its own ([`Place::run`]).
pub struct Place<'a, const S: usize, const P: usize, const H: usize> {
    shared: &'a Shared<'a, S, P>,
    rx: &'a mut [u8],
    tx: &'a mut [u8],
    config: &'a Config,
    index: usize,
}

impl<const S: usize, const P: usize, const H: usize> core::fmt::Debug for Place<'_, S, P, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Place").field("index", &self.index).finish()
    }
}

impl<const S: usize, const P: usize, const H: usize> Place<'_, S, P, H> {
    /// Forever: take the oldest waiting connection and serve it, with an app from
    /// `make_app`.
    pub async fn run<A: AsyncHandler>(self, make_app: &dyn Fn() -> A) -> ! {
        let Place {
            shared,
            rx,
            tx,
            config,
            index,
        } = self;
        let mut conn: Connection<'_, H> = Connection::with_limits(rx, tx, config.limits);
        let Some(waker) = shared.place_wakers.get(index) else {
            loop {
                core::future::pending::<()>().await;
            }
        };
        loop {
            let i = until(waker, || shared.take_waiting()).await;
            let mut borrowed = shared.sockets.get(i).and_then(|c| c.try_borrow_mut().ok());
            if let Some(socket) = borrowed.as_deref_mut().and_then(Option::as_mut) {
                let mut app = make_app();
                let mut hooks = PlaceHooks {
                    shared,
                    timeouts: config.timeouts,
                    on_response: config.on_response,
                    answered_at: EmbassyTimer.now_ms(),
                };
                let _ = asynch::serve(socket, &mut conn, &mut app, &EmbassyTimer, &mut hooks).await;
            }
            // Back to the socket's task, which closes it.
            drop(borrowed);
            if let Some(phase) = shared.phase.get(i) {
                phase.set(Phase::Served);
            }
            if let Some(waker) = shared.socket_wakers.get(i).and_then(Cell::take) {
                waker.wake();
            }
        }
    }
}

/// A connection idle between requests for this long gives way while others wait. Not at
/// once: a keep-alive client sends its next request right after reading a response, and a
/// close under it would leave that request without an answer (a client may retry it, but
/// need not).
pub const GIVE_WAY_IDLE_MS: u64 = 300;

/// A place's hooks: the timeouts, no keep-alive while others wait, giving way when idle,
/// and the caller's `on_response`.
struct PlaceHooks<'s, 'a, const S: usize, const P: usize> {
    shared: &'s Shared<'a, S, P>,
    timeouts: Timeouts,
    on_response: Option<fn(&Exchange<'_>)>,
    /// When the last response went out (or the connection came).
    answered_at: u64,
}

impl<const S: usize, const P: usize> Hooks for PlaceHooks<'_, '_, S, P> {
    fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    fn keep_alive(&self) -> bool {
        !self.shared.someone_waits()
    }

    fn give_way(&self, answered: bool) -> bool {
        let idle_ms = EmbassyTimer.now_ms().saturating_sub(self.answered_at);
        answered && idle_ms >= GIVE_WAY_IDLE_MS && self.shared.someone_waits()
    }

    fn check_interval_ms(&self) -> Option<u64> {
        Some(asynch::GIVE_WAY_CHECK_MS)
    }

    fn responded(&mut self, exchange: &Exchange<'_>) {
        self.answered_at = EmbassyTimer.now_ms();
        if let Some(on_response) = self.on_response {
            on_response(exchange);
        }
    }
}
