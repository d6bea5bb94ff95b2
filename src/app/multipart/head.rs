//! The field values multipart reads: the request's `Content-Type` (its media type and
//! `boundary`, RFC 2046 §5.1.1) and a part's head once it is complete (`Content-Disposition`
//! with `name` and `filename`, RFC 7578 §4.2; `Content-Type`, §4.4). Bytes in, positions out;
//! no state between calls.
//!
//! The parameter grammar is RFC 9110 §5.6.6's: `*( OWS ";" OWS token "=" ( token /
//! quoted-string ) )`, with no whitespace around `=`. A quoted string's quoted pairs (`\"`)
//! are decoded in place in the part's head buffer (the decoded value is never longer).

use super::error::MultipartError;
use crate::wire::syntax::{is_field_byte, is_token_byte};

/// The media type of HTML form uploads (RFC 7578).
pub const FORM_DATA: &str = "multipart/form-data";

/// The longest boundary RFC 2046 §5.1.1 allows.
pub const MAX_BOUNDARY_LEN: usize = 70;

/// Most header lines a part's head may have (browsers send two: `Content-Disposition` and,
/// for files, `Content-Type`).
pub const MAX_PART_HEADERS: usize = 16;

/// Where a value lies in a part's head buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    /// The bytes of `buf` this span covers (empty if it does not fit, which cannot happen
    /// for the spans [`parse_part`] returns for the same buffer).
    pub(crate) fn of(self, buf: &[u8]) -> &[u8] {
        buf.get(self.start..self.end).unwrap_or_default()
    }

    /// [`Span::of`] as text: the spans [`parse_part`] returns are checked to be UTF-8.
    pub(crate) fn str_of(self, buf: &[u8]) -> &str {
        core::str::from_utf8(self.of(buf)).unwrap_or_default()
    }
}

/// What a complete part head says, as positions in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartHead {
    pub(crate) name: Span,
    pub(crate) filename: Option<Span>,
    pub(crate) content_type: Option<Span>,
}

/// A byte of OWS (RFC 9110 §5.6.3).
fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A `bcharsnospace` of RFC 2046 §5.1.1 (`bchars` are these and the space).
fn is_bchar_nospace(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&b)
}

/// `value` without OWS around it.
fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = value {
        if !is_ows(*first) {
            break;
        }
        value = rest;
    }
    while let [rest @ .., last] = value {
        if !is_ows(*last) {
            break;
        }
        value = rest;
    }
    value
}

/// Where OWS starting at `at` ends.
fn skip_ows(buf: &[u8], mut at: usize) -> usize {
    while buf.get(at).copied().is_some_and(is_ows) {
        at += 1;
    }
    at
}

/// The end of the token starting at `at` (`at` itself if there is none).
fn token_end(buf: &[u8], mut at: usize) -> usize {
    while buf.get(at).copied().is_some_and(is_token_byte) {
        at += 1;
    }
    at
}

/// One parameter of a field value: where its name and value lie (a quoted value without its
/// quotes, still escaped if `escaped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Param {
    name: Span,
    value: Span,
    quoted: bool,
    escaped: bool,
}

/// The parameter starting at `buf[*at..]` (`; name=value`), moving `*at` past it; `Ok(None)`
/// at the end of the value (trailing OWS allowed); `Err(())` if the syntax breaks.
fn next_param(buf: &[u8], at: &mut usize) -> Result<Option<Param>, ()> {
    let mut i = skip_ows(buf, *at);
    match buf.get(i) {
        None => {
            *at = i;
            return Ok(None);
        }
        Some(b';') => i = skip_ows(buf, i + 1),
        Some(_) => return Err(()),
    }
    let name_end = token_end(buf, i);
    if name_end == i || buf.get(name_end) != Some(&b'=') {
        return Err(());
    }
    let name = Span {
        start: i,
        end: name_end,
    };
    i = name_end + 1;
    let (value, quoted, escaped) = if buf.get(i) == Some(&b'"') {
        // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
        let start = i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            match buf.get(j).copied() {
                Some(b'"') => break,
                Some(b'\\') if buf.get(j + 1).copied().is_some_and(is_field_byte) => {
                    escaped = true;
                    j += 2;
                }
                Some(b) if is_field_byte(b) && b != b'\\' => j += 1,
                _ => return Err(()),
            }
        }
        i = j + 1;
        (Span { start, end: j }, true, escaped)
    } else {
        let end = token_end(buf, i);
        if end == i {
            return Err(());
        }
        let value = Span { start: i, end };
        i = end;
        (value, false, false)
    };
    *at = i;
    Ok(Some(Param {
        name,
        value,
        quoted,
        escaped,
    }))
}

