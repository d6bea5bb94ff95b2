//! Content negotiation and conditional and range requests for an [`Asset`]: which
//! representation `Accept-Encoding` selects (RFC 9110 §12.5.3), whether `If-None-Match`
//! matches its tag (§13.1.2), and what a `Range` asks of it (§14), checked arithmetic
//! throughout.

use super::Asset;
use crate::wire::syntax::{list_items, write_decimal};

/// The representation `Accept-Encoding` selects: its bytes, its tag and whether it is the
/// gzip copy; `None` if identity is refused and there is no acceptable copy.
pub(super) fn select(
    asset: &Asset,
    accept: Option<&[u8]>,
) -> Option<(&'static [u8], &'static str, bool)> {
    let (gzip_q, identity_q) = match accept {
        None => (0, 1000),
        Some(value) => {
            let w = weights(value);
            (
                w.gzip.or(w.any).unwrap_or(0),
                w.identity.or(w.any).unwrap_or(1000),
            )
        }
    };
    match asset.gzip {
        Some(gzip) if gzip_q > 0 && gzip_q >= identity_q => Some((gzip.body, gzip.etag, true)),
        _ if identity_q > 0 => Some((asset.body, asset.etag, false)),
        _ => None,
    }
}

/// The weights (in thousandths) an `Accept-Encoding` value gives gzip, identity and `*`;
/// the first entry for each counts, and an entry whose q-value does not parse is ignored.
#[derive(Debug, Default, PartialEq, Eq)]
struct Weights {
    gzip: Option<u16>,
    identity: Option<u16>,
    any: Option<u16>,
}

fn weights(value: &[u8]) -> Weights {
    let mut w = Weights::default();
    for item in list_items(value) {
        let mut parts = item.split(|&b| b == b';');
        let coding = parts.next().unwrap_or_default().trim_ascii();
        let mut q = Some(1000);
        for param in parts {
            let mut kv = param.splitn(2, |&b| b == b'=');
            let name = kv.next().unwrap_or_default().trim_ascii();
            if name.eq_ignore_ascii_case(b"q") {
                q = kv.next().and_then(|v| qvalue(v.trim_ascii()));
            }
        }
        let (Some(q), false) = (q, coding.is_empty()) else {
            continue;
        };
        let slot = if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
        {
            &mut w.gzip
        } else if coding.eq_ignore_ascii_case(b"identity") {
            &mut w.identity
        } else if coding == b"*" {
            &mut w.any
        } else {
            continue;
        };
        slot.get_or_insert(q);
    }
    w
}

/// A `qvalue` (RFC 9110 §12.4.2: `0`, `0.5`, `0.125`, `1`, `1.000`) in thousandths.
fn qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v {
        [int] => (*int, &[][..]),
        [int, b'.', frac @ ..] if frac.len() <= 3 => (*int, frac),
        _ => return None,
    };
    let mut thousandths: u16 = 0;
    let mut scale: u16 = 100;
    for &d in frac {
        if !d.is_ascii_digit() {
            return None;
        }
        thousandths = thousandths.checked_add(u16::from(d - b'0').checked_mul(scale)?)?;
        scale /= 10;
    }
    match int {
        b'0' => Some(thousandths),
        b'1' if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether an `If-None-Match` value matches `etag` (quoted) by weak comparison (RFC 9110
/// §8.8.3.2), or is `*`. A list that does not parse matches nothing past where it breaks.
pub(super) fn none_match(value: &[u8], etag: &str) -> bool {
    let value = value.trim_ascii();
    if value == b"*" {
        return true;
    }
    let etag = etag.as_bytes();
    let mut rest = value;
    loop {
        rest = rest.trim_ascii_start();
        match rest {
            [] => return false,
            [b',', next @ ..] => rest = next,
            _ => {
                let tag = rest.strip_prefix(b"W/").unwrap_or(rest);
                let Some(end) = tag
                    .strip_prefix(b"\"")
                    .and_then(|t| t.iter().position(|&b| b == b'"'))
                else {
                    return false;
                };
                // The tag with both quotes: `end` counts from after the opening one.
                let (quoted, next) = tag.split_at(end + 2);
                if quoted == etag {
                    return true;
                }
                rest = next.trim_ascii_start();
                if !(rest.is_empty() || rest.starts_with(b",")) {
                    return false;
                }
            }
        }
    }
}

/// What a `Range` header asks of a representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Range {
    /// Send it all (no range, an invalid one, or several).
    Whole,
    /// Bytes `first..=last`, both within it.
    Single(u64, u64),
    /// No range overlaps it.
    Unsatisfiable,
}

/// Parse a `Range` value for a representation of `len` bytes (RFC 9110 §14.1.2).
pub(super) fn parse_range(value: &[u8], len: u64) -> Range {
    let Some(set) = value
        .split_at_checked(6)
        .and_then(|(unit, set)| unit.eq_ignore_ascii_case(b"bytes=").then_some(set))
    else {
        return Range::Whole;
    };
    let mut first_satisfiable = None;
    let mut satisfiable: u32 = 0;
    let mut ranges: u32 = 0;
    for item in list_items(set) {
        if item.is_empty() {
            continue;
        }
        ranges = ranges.saturating_add(1);
        let Some(dash) = item.iter().position(|&b| b == b'-') else {
            return Range::Whole;
        };
        let (a, b) = (&item[..dash], &item[dash + 1..]);
        let range = if a.is_empty() {
            // The last `n` bytes.
            let Some(n) = digits(b) else {
                return Range::Whole;
            };
            (n > 0 && len > 0).then(|| (len - n.min(len), len - 1))
        } else {
            let Some(first) = digits(a) else {
                return Range::Whole;
            };
            let last = if b.is_empty() {
                u64::MAX
            } else {
                match digits(b) {
                    Some(last) if last >= first => last,
                    _ => return Range::Whole,
                }
            };
            (first < len).then(|| (first, last.min(len - 1)))
        };
        if let Some(range) = range {
            satisfiable = satisfiable.saturating_add(1);
            first_satisfiable.get_or_insert(range);
        }
    }
    match (ranges, satisfiable, first_satisfiable) {
        (0, _, _) => Range::Whole,
        (_, 0, _) => Range::Unsatisfiable,
        (_, 1, Some((first, last))) => Range::Single(first, last),
        _ => Range::Whole,
    }
}

/// A decimal number of one or more digits; past `u64::MAX` it stays there ("past any end").
fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &d in s {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
    }
    Some(n)
}

