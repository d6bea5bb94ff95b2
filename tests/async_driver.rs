//! The async driver over in-memory IO on a small executor: the conformance table must give
//! exactly the blocking driver's bytes (whole, split at every byte, pipelined); async
//! handlers, read deadlines through the Timer, and the pool's give-way.
#![cfg(feature = "async")]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use std::time::Instant;

use common::cases::{cases, final_responses, serve as serve_blocking, NEXT, RX, TX};
use common::{parse_responses, Scripted};
use demo_app as demo;
use embedded_io::ErrorType;
use embedded_responder::async_fn;
use embedded_responder::io::asynch::{self, serve_pool, Listener, NoTimer, Place, Timer};
use embedded_responder::{get, Connection, Router, Status, Timeouts};

use common::YieldNow;

fn serve_async(mut io: Scripted) -> Scripted {
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut app = demo::app();
    let _ = futures_executor::block_on(asynch::serve(
        &mut io,
        &mut conn,
        &mut app,
        &NoTimer,
        &mut (),
    ));
    io
}

#[test]
fn conformance_table_gives_the_blocking_drivers_bytes() {
    let table = cases();
    assert!(table.len() >= 100);
    for c in &table {
        let mut input = c.input.clone();
        input.extend_from_slice(NEXT);
        let expected =
            final_responses(serve_blocking(Scripted::stepped(&input, usize::MAX)).output);
        let whole = final_responses(serve_async(Scripted::stepped(&input, usize::MAX)).output);
        assert_eq!(whole, expected, "{} whole", c.name);
        for cut in 1..input.len() {
            let out = final_responses(serve_async(Scripted::cut_at(&input, vec![cut])).output);
            assert_eq!(out, expected, "{} split at {cut}", c.name);
        }
        let bytewise = final_responses(serve_async(Scripted::stepped(&input, 1)).output);
        assert_eq!(bytewise, expected, "{} byte by byte", c.name);
        assert_eq!(
            parse_responses(&whole, &[c.head, false])[0].status,
            c.status,
            "{}",
            c.name
        );
    }
}

#[test]
fn an_async_handler_awaits_and_a_router_serves_the_rest() {
    let sensor = Cell::new(21i64);
    let mut router = Router::new().route("/", get(|_req, res| res.text("index")));
    // An app with one awaiting endpoint, delegating everything else to the router.
    let mut app = async_fn(async |req, res| {
        if req.path() == "/temperature" {
            YieldNow(false).await; // e.g. a sensor read over an async bus
            sensor.set(sensor.get() + 1);
            let t = sensor.get();
            res.start(Status::OK).body_with(|w| w.push_i64(t))
        } else {
            embedded_responder::Handler::handle(&mut router, req, res)
        }
    });
    let input = b"GET /temperature HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /temperature HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut io = Scripted::stepped(input, 5);
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 256];
    let mut conn = Connection::new(&mut rx, &mut tx);
    futures_executor::block_on(asynch::serve(
        &mut io,
        &mut conn,
        &mut app,
        &NoTimer,
        &mut (),
    ))
    .unwrap();
    let r = parse_responses(&io.output, &[]);
    let bodies: Vec<&[u8]> = r.iter().map(|r| r.body.as_slice()).collect();
    assert_eq!(bodies, [&b"22"[..], b"index", b"23"]);
}

/// Real time, slept by yielding (the executor re-polls at once).
struct SpinTimer(Instant);

impl Timer for SpinTimer {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    async fn sleep_until(&self, deadline_ms: u64) {
        while self.now_ms() < deadline_ms {
            YieldNow(false).await;
        }
    }
}

