//! The reading half for a body that streams: the bytes after the request head, decoded a
//! piece at a time inside the receive buffer, whatever the body's size.
//!
//! Theory of operation. `buf` is the receive buffer after the head. It holds, in order:
//! decoded body bytes the handler has already taken (`..pos`), decoded bytes it has not
//! (`pos..decoded`), and received bytes not yet decoded (`decoded..raw`). Decoding happens in
//! place (a chunked encoding is never shorter than its data), so no second buffer is needed.
//! When the handler has taken everything, the undecoded rest moves to the front and the next
//! read fills the buffer behind it. Once the body is complete, `decoded..raw` holds the bytes
//! that followed it: a pipelined next request, kept for the connection.
//!
//! Invariants: `pos <= decoded <= raw <= buf.len()`; while the body is not complete, every
//! received byte is decoded before more are read (so `decoded == raw` whenever a read is
//! asked for); `total` counts decoded bytes and never exceeds `limit` without the error being
//! kept (errors are sticky, as everywhere in this crate).

use crate::error::Error;
use crate::wire::body_in::ChunkedDecoder;

/// How the rest of the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoding {
    /// This many body bytes are still to come.
    Length(u64),
    /// A chunked body, part-way through.
    Chunked(ChunkedDecoder),
    /// A chunked body whose framing broke after `data` body bytes (found with the head,
    /// before the handler said what it takes).
    Broken { error: Error, data: u64 },
    /// The body is complete.
    Done,
    /// No body framing: every byte until the peer closes (a connection upgraded to another
    /// protocol). Ends when [`BodyIn::end_of_stream`] is called.
    Raw,
}

/// A request body arriving in pieces; see the module docs.
#[derive(Debug)]
pub(crate) struct BodyIn<'x> {
    buf: &'x mut [u8],
    pos: usize,
    decoded: usize,
    raw: usize,
    decoding: Decoding,
    /// Body bytes decoded so far.
    total: u64,
    /// Largest body accepted (413 beyond).
    limit: u64,
    error: Option<Error>,
}

impl<'x> BodyIn<'x> {
    /// A body whose first `decoded` bytes of `buf` are decoded already, followed by received
    /// bytes up to `raw`.
    pub(crate) fn new(
        buf: &'x mut [u8],
        decoded: usize,
        raw: usize,
        decoding: Decoding,
        limit: u64,
    ) -> Self {
        let raw = raw.min(buf.len());
        let decoded = decoded.min(raw);
        let mut body = BodyIn {
            buf,
            pos: 0,
            decoded,
            raw,
            decoding,
            total: decoded as u64,
            limit,
            error: None,
        };
        if body.total > limit {
            body.error = Some(Error::BodyTooLarge);
        }
        body
    }

    /// Decoded bytes the handler has not taken yet.
    pub(crate) fn available(&self) -> &[u8] {
        &self.buf[self.pos..self.decoded]
    }

