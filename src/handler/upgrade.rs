//! `101 Switching Protocols` and the connection handed over to another protocol: the head
//! ([`UpgradeHead`], made by [`Responder::upgrade`]) and the connection ([`Upgraded`]), whose
//! raw input and output the core's link moves.

use core::future::poll_fn;

use super::responder::{Responded, Responder, ResponseHead};
use super::{block, poll_once};
use crate::connection::{Channel, Outbox, Outgoing, Sent};
use crate::error::{Failure, StreamError};
use crate::wire::response_head::HeadWriter;
use crate::wire::syntax::is_token;
use crate::wire::{Status, Version};

impl<'a, 's> Responder<'a, 's> {
    /// Begin a `101 Switching Protocols` response that hands the connection to `protocol`
    /// (the `Upgrade` token, e.g. `websocket`): see [`Upgraded`]. `Connection: Upgrade` and
    /// `Upgrade` are written here; checking that the client asked for it is the caller's
    /// part (as [`crate::ws::Handshake`] does, feature `ws`).
    pub fn upgrade(self, protocol: &str) -> UpgradeHead<'a, 's> {
        let valid = !protocol.is_empty()
            && protocol.split('/').count() <= 2
            && protocol.split('/').all(is_token);
        let http11 = self.outbox.ctx.version == Version::Http11;
        let pre = self.outbox.out.pre_written();
        let tx = &mut *self.outbox.tx;
        let mut head = if pre == 0 {
            let mut head = HeadWriter::new();
            head.push(tx, b"HTTP/1.1 101 Switching Protocols\r\n");
            head
        } else {
            // A layer's fields go behind the status line, as on every response.
            let status = Status::SWITCHING_PROTOCOLS;
            HeadWriter::start_after(tx, status, "Switching Protocols", pre)
        };
        head.push(tx, b"Connection: Upgrade\r\nUpgrade: ");
        head.push(tx, protocol.as_bytes());
        head.push(tx, b"\r\n");
        if !valid {
            head.refuse(Failure::InvalidHeader);
        } else if !http11 {
            // RFC 9110 §7.8: an upgrade is ignored in HTTP/1.0.
            head.refuse(Failure::Upgrade);
        }
        UpgradeHead {
            head: ResponseHead {
                r: self,
                head,
                status: Status::SWITCHING_PROTOCOLS,
                close: true,
            },
        }
    }
}

/// A `101 Switching Protocols` head being written: add headers, then
/// [`UpgradeHead::switch`]. Made by [`crate::Responder::upgrade`].
#[derive(Debug)]
pub struct UpgradeHead<'a, 's> {
    pub(crate) head: ResponseHead<'a, 's>,
}

impl<'a, 's> UpgradeHead<'a, 's> {
    /// Add a header (checked as [`ResponseHead::header`] checks it; `Connection` and
    /// `Upgrade` are written by [`crate::Responder::upgrade`]).
    pub fn header(self, name: &str, value: &str) -> Self {
        if name.eq_ignore_ascii_case("upgrade") {
            return self;
        }
        UpgradeHead {
            head: self.head.header(name, value),
        }
    }

    /// Finish the head and take the connection. Fails (every operation returns
    /// [`StreamError::Unsupported`], and the response becomes a 500 whose reason the log
    /// shows) if the request cannot be upgraded: it was HTTP/1.0, it has a body that is still
    /// arriving, the driver cannot move bytes while the handler runs, or the head did not fit.
    pub fn switch(self) -> Upgraded<'a, 's> {
        let ResponseHead { r, mut head, .. } = self.head;
        let mut outbox = r.outbox;
        head.push(outbox.tx, b"\r\n");
        let upgraded = match outbox.link.as_deref_mut() {
            Some(link) => link.upgrade(),
            None => false,
        };
        if !upgraded {
            head.refuse(Failure::Upgrade);
        }
        // Why it could not be upgraded, if it could not, is kept in the response's record
        // (which the log reads) rather than here: a WebSocket holds this across its awaits.
        outbox.out.failure = head.failure();
        Upgraded {
            outbox,
            sent: 0,
            queued: head.len(),
            started: false,
            dirty: false,
        }
    }
}

