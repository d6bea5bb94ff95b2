//! picoserve 0.20 on tokio's current-thread runtime, keep-alive on and TCP_NODELAY set (without
//! it picoserve's header-by-header writes stall on Nagle's algorithm). Usage: picoserve ADDRESS
use picoserve::time::Duration;
use std::rc::Rc;

use picoserve::response::Response;
use picoserve::routing::get;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8205".into());
    let app = Rc::new(picoserve::Router::new().route(
        "/",
        get(|| async { Response::ok(peers::PAGE).with_content_type("text/html; charset=utf-8") }),
    ));
    let config = Rc::new(
        picoserve::Config::new(picoserve::Timeouts {
            start_read_request: Duration::from_secs(5),
            persistent_start_read_request: Duration::from_secs(5),
            read_request: Duration::from_secs(5),
            write: Duration::from_secs(5),
        })
        .keep_connection_alive(),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    tokio::task::LocalSet::new()
        .run_until(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (app, config) = (Rc::clone(&app), Rc::clone(&config));
                tokio::task::spawn_local(async move {
                    let mut buffer = [0u8; 2048];
                    let _ = picoserve::Server::new_tokio(&app, &config, &mut buffer)
                        .serve(stream)
                        .await;
                });
            }
        })
        .await;
}
