//! The frame codec's tests: every rule at every split point.
extern crate std;
use super::*;
use std::string::String;
use std::vec;
use std::vec::Vec;

const MASK_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A client frame with a raw first byte (FIN, RSV, opcode), the payload's length in the
/// given form (`7`, `16` or `64` bits; `0` for the minimal one), masked with `MASK_KEY`.
fn raw_frame(b0: u8, payload: &[u8], form: u8) -> Vec<u8> {
    let len = payload.len() as u64;
    let form = match form {
        0 if len < 126 => 7,
        0 if len <= 0xffff => 16,
        0 => 64,
        form => form,
    };
    let mut out = vec![b0];
    match form {
        7 => out.push(MASK | len as u8),
        16 => {
            out.push(MASK | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(MASK | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK_KEY);
    out.extend(
        payload
            .iter()
            .zip(MASK_KEY.iter().cycle())
            .map(|(b, m)| b ^ m),
    );
    out
}

/// A masked client frame, its length in minimal form.
fn frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    raw_frame(if fin { FIN } else { 0 } | opcode as u8, payload, 0)
}

fn concat(frames: &[Vec<u8>]) -> Vec<u8> {
    frames.concat()
}

/// What a stream decodes to, whatever reads it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Message { text: bool, data: Vec<u8> },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>, String),
}

/// Decodes `input` fed in reads ending at `cuts`, as a session would: unconsumed bytes
/// stay at the front of its buffer. Returns the complete messages and control frames, and
/// the result: `Ok(in_message)` at the end of input, or the close code.
fn decode(input: &[u8], cuts: &[usize], max: u64) -> (Vec<Event>, Result<bool, CloseCode>) {
    let mut decoder = Decoder::new(max);
    let mut events = Vec::new();
    let mut message: Option<(bool, Vec<u8>)> = None;
    let mut buf = Vec::new();
    let mut fed = 0;
    for &cut in cuts.iter().chain(core::iter::once(&input.len())) {
        buf.extend_from_slice(&input[fed..cut]);
        fed = cut;
        let mut pos = 0;
        loop {
            let len = buf.len() - pos;
            let (n, piece) = match decoder.decode(&mut buf[pos..]) {
                Ok(decoded) => decoded,
                Err(code) => return (events, Err(code)),
            };
            assert!(n <= len);
            let Some(piece) = piece else {
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
                    assert_eq!(first, message.is_none(), "first flag");
                    assert!(!data.is_empty() || last, "empty piece not last");
                    let m = message.get_or_insert((text, Vec::new()));
                    assert_eq!(m.0, text, "kind changed inside a message");
                    m.1.extend_from_slice(data);
                    if last {
                        let (text, data) = message.take().unwrap();
                        if text {
                            assert!(core::str::from_utf8(&data).is_ok());
                        }
                        events.push(Event::Message { text, data });
                    }
                }
                Piece::Ping(p) => events.push(Event::Ping(p.to_vec())),
                Piece::Pong(p) => events.push(Event::Pong(p.to_vec())),
                Piece::Close { code, reason } => {
                    events.push(Event::Close(code, reason.into()));
                }
            }
            pos += n;
            // In a message from its first header (an empty first fragment yields nothing).
            assert!(decoder.in_message() || message.is_none());
        }
        assert!(pos == buf.len() || decoder.is_closed());
        buf.drain(..pos);
    }
    (events, Ok(decoder.in_message()))
}

/// Decodes `input` whole, byte by byte, and cut at every pair of positions (at every
/// single position if long); all must agree. Returns the whole result.
fn decode_every_split(input: &[u8], max: u64) -> (Vec<Event>, Result<bool, CloseCode>) {
    let whole = decode(input, &[], max);
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(decode(input, &bytewise, max), whole, "byte at a time");
    for i in 0..=input.len() {
        if input.len() > 300 {
            assert_eq!(decode(input, &[i], max), whole, "cut at {i}");
            continue;
        }
        for j in i..=input.len() {
            assert_eq!(decode(input, &[i, j], max), whole, "cut at {i} and {j}");
        }
    }
    whole
}

fn text(s: &str) -> Event {
    Event::Message {
        text: true,
        data: s.as_bytes().to_vec(),
    }
}

