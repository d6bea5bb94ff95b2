//! Query and form fields (`application/x-www-form-urlencoded`), decoded into the caller's
//! storage and typed where asked; no heap.
//!
//! A [`Form`] is a view of the raw `name=value&...` bytes of a query string
//! ([`Form::query`]) or a request body ([`Form::from_request`], which answers another
//! `Content-Type` with 415). Fields are read by name: decoded text into a
//! [`heapless::String`] ([`Form::text`]) or a buffer ([`Form::decode_into`]), canonical
//! decimal numbers ([`Form::number`], [`Form::number_in`]).
//!
//! The rules:
//! - Names and values are percent-decoded, `+` is a space (the WHATWG URL standard's
//!   `application/x-www-form-urlencoded` parser); names are compared after decoding, exactly.
//! - A bad escape (`%zz`, `%2`), `%00`, or a result that is not UTF-8 makes a field
//!   [`FieldErrorKind::Malformed`]; a value longer than the storage,
//!   [`FieldErrorKind::TooLong`].
//! - Numbers are canonical decimal, as path parameters ([`crate::path::PathParam`]): no `+`,
//!   no leading zero, no spaces, in range; anything else is `Malformed`.
//! - **A field sent twice is an error** ([`FieldErrorKind::Repeated`]) for the single-value
//!   readers: a handler does not silently act on one of two values. Fields that repeat on
//!   purpose (checkboxes, multiple selects) are read with [`Form::values`].
//!
//! Each error names its field, so a handler can answer 400 or 422 saying which one:
//!
//! ```
//! use embedded_responder::form::{FieldError, FieldErrorKind, Form};
//! use embedded_responder::Redirect;
//! use embedded_responder::{post, Router, Status};
//!
//! let app = Router::new().route(
//!     "/config",
//!     post(|req, res| {
//!         let form = match Form::from_request(req) {
//!             Ok(form) => form,
//!             Err(e) => return e.respond(res), // 415 for another Content-Type
//!         };
//!         let ssid = match form.text::<32>("ssid") {
//!             Ok(ssid) if ssid.is_empty() => Err(FieldError::new("ssid", FieldErrorKind::Empty)),
//!             other => other,
//!         };
//!         match (ssid, form.number_in::<u32>("interval", 1..=3600)) {
//!             (Ok(_ssid), Ok(_interval)) => res.redirect(Redirect::SeeOther, "/config"),
//!             // "ssid: missing", "interval: out of range", ...
//!             (Err(e), _) | (_, Err(e)) => e.respond(res, Status::UNPROCESSABLE_CONTENT),
//!         }
//!     }),
//! );
//! # let _ = app;
//! ```

use core::ops::RangeInclusive;

use super::path::PathParam;
use crate::error::Error;
use crate::handler::{Responded, Responder};
use crate::wire::syntax::hex_value;
use crate::wire::{Request, Status};

/// The media type of HTML form bodies.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The raw fields of a query string or form body; see the [module docs](self).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Form<'a> {
    raw: &'a [u8],
}

/// Why a request's body cannot be read as a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FormError {
    /// The `Content-Type` is not `application/x-www-form-urlencoded`: 415.
    UnsupportedMediaType,
}

impl FormError {
    /// The status to answer with.
    pub fn status(self) -> Status {
        match self {
            FormError::UnsupportedMediaType => Status::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    /// What went wrong, for a log line or a response body.
    pub fn as_str(self) -> &'static str {
        match self {
            FormError::UnsupportedMediaType => {
                "Content-Type must be application/x-www-form-urlencoded"
            }
        }
    }

    /// Answer with [`FormError::status`] and [`FormError::as_str`] as plain text.
    pub fn respond(self, res: Responder<'_, '_>) -> Responded {
        res.start(self.status())
            .header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| {
                w.push_str(self.as_str());
                w.push_str("\n");
            })
    }
}

/// What is wrong with a field; see [`FieldError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FieldErrorKind {
    /// The field is not in the form.
    Missing,
    /// The field is there but empty, where the handler needs a value (the readers return
    /// empty text as it is; handlers make this error with [`FieldError::new`]).
    Empty,
    /// A bad percent escape, `%00`, text that is not UTF-8 once decoded, or a number that is
    /// not canonical decimal of the asked type.
    Malformed,
    /// The decoded value does not fit the storage it was asked into.
    TooLong,
    /// The decoded value is shorter than the handler's minimum ([`Form::text_min`]).
    TooShort,
    /// A number outside the asked range ([`Form::number_in`]).
    OutOfRange,
    /// The field is sent more than once, where one value was asked for.
    Repeated,
}

