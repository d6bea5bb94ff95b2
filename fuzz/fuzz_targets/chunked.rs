//! The chunked decoder: decoding the input whole, byte by byte, and split where the fuzzer's
//! first byte says must give the same body, the same leftover and the same error; the decoded
//! body is never longer than its encoding.
#![no_main]

use embedded_responder::_internals::ChunkedDecoder;
use libfuzzer_sys::fuzz_target;

type Outcome = Result<(Vec<u8>, usize), embedded_responder::Error>;

/// Decode `input` fed in pieces ending at `cuts`; the body and how many input bytes were
/// consumed, or the error, or `Ok` with `usize::MAX` consumed if it never completed.
fn decode(input: &[u8], cuts: &[usize]) -> Outcome {
    let mut decoder = ChunkedDecoder::new(32, 128);
    let mut buf: Vec<u8> = Vec::new();
    let mut decoded = 0;
    let mut fed = 0;
    let mut consumed = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        let cut = cut.clamp(fed, input.len());
        buf.extend_from_slice(&input[fed..cut]);
        fed = cut;
        let d = decoder.decode_in_place(&mut buf[decoded..])?;
        assert!(d.written <= d.read);
        consumed += d.read;
        let rest = buf[decoded + d.read..].to_vec();
        buf.truncate(decoded + d.written);
        decoded += d.written;
        buf.extend_from_slice(&rest);
        if d.done {
            assert!(decoder.is_done());
            return Ok((buf[..decoded].to_vec(), consumed));
        }
    }
    Ok((buf[..decoded].to_vec(), usize::MAX))
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let whole = decode(input, &[]);
    let bytewise: Vec<usize> = (1..input.len()).collect();
    assert_eq!(whole, decode(input, &bytewise), "byte at a time");
    let cut = usize::from(split) % (input.len() + 1);
    assert_eq!(whole, decode(input, &[cut]), "split at {cut}");
    if let Ok((body, consumed)) = &whole {
        if *consumed != usize::MAX {
            assert!(body.len() < *consumed);
        }
    }
});
