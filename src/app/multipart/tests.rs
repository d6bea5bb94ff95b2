//! The decoder at every split point (whole, cut once anywhere, a byte at a time), the
//! reader over a body taken whole, and a small random search for inputs that split
//! differently.

use super::decoder::{Decoder, Found};
use super::*;
use std::vec::Vec;

/// A part as the tests see it: name, filename, content type, data.
type Seen = (String, Option<String>, Option<String>, Vec<u8>);

/// Decode `body` arriving in pieces ending at `cuts` (sorted offsets), through a receive
/// buffer that keeps the bytes not taken yet, as `RequestBody` does; `head_room` bytes of
/// head buffer. Every part, or the first error.
fn decode(
    boundary: &[u8],
    body: &[u8],
    cuts: &[usize],
    head_room: usize,
) -> Result<Vec<Seen>, MultipartError> {
    let mut decoder = Decoder::new(boundary);
    let mut head = vec![0u8; head_room];
    let (mut consumed, mut fed) = (0, 0);
    let mut cuts = cuts.iter().copied().filter(|&c| c > 0 && c < body.len());
    let mut parts: Vec<Seen> = Vec::new();
    let mut in_data = false;
    for _ in 0..10 * body.len() + 100 {
        let input = &body[consumed..fed];
        let (taken, found) = if input.is_empty() && decoder.needs_input() {
            if fed < body.len() {
                fed = cuts.next().unwrap_or(body.len());
                continue;
            }
            (0, Some(decoder.end()?))
        } else {
            decoder.decode(input, &mut head)?
        };
        assert!(taken <= input.len());
        match found {
            None => assert_eq!(taken, input.len(), "nothing found, input left"),
            Some(Found::Part(p)) => {
                assert!(!in_data);
                parts.push((
                    p.name.str_of(&head).to_string(),
                    p.filename.map(|s| s.str_of(&head).to_string()),
                    p.content_type.map(|s| s.str_of(&head).to_string()),
                    Vec::new(),
                ));
                in_data = true;
            }
            Some(Found::Data { start, end }) => {
                assert!(in_data && start < end && end == taken);
                parts
                    .last_mut()
                    .unwrap()
                    .3
                    .extend_from_slice(&input[start..end]);
            }
            Some(Found::Replay(piece)) => {
                assert!(in_data && !piece.is_empty() && taken == 0);
                parts.last_mut().unwrap().3.extend_from_slice(piece);
            }
            Some(Found::DataEnd) => {
                assert!(in_data);
                in_data = false;
            }
            Some(Found::Closed) => assert!(!in_data),
            Some(Found::End) => {
                assert!(!in_data);
                assert_eq!(consumed + taken, body.len());
                return Ok(parts);
            }
        }
        consumed += taken;
    }
    panic!("no end after {} steps", 10 * body.len() + 100);
}

/// `decode` whole, cut once at every offset, and a byte at a time: the same outcome.
fn decode_every_way(
    boundary: &[u8],
    body: &[u8],
    head_room: usize,
) -> Result<Vec<Seen>, MultipartError> {
    let whole = decode(boundary, body, &[], head_room);
    for cut in 1..body.len() {
        assert_eq!(
            decode(boundary, body, &[cut], head_room),
            whole,
            "cut at {cut}"
        );
    }
    let bytewise: Vec<usize> = (1..body.len()).collect();
    assert_eq!(
        decode(boundary, body, &bytewise, head_room),
        whole,
        "byte at a time"
    );
    whole
}

fn field(name: &str, data: &[u8]) -> Seen {
    (name.to_string(), None, None, data.to_vec())
}

fn file(name: &str, filename: &str, content_type: &str, data: &[u8]) -> Seen {
    (
        name.to_string(),
        Some(filename.to_string()),
        Some(content_type.to_string()),
        data.to_vec(),
    )
}

const CD: &str = "Content-Disposition: form-data; name=";