/// The boundary of a request whose `Content-Type` is `content_type`: checks that the media
/// type is `multipart/form-data` (ASCII case-insensitive) and that the boundary is 1-70
/// `bchars`, not ending in a space, quoted or not (unquoted, it must also be a token).
pub(crate) fn boundary(content_type: &[u8]) -> Result<&[u8], MultipartError> {
    let value = trim_ows(content_type);
    let media_end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    let media = trim_ows(value.get(..media_end).unwrap_or_default());
    if !media.eq_ignore_ascii_case(FORM_DATA.as_bytes()) {
        return Err(MultipartError::NotMultipart);
    }
    let mut at = media_end;
    let mut found: Option<&[u8]> = None;
    loop {
        let param = match next_param(value, &mut at) {
            Ok(Some(param)) => param,
            Ok(None) => break,
            Err(()) => return Err(MultipartError::InvalidBoundary),
        };
        if !param.name.of(value).eq_ignore_ascii_case(b"boundary") {
            continue;
        }
        if found.is_some() {
            return Err(MultipartError::InvalidBoundary);
        }
        let b = param.value.of(value);
        let valid = (1..=MAX_BOUNDARY_LEN).contains(&b.len())
            && b.iter()
                .all(|&c| is_bchar_nospace(c) || (param.quoted && c == b' '))
            && b.last() != Some(&b' ');
        if !valid {
            return Err(MultipartError::InvalidBoundary);
        }
        found = Some(b);
    }
    found.ok_or(MultipartError::MissingBoundary)
}

/// Decode the quoted pairs of `buf[span]` in place; the decoded value's span.
fn unescape(buf: &mut [u8], span: Span) -> Span {
    let (mut read, mut write) = (span.start, span.start);
    while read < span.end {
        if buf.get(read) == Some(&b'\\') {
            // Checked by `next_param`: an escape is followed by its byte, inside the span.
            read += 1;
        }
        if let Some(b) = buf.get(read).copied().filter(|_| read < span.end) {
            if let Some(slot) = buf.get_mut(write) {
                *slot = b;
            }
            write += 1;
        }
        read += 1;
    }
    Span {
        start: span.start,
        end: write,
    }
}

/// Judge a complete part head: `head` holds its header lines as sent (each `name:value`
/// with its CRLF; the byte-level syntax was checked as they arrived). Finds
/// `Content-Disposition` (required, once, `form-data` with a `name`) and `Content-Type`
/// (optional, once); other fields are ignored. Quoted `name` and `filename` values are
/// decoded in place.
pub(crate) fn parse_part(head: &mut [u8]) -> Result<PartHead, MultipartError> {
    let mut disposition: Option<Span> = None;
    let mut content_type: Option<Span> = None;
    let mut line_start = 0;
    while line_start < head.len() {
        let rest = head.get(line_start..).unwrap_or_default();
        let line_len = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or(rest.len());
        let line = rest.get(..line_len).unwrap_or_default();
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let name = line.get(..colon).unwrap_or_default();
        let slot = if name.eq_ignore_ascii_case(b"content-disposition") {
            &mut disposition
        } else if name.eq_ignore_ascii_case(b"content-type") {
            &mut content_type
        } else {
            line_start += line_len + 2;
            continue;
        };
        if slot.is_some() {
            return Err(MultipartError::RepeatedHeader);
        }
        // The value, without OWS around it.
        let mut start = line_start + colon + 1;
        let mut end = line_start + line_len;
        while start < end && head.get(start).copied().is_some_and(is_ows) {
            start += 1;
        }
        while end > start && head.get(end - 1).copied().is_some_and(is_ows) {
            end -= 1;
        }
        *slot = Some(Span { start, end });
        line_start += line_len + 2;
    }
    let disposition = disposition.ok_or(MultipartError::MissingContentDisposition)?;
    let (name, filename) = parse_disposition(head, disposition)?;
    if let Some(span) = content_type {
        check_content_type(span.of(head))?;
    }
    Ok(PartHead {
        name,
        filename,
        content_type,
    })
}