impl FieldErrorKind {
    /// A short lowercase description: `missing`, `empty`, `malformed`, `too long`,
    /// `too short`, `out of range`, `repeated`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldErrorKind::Missing => "missing",
            FieldErrorKind::Empty => "empty",
            FieldErrorKind::Malformed => "malformed",
            FieldErrorKind::TooLong => "too long",
            FieldErrorKind::TooShort => "too short",
            FieldErrorKind::OutOfRange => "out of range",
            FieldErrorKind::Repeated => "repeated",
        }
    }
}

/// A field the handler cannot use, and why; it names the field so that the answer can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FieldError<'n> {
    /// The field's name, as the handler asked for it.
    pub field: &'n str,
    /// What is wrong with it.
    pub kind: FieldErrorKind,
}

impl<'n> FieldError<'n> {
    /// An error for `field`: for the handler's own checks (an empty or out-of-range value).
    pub const fn new(field: &'n str, kind: FieldErrorKind) -> Self {
        FieldError { field, kind }
    }

    /// Answer with `status` (400 or 422, usually) and a plain-text body naming the field:
    /// `ssid: missing`.
    pub fn respond(self, res: Responder<'_, '_>, status: Status) -> Responded {
        res.start(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| {
                w.push_str(self.field);
                w.push_str(": ");
                w.push_str(self.kind.as_str());
                w.push_str("\n");
            })
    }
}

impl<'a> Form<'a> {
    /// The fields of raw `name=value&...` bytes (a query string, or a form body taken whole).
    /// Nothing is checked until a field is read.
    pub const fn new(raw: &'a [u8]) -> Self {
        Form { raw }
    }

    /// The fields of `req`'s query string (none if it has no `?`).
    pub fn query(req: &Request<'a>) -> Self {
        Form::new(req.query().unwrap_or("").as_bytes())
    }

    /// The fields of `req`'s body, if its `Content-Type` is
    /// `application/x-www-form-urlencoded` (ASCII case-insensitive, parameters allowed),
    /// else [`FormError::UnsupportedMediaType`]. The body must have been taken whole
    /// ([`Request::body`]), as it is on routes that do not stream theirs.
    pub fn from_request(req: &Request<'a>) -> Result<Self, FormError> {
        let media = req
            .header_bytes("content-type")
            .and_then(|v| v.split(|&b| b == b';').next())
            .map(<[u8]>::trim_ascii);
        match media {
            Some(media) if media.eq_ignore_ascii_case(FORM_CONTENT_TYPE.as_bytes()) => {
                Ok(Form::new(req.body()))
            }
            _ => Err(FormError::UnsupportedMediaType),
        }
    }

    /// Every field in order, raw: empty pieces (`a=1&&b=2`) are skipped, and a piece without
    /// `=` is a field with an empty value.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> {
        self.raw
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| match piece.iter().position(|&b| b == b'=') {
                Some(eq) => Field {
                    name: &piece[..eq],
                    value: &piece[eq + 1..],
                },
                None => Field {
                    name: piece,
                    value: &[],
                },
            })
    }

    /// Every field named `name` (compared decoded), in order: for fields that repeat on
    /// purpose, such as checkboxes.
    pub fn values<'s>(&self, name: &'s str) -> impl Iterator<Item = Field<'a>> + use<'a, 's> {
        self.fields().filter(move |field| field.is(name))
    }

    /// Whether a field named `name` is present (a checkbox that is ticked), whatever its
    /// value.
    pub fn contains(&self, name: &str) -> bool {
        self.values(name).next().is_some()
    }

    /// The one field named `name`: [`FieldErrorKind::Missing`] or
    /// [`FieldErrorKind::Repeated`] otherwise.
    pub fn field<'n>(&self, name: &'n str) -> Result<Field<'a>, FieldError<'n>> {
        let mut values = self.values(name);
        let first = values
            .next()
            .ok_or(FieldError::new(name, FieldErrorKind::Missing))?;
        match values.next() {
            Some(_) => Err(FieldError::new(name, FieldErrorKind::Repeated)),
            None => Ok(first),
        }
    }

    /// The value of field `name`, decoded into `out`.
    pub fn decode_into<'o, 'n>(
        &self,
        name: &'n str,
        out: &'o mut [u8],
    ) -> Result<&'o str, FieldError<'n>> {
        let field = self.field(name)?;
        field
            .decode_into(out)
            .map_err(|kind| FieldError::new(name, kind))
    }

    /// The value of field `name`, decoded, in a string of at most `N` bytes.
    pub fn text<'n, const N: usize>(
        &self,
        name: &'n str,
    ) -> Result<heapless::String<N>, FieldError<'n>> {
        let field = self.field(name)?;
        field
            .text::<N>()
            .map_err(|kind| FieldError::new(name, kind))
    }

    /// [`Form::text`] of at least `min` bytes once decoded, else [`FieldErrorKind::TooShort`]
    /// (`min` 1: a required text field, which an empty value does not fill).
    pub fn text_min<'n, const N: usize>(
        &self,
        name: &'n str,
        min: usize,
    ) -> Result<heapless::String<N>, FieldError<'n>> {
        let text = self.text::<N>(name)?;
        if text.len() < min {
            return Err(FieldError::new(name, FieldErrorKind::TooShort));
        }
        Ok(text)
    }

    /// The value of field `name` as a canonical decimal number of type `T` (`u8` to `u64`,
    /// `usize`, `i8` to `i64`).
    pub fn number<'n, T>(&self, name: &'n str) -> Result<T, FieldError<'n>>
    where
        T: for<'x> PathParam<'x>,
    {
        let field = self.field(name)?;
        field.number().map_err(|kind| FieldError::new(name, kind))
    }

    /// [`Form::number`] within `range`, else [`FieldErrorKind::OutOfRange`].
    pub fn number_in<'n, T>(
        &self,
        name: &'n str,
        range: RangeInclusive<T>,
    ) -> Result<T, FieldError<'n>>
    where
        T: for<'x> PathParam<'x> + PartialOrd,
    {
        let n = self.number::<T>(name)?;
        if range.contains(&n) {
            Ok(n)
        } else {
            Err(FieldError::new(name, FieldErrorKind::OutOfRange))
        }
    }
}

