//! hyper 1.x HTTP/1.1 on tokio's current-thread runtime. Usage: hyper ADDRESS (other
//! arguments are ignored, so that tests/hostile.py can run it as it runs our examples).
//!
//! Set up as a careful hyper user would for hostile clients: a header read timeout of 10 s
//! (our request deadline) with hyper_util's tokio timer, accept errors (out of file
//! descriptors) backed off instead of fatal, and on Ctrl+C a graceful shutdown (hyper_util's
//! `GracefulShutdown`: connections finish their request in flight and close) bounded by 10 s.
//! It prints `listening on http://ADDRESS/` as our examples do. No connection cap: hyper has
//! none of its own.
//!
//! The routes (`GET /`, `POST /upload`, `GET /stream?bytes=N`) are `peers::hyper_app`'s,
//! shared with `hyper_tls`.
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8201".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    println!("listening on http://{}/", listener.local_addr().unwrap());
    let graceful = GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut ctrl_c => break,
        };
        stream.set_nodelay(true).unwrap();
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .serve_connection(TokioIo::new(stream), service_fn(peers::hyper_app::handle));
        let connection = graceful.watch(connection);
        tokio::task::spawn(async move {
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
}
