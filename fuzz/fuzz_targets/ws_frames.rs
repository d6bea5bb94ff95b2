//! The WebSocket frame decoder: decoding the input whole, byte by byte, and in reads cut where
//! the fuzzer's first two bytes say must give the same messages, the same control frames and
//! the same end (more input needed, closed, or the same close code); pieces keep the decoder's
//! promises (flags, non-empty unless last, text messages valid UTF-8, nothing left untaken).
#![no_main]

use embedded_responder::ws::frame::{CloseCode, Decoder, Piece};
use libfuzzer_sys::fuzz_target;

/// The message limit: small enough for the fuzzer to pass it.
const MAX_MESSAGE: u64 = 512;

#[derive(Debug, PartialEq, Eq)]
enum Event {
    Message { text: bool, data: Vec<u8> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>, String),
}

/// How the stream ended: needing more input (inside a message or not), closed, or failed.
#[derive(Debug, PartialEq, Eq)]
enum End {
    NeedMore { in_message: bool },
    Closed,
    Failed(CloseCode),
}

/// Decode `input` fed in reads ending at `cuts`; unconsumed bytes stay in front of the buffer.
fn decode(input: &[u8], cuts: &[usize]) -> (Vec<Event>, End) {
    let mut decoder = Decoder::new(MAX_MESSAGE);
    let mut events = Vec::new();
    let mut message: Option<(bool, Vec<u8>)> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..cut]);
        fed = cut;
        let mut pos = 0;
        loop {
            let available = buf.len() - pos;
            let (n, piece) = match decoder.decode(&mut buf[pos..]) {
                Ok(decoded) => decoded,
                Err(code) => {
                    assert!([1002, 1007, 1009].contains(&code.0), "{code:?}");
                    return (events, End::Failed(code));
                }
            };
            assert!(n <= available);
            let Some(piece) = piece else {
                assert!(n == available || (n == 0 && decoder.is_closed()));
                pos += n;
                break;
            };
            match piece {
                Piece::Data {
                    text,
                    data,
                    first,
                    last,
                } => {
                    assert_eq!(first, message.is_none());
                    assert!(!data.is_empty() || last);
                    let m = message.get_or_insert((text, Vec::new()));
                    assert_eq!(m.0, text);
                    m.1.extend_from_slice(data);
                    assert!(m.1.len() as u64 <= MAX_MESSAGE);
                    if last {
                        let (text, data) = message.take().unwrap();
                        assert!(!text || std::str::from_utf8(&data).is_ok());
                        events.push(Event::Message { text, data });
                    }
                }
                Piece::Ping(p) => {
                    assert!(p.len() <= 125);
                    events.push(Event::Ping(p.to_vec()))
                }
                Piece::Pong(p) => {
                    assert!(p.len() <= 125);
                    events.push(Event::Pong(p.to_vec()))
                }
                Piece::Close { code, reason } => {
                    assert!(code.is_none_or(CloseCode::is_sendable));
                    assert!(reason.len() <= 123 && (code.is_some() || reason.is_empty()));
                    events.push(Event::Close(code, reason.into()));
                }
            }
            pos += n;
            // In a message from its first header (an empty first fragment yields nothing).
            assert!(decoder.in_message() || message.is_none());
        }
        buf.drain(..pos);
        if decoder.is_closed() {
            return (events, End::Closed);
        }
    }
    let in_message = decoder.in_message();
    (events, End::NeedMore { in_message })
}

fuzz_target!(|data: &[u8]| {
    let [a, b, input @ ..] = data else {
        return;
    };
    let whole = decode(input, &[]);
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(whole, decode(input, &bytewise), "byte at a time");
    // Reads of pseudo-random lengths from the seed bytes (1 to 64 bytes each).
    let mut state = u32::from(*a) << 8 | u32::from(*b);
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < input.len() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        at += 1 + (state >> 16) as usize % 64;
        cuts.push(at);
    }
    assert_eq!(whole, decode(input, &cuts), "cut at {cuts:?}");
    let cut = usize::from(*a) % (input.len() + 1);
    assert_eq!(whole, decode(input, &[cut]), "cut at {cut}");
});
