//! The tokio server's transport: a TCP stream whose writes are gathered, so that a streamed
//! body, or a WebSocket frame and its header, leaves in a few large system calls instead of
//! one per transmit buffer.
//!
//! Writes are copied into a buffer lent by the server's [`Pool`] and go out when it is full,
//! when the connection is about to read, when the driver flushes (after each whole response),
//! and whenever the connection's task has nothing else to do ([`Gathered::poll_out`], called
//! by the server each time the task would wait): bytes wait only while the task keeps
//! running, never across a sleep or a wait for the peer. A connection with nothing to send
//! holds no buffer: it goes back to the pool as soon as it is empty, so that idle and
//! receiving connections cost none, and steady-state serving allocates nothing (the pool keeps
//! up to [`POOL_KEEP`] buffers for the connections that write at once).
//!
//! A write larger than the buffer, with nothing gathered before it, goes out from where it
//! lies; a failed write is kept and returned by every later operation.

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use super::transport::asynch::Transport;

/// How many bytes a connection gathers before it writes (hyper's writes of a streamed body
/// are about 256 KiB; 64 KiB takes most of the gain of fewer calls with a quarter the memory).
pub(crate) const GATHER: usize = 256 * 1024;
/// How many free gather buffers the pool keeps (more are freed): bounds what a burst of
/// writers leaves behind, while this many connections writing at once allocate nothing.
pub(crate) const POOL_KEEP: usize = 16;

/// Free buffers, shared by a server's connections (one thread: a tokio `LocalSet`): gather
/// buffers, and the connections' receive and transmit buffers, which a connection holds
/// only while a request is in progress.
#[derive(Debug)]
pub(crate) struct Pool<T> {
    free: RefCell<Vec<T>>,
    keep: usize,
}

impl<T> Pool<T> {
    /// A pool that keeps up to `keep` free buffers.
    pub(crate) fn new(keep: usize) -> Self {
        Pool {
            free: RefCell::new(Vec::with_capacity(keep)),
            keep,
        }
    }

    /// A free buffer, or a new one from `make`.
    pub(crate) fn take(&self, make: impl FnOnce() -> T) -> T {
        self.free.borrow_mut().pop().unwrap_or_else(make)
    }

    /// Back to the pool (freed if it keeps enough).
    pub(crate) fn give(&self, buffer: T) {
        let mut free = self.free.borrow_mut();
        if free.len() < self.keep {
            free.push(buffer);
        }
    }
}

/// The stream and what is gathered for it.
#[derive(Debug)]
struct Inner<S> {
    stream: S,
    pool: Rc<Pool<Vec<u8>>>,
    /// Bytes not written yet: `out[sent..]` (no buffer while there are none).
    out: Option<Vec<u8>>,
    sent: usize,
    /// The first write that failed: every later operation fails the same way.
    failed: Option<io::ErrorKind>,
}

impl<S: Transport> Inner<S> {
    fn failure(&self) -> Option<io::Error> {
        self.failed.map(io::Error::from)
    }

    fn fail(&mut self, e: io::Error) -> io::Error {
        self.failed = Some(e.kind());
        self.release();
        e
    }

    /// The buffer goes back to the pool (what is in it is dropped: only after a failure, or
    /// once it is all sent).
    fn release(&mut self) {
        if let Some(mut out) = self.out.take() {
            out.clear();
            self.pool.give(out);
        }
        self.sent = 0;
    }

