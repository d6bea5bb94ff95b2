//! Header fields written before the response begins (feature `layers`): what a layer adds to
//! every response a handler makes (CORS, security headers), and what
//! [`Responder::with_header`] adds to a shortcut answer (`res.with_header(..).json(..)`).
//!
//! The fields are written at the front of the transmit buffer, always-fields first, then
//! default fields; the response's head moves them behind its status line when it starts
//! (the wire's head writer does), so every response carries them: the handler's own, the
//! router's 404, 405 and OPTIONS answers, and an error answer. A default field is left out
//! when the response sets a header of the same name. A field that is refused (not a token, a
//! control byte in the value, a framing field) or does not fit makes the response a 500
//! whose reason the log shows.

use super::responder::{Responder, ResponseHead};
use crate::error::Failure;
use crate::wire::response_head::is_field_value;
use crate::wire::syntax::is_token;

impl Responder<'_, '_> {
    /// Add a header to whatever response this responder makes (a shortcut answer such as
    /// [`Responder::status`] or `json` included): `res.with_header("Cache-Control",
    /// "no-store").text("ok")`. Checked as [`ResponseHead::header`] checks a header; the
    /// framing fields (`Content-Length`, `Transfer-Encoding`, `Connection`) are the library's
    /// and make the response a 500 here.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.write_field(name, value, false);
        self
    }

    /// [`Responder::with_header`], unless the response sets a header of the same name itself
    /// (then that one is sent): a default such as `Cache-Control` that a handler may override.
    pub fn with_default_header(mut self, name: &str, value: &str) -> Self {
        self.write_field(name, value, true);
        self
    }

    /// [`Responder::with_header`] for a list value: `items` joined with `", "` (RFC 9110
    /// §5.6.1), without a buffer to join them in.
    pub(crate) fn with_header_list<'i>(
        mut self,
        name: &str,
        items: impl Iterator<Item = &'i str> + Clone,
    ) -> Self {
        let len = items
            .clone()
            .enumerate()
            .map(|(i, item)| item.len() + if i > 0 { 2 } else { 0 })
            .sum::<usize>();
        let start = self.outbox.out.fields;
        self.write_field(name, "", false);
        let out = &mut *self.outbox.out;
        if out.failure.is_some() {
            return self;
        }
        // The empty field `name: \r\n` is in place: widen it and write the items in it.
        let tx = &mut *self.outbox.tx;
        let end = out.fields + out.defaults;
        if end + len > tx.len() {
            out.failure = Some(Failure::HeadTooLarge { room: tx.len() });
            return self;
        }
        let value_at = start + name.len() + 2;
        tx.copy_within(value_at..end, value_at + len);
        let mut at = value_at;
        for (i, item) in items.enumerate() {
            if i > 0 {
                tx[at..at + 2].copy_from_slice(b", ");
                at += 2;
            }
            if !is_field_value(item) || item.contains(',') {
                out.failure = Some(Failure::InvalidHeader);
            }
            tx[at..at + item.len()].copy_from_slice(item.as_bytes());
            at += item.len();
        }
        out.fields += len;
        self
    }

    /// Write `name: value` into the fields before the response (among the defaults if
    /// `default`), or record why not.
    fn write_field(&mut self, name: &str, value: &str, default: bool) {
        let framing = ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| name.eq_ignore_ascii_case(f));
        let out = &mut *self.outbox.out;
        if out.failure.is_some() {
            return;
        }
        if framing || !is_token(name) || !is_field_value(value) {
            out.failure = Some(Failure::InvalidHeader);
            return;
        }
        let tx = &mut *self.outbox.tx;
        let len = name.len() + 2 + value.len() + 2;
        let end = out.fields + out.defaults;
        if end + len > tx.len() {
            out.failure = Some(Failure::HeadTooLarge { room: tx.len() });
            return;
        }
        // Always-fields go before the defaults: the defaults move back to make room.
        let at = if default { end } else { out.fields };
        tx.copy_within(at..end, at + len);
        let line = &mut tx[at..at + len];
        line[..name.len()].copy_from_slice(name.as_bytes());
        line[name.len()..name.len() + 2].copy_from_slice(b": ");
        line[name.len() + 2..len - 2].copy_from_slice(value.as_bytes());
        line[len - 2..].copy_from_slice(b"\r\n");
        if default {
            out.defaults += len;
        } else {
            out.fields += len;
        }
    }
}

impl ResponseHead<'_, '_> {
    /// Leave out the default field named `name`, which the response sets itself.
    pub(crate) fn drop_default(&mut self, name: &str) {
        let out = &mut *self.r.outbox.out;
        let tx = &mut *self.r.outbox.tx;
        // The head is the status line, the always-fields, the defaults, then the rest.
        let Some(line_end) = tx.iter().position(|&b| b == b'\n') else {
            return;
        };
        let start = line_end + 1 + out.fields;
        let end = (start + out.defaults).min(self.head.len());
        let mut at = start;
        while at < end {
            let len = tx[at..end]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(end - at, |i| i + 1);
            let field = &tx[at..at + len];
            let named = field
                .get(..name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
                && field.get(name.len()) == Some(&b':');
            if named {
                tx.copy_within(at + len..self.head.len(), at);
                self.head.cut(len);
                out.defaults -= len;
                return;
            }
            at += len;
        }
    }
}
