// The real-socket tests, run against the thread server (tests/std_server.rs) and the tokio
// server (tests/tokio_server.rs). Included, not a module: `TOKIO` and `mod common` come from
// the including file.


use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use common::cases::{cases, final_responses, serve, RX, TX};
use common::{parse_responses, Scripted};
use embedded_responder::io::blocking::Polled;
use embedded_responder::host::{std_server::Server, Config};
use demo_app as demo;
use embedded_responder::{Limits};

/// A running demo server; shut down and joined on drop.
struct Running {
    addr: SocketAddr,
    shutdown: Box<dyn Fn() + Send>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(config: Config) -> Running {
        Self::start_at("127.0.0.1:0", config)
    }

        /// The thread server, or with `TOKIO` the tokio server.
    fn start_at(addr: &str, config: Config) -> Running {
        let config = Config {
            log: false,
            ..config
        };
        #[cfg(feature = "tokio")]
        if TOKIO {
            let server = embedded_responder::host::tokio_server::Server::bind(addr, config).expect("bind");
            let addr = server.local_addr().unwrap();
            let handle = server.shutdown_handle();
            let thread = std::thread::spawn(move || server.run(demo::app));
            return Running {
                addr,
                shutdown: Box::new(move || handle.shutdown()),
                thread: Some(thread),
            };
        }
        let server = Server::bind(addr, config).expect("bind");
        let addr = server.local_addr().unwrap();
        let handle = server.shutdown_handle();
        let thread = std::thread::spawn(move || server.serve(|| Polled(demo::app())));
        Running {
            addr,
            shutdown: Box::new(move || handle.shutdown()),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn stop(&mut self) {
        (self.shutdown)();
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread").expect("serve result");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// Send raw bytes, read until the server closes or `timeout` passes.
fn raw_exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(timeout)).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn ureq_sees_page_echo_404_405() {
    let server = Running::start(Config::default());
    let agent = agent();

    let mut r = agent.get(&server.url("/")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    assert_eq!(r.body_mut().read_to_string().unwrap(), demo::PAGE);

    let mut r = agent
        .post(&server.url("/echo"))
        .header("Content-Type", "application/json")
        .send(&b"{\"n\":1}"[..])
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json");
    assert_eq!(r.body_mut().read_to_string().unwrap(), "{\"n\":1}");

    // a body larger than the transmit buffer goes out from the receive buffer
    let big: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut r = agent.post(&server.url("/echo")).send(&big[..]).unwrap();
    assert_eq!(r.body_mut().read_to_vec().unwrap(), big);

    let mut r = agent.get(&server.url("/missing")).call().unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.body_mut().read_to_string().unwrap(), demo::NOT_FOUND_PAGE);

    let r = agent.delete(&server.url("/")).call().unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers().get("allow").unwrap(), "GET, HEAD, OPTIONS");

    let r = agent.head(&server.url("/")).call().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers().get("content-length").unwrap(), "152");
}

#[test]
fn keep_alive_and_pipelining_on_one_socket() {
    let server = Running::start(Config::default());
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // three requests in one write, the last one closing
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\
          GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let r = parse_responses(&out, &[]);
    assert_eq!(
        r.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 404]
    );
    assert_eq!(r[1].body, b"hi");
    assert!(r[2].closes());
}