fn binary(data: &[u8]) -> Event {
    Event::Message {
        text: false,
        data: data.to_vec(),
    }
}

#[test]
fn lengths_round_trip() {
    for len in [0usize, 1, 125, 126, 65535, 65536] {
        let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let header_len = match len {
            0..=125 => 6,
            126..=65535 => 8,
            _ => 14,
        };
        for opcode in [Opcode::Text, Opcode::Binary] {
            let input = frame(opcode, true, &payload);
            assert_eq!(input.len(), header_len + len);
            let expected = Event::Message {
                text: opcode == Opcode::Text,
                data: payload.clone(),
            };
            let whole = decode(&input, &[], u64::MAX);
            assert_eq!(whole, (vec![expected], Ok(false)), "len {len}");
            let cuts: Vec<usize> = if len <= 200 {
                (0..=input.len()).collect()
            } else {
                vec![1, 2, 5, 6, header_len - 1, header_len, header_len + 1, 4099]
            };
            for cut in cuts {
                assert_eq!(decode(&input, &[cut], u64::MAX), whole, "{len} cut {cut}");
            }
        }
    }
}

#[test]
fn pieces_in_place_with_flags() {
    let mut input = concat(&[
        frame(Opcode::Text, false, b"he"),
        frame(Opcode::Ping, true, b"p"),
        frame(Opcode::Continuation, true, b"llo"),
    ]);
    let mut d = Decoder::new(100);
    let (n, piece) = d.decode(&mut input).unwrap();
    assert_eq!(n, 8);
    let expected = Piece::Data {
        text: true,
        data: b"he",
        first: true,
        last: false,
    };
    assert_eq!(piece, Some(expected));
    assert!(d.in_message());
    let (m, piece) = d.decode(&mut input[n..]).unwrap();
    assert_eq!((m, piece), (7, Some(Piece::Ping(b"p"))));
    let (k, piece) = d.decode(&mut input[n + m..]).unwrap();
    let expected = Piece::Data {
        text: true,
        data: b"llo",
        first: false,
        last: true,
    };
    assert_eq!((k, piece), (9, Some(expected)));
    assert!(!d.in_message());
    assert_eq!(d.decode(&mut []).unwrap(), (0, None));
    // A payload split over reads comes out in pieces, each unmasked.
    let mut input = frame(Opcode::Binary, true, b"abcdef");
    let mut d = Decoder::new(100);
    let (n, piece) = d.decode(&mut input[..9]).unwrap();
    let expected = Piece::Data {
        text: false,
        data: b"abc",
        first: true,
        last: false,
    };
    assert_eq!((n, piece), (9, Some(expected)));
    // A header cut short is taken into the decoder.
    let (n, piece) = d.decode(&mut input[9..10]).unwrap();
    assert_eq!((n, piece.is_some()), (1, true));
    let (n, piece) = d.decode(&mut input[10..]).unwrap();
    let expected = Piece::Data {
        text: false,
        data: b"ef",
        first: false,
        last: true,
    };
    assert_eq!((n, piece), (2, Some(expected)));
    let mut d = Decoder::new(100);
    let mut input = frame(Opcode::Binary, true, b"x");
    assert_eq!(d.decode(&mut input[..5]).unwrap(), (5, None));
    assert!(!d.in_message());
    assert_eq!(d.decode(&mut input[5..6]).unwrap(), (1, None));
    assert!(d.in_message());
    // An empty first fragment opens the message without a piece.
    let mut d = Decoder::new(100);
    let mut input = frame(Opcode::Text, false, b"");
    assert_eq!(d.decode(&mut input).unwrap(), (6, None));
    assert!(d.in_message());
}

