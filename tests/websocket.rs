//! WebSocket over both drivers, in memory: the handshake's bytes, echo with the input split at
//! every byte (frames in the handshake's packet included), a message whose receive is
//! cancelled again and again by a `select` that another branch wins, and an upgrade that
//! cannot happen (no driver, HTTP/1.0). Real clients are in `tests/ws_clients.py`.
#![cfg(feature = "ws")]

mod common;

use common::Scripted;
use demo_app as demo;
use embedded_responder::io::blocking::{serve, serve_buffered, Polled};
use embedded_responder::{get, Connection, Router};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// RFC 6455 §1.3's example: the accept key for `KEY`.
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn upgrade(path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// A masked client frame.
fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    let n = payload.len();
    if n < 126 {
        out.push(0x80 | n as u8);
    } else if n < 65536 {
        out.push(0x80 | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    let key = [0x37, 0xfa, 0x21, 0x3d];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// The server's output: its response head, then its frames as (opcode, fin, payload).
fn parse(out: &[u8]) -> (String, Vec<(u8, bool, Vec<u8>)>) {
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let head = String::from_utf8(out[..end].to_vec()).unwrap();
    let mut rest = &out[end..];
    let mut frames = Vec::new();
    while rest.len() >= 2 {
        assert_eq!(rest[1] & 0x80, 0, "server frames are not masked");
        let (mut n, mut at) = (usize::from(rest[1] & 0x7f), 2);
        if n == 126 {
            n = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            at = 4;
        } else if n == 127 {
            n = u64::from_be_bytes(rest[2..10].try_into().unwrap()) as usize;
            at = 10;
        }
        frames.push((
            rest[0] & 0x0f,
            rest[0] & 0x80 != 0,
            rest[at..at + n].to_vec(),
        ));
        rest = &rest[at + n..];
    }
    assert!(rest.is_empty(), "a truncated frame: {rest:?}");
    (head, frames)
}

/// Messages out of frames (data frames joined), and the close code if any.
fn messages(frames: &[(u8, bool, Vec<u8>)]) -> (Vec<(u8, Vec<u8>)>, Option<u16>) {
    let (mut out, mut current, mut close) = (Vec::new(), None::<(u8, Vec<u8>)>, None);
    for (op, fin, payload) in frames {
        match op {
            1 | 2 => current = Some((*op, payload.clone())),
            0 => current.as_mut().unwrap().1.extend_from_slice(payload),
            8 => close = Some(u16::from_be_bytes([payload[0], payload[1]])),
            _ => continue,
        }
        if *fin && *op <= 2 {
            out.extend(current.take());
        }
    }
    (out, close)
}

fn echo_input() -> (Vec<u8>, Vec<(u8, Vec<u8>)>) {
    let mut input = upgrade("/ws");
    let big: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
    input.extend(frame(1, true, "héllo".as_bytes()));
    input.extend(frame(2, false, &big[..100]));
    input.extend(frame(9, true, b"ping!"));
    input.extend(frame(0, true, &big[100..]));
    input.extend(frame(1, false, &"世".as_bytes()[..1]));
    input.extend(frame(0, true, &"世".as_bytes()[1..]));
    input.extend(frame(2, true, b""));
    input.extend(frame(8, true, &1000u16.to_be_bytes()));
    let expected = vec![
        (1, "héllo".as_bytes().to_vec()),
        (2, big),
        (1, "世".as_bytes().to_vec()),
        (2, Vec::new()),
    ];
    (input, expected)
}

#[test]
fn handshake_bytes_follow_rfc_6455() {
    let mut io = Scripted::stepped(&upgrade("/ws"), 1 << 20);
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut Polled(demo::app()));
    let (head, frames) = parse(&io.output);
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\nUpgrade: websocket\r\n"), "{head}");
    assert!(head.contains("\r\nConnection: Upgrade\r\n"), "{head}");
    assert!(
        head.contains(&format!("\r\nSec-WebSocket-Accept: {ACCEPT}\r\n")),
        "{head}"
    );
    assert!(!head.contains("Content-Length"), "{head}");
    // The peer left without a close (1006): nothing more is sent.
    assert_eq!(messages(&frames), (vec![], None));
}

#[test]
fn echo_at_every_split_over_the_blocking_driver() {
    let (input, expected) = echo_input();
    for cut in 1..input.len() {
        let mut io = Scripted::cut_at(&input, vec![cut]);
        let (mut rx, mut tx) = ([0u8; 320], [0u8; 256]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let _ = serve(&mut io, &mut conn, &mut Polled(demo::app()));
        let (head, frames) = parse(&io.output);
        assert!(head.starts_with("HTTP/1.1 101"), "cut {cut}: {head}");
        assert!(frames.contains(&(10, true, b"ping!".to_vec())), "cut {cut}");
        assert_eq!(
            messages(&frames),
            (expected.clone(), Some(1000)),
            "cut {cut}"
        );
    }
}

#[test]
fn violations_close_with_their_code_and_end_the_connection() {
    for (frames, code) in [
        (frame(1, true, b"\xff"), 1007),
        (vec![0x81, 0x01, b'x'], 1002),
        (frame(9, false, b"p"), 1002),
        (frame(2, true, &vec![0; 65 * 1024]), 1009),
    ] {
        let mut input = upgrade("/ws");
        input.extend(frames);
        input.extend(frame(1, true, b"never read"));
        let mut io = Scripted::stepped(&input, 4096);
        let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let _ = serve(&mut io, &mut conn, &mut Polled(demo::app()));
        let (_, out) = parse(&io.output);
        assert_eq!(messages(&out), (vec![], Some(code)));
    }
}

#[test]
fn an_upgrade_without_a_driver_or_over_http_1_0_is_never_a_101() {
    // serve_buffered lends no wire: the handler cannot take the connection.
    let mut io = Scripted::stepped(&upgrade("/ws"), 1 << 20);
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve_buffered(&mut io, &mut conn, &mut Polled(demo::app()), &mut ());
    let out = String::from_utf8_lossy(&io.output).to_string();
    assert!(out.starts_with("HTTP/1.1 500"), "{out}");
    // A handler that upgrades without checking: HTTP/1.0 cannot switch (RFC 9110 §7.8).
    let mut app = Router::new().route(
        "/raw",
        get(|_req, res| {
            let mut raw = res.upgrade("raw").switch();
            let _ = raw.write(b"hello");
            raw.finish()
        }),
    );
    let mut io = Scripted::stepped(b"GET /raw HTTP/1.0\r\nHost: x\r\n\r\n", 1 << 20);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    let out = String::from_utf8_lossy(&io.output).to_string();
    assert!(out.starts_with("HTTP/1.1 500"), "{out}");
    assert!(!out.contains("hello"), "{out}");
    // The same over HTTP/1.1 switches, and the raw bytes follow the head.
    let mut io = Scripted::stepped(b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n", 1 << 20);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    let out = String::from_utf8_lossy(&io.output).to_string();
    assert!(out.starts_with("HTTP/1.1 101"), "{out}");
    assert!(out.ends_with("\r\n\r\nhello"), "{out}");
}

#[cfg(feature = "async")]
mod over_the_async_driver {
    use super::*;
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll};
    use embassy_futures::select::{select, Either};
    use embedded_responder::async_fn;
    use embedded_responder::io::asynch::{self, Timer};
    use embedded_responder::ws::{Handshake, Message};
    use embedded_responder::{Request, Responded, Responder, Timeouts};
    use std::time::Duration;

    struct TokioTimer(tokio::time::Instant);

    impl Timer for TokioTimer {
        fn now_ms(&self) -> u64 {
            self.0.elapsed().as_millis() as u64
        }
        async fn sleep_until(&self, deadline_ms: u64) {
            tokio::time::sleep_until(self.0 + Duration::from_millis(deadline_ms)).await
        }
    }

    fn serve_cut<A: embedded_responder::AsyncHandler>(
        app: &mut A,
        input: &[u8],
        cuts: Vec<usize>,
    ) -> Vec<u8> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let mut io = Scripted::cut_at(input, cuts);
        runtime.block_on(async {
            let timer = TokioTimer(tokio::time::Instant::now());
            let (mut rx, mut tx) = (vec![0u8; 320], vec![0u8; 256]);
            let mut conn = Connection::new(&mut rx, &mut tx);
            let mut timeouts = Timeouts::DEFAULT;
            let _ = asynch::serve(&mut io, &mut conn, app, &timer, &mut timeouts).await;
        });
        io.output
    }

    #[test]
    fn echo_at_every_split() {
        let (input, expected) = echo_input();
        for cut in 1..input.len() {
            let cuts = [cut, cut + 37].into_iter().filter(|&c| c < input.len());
            let out = serve_cut(&mut demo::app(), &input, cuts.collect());
            let (head, frames) = parse(&out);
            assert!(head.starts_with("HTTP/1.1 101"), "cut {cut}: {head}");
            assert_eq!(
                messages(&frames),
                (expected.clone(), Some(1000)),
                "cut {cut}"
            );
        }
    }

    /// Ready on every other poll: wins a `select` whenever the other branch waits.
    struct EveryOther(bool);

    impl Future for EveryOther {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.0 = !self.0;
            if self.0 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }
    }

    /// Receives whole messages while a rival future keeps winning the `select`; each message
    /// is echoed, and after `second`, whether any race was lost.
    async fn racing<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        let Ok(handshake) = Handshake::new(req) else {
            return res.text("no");
        };
        let mut ws = handshake.accept(res, None, 4096);
        let mut buf = [0u8; 512];
        let mut lost = 0u32;
        loop {
            let got = match select(ws.receive_async(&mut buf), EveryOther(false)).await {
                Either::Second(()) => {
                    lost += 1;
                    continue;
                }
                Either::First(Ok(Message::Binary(b))) => b.len(),
                Either::First(_) => break,
            };
            let copy = buf;
            if ws.send_binary_async(&copy[..got]).await.is_err() {
                break;
            }
            if &copy[..got] == b"second" {
                let _ = ws
                    .send_text_async(if lost > 0 { "lost races" } else { "none" })
                    .await;
            }
        }
        ws.finish_async().await
    }

    #[test]
    fn a_receive_cancelled_by_select_loses_nothing() {
        let mut input = upgrade("/race");
        let big: Vec<u8> = (0..400u32).map(|i| (i * 7 % 256) as u8).collect();
        input.extend(frame(2, false, &big[..150]));
        input.extend(frame(9, true, b"x"));
        input.extend(frame(0, true, &big[150..]));
        input.extend(frame(2, true, b"second"));
        // Reads of 3 bytes: every frame is half-read many times when the rival wins.
        let cuts: Vec<usize> = (1..input.len() / 3).map(|i| i * 3).collect();
        let mut app = async_fn(racing);
        let out = serve_cut(&mut app, &input, cuts);
        let (_, frames) = parse(&out);
        let (msgs, _) = messages(&frames);
        assert_eq!(
            msgs,
            vec![
                (2, big),
                (2, b"second".to_vec()),
                (1, b"lost races".to_vec())
            ]
        );
        assert!(frames.contains(&(10, true, b"x".to_vec())));
    }
}
