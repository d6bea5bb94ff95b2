//! The hyper peers' service (`hyper` over plain TCP, `hyper_tls` over tokio-rustls): the
//! routes our example serves and the benches measure. `GET /` (the page), `POST /upload` (the
//! body streamed frame by frame, answered `{"bytes":N,"crc32":"xxxxxxxx"}` with the same crate
//! and CRC as the demo on hosts: `crc32fast`) and `GET /stream?bytes=N` (N bytes of
//! `0123456789abcdef`, produced 16 KiB at a time, chunked like ours); anything else 404.
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Bytes, Frame};
use hyper::{Method, Request, Response, StatusCode};

/// The 16-byte pattern repeated over 16 KiB, as in the demo app (`demo_app`).
static PATTERN: [u8; 16 * 1024] = {
    let mut block = [0u8; 16 * 1024];
    let mut i = 0;
    while i < block.len() {
        block[i] = b"0123456789abcdef"[i % 16];
        i += 1;
    }
    block
};

/// `/stream`'s body: `left` more bytes of the pattern, one 16 KiB piece per frame. No exact
/// size hint, so hyper frames it chunked, as ours does for HTTP/1.1 clients.
pub struct PatternBody {
    left: u64,
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(PATTERN.len() as u64);
        self.left -= n;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(
            &PATTERN[..n as usize],
        )))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }
}

/// A response: a whole body, or `/stream`'s pattern.
pub type Reply = Response<Either<Full<Bytes>, PatternBody>>;

fn full(status: StatusCode, content_type: &str, body: Bytes) -> Reply {
    Response::builder()
        .status(status)
        .header("Content-Type", content_type)
        .body(Either::Left(Full::new(body)))
        .unwrap()
}

async fn upload(req: Request<hyper::body::Incoming>) -> Reply {
    let mut body = req.into_body();
    let mut crc = crc32fast::Hasher::new();
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    crc.update(&data);
                    total += data.len() as u64;
                }
            }
            Err(_) => return full(StatusCode::BAD_REQUEST, "text/plain", Bytes::new()),
        }
    }
    let json = format!("{{\"bytes\":{total},\"crc32\":\"{:08x}\"}}", crc.finalize());
    full(StatusCode::OK, "application/json", Bytes::from(json))
}

fn stream(req: &Request<hyper::body::Incoming>) -> Reply {
    let bytes = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("bytes=")))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|&n| n <= 1 << 40);
    match bytes {
        Some(left) => Response::builder()
            .header("Content-Type", "application/octet-stream")
            .body(Either::Right(PatternBody { left }))
            .unwrap(),
        None => full(
            StatusCode::BAD_REQUEST,
            "text/plain",
            Bytes::from_static(b"bytes=N (0 to 2^40) is required\n"),
        ),
    }
}

/// The service: `hyper::service::service_fn(handle)`.
pub async fn handle(req: Request<hyper::body::Incoming>) -> Result<Reply, Infallible> {
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => full(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(crate::PAGE.as_bytes()),
        ),
        (&Method::POST, "/upload") => upload(req).await,
        (&Method::GET, "/stream") => stream(&req),
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Either::Left(Full::new(Bytes::new())))
            .unwrap(),
    })
}