#[test]
fn fragmented_messages_and_control_frames_at_every_split() {
    let e_acute = "é".as_bytes();
    let cases: Vec<(Vec<Vec<u8>>, Vec<Event>)> = vec![
        (
            vec![frame(Opcode::Text, true, b"hello")],
            vec![text("hello")],
        ),
        (
            vec![
                frame(Opcode::Binary, false, b"\x00\x01"),
                frame(Opcode::Continuation, false, b""),
                frame(Opcode::Continuation, true, b"\xff"),
            ],
            vec![binary(b"\x00\x01\xff")],
        ),
        // A ping between fragments of a text message whose character is cut between them.
        (
            vec![
                frame(Opcode::Text, false, &[b'a', e_acute[0]]),
                frame(Opcode::Ping, true, b"ping"),
                frame(Opcode::Continuation, true, &[e_acute[1], b'b']),
            ],
            vec![Event::Ping(b"ping".to_vec()), text("aéb")],
        ),
        // A 4-byte character cut into every frame, pongs in between.
        (
            vec![
                frame(Opcode::Text, false, &[0xf0]),
                frame(Opcode::Pong, true, b""),
                frame(Opcode::Continuation, false, &[0x9d]),
                frame(Opcode::Continuation, false, &[0x84]),
                frame(Opcode::Pong, true, b"x"),
                frame(Opcode::Continuation, true, &[0x9e]),
            ],
            vec![Event::Pong(vec![]), Event::Pong(b"x".to_vec()), text("𝄞")],
        ),
        // Empty messages, an empty first fragment.
        (
            vec![
                frame(Opcode::Text, true, b""),
                frame(Opcode::Binary, true, b""),
                frame(Opcode::Text, false, b""),
                frame(Opcode::Continuation, true, b"ab"),
                frame(Opcode::Text, false, b"cd"),
                frame(Opcode::Continuation, true, b""),
            ],
            vec![text(""), binary(b""), text("ab"), text("cd")],
        ),
        // A ping after an empty first fragment: the message is open, nothing handed out.
        (
            vec![
                frame(Opcode::Binary, false, b""),
                frame(Opcode::Ping, true, b""),
                frame(Opcode::Continuation, true, b"z"),
            ],
            vec![Event::Ping(vec![]), binary(b"z")],
        ),
        // Close ends the stream: what follows is not decoded.
        (
            vec![
                frame(Opcode::Text, true, b"x"),
                frame(Opcode::Close, true, b"\x03\xe8bye"),
                frame(Opcode::Text, true, b"after"),
                vec![0xff, 0xff],
            ],
            vec![
                text("x"),
                Event::Close(Some(CloseCode::NORMAL), "bye".into()),
            ],
        ),
        (
            vec![frame(Opcode::Close, true, b"")],
            vec![Event::Close(None, String::new())],
        ),
        // A close inside a fragmented message.
        (
            vec![
                frame(Opcode::Binary, false, b"part"),
                frame(Opcode::Close, true, &[0x0f, 0xa0]),
            ],
            vec![Event::Close(Some(CloseCode(4000)), String::new())],
        ),
    ];
    for (frames, events) in cases {
        let input = concat(&frames);
        let (got, result) = decode_every_split(&input, 1000);
        assert_eq!(got, events, "{frames:02x?}");
        assert!(result.is_ok(), "{frames:02x?}");
    }
}

#[test]
fn close_after_close_and_failed_stays_failed() {
    let mut input = concat(&[
        frame(Opcode::Close, true, b""),
        frame(Opcode::Ping, true, b""),
    ]);
    let mut d = Decoder::new(10);
    let (n, piece) = d.decode(&mut input).unwrap();
    let expected = Piece::Close {
        code: None,
        reason: "",
    };
    assert_eq!((n, piece), (6, Some(expected)));
    assert!(d.is_closed());
    assert_eq!(d.decode(&mut input[n..]).unwrap(), (0, None));
    let mut d = Decoder::new(10);
    let mut bad = [0x83, 0x80, 0, 0, 0, 0];
    assert_eq!(d.decode(&mut bad), Err(CloseCode::PROTOCOL_ERROR));
    let mut good = frame(Opcode::Ping, true, b"");
    assert_eq!(d.decode(&mut good), Err(CloseCode::PROTOCOL_ERROR));
    assert!(!d.is_closed());
}

