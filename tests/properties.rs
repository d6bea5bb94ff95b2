//! Property tests of the parts where hand-written code replaces a library: the digit parser,
//! the chunked decoder and the path normaliser.

use embedded_responder::_internals::{parse_content_length, ChunkedDecoder};
use embedded_responder::target::{normalize_path, percent_decode};
use embedded_responder::Error;
use proptest::prelude::*;

/// Decode `input` fed in pieces ending at `cuts`, as the connection does (unread bytes kept
/// after the decoded ones), with (extension, trailer) limits: the body and the bytes after
/// it once done, or the body so far.
fn decode_pieces(
    input: &[u8],
    cuts: &[usize],
    limits: (usize, usize),
) -> Result<(Vec<u8>, Option<Vec<u8>>), Error> {
    let mut decoder = ChunkedDecoder::new(limits.0, limits.1);
    let mut buf = Vec::new();
    let mut decoded = 0;
    let mut fed = 0;
    for &c in cuts.iter().chain(std::iter::once(&input.len())) {
        let c = c.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..c]);
        fed = c;
        let d = decoder.decode_in_place(&mut buf[decoded..])?;
        let tail = buf[decoded + d.read..].to_vec();
        buf.truncate(decoded + d.written);
        decoded += d.written;
        buf.extend_from_slice(&tail);
        if d.done {
            let mut after = tail;
            after.extend_from_slice(&input[fed..]);
            return Ok((buf[..decoded].to_vec(), Some(after)));
        }
    }
    Ok((buf[..decoded].to_vec(), None))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn content_length_round_trips_every_u64(n: u64, zeros in 0usize..5) {
        let text = format!("{}{n}", "0".repeat(zeros));
        prop_assert_eq!(parse_content_length(text.as_bytes()), Ok(n));
    }

    #[test]
    fn content_length_agrees_with_std_on_digit_strings(s in "[0-9]{1,25}") {
        prop_assert_eq!(parse_content_length(s.as_bytes()).ok(), s.parse::<u64>().ok());
    }

    #[test]
    fn content_length_refuses_anything_with_a_non_digit(s in "[0-9]{0,5}[^0-9][0-9]{0,5}") {
        prop_assert_eq!(parse_content_length(s.as_bytes()), Err(Error::InvalidContentLength));
    }

    #[test]
    fn chunked_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..64, 1..20),
        extension in "(;[a-z]{1,5}(=[a-z0-9]{1,5})?){0,2}",
        trailers in proptest::collection::vec("[A-Za-z-]{1,8}: [ -~]{0,10}", 0..3),
        step in 1usize..50,
    ) {
        // Encode with chunk sizes cycling through `sizes`, in upper or lower hex.
        let mut encoded = Vec::new();
        let mut rest = &body[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            let size = if i % 2 == 0 { format!("{n:x}") } else { format!("{n:X}") };
            encoded.extend_from_slice(format!("{size}{extension}\r\n").as_bytes());
            encoded.extend_from_slice(&rest[..n]);
            encoded.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        encoded.extend_from_slice(format!("0{extension}\r\n").as_bytes());
        for t in &trailers {
            encoded.extend_from_slice(format!("{t}\r\n").as_bytes());
        }
        encoded.extend_from_slice(b"\r\nNEXT");

        let cuts: Vec<usize> = (1..).map(|i| i * step).take_while(|&c| c < encoded.len()).collect();
        let result = decode_pieces(&encoded, &cuts, (64, 256)).unwrap();
        prop_assert_eq!(result, (body.clone(), Some(b"NEXT".to_vec())));
    }

    #[test]
    fn chunked_any_input_same_result_whole_or_split(
        input in proptest::collection::vec(prop_oneof![
            Just(b'0'), Just(b'1'), Just(b'a'), Just(b'F'), Just(b'\r'), Just(b'\n'),
            Just(b';'), Just(b' '), Just(b':'), Just(b'x'), any::<u8>()
        ], 0..80),
        cut in 0usize..80,
    ) {
        // tight limits, so that their errors are reached too
        let run = |cuts: &[usize]| decode_pieces(&input, cuts, (8, 16));
        let whole = run(&[]);
        prop_assert_eq!(&whole, &run(&[cut]));
        let bytewise: Vec<usize> = (1..input.len()).collect();
        prop_assert_eq!(&whole, &run(&bytewise));
    }

    #[test]
    fn normalised_paths_never_escape_and_are_stable(
        segments in proptest::collection::vec(prop_oneof![
            Just(".."), Just("."), Just(""), Just("%2e%2e"), Just("%2E."), Just("%2e"),
            Just("a"), Just("b c"), Just("%2f"), Just("%5c"), Just("\\"), Just("%00"),
            Just("%41"), Just("x%20y"), Just("..."), Just("%"), Just("é")
        ], 0..12),
        trailing_slash: bool,
    ) {
        let mut raw = String::new();
        for s in &segments {
            raw.push('/');
            raw.push_str(s);
        }
        if trailing_slash || raw.is_empty() {
            raw.push('/');
        }
        let mut out = [0u8; 512];
        match normalize_path(&raw, &mut out) {
            Ok(path) => {
                prop_assert!(path.starts_with('/'));
                prop_assert!(!path.contains("//"), "{path}");
                prop_assert!(!path.contains('\\'));
                prop_assert!(!path.contains('\0'));
                for segment in path.split('/') {
                    prop_assert!(segment != "." && segment != "..", "{raw} -> {path}");
                }
                // normalising again changes nothing (the samples have no '%' once decoded)
                let again = {
                    let mut out2 = [0u8; 512];
                    normalize_path(path, &mut out2).map(str::to_string)
                };
                prop_assert_eq!(again.as_deref(), Ok(path));
            }
            Err(e) => {
                prop_assert_eq!(e, Error::InvalidPath);
                let bad = ["%2f", "%5c", "\\", "%00", "%"];
                prop_assert!(segments.iter().any(|s| bad.contains(s)), "{raw}");
            }
        }
    }

    #[test]
    fn percent_decoding_inverts_encoding(s in "[^\u{0}]{0,40}") {
        let encoded: String = s
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let mut out = [0u8; 256];
        prop_assert_eq!(percent_decode(&encoded, &mut out), Ok(s.as_str()));
    }
}
