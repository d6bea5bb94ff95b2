//! Streaming over real loopback sockets, on both host servers: hostile uploads (stalled,
//! lying about their length, broken chunk framing), a client that reads a streamed response
//! slowly and then not at all, and event-stream clients that vanish. Clients written
//! elsewhere (requests, curl, sseclient-py, Chromium) are in `tests/streaming_clients.py`.
#![cfg(feature = "tokio")]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use demo_app as demo;
use embedded_responder::host::{Config, ShutdownHandle};
use embedded_responder::io::blocking::Polled;

/// Which host server.
#[derive(Debug, Clone, Copy)]
enum Host {
    Threads,
    Tokio,
}

const HOSTS: [Host; 2] = [Host::Threads, Host::Tokio];

struct Running {
    addr: SocketAddr,
    handle: ShutdownHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(host: Host, config: Config) -> Running {
        let config = Config {
            log: false,
            ..config
        };
        match host {
            Host::Threads => {
                let server =
                    embedded_responder::host::std_server::Server::bind("127.0.0.1:0", config)
                        .expect("bind");
                let (addr, handle) = (server.local_addr().unwrap(), server.shutdown_handle());
                let thread = std::thread::spawn(move || server.serve(|| Polled(demo::app())));
                Running {
                    addr,
                    handle,
                    thread: Some(thread),
                }
            }
            Host::Tokio => {
                let server =
                    embedded_responder::host::tokio_server::Server::bind("127.0.0.1:0", config)
                        .expect("bind");
                let (addr, handle) = (server.local_addr().unwrap(), server.shutdown_handle());
                let thread = std::thread::spawn(move || server.run(demo::app));
                Running {
                    addr,
                    handle,
                    thread: Some(thread),
                }
            }
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.handle.shutdown();
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("serve");
        }
    }
}

fn short_timeouts() -> Config {
    Config {
        request_timeout: Duration::from_millis(400),
        write_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(400),
        body_idle_timeout: Some(Duration::from_millis(400)),
        linger: Duration::from_millis(200),
        ..Config::default()
    }
}

/// Everything the server sends until it closes (or 10 s).
fn read_all(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn status(response: &[u8]) -> u16 {
    std::str::from_utf8(&response[9..12])
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_stalled_upload_gets_408_when_a_piece_is_late() {
    for host in HOSTS {
        let server = Running::start(host, short_timeouts());
        let mut s = server.connect();
        let started = Instant::now();
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            .unwrap();
        s.write_all(&[b'x'; 5000]).unwrap();
        let out = read_all(&mut s);
        assert_eq!(status(&out), 408, "{host:?}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(350) && took < Duration::from_secs(5),
            "{host:?}: {took:?}"
        );
    }
}

#[test]
fn uploads_that_lie_or_break_their_framing_get_400() {
    for host in HOSTS {
        let server = Running::start(host, short_timeouts());
        // Shorter than declared, then the client half-closes: the body is incomplete.
        let mut s = server.connect();
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            .unwrap();
        s.write_all(&[b'x'; 20000]).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        assert_eq!(status(&read_all(&mut s)), 400, "{host:?}: short body");

        // Longer than declared: the rest is read as the next request, which is malformed.
        let mut s = server.connect();
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
            .unwrap();
        s.write_all(&[b'x'; 20000]).unwrap();
        s.write_all(b"garbage after the body\r\n\r\n").unwrap();
        let out = String::from_utf8_lossy(&read_all(&mut s)).into_owned();
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{host:?}: {out}");
        assert!(out.contains("\"bytes\":20000"), "{host:?}: {out}");
        assert!(out.contains("HTTP/1.1 400 Bad Request"), "{host:?}: {out}");

        // Chunk framing broken after 20 KB of good chunks.
        let mut s = server.connect();
        s.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        for _ in 0..20 {
            s.write_all(b"400\r\n").unwrap();
            s.write_all(&[b'y'; 1024]).unwrap();
            s.write_all(b"\r\n").unwrap();
        }
        s.write_all(b"zz\r\n").unwrap();
        let out = read_all(&mut s);
        assert_eq!(status(&out), 400, "{host:?}: bad chunk");
        assert!(String::from_utf8_lossy(&out).contains("Connection: close"));
    }
}

#[test]
fn a_slow_reader_is_followed_and_a_reader_that_stops_is_dropped() {
    for host in HOSTS {
        let server = Running::start(host, short_timeouts());
        let mut s = server.connect();
        s.write_all(b"GET /stream?bytes=100000000000 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        // Slowly: 4 KiB every 20 ms for a second, each piece the right bytes.
        let mut buf = [0u8; 4096];
        let mut got = 0usize;
        for _ in 0..50 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "{host:?}");
            got += n;
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(got >= 50, "{host:?}");
        // Then not at all: the server stops writing within the write timeout and drops the
        // connection; what it had sent is then read, and the stream ends unfinished.
        std::thread::sleep(Duration::from_millis(1500));
        let started = Instant::now();
        let mut rest = 0usize;
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => rest += n,
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{host:?}: still streaming"
            );
        }
        // Bounded by the socket buffers, not by the 100 GB asked for.
        assert!(rest < 64 << 20, "{host:?}: {rest} bytes after stopping");
        // The server is still there.
        let mut s = server.connect();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        assert_eq!(status(&read_all(&mut s)), 200, "{host:?}");
    }
}

#[test]
fn event_stream_clients_that_vanish_free_their_places() {
    for host in HOSTS {
        let server = Running::start(
            host,
            Config {
                max_connections: 8,
                ..short_timeouts()
            },
        );
        for round in 0..3 {
            let mut clients: Vec<TcpStream> = (0..8).map(|_| server.connect()).collect();
            for c in &mut clients {
                c.write_all(b"GET /events?interval_ms=50 HTTP/1.1\r\nHost: x\r\n\r\n")
                    .unwrap();
                let mut first = [0u8; 64];
                let n = c.read(&mut first).unwrap();
                assert!(
                    first[..n].starts_with(b"HTTP/1.1 200 OK"),
                    "{host:?} round {round}"
                );
            }
            // All eight go away without a word; their handlers end at their next event and
            // the places are free for the next round (else it would get 503s).
            drop(clients);
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

#[test]
fn shutdown_ends_open_event_streams_cleanly() {
    for host in HOSTS {
        let server = Running::start(host, short_timeouts());
        let mut s = server.connect();
        s.write_all(b"GET /events?interval_ms=100 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 64];
        assert!(s.read(&mut first).unwrap() > 0);
        let started = Instant::now();
        drop(server); // shuts down and joins
        assert!(started.elapsed() < Duration::from_secs(3), "{host:?}");
        let rest = String::from_utf8_lossy(&read_all(&mut s)).into_owned();
        assert!(
            rest.ends_with("0\r\n\r\n"),
            "{host:?}: the last chunk: {rest:?}"
        );
    }
}
