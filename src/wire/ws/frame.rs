//! The WebSocket frame codec (RFC 6455 §5), server side, sans-IO: bytes in, [`Piece`]s out;
//! frame headers and close payloads out.
//!
//! # Theory of operation
//!
//! [`Decoder::decode`] is handed the received bytes and takes what it can from their front. It
//! is a state machine over frames:
//!
//! - **Header**: header bytes (2 to 14) are copied into the decoder as they arrive, so a header
//!   may be cut anywhere. The first two bytes are judged as soon as they are in (reserved bits
//!   and opcodes, the client's mask, control frame rules, fragmentation order); the whole
//!   header when it is complete (minimal length encoding, and the message's total length
//!   against the limit, before a byte of its payload arrives).
//! - **Data**: a text or binary frame's payload is unmasked in place in the caller's input and
//!   handed out as [`Piece::Data`] borrowing it: zero-copy, one piece per frame per call. A
//!   piece is never empty except for the final piece of a message whose last frame is empty;
//!   an empty frame that is not final yields nothing.
//! - **Control**: a ping, pong or close payload (at most 125 bytes) is gathered inside the
//!   decoder and handed out whole once complete. Control frames may come between the frames
//!   of a fragmented message.
//! - **Closed**: after a close frame nothing more is decoded.
//! - **Failed**: after a violation every call returns the same close code.
//!
//! Invariants: a call returns at most one piece; it returns `Ok((n, None))` only once it has
//! taken all of its input (or the decoder is closed), so a caller loops while pieces come and
//! reads more when none does. Text messages are checked as UTF-8 across pieces, frames and
//! calls (a piece may end inside a character; the message as a whole is valid), failing as
//! soon as an invalid sequence is seen. Lengths are `u64` with checked arithmetic; a payload
//! longer than `usize` (on a 32-bit target) is simply handed out over more calls.
//!
//! Violations give the close code to answer with (RFC 6455 §7.4.1): 1002 for framing, 1007 for
//! text that is not UTF-8, 1009 for a message over the limit. Extensions are not negotiated,
//! so reserved bits are violations.
//!
//! ```
//! use embedded_responder::ws::frame::{Decoder, Piece};
//!
//! let mut decoder = Decoder::new(4096);
//! // A masked text frame "Hi", as a client sends it.
//! let mut received = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
//! let mut at = 0;
//! loop {
//!     match decoder.decode(&mut received[at..]) {
//!         Ok((n, Some(piece))) => {
//!             at += n;
//!             if let Piece::Data { data, last, .. } = piece {
//!                 assert_eq!((data, last), (&b"Hi"[..], true));
//!             }
//!         }
//!         // Read more (after any unconsumed `received[at + n..]`) and call again.
//!         Ok((_, None)) => break,
//!         // Send a close frame with this code, then close the connection.
//!         Err(_code) => break,
//!     }
//! }
//! ```

use super::utf8::Utf8Validator;

/// A close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the server is going down, or the page navigated away.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol (framing).
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a kind of data (text or binary) the endpoint does not accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1007: a text message (or data inside a message) inconsistent with its type: bad UTF-8.
    pub const INVALID_DATA: Self = Self(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY: Self = Self(1008);
    /// 1009: a message too big to process.
    pub const TOO_BIG: Self = Self(1009);
    /// 1011: an unexpected condition in the endpoint.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1013: try again later (overloaded).
    pub const TRY_AGAIN_LATER: Self = Self(1013);

    /// Whether the code may be put on the wire in a close frame: 1000-1003, 1007-1014 (the
    /// assigned codes that are not reserved), 3000-4999 (registered and private). Never
    /// 1004-1006 or 1015 (reserved, never sent), nor other unassigned codes. The decoder accepts
    /// the same set in received close frames (RFC 6455 §7.4.2).
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

/// A frame's opcode (RFC 6455 §5.2); the others (3-7, 11-15) are reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Opcode {
    /// The next frame of a fragmented message.
    Continuation = 0,
    /// The first frame of a text message.
    Text = 1,
    /// The first frame of a binary message.
    Binary = 2,
    /// A close frame.
    Close = 8,
    /// A ping: to be answered with a pong carrying the same payload.
    Ping = 9,
    /// A pong: an answer to a ping, or a one-way heartbeat.
    Pong = 10,
}

