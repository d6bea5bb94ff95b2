//! `multipart/form-data` request bodies (RFC 7578 on RFC 2046 §5.1), read as they arrive:
//! parts one after another, each part's head in a buffer of the caller's, its data a piece
//! at a time where it lies in the receive buffer. No heap, no copy of the data, any body size
//! through any receive buffer.
//!
//! [`Multipart::new`] checks the request's `Content-Type` (`multipart/form-data` with a
//! boundary of 1-70 characters, else 415 or 400) and reads the body through a
//! [`RequestBody`]. [`Multipart::next_part`] skips what is left of the current part and
//! returns the next one's [`Part`] (its `name`, `filename` and `Content-Type`), or `None`
//! after the closing delimiter; [`Multipart::read_data`] (or [`Multipart::for_each_data`])
//! hands out the part's data. Each has an `_async` twin for async handlers; their futures
//! hold no buffer (the caller gives the head buffer).
//!
//! The rules: the preamble before the first delimiter and the epilogue after the closing one
//! are ignored; the CRLF before each delimiter is not part of the data; the closing
//! delimiter `--boundary--` is required; spaces and tabs may pad a delimiter line; a line
//! that starts with the delimiter is one (RFC 2046 §5.1.1), and what follows it must be
//! padding and CRLF, or `--`. A part's header lines end in CRLF, are not folded, and must fit
//! the head buffer (at most [`MAX_PART_HEADERS`] of them); each part has a
//! `Content-Disposition: form-data` with a `name`. Every broken rule is its own
//! [`MultipartError`], with its status; [`MultipartError::respond`] answers it.
//!
//! A firmware upload from a browser form (`<input type=file name=firmware>`): the `firmware`
//! part's length and CRC-32, the other parts skipped; a blocking handler, and its async twin
//! for the async driver (which awaits the peer instead of blocking; the head buffer lives
//! with the router, not in the handler's future):
//!
//! ```
//! use embedded_responder::multipart::{Multipart, MultipartError};
//! use embedded_responder::{post, Request, Responded, Responder, Router, Status};
//!
//! const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
//!
//! /// The `firmware` part's length and CRC-32, if there is one.
//! fn firmware(form: &mut Multipart<'_, '_>) -> Result<Option<(u64, u32)>, MultipartError> {
//!     let mut head = [0u8; 256]; // a part's header lines must fit
//!     let mut found = None;
//!     while let Some(part) = form.next_part(&mut head)? {
//!         if part.name() == "firmware" {
//!             let mut crc = CRC32.digest();
//!             let len = form.for_each_data(|piece| crc.update(piece))?;
//!             found = Some((len, crc.finalize()));
//!         } // other parts: next_part skips them
//!     }
//!     Ok(found)
//! }
//!
//! fn ota<'a>(req: &Request<'a>, mut res: Responder<'a, '_>) -> Responded {
//!     let found = Multipart::new(req, res.request_body()).and_then(|mut form| firmware(&mut form));
//!     answer(res, found)
//! }
//!
//! fn answer(res: Responder<'_, '_>, found: Result<Option<(u64, u32)>, MultipartError>) -> Responded {
//!     match found {
//!         Ok(Some((len, crc))) => res.start(Status::OK).body_with(|w| {
//!             w.push_u64(len);
//!             w.push_str(" bytes, CRC-32 ");
//!             w.push_u64(u64::from(crc));
//!         }),
//!         Ok(None) => res.status(Status::UNPROCESSABLE_CONTENT),
//!         // 415 not multipart, 400 naming the broken rule, 413 over the limit, ...
//!         Err(e) => e.respond(res),
//!     }
//! }
//!
//! let app = Router::new().route("/ota", post(ota).stream_body(4 << 20));
//! # let _ = app;
//!
//! // The same, async.
//! # #[cfg(feature = "async")] {
//! async fn firmware_async(
//!     form: &mut Multipart<'_, '_>,
//!     head: &mut [u8],
//! ) -> Result<Option<(u64, u32)>, MultipartError> {
//!     let mut found = None;
//!     while let Some(part) = form.next_part_async(head).await? {
//!         if part.name() == "firmware" {
//!             let mut crc = CRC32.digest();
//!             let len = form.for_each_data_async(|piece| crc.update(piece)).await?;
//!             found = Some((len, crc.finalize()));
//!         }
//!     }
//!     Ok(found)
//! }
//!
//! async fn ota_async<'a>(req: &Request<'a>, mut res: Responder<'a, '_>, head: &mut [u8]) -> Responded {
//!     let found = match Multipart::new(req, res.request_body()) {
//!         Ok(mut form) => firmware_async(&mut form, head).await,
//!         Err(e) => Err(e),
//!     };
//!     answer(res, found)
//! }
//!
//! let mut head = [0u8; 256];
//! let app = Router::new().route(
//!     "/ota",
//!     embedded_responder::post_async(async |req, res| ota_async(req, res, &mut head).await)
//!         .stream_body(4 << 20),
//! );
//! // Serve it with `io::asynch::serve` (or `host::tokio_server`, embassy, ...).
//! # let _ = app; }
//! ```

