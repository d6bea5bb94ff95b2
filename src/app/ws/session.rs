//! The session over an upgraded connection ([`WebSocket`]): messages into the caller's
//! buffer, whole or a piece at a time, pings answered, the close handshake, sends queued in
//! the transmit buffer; see [`crate::ws`] for the rules.

use super::frame::{close_payload, encode_header, CloseCode, Decoder, Opcode, Piece};
use crate::error::StreamError;
use crate::handler::{block, Responded, Upgraded};

/// Below this much free queue space, a frame is flushed at once.
const QUEUE_LOW: usize = 512;

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

/// A WebSocket session over an upgraded connection; see [`crate::ws`]. Made by
/// [`super::Handshake::accept`]; end it with [`WebSocket::finish`], which closes the connection.
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
    /// 1009. Cancel-safe if called again with the same `buf` (see [`crate::ws`]).
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