/// A connection handed to another protocol: `101 Switching Protocols` (RFC 9110 §15.2.2,
/// §7.8), after which the bytes in both directions are the new protocol's.
///
/// A handler answers with [`crate::Responder::upgrade`], adds its headers to the
/// [`UpgradeHead`], and [`UpgradeHead::switch`]es to an [`Upgraded`] connection: the raw
/// input (starting with any bytes the client sent right after its request head, which a
/// client may do in the same packet) and the raw output (starting with the `101` head). The
/// handler keeps the connection for as long as it runs; when it returns, the connection
/// closes. The drivers keep serving it as one exchange, so connection caps, shutdown and the
/// log see it (the log line, with status 101, comes when it ends).
///
/// Reads wait as long as the peer stays connected (no request deadline: a WebSocket may be
/// quiet for minutes), and end with [`StreamError::ShuttingDown`] when the server stops;
/// writes keep the driver's write timeout.
///
/// Output is queued in the transmit buffer and sent from there, so an async write dropped
/// half-way (a `select` that another branch won) loses nothing: the next operation sends the
/// rest first. Only a write too large for the buffer is sent from where it lies; if that is
/// dropped half-way, the output is broken and later writes fail.
///
/// Blocking handlers use the methods without `_async` (on the blocking driver); async
/// handlers the `_async` ones.
pub struct Upgraded<'a, 's> {
    outbox: Outbox<'a, 's>,
    /// `tx[sent..queued]` waits to be sent (the `101` head first).
    sent: usize,
    queued: usize,
    /// Something went out.
    started: bool,
    /// A direct write was dropped half-way: what the peer has is unknown.
    dirty: bool,
}

impl core::fmt::Debug for Upgraded<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Upgraded")
            .field("queued", &(self.queued - self.sent))
            .field("failure", &self.outbox.out.failure)
            .finish()
    }
}

impl<'a, 's> Upgraded<'a, 's> {
    /// Whether the connection was upgraded (see [`UpgradeHead::switch`]).
    pub fn is_upgraded(&self) -> bool {
        !self.failed()
    }

    /// The upgrade could not be made (the reason is in the response's record).
    fn failed(&self) -> bool {
        self.outbox.out.failure.is_some()
    }

    fn channel(&mut self) -> Result<&mut dyn Channel, StreamError> {
        match (self.failed(), self.outbox.link.as_deref_mut()) {
            (false, Some(link)) if !self.dirty => Ok(link),
            _ => Err(StreamError::Unsupported),
        }
    }

    /// Whether the blocking methods may be used (a blocking driver); called by them only.
    pub(crate) fn is_blocking(&self) -> bool {
        self.outbox
            .link
            .as_deref()
            .is_some_and(|l| l.blocking_call())
    }

    /// The free end of the transmit buffer, to queue output into (then [`Upgraded::queue`]).
    pub(crate) fn queue_space(&mut self) -> &mut [u8] {
        if self.sent == self.queued {
            self.sent = 0;
            self.queued = 0;
        }
        &mut self.outbox.tx[self.queued..]
    }

    /// `n` bytes were written into [`Upgraded::queue_space`].
    pub(crate) fn queue(&mut self, n: usize) {
        self.queued = (self.queued + n).min(self.outbox.tx.len());
    }

    /// Send what is queued. Cancel-safe: progress is kept here.
    pub async fn flush_async(&mut self) -> Result<(), StreamError> {
        while self.sent < self.queued {
            let (sent, queued) = (self.sent, self.queued);
            let link = match (self.failed(), self.outbox.link.as_deref_mut()) {
                (false, Some(link)) if !self.dirty => link,
                _ => return Err(StreamError::Unsupported),
            };
            let bytes = &self.outbox.tx[sent..queued];
            let n = poll_fn(|cx| link.poll_send(cx, bytes)).await?;
            self.started = true;
            self.sent = (sent + n.max(1)).min(queued);
        }
        match self.outbox.link.as_deref_mut() {
            Some(link) if self.started => poll_fn(|cx| link.poll_flush(cx)).await,
            _ => Ok(()),
        }
    }

    /// [`Upgraded::flush_async`] for blocking handlers.
    pub fn flush(&mut self) -> Result<(), StreamError> {
        block(self.is_blocking(), self.flush_async())
    }

    /// Send `bytes` (after what is queued): copied into the transmit buffer if they fit,
    /// else sent from where they lie.
    pub async fn write_async(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        self.channel()?;
        let room = self.queue_space();
        if let Some(dst) = room.get_mut(..bytes.len()) {
            dst.copy_from_slice(bytes);
            self.queue(bytes.len());
            return self.flush_async().await;
        }
        self.flush_async().await?;
        self.write_direct(bytes).await
    }

