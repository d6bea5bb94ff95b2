//! Request-target helpers: percent-decoding, path normalisation, query and form pairs.
//!
//! All of them write into a caller's buffer and return a `&str` in it; none allocates. The
//! router matches raw paths; these are for handlers that need the decoded form, and for
//! serving files, where [`normalize_path`] guarantees the result stays under the root.

use crate::error::Error;
use crate::wire::syntax::hex_value;

/// Percent-decode `raw` (RFC 3986 §2.1) into `out`. Refuses bad escapes (`%zz`, a `%` with
/// fewer than two hex digits), `%00`, and results that are not UTF-8 ([`Error::InvalidPath`]);
/// [`Error::UriTooLong`] if `out` is too small.
pub fn percent_decode<'o>(raw: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
    decode_into(raw.as_bytes(), false, out)
}

/// Like [`percent_decode`], but also turns `+` into a space, as HTML forms encode
/// (`application/x-www-form-urlencoded`).
pub fn form_decode<'o>(raw: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
    decode_into(raw.as_bytes(), true, out)
}

fn decode_into<'o>(raw: &[u8], plus_is_space: bool, out: &'o mut [u8]) -> Result<&'o str, Error> {
    let mut len = 0;
    let mut i = 0;
    while i < raw.len() {
        let byte = match raw[i] {
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(Error::InvalidPath);
                };
                i += 2;
                match hi << 4 | lo {
                    0 => return Err(Error::InvalidPath),
                    b => b,
                }
            }
            b'+' if plus_is_space => b' ',
            b => b,
        };
        *out.get_mut(len).ok_or(Error::UriTooLong)? = byte;
        len += 1;
        i += 1;
    }
    core::str::from_utf8(&out[..len]).map_err(|_| Error::InvalidPath)
}

/// Decode and normalise a raw request path into `out`: an absolute path with no empty, `.`
/// or `..` segments, that no input can lead above `/`.
///
/// - The raw path is split on `/` before decoding, so `%2f` cannot make a separator; a
///   segment that decodes to contain `/`, `\` or a control byte is refused, as are raw `\`.
/// - `.` segments (also `%2e`) are dropped; `..` (also `%2e%2e`, `.%2e`) removes the previous
///   segment, and at the root stays at the root (RFC 3986 §5.2.4).
/// - Empty segments (`//`) are dropped; a trailing `/` is kept (`/docs/` stays a directory).
///
/// Errors: [`Error::InvalidPath`] for bad escapes, `%00`, non-UTF-8, or the bytes above;
/// [`Error::UriTooLong`] if `out` is too small. `*` or a path not starting with `/` is
/// refused.
pub fn normalize_path<'o>(raw: &str, out: &'o mut [u8]) -> Result<&'o str, Error> {
    if !raw.starts_with('/') || raw.contains('\\') {
        return Err(Error::InvalidPath);
    }
    let mut len = 0;
    let mut ends_with_slash = false;
    for raw_segment in raw[1..].split('/') {
        ends_with_slash = raw_segment.is_empty();
        if raw_segment.is_empty() {
            continue;
        }
        // Decode the segment in place after its '/', then decide whether to keep it.
        let (slash, rest) = out
            .get_mut(len..)
            .and_then(|tail| tail.split_first_mut())
            .ok_or(Error::UriTooLong)?;
        *slash = b'/';
        let segment = percent_decode(raw_segment, rest)?;
        if segment
            .bytes()
            .any(|b| b == b'/' || b == b'\\' || b < 0x20 || b == 0x7f)
        {
            return Err(Error::InvalidPath);
        }
        match segment {
            "." => ends_with_slash = true,
            ".." => {
                // Drop the last segment of the output: back to the previous '/'.
                len = out[..len].iter().rposition(|&b| b == b'/').unwrap_or(0);
                ends_with_slash = true;
            }
            _ => len += 1 + segment.len(),
        }
    }
    if len == 0 || ends_with_slash {
        *out.get_mut(len).ok_or(Error::UriTooLong)? = b'/';
        len += 1;
    }
    core::str::from_utf8(&out[..len]).map_err(|_| Error::InvalidPath)
}

/// The `name=value` pairs of a query string or form body, split on `&` and raw (still
/// encoded): decode what you use with [`form_decode`]. Pairs without `=` have an empty
/// value.
pub fn form_pairs(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// The raw value of the first pair named `name` (compared raw) in a query string or form body.
pub fn form_value<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    form_pairs(raw).find(|&(n, _)| n == name).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Result<String, Error> {
        let mut out = [0u8; 128];
        normalize_path(raw, &mut out).map(str::to_string)
    }

    #[test]
    fn decoding() {
        let mut out = [0u8; 32];
        assert_eq!(percent_decode("a%20b%2Fc", &mut out), Ok("a b/c"));
        assert_eq!(percent_decode("caf%C3%A9", &mut out), Ok("café"));
        assert_eq!(form_decode("a+b%2B", &mut out), Ok("a b+"));
        assert_eq!(percent_decode("a+b", &mut out), Ok("a+b"));
        for bad in ["%", "%2", "%zz", "%2g", "a%00b", "%ff", "%C3"] {
            assert_eq!(
                percent_decode(bad, &mut out),
                Err(Error::InvalidPath),
                "{bad}"
            );
        }
        assert_eq!(percent_decode("abc", &mut [0u8; 2]), Err(Error::UriTooLong));
    }

    #[test]
    fn normalisation() {
        let ok = [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("//a///b", "/a/b"),
            ("/a/./b", "/a/b"),
            ("/a/../b", "/b"),
            ("/a/b/..", "/a/"),
            ("/..", "/"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/%2e%2e/%2E%2E/b", "/b"),
            ("/a/.%2e/b", "/b"),
            ("/%2e/a", "/a"),
            ("/a%20b/c", "/a b/c"),
            ("/...", "/..."),
            ("/a..b", "/a..b"),
        ];
        for (raw, expected) in ok {
            assert_eq!(norm(raw).as_deref(), Ok(expected), "{raw}");
        }
        for bad in [
            "/a%2fb",
            "/a%2F..%2F..%2Fetc",
            "/a\\b",
            "/a%5cb",
            "/..%5c..%5cwin.ini",
            "/a%00",
            "/a%0a",
            "/a%zz",
            "a/b",
            "*",
            "",
        ] {
            assert_eq!(norm(bad), Err(Error::InvalidPath), "{bad}");
        }
        assert_eq!(
            normalize_path("/abc/def", &mut [0u8; 4]),
            Err(Error::UriTooLong)
        );
    }

    #[test]
    fn form_helpers() {
        let q = "a=1&b=x%20y&flag&&c=";
        assert_eq!(
            form_pairs(q).collect::<Vec<_>>(),
            [("a", "1"), ("b", "x%20y"), ("flag", ""), ("c", "")]
        );
        assert_eq!(form_value(q, "b"), Some("x%20y"));
        assert_eq!(form_value(q, "z"), None);
    }
}
