//! The writing half of the state machine: where a response goes while a handler writes it, and
//! what the connection sends once the handler is done.
//!
//! # Theory of operation
//!
//! For each request the connection lends the handler layer an [`Outbox`]: the transmit
//! buffer, the record of the response ([`Outgoing`]), what the request asked of the response
//! ([`ResponseContext`]) and, when a driver is at hand, the link to it. The handler layer
//! writes the response through the outbox in one of two ways, and records which:
//!
//! - **staged** ([`Sent::Staged`]): the head, and a body that fits, at the front of the
//!   transmit buffer, perhaps followed by a body from where it lies; the driver writes them
//!   once the handler has returned, so that a small response leaves in one write;
//! - **streamed** ([`Sent::Streamed`]): the head and the body went out through the link while
//!   the handler ran, framed by the wire's body encoder (chunked, a declared length, or until
//!   close); nothing is left for the driver.
//!
//! Until the handler finishes its response, the record is [`Outgoing::NONE`]:
//! [`Sent::Nothing`], a 500 that closes. A response that cannot be encoded before any of it
//! was sent becomes the fallback 500 ([`Outgoing::fallback_500`]); if not even that fits,
//! the record stays `Nothing` and the connection closes without a word.
//!
//! Invariants:
//! - one record per exchange, written when the response is finished (only finishing makes
//!   the handler's `Responded`), and read once, by the connection, after the handler returns;
//! - `close` only ever turns on: the request asked for it, the server is stopping, a body was
//!   left unread, a stream was cut short or failed, or a failure replaced the response;
//! - a response whose head went out is never replaced: a stream that breaks after that ends
//!   with a close and no terminating chunk, so the client sees a failed transfer, never a
//!   truncated success.

use super::link::Channel;
use crate::error::{Error, Failure};
use crate::wire::response_head::{stage_fallback_500, stage_text_500};
use crate::wire::{Status, Version};

/// What the request asked of the response, fixed before the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseContext {
    /// HEAD request: send the headers a GET would get, no body.
    pub head_only: bool,
    /// Version of the request (decides how keep-alive is spelled).
    pub version: Version,
    /// The connection stays open after this response, unless the handler asks to close.
    pub keep_alive: bool,
}

/// How much of the response the connection still has to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// No response could be staged (not even the fallback 500): close without one.
    Nothing,
    /// `tx[..n]` (the head, and the body if it fit), then [`Outgoing::body`].
    Staged(usize),
    /// Everything went out while the handler ran.
    Streamed,
}

/// The finished response as the connection sends it, and what the log says of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outgoing<'a> {
    pub sent: Sent,
    /// The body after the staged bytes, from where it lies (empty unless [`Sent::Staged`]).
    pub body: &'a [u8],
    pub status: Status,
    pub close: bool,
    /// Why the response is a 500 or ended early, when the handler did not choose it.
    pub failure: Option<Failure>,
    /// The request body when it was taken whole: what the handler layer's body reader reads
    /// when it does not stream. (Here rather than in the responder, which handlers pass by
    /// value.)
    pub request_body: &'a [u8],
    /// The protocol error this response answers, for the log.
    pub error: Option<Error>,
    /// Bytes of header fields written at the front of the transmit buffer before the
    /// response began (by a layer, or `Responder::with_header`), which the response's head
    /// carries behind its status line (feature `layers`).
    #[cfg(feature = "layers")]
    pub fields: usize,
    /// Bytes of default header fields after them, each left out if the response sets a
    /// header of the same name.
    #[cfg(feature = "layers")]
    pub defaults: usize,
}

impl Outgoing<'_> {
    /// No response yet: if the handler gives none, a close.
    pub const NONE: Outgoing<'static> = Outgoing {
        sent: Sent::Nothing,
        body: &[],
        status: Status::INTERNAL_SERVER_ERROR,
        close: true,
        failure: None,
        request_body: &[],
        error: None,
        #[cfg(feature = "layers")]
        fields: 0,
        #[cfg(feature = "layers")]
        defaults: 0,
    };

    /// The fallback 500 staged at the front of `tx` (or nothing, if it does not fit), for
    /// `failure`: a response that could not be encoded.
    pub fn fallback_500<'a>(tx: &mut [u8], failure: Option<Failure>) -> Outgoing<'a> {
        let staged = stage_fallback_500(tx);
        Outgoing {
            sent: if staged == 0 {
                Sent::Nothing
            } else {
                Sent::Staged(staged)
            },
            failure,
            ..Outgoing::NONE
        }
    }

    /// The 500 for a blocking handler that tried to stream on the async driver, whose body
    /// says so (or the plain fallback, or nothing, if it does not fit).
    pub fn blocking_on_async<'a>(tx: &mut [u8], error: Option<Error>) -> Outgoing<'a> {
        let failure = Some(Failure::BlockingOnAsync);
        match stage_text_500(tx, Failure::BLOCKING_ON_ASYNC) {
            0 => Outgoing {
                error,
                ..Outgoing::fallback_500(tx, failure)
            },
            n => Outgoing {
                sent: Sent::Staged(n),
                failure,
                error,
                ..Outgoing::NONE
            },
        }
    }

    /// Bytes of header fields written before the response began (see [`Outgoing::fields`]).
    pub fn pre_written(&self) -> usize {
        #[cfg(feature = "layers")]
        return self.fields + self.defaults;
        #[cfg(not(feature = "layers"))]
        0
    }

    /// The bytes staged at the front of the transmit buffer.
    pub fn staged(&self) -> usize {
        match self.sent {
            Sent::Staged(n) => n,
            Sent::Nothing | Sent::Streamed => 0,
        }
    }
}

/// What the handler layer writes a response through: the four things every responder type
/// carries, lent by the connection for one exchange (see the module docs).
pub(crate) struct Outbox<'a, 's> {
    /// The transmit buffer: the response head, staged bodies, and streamed pieces.
    pub tx: &'s mut [u8],
    /// The record of the response, read by the connection when the handler is done.
    pub out: &'s mut Outgoing<'a>,
    pub ctx: ResponseContext,
    /// The driver, while the handler runs, for a streamed body in or out; `None` without a
    /// driver (everything staged in the buffers).
    pub link: Option<&'s mut dyn Channel>,
}

impl<'a> Outbox<'a, '_> {
    /// Record the fallback 500 for `failure` as the response.
    pub fn fail(self, failure: Option<Failure>) {
        *self.out = Outgoing::fallback_500(self.tx, failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::response_head::FALLBACK_500;

    #[test]
    fn the_fallback_500_is_staged_or_nothing() {
        let mut tx = [0u8; 128];
        let out = Outgoing::fallback_500(&mut tx, Some(Failure::InvalidHeader));
        assert_eq!(out.sent, Sent::Staged(FALLBACK_500.len()));
        assert_eq!(&tx[..out.staged()], FALLBACK_500);
        assert!(out.close);
        assert_eq!(out.failure, Some(Failure::InvalidHeader));
        let out = Outgoing::fallback_500(&mut [0u8; 8], None);
        assert_eq!((out.sent, out.staged()), (Sent::Nothing, 0));
    }
}