    /// Send `bytes` from where they lie; nothing may be queued.
    pub(crate) async fn write_direct(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        // Until the last byte is out, a dropped future leaves the output unknown.
        self.dirty = !bytes.is_empty();
        while !bytes.is_empty() {
            let link = match (self.failed(), self.outbox.link.as_deref_mut()) {
                (false, Some(link)) => link,
                _ => return Err(StreamError::Unsupported),
            };
            let n = poll_fn(|cx| link.poll_send(cx, bytes)).await?;
            self.started = true;
            bytes = &bytes[n.clamp(1, bytes.len())..];
        }
        self.dirty = false;
        Ok(())
    }

    /// [`Upgraded::write_async`] for blocking handlers.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        block(self.is_blocking(), self.write_async(bytes))
    }

    /// Send what is queued, then wait for input: the bytes received and not taken yet (take
    /// them with [`Upgraded::consume`]); empty once the peer has closed. Cancel-safe.
    pub async fn fill_async(&mut self) -> Result<&[u8], StreamError> {
        self.flush_async().await?;
        let channel = self.channel()?;
        if channel.available_body().is_empty() {
            poll_fn(|cx| channel.poll_fill_body(cx, 1)).await?;
        }
        Ok(channel.available_body())
    }

    /// [`Upgraded::fill_async`] for blocking handlers.
    pub fn fill(&mut self) -> Result<&[u8], StreamError> {
        let blocking = self.is_blocking();
        block(blocking, async { self.fill_async().await.map(|b| b.len()) })?;
        Ok(self.available())
    }

    /// The bytes received and not taken yet, without waiting.
    pub fn available(&self) -> &[u8] {
        match (self.failed(), self.outbox.link.as_deref()) {
            (false, Some(link)) => link.available_body(),
            _ => &[],
        }
    }

    /// Mutable access to [`Upgraded::available`] (a protocol that decodes in place).
    #[cfg(feature = "ws")]
    pub(crate) fn available_mut(&mut self) -> &mut [u8] {
        match (self.failed(), self.outbox.link.as_deref_mut()) {
            (false, Some(link)) => link.available_body_mut(),
            _ => &mut [],
        }
    }

    /// Reads wait until `deadline_ms` on the driver's clock (then fail with
    /// [`StreamError::TimedOut`]), or with `None` as long as the peer stays.
    pub fn set_read_deadline(&mut self, deadline_ms: Option<u64>) {
        if let Some(link) = self.outbox.link.as_deref_mut() {
            link.set_read_deadline(deadline_ms);
        }
    }

    /// Take `n` of the received bytes.
    pub fn consume(&mut self, n: usize) {
        if let Some(link) = self.outbox.link.as_deref_mut() {
            link.consume_body(n);
        }
    }

    /// The driver's clock in milliseconds, if it has one.
    pub fn now_ms(&mut self) -> Option<u64> {
        self.outbox.link.as_deref_mut().and_then(|l| l.now_ms())
    }

    /// Wait until `deadline_ms` on the driver's clock ([`Upgraded::now_ms`]); fails with
    /// [`StreamError::ShuttingDown`] when the server stops.
    pub async fn sleep_until_async(&mut self, deadline_ms: u64) -> Result<(), StreamError> {
        let channel = self.channel()?;
        poll_fn(|cx| channel.poll_sleep_until(cx, deadline_ms)).await
    }

    /// [`Upgraded::sleep_until_async`] for blocking handlers.
    pub fn sleep_until(&mut self, deadline_ms: u64) -> Result<(), StreamError> {
        block(self.is_blocking(), self.sleep_until_async(deadline_ms))
    }

    /// End the exchange: send what is queued; the connection then closes. If the upgrade
    /// failed, the response is a 500 instead.
    pub async fn finish_async(mut self) -> Responded {
        if !self.failed() && !self.dirty {
            let _ = self.flush_async().await;
        }
        self.conclude()
    }

    /// [`Upgraded::finish_async`] for blocking handlers.
    pub fn finish(self) -> Responded {
        if !self.is_blocking() {
            return self.conclude();
        }
        poll_once(self.finish_async()).unwrap_or(Responded(()))
    }

    fn conclude(self) -> Responded {
        if self.failed() && !self.started {
            let failure = self.outbox.out.failure;
            self.outbox.fail(failure);
        } else {
            *self.outbox.out = Outgoing {
                sent: Sent::Streamed,
                status: Status::SWITCHING_PROTOCOLS,
                failure: self.outbox.out.failure,
                ..Outgoing::NONE
            };
        }
        Responded(())
    }
}
