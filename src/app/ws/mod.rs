//! WebSocket (RFC 6455), feature `ws`: the opening handshake ([`Handshake`]), a sans-IO
//! frame codec ([`frame`]), and a session over an upgraded connection ([`WebSocket`]).
//!
//! ```
//! use embedded_responder::ws::{Handshake, Message, WsError};
//! use embedded_responder::{get, Router};
//!
//! let app = Router::new().route(
//!     "/ws",
//!     get(|req, res| match Handshake::new(req) {
//!         Err(refusal) => refusal.respond(res),
//!         Ok(handshake) => {
//!             let mut ws = handshake.accept(res, None, 1024);
//!             let mut buf = [0u8; 1024];
//!             loop {
//!                 match ws.receive(&mut buf) {
//!                     Ok(Message::Text(t)) => {
//!                         // Copy out of `buf` before sending: `t` borrows it.
//!                         let mut echo = [0u8; 1024];
//!                         let n = t.len();
//!                         echo[..n].copy_from_slice(t.as_bytes());
//!                         let text = core::str::from_utf8(&echo[..n]).unwrap_or("");
//!                         if ws.send_text(text).is_err() {
//!                             break;
//!                         }
//!                     }
//!                     Ok(Message::Binary(_)) => {}
//!                     Err(_) => break,
//!                 }
//!             }
//!             ws.finish()
//!         }
//!     }),
//! );
//! # let _ = app;
//! ```
//!
//! ## Handshake
//!
//! [`Handshake::new`] checks a request as RFC 6455 §4.2.1 asks: `GET`, HTTP/1.1, `Upgrade`
//! with the token `websocket` and `Connection` with the token `upgrade` (token lists,
//! case-insensitive), one `Sec-WebSocket-Key` that decodes to 16 bytes,
//! `Sec-WebSocket-Version: 13`, no body. A request that fails gets a [`Refusal`]: 426 with
//! `Sec-WebSocket-Version: 13` for another version, 426 with `Upgrade: websocket` for a
//! request that did not ask to upgrade, 400 for a malformed one, 405 for a method other than
//! GET — never a 101. The app sees [`Handshake::origin`] (refuse cross-site pages with
//! [`Refusal::Forbidden`]) and [`Handshake::protocols`], and picks a subprotocol in
//! [`Handshake::accept`].
//!
//! ## Session
//!
//! [`WebSocket::receive`] takes a whole message into the caller's buffer (larger ones are
//! refused with 1009); [`WebSocket::receive_part`] hands a message over a buffer-full at a
//! time, for messages of any size up to the limit given to [`Handshake::accept`]. Pings are
//! answered while receiving, also between the frames of a message; a close is echoed and
//! ends the session ([`WsError::Closed`]); a protocol violation closes with its code
//! ([`WsError::Failed`]: 1002, 1007, 1009).
//!
//! In async code, `receive_async` and `receive_part_async` are cancel-safe: all progress
//! (a half-read frame, the part of a message already in the buffer, a pong being sent) is
//! kept in the [`WebSocket`], so they can race a timer or a sensor in a `select`; call
//! `receive_async` again **with the same buffer** to go on with a message. Sends are queued
//! in the transmit buffer and finished by the next operation if their future is dropped;
//! only a frame larger than the transmit buffer is sent from where it lies, and dropping
//! that half-way breaks the output (later sends fail).

mod session;

pub use crate::wire::ws::frame;
pub use session::{Message, Part, WebSocket, WsError};

use crate::handler::{Responded, Responder};
use crate::wire::{Method, Request, Status, Version};

/// RFC 6455 §1.3: appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Why a request is not a WebSocket opening handshake; [`Refusal::respond`] answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Refusal {
    /// Not `GET`: 405.
    Method,
    /// Not HTTP/1.1: 400 (an HTTP/1.0 request cannot upgrade).
    Version,
    /// No `Upgrade: websocket`: 426 with `Upgrade: websocket` (a plain request to a
    /// WebSocket route).
    NotUpgrade,
    /// `Upgrade: websocket` without `Connection: upgrade`, or a request with a body: 400.
    Malformed,
    /// `Sec-WebSocket-Key` missing, repeated, or not 16 bytes in base64: 400.
    Key,
    /// `Sec-WebSocket-Version` missing or not 13: 426 with `Sec-WebSocket-Version: 13`.
    WebSocketVersion,
    /// The app refuses it (e.g. a cross-site `Origin`): 403.
    Forbidden,
}