/// `form-data; name="..."; filename="..."` at `span` of `head`: the spans of the decoded
/// `name` and `filename`.
fn parse_disposition(head: &mut [u8], span: Span) -> Result<(Span, Option<Span>), MultipartError> {
    use MultipartError::InvalidContentDisposition as Invalid;
    let value = span.of(head);
    let type_end = token_end(value, 0);
    if type_end == 0 {
        return Err(Invalid);
    }
    let kind = value.get(..type_end).unwrap_or_default();
    let mut at = type_end;
    let (mut name, mut filename) = (None::<Param>, None::<Param>);
    loop {
        let param = match next_param(value, &mut at) {
            Ok(Some(param)) => param,
            Ok(None) => break,
            Err(()) => return Err(Invalid),
        };
        let key = param.name.of(value);
        let slot = if key.eq_ignore_ascii_case(b"name") {
            &mut name
        } else if key.eq_ignore_ascii_case(b"filename") {
            &mut filename
        } else {
            // `filename*` (RFC 7578 §4.2: senders MUST NOT use it) and extensions.
            continue;
        };
        if slot.is_some() {
            return Err(Invalid);
        }
        *slot = Some(param);
    }
    // The type is judged after the syntax: a malformed value is malformed whatever its type.
    if !kind.eq_ignore_ascii_case(b"form-data") {
        return Err(MultipartError::NotFormData);
    }
    let name = name.ok_or(MultipartError::MissingName)?;
    let mut decode = |param: Param| {
        let at = Span {
            start: span.start + param.value.start,
            end: span.start + param.value.end,
        };
        let at = if param.escaped {
            unescape(head, at)
        } else {
            at
        };
        match core::str::from_utf8(at.of(head)) {
            Ok(_) => Ok(at),
            Err(_) => Err(Invalid),
        }
    };
    let name = decode(name)?;
    let filename = filename.map(&mut decode).transpose()?;
    Ok((name, filename))
}

