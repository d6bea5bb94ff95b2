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

pub mod frame;
mod utf8;

use crate::request::{Method, Request, Version};
use crate::response::{Responded, Responder, Status};
use crate::stream::{block, StreamError};
use crate::upgrade::Upgraded;
use frame::{close_payload, encode_header, CloseCode, Decoder, Opcode, Piece};

/// Below this much free queue space, a frame is flushed at once.
const QUEUE_LOW: usize = 512;

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

/// A message received whole by [`WebSocket::receive`], borrowing the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'b> {
    /// A text message (valid UTF-8).
    Text(&'b str),
    /// A binary message.
    Binary(&'b [u8]),
}

/// A piece of a message received by [`WebSocket::receive_part`]: `len` bytes at the front of
/// the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The message is text (its pieces together are valid UTF-8; one piece may end inside
    /// a character).
    pub text: bool,
    /// Bytes in the buffer.
    pub len: usize,
    /// The message's first piece.
    pub first: bool,
    /// The message's last piece.
    pub last: bool,
}

/// Why a WebSocket operation ended the session (or could not be done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WsError {
    /// The session is closed: the peer's code (1005 if its close frame had none, 1006 if it
    /// went away without one), after the close handshake was answered; or the code this
    /// side closed with.
    Closed(CloseCode),
    /// The peer broke the protocol or sent a message over the limit: the session was closed
    /// with this code (1002, 1007 or 1009).
    Failed(CloseCode),
    /// A send out of order: a part of a message that was not started, a new message while a
    /// message sent in parts is open, a control payload over 125 bytes, or a close code that
    /// may not be sent.
    Misuse,
    /// The connection failed, timed out, or the server is shutting down
    /// ([`StreamError::ShuttingDown`]: close with 1001).
    Stream(StreamError),
}

impl From<StreamError> for WsError {
    fn from(e: StreamError) -> Self {
        WsError::Stream(e)
    }
}

/// Where the close handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    /// This side sent a close with this code; the peer's is awaited.
    Sent(CloseCode),
    /// Both sides are done (the code to report).
    Done(CloseCode),
}

/// A WebSocket session over an upgraded connection; see the [module docs](self). Made by
/// [`Handshake::accept`]; end it with [`WebSocket::finish`], which closes the connection.
pub struct WebSocket<'a, 's> {
    io: Upgraded<'a, 's>,
    decoder: Decoder,
    closing: Closing,
    /// Bytes of the message [`WebSocket::receive_async`] has put in the caller's buffer.
    partial: usize,
    /// A message sent in parts is open.
    sending: bool,
    /// The server is stopping: close with 1001.
    stopping: bool,
}

impl core::fmt::Debug for WebSocket<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocket")
            .field("closing", &self.closing)
            .field("partial", &self.partial)
            .finish()
    }
}

impl<'a, 's> WebSocket<'a, 's> {
    /// A session over `io` (after a WebSocket handshake), refusing messages over
    /// `max_message` bytes.
    pub fn new(io: Upgraded<'a, 's>, max_message: u64) -> Self {
        WebSocket {
            io,
            decoder: Decoder::new(max_message),
            closing: Closing::Open,
            partial: 0,
            sending: false,
            stopping: false,
        }
    }

    /// The upgraded connection underneath (its clock: [`Upgraded::now_ms`]).
    pub fn connection(&mut self) -> &mut Upgraded<'a, 's> {
        &mut self.io
    }

    /// Receive the next piece of a message into `buf` (at most `buf.len()` bytes, which must
    /// not be 0); see [`Part`]. Answers pings and the close handshake on the way.
    pub async fn receive_part_async(&mut self, buf: &mut [u8]) -> Result<Part, WsError> {
        self.io.set_read_deadline(None);
        self.receive_part_noting(buf).await
    }

    /// [`WebSocket::receive_part_async`] that gives up at `deadline_ms` on the driver's clock
    /// ([`Upgraded::now_ms`]) with `Ok(None)`, keeping what it received so far: how a
    /// blocking handler sends something every so often while it also receives.
    pub async fn receive_part_until_async(
        &mut self,
        buf: &mut [u8],
        deadline_ms: u64,
    ) -> Result<Option<Part>, WsError> {
        self.io.set_read_deadline(Some(deadline_ms));
        let result = self.receive_part_noting(buf).await;
        self.io.set_read_deadline(None);
        match result {
            Err(WsError::Stream(StreamError::TimedOut)) => Ok(None),
            other => other.map(Some),
        }
    }