impl Refusal {
    /// The status to answer with.
    pub fn status(self) -> Status {
        match self {
            Refusal::Method => Status::METHOD_NOT_ALLOWED,
            Refusal::NotUpgrade | Refusal::WebSocketVersion => Status::UPGRADE_REQUIRED,
            Refusal::Forbidden => Status::FORBIDDEN,
            Refusal::Version | Refusal::Malformed | Refusal::Key => Status::BAD_REQUEST,
        }
    }

    /// Why, in a few words (the response's body).
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Method => "WebSocket handshake must be GET",
            Refusal::Version => "WebSocket needs HTTP/1.1",
            Refusal::NotUpgrade => "this is a WebSocket endpoint: upgrade to websocket",
            Refusal::Malformed => "malformed WebSocket handshake (Connection: upgrade, no body)",
            Refusal::Key => "invalid Sec-WebSocket-Key",
            Refusal::WebSocketVersion => "unsupported Sec-WebSocket-Version (13 is)",
            Refusal::Forbidden => "WebSocket refused",
        }
    }

    /// Answer the request with this refusal: its status, the headers RFC 6455 and RFC 9110
    /// ask for (`Allow`, `Upgrade`, `Sec-WebSocket-Version`), and the reason as text.
    pub fn respond(self, res: Responder<'_, '_>) -> Responded {
        let status = self.status();
        let reason = match status.code() {
            426 => "Upgrade Required",
            _ => status.reason(),
        };
        let mut head = res.start_with(status, reason);
        head = match self {
            Refusal::Method => head.header("Allow", "GET"),
            Refusal::NotUpgrade => head
                .header("Upgrade", "websocket")
                .header("Sec-WebSocket-Version", "13"),
            Refusal::WebSocketVersion => head
                .header("Upgrade", "websocket")
                .header("Sec-WebSocket-Version", "13"),
            _ => head,
        };
        head.header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| {
                w.push_str(self.as_str());
                w.push_str("\n");
            })
    }
}

/// A valid opening handshake, ready to be accepted.
#[derive(Debug, Clone)]
pub struct Handshake<'r> {
    accept: [u8; 28],
    protocols: Option<&'r str>,
    origin: Option<&'r str>,
}

