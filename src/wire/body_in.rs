//! Body framing: decided once, from the head, before a single body byte is read; and the
//! chunked decoder.
//!
//! RFC 9112 §6.3 gives the order: Transfer-Encoding wins over Content-Length, and a request
//! with neither has no body. Anything ambiguous (both headers, disagreeing or malformed
//! lengths, `chunked` not last) is refused, because a server and a proxy that read it
//! differently is how requests get smuggled. Chunked bodies are decoded in place: the decoded
//! bytes are never longer than the encoded ones, so they are compacted inside the receive
//! buffer and the handler sees one contiguous body.

use super::request::Version;
use super::syntax::{hex_value, is_field_byte, is_token_byte, list_items};
use crate::error::Error;

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: neither Content-Length nor Transfer-Encoding was sent.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// `Transfer-Encoding: chunked` (RFC 9112 §7.1).
    Chunked,
}

/// What the framing fields said, gathered one field at a time during the single pass over
/// the headers, then judged once by [`FramingFields::framing`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FramingFields {
    length: Option<u64>,
    /// A Content-Length that is not a number, or disagrees with an earlier one.
    invalid_length: bool,
    transfer_encoding: bool,
    /// Codings in order across all Transfer-Encoding fields: the last is chunked, chunked came
    /// before the last, a coding other than chunked was named.
    chunked_last: bool,
    chunked_earlier: bool,
    other_coding: bool,
}

impl FramingFields {
    /// A Content-Length field. A list of identical values is allowed to stand for one (RFC
    /// 9110 §8.6); repeated fields are treated as one list.
    pub(crate) fn content_length(&mut self, value: &[u8]) {
        for item in list_items(value) {
            match parse_content_length(item) {
                Ok(n) if self.length.is_none_or(|seen| seen == n) => self.length = Some(n),
                _ => self.invalid_length = true,
            }
        }
    }

    /// A Transfer-Encoding field. Empty list elements are allowed and ignored (RFC 9110
    /// §5.6.1).
    pub(crate) fn transfer_encoding(&mut self, value: &[u8]) {
        self.transfer_encoding = true;
        for coding in list_items(value).filter(|c| !c.is_empty()) {
            self.chunked_earlier |= self.chunked_last;
            self.chunked_last = coding.eq_ignore_ascii_case(b"chunked");
            self.other_coding |= !self.chunked_last;
        }
    }

    /// The framing, or why there is none that can be trusted.
    pub(crate) fn framing(&self, version: Version) -> Result<Framing, Error> {
        if self.invalid_length {
            return Err(Error::InvalidContentLength);
        }
        if !self.transfer_encoding {
            return Ok(self.length.map_or(Framing::None, Framing::Length));
        }
        if self.length.is_some() {
            return Err(Error::ContentLengthWithTransferEncoding);
        }
        if version == Version::Http10 {
            return Err(Error::TransferEncodingInHttp10);
        }
        if self.chunked_earlier {
            // `chunked` applied twice, or not last: the length is unknowable (RFC 9112 §6.3).
            return Err(Error::ChunkedNotLast);
        }
        if self.other_coding {
            // gzip, deflate, ...: not implemented (RFC 9112 §6.1). Checked after the above so
            // that `chunked, gzip` is the 400 RFC 9112 §6.3 requires.
            return Err(Error::UnsupportedTransferEncoding);
        }
        if !self.chunked_last {
            // A Transfer-Encoding with no coding at all.
            return Err(Error::Malformed);
        }
        Ok(Framing::Chunked)
    }
}

/// Parse a Content-Length value: one or more ASCII digits, nothing else (`1*DIGIT`, RFC 9110
/// §8.6). Hand-written because `str::parse` accepts a leading `+`; overflow is an error, not a
/// wrap.
pub fn parse_content_length(value: &[u8]) -> Result<u64, Error> {
    if value.is_empty() {
        return Err(Error::InvalidContentLength);
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return Err(Error::InvalidContentLength);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(Error::InvalidContentLength)?;
    }
    Ok(n)
}

/// Most hex digits a chunk size may have, leading zeros included: 16 digits hold any `u64`,
/// and a size line of endless zeros must not keep a connection busy forever.
pub const MAX_CHUNK_SIZE_DIGITS: u8 = 16;