    /// [`WebSocket::receive_part_until_async`] for blocking handlers.
    pub fn receive_part_until(
        &mut self,
        buf: &mut [u8],
        deadline_ms: u64,
    ) -> Result<Option<Part>, WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async {
            Ok(self.receive_part_until_async(buf, deadline_ms).await)
        })?
    }

    async fn receive_part_noting(&mut self, buf: &mut [u8]) -> Result<Part, WsError> {
        let result = self.receive_part_inner(buf).await;
        if let Err(WsError::Stream(StreamError::ShuttingDown)) = result {
            self.stopping = true;
        }
        result
    }

    async fn receive_part_inner(&mut self, buf: &mut [u8]) -> Result<Part, WsError> {
        loop {
            if let Closing::Done(code) = self.closing {
                // The answering close (queued while decoding) leaves first, best effort.
                let _ = self.io.flush_async().await;
                return Err(WsError::Closed(code));
            }
            // Room for a pong or a close before more is decoded (what is queued leaves at the
            // latest before the next wait for input).
            if self.io.queue_space().len() < QUEUE_LOW {
                self.io.flush_async().await?;
            }
            if let Some(part) = self.decode(buf)? {
                return Ok(part);
            }
            if let Closing::Done(_) = self.closing {
                continue;
            }
            let before = self.io.available().len();
            if self.io.fill_async().await?.is_empty() {
                self.closing = Closing::Done(CloseCode(1006));
            } else if self.io.available().len() == before && before > 0 {
                // Nothing decodable and no room to read more: cannot happen with a receive
                // buffer over 14 bytes; fail rather than spin.
                return Err(self.fail(CloseCode::TOO_BIG).await);
            }
        }
    }

    /// [`WebSocket::receive_part_async`] for blocking handlers.
    pub fn receive_part(&mut self, buf: &mut [u8]) -> Result<Part, WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async { Ok(self.receive_part_async(buf).await) })?
    }

    /// Receive a whole message into `buf`; one larger than `buf` closes the session with
    /// 1009. Cancel-safe if called again with the same `buf` (see the [module docs](self)).
    pub async fn receive_async<'b>(&mut self, buf: &'b mut [u8]) -> Result<Message<'b>, WsError> {
        loop {
            let at = self.partial.min(buf.len());
            if at == buf.len() {
                self.partial = 0;
                return Err(self.fail(CloseCode::TOO_BIG).await);
            }
            let part = self.receive_part_async(&mut buf[at..]).await?;
            self.partial = at + part.len;
            if part.last {
                let len = core::mem::take(&mut self.partial);
                let bytes = &buf[..len];
                return Ok(if part.text {
                    // Validated by the decoder, across all pieces.
                    Message::Text(core::str::from_utf8(bytes).unwrap_or(""))
                } else {
                    Message::Binary(bytes)
                });
            }
        }
    }

    /// [`WebSocket::receive_async`] for blocking handlers.
    pub fn receive<'b>(&mut self, buf: &'b mut [u8]) -> Result<Message<'b>, WsError> {
        let blocking = self.io.is_blocking();
        let len = block(blocking, async {
            Ok(self.receive_async(buf).await.map(|m| match m {
                Message::Text(t) => (true, t.len()),
                Message::Binary(b) => (false, b.len()),
            }))
        })??;
        Ok(match len {
            (true, n) => Message::Text(core::str::from_utf8(&buf[..n]).unwrap_or("")),
            (false, n) => Message::Binary(&buf[..n]),
        })
    }

    /// Decode what has arrived: a data piece copied into `buf`, or `None` when more input is
    /// needed (control frames are answered here).
    fn decode(&mut self, buf: &mut [u8]) -> Result<Option<Part>, WsError> {
        if buf.is_empty() {
            return Err(WsError::Misuse);
        }
        loop {
            let input = self.io.available_mut();
            if input.is_empty() {
                return Ok(None);
            }
            let take = input.len().min(buf.len());
            let mut control = [0u8; 125];
            let (used, reply) = match self.decoder.decode(&mut input[..take]) {
                Err(code) => {
                    self.queue_close(code);
                    self.closing = Closing::Done(code);
                    return Err(WsError::Failed(code));
                }
                Ok((0, None)) => return Ok(None),
                Ok((used, None)) => (used, None),
                Ok((
                    used,
                    Some(Piece::Data {
                        text,
                        data,
                        first,
                        last,
                    }),
                )) => {
                    let len = data.len();
                    buf[..len].copy_from_slice(data);
                    self.io.consume(used);
                    return Ok(Some(Part {
                        text,
                        len,
                        first,
                        last,
                    }));
                }
                Ok((used, Some(Piece::Ping(payload)))) => {
                    control[..payload.len()].copy_from_slice(payload);
                    (used, Some((Opcode::Pong, payload.len())))
                }
                Ok((used, Some(Piece::Pong(_)))) => (used, None),
                Ok((used, Some(Piece::Close { code, .. }))) => {
                    let code = code.unwrap_or(CloseCode(1005));
                    match self.closing {
                        Closing::Sent(ours) => self.closing = Closing::Done(ours),
                        _ => {
                            // Echo the peer's code (it was checked to be sendable).
                            let n = match close_payload(code, "") {
                                Ok((payload, n)) if code.0 != 1005 => {
                                    control[..n].copy_from_slice(&payload[..n]);
                                    n
                                }
                                _ => 0,
                            };
                            self.closing = Closing::Done(code);
                            self.io.consume(used);
                            self.queue_frame(Opcode::Close, &control[..n]);
                            return Ok(None);
                        }
                    }
                    (used, None)
                }
            };
            self.io.consume(used);
            if let Some((opcode, n)) = reply {
                if self.closing == Closing::Open {
                    self.queue_frame(opcode, &control[..n]);
                }
            }
        }
    }

    /// Queue a small frame (a control frame) in the transmit buffer; the queue is empty
    /// whenever this is called, and the buffer holds at least 127 bytes.
    fn queue_frame(&mut self, opcode: Opcode, payload: &[u8]) {
        let (header, n) = encode_header(opcode, true, payload.len() as u64);
        let space = self.io.queue_space();
        if let Some(dst) = space.get_mut(..n + payload.len()) {
            dst[..n].copy_from_slice(&header[..n]);
            dst[n..].copy_from_slice(payload);
            self.io.queue(n + payload.len());
        }
    }

    fn queue_close(&mut self, code: CloseCode) {
        if let Ok((payload, n)) = close_payload(code, "") {
            self.queue_frame(Opcode::Close, &payload[..n]);
        }
    }

    /// Close with `code` after a violation found here: the close frame, best effort.
    async fn fail(&mut self, code: CloseCode) -> WsError {
        if self.closing == Closing::Open {
            self.queue_close(code);
            let _ = self.io.flush_async().await;
        }
        self.closing = Closing::Done(code);
        WsError::Failed(code)
    }

    /// Send one frame: queued with its header when it fits, else the header queued and the
    /// payload sent from where it lies. The frames of a message sent in parts share writes
    /// while they fit the transmit buffer; its last frame is flushed.
    async fn send_frame(
        &mut self,
        opcode: Opcode,
        fin: bool,
        payload: &[u8],
    ) -> Result<(), WsError> {
        match self.closing {
            Closing::Open => {}
            Closing::Sent(code) | Closing::Done(code) => return Err(WsError::Closed(code)),
        }
        let (header, n) = encode_header(opcode, fin, payload.len() as u64);
        if self.io.queue_space().len() < n + payload.len() {
            self.io.flush_async().await?;
        }
        let space = self.io.queue_space();
        match space.get_mut(..n + payload.len()) {
            Some(dst) => {
                dst[..n].copy_from_slice(&header[..n]);
                dst[n..].copy_from_slice(payload);
                self.io.queue(n + payload.len());
                // A message's last frame leaves now; earlier ones wait for more to share a
                // write, unless the queue is nearly full (a receive flushes before it waits).
                if fin || self.io.queue_space().len() < QUEUE_LOW {
                    self.io.flush_async().await?;
                }
            }
            None => {
                self.io.write_async(&header[..n]).await?;
                self.io.write_direct(payload).await?;
            }
        }
        Ok(())
    }

    /// Send a text message.
    pub async fn send_text_async(&mut self, text: &str) -> Result<(), WsError> {
        self.send_part_async(true, text.as_bytes(), true, true)
            .await
    }

    /// Send a binary message.
    pub async fn send_binary_async(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.send_part_async(false, data, true, true).await
    }

    /// Send a message in parts, one frame each: `first` on the first, `last` on the final
    /// one (`text` is read on the first). A text message's parts together must be UTF-8
    /// (the peer checks it; a part may end inside a character).
    pub async fn send_part_async(
        &mut self,
        text: bool,
        data: &[u8],
        first: bool,
        last: bool,
    ) -> Result<(), WsError> {
        if first == self.sending {
            return Err(WsError::Misuse);
        }
        let opcode = match (first, text) {
            (false, _) => Opcode::Continuation,
            (true, true) => Opcode::Text,
            (true, false) => Opcode::Binary,
        };
        self.send_frame(opcode, last, data).await?;
        self.sending = !last;
        Ok(())
    }

    /// Send a ping (payload at most 125 bytes); its pong is taken while receiving.
    pub async fn ping_async(&mut self, payload: &[u8]) -> Result<(), WsError> {
        if payload.len() > 125 {
            return Err(WsError::Misuse);
        }
        self.send_frame(Opcode::Ping, true, payload).await
    }

    /// Start the close handshake with `code` (one that may be sent) and a reason of at most
    /// 123 bytes. Nothing more may be sent; receiving goes on until the peer's close
    /// ([`WsError::Closed`]), which a caller may wait for or not ([`WebSocket::finish`]
    /// closes the connection either way).
    pub async fn close_async(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        let (payload, n) = close_payload(code, reason).map_err(|_| WsError::Misuse)?;
        self.send_frame(Opcode::Close, true, &payload[..n]).await?;
        self.closing = Closing::Sent(code);
        Ok(())
    }

    /// [`WebSocket::send_text_async`] for blocking handlers.
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async { Ok(self.send_text_async(text).await) })?
    }

    /// [`WebSocket::send_binary_async`] for blocking handlers.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async { Ok(self.send_binary_async(data).await) })?
    }

    /// [`WebSocket::send_part_async`] for blocking handlers.
    pub fn send_part(
        &mut self,
        text: bool,
        data: &[u8],
        first: bool,
        last: bool,
    ) -> Result<(), WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async {
            Ok(self.send_part_async(text, data, first, last).await)
        })?
    }

    /// [`WebSocket::ping_async`] for blocking handlers.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async { Ok(self.ping_async(payload).await) })?
    }

    /// [`WebSocket::close_async`] for blocking handlers.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        let blocking = self.io.is_blocking();
        block(blocking, async { Ok(self.close_async(code, reason).await) })?
    }

    /// The code [`WebSocket::finish`] closes with: 1001 (going away) once a receive saw the
    /// server stop, else 1000.
    fn final_code(&self) -> CloseCode {
        if self.stopping {
            CloseCode::GOING_AWAY
        } else {
            CloseCode::NORMAL
        }
    }

    /// Queue the closing frame [`WebSocket::finish`] sends, if none was sent: true if the
    /// queue must be flushed first to make room.
    fn queue_final_close(&mut self) -> bool {
        if self.closing != Closing::Open || !self.io.is_upgraded() {
            return false;
        }
        if self.io.queue_space().len() < 4 {
            return true;
        }
        let code = self.final_code();
        self.queue_close(code);
        self.closing = Closing::Sent(code);
        false
    }

    /// End the session: a close (1000, or 1001 when the server is stopping) if none was
    /// sent, then the connection closes. (The close is queued and leaves with the rest of the
    /// queue, so this future holds the session once and no send future beside it.)
    pub async fn finish_async(mut self) -> Responded {
        if self.queue_final_close() {
            let _ = self.io.flush_async().await;
            self.queue_final_close();
        }
        self.io.finish_async().await
    }

    /// [`WebSocket::finish_async`] for blocking handlers.
    pub fn finish(mut self) -> Responded {
        if self.queue_final_close() {
            let _ = self.io.flush();
            self.queue_final_close();
        }
        self.io.finish()
    }
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