impl Opcode {
    /// The opcode in the low 4 bits of a header's first byte, if it is not reserved.
    const fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits & 0x0f {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    /// Close, ping and pong: at most 125 bytes, never fragmented, allowed between the frames of
    /// a message (RFC 6455 §5.5).
    pub const fn is_control(self) -> bool {
        self as u8 >= 8
    }
}

/// What [`Decoder::decode`] hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Unmasked payload bytes of a data message, in place in the caller's input.
    ///
    /// `text` is the message's kind; `first` is true on the message's first piece and `last`
    /// on its final piece. `data` is empty only on a final piece: an empty message, or a final
    /// empty continuation frame. A text piece may end inside a character; the message is
    /// valid UTF-8 once its last piece is out.
    Data {
        /// A text message (else binary).
        text: bool,
        /// The payload bytes.
        data: &'a [u8],
        /// The message's first piece.
        first: bool,
        /// The message's final piece.
        last: bool,
    },
    /// A ping's payload (at most 125 bytes): answer with a pong carrying it.
    Ping(&'a [u8]),
    /// A pong's payload (at most 125 bytes).
    Pong(&'a [u8]),
    /// A close frame: its code (`None` if the payload was empty) and its reason (UTF-8, at most
    /// 123 bytes). The decoder is closed from now on.
    Close {
        /// The status code, checked to be one that may be sent.
        code: Option<CloseCode>,
        /// The reason, possibly empty.
        reason: &'a str,
    },
}

/// The longest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The longest close reason: a control payload less the 2-byte code.
pub const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// Where the decoder is in the frame stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading a frame header: its first `len` bytes are in `Decoder::buf`.
    Header { len: u8 },
    /// In a data frame's payload: `remaining` bytes to come, unmasked with `mask` (rotated to
    /// the next byte's position); `fin` if the frame ends its message.
    Data {
        remaining: u64,
        mask: [u8; 4],
        fin: bool,
    },
    /// In a control frame's payload of `len` bytes: `filled` of them are (still masked) in
    /// `Decoder::buf`.
    Control {
        opcode: Opcode,
        len: u8,
        filled: u8,
        mask: [u8; 4],
    },
    /// A close frame was decoded: nothing more is.
    Closed,
    /// A violation was found: it is all the decoder answers.
    Failed(CloseCode),
}

/// The data message being received (from its first frame's header to its last piece).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Message {
    text: bool,
    /// Its first piece has been handed out.
    started: bool,
    /// The sum of its frames' declared payload lengths so far.
    declared: u64,
}

/// A piece found by [`Decoder::advance`], as positions (it borrows nothing, so the decoder
/// can go on mutating itself until it returns).
enum Found {
    Data {
        start: usize,
        end: usize,
        text: bool,
        first: bool,
        last: bool,
    },
    Ping(usize),
    Pong(usize),
    Close(Option<CloseCode>, usize),
}

/// The longest header a client sends: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEADER: usize = 14;

/// An incremental, zero-copy decoder for the frames a client sends (RFC 6455 §5); see the
/// [module docs](self) for its states and rules.
#[derive(Clone, Debug)]
pub struct Decoder {
    state: State,
    /// The data message in progress, if any.
    message: Option<Message>,
    max_message: u64,
    utf8: Utf8Validator,
    /// Header bytes while in `State::Header`, the control payload while in `State::Control`
    /// (a header is parsed into the state before its payload arrives).
    buf: [u8; MAX_CONTROL_PAYLOAD],
}

impl Decoder {
    /// A decoder at the start of a stream. `max_message` is the largest data message accepted
    /// (the sum of its frames' payload lengths); a longer one fails with 1009 as soon as a
    /// frame header declares it.
    pub const fn new(max_message: u64) -> Self {
        Decoder {
            state: State::Header { len: 0 },
            message: None,
            max_message,
            utf8: Utf8Validator::new(),
            buf: [0; MAX_CONTROL_PAYLOAD],
        }
    }

