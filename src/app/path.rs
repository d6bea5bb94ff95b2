//! Route patterns and path parameters, without allocation.
//!
//! A route's pattern is a `&'static str` — a literal path (`/api/leds`), or a prefix when it
//! ends in `*` (`/static/*`) — or, for parameters, [`params`]`("/api/leds/{id:u8}")`. The
//! two are different types so that a router without parameters carries no parameter
//! matching (firmware pays only for what it uses).
//!
//! A [`params`] pattern is a path whose segments are literal (`leds`), a parameter (`{id}`: any
//! non-empty segment; `{id:u8}`: a canonical number of that type); or the pattern ends in
//! `*` and matches every path that starts with what precedes it (a prefix route, literal
//! only). A value that is not canonical for its type — a
//! sign (`+1`), a leading zero (`01`), an empty segment, a number out of range — does not
//! match, so the router answers 404 for it, as for any path it does not know.
//!
//! Types: `str` (the default), `u8`, `u16`, `u32`, `u64`, `usize`, `i8`, `i16`, `i32`,
//! `i64`. A handler reads a parameter with [`crate::Request::param`], parsed to its own type
//! with the same canonical rules ([`PathParam`]).
//!
//! Trailing slashes are not trimmed: `/leds` and `/leds/` are different paths, and a pattern
//! matches only the one it spells.

use crate::wire::Request;

/// What a route matches: a `&'static str` (literal, or a prefix ending in `*`) or
/// [`Params`].
pub trait Pattern: Copy {
    /// Whether it has parameters: a router whose patterns have none (and that nests no
    /// router) dispatches in one pass, first match first, as firmware without parameters
    /// needs no more.
    const PARAMS: bool;
    /// How specific it is (the router's precedence).
    fn specificity(&self) -> Specificity;
    /// Whether it matches `path`.
    fn matches(&self, path: &str) -> bool;
    /// The pattern as written.
    fn as_str(&self) -> &'static str;
    /// `req` as this pattern routes it, if it keeps something in it (a parameter pattern
    /// keeps itself, for [`crate::Request::param`]).
    fn route<'a>(&self, _req: &Request<'a>) -> Option<Request<'a>> {
        None
    }
}

impl Pattern for &'static str {
    const PARAMS: bool = false;
    fn specificity(&self) -> Specificity {
        if self.ends_with('*') {
            Specificity::Prefix
        } else {
            Specificity::Literal
        }
    }
    fn matches(&self, path: &str) -> bool {
        match self.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => *self == path,
        }
    }
    fn as_str(&self) -> &'static str {
        self
    }
}

/// A pattern with parameters (`/api/leds/{id:u8}`); see the [module docs](self).
#[cfg(feature = "params")]
#[cfg_attr(docsrs, doc(cfg(feature = "params")))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params(&'static str);

/// A pattern with parameters: `params("/api/leds/{id:u8}")`. (A plain `&str` pattern
/// matches `{` literally: in debug builds, [`crate::Router::route`] refuses one.)
#[cfg(feature = "params")]
#[cfg_attr(docsrs, doc(cfg(feature = "params")))]
pub const fn params(pattern: &'static str) -> Params {
    Params(pattern)
}

#[cfg(feature = "params")]
impl Pattern for Params {
    const PARAMS: bool = true;
    fn specificity(&self) -> Specificity {
        Specificity::Params
    }
    fn matches(&self, path: &str) -> bool {
        matches(self.0, path)
    }
    fn as_str(&self) -> &'static str {
        self.0
    }
    fn route<'a>(&self, req: &Request<'a>) -> Option<Request<'a>> {
        Some(req.routed(self.0))
    }
}

/// The router's precedence: literal paths, then [`params`] patterns, then prefixes (`*`)
/// and nested routers ([`crate::Router::nest`]), whatever order they were added in; among
/// equals, the first added. (A router with neither parameters nor nested routers simply
/// takes the first match in the order added, which firmware keeps for its size.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Specificity {
    /// A literal path.
    Literal,
    /// A [`params`] pattern.
    Params,
    /// A prefix ending in `*`, or a nested router.
    Prefix,
}

