//! The host servers' general acceptor (`Server::with_acceptor`) over real sockets, on both
//! servers: a made-up tunnel whose handshake is a line `TUNNEL open\n` before HTTP. What is
//! checked is the host policy around any handshake: HTTP is served after it; a handshake
//! that fails or never completes gets no HTTP answer and is closed (within
//! `Config::handshake_timeout`); at the cap, a connection still in its handshake is evicted
//! for a new one that shows progress. (TLS itself, through `host::tls::Tls`, is tested with
//! real TLS clients in tests/tls_clients.py and tests/hostile.py.)
#![cfg(feature = "std")]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use demo_app as demo;
use embedded_responder::host::std_server::{self, Waiting};
use embedded_responder::host::{Config, Handshake, ShutdownHandle};
use embedded_responder::io::blocking::Polled;

const PREAMBLE: &[u8] = b"TUNNEL open\n";

/// The tunnel on the thread server: reads the preamble a byte at a time, asking the server
/// after each read timeout whether to go on waiting.
struct Tunnel;

impl Handshake for Tunnel {}

impl std_server::Acceptor for Tunnel {
    type Stream = TcpStream;

    fn accept(&self, mut tcp: TcpStream, waiting: &Waiting<'_>) -> io::Result<TcpStream> {
        let mut got = 0;
        let mut byte = [0u8; 1];
        while got < PREAMBLE.len() {
            match tcp.read(&mut byte) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) if byte[0] == PREAMBLE[got] => got += 1,
                Ok(_) => return Err(io::Error::other("not the tunnel's preamble")),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    waiting.keep_waiting()?
                }
                Err(e) => return Err(e),
            }
        }
        Ok(tcp)
    }
}

fn config(max_connections: usize, handshake_timeout: Duration) -> Config {
    Config {
        log: false,
        max_connections,
        handshake_timeout,
        ..Config::default()
    }
}

/// A server with the tunnel: its address and a handle; joined by the caller.
fn start(
    tokio: bool,
    max_connections: usize,
    handshake_timeout: Duration,
) -> (SocketAddr, ShutdownHandle, std::thread::JoinHandle<()>) {
    let config = config(max_connections, handshake_timeout);
    #[cfg(feature = "tokio")]
    if tokio {
        use embedded_responder::host::tokio_server::{AcceptWith, Server};
        use tokio::io::AsyncReadExt as _;
        let tunnel = AcceptWith(|mut tcp: tokio::net::TcpStream| async move {
            let mut line = [0u8; PREAMBLE.len()];
            tcp.read_exact(&mut line).await?;
            if line != PREAMBLE {
                return Err(io::Error::other("not the tunnel's preamble"));
            }
            Ok(tcp)
        });
        let server = Server::bind("127.0.0.1:0", config)
            .unwrap()
            .with_acceptor(tunnel);
        let (addr, handle) = (server.local_addr().unwrap(), server.shutdown_handle());
        let thread = std::thread::spawn(move || server.run(demo::app).unwrap());
        return (addr, handle, thread);
    }
    assert!(!tokio, "the tokio server needs feature tokio");
    let server = std_server::Server::bind("127.0.0.1:0", config)
        .unwrap()
        .with_acceptor(Tunnel);
    let (addr, handle) = (server.local_addr().unwrap(), server.shutdown_handle());
    let thread = std::thread::spawn(move || server.serve(|| Polled(demo::app())).unwrap());
    (addr, handle, thread)
}

/// Send `bytes`, then read until the server closes (at most 5 s): what came back, and when
/// the close came.
fn exchange(addr: SocketAddr, bytes: &[u8]) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    (got, started.elapsed())
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

fn served_after_the_handshake_and_not_before(tokio: bool) {
    let (addr, handle, thread) = start(tokio, 64, Duration::from_millis(400));
    let (got, _) = exchange(addr, &[PREAMBLE, GET].concat());
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    // A wrong preamble: closed, nothing of HTTP.
    let (got, took) = exchange(addr, &[b"TUNNEL shut\n", GET].concat());
    assert!(
        got.is_empty() && took < Duration::from_secs(2),
        "{got:?} after {took:?}"
    );
    // Silent: closed when the handshake's time is up (400 ms), not answered.
    let (got, took) = exchange(addr, b"TUNNEL");
    assert!(got.is_empty(), "{got:?}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    handle.shutdown();
    thread.join().unwrap();
}

fn at_the_cap_a_stalled_handshake_makes_room(tokio: bool) {
    // (A long handshake timeout: only eviction can free a place in time.)
    let (addr, handle, thread) = start(tokio, 2, Duration::from_secs(30));
    // Two connections hold both places, stalled in their handshakes.
    let stalled: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"TUN").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300)); // older than the eviction threshold
                                                    // A third shows progress (a whole request head) and takes the place of the oldest.
    let (got, took) = exchange(addr, &[PREAMBLE, GET].concat());
    assert!(
        got.starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    // The evicted handshake is closed within the server's 100 ms check; the other waits on.
    let closed_within = |mut s: &TcpStream, wait: Duration| {
        s.set_read_timeout(Some(wait)).unwrap();
        matches!(s.read(&mut [0u8; 16]), Ok(0))
    };
    let evicted = stalled
        .iter()
        .filter(|s| closed_within(s, Duration::from_millis(500)));
    assert_eq!(evicted.count(), 1);
    drop(stalled);
    handle.shutdown();
    thread.join().unwrap();
}

#[test]
fn thread_server_serves_after_the_handshake_and_not_before() {
    served_after_the_handshake_and_not_before(false);
}

#[test]
fn thread_server_evicts_a_stalled_handshake_at_the_cap() {
    at_the_cap_a_stalled_handshake_makes_room(false);
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_server_serves_after_the_handshake_and_not_before() {
    served_after_the_handshake_and_not_before(true);
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_server_evicts_a_stalled_handshake_at_the_cap() {
    at_the_cap_a_stalled_handshake_makes_room(true);
}