/// A violation case: its name, its frames, the events before it, the code.
type Violation = (&'static str, Vec<Vec<u8>>, Vec<Event>, CloseCode);

fn check_violations(cases: &[Violation], max: u64) {
    for (name, frames, events, code) in cases {
        let input = concat(frames);
        let (got, result) = decode_every_split(&input, max);
        assert_eq!(result, Err(*code), "{name}");
        assert_eq!(&got, events, "{name}");
    }
}

#[test]
fn framing_violations_are_1002() {
    let pe = CloseCode::PROTOCOL_ERROR;
    let mut unmasked = frame(Opcode::Text, true, b"hi");
    unmasked[1] &= !MASK;
    let mut cases = vec![
        ("unmasked", vec![unmasked], vec![], pe),
        ("unmasked header only", vec![vec![0x81, 0x02]], vec![], pe),
        (
            "unmasked ping",
            vec![vec![FIN | Opcode::Ping as u8, 0x00]],
            vec![],
            pe,
        ),
    ];
    for rsv in [0x40, 0x20, 0x10] {
        cases.push(("rsv", vec![raw_frame(FIN | rsv | 1, b"x", 0)], vec![], pe));
        cases.push((
            "rsv ping",
            vec![raw_frame(FIN | rsv | 9, b"", 0)],
            vec![],
            pe,
        ));
    }
    for opcode in (3..=7).chain(11..=15) {
        cases.push((
            "reserved opcode",
            vec![raw_frame(FIN | opcode, b"", 0)],
            vec![],
            pe,
        ));
    }
    let long = [b'p'; 126];
    cases.extend([
        (
            "ping of 126",
            vec![frame(Opcode::Ping, true, &long)],
            vec![],
            pe,
        ),
        (
            "pong of 126",
            vec![frame(Opcode::Pong, true, &long)],
            vec![],
            pe,
        ),
        (
            "close of 126",
            vec![frame(Opcode::Close, true, &long)],
            vec![],
            pe,
        ),
        (
            "ping, 16-bit form",
            vec![raw_frame(FIN | 9, b"x", 16)],
            vec![],
            pe,
        ),
        (
            "ping without fin",
            vec![frame(Opcode::Ping, false, b"")],
            vec![],
            pe,
        ),
        (
            "close without fin",
            vec![frame(Opcode::Close, false, b"")],
            vec![],
            pe,
        ),
        (
            "continuation first",
            vec![frame(Opcode::Continuation, true, b"x")],
            vec![],
            pe,
        ),
        (
            "continuation after a complete message",
            vec![
                frame(Opcode::Text, true, b"a"),
                frame(Opcode::Continuation, true, b"b"),
            ],
            vec![text("a")],
            pe,
        ),
        (
            "text inside a message",
            vec![
                frame(Opcode::Text, false, b"a"),
                frame(Opcode::Text, true, b"b"),
            ],
            vec![],
            pe,
        ),
        (
            "binary inside a message, after a ping",
            vec![
                frame(Opcode::Binary, false, b"a"),
                frame(Opcode::Ping, true, b""),
                frame(Opcode::Binary, true, b"b"),
            ],
            vec![Event::Ping(vec![])],
            pe,
        ),
        (
            "64-bit length with the top bit set",
            vec![vec![
                0x82,
                MASK | 127,
                0x80,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                1,
                2,
                3,
                4,
            ]],
            vec![],
            pe,
        ),
        (
            "16-bit form for 125",
            vec![raw_frame(0x82, &[0; 125], 16)],
            vec![],
            pe,
        ),
        (
            "16-bit form for 0",
            vec![raw_frame(0x82, b"", 16)],
            vec![],
            pe,
        ),
        (
            "64-bit form for 0",
            vec![raw_frame(0x82, b"", 64)],
            vec![],
            pe,
        ),
        (
            "64-bit form for 65535",
            vec![raw_frame(0x82, &[0; 65535], 64)[..14].to_vec()],
            vec![],
            pe,
        ),
        (
            "close of 1 byte",
            vec![frame(Opcode::Close, true, b"\x03")],
            vec![],
            pe,
        ),
        (
            "close reason not UTF-8",
            vec![frame(Opcode::Close, true, b"\x03\xe8\xc3\x28")],
            vec![],
            pe,
        ),
        (
            "close reason cut inside a character",
            vec![frame(Opcode::Close, true, b"\x03\xe8\xc3")],
            vec![],
            pe,
        ),
    ]);
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let payload = code.to_be_bytes();
        cases.push((
            "close code not valid to receive",
            vec![frame(Opcode::Close, true, &payload)],
            vec![],
            pe,
        ));
    }
    check_violations(&cases, 1 << 20);
    // The minimal forms of the same lengths are accepted.
    for len in [0, 125, 126, 65535, 65536] {
        let input = frame(Opcode::Binary, true, &vec![7; len]);
        assert_eq!(decode(&input, &[], u64::MAX).1, Ok(false));
    }
}

