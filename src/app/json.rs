//! JSON bodies (feature `json`): requests deserialised with `serde` and `serde-json-core`,
//! borrowing strings from the request; responses serialised into the transmit buffer. No heap.
//!
//! ```
//! use embedded_responder::json::JsonError;
//! use embedded_responder::{put, Router, Status};
//!
//! #[derive(serde::Deserialize)]
//! struct Set {
//!     on: bool,
//! }
//! #[derive(serde::Serialize)]
//! struct Led {
//!     id: u8,
//!     on: bool,
//! }
//!
//! let app = Router::new().route(
//!     "/api/led",
//!     put(|req, res| match req.json::<Set>() {
//!         Ok(set) => res.json(Status::OK, &Led { id: 0, on: set.on }),
//!         Err(e) => e.respond(res), // 415 for another Content-Type, 400 {"error":..}
//!     }),
//! );
//! # let _ = app;
//! ```
//!
//! Limits: a request body is parsed whole (it must fit the receive buffer: see
//! [`crate::Limits`]); strings with escapes (`\n`, `\"`, `\u00e9`) cannot be borrowed and are
//! refused as malformed (serde-json-core's rule); [`Responder::json`] must fit what the head
//! leaves of the transmit buffer (else a 500 whose reason the log shows), and a larger value
//! streams through it from a scratch buffer of the caller's ([`Responder::json_via`]).

use serde::{Deserialize, Serialize};

use crate::handler::{Responded, Responder};
use crate::wire::{Request, Status};

/// Why a request body is not the JSON a handler asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// The `Content-Type` is not `application/json` (or `application/<x>+json`): 415.
    UnsupportedMediaType,
    /// The body is not JSON of the expected shape: 400, with serde-json-core's reason.
    Malformed(serde_json_core::de::Error),
}

impl JsonError {
    /// The status to answer with.
    pub fn status(self) -> Status {
        match self {
            JsonError::UnsupportedMediaType => Status::UNSUPPORTED_MEDIA_TYPE,
            JsonError::Malformed(_) => Status::BAD_REQUEST,
        }
    }

    /// Why, in a few words (the `error` of [`JsonError::respond`]'s body).
    pub fn as_str(self) -> &'static str {
        use serde_json_core::de::Error as E;
        match self {
            JsonError::UnsupportedMediaType => "Content-Type must be application/json",
            JsonError::Malformed(e) => match e {
                E::EofWhileParsingList
                | E::EofWhileParsingObject
                | E::EofWhileParsingString
                | E::EofWhileParsingNumber
                | E::EofWhileParsingValue => "unexpected end of JSON",
                E::ExpectedColon
                | E::ExpectedListCommaOrEnd
                | E::ExpectedObjectCommaOrEnd
                | E::ExpectedSomeIdent
                | E::ExpectedSomeValue
                | E::KeyMustBeAString
                | E::TrailingComma => "malformed JSON",
                E::TrailingCharacters => "trailing characters after the JSON value",
                E::InvalidNumber => "invalid number",
                E::InvalidType => "a value of the wrong type",
                E::InvalidUnicodeCodePoint | E::InvalidEscapeSequence => "invalid string",
                E::EscapedStringIsTooLong => "a string with escapes (not supported)",
                // serde's messages (a missing or unknown field) are not kept without a heap.
                E::CustomError => "JSON does not have the expected fields",
                _ => "malformed JSON",
            },
        }
    }

    /// Answer with [`JsonError::status`] and a small JSON body: `{"error":"<why>"}` (no
    /// `core::fmt`: the reasons are fixed strings).
    pub fn respond(self, res: Responder<'_, '_>) -> Responded {
        res.start(self.status())
            .header("Content-Type", "application/json")
            .body_with(|w| {
                w.push_str("{\"error\":\"");
                w.push_str(self.as_str());
                w.push_str("\"}");
            })
    }
}