    /// Write out what is gathered, and what the stream holds back (a TLS layer's records).
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.failure() {
            return Poll::Ready(Err(e));
        }
        while let Some(out) = &self.out {
            if self.sent == out.len() {
                self.release();
                break;
            }
            let written = ready!(Pin::new(&mut self.stream).poll_write(cx, &out[self.sent..]));
            match written {
                Ok(0) => return Poll::Ready(Err(self.fail(io::ErrorKind::WriteZero.into()))),
                Ok(n) => self.sent += n,
                Err(e) => return Poll::Ready(Err(self.fail(e))),
            }
        }
        match ready!(Pin::new(&mut self.stream).poll_flush(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(e) => Poll::Ready(Err(self.fail(e))),
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        if bytes.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let gathered = self.out.as_ref().map_or(0, |out| out.len() - self.sent);
        if gathered > 0
            && self
                .out
                .as_ref()
                .is_some_and(|out| out.len() + bytes.len() > GATHER)
        {
            ready!(self.poll_out(cx))?;
        } else if let Some(e) = self.failure() {
            return Poll::Ready(Err(e));
        }
        if self.out.is_none() && bytes.len() >= GATHER {
            // Large, and nothing before it: from where it lies.
            return match ready!(Pin::new(&mut self.stream).poll_write(cx, bytes)) {
                Ok(n) => Poll::Ready(Ok(n)),
                Err(e) => Poll::Ready(Err(self.fail(e))),
            };
        }
        let pool = &self.pool;
        let out = self
            .out
            .get_or_insert_with(|| pool.take(|| Vec::with_capacity(GATHER)));
        let n = bytes.len().min(GATHER - out.len());
        out.extend_from_slice(&bytes[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // What is owed goes first, as far as the peer takes it now; the read does not wait for
        // it (a peer that sends and does not read is the write timeout's to end).
        if let Poll::Ready(Err(e)) = self.poll_out(cx) {
            return Poll::Ready(Err(e));
        }
        let mut read = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.stream).poll_read(cx, &mut read))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

/// A stream with gathered writes; [`Gathered::handle`] is its `embedded-io-async` side, for
/// the driver.
#[derive(Debug)]
pub(crate) struct Gathered<S> {
    inner: RefCell<Inner<S>>,
}

impl<S: Transport> Gathered<S> {
    pub(crate) fn new(stream: S, pool: Rc<Pool<Vec<u8>>>) -> Self {
        Gathered {
            inner: RefCell::new(Inner {
                stream,
                pool,
                out: None,
                sent: 0,
                failed: None,
            }),
        }
    }

    /// The transport for the driver.
    pub(crate) fn handle(&self) -> Handle<'_, S> {
        Handle(&self.inner)
    }

    /// Write out what is gathered, as far as the peer takes it now: the server calls it
    /// whenever the connection's task would wait. (A driver's operation in progress has it
    /// borrowed for the moment of a poll only, so the borrow always succeeds between polls.)
    pub(crate) fn poll_out(&self, cx: &mut Context<'_>) {
        if let Ok(mut inner) = self.inner.try_borrow_mut() {
            let _ = inner.poll_out(cx);
        }
    }

    /// Everything gathered written (or the write failed): before the connection closes.
    pub(crate) async fn finish(&self) -> io::Result<()> {
        poll_fn(|cx| self.inner.borrow_mut().poll_out(cx)).await
    }

    /// Wait until the peer has sent something (or closed), or bytes received wait in the
    /// stream: an idle connection waits here without its buffers.
    pub(crate) async fn readable(&self) -> io::Result<()> {
        if self.inner.borrow_mut().stream.has_buffered() {
            return Ok(());
        }
        poll_fn(|cx| self.inner.borrow().stream.tcp().poll_read_ready(cx)).await
    }

    /// Whether a write has failed (the connection then closes without a lingering close).
    pub(crate) fn failed(&self) -> bool {
        self.inner.borrow().failed.is_some()
    }

    /// The stream back, for the lingering close.
    pub(crate) fn into_stream(self) -> S {
        let mut inner = self.inner.into_inner();
        inner.release();
        inner.stream
    }
}

/// The driver's side of a [`Gathered`] stream.
#[derive(Debug)]
pub(crate) struct Handle<'g, S>(&'g RefCell<Inner<S>>);

impl<S> embedded_io_async::ErrorType for Handle<'_, S> {
    type Error = io::Error;
}

impl<S: Transport> embedded_io_async::Read for Handle<'_, S> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.0.borrow_mut().poll_read(cx, buf)).await
    }
}

impl<S: Transport> embedded_io_async::Write for Handle<'_, S> {
    async fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.0.borrow_mut().poll_write(cx, bytes)).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.0.borrow_mut().poll_out(cx)).await
    }
}