#[test]
fn valid_close_codes_are_accepted() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice("dû".as_bytes());
        let input = frame(Opcode::Close, true, &payload);
        let (events, result) = decode(&input, &[], 10);
        assert_eq!(
            events,
            vec![Event::Close(Some(CloseCode(code)), "dû".into())]
        );
        assert_eq!(result, Ok(false));
    }
    let reason = "r".repeat(MAX_CLOSE_REASON);
    let mut payload = vec![0x03, 0xe8];
    payload.extend_from_slice(reason.as_bytes());
    let (events, _) = decode(&frame(Opcode::Close, true, &payload), &[], 10);
    assert_eq!(events, vec![Event::Close(Some(CloseCode::NORMAL), reason)]);
}

#[test]
fn too_big_is_1009_from_the_header() {
    let big = CloseCode::TOO_BIG;
    check_violations(
        &[
            (
                "one frame over",
                vec![frame(Opcode::Binary, true, &[0; 101])],
                vec![],
                big,
            ),
            (
                "fragments over, a ping between",
                vec![
                    frame(Opcode::Text, false, &[b'a'; 60]),
                    frame(Opcode::Ping, true, b""),
                    frame(Opcode::Continuation, true, &[b'a'; 41]),
                ],
                vec![Event::Ping(vec![])],
                big,
            ),
            (
                // Invalid UTF-8 is found before the frame that passes the limit.
                "bad text first",
                vec![
                    frame(Opcode::Text, false, &[0xff]),
                    frame(Opcode::Continuation, true, &[b'a'; 100]),
                ],
                vec![],
                CloseCode::INVALID_DATA,
            ),
        ],
        100,
    );
    // The header alone decides: no payload byte has arrived.
    let mut header = vec![0x82, MASK | 127];
    header.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    header.extend_from_slice(&MASK_KEY);
    assert_eq!(decode(&header, &[], u64::MAX - 1).1, Ok(true));
    assert_eq!(decode(&header, &[], 1 << 40).1, Err(big));
    let mut d = Decoder::new(100);
    let mut header = frame(Opcode::Binary, true, &[0; 101])[..8].to_vec();
    assert_eq!(d.decode(&mut header), Err(big));
    // Exactly the limit is accepted, and each message counts from zero.
    let input = concat(&[
        frame(Opcode::Binary, false, &[1; 50]),
        frame(Opcode::Continuation, true, &[2; 50]),
        frame(Opcode::Binary, true, &[3; 100]),
    ]);
    let (events, result) = decode(&input, &[], 100);
    assert_eq!(events.len(), 2);
    assert_eq!(result, Ok(false));
    // Control frames do not count.
    let input = concat(&[
        frame(Opcode::Binary, false, &[1; 100]),
        frame(Opcode::Ping, true, &[0; 125]),
        frame(Opcode::Continuation, true, b""),
    ]);
    assert_eq!(decode(&input, &[], 100).0.len(), 2);
}