mod decoder;
mod error;
mod head;

pub use error::MultipartError;
pub use head::{FORM_DATA, MAX_BOUNDARY_LEN, MAX_PART_HEADERS};

use decoder::{Decoder, Found};
use head::PartHead;

use crate::handler::RequestBody;
use crate::wire::Request;

/// One part of a `multipart/form-data` body: what its head says, borrowed from the head
/// buffer given to [`Multipart::next_part`]. Its data is read from the [`Multipart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part<'h> {
    name: &'h str,
    filename: Option<&'h str>,
    content_type: Option<&'h str>,
}

impl<'h> Part<'h> {
    fn new(head: &'h [u8], part: PartHead) -> Self {
        Part {
            name: part.name.str_of(head),
            filename: part.filename.map(|s| s.str_of(head)),
            content_type: part.content_type.map(|s| s.str_of(head)),
        }
    }

    /// The form field's name: `Content-Disposition`'s `name` parameter (a quoted value
    /// unquoted; browsers send `"` as `%22`, CR and LF as `%0D` and `%0A`, undecoded here).
    pub fn name(&self) -> &'h str {
        self.name
    }

    /// The `filename` parameter, for a file input: the file's name as the client gives it
    /// (empty when no file was chosen). It may be anything, paths included: never use it as
    /// a path.
    pub fn filename(&self) -> Option<&'h str> {
        self.filename
    }

    /// The part's `Content-Type`, parameters included (`None`: `text/plain`, RFC 7578 §4.4).
    pub fn content_type(&self) -> Option<&'h str> {
        self.content_type
    }
}

/// A `multipart/form-data` body read part by part; see the [module docs](self).
///
/// `'b` borrows the request's `Content-Type` (the boundary), `'r` the request body. An
/// `_async` future dropped before it completes (a timeout, a `select`) loses nothing: the
/// next call goes on where it stopped (give `next_part` the same head buffer again: a head
/// may be half copied into it). After an error, every call returns it again.
#[derive(Debug)]
pub struct Multipart<'b, 'r> {
    body: RequestBody<'r>,
    decoder: Decoder<'b>,
    /// Bytes at the front of the body's available bytes that the decoder has taken (or that
    /// were handed out as data): consumed before the next look at the body.
    taken: usize,
}

impl<'b, 'r> Multipart<'b, 'r> {
    /// Read `body` as the parts of `req`'s `multipart/form-data` body: checks the
    /// `Content-Type` ([`MultipartError::NotMultipart`] and
    /// [`MultipartError::MissingBoundary`] are 415, [`MultipartError::InvalidBoundary`]
    /// 400). Nothing is read yet.
    pub fn new(req: &Request<'b>, body: RequestBody<'r>) -> Result<Self, MultipartError> {
        let content_type = req
            .header_bytes("content-type")
            .ok_or(MultipartError::NotMultipart)?;
        Self::with_content_type(content_type, body)
    }

    /// [`Multipart::new`] with the `Content-Type` value given.
    pub fn with_content_type(
        content_type: &'b [u8],
        body: RequestBody<'r>,
    ) -> Result<Self, MultipartError> {
        Ok(Multipart {
            body,
            decoder: Decoder::new(head::boundary(content_type)?),
            taken: 0,
        })
    }