/// One `name=value` field of a [`Form`], still encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    name: &'a [u8],
    value: &'a [u8],
}

impl<'a> Field<'a> {
    /// The name as sent (still encoded).
    pub fn raw_name(&self) -> &'a [u8] {
        self.name
    }

    /// The value as sent (still encoded).
    pub fn raw_value(&self) -> &'a [u8] {
        self.value
    }

    /// Whether the decoded name is `name`. A name with a bad escape matches nothing.
    pub fn is(&self, name: &str) -> bool {
        let mut want = name.bytes();
        let mut raw = self.name;
        while let Some((&b, rest)) = raw.split_first() {
            let (byte, rest) = match b {
                b'%' => match rest {
                    [hi, lo, rest @ ..] => match (hex_value(*hi), hex_value(*lo)) {
                        (Some(hi), Some(lo)) => (hi << 4 | lo, rest),
                        _ => return false,
                    },
                    _ => return false,
                },
                b'+' => (b' ', rest),
                b => (b, rest),
            };
            if want.next() != Some(byte) {
                return false;
            }
            raw = rest;
        }
        want.next().is_none()
    }

    /// The value decoded into `out` (see the [module docs](self) for the rules).
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, FieldErrorKind> {
        let raw = core::str::from_utf8(self.value).map_err(|_| FieldErrorKind::Malformed)?;
        super::target::form_decode(raw, out).map_err(|e| match e {
            Error::UriTooLong => FieldErrorKind::TooLong,
            _ => FieldErrorKind::Malformed,
        })
    }

    /// The value decoded, in a string of at most `N` bytes.
    pub fn text<const N: usize>(&self) -> Result<heapless::String<N>, FieldErrorKind> {
        let mut bytes = heapless::Vec::<u8, N>::new();
        // Cannot fail: the length is the capacity.
        let _ = bytes.resize(N, 0);
        let len = self.decode_into(&mut bytes)?.len();
        bytes.truncate(len);
        heapless::String::from_utf8(bytes).map_err(|_| FieldErrorKind::Malformed)
    }

    /// The value as a canonical decimal number of type `T`.
    pub fn number<T: for<'x> PathParam<'x>>(&self) -> Result<T, FieldErrorKind> {
        // 20 bytes hold every canonical i64 and u64; a longer value is not one.
        let mut digits = [0u8; 20];
        let text = self
            .decode_into(&mut digits)
            .map_err(|_| FieldErrorKind::Malformed)?;
        T::parse_segment(text).ok_or(FieldErrorKind::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_lookup() {
        let form = Form::new(b"ssid=My+Net%21&a%20b=1&empty=&flag&&caf%C3%A9=x");
        assert_eq!(form.text::<16>("ssid").as_deref(), Ok("My Net!"));
        assert_eq!(form.text::<4>("a b").as_deref(), Ok("1"));
        assert_eq!(form.text::<4>("empty").as_deref(), Ok(""));
        assert_eq!(form.text::<4>("flag").as_deref(), Ok(""));
        assert_eq!(form.text::<4>("café").as_deref(), Ok("x"));
        assert!(form.contains("flag"));
        assert!(!form.contains("a+b"), "names are compared decoded");
        let mut buf = [0u8; 7];
        assert_eq!(form.decode_into("ssid", &mut buf), Ok("My Net!"));
        let err = |kind| Err(FieldError::new("ssid", kind));
        assert_eq!(
            form.decode_into("ssid", &mut [0u8; 6]),
            err(FieldErrorKind::TooLong)
        );
        let text_err = |kind| Err(FieldError::new("ssid", kind));
        assert_eq!(form.text::<6>("ssid"), text_err(FieldErrorKind::TooLong));
        assert_eq!(
            Form::new(b"").text::<6>("ssid"),
            text_err(FieldErrorKind::Missing)
        );
    }

    #[test]
    fn a_minimum_length() {
        let form = Form::new(b"psk=secret12&short=abc&empty=");
        assert_eq!(form.text_min::<16>("psk", 8).as_deref(), Ok("secret12"));
        let too_short = |name| Err(FieldError::new(name, FieldErrorKind::TooShort));
        assert_eq!(form.text_min::<16>("short", 8), too_short("short"));
        assert_eq!(form.text_min::<16>("empty", 1), too_short("empty"));
        assert_eq!(
            form.text_min::<16>("none", 1),
            Err(FieldError::new("none", FieldErrorKind::Missing))
        );
        assert_eq!(FieldErrorKind::TooShort.as_str(), "too short");
    }

    #[test]
    fn malformed_values_and_names() {
        for raw in [
            &b"v=%"[..],
            b"v=%2",
            b"v=%zz",
            b"v=a%00b",
            b"v=%C3",
            b"v=%ff",
            b"v=\xff",
        ] {
            assert_eq!(
                Form::new(raw).text::<8>("v"),
                Err(FieldError::new("v", FieldErrorKind::Malformed)),
                "{:?}",
                core::str::from_utf8(raw)
            );
        }
        // A name with a bad escape matches nothing.
        assert!(!Form::new(b"v%=1").contains("v%"));
        assert!(!Form::new(b"v%2=1").contains("v"));
    }

    #[test]
    fn repeated_fields() {
        let form = Form::new(b"led=1&x=2&led=3");
        assert_eq!(
            form.number::<u8>("led"),
            Err(FieldError::new("led", FieldErrorKind::Repeated))
        );
        let all: Vec<u8> = form.values("led").map(|f| f.number().unwrap()).collect();
        assert_eq!(all, [1, 3]);
        assert_eq!(form.number::<u8>("x"), Ok(2));
    }

    #[test]
    fn numbers_are_canonical() {
        let n = |raw: &str| {
            Form::new(raw.as_bytes())
                .number::<u32>("n")
                .map_err(|e| e.kind)
        };
        assert_eq!(n("n=0"), Ok(0));
        assert_eq!(n("n=3600"), Ok(3600));
        assert_eq!(n("n=%33"), Ok(3), "escapes decode first");
        assert_eq!(n("n=4294967295"), Ok(u32::MAX));
        for bad in [
            "n=",
            "n=+1",
            "n=01",
            "n=-1",
            "n=1+",
            "n=%2B1",
            "n=1e3",
            "n=4294967296",
        ] {
            assert_eq!(n(bad), Err(FieldErrorKind::Malformed), "{bad}");
        }
        assert_eq!(
            n("n=123456789012345678901234"),
            Err(FieldErrorKind::Malformed)
        );
        assert_eq!(n("m=1"), Err(FieldErrorKind::Missing));
        let i = |raw: &str| {
            Form::new(raw.as_bytes())
                .number::<i8>("n")
                .map_err(|e| e.kind)
        };
        assert_eq!(i("n=-128"), Ok(-128));
        assert_eq!(i("n=-0"), Err(FieldErrorKind::Malformed));
        let form = Form::new(b"interval=0&b=3601&c=1");
        assert_eq!(
            form.number_in::<u32>("interval", 1..=3600),
            Err(FieldError::new("interval", FieldErrorKind::OutOfRange))
        );
        assert_eq!(
            form.number_in::<u32>("b", 1..=3600).map_err(|e| e.kind),
            Err(FieldErrorKind::OutOfRange)
        );
        assert_eq!(form.number_in::<u32>("c", 1..=3600), Ok(1));
    }
}