/// Whether any header `name` holds `token` in its comma-separated list.
fn has_token(req: &Request<'_>, name: &str, token: &str) -> bool {
    req.headers()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

impl<'r> Handshake<'r> {
    /// Check `req` as an opening handshake (see the [module docs](self)).
    pub fn new(req: &Request<'r>) -> Result<Self, Refusal> {
        if req.method() != Method::Get {
            return Err(Refusal::Method);
        }
        if !has_token(req, "upgrade", "websocket") {
            return Err(Refusal::NotUpgrade);
        }
        if req.version() != Version::Http11 {
            return Err(Refusal::Version);
        }
        let with_body = req.header("content-length").is_some_and(|v| v != "0")
            || req.header("transfer-encoding").is_some();
        if !has_token(req, "connection", "upgrade") || with_body {
            return Err(Refusal::Malformed);
        }
        let mut versions = req
            .headers()
            .filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-version"));
        match (versions.next(), versions.next()) {
            (Some(v), None) if v.value == b"13" => {}
            _ => return Err(Refusal::WebSocketVersion),
        }
        let mut keys = req
            .headers()
            .filter(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"));
        let key = match (keys.next(), keys.next()) {
            (Some(key), None) => key.value,
            _ => return Err(Refusal::Key),
        };
        let accept = accept_key(key).ok_or(Refusal::Key)?;
        Ok(Handshake {
            accept,
            protocols: req.header("sec-websocket-protocol"),
            origin: req.header("origin"),
        })
    }

    /// The `Origin` header, if the client sent one (browsers always do). A page from another
    /// site can open a WebSocket to a device as easily as its own page can: compare this
    /// with the device's own address (or a list) and answer [`Refusal::Forbidden`] if it
    /// differs.
    pub fn origin(&self) -> Option<&'r str> {
        self.origin
    }

    /// The subprotocols the client offers (`Sec-WebSocket-Protocol`), in its order of
    /// preference.
    pub fn protocols(&self) -> impl Iterator<Item = &'r str> {
        self.protocols
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// Answer `101 Switching Protocols` and take the connection as a WebSocket. `protocol`
    /// must be one of [`Handshake::protocols`] (another is not sent: the client would fail
    /// the connection). Messages over `max_message` bytes are refused with 1009.
    ///
    /// If the connection cannot be upgraded (see [`crate::UpgradeHead::switch`]), every
    /// operation fails and the response is a 500.
    pub fn accept<'a, 's>(
        self,
        res: Responder<'a, 's>,
        protocol: Option<&str>,
        max_message: u64,
    ) -> WebSocket<'a, 's> {
        let mut head = res.upgrade("websocket").header(
            "Sec-WebSocket-Accept",
            core::str::from_utf8(&self.accept).unwrap_or(""),
        );
        if let Some(p) = protocol.filter(|p| self.protocols().any(|o| o == *p)) {
            head = head.header("Sec-WebSocket-Protocol", p);
        }
        WebSocket::new(head.switch(), max_message)
    }
}

/// `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)), if the key is base64 for 16
/// bytes.
fn accept_key(key: &[u8]) -> Option<[u8; 28]> {
    use base64::Engine;
    use sha1::Digest;
    let engine = base64::engine::general_purpose::STANDARD;
    if !is_base64_of_16_bytes(key) {
        return None;
    }
    let mut sha = sha1::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    let digest = sha.finalize();
    let mut accept = [0u8; 28];
    match engine.encode_slice(digest, &mut accept) {
        Ok(28) => Some(accept),
        _ => None,
    }
}

/// Whether `key` is the canonical base64 of 16 bytes (RFC 6455 §4.1's nonce): 22 characters
/// of the alphabet, the last of them carrying no bits past the 128th (`A`, `Q`, `g` or `w`),
/// then `==`. (The key is hashed as sent, never decoded, so a format check is all it needs:
/// the `base64` crate's decoder would add 1.7 KB to firmware for it.)
fn is_base64_of_16_bytes(key: &[u8]) -> bool {
    let in_alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    matches!(key, [digits @ .., b'=', b'=']
        if digits.len() == 22
            && digits.iter().all(in_alphabet)
            && matches!(digits[21], b'A' | b'Q' | b'g' | b'w'))
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn keys_are_the_base64_of_16_bytes_exactly() {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        // Every 16-byte value's encoding passes; the check agrees with the crate's decoder on
        // keys of every length and last character.
        for seed in 0u8..=255 {
            let bytes: [u8; 16] =
                core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8 * 7));
            let mut key = [0u8; 24];
            assert_eq!(engine.encode_slice(bytes, &mut key), Ok(24));
            assert!(is_base64_of_16_bytes(&key));
            for last in 0u8..=255 {
                let mut changed = key;
                changed[21] = last;
                let mut out = [0u8; 18];
                let decodes = matches!(engine.decode_slice(changed, &mut out), Ok(16));
                assert_eq!(is_base64_of_16_bytes(&changed), decodes, "last {last}");
            }
        }
        for bad in [
            &b""[..],
            b"dGhlIHNhbXBsZSBub25jZQ=",
            b"dGhlIHNhbXBsZSBub25jZQ==x",
            b"dGhlIHNhbXBsZSBub25jZ===",
            b"dGhlIHNhbXBsZSBub25jZQ",
            b"dGhlIHNhbXBsZSBub25jZ Q=",
            b"aGVsbG8=",
        ] {
            assert!(!is_base64_of_16_bytes(bad), "{bad:?}");
        }
        assert!(is_base64_of_16_bytes(b"dGhlIHNhbXBsZSBub25jZQ=="));
    }
}