    /// The next part, its head copied into `head` (its header lines must fit, else
    /// [`MultipartError::HeadTooLarge`]); what is left of the current part's data is
    /// skipped. `None` after the closing delimiter, once the body has ended (the epilogue is
    /// read and ignored, so that the connection can go on to a next request).
    pub fn next_part<'h>(
        &mut self,
        head: &'h mut [u8],
    ) -> Result<Option<Part<'h>>, MultipartError> {
        loop {
            self.settle()?;
            if self.decoder.needs_input() {
                if let Err(e) = self.body.fill() {
                    return Err(self.decoder.fail(MultipartError::Body(e)));
                }
            }
            match self.advance(head)? {
                Some(Found::Part(part)) => return Ok(Some(Part::new(head, part))),
                Some(Found::End) => return Ok(None),
                _ => {}
            }
        }
    }

    /// [`Multipart::next_part`], awaiting the peer.
    pub async fn next_part_async<'h>(
        &mut self,
        head: &'h mut [u8],
    ) -> Result<Option<Part<'h>>, MultipartError> {
        loop {
            self.settle()?;
            if self.decoder.needs_input() {
                if let Err(e) = self.body.fill_async().await {
                    return Err(self.decoder.fail(MultipartError::Body(e)));
                }
            }
            match self.advance(head)? {
                Some(Found::Part(part)) => return Ok(Some(Part::new(head, part))),
                Some(Found::End) => return Ok(None),
                _ => {}
            }
        }
    }

    /// The next piece of the current part's data, where it lies (never empty); `None` at
    /// the part's end, and before the first part.
    pub fn read_data(&mut self) -> Result<Option<&[u8]>, MultipartError> {
        loop {
            self.settle()?;
            if !self.decoder.in_data() {
                return Ok(None);
            }
            if self.decoder.needs_input() {
                if let Err(e) = self.body.fill() {
                    return Err(self.decoder.fail(MultipartError::Body(e)));
                }
            }
            match self.advance(&mut [])? {
                Some(Found::Data { start, end }) => return Ok(Some(self.data(start, end))),
                Some(Found::Replay(piece)) => return Ok(Some(piece)),
                Some(Found::DataEnd) | None => {}
                Some(Found::Part(_) | Found::Closed | Found::End) => return Ok(None),
            }
        }
    }

    /// [`Multipart::read_data`], awaiting the peer.
    pub async fn read_data_async(&mut self) -> Result<Option<&[u8]>, MultipartError> {
        loop {
            self.settle()?;
            if !self.decoder.in_data() {
                return Ok(None);
            }
            if self.decoder.needs_input() {
                if let Err(e) = self.body.fill_async().await {
                    return Err(self.decoder.fail(MultipartError::Body(e)));
                }
            }
            match self.advance(&mut [])? {
                Some(Found::Data { start, end }) => return Ok(Some(self.data(start, end))),
                Some(Found::Replay(piece)) => return Ok(Some(piece)),
                Some(Found::DataEnd) | None => {}
                Some(Found::Part(_) | Found::Closed | Found::End) => return Ok(None),
            }
        }
    }

    /// Pass every piece of the current part's data to `f`, in order; the part's length.
    pub fn for_each_data(&mut self, mut f: impl FnMut(&[u8])) -> Result<u64, MultipartError> {
        let mut total = 0u64;
        while let Some(piece) = self.read_data()? {
            f(piece);
            total = total.saturating_add(piece.len() as u64);
        }
        Ok(total)
    }

    /// [`Multipart::for_each_data`], awaiting the peer.
    pub async fn for_each_data_async(
        &mut self,
        mut f: impl FnMut(&[u8]),
    ) -> Result<u64, MultipartError> {
        let mut total = 0u64;
        while let Some(piece) = self.read_data_async().await? {
            f(piece);
            total = total.saturating_add(piece.len() as u64);
        }
        Ok(total)
    }

    /// Consume what the decoder took; the sticky error, if any.
    fn settle(&mut self) -> Result<(), MultipartError> {
        self.body.consume(core::mem::take(&mut self.taken));
        match self.decoder.error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Decode the available bytes (just filled: none means the body ended).
    fn advance(&mut self, head: &mut [u8]) -> Result<Option<Found<'b>>, MultipartError> {
        let input = self.body.available();
        if input.is_empty() && self.decoder.needs_input() {
            return self.decoder.end().map(Some);
        }
        let (taken, found) = self.decoder.decode(input, head)?;
        self.taken = taken;
        Ok(found)
    }

    /// The data at `start..end` of the available bytes.
    fn data(&self, start: usize, end: usize) -> &[u8] {
        self.body.available().get(start..end).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