#[test]
fn valid_bodies_at_every_split() {
    let b = "XyZ";
    let cases: Vec<(String, Vec<Seen>)> = vec![
        (format!("--XyZ\r\n{CD}\"a\"\r\n\r\nhello\r\n--XyZ--\r\n"), vec![field("a", b"hello")]),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\n1\r\n--XyZ\r\n{CD}b\r\n\r\n22\r\n--XyZ\r\n{CD}c\r\n\r\n\r\n--XyZ--"),
            vec![field("a", b"1"), field("b", b"22"), field("c", b"")],
        ),
        // No data section at all: the head's blank line is the delimiter's CRLF.
        (format!("--XyZ\r\n{CD}a\r\n\r\n--XyZ--\r\n"), vec![field("a", b"")]),
        (
            format!(
                "--XyZ\r\n{CD}\"up\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\
                 \x00\x01\r\n\r\n\r\n--XyZ--\r\n"
            ),
            vec![file("up", "a.bin", "application/octet-stream", b"\x00\x01\r\n\r\n")],
        ),
        // Near misses and boundary-like data.
        (
            format!(
                "--XyZ\r\n{CD}a\r\n\r\n---XyZ\r--XyZ\n--XyZ\r\n-XyZ\r\n--Xy\r\n--X\r\r\n--XyZ\r\n{CD}b\r\n\r\n\r\n\r\n--XyZ--"
            ),
            vec![field("a", b"---XyZ\r--XyZ\n--XyZ\r\n-XyZ\r\n--Xy\r\n--X\r"), field("b", b"\r\n")],
        ),
        // Preamble, padding, epilogue.
        (
            format!("preamble --XyZ\r\n-\r\n--XyZ \t\r\n{CD}a\r\n\r\nx\r\n--XyZ-- \r\nepilogue\r\n--XyZ\r\n"),
            vec![field("a", b"x")],
        ),
        (format!("\r\n--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZ--"), vec![field("a", b"x")]),
        // A preamble that looks like a delimiter but is not one (no line start).
        (format!("x--XyZ\r\n--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZ--"), vec![field("a", b"x")]),
        // No parts at all.
        ("--XyZ--\r\n".to_string(), vec![]),
    ];
    for (body, expected) in cases {
        assert_eq!(
            decode_every_way(b.as_bytes(), body.as_bytes(), 128),
            Ok(expected),
            "{body:?}"
        );
    }
}

#[test]
fn the_longest_boundary_and_one_character() {
    let long = "b".repeat(70);
    let body = format!(
        "--{long}\r\n{CD}a\r\n\r\n\r\n--{}\r\n--{long}--",
        &long[..69]
    );
    assert_eq!(
        decode_every_way(long.as_bytes(), body.as_bytes(), 64),
        Ok(vec![field(
            "a",
            format!("\r\n--{}", &long[..69]).as_bytes()
        )])
    );
    let body = format!("--q\r\n{CD}a\r\n\r\n-q\r\n-\r\n--\r\n--q--");
    assert_eq!(
        decode_every_way(b"q", body.as_bytes(), 64),
        Ok(vec![field("a", b"-q\r\n-\r\n--")])
    );
}

