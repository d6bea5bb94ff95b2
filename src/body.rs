//! Body framing: decided once, from the head, before a single body byte is read.
//!
//! RFC 9112 §6.3 gives the order: Transfer-Encoding wins over Content-Length, and a request
//! with neither has no body. Anything ambiguous (both headers, disagreeing or malformed
//! lengths) is refused, because a server and a proxy that read it differently is how requests
//! get smuggled. Chunked bodies are not decoded yet: they are refused with 501.

use crate::error::Error;
use crate::request::{Header, Version};

/// How the request body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body: neither Content-Length nor Transfer-Encoding was sent.
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
}

impl Framing {
    /// Decide the framing from the request's headers (RFC 9112 §6.1, §6.3; RFC 9110 §8.6).
    pub fn from_headers(version: Version, headers: &[Header<'_>]) -> Result<Framing, Error> {
        let mut length: Option<u64> = None;
        let mut transfer_encoding = false;
        for h in headers {
            if h.name.eq_ignore_ascii_case("content-length") {
                // A list of identical values is allowed to stand for one (RFC 9110 §8.6);
                // repeated fields are treated as one list.
                for item in h.value.split(|&b| b == b',') {
                    let n = parse_content_length(item.trim_ascii())?;
                    if length.is_some_and(|seen| seen != n) {
                        return Err(Error::InvalidContentLength);
                    }
                    length = Some(n);
                }
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                transfer_encoding = true;
            }
        }
        match (transfer_encoding, length) {
            (true, Some(_)) => Err(Error::ContentLengthWithTransferEncoding),
            (true, None) if version == Version::Http10 => Err(Error::TransferEncodingInHttp10),
            (true, None) => Err(Error::UnsupportedTransferEncoding),
            (false, Some(n)) => Ok(Framing::Length(n)),
            (false, None) => Ok(Framing::None),
        }
    }
}

/// Parse a Content-Length value: one or more ASCII digits, nothing else (`1*DIGIT`, RFC 9110
/// §8.6). Hand-written because `str::parse` accepts a leading `+`; overflow is an error, not a
/// wrap.
pub fn parse_content_length(value: &[u8]) -> Result<u64, Error> {
    if value.is_empty() {
        return Err(Error::InvalidContentLength);
    }
    let mut n: u64 = 0;
    for &b in value {
        if !b.is_ascii_digit() {
            return Err(Error::InvalidContentLength);
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(b - b'0')))
            .ok_or(Error::InvalidContentLength)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Header;

    fn framing(
        version: Version,
        pairs: &[(&'static str, &'static [u8])],
    ) -> Result<Framing, Error> {
        let headers: Vec<Header<'static>> = pairs
            .iter()
            .map(|&(name, value)| Header { name, value })
            .collect();
        Framing::from_headers(version, &headers)
    }

    #[test]
    fn content_length_digits_only() {
        assert_eq!(parse_content_length(b"0"), Ok(0));
        assert_eq!(parse_content_length(b"0042"), Ok(42));
        assert_eq!(parse_content_length(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b""[..],
            b"+1",
            b"-1",
            b"1 2",
            b"0x10",
            b"1a",
            b" 1",
            b"18446744073709551616",
            b"99999999999999999999999",
        ] {
            assert_eq!(
                parse_content_length(bad),
                Err(Error::InvalidContentLength),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn framing_rules() {
        use Version::*;
        assert_eq!(framing(Http11, &[]), Ok(Framing::None));
        assert_eq!(
            framing(Http11, &[("Content-Length", b"5")]),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing(
                Http11,
                &[("content-length", b"5, 5"), ("Content-Length", b"5")]
            ),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            framing(
                Http11,
                &[("Content-Length", b"5"), ("Content-Length", b"6")]
            ),
            Err(Error::InvalidContentLength)
        );
        assert_eq!(
            framing(Http11, &[("Content-Length", b"5,")]),
            Err(Error::InvalidContentLength)
        );
        assert_eq!(
            framing(
                Http11,
                &[("Content-Length", b"5"), ("Transfer-Encoding", b"chunked")]
            ),
            Err(Error::ContentLengthWithTransferEncoding)
        );
        assert_eq!(
            framing(Http10, &[("Transfer-Encoding", b"chunked")]),
            Err(Error::TransferEncodingInHttp10)
        );
        assert_eq!(
            framing(Http11, &[("Transfer-Encoding", b"chunked")]),
            Err(Error::UnsupportedTransferEncoding)
        );
    }
}
