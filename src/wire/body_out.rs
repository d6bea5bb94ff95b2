//! Body framing out: how a streamed response body is delimited on the wire (RFC 9112 §6), and
//! the bookkeeping that keeps a declared length honest.
//!
//! A [`BodyEncoder`] is told every piece of data before it is sent ([`BodyEncoder::admit`])
//! and says how to frame it: a chunk-size line before it and a CRLF after it for a chunked
//! body ([`BodyEncoder::chunk_line`], [`BodyEncoder::chunk_end`]), nothing for a declared
//! length or a body that ends with the connection. It refuses data past a declared length
//! (none of that piece is counted, so nothing of it may be sent), and at the end
//! ([`BodyEncoder::end`]) gives the last chunk, or reports a declared length not reached: the
//! caller then closes the connection without completing the body, so the client sees a failed
//! transfer, never a truncated success. A discarded body (HEAD, 204, 304) counts its data and
//! sends none.
//!
//! The encoder never emits a chunk of size zero before the end: that would be the last chunk.
//! Its arithmetic is checked (a count that would pass `u64::MAX` is refused as too long).

use super::request::Version;
use super::response_head::HeadWriter;
use super::syntax::write_hex;
use crate::error::Failure;

/// The last chunk of a chunked body, with no trailers (RFC 9112 §7.1).
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Longest chunk-size line: 16 hex digits (any `u64`) and CRLF.
pub(crate) const CHUNK_LINE_MAX: usize = 18;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimit {
    /// `Transfer-Encoding: chunked` (HTTP/1.1, length unknown).
    Chunked,
    /// A declared `Content-Length` of this many bytes.
    Length(u64),
    /// Until the connection closes (HTTP/1.0, length unknown).
    UntilClose,
    /// No body goes out (HEAD, 204, 304): data is counted and dropped.
    Discarded,
}

impl Delimit {
    /// A body of unknown length to a client of `version`: chunked to HTTP/1.1, until the
    /// connection closes to HTTP/1.0 (which has no chunked coding).
    pub(crate) fn unknown_length(version: Version) -> Delimit {
        match version {
            Version::Http11 => Delimit::Chunked,
            Version::Http10 => Delimit::UntilClose,
        }
    }
}

/// The framing of one response body as it is written; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyEncoder {
    delimit: Delimit,
    /// Data bytes admitted so far (dropped ones too, for a discarded body).
    written: u64,
}

impl BodyEncoder {
    /// An encoder for a body delimited so.
    pub(crate) const fn new(delimit: Delimit) -> Self {
        BodyEncoder {
            delimit,
            written: 0,
        }
    }

    /// How the body is delimited.
    pub(crate) fn delimit(&self) -> Delimit {
        self.delimit
    }

    /// Data bytes admitted so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Whether every piece is a chunk.
    pub(crate) fn is_chunked(&self) -> bool {
        self.delimit == Delimit::Chunked
    }

    /// The head field that announces this framing (`Transfer-Encoding: chunked`, or
    /// `Content-Length`; none for a body that ends with the connection or is discarded), for
    /// a status that allows a body. Whether the connection must close after the body.
    pub(crate) fn head_field(&self, head: &mut HeadWriter, tx: &mut [u8]) -> bool {
        match self.delimit {
            Delimit::Chunked => head.push(tx, b"Transfer-Encoding: chunked\r\n"),
            Delimit::Length(declared) => head.content_length(tx, declared),
            Delimit::UntilClose => return true,
            Delimit::Discarded => {}
        }
        false
    }

    /// Count `len` data bytes in, before any of them is sent: `Ok(true)` to send them (framed
    /// as this encoder says), `Ok(false)` if the body is discarded; for a declared length,
    /// [`Failure::StreamTooLong`] if they pass it, and then none of them is counted.
    pub(crate) fn admit(&mut self, len: usize) -> Result<bool, Failure> {
        let total = self.written.checked_add(len as u64);
        match (self.delimit, total) {
            (Delimit::Length(declared), Some(total)) if total > declared => {
                Err(Failure::StreamTooLong { declared })
            }
            (Delimit::Length(declared), None) => Err(Failure::StreamTooLong { declared }),
            (delimit, total) => {
                self.written = total.unwrap_or(u64::MAX);
                Ok(delimit != Delimit::Discarded)
            }
        }
    }

    /// The chunk-size line (`<hex>\r\n`) that goes before `len > 0` admitted data bytes, in
    /// `line`; its length (0 unless chunked).
    pub(crate) fn chunk_line(&self, len: usize, line: &mut [u8; CHUNK_LINE_MAX]) -> usize {
        if !self.is_chunked() || len == 0 {
            return 0;
        }
        let n = write_hex(len as u64, &mut line[..16]);
        line[n..n + 2].copy_from_slice(b"\r\n");
        n + 2
    }