/// Where the chunked decoder is, byte by byte (RFC 9112 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// In the hex digits of a chunk size.
    Size,
    /// Whitespace after the size: only more whitespace or `;` may follow.
    SizeSpace,
    /// In chunk extensions, up to CR.
    Extension,
    /// CR of the size line seen; LF must follow.
    SizeLf,
    /// In chunk data.
    Data,
    /// After chunk data; CR must follow.
    DataCr,
    /// After chunk data and CR; LF must follow.
    DataLf,
    /// At the start of a trailer line, or of the final CRLF.
    TrailerStart,
    /// In a trailer field name.
    TrailerName,
    /// In a trailer field value, up to CR.
    TrailerValue,
    /// CR of a trailer line seen; LF must follow.
    TrailerLf,
    /// CR of the final empty line seen; LF must follow.
    EndLf,
    /// The body is complete.
    Done,
}

/// An incremental, in-place decoder for chunked bodies.
///
/// Feed it the encoded bytes as they arrive; it writes chunk data over the encoding it has
/// consumed, so decoding needs no second buffer. Chunk extensions are skipped but bounded;
/// trailers are checked, bounded and dropped: they never change the framing or the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedDecoder {
    state: ChunkState,
    /// The chunk size being parsed, then the data bytes left in the chunk.
    size: u64,
    /// Chunk data bytes decoded so far.
    data: u64,
    digits: u8,
    /// Bytes of the current size line's extensions.
    extension_len: usize,
    /// Bytes of the trailer section so far.
    trailer_len: usize,
    max_extension: usize,
    max_trailers: usize,
}

/// How far [`ChunkedDecoder::decode_in_place`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Encoded bytes consumed from the input.
    pub read: usize,
    /// Decoded bytes written to the front of the buffer.
    pub written: usize,
    /// The last chunk and the trailer section are complete.
    pub done: bool,
}

impl ChunkedDecoder {
    /// A decoder that refuses extensions longer than `max_extension` bytes per chunk and
    /// trailer sections longer than `max_trailers` bytes.
    pub const fn new(max_extension: usize, max_trailers: usize) -> Self {
        ChunkedDecoder {
            state: ChunkState::Size,
            size: 0,
            data: 0,
            digits: 0,
            extension_len: 0,
            trailer_len: 0,
            max_extension,
            max_trailers,
        }
    }

    /// Chunk data bytes decoded so far: where in the body an error was found.
    pub fn data_len(&self) -> u64 {
        self.data
    }

    /// The error to answer for `error`, found by this decoder, when the body may not be
    /// longer than `limit`: if the data before it already passed the limit, that came first
    /// in the stream, and is what is answered (413), however the body was split into reads.
    pub fn error_within(&self, error: Error, limit: u64) -> Error {
        if self.data > limit {
            Error::BodyTooLarge
        } else {
            error
        }
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decode the encoded bytes in `buf`, writing chunk data over them from index 0 onward
    /// (never past what has been read). Returns how many encoded bytes were read and how many
    /// data bytes were written; `buf[read..]` is unread (the next request, if `done`).
    ///
    /// Call again with the unread bytes (moved wherever convenient) when more arrive.
    pub fn decode_in_place(&mut self, buf: &mut [u8]) -> Result<Decoded, Error> {
        let mut read = 0;
        let mut written = 0;
        while read < buf.len() && self.state != ChunkState::Done {
            if self.state == ChunkState::Data {
                let available = buf.len() - read;
                let n = usize::try_from(self.size).map_or(available, |s| s.min(available));
                buf.copy_within(read..read + n, written);
                read += n;
                written += n;
                self.size -= n as u64;
                self.data += n as u64;
                if self.size == 0 {
                    self.state = ChunkState::DataCr;
                }
                continue;
            }
            self.step(buf[read])?;
            read += 1;
        }
        Ok(Decoded {
            read,
            written,
            done: self.state == ChunkState::Done,
        })
    }

    /// Advance over one byte outside chunk data.
    fn step(&mut self, b: u8) -> Result<(), Error> {
        use ChunkState::*;
        self.state = match (self.state, b) {
            (Size, _) if hex_value(b).is_some() => {
                self.digits += 1;
                if self.digits > MAX_CHUNK_SIZE_DIGITS {
                    return Err(Error::InvalidChunk);
                }
                let digit = u64::from(hex_value(b).unwrap_or(0));
                self.size = self
                    .size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(digit))
                    .ok_or(Error::InvalidChunk)?;
                Size
            }
            (Size, _) if self.digits == 0 => return Err(Error::InvalidChunk),
            (Size | SizeSpace, b' ' | b'\t') => self.extension_byte(SizeSpace)?,
            (Size | SizeSpace, b';') => self.extension_byte(Extension)?,
            (Size, b'\r') => SizeLf,
            (Size | SizeSpace, _) => return Err(Error::InvalidChunk),
            (Extension, b'\r') => SizeLf,
            (Extension, _) if is_field_byte(b) => self.extension_byte(Extension)?,
            (Extension, _) => return Err(Error::InvalidChunk),
            (SizeLf, b'\n') => {
                self.digits = 0;
                self.extension_len = 0;
                if self.size == 0 {
                    TrailerStart
                } else {
                    Data
                }
            }
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => Size,
            (TrailerStart, b'\r') => EndLf,
            (TrailerStart | TrailerName, _) if is_token_byte(b) => {
                self.trailer_byte(TrailerName)?
            }
            (TrailerName, b':') => self.trailer_byte(TrailerValue)?,
            (TrailerValue, b'\r') => self.trailer_byte(TrailerLf)?,
            (TrailerValue, _) if is_field_byte(b) => self.trailer_byte(TrailerValue)?,
            (TrailerLf, b'\n') => self.trailer_byte(TrailerStart)?,
            (EndLf, b'\n') => Done,
            _ => return Err(Error::InvalidChunk),
        };
        Ok(())
    }