#[test]
fn the_timer_turns_a_stalled_head_into_408_and_an_idle_wait_into_a_close() {
    let timeouts = Timeouts {
        idle_ms: 200,
        request_ms: 300,
        ..Timeouts::DEFAULT
    };
    let run = |input: &[u8]| {
        let output = Rc::new(RefCell::new(Vec::new()));
        // sends `input`, then neither sends nor closes
        let mut io = Client {
            input: input.to_vec(),
            pos: 0,
            closes: false,
            output: output.clone(),
        };
        let mut rx = [0u8; 512];
        let mut tx = [0u8; 256];
        let mut conn = Connection::new(&mut rx, &mut tx);
        let mut app = demo::app();
        let started = Instant::now();
        let timer = SpinTimer(Instant::now());
        let _ =
            futures_executor::block_on(asynch::serve(&mut io, &mut conn, &mut app, &timer, &mut {
                timeouts
            }));
        let out = output.borrow().clone();
        (out, started.elapsed())
    };
    let (out, took) = run(b"GET / HTTP/1.1\r\nHo");
    assert!(
        out.starts_with(b"HTTP/1.1 408 "),
        "{}",
        String::from_utf8_lossy(&out)
    );
    assert!(
        took.as_millis() >= 280 && took.as_millis() < 2000,
        "{took:?}"
    );

    let (out, took) = run(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let r = parse_responses(&out, &[]);
    assert_eq!(r.len(), 1, "one answer, then a silent idle close");
    assert!(
        took.as_millis() >= 190 && took.as_millis() < 2000,
        "{took:?}"
    );
}

/// Clients for the pool: each is a script of bytes and whether the client closes after it.
type Clients = Rc<RefCell<VecDeque<(Vec<u8>, bool, Rc<RefCell<Vec<u8>>>)>>>;

struct Client {
    input: Vec<u8>,
    pos: usize,
    closes: bool,
    output: Rc<RefCell<Vec<u8>>>,
}

impl ErrorType for Client {
    type Error = core::convert::Infallible;
}

impl embedded_io_async::Read for Client {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        YieldNow(false).await;
        if self.pos == self.input.len() {
            if self.closes {
                return Ok(0);
            }
            std::future::pending::<()>().await;
        }
        let n = (self.input.len() - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl embedded_io_async::Write for Client {
    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.output.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
}

struct MemListener {
    clients: Clients,
    current: Option<Client>,
    accepted: Rc<Cell<usize>>,
}

impl Listener for MemListener {
    type Io = Client;
    async fn accept(&mut self) -> Result<&mut Client, core::convert::Infallible> {
        loop {
            let next = self.clients.borrow_mut().pop_front();
            if let Some((input, closes, output)) = next {
                self.accepted.set(self.accepted.get() + 1);
                return Ok(self.current.insert(Client {
                    input,
                    pos: 0,
                    closes,
                    output,
                }));
            }
            YieldNow(false).await;
        }
    }
    async fn close(&mut self) {
        self.current = None;
    }
}

#[test]
fn a_full_pool_serves_a_waiting_client_when_idle_connections_give_way() {
    let clients: Clients = Rc::default();
    let outputs: Vec<Rc<RefCell<Vec<u8>>>> = (0..3).map(|_| Rc::default()).collect();
    // two keep-alive clients that never close, then one that waits for a place
    for (i, output) in outputs.iter().enumerate() {
        let closes = i == 2;
        let request: &[u8] = if closes {
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        } else {
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        };
        clients
            .borrow_mut()
            .push_back((request.to_vec(), closes, output.clone()));
    }
    let accepted = Rc::new(Cell::new(0));
    let (mut rx0, mut tx0, mut rx1, mut tx1) = ([0u8; 512], [0u8; 256], [0u8; 512], [0u8; 256]);
    let mut places = [
        Place {
            limits: embedded_responder::Limits::DEFAULT,
            listener: MemListener {
                clients: clients.clone(),
                current: None,
                accepted: accepted.clone(),
            },
            rx: &mut rx0,
            tx: &mut tx0,
        },
        Place {
            limits: embedded_responder::Limits::DEFAULT,
            listener: MemListener {
                clients: clients.clone(),
                current: None,
                accepted: accepted.clone(),
            },
            rx: &mut rx1,
            tx: &mut tx1,
        },
    ];
    let timer = SpinTimer(Instant::now());
    // a long idle timeout: only giving way can free a place in time
    let timeouts = Timeouts {
        idle_ms: 60_000,
        request_ms: 60_000,
        ..Timeouts::DEFAULT
    };
    let third_served = {
        let out = outputs[2].clone();
        async move {
            while out.borrow().is_empty() {
                YieldNow(false).await;
            }
        }
    };
    let started = Instant::now();
    let app = demo::app;
    futures_executor::block_on(embassy_futures::select::select(
        serve_pool::<_, _, _, 2, 16>(&mut places, &app, &timer, &timeouts),
        third_served,
    ));
    assert!(started.elapsed().as_millis() < 5_000);
    assert_eq!(accepted.get(), 3);
    for output in &outputs {
        let r = parse_responses(&output.borrow(), &[]);
        assert_eq!(r[0].status, 200);
        assert_eq!(r[0].body, demo::PAGE.as_bytes());
    }
}

struct TokioTimer(tokio::time::Instant);

impl Timer for TokioTimer {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    async fn sleep_until(&self, deadline_ms: u64) {
        tokio::time::sleep_until(self.0 + std::time::Duration::from_millis(deadline_ms)).await
    }
}

/// The async driver on tokio over real loopback sockets, with the in-memory run's buffer
/// sizes; returns the address. The server thread ends with the test process.
fn start_tokio_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        local.block_on(&rt, async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let timer = Rc::new(TokioTimer(tokio::time::Instant::now()));
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let timer = timer.clone();
                tokio::task::spawn_local(async move {
                    let mut rx = [0u8; RX];
                    let mut tx = [0u8; TX];
                    let mut conn = Connection::new(&mut rx, &mut tx);
                    let mut io = embedded_io_adapters::tokio_1::FromTokio::new(stream);
                    let mut app = demo::app();
                    let _ = asynch::serve(&mut io, &mut conn, &mut app, &*timer, &mut ()).await;
                    // Half-close and drain briefly, as the examples do, so the last response
                    // is not lost to a reset.
                    let mut stream = io.into_inner();
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let _ = stream.shutdown().await;
                    let mut sink = [0u8; 1024];
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
                        while let Ok(n) = stream.read(&mut sink).await {
                            if n == 0 {
                                break;
                            }
                        }
                    })
                    .await;
                });
            }
        });
    });
    addr
}

#[test]
fn conformance_table_over_real_sockets_on_tokio_gives_the_in_memory_bytes() {
    use std::io::{Read, Write};
    let addr = start_tokio_server();
    let next = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    for c in cases() {
        let mut input = c.input.clone();
        input.extend_from_slice(next);
        let expected =
            final_responses(serve_blocking(Scripted::stepped(&input, usize::MAX)).output);
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        s.write_all(&input).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&final_responses(out)),
            String::from_utf8_lossy(&expected),
            "{}",
            c.name
        );
    }
}