#[test]
fn broken_bodies_at_every_split() {
    use MultipartError::*;
    let cases: Vec<(String, MultipartError)> = vec![
        (String::new(), MissingClosingDelimiter),
        ("no delimiter at all".to_string(), MissingClosingDelimiter),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ\r\n"),
            MissingClosingDelimiter,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello"),
            MissingClosingDelimiter,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--Xy"),
            MissingClosingDelimiter,
        ),
        (format!("--XyZ\r\n{CD}a\r\n"), MissingClosingDelimiter),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ--\r"),
            InvalidDelimiterLine,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ-"),
            MissingClosingDelimiter,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZx\r\n--XyZ--"),
            InvalidDelimiterLine,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ-x"),
            InvalidDelimiterLine,
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nhello\r\n--XyZ--x"),
            InvalidDelimiterLine,
        ),
        (
            format!("--XyZ \n{CD}a\r\n\r\n\r\n--XyZ--"),
            InvalidDelimiterLine,
        ),
        (format!("--XyZ\r\n{CD}a\n\r\n\r\n--XyZ--"), BareLineEnding),
        (format!("--XyZ\r\n{CD}a\r\n\n\r\n--XyZ--"), BareLineEnding),
        (
            format!("--XyZ\r\n{CD}a\r\n folded\r\n\r\n\r\n--XyZ--"),
            ObsFold,
        ),
        (
            format!("--XyZ\r\n {CD}a\r\n\r\n\r\n--XyZ--"),
            InvalidHeaderLine,
        ),
        (
            "--XyZ\r\nNo colon\r\n\r\n\r\n--XyZ--".to_string(),
            InvalidHeaderLine,
        ),
        (
            format!("--XyZ\r\n{CD}a\x01\r\n\r\n\r\n--XyZ--"),
            InvalidHeaderLine,
        ),
        (
            format!("--XyZ\r\n{CD}a\rx\r\n\r\n--XyZ--"),
            InvalidHeaderLine,
        ),
        (
            "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--".to_string(),
            MissingContentDisposition,
        ),
        (
            "--XyZ\r\n\r\nx\r\n--XyZ--".to_string(),
            MissingContentDisposition,
        ),
        (
            "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--".to_string(),
            MissingName,
        ),
        (
            "--XyZ\r\nContent-Disposition: inline; name=a\r\n\r\nx\r\n--XyZ--".to_string(),
            NotFormData,
        ),
        (
            format!("--XyZ\r\n{CD}\"a\r\n\r\nx\r\n--XyZ--"),
            InvalidContentDisposition,
        ),
        (
            format!("--XyZ\r\n{CD}{}\r\n\r\nx\r\n--XyZ--", "n".repeat(200)),
            HeadTooLarge { room: 128 },
        ),
        (
            format!("--XyZ\r\n{CD}a\r\n{}\r\nx\r\n--XyZ--", "X:\r\n".repeat(16)),
            TooManyHeaders,
        ),
        // Data right after the head that starts with the delimiter: it is one.
        (
            format!("--XyZ\r\n{CD}a\r\n\r\n--XyZx\r\n--XyZ--"),
            InvalidDelimiterLine,
        ),
        // The second part is the broken one: the first was fine.
        (
            format!("--XyZ\r\n{CD}a\r\n\r\nx\r\n--XyZ\r\n{CD}a\r\n{CD}b\r\n\r\nx\r\n--XyZ--"),
            RepeatedHeader,
        ),
    ];
    for (body, error) in cases {
        assert_eq!(
            decode_every_way(b"XyZ", body.as_bytes(), 128),
            Err(error),
            "{body:?}"
        );
    }
}

#[test]
fn a_head_that_just_fits() {
    let head = format!("{CD}a\r\n");
    let body = format!("--XyZ\r\n{head}\r\nx\r\n--XyZ--");
    assert_eq!(
        decode_every_way(b"XyZ", body.as_bytes(), head.len()),
        Ok(vec![field("a", b"x")])
    );
    assert_eq!(
        decode_every_way(b"XyZ", body.as_bytes(), head.len() - 1),
        Err(MultipartError::HeadTooLarge {
            room: head.len() - 1
        })
    );
}

#[test]
fn errors_are_sticky() {
    let mut decoder = Decoder::new(b"b");
    let mut head = [0u8; 16];
    assert_eq!(
        decoder.decode(b"--b\r\n\n", &mut head),
        Err(MultipartError::BareLineEnding)
    );
    assert_eq!(
        decoder.decode(b"x", &mut head),
        Err(MultipartError::BareLineEnding)
    );
    assert_eq!(decoder.end(), Err(MultipartError::BareLineEnding));
    assert_eq!(
        Decoder::new(b"").decode(b"--\r\n", &mut head),
        Err(MultipartError::InvalidBoundary)
    );
}