    /// Decodes from the front of `input` (received bytes; data payloads are unmasked in
    /// place). Returns how many bytes were consumed and at most one piece; call again with
    /// `input[n..]` while pieces come.
    ///
    /// `Ok((n, None))` means more input is needed: all `n == input.len()` bytes were taken
    /// (a partial header or control payload is kept in the decoder), or, once
    /// [`Decoder::is_closed`], nothing is taken (`n == 0`). On a violation returns the close
    /// code to send (1002, 1007 or 1009) and the decoder stays failed.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a mut [u8],
    ) -> Result<(usize, Option<Piece<'a>>), CloseCode> {
        let mut pos = 0;
        let found = match self.advance(input, &mut pos) {
            Ok(found) => found,
            Err(code) => {
                self.state = State::Failed(code);
                return Err(code);
            }
        };
        let input: &'a [u8] = input;
        let buf: &'a [u8] = &self.buf;
        let piece = found.map(|found| match found {
            Found::Data {
                start,
                end,
                text,
                first,
                last,
            } => Piece::Data {
                text,
                data: &input[start..end],
                first,
                last,
            },
            Found::Ping(len) => Piece::Ping(&buf[..len]),
            Found::Pong(len) => Piece::Pong(&buf[..len]),
            Found::Close(code, len) => Piece::Close {
                code,
                // Checked by `close_code`.
                reason: core::str::from_utf8(buf.get(2..len).unwrap_or(&[])).unwrap_or(""),
            },
        });
        Ok((pos, piece))
    }

    /// True while a data message is partly received: from its first frame's header until its
    /// last piece is handed out.
    pub fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// True after a close frame was decoded: [`Decoder::decode`] then returns `Ok((0, None))`.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Runs the state machine over `input[*pos..]` until a piece is found or more input is
    /// needed (`Ok(None)`).
    fn advance(&mut self, input: &mut [u8], pos: &mut usize) -> Result<Option<Found>, CloseCode> {
        loop {
            let available = input.len() - *pos;
            match self.state {
                State::Failed(code) => return Err(code),
                State::Closed => return Ok(None),
                State::Header { len } => {
                    let have = usize::from(len);
                    let need = if have < 2 { 2 } else { header_len(self.buf[1]) };
                    let take = (need - have).min(available);
                    if take == 0 {
                        return Ok(None);
                    }
                    self.buf[have..have + take].copy_from_slice(&input[*pos..*pos + take]);
                    *pos += take;
                    let have = have + take;
                    // have <= MAX_HEADER (14): the cast cannot truncate.
                    self.state = State::Header { len: have as u8 };
                    if have == 2 {
                        self.check_start()?;
                    } else if have == need {
                        self.start_frame()?;
                    }
                }
                State::Data {
                    remaining,
                    mut mask,
                    fin,
                } => {
                    let n = usize::try_from(remaining).map_or(available, |r| r.min(available));
                    // n <= remaining, and usize is at most 64 bits: no loss, no underflow.
                    let remaining = remaining - n as u64;
                    let last = fin && remaining == 0;
                    if n == 0 && !last {
                        if remaining > 0 {
                            return Ok(None);
                        }
                        // An empty frame that does not end its message: nothing to hand out.
                        self.state = State::Header { len: 0 };
                        continue;
                    }
                    let (start, end) = (*pos, *pos + n);
                    unmask(&mut input[start..end], mask);
                    *pos = end;
                    mask.rotate_left(n % 4);
                    self.state = if remaining == 0 {
                        State::Header { len: 0 }
                    } else {
                        State::Data {
                            remaining,
                            mask,
                            fin,
                        }
                    };
                    // A data frame's header always opens or continues a message.
                    let message = self.message.ok_or(CloseCode::INTERNAL_ERROR)?;
                    if message.text {
                        let invalid = |_| CloseCode::INVALID_DATA;
                        self.utf8.feed(&input[start..end]).map_err(invalid)?;
                        if last {
                            self.utf8.finish().map_err(invalid)?;
                        }
                    }
                    self.message = if last {
                        None
                    } else {
                        Some(Message {
                            started: true,
                            ..message
                        })
                    };
                    return Ok(Some(Found::Data {
                        start,
                        end,
                        text: message.text,
                        first: !message.started,
                        last,
                    }));
                }
                State::Control {
                    opcode,
                    len,
                    filled,
                    mask,
                } => {
                    let (have, want) = (usize::from(filled), usize::from(len));
                    let take = (want - have).min(available);
                    self.buf[have..have + take].copy_from_slice(&input[*pos..*pos + take]);
                    *pos += take;
                    let have = have + take;
                    if have < want {
                        self.state = State::Control {
                            opcode,
                            len,
                            // have < want <= 125: the cast cannot truncate.
                            filled: have as u8,
                            mask,
                        };
                        return Ok(None);
                    }
                    unmask(&mut self.buf[..want], mask);
                    self.state = State::Header { len: 0 };
                    return Ok(Some(match opcode {
                        Opcode::Ping => Found::Ping(want),
                        Opcode::Pong => Found::Pong(want),
                        _ => {
                            let code = close_code(&self.buf[..want])?;
                            self.state = State::Closed;
                            Found::Close(code, want)
                        }
                    }));
                }
            }
        }
    }

    /// Judges a header's first two bytes (in `buf[..2]`): what can be refused before the
    /// length and mask arrive.
    fn check_start(&self) -> Result<(), CloseCode> {
        let (b0, b1) = (self.buf[0], self.buf[1]);
        let opcode = start_opcode(b0, b1)?;
        if opcode.is_control() {
            // Never fragmented, at most 125 bytes (so never the 126 or 127 length forms).
            if b0 & FIN == 0 || b1 & LEN7 > 125 {
                return Err(CloseCode::PROTOCOL_ERROR);
            }
        } else {
            match (opcode, self.message) {
                // A continuation with nothing to continue, or a new message inside one.
                (Opcode::Continuation, None) | (Opcode::Text | Opcode::Binary, Some(_)) => {
                    return Err(CloseCode::PROTOCOL_ERROR)
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Parses a complete header (in `buf[..header_len]`, its first two bytes already judged)
    /// into the payload state.
    fn start_frame(&mut self) -> Result<(), CloseCode> {
        let b = &self.buf;
        let opcode = start_opcode(b[0], b[1])?;
        let fin = b[0] & FIN != 0;
        let (len, mask_at) = match b[1] & LEN7 {
            126 => {
                let len = u16::from_be_bytes([b[2], b[3]]);
                if len < 126 {
                    return Err(CloseCode::PROTOCOL_ERROR);
                }
                (u64::from(len), 4)
            }
            127 => {
                let len = u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]);
                // The most significant bit must be 0; the length must need 64 bits.
                if len >> 63 != 0 || len <= u64::from(u16::MAX) {
                    return Err(CloseCode::PROTOCOL_ERROR);
                }
                (len, 10)
            }
            len => (u64::from(len), 2),
        };
        let mask = [b[mask_at], b[mask_at + 1], b[mask_at + 2], b[mask_at + 3]];
        if opcode.is_control() {
            self.state = State::Control {
                opcode,
                len: u8::try_from(len).map_err(|_| CloseCode::PROTOCOL_ERROR)?,
                filled: 0,
                mask,
            };
            return Ok(());
        }
        let message = match self.message {
            Some(message) => message,
            None => {
                self.utf8.reset();
                Message {
                    text: opcode == Opcode::Text,
                    started: false,
                    declared: 0,
                }
            }
        };
        let declared = message
            .declared
            .checked_add(len)
            .filter(|&total| total <= self.max_message)
            .ok_or(CloseCode::TOO_BIG)?;
        self.message = Some(Message {
            declared,
            ..message
        });
        self.state = State::Data {
            remaining: len,
            mask,
            fin,
        };
        Ok(())
    }
}

/// The FIN bit of a header's first byte.
const FIN: u8 = 0x80;
/// RSV1-3 of a header's first byte.
const RSV: u8 = 0x70;
/// The MASK bit of a header's second byte.
const MASK: u8 = 0x80;
/// The 7-bit length of a header's second byte.
const LEN7: u8 = 0x7f;

/// The opcode of a header starting `b0 b1`, refusing what no frame may have: reserved bits
/// (no extension is negotiated), reserved opcodes, no mask (clients must mask, RFC 6455
/// §5.1).
fn start_opcode(b0: u8, b1: u8) -> Result<Opcode, CloseCode> {
    if b0 & RSV != 0 || b1 & MASK == 0 {
        return Err(CloseCode::PROTOCOL_ERROR);
    }
    Opcode::from_bits(b0).ok_or(CloseCode::PROTOCOL_ERROR)
}

/// The length of a masked header whose second byte is `b1`.
fn header_len(b1: u8) -> usize {
    let extended = match b1 & LEN7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let len = 2 + extended + 4;
    debug_assert!(len <= MAX_HEADER);
    len
}

/// XORs `data` with the repeating 4-byte `mask` (RFC 6455 §5.3).
fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let word = u32::from_ne_bytes(mask);
    let mut words = data.chunks_exact_mut(4);
    for w in &mut words {
        let v = u32::from_ne_bytes([w[0], w[1], w[2], w[3]]) ^ word;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, m) in words.into_remainder().iter_mut().zip(mask) {
        *b ^= m;
    }
}

