//! Incremental UTF-8 validation for text messages that arrive in pieces (RFC 6455 §8.1).
//!
//! A text message may be cut anywhere: between frames, between reads, inside a character.
//! [`Utf8Validator`] checks each piece as it arrives with `core::str::from_utf8` and keeps the
//! at most 3 bytes of a character the piece ended inside of, to be completed by the next piece.
//! An invalid sequence (overlong, surrogate, above U+10FFFF, stray continuation byte) is
//! reported by the piece it is found in, as soon as it can be told from a valid prefix;
//! a character still incomplete when the message ends is reported by [`Utf8Validator::finish`].

use core::str::from_utf8;

/// The bytes seen so far are not the start of valid UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Validates a UTF-8 stream fed in arbitrary pieces; no heap, 4 bytes of state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Utf8Validator {
    /// The start of a character the last piece ended inside of: `pending[..len]`.
    pending: [u8; 3],
    len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub(crate) const fn new() -> Self {
        Utf8Validator {
            pending: [0; 3],
            len: 0,
        }
    }

    /// Checks the next piece of the stream. After an error the validator is not to be used
    /// again before [`Utf8Validator::reset`].
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Result<(), InvalidUtf8> {
        if self.len > 0 {
            // Complete the pending character: it and what follows fit in 4 bytes.
            let held = usize::from(self.len);
            let take = bytes.len().min(4 - held);
            let mut joined = [0u8; 4];
            joined[..held].copy_from_slice(&self.pending[..held]);
            joined[held..held + take].copy_from_slice(&bytes[..take]);
            let joined = &joined[..held + take];
            let complete = match from_utf8(joined) {
                Ok(_) => joined.len(),
                Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still a prefix of one character; `take` was all of `bytes` (a prefix
                    // of 4 bytes or more is always complete or invalid).
                    self.hold(joined);
                    return Ok(());
                }
            };
            // The pending character is complete (`complete > held`); go on after it.
            bytes = &bytes[complete - held..];
            self.len = 0;
        }
        match from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                self.hold(&bytes[e.valid_up_to()..]);
                Ok(())
            }
        }
    }

    /// Ends the stream: an error if it stopped inside a character. Ready for a new stream.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.len == 0;
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }

    /// Forgets the stream, ready for a new one.
    pub(crate) fn reset(&mut self) {
        self.len = 0;
    }

    /// Keeps the incomplete end of a character (1 to 3 bytes, as `from_utf8` guarantees when
    /// it reports an unexpected end).
    fn hold(&mut self, tail: &[u8]) {
        let n = tail.len().min(self.pending.len());
        self.pending[..n].copy_from_slice(&tail[..n]);
        // n <= 3, so the cast cannot truncate.
        self.len = n as u8;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Validates `bytes` fed in pieces ending at `cuts`, then finishes.
    fn validate(bytes: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut from = 0;
        for &cut in cuts.iter().chain(core::iter::once(&bytes.len())) {
            v.feed(&bytes[from..cut])?;
            from = cut;
        }
        v.finish()
    }

    /// Every way to cut `bytes` in two and in three, and byte by byte, agrees with
    /// `core::str::from_utf8` on the whole.
    fn agrees_at_every_split(bytes: &[u8]) {
        let expected = from_utf8(bytes).map(|_| ()).map_err(|_| InvalidUtf8);
        assert_eq!(validate(bytes, &[]), expected, "{bytes:02x?} whole");
        let bytewise: Vec<usize> = (1..bytes.len()).collect();
        assert_eq!(
            validate(bytes, &bytewise),
            expected,
            "{bytes:02x?} bytewise"
        );
        for i in 0..=bytes.len() {
            for j in i..=bytes.len() {
                assert_eq!(
                    validate(bytes, &[i, j]),
                    expected,
                    "{bytes:02x?} cut at {i} and {j}"
                );
            }
        }
    }

    #[test]
    fn valid_text_at_every_split() {
        for s in [
            "",
            "a",
            "hello",
            "é",
            "€",
            "𝄞",
            "aé€𝄞z",
            "κόσμε",
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
            "\u{d7ff}\u{e000}\u{fffd}",
        ] {
            agrees_at_every_split(s.as_bytes());
        }
    }

    #[test]
    fn invalid_sequences_at_every_split() {
        let cases: &[&[u8]] = &[
            // Overlong encodings.
            &[0xc0, 0x80],
            &[0xc1, 0xbf],
            &[0xe0, 0x80, 0x80],
            &[0xe0, 0x9f, 0xbf],
            &[0xf0, 0x80, 0x80, 0x80],
            &[0xf0, 0x8f, 0xbf, 0xbf],
            // Surrogates.
            &[0xed, 0xa0, 0x80],
            &[0xed, 0xbf, 0xbf],
            &[b'a', 0xed, 0xa0, 0x80, b'b'],
            // Above U+10FFFF.
            &[0xf4, 0x90, 0x80, 0x80],
            &[0xf5, 0x80, 0x80, 0x80],
            &[0xff],
            // Stray continuation bytes, a lead byte followed by a non-continuation.
            &[0x80],
            &[b'a', 0xbf, b'b'],
            &[0xc3, b'a'],
            &[0xe2, 0x82, b'a'],
            &[0xf0, 0x9d, 0x84, b'a'],
            // Incomplete at the end.
            &[0xc3],
            &[0xe2, 0x82],
            &[0xf0, 0x9d, 0x84],
            &[b'a', b'b', 0xf0, 0x9d],
            // A complete character, then an incomplete one.
            &[0xc3, 0xa9, 0xe2, 0x82],
        ];
        for bytes in cases {
            agrees_at_every_split(bytes);
        }
    }

    #[test]
    fn invalid_is_reported_as_soon_as_it_is_seen() {
        // The piece that makes a sequence impossible fails, before the message ends.
        for (first, second) in [
            (&[0xed][..], &[0xa0][..]),
            (&[0xf4][..], &[0x90][..]),
            (&[0xe0][..], &[0x80][..]),
            (&[0xf0, 0x9d][..], &[0x41][..]),
            (&[b'a'][..], &[0xf8][..]),
        ] {
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(first), Ok(()), "{first:02x?}");
            assert_eq!(
                v.feed(second),
                Err(InvalidUtf8),
                "{first:02x?} {second:02x?}"
            );
        }
    }

    #[test]
    fn holds_at_most_three_bytes_and_resets() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xf0]).unwrap();
        v.feed(&[0x9d]).unwrap();
        v.feed(&[0x84]).unwrap();
        assert_eq!(v.len, 3);
        assert_eq!(v.finish(), Err(InvalidUtf8));
        // finish starts a new stream.
        assert_eq!(v.feed(b"ok"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
        v.feed(&[0xe2]).unwrap();
        v.reset();
        assert_eq!(v.feed(b"x"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }
}