#[cfg(feature = "params")]
impl<'a> Request<'a> {
    /// A path parameter of the route that matched (`{id}` in `/api/leds/{id:u8}`), parsed
    /// canonically as `T` (see [`crate::path`]); `None` if there is no such parameter or it
    /// does not parse as `T`.
    ///
    /// ```
    /// # #[cfg(feature = "params")] {
    /// use embedded_responder::{get, path::params, Router, Status};
    ///
    /// let app = Router::new().route(
    ///     params("/api/leds/{id:u8}"),
    ///     get(|req, res| match req.param::<u8>("id") {
    ///         Some(id) if id < 4 => res.text("an LED"),
    ///         _ => res.status(Status::NOT_FOUND),
    ///     }),
    /// );
    /// # let _ = app; }
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "params")))]
    pub fn param<T: PathParam<'a>>(&self, name: &str) -> Option<T> {
        T::parse_segment(param(self.route(), self.route_path(), name)?)
    }
}

#[cfg(feature = "params")]
/// Whether `path` matches `pattern` (see the module docs). Malformed patterns (an unclosed
/// `{`, an unknown type) match nothing.
fn matches(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('*') {
        // Literal prefixes only (parameters in a prefix route are not supported).
        return path.starts_with(prefix);
    }
    if !pattern.contains('{') {
        return pattern == path;
    }
    let (mut pat, mut rest) = (pattern.split('/'), path.split('/'));
    loop {
        match (pat.next(), rest.next()) {
            (None, None) => return true,
            (Some(p), Some(segment)) => {
                let ok = match param_spec(p) {
                    Some((_, kind)) => valid(kind, segment),
                    None => p == segment && !p.contains(['{', '}']),
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

#[cfg(feature = "params")]
/// The value of parameter `name` in `path`, matched by `pattern`.
pub(crate) fn param<'p>(pattern: &str, path: &'p str, name: &str) -> Option<&'p str> {
    let pattern = pattern.strip_suffix('*').unwrap_or(pattern);
    pattern
        .split('/')
        .zip(path.split('/'))
        .find_map(|(p, segment)| match param_spec(p) {
            Some((n, _)) if n == name => Some(segment),
            _ => None,
        })
}

#[cfg(feature = "params")]
/// `{name}` or `{name:type}`: the name and the type (`str` by default).
fn param_spec(segment: &str) -> Option<(&str, &str)> {
    let inner = segment.strip_prefix('{')?.strip_suffix('}')?;
    Some(match inner.split_once(':') {
        Some((name, kind)) => (name, kind),
        None => (inner, "str"),
    })
}

#[cfg(feature = "params")]
/// Whether `segment` is a canonical value of the pattern type `kind` (one range check for
/// every integer type, rather than each type's parser linked).
fn valid(kind: &str, segment: &str) -> bool {
    let (signed, bits) = match kind {
        "str" => return !segment.is_empty(),
        "u8" => (false, 8),
        "u16" => (false, 16),
        "u32" => (false, 32),
        "u64" => (false, 64),
        "usize" => (false, usize::BITS),
        "i8" => (true, 8),
        "i16" => (true, 16),
        "i32" => (true, 32),
        "i64" => (true, 64),
        _ => return false,
    };
    let (negative, digits) = match segment.strip_prefix('-') {
        Some(digits) if signed => (true, digits),
        _ => (false, segment),
    };
    let Some(n) = unsigned(digits) else {
        return false;
    };
    // The magnitude's bound: 2^bits - 1 unsigned; 2^(bits-1) - 1, or 2^(bits-1) negative.
    let max = match (signed, negative) {
        (false, _) => u64::MAX >> (64 - bits),
        (true, false) => u64::MAX >> (65 - bits),
        (true, true) => 1u64 << (bits - 1),
    };
    n <= max && !(negative && n == 0)
}

/// A type a path parameter parses to, canonically: numbers in decimal with no `+`, no
/// leading zero (`0` itself is fine) and no `-0`, within range; `&str` any non-empty
/// segment (still percent-encoded, see [`crate::target::percent_decode`]).
pub trait PathParam<'a>: Sized {
    /// The value of `segment`, if it is canonical for this type.
    fn parse_segment(segment: &'a str) -> Option<Self>;
}

impl<'a> PathParam<'a> for &'a str {
    fn parse_segment(segment: &'a str) -> Option<Self> {
        (!segment.is_empty()).then_some(segment)
    }
}

/// Canonical unsigned decimal digits: no sign, no leading zero but `0`, no overflow.
fn unsigned(digits: &str) -> Option<u64> {
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, &b| {
        let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

macro_rules! unsigned_params {
    ($($t:ty),*) => {$(
        impl<'a> PathParam<'a> for $t {
            fn parse_segment(segment: &'a str) -> Option<Self> {
                <$t>::try_from(unsigned(segment)?).ok()
            }
        }
    )*};
}
unsigned_params!(u8, u16, u32, u64, usize);

macro_rules! signed_params {
    ($($t:ty),*) => {$(
        impl<'a> PathParam<'a> for $t {
            fn parse_segment(segment: &'a str) -> Option<Self> {
                match segment.strip_prefix('-') {
                    Some(digits) => {
                        let n = unsigned(digits)?;
                        if n == 0 {
                            return None; // `-0` is not canonical
                        }
                        let n = i128::from(n).checked_neg()?;
                        <$t>::try_from(n).ok()
                    }
                    None => <$t>::try_from(unsigned(segment)?).ok(),
                }
            }
        }
    )*};
}
signed_params!(i8, i16, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_numbers_only() {
        for (s, want) in [
            ("0", Some(0u8)),
            ("3", Some(3)),
            ("255", Some(255)),
            ("256", None),
            ("+1", None),
            ("01", None),
            ("00", None),
            ("", None),
            ("-1", None),
            (" 1", None),
            ("1 ", None),
            ("1e2", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(u8::parse_segment(s), want, "{s:?}");
        }
        assert_eq!(i8::parse_segment("-128"), Some(-128));
        assert_eq!(i8::parse_segment("-129"), None);
        assert_eq!(i8::parse_segment("-0"), None);
        assert_eq!(i8::parse_segment("--1"), None);
        assert_eq!(i64::parse_segment("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(<&str>::parse_segment(""), None);
    }

    #[test]
    #[cfg(feature = "params")]
    fn the_matcher_agrees_with_the_parsers() {
        let samples = [
            "0",
            "1",
            "-1",
            "-0",
            "+1",
            "01",
            "127",
            "128",
            "-128",
            "-129",
            "255",
            "256",
            "32767",
            "32768",
            "-32768",
            "65535",
            "65536",
            "2147483647",
            "2147483648",
            "-2147483648",
            "4294967295",
            "4294967296",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "",
            "x",
            "1x",
        ];
        for s in samples {
            assert_eq!(valid("u8", s), u8::parse_segment(s).is_some(), "u8 {s}");
            assert_eq!(valid("u16", s), u16::parse_segment(s).is_some(), "u16 {s}");
            assert_eq!(valid("u32", s), u32::parse_segment(s).is_some(), "u32 {s}");
            assert_eq!(valid("u64", s), u64::parse_segment(s).is_some(), "u64 {s}");
            assert_eq!(
                valid("usize", s),
                usize::parse_segment(s).is_some(),
                "usize {s}"
            );
            assert_eq!(valid("i8", s), i8::parse_segment(s).is_some(), "i8 {s}");
            assert_eq!(valid("i16", s), i16::parse_segment(s).is_some(), "i16 {s}");
            assert_eq!(valid("i32", s), i32::parse_segment(s).is_some(), "i32 {s}");
            assert_eq!(valid("i64", s), i64::parse_segment(s).is_some(), "i64 {s}");
        }
    }

    #[test]
    #[cfg(feature = "params")]
    fn patterns() {
        assert!(matches("/api/leds/{id:u8}", "/api/leds/3"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds/+1"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds/01"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds/"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds/3/"));
        assert!(!matches("/api/leds/{id:u8}", "/api/leds/3/x"));
        assert!(matches("/a/{x}/b", "/a/anything/b"));
        assert!(!matches("/a/{x}/b", "/a//b"));
        assert!(
            !matches("/a/{x:u9}/b", "/a/1/b"),
            "unknown type matches nothing"
        );
        assert!(
            !matches("/a/{x", "/a/{x"),
            "malformed pattern matches nothing"
        );
        assert!(matches("/static/*", "/static/x.css"));
        assert!(matches("/static/*", "/static/"));
        assert!(!matches("/static/*", "/static"));
        assert!(!matches("/static/*", "/staticx"));
        assert!(matches("/a", "/a"));
        assert!(!matches("/a", "/a/"));
        assert_eq!(param("/api/leds/{id:u8}", "/api/leds/3", "id"), Some("3"));
        assert_eq!(param("/u/{name}/p/{n:u32}", "/u/bob/p/7", "n"), Some("7"));
        assert_eq!(
            param("/u/{name}/p/{n:u32}", "/u/bob/p/7", "name"),
            Some("bob")
        );
        assert_eq!(param("/u/{name}", "/u/bob", "nope"), None);
    }
}