/// `bytes first-last/len`, or `bytes */len` for no range; returns the length written.
pub(super) fn write_content_range(out: &mut [u8], range: Option<(u64, u64)>, len: u64) -> usize {
    let mut n = 0;
    let mut put = |out: &mut [u8], bytes: &[u8]| {
        if let Some(dst) = out.get_mut(n..n + bytes.len()) {
            dst.copy_from_slice(bytes);
            n += bytes.len();
        }
    };
    let mut num = [0u8; 20];
    put(out, b"bytes ");
    match range {
        Some((first, last)) => {
            let k = write_decimal(first, &mut num).unwrap_or(0);
            put(out, &num[..k]);
            put(out, b"-");
            let k = write_decimal(last, &mut num).unwrap_or(0);
            put(out, &num[..k]);
        }
        None => put(out, b"*"),
    }
    put(out, b"/");
    let k = write_decimal(len, &mut num).unwrap_or(0);
    put(out, &num[..k]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues() {
        for (v, q) in [
            (&b"0"[..], Some(0)),
            (b"0.", Some(0)),
            (b"0.5", Some(500)),
            (b"0.125", Some(125)),
            (b"0.001", Some(1)),
            (b"1", Some(1000)),
            (b"1.000", Some(1000)),
            (b"1.001", None),
            (b"0.1234", None),
            (b"2", None),
            (b".5", None),
            (b"", None),
            (b"0.5x", None),
            (b"+1", None),
        ] {
            assert_eq!(qvalue(v), q, "{:?}", core::str::from_utf8(v));
        }
    }

    #[test]
    fn accept_encoding_weights() {
        let w = weights(b"gzip;q=0.5, identity ; Q=0, *;q=0.1, gzip;q=1, br");
        assert_eq!(
            w,
            Weights {
                gzip: Some(500),
                identity: Some(0),
                any: Some(100)
            }
        );
        // An unparsable q-value drops its entry only.
        assert_eq!(weights(b"gzip;q=x, X-GZIP;q=0.2").gzip, Some(200));
        assert_eq!(weights(b"").gzip, None);
    }

    #[test]
    fn ranges() {
        use Range::*;
        for (v, len, want) in [
            (&b"bytes=0-4"[..], 10, Single(0, 4)),
            (b"bytes=5-", 10, Single(5, 9)),
            (b"bytes=-3", 10, Single(7, 9)),
            (b"bytes=-30", 10, Single(0, 9)),
            (b"bytes=2-200", 10, Single(2, 9)),
            (b"BYTES=2-2", 10, Single(2, 2)),
            (b"bytes=10-", 10, Unsatisfiable),
            (b"bytes=-0", 10, Unsatisfiable),
            (b"bytes=0-", 0, Unsatisfiable),
            (b"bytes=-1", 0, Unsatisfiable),
            (b"bytes=5-3", 10, Whole),
            (b"bytes=a-3", 10, Whole),
            (b"bytes=3", 10, Whole),
            (b"bytes=", 10, Whole),
            (b"items=0-1", 10, Whole),
            (b"bytes = 0-1", 10, Whole),
            (b"bytes=0-1,2-3", 10, Whole),
            (b"bytes=0-1, 20-30", 10, Single(0, 1)),
            (b"bytes=20-30, 40-", 10, Unsatisfiable),
            (b"bytes=0-99999999999999999999999", 10, Single(0, 9)),
            (b"bytes=99999999999999999999999-", 10, Unsatisfiable),
            (b"bytes=-99999999999999999999999", 10, Single(0, 9)),
            (b"bytes=99999999999999999999999-5", 10, Whole),
            (b"bytes=0--1", 10, Whole),
            (b"bytes=,0-1,", 10, Single(0, 1)),
        ] {
            assert_eq!(parse_range(v, len), want, "{:?}", core::str::from_utf8(v));
        }
    }

    #[test]
    fn etag_lists() {
        let e = "\"abc\"";
        for (v, m) in [
            (&b"\"abc\""[..], true),
            (b"W/\"abc\"", true),
            (b"*", true),
            (b" \"x\", W/\"abc\" ", true),
            (b"\"x\",,\"abc\"", true),
            (b"\"abcd\"", false),
            (b"abc", false),
            (b"\"x\" \"abc\"", false),
            (b"\"a,b\", \"abc\"", true),
            (b"\"abc", false),
            (b"", false),
            (b"w/\"abc\"", false),
        ] {
            assert_eq!(none_match(v, e), m, "{:?}", core::str::from_utf8(v));
        }
    }
}