    /// [`BodyIn::available`], to decode in place.
    #[cfg(feature = "ws")]
    pub(crate) fn available_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.pos..self.decoded]
    }

    /// The handler took `n` bytes of [`BodyIn::available`].
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.decoded);
    }

    /// Whether every body byte has been decoded (some may still be available).
    pub(crate) fn is_complete(&self) -> bool {
        self.decoding == Decoding::Done
    }

    /// Whether the handler has taken the whole body.
    #[cfg(test)]
    pub(crate) fn is_finished(&self) -> bool {
        self.is_complete() && self.pos == self.decoded
    }

    /// Decode the received bytes that are not decoded yet.
    pub(crate) fn decode(&mut self) -> Result<(), Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let before = self.decoded;
        match &mut self.decoding {
            Decoding::Done => return Ok(()),
            Decoding::Raw => self.decoded = self.raw,
            Decoding::Broken { error, data } => {
                let e = if *data > self.limit {
                    Error::BodyTooLarge
                } else {
                    *error
                };
                self.error = Some(e);
                return Err(e);
            }
            Decoding::Length(remaining) => {
                let here = (self.raw - self.decoded) as u64;
                let n = here.min(*remaining);
                *remaining -= n;
                // `n <= here`, which is a usize.
                self.decoded += n as usize;
                if *remaining == 0 {
                    self.decoding = Decoding::Done;
                }
            }
            Decoding::Chunked(decoder) => {
                let progress = match decoder.decode_in_place(&mut self.buf[self.decoded..self.raw])
                {
                    Ok(progress) => progress,
                    Err(e) => {
                        let e = decoder.error_within(e, self.limit);
                        self.error = Some(e);
                        return Err(e);
                    }
                };
                let rest = self.decoded + progress.read..self.raw;
                self.buf.copy_within(rest, self.decoded + progress.written);
                self.raw -= progress.read - progress.written;
                self.decoded += progress.written;
                if progress.done {
                    self.decoding = Decoding::Done;
                }
            }
        }
        self.total = self.total.saturating_add((self.decoded - before) as u64);
        if self.total > self.limit {
            self.error = Some(Error::BodyTooLarge);
            return Err(Error::BodyTooLarge);
        }
        Ok(())
    }

    /// Where to read more received bytes: the free end of the buffer, after moving what is
    /// still needed to its front. Empty only when the handler has not taken a full buffer of
    /// decoded bytes (it never is when [`BodyIn::available`] is empty).
    pub(crate) fn read_space(&mut self) -> &mut [u8] {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.raw, 0);
            self.decoded -= self.pos;
            self.raw -= self.pos;
            self.pos = 0;
        }
        &mut self.buf[self.raw..]
    }

    /// `n` bytes were read into [`BodyIn::read_space`].
    pub(crate) fn received(&mut self, n: usize) {
        self.raw = (self.raw + n).min(self.buf.len());
    }

    /// Take the available bytes and decode what has already arrived, as far as it goes,
    /// without reading: whether the body is now finished (so that the connection can go on
    /// to a next request without reading the rest of this one).
    pub(crate) fn skip_received(&mut self) -> bool {
        loop {
            self.pos = self.decoded;
            if self.is_complete() {
                return true;
            }
            let before = (self.decoded, self.raw);
            if self.decode().is_err() || (self.decoded, self.raw) == before {
                return false;
            }
        }
    }

    /// The peer closed: a raw stream is complete (other framings are cut short, which
    /// [`BodyIn::is_complete`] keeps saying).
    pub(crate) fn end_of_stream(&mut self) -> bool {
        if self.decoding == Decoding::Raw {
            self.decoding = Decoding::Done;
            true
        } else {
            false
        }
    }

    /// Where the bytes after the body lie in the buffer (`decoded..raw`), once it is complete.
    pub(crate) fn leftover(&self) -> core::ops::Range<usize> {
        self.decoded..self.raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feed `encoded` in pieces of `step` through a buffer of `size`, taking `take` bytes at a
    /// time; returns the body and the bytes left after it.
    fn stream(
        encoded: &[u8],
        decoding: Decoding,
        size: usize,
        step: usize,
        take: usize,
    ) -> Result<(Vec<u8>, Vec<u8>), Error> {
        let mut buf = vec![0u8; size];
        let mut body = BodyIn::new(&mut buf, 0, 0, decoding, u64::MAX);
        let (mut out, mut fed) = (Vec::new(), 0);
        for _ in 0..100_000 {
            body.decode()?;
            if !body.available().is_empty() {
                let n = take.min(body.available().len());
                out.extend_from_slice(&body.available()[..n]);
                body.consume(n);
                continue;
            }
            if body.is_complete() || fed == encoded.len() {
                break;
            }
            let space = body.read_space();
            let n = step.min(space.len()).min(encoded.len() - fed);
            space[..n].copy_from_slice(&encoded[fed..fed + n]);
            body.received(n);
            fed += n;
        }
        assert!(body.is_finished() || fed == encoded.len());
        let rest = body.leftover();
        let mut after = buf[rest].to_vec();
        after.extend_from_slice(&encoded[fed..]);
        Ok((out, after))
    }

    #[test]
    fn chunked_body_through_a_small_buffer_at_every_split() {
        let encoded =
            b"5;x=y\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\nNEXT";
        let expected = b"helloabcdefghijklmnopqrstuvwxyz";
        for step in 1..encoded.len() {
            for take in [1, 3, 64] {
                let chunked = Decoding::Chunked(ChunkedDecoder::new(16, 64));
                let (out, rest) = stream(encoded, chunked, 16, step, take).unwrap();
                assert_eq!(out, expected, "step {step} take {take}");
                assert_eq!(rest, b"NEXT", "step {step} take {take}");
            }
        }
    }

    #[test]
    fn length_body_keeps_the_next_request() {
        let encoded = b"0123456789abcdefGET /";
        for step in 1..encoded.len() {
            let (out, rest) = stream(encoded, Decoding::Length(16), 8, step, 5).unwrap();
            assert_eq!(out, b"0123456789abcdef");
            assert_eq!(rest, b"GET /");
        }
    }

    #[test]
    fn limit_and_bad_framing_are_sticky_errors() {
        let mut buf = [0u8; 32];
        buf[..10].copy_from_slice(b"A\r\n0123456");
        let mut body = BodyIn::new(
            &mut buf,
            0,
            10,
            Decoding::Chunked(ChunkedDecoder::new(8, 8)),
            5,
        );
        assert_eq!(body.decode(), Err(Error::BodyTooLarge));
        assert_eq!(body.decode(), Err(Error::BodyTooLarge));
        let mut buf = [0u8; 32];
        buf[..4].copy_from_slice(b"zz\r\n");
        let mut body = BodyIn::new(
            &mut buf,
            0,
            4,
            Decoding::Chunked(ChunkedDecoder::new(8, 8)),
            99,
        );
        assert_eq!(body.decode(), Err(Error::InvalidChunk));
        assert!(!body.skip_received());
    }

    #[test]
    fn skip_received_finishes_only_with_what_is_here() {
        let mut buf = [0u8; 32];
        buf[..9].copy_from_slice(b"abcdGET /");
        let mut body = BodyIn::new(&mut buf, 0, 9, Decoding::Length(4), u64::MAX);
        assert!(body.skip_received());
        assert_eq!(body.leftover(), 4..9);
        let mut buf = [0u8; 32];
        buf[..3].copy_from_slice(b"abc");
        let mut body = BodyIn::new(&mut buf, 0, 3, Decoding::Length(4), u64::MAX);
        assert!(!body.skip_received());
    }
}