    fn extension_byte(&mut self, next: ChunkState) -> Result<ChunkState, Error> {
        self.extension_len += 1;
        if self.extension_len > self.max_extension {
            return Err(Error::ChunkExtensionTooLong);
        }
        Ok(next)
    }

    fn trailer_byte(&mut self, next: ChunkState) -> Result<ChunkState, Error> {
        self.trailer_len += 1;
        if self.trailer_len > self.max_trailers {
            return Err(Error::TrailersTooLarge);
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The framing `pairs` give, gathered as the head parser gathers it.
    fn framing(version: Version, pairs: &[(&str, &[u8])]) -> Result<Framing, Error> {
        let mut fields = FramingFields::default();
        for &(name, value) in pairs {
            if name.eq_ignore_ascii_case("content-length") {
                fields.content_length(value);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                fields.transfer_encoding(value);
            }
        }
        fields.framing(version)
    }

    /// Decode `input` fed in pieces of `step` bytes, as the connection does: unread bytes
    /// are kept after the decoded ones. Returns the body and the bytes after it.
    fn decode(input: &[u8], step: usize) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let mut decoder = ChunkedDecoder::new(16, 64);
        let mut buf = Vec::new();
        let mut decoded = 0;
        let mut fed = 0;
        while fed < input.len() {
            let n = step.max(1).min(input.len() - fed);
            buf.extend_from_slice(&input[fed..fed + n]);
            fed += n;
            let d = decoder.decode_in_place(&mut buf[decoded..])?;
            let rest = buf[decoded + d.read..].to_vec();
            buf.truncate(decoded + d.written);
            decoded += d.written;
            buf.extend_from_slice(&rest);
            if d.done {
                let mut after = rest;
                after.extend_from_slice(&input[fed..]);
                return Ok((buf[..decoded].to_vec(), after));
            }
        }
        Err(Error::Incomplete)
    }

    #[test]
    fn content_length_digits_only() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"0042"), Ok(42));
        assert_eq!(parse_content_length(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"1 2",
            b"0x10",
            b"1a",
            b" 1",
            b"18446744073709551616",
            b"99999999999999999999999",
        ] {
            assert_eq!(
                parse_content_length(bad),
                Err(Error::InvalidContentLength),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn framing_rules() {
        use Version::*;
        assert_eq!(framing(Http11, &[]), Ok(Framing::None));
        assert_eq!(
            framing(Http11, &[("Content-Length", b"5")]),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing(
                Http11,
                &[("content-length", b"5, 5"), ("Content-Length", b"5")]
            ),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing(
                Http11,
                &[("Content-Length", b"5"), ("Content-Length", b"6")]
            ),
            Err(Error::InvalidContentLength)
        );
        assert_eq!(
            framing(Http11, &[("Content-Length", b"5,")]),
            Err(Error::InvalidContentLength)
        );
        assert_eq!(
            framing(
                Http11,
                &[("Content-Length", b"5"), ("Transfer-Encoding", b"chunked")]
            ),
            Err(Error::ContentLengthWithTransferEncoding)
        );
        assert_eq!(
            framing(Http10, &[("Transfer-Encoding", b"chunked")]),
            Err(Error::TransferEncodingInHttp10)
        );
        let te = |v: &'static [u8]| framing(Http11, &[("Transfer-Encoding", v)]);
        assert_eq!(te(b"chunked"), Ok(Framing::Chunked));
        assert_eq!(te(b"Chunked"), Ok(Framing::Chunked));
        assert_eq!(te(b" , chunked,"), Ok(Framing::Chunked));
        assert_eq!(
            te(b"gzip, chunked"),
            Err(Error::UnsupportedTransferEncoding)
        );
        assert_eq!(te(b"gzip"), Err(Error::UnsupportedTransferEncoding));
        assert_eq!(te(b"chunked, gzip"), Err(Error::ChunkedNotLast));
        assert_eq!(te(b"chunked, chunked"), Err(Error::ChunkedNotLast));
        assert_eq!(te(b""), Err(Error::Malformed));
        assert_eq!(te(b"identity"), Err(Error::UnsupportedTransferEncoding));
        assert_eq!(
            framing(
                Http11,
                &[
                    ("Transfer-Encoding", b"gzip"),
                    ("Transfer-Encoding", b"chunked")
                ]
            ),
            Err(Error::UnsupportedTransferEncoding)
        );
    }

    #[test]
    fn chunked_bodies_decode_the_same_at_every_step() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"0\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (
                b"3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n",
                b"abc0123456789",
            ),
            (b"3;x=y\r\nabc\r\n0;last\r\n\r\n", b"abc"),
            (b"3 ;x\r\nabc\r\n0\r\nTrailer: v\r\nT2:\r\n\r\n", b"abc"),
            (b"0003\r\nabc\r\n00\r\n\r\n", b"abc"),
        ];
        for (input, body) in cases {
            let mut with_next = input.to_vec();
            with_next.extend_from_slice(b"NEXT");
            for step in 1..=with_next.len() {
                assert_eq!(
                    decode(&with_next, step),
                    Ok((body.to_vec(), b"NEXT".to_vec())),
                    "{:?} step {step}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn chunked_errors() {
        let bad: [(&[u8], Error); 14] = [
            (b"\r\n", Error::InvalidChunk),
            (b"x\r\n", Error::InvalidChunk),
            (b"-1\r\n", Error::InvalidChunk),
            (b"+1\r\na\r\n", Error::InvalidChunk),
            (b"0x1\r\n", Error::InvalidChunk),
            (b"1\na\r\n0\r\n\r\n", Error::InvalidChunk),
            (b"1\r\nab\r\n", Error::InvalidChunk),
            (b"1\r\na\n0\r\n\r\n", Error::InvalidChunk),
            (b"1 \r\na\r\n", Error::InvalidChunk),
            (b"FFFFFFFFFFFFFFFFF\r\n", Error::InvalidChunk),
            (b"00000000000000001\r\n", Error::InvalidChunk),
            (b"1;\x01\r\n", Error::InvalidChunk),
            (b"1;aaaaaaaaaaaaaaaaaaaaaa\r\n", Error::ChunkExtensionTooLong),
            (
                b"0\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
                Error::TrailersTooLarge,
            ),
        ];
        for (input, error) in bad {
            for step in 1..=input.len() {
                assert_eq!(
                    decode(input, step),
                    Err(error),
                    "{:?} step {step}",
                    String::from_utf8_lossy(input)
                );
            }
        }
        // trailer syntax
        for input in [
            &b"0\r\n: v\r\n\r\n"[..],
            b"0\r\nX v\r\n\r\n",
            b"0\r\nX: a\x00\r\n\r\n",
            b"0\r\n\n",
            b"0\r\n X: v\r\n\r\n",
        ] {
            assert_eq!(decode(input, 1), Err(Error::InvalidChunk), "{input:?}");
        }
        // the largest size that fits 16 digits is accepted, and then needs its data
        assert_eq!(
            decode(b"FFFFFFFFFFFFFFFF\r\nabc", 3),
            Err(Error::Incomplete)
        );
    }
}
