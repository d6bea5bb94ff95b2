//! Blocking and async handlers in one router, on the tokio server: a page, an event stream,
//! an upload counted as it arrives, the same behind Basic auth, and CORS for a page served
//! from `http://localhost:3000`.
//!
//! ```text
//! cargo run --release --example async_router                 # 127.0.0.1:8000
//! cargo run --release --example async_router -- 127.0.0.1:0   # any free port
//! curl -N http://127.0.0.1:8000/ticks
//! curl --data-binary @firmware.bin http://127.0.0.1:8000/count
//! curl -u admin:secret --data-binary @firmware.bin http://127.0.0.1:8000/secret
//! ```

use embedded_responder::auth::BasicAuth;
use embedded_responder::cors::Cors;
use embedded_responder::host::{tokio_server::Server, Config};
use embedded_responder::sse::{decimal, Event};
use embedded_responder::{
    async_fn, get, get_async, on, post_async, AsyncHandler, Method, Request, Responded, Responder,
    Router, Status,
};

/// The largest upload `/count` and `/secret` take.
const LIMIT: u64 = 16 * 1024 * 1024;

/// Pages served from here may call every route.
static CORS: Cors = Cors::new(&["http://localhost:3000"])
    .methods(&[Method::Get, Method::Post])
    .headers(&["content-type", "authorization"]);

/// `GET /ticks`: three events, `event: tick`, ids 1 to 3, 200 ms apart.
async fn ticks<'a>(_req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let mut events = res.event_stream();
    for seq in 1..=3u64 {
        let mut id = [0u8; 20];
        let id = decimal(seq, &mut id);
        let event = Event::new(id).event("tick").id(id);
        if events.send_async(&event).await.is_err() {
            return events.abort();
        }
        if seq < 3 && events.sleep_ms_async(200).await.is_err() {
            break;
        }
    }
    events.finish_async().await
}

/// `POST /count`: the body's length in bytes, as decimal text, read as it arrives.
async fn count<'a>(_req: &Request<'a>, mut res: Responder<'a, '_>) -> Responded {
    match res.request_body().for_each_async(|_piece| {}).await {
        Ok(total) => res
            .start(Status::OK)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| w.push_u64(total)),
        Err(e) => res.error(e),
    }
}

/// The app: one router, blocking and async routes alike, behind CORS.
fn app(auth: BasicAuth<'static>) -> impl AsyncHandler {
    Router::new()
        .route(
            "/",
            get(|_req, res| res.html("<h1>async router</h1><p>GET /ticks, POST /count</p>")),
        )
        .route("/ticks", get_async(ticks))
        .route("/count", post_async(count).stream_body(LIMIT))
        .route(
            "/secret",
            on(Method::Post, auth.protect(async_fn(count))).stream_body(LIMIT),
        )
        .layer(&CORS)
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8000".into());
    let auth = match BasicAuth::new("async router", "admin", "secret") {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("credentials: {e:?}");
            std::process::exit(1);
        }
    };
    let server = match Server::bind(&addr, Config::default()) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let handle = server.shutdown_handle();
    if let Err(e) = ctrlc::set_handler(move || handle.shutdown()) {
        eprintln!("cannot install the Ctrl+C handler: {e}");
    }
    match server.local_addr() {
        Ok(local) => println!("listening on http://{local}/"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    if let Err(e) = server.run(move || app(auth)) {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