/// A small deterministic generator (xorshift), for the random search.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_bodies_decode_the_same_however_they_are_split() {
    // Bodies made of pieces that are likely to meet the decoder's corner cases.
    let pieces: [&[u8]; 14] = [
        b"--b",
        b"\r\n",
        b"\r",
        b"\n",
        b"-",
        b"b",
        b"--b--",
        b" ",
        b"x",
        b"\r\n--b\r\n",
        b"Content-Disposition: form-data; name=a",
        b":",
        b"\r\n\r\n",
        b"\r\n--",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ok = 0;
    for _ in 0..3000 {
        let mut body = Vec::new();
        for _ in 0..rng.below(12) {
            body.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        let whole = decode(b"b", &body, &[], 48);
        ok += usize::from(whole.is_ok());
        let cuts: Vec<usize> = (0..3).map(|_| rng.below(body.len() + 1)).collect();
        let mut sorted = cuts.clone();
        sorted.sort_unstable();
        assert_eq!(
            decode(b"b", &body, &sorted, 48),
            whole,
            "{body:?} cut at {sorted:?}"
        );
        let bytewise: Vec<usize> = (1..body.len()).collect();
        assert_eq!(
            decode(b"b", &body, &bytewise, 48),
            whole,
            "{body:?} byte at a time"
        );
        if let Ok(parts) = whole {
            for (_, _, _, data) in parts {
                assert!(
                    !data.windows(5).any(|w| w == b"\r\n--b"),
                    "a delimiter in data"
                );
            }
        }
    }
    assert!(ok > 30, "only {ok} random bodies were valid");
}

#[test]
fn the_reader_over_a_body_taken_whole() {
    let body = format!(
        "--XyZ\r\n{CD}skip\r\n\r\nskipped data\r\n--XyZ\r\n{CD}f; filename=\"f.txt\"\r\nContent-Type: text/plain\r\n\r\n\
         a\r\n--XyZx\r\n--XyZ--\r\nepilogue"
    );
    let mut form = Multipart::with_content_type(
        b"multipart/form-data; boundary=XyZ",
        RequestBody::buffered(body.as_bytes()),
    )
    .unwrap();
    assert_eq!(form.read_data(), Ok(None), "no part yet");
    let mut head = [0u8; 128];
    let part = form.next_part(&mut head).unwrap().unwrap();
    assert_eq!(
        (part.name(), part.filename(), part.content_type()),
        ("skip", None, None)
    );
    let mut head = [0u8; 128];
    let part = form.next_part(&mut head).unwrap().unwrap();
    assert_eq!(
        (part.name(), part.filename(), part.content_type()),
        ("f", Some("f.txt"), Some("text/plain"))
    );
    let mut data = Vec::new();
    let len = form
        .for_each_data(|piece| data.extend_from_slice(piece))
        .unwrap();
    assert_eq!((len, &data[..]), (1, &b"a"[..]));
    // A line starting with the delimiter is one: `--XyZx` is not data.
    assert_eq!(
        form.next_part(&mut head),
        Err(MultipartError::InvalidDelimiterLine)
    );
    assert_eq!(
        form.next_part(&mut head),
        Err(MultipartError::InvalidDelimiterLine)
    );

    let body = format!("--XyZ\r\n{CD}a\r\n\r\nxyz\r\n--XyZ--\r\nepilogue");
    let mut form = Multipart::with_content_type(
        b"multipart/form-data; boundary=XyZ",
        RequestBody::buffered(body.as_bytes()),
    )
    .unwrap();
    assert!(form.next_part(&mut head).unwrap().is_some());
    assert_eq!(form.read_data(), Ok(Some(&b"xyz"[..])));
    assert_eq!(form.read_data(), Ok(None));
    assert_eq!(form.read_data(), Ok(None));
    assert_eq!(form.next_part(&mut head), Ok(None));
    assert_eq!(form.next_part(&mut head), Ok(None));
    assert!(form.body.available().is_empty(), "the epilogue is read");

    assert_eq!(
        Multipart::with_content_type(b"text/plain", RequestBody::buffered(b"")).err(),
        Some(MultipartError::NotMultipart)
    );
}
