//! The example app (the same routes as `examples/server.rs`) on the async driver: tokio's
//! current-thread runtime, sockets adapted by `embedded-io-adapters`. On a board, the same
//! `asynch::serve` call runs over embassy-net sockets.
//!
//! ```text
//! cargo run --release --features async --example async_server                # 127.0.0.1:8000
//! cargo run --release --features async --example async_server -- 127.0.0.1:0
//! ```
//!
//! Ctrl+C stops accepting, lets open connections finish (up to 2 s) and exits.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use embedded_responder::io::asynch::{self, Timer};
use embedded_responder::response::BUSY_RESPONSE;
use embedded_responder::std_server::Config;
use embedded_responder::{demo, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// The driver's clock: tokio's.
struct TokioTimer(Instant);

impl Timer for TokioTimer {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
    async fn sleep_until(&self, deadline_ms: u64) {
        tokio::time::sleep_until(self.0 + Duration::from_millis(deadline_ms)).await
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut addr = String::from("127.0.0.1:8000");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quiet" | "-q" => {} // this example logs no requests
            "--help" | "-h" => {
                println!("usage: async_server [ADDRESS]   (default address 127.0.0.1:8000)");
                return;
            }
            _ => addr = arg,
        }
    }
    let listener = match TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on http://{local}/"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }

    // The std server's sizes and limits, so both examples answer alike.
    let config = Rc::new(Config::default());
    let timeouts = config.timeouts();
    let timer = Rc::new(TokioTimer(Instant::now()));
    let open = Rc::new(Cell::new(0usize));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = tokio::signal::ctrl_c() => break,
                };
                let Ok((mut stream, _peer)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if open.get() >= config.max_connections {
                    let _ = stream.write_all(BUSY_RESPONSE).await;
                    tokio::task::spawn_local(linger_close(stream, config.linger));
                    continue;
                }
                let _ = stream.set_nodelay(true);
                open.set(open.get() + 1);
                let (config, timer, open) = (config.clone(), timer.clone(), open.clone());
                tokio::task::spawn_local(async move {
                    let mut rx = vec![0u8; config.rx_size];
                    let mut tx = vec![0u8; config.tx_size];
                    let mut conn: Connection<'_> =
                        Connection::with_limits(&mut rx, &mut tx, config.limits);
                    let mut io = FromTokio::new(stream);
                    let mut app = demo::async_app();
                    let result =
                        asynch::serve(&mut io, &mut conn, &mut app, &*timer, &timeouts).await;
                    let stream = io.into_inner();
                    if !matches!(
                        result,
                        Err(embedded_responder::io::blocking::ServeError::Io(_))
                    ) {
                        linger_close(stream, config.linger).await;
                    }
                    open.set(open.get() - 1);
                });
            }
            eprintln!("shutting down");
            let deadline = Instant::now() + Duration::from_secs(2);
            while open.get() > 0 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    eprintln!("stopped");
}

/// Half-close, then drain what the client still sends (bounded), so that closing does not
/// reset the connection under the last response.
async fn linger_close(mut stream: TcpStream, linger: Duration) {
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(linger, async {
        let mut discarded = 0usize;
        while discarded < 1 << 20 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}