    /// What follows a chunk's data (CRLF), or nothing.
    pub(crate) fn chunk_end(&self) -> &'static [u8] {
        if self.is_chunked() {
            b"\r\n"
        } else {
            b""
        }
    }

    /// What ends the body: [`LAST_CHUNK`] for a chunked body, nothing otherwise; for a
    /// declared length not reached, [`Failure::StreamTooShort`] (the body cannot be ended
    /// honestly: close the connection instead).
    pub(crate) fn end(&self) -> Result<&'static [u8], Failure> {
        match self.delimit {
            Delimit::Chunked => Ok(LAST_CHUNK),
            Delimit::Length(declared) if self.written < declared => Err(Failure::StreamTooShort {
                declared,
                written: self.written,
            }),
            _ => Ok(b""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::body_in::ChunkedDecoder;

    /// Encode `pieces` as the streaming writer does: each admitted piece framed, then the end.
    fn encode(encoder: &mut BodyEncoder, pieces: &[&[u8]]) -> Result<Vec<u8>, Failure> {
        let mut wire = Vec::new();
        for piece in pieces.iter().filter(|p| !p.is_empty()) {
            if encoder.admit(piece.len())? {
                let mut line = [0u8; CHUNK_LINE_MAX];
                let n = encoder.chunk_line(piece.len(), &mut line);
                wire.extend_from_slice(&line[..n]);
                wire.extend_from_slice(piece);
                wire.extend_from_slice(encoder.chunk_end());
            }
        }
        wire.extend_from_slice(encoder.end()?);
        Ok(wire)
    }

    /// Decode `wire` with the request side's chunked decoder, fed in reads that end at
    /// `split`; the body and the bytes after it.
    fn decode(wire: &[u8], split: usize) -> (Vec<u8>, Vec<u8>) {
        let mut decoder = ChunkedDecoder::new(0, 0);
        let (mut body, mut buf, mut fed) = (Vec::new(), Vec::new(), 0);
        for end in [split, wire.len()] {
            buf.extend_from_slice(&wire[fed..end]);
            fed = end;
            let d = decoder.decode_in_place(&mut buf).unwrap();
            body.extend_from_slice(&buf[..d.written]);
            buf.drain(..d.read);
            if d.done {
                buf.extend_from_slice(&wire[fed..]);
                return (body, buf);
            }
        }
        panic!(
            "the chunked body did not end: {:?}",
            String::from_utf8_lossy(wire)
        );
    }

    #[test]
    fn chunked_bodies_decode_back_at_every_split() {
        let cases: [&[&[u8]]; 5] = [
            &[],
            &[b"a"],
            &[b"hello", b"", b" ", b"world"],
            &[&[b'x'; 300], b"0\r\n\r\n", &[0u8; 17]],
            &[&[0xffu8; 4096], b"\r\n"],
        ];
        for pieces in cases {
            let mut encoder = BodyEncoder::new(Delimit::Chunked);
            let mut wire = encode(&mut encoder, pieces).unwrap();
            let body: Vec<u8> = pieces.concat();
            assert_eq!(encoder.written(), body.len() as u64);
            wire.extend_from_slice(b"NEXT");
            for split in 0..=wire.len() {
                assert_eq!(
                    decode(&wire, split),
                    (body.clone(), b"NEXT".to_vec()),
                    "{pieces:?} split at {split}"
                );
            }
        }
    }

    #[test]
    fn a_declared_length_is_enforced_both_ways() {
        let mut exact = BodyEncoder::new(Delimit::Length(10));
        assert_eq!(
            encode(&mut exact, &[b"01234", b"56789"]).unwrap(),
            b"0123456789"
        );

        let mut long = BodyEncoder::new(Delimit::Length(4));
        assert_eq!(long.admit(3), Ok(true));
        assert_eq!(long.admit(2), Err(Failure::StreamTooLong { declared: 4 }));
        // The refused piece was not counted: one more byte still fits.
        assert_eq!(long.written(), 3);
        assert_eq!(long.admit(1), Ok(true));
        assert_eq!(long.end(), Ok(&b""[..]));

        let mut short = BodyEncoder::new(Delimit::Length(4));
        assert_eq!(short.admit(3), Ok(true));
        assert_eq!(
            short.end(),
            Err(Failure::StreamTooShort {
                declared: 4,
                written: 3
            })
        );
        let mut huge = BodyEncoder::new(Delimit::Length(u64::MAX));
        huge.written = u64::MAX - 1;
        assert!(huge.admit(usize::MAX).is_err());
    }

    #[test]
    fn until_close_and_discarded_bodies() {
        let mut plain = BodyEncoder::new(Delimit::UntilClose);
        assert_eq!(encode(&mut plain, &[b"ab", b"c"]).unwrap(), b"abc");
        let mut dropped = BodyEncoder::new(Delimit::Discarded);
        assert_eq!(encode(&mut dropped, &[b"ab", b"c"]).unwrap(), b"");
        assert_eq!(dropped.written(), 3);
        let mut line = [0u8; CHUNK_LINE_MAX];
        assert_eq!(plain.chunk_line(5, &mut line), 0);
        assert_eq!(
            Delimit::unknown_length(Version::Http10),
            Delimit::UntilClose
        );
        assert_eq!(Delimit::unknown_length(Version::Http11), Delimit::Chunked);
    }

    #[test]
    fn head_fields() {
        for (delimit, field, close) in [
            (Delimit::Chunked, "Transfer-Encoding: chunked\r\n", false),
            (Delimit::Length(42), "Content-Length: 42\r\n", false),
            (Delimit::UntilClose, "", true),
            (Delimit::Discarded, "", false),
        ] {
            let mut tx = [0u8; 64];
            let mut head = HeadWriter::failed(Failure::InvalidHeader);
            assert_eq!(
                BodyEncoder::new(delimit).head_field(&mut head, &mut tx),
                close
            );
            let mut head = HeadWriter::start(&mut tx, crate::wire::Status::OK, "OK");
            let start = head.len();
            BodyEncoder::new(delimit).head_field(&mut head, &mut tx);
            assert_eq!(&tx[start..head.len()], field.as_bytes());
        }
    }
}
