//! Server-Sent Events encoding (the HTML Living Standard's `text/event-stream`): an [`Event`]
//! in, its bytes out. The stream that sends them is the application layer's
//! (`EventStream`, in `app/sse.rs`).
//!
//! An event's `data` may hold line breaks: it is split at every CRLF, CR or LF into one
//! `data:` line each, which the client joins back with LF. `event` and `id` are single-line
//! fields, so a value with CR or LF (or, for `id`, NUL, which clients ignore) is refused
//! rather than sent: a value can never inject a field or end an event early.

use super::syntax::write_decimal;

/// One event to send; see [`crate::sse`] for the encoding rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'e> {
    pub(crate) data: &'e str,
    pub(crate) event: Option<&'e str>,
    pub(crate) id: Option<&'e str>,
    pub(crate) retry_ms: Option<u32>,
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

    /// Whether the single-line fields are single lines (see [`crate::sse`]).
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
pub(crate) fn lines(data: &str) -> impl Iterator<Item = &str> {
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
    let len = write_decimal(n, buf).unwrap_or(0);
    core::str::from_utf8(&buf[..len]).unwrap_or("")
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
