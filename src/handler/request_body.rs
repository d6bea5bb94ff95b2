//! A request body read in pieces ([`RequestBody`]), whatever its size or framing: the bytes
//! the connection decoded (Content-Length or chunked, limits and trailers checked), lent where
//! they lie in the receive buffer.

use core::future::poll_fn;

use super::block;
use super::responder::Responder;
use crate::connection::Channel;
use crate::error::StreamError;

impl Responder<'_, '_> {
    /// The request body, to read in pieces whatever its size: what [`crate::Request::body`]
    /// holds when the body was whole in the receive buffer, else the body as it arrives
    /// (on routes that accept streamed bodies, see [`crate::router::OnMethod::stream_body`]).
    ///
    /// `Expect: 100-continue` is answered on the first read that needs the peer, so a handler
    /// that answers without reading (401, 413, 415) never makes the client send its body. A
    /// body left unread is not drained: unless all of it has already arrived, the response
    /// says `Connection: close` and the connection closes after it (reading an upload the
    /// handler refused could take as long as the upload; the host servers' lingering close
    /// discards what the client still sends, bounded in time and bytes).
    pub fn request_body(&mut self) -> RequestBody<'_> {
        let outbox = &mut self.outbox;
        match outbox.link.as_deref_mut() {
            Some(link) if outbox.out.request_body.is_empty() => RequestBody::streamed(link),
            _ => RequestBody::buffered(outbox.out.request_body),
        }
    }
}

/// The request body, read in pieces; get it from [`crate::Responder::request_body`].
///
/// It reads the body whatever its size or framing: a body that was already whole in the
/// receive buffer ([`crate::Request::body`]) comes from there; a larger one arrives through
/// the receive buffer a piece at a time, decoded by the connection. Blocking handlers use
/// [`RequestBody::fill`] / [`RequestBody::read`] (and `embedded_io::{Read, BufRead}`); async
/// ones the `_async` twins (and `embedded_io_async::{Read, BufRead}`, feature `async`).
/// [`RequestBody::fill`] lends the decoded bytes where they lie, without a copy.
pub struct RequestBody<'r> {
    source: Source<'r>,
}

enum Source<'r> {
    Buffered(&'r [u8]),
    Streamed(&'r mut dyn Channel),
}

impl core::fmt::Debug for RequestBody<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.source {
            Source::Buffered(b) => write!(f, "RequestBody(buffered, {} B left)", b.len()),
            Source::Streamed(_) => f.write_str("RequestBody(streamed)"),
        }
    }
}

impl<'r> RequestBody<'r> {
    pub(crate) fn buffered(body: &'r [u8]) -> Self {
        RequestBody {
            source: Source::Buffered(body),
        }
    }

    pub(crate) fn streamed(channel: &'r mut dyn Channel) -> Self {
        RequestBody {
            source: Source::Streamed(channel),
        }
    }

    /// The next decoded bytes, waiting for the peer if none are here; empty at the end of
    /// the body. Call [`RequestBody::consume`] with what you used.
    pub async fn fill_async(&mut self) -> Result<&[u8], StreamError> {
        self.fill_to_async(1).await
    }

    /// [`RequestBody::fill_async`] for blocking handlers.
    pub fn fill(&mut self) -> Result<&[u8], StreamError> {
        self.fill_to(1)
    }

    /// The bytes not taken yet and more after them, waiting for the peer: at least one byte
    /// more than were available, unless the body ends first or the receive buffer is full of
    /// bytes not taken (then what is there). For a parser that must see what follows before
    /// it takes the bytes it has (a multipart boundary split across reads).
    pub async fn fill_more_async(&mut self) -> Result<&[u8], StreamError> {
        let wanted = self.available().len() + 1;
        self.fill_to_async(wanted).await
    }

    /// [`RequestBody::fill_more_async`] for blocking handlers.
    pub fn fill_more(&mut self) -> Result<&[u8], StreamError> {
        let wanted = self.available().len() + 1;
        self.fill_to(wanted)
    }

    /// The bytes not taken yet, without waiting.
    pub fn available(&self) -> &[u8] {
        match &self.source {
            Source::Buffered(rest) => rest,
            Source::Streamed(channel) => channel.available_body(),
        }
    }

    /// At least `wanted` bytes, as far as the body and the buffer go.
    async fn fill_to_async(&mut self, wanted: usize) -> Result<&[u8], StreamError> {
        match &mut self.source {
            Source::Buffered(rest) => Ok(rest),
            Source::Streamed(channel) => {
                poll_fn(|cx| channel.poll_fill_body(cx, wanted)).await?;
                Ok(channel.available_body())
            }
        }
    }

    /// [`RequestBody::fill_to_async`] for blocking handlers.
    fn fill_to(&mut self, wanted: usize) -> Result<&[u8], StreamError> {
        if let Source::Streamed(channel) = &mut self.source {
            let blocking = channel.blocking_call();
            block(blocking, poll_fn(|cx| channel.poll_fill_body(cx, wanted)))?;
        }
        Ok(self.available())
    }

    /// Mark `n` bytes of [`RequestBody::fill`] as used.
    pub fn consume(&mut self, n: usize) {
        match &mut self.source {
            Source::Buffered(rest) => *rest = rest.get(n..).unwrap_or_default(),
            Source::Streamed(channel) => channel.consume_body(n),
        }
    }

    /// Copy the next bytes into `buf`; `Ok(0)` at the end of the body (or for an empty
    /// `buf`).
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = copy_into(self.fill()?, buf);
        self.consume(n);
        Ok(n)
    }

    /// [`RequestBody::read`], awaiting the peer.
    pub async fn read_async(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = copy_into(self.fill_async().await?, buf);
        self.consume(n);
        Ok(n)
    }

    /// Pass every piece of the body to `f`, in order, without copying; the total length.
    pub fn for_each(&mut self, mut f: impl FnMut(&[u8])) -> Result<u64, StreamError> {
        let mut total = 0u64;
        loop {
            let here = self.fill()?;
            if here.is_empty() {
                return Ok(total);
            }
            let n = here.len();
            f(here);
            total += n as u64;
            self.consume(n);
        }
    }

    /// [`RequestBody::for_each`], awaiting the peer.
    pub async fn for_each_async(&mut self, mut f: impl FnMut(&[u8])) -> Result<u64, StreamError> {
        let mut total = 0u64;
        loop {
            let here = self.fill_async().await?;
            if here.is_empty() {
                return Ok(total);
            }
            let n = here.len();
            f(here);
            total += n as u64;
            self.consume(n);
        }
    }
}

fn copy_into(here: &[u8], buf: &mut [u8]) -> usize {
    let n = here.len().min(buf.len());
    buf[..n].copy_from_slice(&here[..n]);
    n
}

impl embedded_io::ErrorType for RequestBody<'_> {
    type Error = StreamError;
}

impl embedded_io::Read for RequestBody<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        RequestBody::read(self, buf)
    }
}

impl embedded_io::BufRead for RequestBody<'_> {
    fn fill_buf(&mut self) -> Result<&[u8], StreamError> {
        self.fill()
    }
    fn consume(&mut self, amt: usize) {
        RequestBody::consume(self, amt)
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::Read for RequestBody<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
        self.read_async(buf).await
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::BufRead for RequestBody<'_> {
    async fn fill_buf(&mut self) -> Result<&[u8], StreamError> {
        self.fill_async().await
    }
    fn consume(&mut self, amt: usize) {
        RequestBody::consume(self, amt)
    }
}
