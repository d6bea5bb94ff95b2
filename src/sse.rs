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

use crate::response::{Responded, Responder, ResponseHead, Status};
use crate::stream::{ResponseStream, StreamError};

/// One event to send; see the [module docs](self) for the encoding rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'e> {
    data: &'e str,
    event: Option<&'e str>,
    id: Option<&'e str>,
    retry_ms: Option<u32>,
}

impl<'e> Event<'e> {
    /// An event carrying `data` (which may span lines), of the default type `message`.
    pub const fn new(data: &'e str) -> Self {
        Event {
            data,
            event: None,
            id: None,
            retry_ms: None,
        }
    }

    /// The event type (`event:`), for `addEventListener(type, ...)` in the browser.
    pub const fn event(mut self, name: &'e str) -> Self {
        self.event = Some(name);
        self
    }

    /// The event id (`id:`), which a reconnecting client sends back as `Last-Event-ID`.
    pub const fn id(mut self, id: &'e str) -> Self {
        self.id = Some(id);
        self
    }

    /// The client's reconnection delay (`retry:`), in milliseconds.
    pub const fn retry_ms(mut self, ms: u32) -> Self {
        self.retry_ms = Some(ms);
        self
    }

    /// Whether the single-line fields are single lines (see the [module docs](self)).
    pub fn is_valid(&self) -> bool {
        let one_line = |v: &str| !v.bytes().any(|b| b == b'\r' || b == b'\n');
        self.event.is_none_or(one_line)
            && self.id.is_none_or(|id| one_line(id) && !id.contains('\0'))
    }

    /// Encode the event, passing its bytes to `emit` in order; [`InvalidEvent`] (and nothing
    /// emitted) if a single-line field is not one.
    pub fn encode(&self, mut emit: impl FnMut(&[u8])) -> Result<(), InvalidEvent> {
        if !self.is_valid() {
            return Err(InvalidEvent);
        }
        if let Some(event) = self.event {
            emit(b"event: ");
            emit(event.as_bytes());
            emit(b"\n");
        }
        if let Some(id) = self.id {
            emit(b"id: ");
            emit(id.as_bytes());
            emit(b"\n");
        }
        if let Some(ms) = self.retry_ms {
            let mut digits = [0u8; 20];
            emit(b"retry: ");
            emit(decimal(u64::from(ms), &mut digits).as_bytes());
            emit(b"\n");
        }
        for line in lines(self.data) {
            emit(b"data: ");
            emit(line.as_bytes());
            emit(b"\n");
        }
        emit(b"\n");
        Ok(())
    }
}

/// The lines of `data`, split at CRLF, CR or LF; one empty line for empty data.
fn lines(data: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(data);
    core::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// An event whose `event` or `id` field is not a single line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidEvent;

impl core::fmt::Display for InvalidEvent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("event or id field with a line break")
    }
}

/// `n` in decimal, written into `buf`: for ids and data without `core::fmt`.
pub fn decimal(n: u64, buf: &mut [u8; 20]) -> &str {
    let len = crate::response::write_decimal(n, buf).unwrap_or(0);
    core::str::from_utf8(&buf[..len]).unwrap_or("")
}

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
    pub async fn send_async(&mut self, event: &Event<'_>) -> Result<(), SendError> {
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

    /// [`EventStream::send_async`] for blocking handlers.
    pub fn send(&mut self, event: &Event<'_>) -> Result<(), SendError> {
        if !self.stream.is_blocking() {
            return Err(SendError::Stream(StreamError::Unsupported));
        }
        match crate::stream::poll_once(self.send_async(event)) {
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
        match crate::stream::poll_once(self.comment_async(text)) {
            Some(result) => result,
            None => Err(SendError::Stream(StreamError::Unsupported)),
        }
    }

    /// Wait between events; [`StreamError::ShuttingDown`] when the server is stopping:
    /// finish the stream then.
    pub async fn sleep_ms_async(&mut self, ms: u64) -> Result<(), StreamError> {
        self.stream.sleep_ms_async(ms).await
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
    pub async fn finish_async(self) -> Responded {
        self.stream.finish_async().await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(event: &Event<'_>) -> Result<String, InvalidEvent> {
        let mut out = Vec::new();
        event.encode(|b| out.extend_from_slice(b))?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn data_lines_split_at_every_line_break() {
        assert_eq!(encode(&Event::new("a")).unwrap(), "data: a\n\n");
        assert_eq!(encode(&Event::new("")).unwrap(), "data: \n\n");
        assert_eq!(
            encode(&Event::new("a\r\nb\rc\nd\n")).unwrap(),
            "data: a\ndata: b\ndata: c\ndata: d\ndata: \n\n"
        );
        // A field in the data stays data: it is behind `data: `.
        assert_eq!(
            encode(&Event::new("x\nevent: evil\n\nid: 9")).unwrap(),
            "data: x\ndata: event: evil\ndata: \ndata: id: 9\n\n"
        );
    }

    #[test]
    fn fields_in_order_and_single_line_fields_checked() {
        assert_eq!(
            encode(&Event::new("{}").event("tick").id("7").retry_ms(1500)).unwrap(),
            "event: tick\nid: 7\nretry: 1500\ndata: {}\n\n"
        );
        assert_eq!(encode(&Event::new("x").event("a\nb")), Err(InvalidEvent));
        assert_eq!(encode(&Event::new("x").id("1\r")), Err(InvalidEvent));
        assert_eq!(encode(&Event::new("x").id("1\0")), Err(InvalidEvent));
    }
}