#[test]
fn bad_requests_get_their_status_and_a_close() {
    let server = Running::start(Config::default());
    let t = Duration::from_secs(5);
    let status = |req: &[u8]| {
        let out = raw_exchange(server.addr, req, t);
        let r = parse_responses(&out, &[]);
        assert_eq!(r.len(), 1, "{:?}", String::from_utf8_lossy(req));
        assert!(r[0].closes());
        r[0].status
    };
    assert_eq!(status(b"GET / HTTP/1.1\nHost: x\n\n"), 400);
    assert_eq!(status(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert_eq!(status(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n"), 501);
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(20_000));
    assert_eq!(status(long.as_bytes()), 414);
    let big_head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(status(big_head.as_bytes()), 431);
    // 413 arrives even though the client is still sending a large body (lingering close)
    let mut body = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n".to_vec();
    body.resize(body.len() + 200_000, b'z');
    assert_eq!(status(&body), 413);
}

#[test]
fn stalled_head_gets_408_and_idle_connection_is_closed() {
    let server = Running::start(Config {
        idle_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let started = Instant::now();
    let out = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nHo", Duration::from_secs(5));
    assert_eq!(parse_responses(&out, &[])[0].status, 408);
    assert!(started.elapsed() < Duration::from_secs(4));

    // idle keep-alive connection: closed without a response
    let out = raw_exchange(server.addr, b"", Duration::from_secs(5));
    assert!(out.is_empty());
}

#[test]
fn a_client_trickling_its_head_gets_408_at_the_request_deadline() {
    let server = Running::start(Config {
        idle_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_millis(800),
        ..Config::default()
    });
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    // one byte every 100 ms: each read succeeds well within any per-read timeout
    for &b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter() {
        if s.write_all(&[b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let elapsed = started.elapsed();
    let r = parse_responses(&out, &[]);
    assert_eq!(r[0].status, 408, "{}", String::from_utf8_lossy(&out));
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

#[test]
fn sixty_four_idle_connections_do_not_stop_a_65th_client() {
    let server = Running::start(Config::default());
    let idle: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(server.addr).unwrap())
        .collect();
    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(parse_responses(&out, &[])[0].status, 200);
    drop(idle);
}

#[test]
fn over_the_connection_cap_a_client_gets_503_not_a_hang() {
    let server = Running::start(Config {
        max_connections: 2,
        ..Config::default()
    });
    // two event streams take both places (proved by their heads); a connection whose
    // request is being handled is never evicted to make room
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 512];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
    }
    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    );
    let r = parse_responses(&out, &[]);
    assert_eq!(r[0].status, 503);
    assert_eq!(r[0].header("retry-after"), Some("1"));
    drop(held);
    // once they are gone, clients are served again
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = raw_exchange(
            server.addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        if parse_responses(&out, &[])[0].status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "never served again");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn at_the_cap_a_whole_request_takes_the_place_of_an_idle_connection() {
    let server = Running::start(Config {
        max_connections: 2,
        ..Config::default()
    });
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(server.addr).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(s);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Idle long enough to be evicted (250 ms; see the host module docs, "Under load").
    std::thread::sleep(Duration::from_millis(400));
    let out = raw_exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(parse_responses(&out, &[])[0].status, 200);
    // The one that waited longest was closed, silently; the other is still open.
    let closed = |s: &mut TcpStream| {
        s.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
        matches!(s.read(&mut [0u8; 64]), Ok(0))
    };
    assert!(closed(&mut held[0]));
    assert!(!closed(&mut held[1]));
}

#[test]
fn restart_on_the_same_port_at_once_and_shutdown_with_idle_clients() {
    let mut first = Running::start(Config::default());
    let addr = first.addr;
    // an idle keep-alive client must not hold the shutdown up until its timeout
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 512];
    assert!(idle.read(&mut buf).unwrap() > 0);
    let started = Instant::now();
    first.stop();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        started.elapsed()
    );
    // the same port, immediately
    let second = Running::start_at(&addr.to_string(), Config::default());
    let out = raw_exchange(
        second.addr,
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(parse_responses(&out, &[])[0].status, 200);
}

#[test]
fn many_clients_at_once() {
    let server = Running::start(Config::default());
    let addr = server.addr;
    let threads: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut req = Vec::new();
                for _ in 0..20 {
                    let body = format!("client {i}");
                    req.extend_from_slice(
                        format!(
                            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    );
                }
                req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                s.write_all(&req).unwrap();
                let mut out = Vec::new();
                s.read_to_end(&mut out).unwrap();
                let r = parse_responses(&out, &[]);
                assert_eq!(r.len(), 21);
                for resp in &r[..20] {
                    assert_eq!(resp.body, format!("client {i}").as_bytes());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn curl_available() -> bool {
    Command::new("curl").arg("--version").output().is_ok()
}

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn curl_sees_the_page_and_the_rest() {
    if !curl_available() {
        eprintln!("curl not installed: skipped (CI installs it)");
        return;
    }
    let server = Running::start(Config::default());
    let (page, _) = curl(&[&server.url("/")]);
    assert_eq!(page, demo::PAGE);

    let (head, _) = curl(&["-i", "--http1.0", &server.url("/")]);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Connection: close\r\n"));

    let (head, _) = curl(&["-I", &server.url("/")]);
    assert!(head.contains("Content-Length: 152\r\n"), "{head}");

    let (echo, _) = curl(&[
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        "posted by curl",
        &server.url("/echo"),
    ]);
    assert_eq!(echo, "posted by curl");

    let (code, _) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &server.url("/nope"),
    ]);
    assert_eq!(code, "404");
    let (code, _) = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "DELETE",
        &server.url("/"),
    ]);
    assert_eq!(code, "405");

    // Expect: 100-continue: curl waits for the 100, and shows it with -v
    let (echo, log) = curl(&[
        "-v",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        "expected body",
        &server.url("/echo"),
    ]);
    assert_eq!(echo, "expected body");
    assert!(log.contains("HTTP/1.1 100 Continue"), "{log}");

    // chunked upload
    let (echo, log) = curl(&[
        "-v",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "chunked by curl",
        &server.url("/echo"),
    ]);
    assert_eq!(echo, "chunked by curl");
    assert!(log.contains("Transfer-Encoding: chunked"), "{log}");

    // several URLs on one connection: curl reports reusing it
    let (_, log) = curl(&["-v", &server.url("/"), &server.url("/"), &server.url("/")]);
    assert!(
        log.matches("Re-using existing connection").count()
            + log.matches("Reusing existing").count()
            >= 2,
        "{log}"
    );
}

#[test]
fn the_conformance_table_over_real_sockets_gives_the_in_memory_bytes() {
    // The same buffer sizes and limits as the in-memory run, so the answers must be equal.
    let server = Running::start(Config {
        rx_size: RX,
        tx_size: TX,
        limits: Limits::DEFAULT,
        ..Config::default()
    });
    let next = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let table = cases();
    for c in &table {
        let mut input = c.input.clone();
        input.extend_from_slice(next);
        let expected = final_responses(serve(Scripted::stepped(&input, usize::MAX)).output);
        let out = final_responses(raw_exchange(server.addr, &input, Duration::from_secs(5)));
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "{}",
            c.name
        );
        let first = &parse_responses(&out, &[c.head, false])[0];
        assert_eq!(first.status, c.status, "{}", c.name);
    }
    assert!(table.len() >= 100);
}

#[test]
fn two_hundred_connections_mixed_valid_garbage_and_stalling() {
    let server = Running::start(Config {
        request_timeout: Duration::from_millis(1500),
        ..Config::default()
    });
    let addr = server.addr;
    let started = Instant::now();
    let clients: Vec<_> = (0..200u32)
        .map(|i| {
            std::thread::spawn(move || -> Result<u32, String> {
                let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut out = Vec::new();
                match i % 4 {
                    // valid keep-alive: five echoes with this client's own bodies
                    0 => {
                        let mut req = Vec::new();
                        for k in 0..5 {
                            let body = format!("client {i} request {k}");
                            req.extend_from_slice(
                                format!(
                                    "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                                    body.len()
                                )
                                .as_bytes(),
                            );
                        }
                        req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                        s.write_all(&req).map_err(|e| e.to_string())?;
                        s.read_to_end(&mut out).map_err(|e| e.to_string())?;
                        let r = parse_responses(&out, &[]);
                        if r.len() != 6 {
                            return Err(format!("client {i}: {} responses", r.len()));
                        }
                        for (k, resp) in r[..5].iter().enumerate() {
                            if resp.body != format!("client {i} request {k}").as_bytes() {
                                return Err(format!("client {i}: wrong echo {k}"));
                            }
                        }
                        if r[5].body != demo::PAGE.as_bytes() {
                            return Err(format!("client {i}: wrong page"));
                        }
                        Ok(200)
                    }
                    // garbage
                    1 => {
                        let junk: Vec<u8> = (0..500u32).map(|k| (k * 7 + i) as u8).collect();
                        let _ = s.write_all(&junk);
                        let _ = s.read_to_end(&mut out);
                        Ok(parse_responses(&out, &[]).first().map_or(0, |r| r.status as u32))
                    }
                    // stalls in the middle of a head
                    2 => {
                        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Stall: ").map_err(|e| e.to_string())?;
                        s.read_to_end(&mut out).map_err(|e| e.to_string())?;
                        Ok(parse_responses(&out, &[]).first().map_or(0, |r| r.status as u32))
                    }
                    // valid chunked upload
                    _ => {
                        let req = format!(
                            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                             5\r\nchunk\r\n{:x}\r\n client {i}\r\n0\r\n\r\n",
                            format!(" client {i}").len()
                        );
                        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
                        s.read_to_end(&mut out).map_err(|e| e.to_string())?;
                        let r = parse_responses(&out, &[]);
                        if r.len() != 1 || r[0].body != format!("chunk client {i}").as_bytes() {
                            return Err(format!("client {i}: chunked echo {r:?}"));
                        }
                        Ok(200)
                    }
                }
            })
        })
        .collect();
    let mut by_kind = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for (i, c) in clients.into_iter().enumerate() {
        let result = c.join().expect("client thread");
        by_kind[i % 4].push(result);
    }
    for (kind, expected) in [(0, 200), (1, 400), (2, 408), (3, 200)] {
        for r in &by_kind[kind] {
            assert_eq!(r.as_ref(), Ok(&expected), "kind {kind}");
        }
    }
    // the stalls were cut at the request deadline, not at some later timeout
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}
