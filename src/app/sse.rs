//! Server-Sent Events (the HTML Living Standard's `text/event-stream`): an event encoder and
//! a stream helper over [`ResponseStream`].
//!
//! An event's `data` may hold line breaks: it is split at every CRLF, CR or LF into one
//! `data:` line each, which the client joins back with LF. `event` and `id` are single-line
//! fields, so a value with CR or LF (or, for `id`, NUL, which clients ignore) is refused
//! rather than sent: a value can never inject a field or end an event early.
//!
//! ```
//! use embedded_responder::sse::Event;
//! use embedded_responder::{get, Router};
//!
//! let app = Router::new().route(
//!     "/events",
//!     get(|_req, res| {
//!         let mut events = res.event_stream();
//!         for seq in 1..=3u64 {
//!             let mut id = [0u8; 20];
//!             let id = embedded_responder::sse::decimal(seq, &mut id);
//!             if events.send(&Event::new("hello").event("tick").id(id)).is_err()
//!                 || events.sleep_ms(1000).is_err()
//!             {
//!                 break; // the client left, or the server is stopping
//!             }
//!         }
//!         events.finish()
//!     }),
//! );
//! # let _ = app;
//! ```

pub use crate::wire::sse::{decimal, Event, InvalidEvent};

use core::future::Future;

use crate::error::StreamError;
use crate::handler::{poll_once, Responded, Responder, ResponseHead, ResponseStream};
use crate::wire::sse::lines;
use crate::wire::Status;

/// Why [`EventStream::send`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// The event's `event` or `id` field is not a single line; nothing was sent, and the
    /// stream can go on.
    Invalid(InvalidEvent),
    /// The stream failed (the client left, the write timed out); end it.
    Stream(StreamError),
}

/// A `text/event-stream` response: made by [`Responder::event_stream`], ended by
/// [`EventStream::finish`] (or when a send fails: then finish or abort it all the same).
///
/// Each event is flushed to the client as it is sent. The stream ends when the handler
/// finishes it, when a send fails because the client went away (within the write timeout),
/// and when [`EventStream::sleep_ms`] reports that the server is stopping.
#[derive(Debug)]
pub struct EventStream<'a, 's> {
    stream: ResponseStream<'a, 's>,
}

impl<'a, 's> Responder<'a, 's> {
    /// Start a Server-Sent Events stream: `200`, `Content-Type: text/event-stream`,
    /// `Cache-Control: no-cache`. The head leaves with the first event or comment (send a
    /// comment first if the client should see the stream open before there is an event).
    pub fn event_stream(self) -> EventStream<'a, 's> {
        self.start(Status::OK).event_stream()
    }
}

impl<'a, 's> ResponseHead<'a, 's> {
    /// Start a Server-Sent Events stream with this head (a status other than 200, extra
    /// headers); see [`Responder::event_stream`].
    pub fn event_stream(self) -> EventStream<'a, 's> {
        let stream = self
            .header("Content-Type", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .stream();
        // The head leaves with the first event (or at the first flush).
        EventStream { stream }
    }
}

impl<'a, 's> EventStream<'a, 's> {
    /// Send one event and flush it.
    #[allow(clippy::manual_async_fn)] // an `async fn` would hold its arguments twice
    pub fn send_async<'f>(
        &'f mut self,
        event: &'f Event<'_>,
    ) -> impl Future<Output = Result<(), SendError>> + use<'f, 'a, 's> {
        async move {
            if !event.is_valid() {
                return Err(SendError::Invalid(InvalidEvent));
            }
            let stream = &mut self.stream;
            let mut field = async |name: &[u8], value: &[u8]| -> Result<(), StreamError> {
                stream.write_async(name).await?;
                stream.write_async(value).await?;
                stream.write_async(b"\n").await
            };
            if let Some(event) = event.event {
                field(b"event: ", event.as_bytes())
                    .await
                    .map_err(SendError::Stream)?;
            }
            if let Some(id) = event.id {
                field(b"id: ", id.as_bytes())
                    .await
                    .map_err(SendError::Stream)?;
            }
            if let Some(ms) = event.retry_ms {
                let mut digits = [0u8; 20];
                let value = decimal(u64::from(ms), &mut digits).as_bytes();
                field(b"retry: ", value).await.map_err(SendError::Stream)?;
            }
            for line in lines(event.data) {
                field(b"data: ", line.as_bytes())
                    .await
                    .map_err(SendError::Stream)?;
            }
            let stream = &mut self.stream;
            stream.write_async(b"\n").await.map_err(SendError::Stream)?;
            stream.flush_async().await.map_err(SendError::Stream)
        }
    }

    /// [`EventStream::send_async`] for blocking handlers.
    pub fn send(&mut self, event: &Event<'_>) -> Result<(), SendError> {
        if !self.stream.is_blocking() {
            return Err(SendError::Stream(StreamError::Unsupported));
        }
        match poll_once(self.send_async(event)) {
            Some(result) => result,
            None => Err(SendError::Stream(StreamError::Unsupported)),
        }
    }

    /// Send a comment line (`: text`), which clients ignore: a keep-alive that also tells a
    /// server whether the client is still there. `text` must be one line.
    pub async fn comment_async(&mut self, text: &str) -> Result<(), SendError> {
        if text.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(SendError::Invalid(InvalidEvent));
        }
        let stream = &mut self.stream;
        let sent: Result<(), StreamError> = async {
            stream.write_async(b": ").await?;
            stream.write_async(text.as_bytes()).await?;
            stream.write_async(b"\n\n").await?;
            stream.flush_async().await
        }
        .await;
        sent.map_err(SendError::Stream)
    }

    /// [`EventStream::comment_async`] for blocking handlers.
    pub fn comment(&mut self, text: &str) -> Result<(), SendError> {
        if !self.stream.is_blocking() {
            return Err(SendError::Stream(StreamError::Unsupported));
        }
        match poll_once(self.comment_async(text)) {
            Some(result) => result,
            None => Err(SendError::Stream(StreamError::Unsupported)),
        }
    }

    /// Wait between events; [`StreamError::ShuttingDown`] when the server is stopping:
    /// finish the stream then.
    pub fn sleep_ms_async(
        &mut self,
        ms: u64,
    ) -> impl Future<Output = Result<(), StreamError>> + use<'_, 'a, 's> {
        self.stream.sleep_ms_async(ms)
    }

    /// [`EventStream::sleep_ms_async`] for blocking handlers.
    pub fn sleep_ms(&mut self, ms: u64) -> Result<(), StreamError> {
        self.stream.sleep_ms(ms)
    }

    /// The driver's clock in milliseconds, if it has one.
    pub fn now_ms(&mut self) -> Option<u64> {
        self.stream.now_ms()
    }

    /// The response stream underneath, for writing raw bytes.
    pub fn stream_mut(&mut self) -> &mut ResponseStream<'a, 's> {
        &mut self.stream
    }

    /// End the stream cleanly (the last chunk).
    pub fn finish_async(self) -> impl Future<Output = Responded> + use<'a, 's> {
        self.stream.finish_async()
    }

    /// [`EventStream::finish_async`] for blocking handlers.
    pub fn finish(self) -> Responded {
        self.stream.finish()
    }

    /// Give up on the stream (see [`ResponseStream::abort`]).
    pub fn abort(self) -> Responded {
        self.stream.abort()
    }
}