/// Whether a `Content-Type` value is JSON: `application/json` or `application/<x>+json`,
/// case-insensitive, parameters allowed.
fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim_ascii();
    let Some((kind, sub)) = media.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub.len() > 5 && sub[sub.len() - 5..].eq_ignore_ascii_case("+json"))
}

impl<'a> Request<'a> {
    /// The body as JSON of type `T`, borrowing its strings from the request. The
    /// `Content-Type` must say JSON (else [`JsonError::UnsupportedMediaType`]); the body must
    /// be one JSON value, with only whitespace after it.
    pub fn json<T: Deserialize<'a>>(&self) -> Result<T, JsonError> {
        if !self.header("content-type").is_some_and(is_json) {
            return Err(JsonError::UnsupportedMediaType);
        }
        let body = self.body();
        let (value, used) = serde_json_core::from_slice(body).map_err(JsonError::Malformed)?;
        if !body[used.min(body.len())..]
            .iter()
            .all(u8::is_ascii_whitespace)
        {
            return Err(JsonError::Malformed(
                serde_json_core::de::Error::TrailingCharacters,
            ));
        }
        Ok(value)
    }
}

impl Responder<'_, '_> {
    /// A response with this status and `value` as JSON (`Content-Type: application/json`),
    /// serialised into the transmit buffer; if it does not fit, a 500 (see the module docs).
    pub fn json<T: Serialize + ?Sized>(self, status: Status, value: &T) -> Responded {
        self.start(status)
            .header("Content-Type", "application/json")
            .body_with(|w| w.write_with(|buf| serde_json_core::to_slice(value, buf).ok()))
    }
}

impl<'a, 's> Responder<'a, 's> {
    /// [`Responder::json`] for a value larger than the transmit buffer: serialised into
    /// `scratch` (yours, of the size the value needs), then streamed with its
    /// `Content-Length` through the transmit buffer ([`crate::ResponseHead::stream_length`]).
    /// A value that does not fit `scratch` is a 500 whose reason the log shows. Blocking
    /// handlers on the blocking driver; async ones use [`Responder::json_via_async`].
    pub fn json_via<T: Serialize + ?Sized>(
        self,
        status: Status,
        value: &T,
        scratch: &mut [u8],
    ) -> Responded {
        match serde_json_core::to_slice(value, scratch) {
            Ok(n) => {
                let mut stream = self
                    .start(status)
                    .header("Content-Type", "application/json")
                    .stream_length(n as u64);
                match stream.write(&scratch[..n]) {
                    Ok(()) => stream.finish(),
                    Err(_) => stream.abort(),
                }
            }
            Err(_) => too_large(self, scratch.len()),
        }
    }

    /// [`Responder::json_via`] for async handlers.
    pub async fn json_via_async<T: Serialize + ?Sized>(
        self,
        status: Status,
        value: &T,
        scratch: &mut [u8],
    ) -> Responded {
        match serde_json_core::to_slice(value, scratch) {
            Ok(n) => {
                let mut stream = self
                    .start(status)
                    .header("Content-Type", "application/json")
                    .stream_length(n as u64);
                match stream.write_async(&scratch[..n]).await {
                    Ok(()) => stream.finish_async().await,
                    Err(_) => stream.abort(),
                }
            }
            Err(_) => too_large(self, scratch.len()),
        }
    }
}

/// A 500 for a value that did not fit `room` bytes of scratch.
fn too_large(res: Responder<'_, '_>, room: usize) -> Responded {
    res.start(Status::INTERNAL_SERVER_ERROR)
        .refuse(crate::Failure::BodyTooLarge {
            body: room.saturating_add(1),
            room,
        })
        .body(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        for (ct, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("application/+json", false),
            ("text/json", false),
            ("application/jsonx", false),
            ("text/plain", false),
            ("", false),
        ] {
            assert_eq!(is_json(ct), ok, "{ct}");
        }
    }
}