#[test]
fn text_must_be_utf8_across_frames_and_reads() {
    let bad = CloseCode::INVALID_DATA;
    check_violations(
        &[
            (
                "invalid byte",
                vec![frame(Opcode::Text, true, b"a\xffb")],
                vec![],
                bad,
            ),
            (
                "surrogate",
                vec![frame(Opcode::Text, true, &[0xed, 0xa0, 0x80])],
                vec![],
                bad,
            ),
            (
                "above U+10FFFF",
                vec![frame(Opcode::Text, true, &[0xf4, 0x90, 0x80, 0x80])],
                vec![],
                bad,
            ),
            (
                "overlong",
                vec![frame(Opcode::Text, true, &[0xc0, 0xaf])],
                vec![],
                bad,
            ),
            (
                "incomplete at the end",
                vec![frame(Opcode::Text, true, &[b'a', 0xe2, 0x82])],
                vec![],
                bad,
            ),
            (
                "incomplete at the end, empty last frame",
                vec![
                    frame(Opcode::Text, false, &[0xe2, 0x82]),
                    frame(Opcode::Continuation, true, b""),
                ],
                vec![],
                bad,
            ),
            (
                // Found in the first fragment, before the message ends.
                "invalid in a non-final fragment",
                vec![
                    frame(Opcode::Text, false, &[b'o', b'k', 0xed, 0xa0]),
                    frame(Opcode::Ping, true, b""),
                ],
                vec![],
                bad,
            ),
            (
                "invalid across fragments",
                vec![
                    frame(Opcode::Text, false, &[0xf4]),
                    frame(Opcode::Continuation, false, &[0x90]),
                    frame(Opcode::Ping, true, b""),
                ],
                vec![],
                bad,
            ),
        ],
        1000,
    );
    // Binary messages are not checked; a new text message starts clean.
    let input = concat(&[
        frame(Opcode::Binary, true, &[0xff, 0xe2]),
        frame(Opcode::Text, true, "ok €".as_bytes()),
    ]);
    let (events, result) = decode_every_split(&input, 100);
    assert_eq!(events, vec![binary(&[0xff, 0xe2]), text("ok €")]);
    assert_eq!(result, Ok(false));
}

#[test]
fn encode_header_minimal_lengths() {
    let cases: &[(Opcode, bool, u64, &[u8])] = &[
        (Opcode::Text, true, 0, &[0x81, 0]),
        (Opcode::Binary, false, 125, &[0x02, 125]),
        (Opcode::Continuation, true, 126, &[0x80, 126, 0, 126]),
        (Opcode::Binary, true, 65535, &[0x82, 126, 0xff, 0xff]),
        (
            Opcode::Text,
            true,
            65536,
            &[0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0],
        ),
        (
            Opcode::Binary,
            true,
            (1 << 63) - 1,
            &[0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (Opcode::Close, true, 2, &[0x88, 2]),
        (Opcode::Ping, true, 0, &[0x89, 0]),
        (Opcode::Pong, true, 125, &[0x8a, 125]),
    ];
    for &(opcode, fin, len, expected) in cases {
        let (header, n) = encode_header(opcode, fin, len);
        assert_eq!(&header[..n], expected, "{opcode:?} {len}");
    }
}

#[test]
fn close_payload_encodes_and_refuses() {
    let (payload, n) = close_payload(CloseCode::GOING_AWAY, "bye").unwrap();
    assert_eq!(&payload[..n], b"\x03\xe9bye");
    let (payload, n) = close_payload(CloseCode(4999), "").unwrap();
    assert_eq!(&payload[..n], b"\x13\x87");
    let longest = "é".repeat(61) + "x";
    assert_eq!(longest.len(), MAX_CLOSE_REASON);
    let (payload, n) = close_payload(CloseCode::NORMAL, &longest).unwrap();
    assert_eq!(n, MAX_CONTROL_PAYLOAD);
    // What is sent is what the decoder accepts.
    let (events, _) = decode(&frame(Opcode::Close, true, &payload[..n]), &[], 0);
    assert_eq!(events, vec![Event::Close(Some(CloseCode::NORMAL), longest)]);
    assert_eq!(
        close_payload(CloseCode::NORMAL, &"x".repeat(MAX_CLOSE_REASON + 1)),
        Err(ClosePayloadError::ReasonTooLong)
    );
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert_eq!(
            close_payload(CloseCode(code), ""),
            Err(ClosePayloadError::CodeNotSendable),
            "{code}"
        );
    }
    for code in [
        CloseCode::NORMAL,
        CloseCode::GOING_AWAY,
        CloseCode::PROTOCOL_ERROR,
        CloseCode::UNSUPPORTED_DATA,
        CloseCode::INVALID_DATA,
        CloseCode::POLICY,
        CloseCode::TOO_BIG,
        CloseCode::INTERNAL_ERROR,
        CloseCode::TRY_AGAIN_LATER,
    ] {
        assert!(code.is_sendable(), "{code:?}");
    }
}

#[test]
fn decoder_is_small() {
    let size = core::mem::size_of::<Decoder>();
    std::println!("size_of::<Decoder>() = {size}");
    assert!(size <= 192, "{size}");
}
