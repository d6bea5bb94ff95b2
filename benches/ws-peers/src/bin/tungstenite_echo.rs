//! The peer for benches/ws_compare.sh: a WebSocket echo on `GET /ws` built with
//! tokio-tungstenite, set up like embedded-responder's tokio server (examples/server.rs):
//! one current-thread runtime (a LocalSet, a task per connection), TCP_NODELAY, and the
//! same 64 KiB message limit as the demo's `/ws` (demo::WS_MAX_MESSAGE). Every text or
//! binary message comes back as one message (tungstenite sends it as one frame); pings are
//! answered by tungstenite itself; anything but `GET /ws` is refused with 404.
//!
//! `tungstenite_echo [ADDRESS]` (default 127.0.0.1:8000; port 0 for any free port); prints
//! `listening on http://ADDR/` first, as examples/server.rs does.

use std::io::Write as _;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// demo::WS_MAX_MESSAGE in embedded-responder, unless the second argument gives another
/// (as `--ws-max-message` does for the demo).
const MAX_MESSAGE: usize = 64 * 1024;

fn max_message() -> usize {
    std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(MAX_MESSAGE)
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve(addr));
}

async fn serve(addr: String) {
    let listener = match TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "listening on http://{}/",
        listener.local_addr().expect("address")
    );
    let _ = std::io::stdout().flush();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::task::spawn_local(echo(stream));
    }
}

/// Only `GET /ws` is upgraded (tungstenite itself refuses methods other than GET).
fn only_ws(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if request.uri().path() == "/ws" {
        Ok(response)
    } else {
        let mut refusal = ErrorResponse::new(Some("not found\n".into()));
        *refusal.status_mut() = StatusCode::NOT_FOUND;
        Err(refusal)
    }
}

async fn echo(stream: TcpStream) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message()))
        .max_frame_size(Some(max_message()));
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, only_ws, Some(config)).await
    else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        let reply = match message {
            Message::Text(_) | Message::Binary(_) => message,
            // tungstenite queues the pong and the close reply itself; they go out with the
            // next write or flush.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Close(_) => break,
        };
        if ws.send(reply).await.is_err() {
            break;
        }
    }
    let _ = ws.close(None).await;
}