/// A received close payload's code (RFC 6455 §5.5.1, §7.4): none, or one that may be sent,
/// followed by a UTF-8 reason.
fn close_code(payload: &[u8]) -> Result<Option<CloseCode>, CloseCode> {
    match payload {
        [] => Ok(None),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() || core::str::from_utf8(reason).is_err() {
                return Err(CloseCode::PROTOCOL_ERROR);
            }
            Ok(Some(code))
        }
        [_] => Err(CloseCode::PROTOCOL_ERROR),
    }
}

/// Encodes a server frame's header (unmasked, RFC 6455 §5.2): the FIN bit, the opcode, and
/// the payload length in its minimal form. Returns the header bytes and their count (2, 4 or
/// 10); the payload follows as is.
///
/// The caller keeps to the frame rules: a control frame has `fin` set and `len <= 125`;
/// `len < 2^63`.
pub fn encode_header(opcode: Opcode, fin: bool, len: u64) -> ([u8; 10], usize) {
    let mut header = [0u8; 10];
    header[0] = if fin { FIN } else { 0 } | opcode as u8;
    let n = if len < 126 {
        // len < 126: the cast cannot truncate.
        header[1] = len as u8;
        2
    } else if let Ok(short) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        4
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&len.to_be_bytes());
        10
    };
    (header, n)
}

/// Why [`close_payload`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClosePayloadError {
    /// The code may not be sent (see [`CloseCode::is_sendable`]).
    CodeNotSendable,
    /// The reason is longer than [`MAX_CLOSE_REASON`] (123) bytes.
    ReasonTooLong,
}

/// A close frame's payload (RFC 6455 §5.5.1): the 2-byte code, then the reason. Returns the
/// bytes and their count, for a frame headed by `encode_header(Opcode::Close, true, n)`.
pub fn close_payload(
    code: CloseCode,
    reason: &str,
) -> Result<([u8; MAX_CONTROL_PAYLOAD], usize), ClosePayloadError> {
    if !code.is_sendable() {
        return Err(ClosePayloadError::CodeNotSendable);
    }
    let reason = reason.as_bytes();
    if reason.len() > MAX_CLOSE_REASON {
        return Err(ClosePayloadError::ReasonTooLong);
    }
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    payload[..2].copy_from_slice(&code.0.to_be_bytes());
    payload[2..2 + reason.len()].copy_from_slice(reason);
    Ok((payload, 2 + reason.len()))
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