/// `type "/" subtype *( OWS ";" OWS parameter )`, UTF-8 (RFC 9110 §8.3.1).
fn check_content_type(value: &[u8]) -> Result<(), MultipartError> {
    let type_end = token_end(value, 0);
    let subtype_end = token_end(value, type_end + 1);
    let well_formed = type_end > 0
        && value.get(type_end) == Some(&b'/')
        && subtype_end > type_end + 1
        && core::str::from_utf8(value).is_ok();
    if !well_formed {
        return Err(MultipartError::InvalidContentType);
    }
    let mut at = subtype_end;
    loop {
        match next_param(value, &mut at) {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(()) => return Err(MultipartError::InvalidContentType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartError::*;

    #[test]
    fn boundary_rules() {
        let ok: [(&[u8], &[u8]); 9] = [
            (b"multipart/form-data; boundary=abc", b"abc"),
            (b"Multipart/Form-Data;boundary=abc", b"abc"),
            (b"multipart/form-data ; BOUNDARY=\"abc\"", b"abc"),
            (b"multipart/form-data; boundary=\"a b:c\"", b"a b:c"),
            (
                b"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWxk",
                b"----WebKitFormBoundary7MA4YWxk",
            ),
            (b"multipart/form-data; boundary=x; charset=\"a\\\"b\"", b"x"),
            (b"multipart/form-data; boundary=x  ", b"x"),
            (b"multipart/form-data; boundary=\"'()+_,-./:=?\"", b"'()+_,-./:=?"),
            (
                b"multipart/form-data; boundary=1234567890123456789012345678901234567890123456789012345678901234567890",
                b"1234567890123456789012345678901234567890123456789012345678901234567890",
            ),
        ];
        for (value, expected) in ok {
            assert_eq!(
                boundary(value),
                Ok(expected),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        let bad: [(&[u8], MultipartError); 17] = [
            (b"", NotMultipart),
            (b"text/plain; boundary=abc", NotMultipart),
            (b"multipart/mixed; boundary=abc", NotMultipart),
            (b"multipart/form-datax; boundary=abc", NotMultipart),
            (b"application/x-www-form-urlencoded", NotMultipart),
            (b"multipart/form-data", MissingBoundary),
            (b"multipart/form-data; charset=utf-8", MissingBoundary),
            (b"multipart/form-data; boundary=", InvalidBoundary),
            (b"multipart/form-data; boundary=\"\"", InvalidBoundary),
            (b"multipart/form-data; boundary=\"abc \"", InvalidBoundary),
            (b"multipart/form-data; boundary=a:b", InvalidBoundary),
            (b"multipart/form-data; boundary=a!b", InvalidBoundary),
            (b"multipart/form-data; boundary=\"a\\b\"", InvalidBoundary),
            (b"multipart/form-data; boundary=a; boundary=a", InvalidBoundary),
            (b"multipart/form-data; boundary = abc", InvalidBoundary),
            (b"multipart/form-data; boundary=\"abc", InvalidBoundary),
            (
                b"multipart/form-data; boundary=12345678901234567890123456789012345678901234567890123456789012345678901",
                InvalidBoundary,
            ),
        ];
        for (value, error) in bad {
            assert_eq!(
                boundary(value),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    fn part(head: &[u8]) -> Result<(String, Option<String>, Option<String>), MultipartError> {
        let mut buf = head.to_vec();
        let p = parse_part(&mut buf)?;
        Ok((
            p.name.str_of(&buf).to_string(),
            p.filename.map(|s| s.str_of(&buf).to_string()),
            p.content_type.map(|s| s.str_of(&buf).to_string()),
        ))
    }

    #[test]
    fn part_heads() {
        let s = |v: &str| v.to_string();
        assert_eq!(
            part(b"Content-Disposition: form-data; name=\"field\"\r\n"),
            Ok((s("field"), None, None))
        );
        assert_eq!(
            part(
                b"content-disposition:Form-Data;NAME=f;  filename=\"a \\\"b\\\\.txt\"  \r\n\
                  X-Other: x\r\nContent-Type:  application/octet-stream \r\n"
            ),
            Ok((
                s("f"),
                Some(s("a \"b\\.txt")),
                Some(s("application/octet-stream"))
            ))
        );
        assert_eq!(
            part(
                "Content-Disposition: form-data; name=\"é\"; filename=\"\"; filename*=x\r\n"
                    .as_bytes()
            ),
            Ok((s("é"), Some(s("")), None))
        );
        assert_eq!(
            part(b"Content-Disposition: form-data; name=\"\"\r\nContent-Type: text/plain; charset=utf-8\r\n"),
            Ok((s(""), None, Some(s("text/plain; charset=utf-8"))))
        );
        let bad: [(&[u8], MultipartError); 14] = [
            (b"", MissingContentDisposition),
            (b"Content-Type: text/plain\r\n", MissingContentDisposition),
            (b"Content-Disposition: attachment; name=a\r\n", NotFormData),
            (b"Content-Disposition: form-data\r\n", MissingName),
            (b"Content-Disposition: form-data; filename=a\r\n", MissingName),
            (b"Content-Disposition: form-data; name=a; name=b\r\n", InvalidContentDisposition),
            (b"Content-Disposition: form-data; name=\"a\r\n", InvalidContentDisposition),
            (b"Content-Disposition: form-data; name=a b\r\n", InvalidContentDisposition),
            (b"Content-Disposition: form-data; name = a\r\n", InvalidContentDisposition),
            (b"Content-Disposition: ; name=a\r\n", InvalidContentDisposition),
            (b"Content-Disposition: form-data; name=\"\xff\"\r\n", InvalidContentDisposition),
            (
                b"Content-Disposition: form-data; name=a\r\ncontent-disposition: form-data; name=a\r\n",
                RepeatedHeader,
            ),
            (
                b"Content-Disposition: form-data; name=a\r\nContent-Type: text\r\n",
                InvalidContentType,
            ),
            (
                b"Content-Type: a/b\r\nContent-Type: a/b\r\nContent-Disposition: form-data; name=a\r\n",
                RepeatedHeader,
            ),
        ];
        for (head, error) in bad {
            assert_eq!(
                part(head),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }
}
