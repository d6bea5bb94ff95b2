//! Cookies (RFC 6265): read one by name from the request's `Cookie` headers ([`cookie`]),
//! and set one with a builder ([`SetCookie`]) that refuses what would break the header.
//!
//! Reading follows RFC 6265 §4.2 and §5.4, leniently as servers should: every `Cookie`
//! header counts (HTTP/1.1 clients send one, proxies may split it), pairs are separated by
//! `;` with optional spaces, names are compared exactly (they are case-sensitive), a value in
//! double quotes comes without them, and pairs without `=` are skipped. When a name appears
//! more than once the first wins: clients list the cookie with the longest `Path` first.
//!
//! Setting: [`SetCookie`] checks its parts when it is written ([`ResponseHead::set_cookie`],
//! [`SetCookie::render`]) or asked ([`SetCookie::check`]): the name must be a token, the
//! value and `Path` *cookie-octets* (visible ASCII but `"`, `,`, `;`, `\`; no space or
//! control byte), `Path` must start with `/`, `Domain` be a host name, `SameSite=None` come
//! with `Secure`, and the `__Secure-` / `__Host-` name prefixes follow their rules (RFC 6265bis
//! §4.1.3), since browsers drop cookies that break them. A refused cookie written into a
//! response makes it a 500 whose reason the log shows ([`crate::Failure::InvalidHeader`]);
//! [`SetCookie::check`] says which rule, for a handler that wants to answer otherwise.
//!
//! ```
//! use embedded_responder::cookie::{cookie, SameSite, SetCookie};
//! use embedded_responder::{get, Router, Status};
//!
//! let app = Router::new().route(
//!     "/",
//!     get(|req, res| match cookie(req, "session") {
//!         Some(_session) => res.text("welcome back"),
//!         None => {
//!             let session = SetCookie::new("session", "abc123")
//!                 .path("/")
//!                 .max_age(3600)
//!                 .http_only()
//!                 .secure()
//!                 .same_site(SameSite::Strict);
//!             // Set-Cookie: session=abc123; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict
//!             res.start(Status::OK).set_cookie(&session).body(b"hello\n")
//!         }
//!     }),
//! );
//! # let _ = app;
//! ```

use crate::error::Failure;
use crate::handler::ResponseHead;
use crate::wire::syntax::{is_token, write_decimal};
use crate::wire::Request;

/// The value of the first cookie named `name` in `req`'s `Cookie` headers, without
/// surrounding double quotes; see the [module docs](self).
pub fn cookie<'a>(req: &Request<'a>, name: &str) -> Option<&'a str> {
    cookies(req).find(|&(n, _)| n == name).map(|(_, v)| v)
}

/// Every `name=value` pair of `req`'s `Cookie` headers, in order (values without surrounding
/// double quotes). Pairs that are not UTF-8 or have no `=` or no name are skipped.
pub fn cookies<'a>(req: &Request<'a>) -> impl Iterator<Item = (&'a str, &'a str)> {
    req.headers()
        .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
        .flat_map(|h| h.value.split(|&b| b == b';'))
        .filter_map(|pair| {
            let pair = core::str::from_utf8(pair).ok()?;
            let (name, value) = pair.split_once('=')?;
            let name = name.trim_matches([' ', '\t']);
            let value = value.trim_matches([' ', '\t']);
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(unquoted) => unquoted,
                None => value,
            };
            (!name.is_empty()).then_some((name, value))
        })
}

/// The `SameSite` attribute: whether the browser sends the cookie with requests that other
/// sites start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SameSite {
    /// Only with requests from this site.
    Strict,
    /// Also when the user follows a link here from another site (browsers' default).
    Lax,
    /// With every request; needs [`SetCookie::secure`].
    None,
}

impl SameSite {
    /// The attribute's value: `Strict`, `Lax` or `None`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// Why a [`SetCookie`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CookieError {
    /// The name is empty or not a token (RFC 9110 §5.6.2).
    InvalidName,
    /// The value has a byte that is not a cookie-octet (a control byte, space, `"`, `,`,
    /// `;`, `\` or non-ASCII).
    InvalidValue,
    /// `Path` does not start with `/` or has a byte that is not a cookie-octet.
    InvalidPath,
    /// `Domain` is not a host name (letters, digits, `-`, `.`).
    InvalidDomain,
    /// `SameSite=None` without `Secure` (browsers drop such cookies).
    SameSiteNoneWithoutSecure,
    /// A `__Secure-` name without `Secure`, or a `__Host-` name without `Secure`, with a
    /// `Domain`, or with a `Path` other than `/`.
    PrefixRules,
    /// The rendered header value does not fit the string it was asked into.
    TooLong,
}

impl CookieError {
    /// What went wrong, for a log line or a response body.
    pub fn as_str(self) -> &'static str {
        match self {
            CookieError::InvalidName => "cookie name is not a token",
            CookieError::InvalidValue => "cookie value has a byte that is not a cookie-octet",
            CookieError::InvalidPath => "cookie Path must start with / and be cookie-octets",
            CookieError::InvalidDomain => "cookie Domain is not a host name",
            CookieError::SameSiteNoneWithoutSecure => "SameSite=None needs Secure",
            CookieError::PrefixRules => "__Secure-/__Host- cookie breaks its prefix's rules",
            CookieError::TooLong => "Set-Cookie value does not fit",
        }
    }
}

/// A `Set-Cookie` header, built attribute by attribute and checked when written; see the
/// [module docs](self). No `Expires`: `Max-Age` says the same without a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCookie<'c> {
    name: &'c str,
    value: &'c str,
    path: Option<&'c str>,
    domain: Option<&'c str>,
    max_age: Option<u32>,
    secure: bool,
    http_only: bool,
    same_site: Option<SameSite>,
}

/// The most pieces a rendered cookie has (see `SetCookie::parts`).
const PARTS: usize = 13;

impl<'c> SetCookie<'c> {
    /// A cookie `name=value` that lives until the browser closes (add [`SetCookie::max_age`]
    /// to keep it longer).
    pub const fn new(name: &'c str, value: &'c str) -> Self {
        SetCookie {
            name,
            value,
            path: None,
            domain: None,
            max_age: None,
            secure: false,
            http_only: false,
            same_site: None,
        }
    }

    /// A cookie that deletes the browser's cookie `name`: empty, `Max-Age=0`. Give it the
    /// same `Path` and `Domain` the cookie was set with.
    pub const fn removal(name: &'c str) -> Self {
        SetCookie::new(name, "").max_age(0)
    }

    /// `Path`: the paths the browser sends the cookie to (this one and those below it).
    pub const fn path(mut self, path: &'c str) -> Self {
        self.path = Some(path);
        self
    }

    /// `Domain`: also send the cookie to this host's subdomains. (Without it, only to the
    /// host that set it, which is usually what a device wants.)
    pub const fn domain(mut self, domain: &'c str) -> Self {
        self.domain = Some(domain);
        self
    }

    /// `Max-Age`: seconds the cookie lives; 0 deletes it.
    pub const fn max_age(mut self, seconds: u32) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// `Secure`: only over HTTPS (browsers make an exception for `localhost`).
    pub const fn secure(mut self) -> Self {
        self.secure = true;
        self
    }

    /// `HttpOnly`: not readable by the page's scripts.
    pub const fn http_only(mut self) -> Self {
        self.http_only = true;
        self
    }

    /// `SameSite`.
    pub const fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = Some(same_site);
        self
    }

    /// Whether the cookie can be written, or the first rule it breaks (see the
    /// [module docs](self)).
    pub fn check(&self) -> Result<(), CookieError> {
        if !is_token(self.name) {
            return Err(CookieError::InvalidName);
        }
        if !is_cookie_octets(self.value) {
            return Err(CookieError::InvalidValue);
        }
        if let Some(path) = self.path {
            if !path.starts_with('/') || !is_cookie_octets(path) {
                return Err(CookieError::InvalidPath);
            }
        }
        if let Some(domain) = self.domain {
            let host = domain.strip_prefix('.').unwrap_or(domain);
            if host.is_empty()
                || !host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            {
                return Err(CookieError::InvalidDomain);
            }
        }
        if self.same_site == Some(SameSite::None) && !self.secure {
            return Err(CookieError::SameSiteNoneWithoutSecure);
        }
        let secure_prefix = starts_with_ignore_case(self.name, "__Secure-");
        let host_prefix = starts_with_ignore_case(self.name, "__Host-");
        if (secure_prefix || host_prefix) && !self.secure
            || host_prefix && (self.domain.is_some() || self.path != Some("/"))
        {
            return Err(CookieError::PrefixRules);
        }
        Ok(())
    }

    /// The header's value (`name=value; Path=/; ...`) in a string of at most `N` bytes.
    pub fn render<const N: usize>(&self) -> Result<heapless::String<N>, CookieError> {
        self.check()?;
        let mut digits = [0u8; 10];
        let mut out = heapless::String::new();
        for part in self.parts(&mut digits) {
            out.push_str(part).map_err(|_| CookieError::TooLong)?;
        }
        Ok(out)
    }

    /// The header's value in pieces, absent attributes as empty strings.
    fn parts<'p>(&'p self, digits: &'p mut [u8; 10]) -> [&'p str; PARTS] {
        let on = |set: bool, text: &'static str| if set { text } else { "" };
        let max_age = match self.max_age {
            Some(seconds) => {
                let n = write_decimal(u64::from(seconds), digits).unwrap_or(0);
                core::str::from_utf8(&digits[..n]).unwrap_or("")
            }
            None => "",
        };
        [
            self.name,
            "=",
            self.value,
            on(self.path.is_some(), "; Path="),
            self.path.unwrap_or(""),
            on(self.domain.is_some(), "; Domain="),
            self.domain.unwrap_or(""),
            on(self.max_age.is_some(), "; Max-Age="),
            max_age,
            on(self.secure, "; Secure"),
            on(self.http_only, "; HttpOnly"),
            on(self.same_site.is_some(), "; SameSite="),
            self.same_site.map_or("", SameSite::as_str),
        ]
    }
}

impl ResponseHead<'_, '_> {
    /// Add a `Set-Cookie` header for `cookie` (see [`crate::cookie`]). A cookie that
    /// [`SetCookie::check`] refuses makes the response a 500 whose reason the log shows
    /// ([`Failure::InvalidHeader`]).
    pub fn set_cookie(self, cookie: &SetCookie<'_>) -> Self {
        if cookie.check().is_err() {
            return self.refuse(Failure::InvalidHeader);
        }
        let mut digits = [0u8; 10];
        self.header_parts("Set-Cookie", &cookie.parts(&mut digits))
    }
}

/// `*cookie-octet` of RFC 6265 §4.1.1: visible ASCII but `"`, `,`, `;` and `\`.
fn is_cookie_octets(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\'))
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering() {
        let full = SetCookie::new("session", "abc")
            .path("/")
            .domain("example.com")
            .max_age(3600)
            .secure()
            .http_only()
            .same_site(SameSite::Lax);
        assert_eq!(
            full.render::<128>().as_deref(),
            Ok("session=abc; Path=/; Domain=example.com; Max-Age=3600; Secure; HttpOnly; SameSite=Lax")
        );
        assert_eq!(SetCookie::new("a", "").render::<8>().as_deref(), Ok("a="));
        assert_eq!(
            SetCookie::removal("a").path("/x").render::<32>().as_deref(),
            Ok("a=; Path=/x; Max-Age=0")
        );
        assert_eq!(full.render::<20>(), Err(CookieError::TooLong));
    }

    #[test]
    fn refusals() {
        let cases = [
            (SetCookie::new("", "v"), CookieError::InvalidName),
            (SetCookie::new("a b", "v"), CookieError::InvalidName),
            (SetCookie::new("a=b", "v"), CookieError::InvalidName),
            (SetCookie::new("a;", "v"), CookieError::InvalidName),
            (SetCookie::new("a", "x y"), CookieError::InvalidValue),
            (SetCookie::new("a", "x;y"), CookieError::InvalidValue),
            (SetCookie::new("a", "x,y"), CookieError::InvalidValue),
            (SetCookie::new("a", "\"x\""), CookieError::InvalidValue),
            (SetCookie::new("a", "x\\y"), CookieError::InvalidValue),
            (
                SetCookie::new("a", "x\r\nEvil: 1"),
                CookieError::InvalidValue,
            ),
            (SetCookie::new("a", "x\0"), CookieError::InvalidValue),
            (SetCookie::new("a", "café"), CookieError::InvalidValue),
            (SetCookie::new("a", "v").path("x"), CookieError::InvalidPath),
            (
                SetCookie::new("a", "v").path("/a;b"),
                CookieError::InvalidPath,
            ),
            (
                SetCookie::new("a", "v").path("/a b"),
                CookieError::InvalidPath,
            ),
            (
                SetCookie::new("a", "v").path("/\n"),
                CookieError::InvalidPath,
            ),
            (
                SetCookie::new("a", "v").domain(""),
                CookieError::InvalidDomain,
            ),
            (
                SetCookie::new("a", "v").domain("a b"),
                CookieError::InvalidDomain,
            ),
            (
                SetCookie::new("a", "v").domain("a;b"),
                CookieError::InvalidDomain,
            ),
            (
                SetCookie::new("a", "v").same_site(SameSite::None),
                CookieError::SameSiteNoneWithoutSecure,
            ),
            (SetCookie::new("__Secure-a", "v"), CookieError::PrefixRules),
            (
                SetCookie::new("__Host-a", "v").secure(),
                CookieError::PrefixRules,
            ),
            (
                SetCookie::new("__host-a", "v").secure().path("/x"),
                CookieError::PrefixRules,
            ),
            (
                SetCookie::new("__Host-a", "v")
                    .secure()
                    .path("/")
                    .domain("x.org"),
                CookieError::PrefixRules,
            ),
        ];
        for (cookie, error) in cases {
            assert_eq!(cookie.check(), Err(error), "{cookie:?}");
            assert_eq!(cookie.render::<128>(), Err(error), "{cookie:?}");
        }
        for fine in [
            SetCookie::new("a", "!#$%&'()*+-./:<=>?@[]^_`{|}~"),
            SetCookie::new("a", "v").same_site(SameSite::None).secure(),
            SetCookie::new("__Host-a", "v").secure().path("/"),
            SetCookie::new("__Secure-a", "v").secure().domain(".x.org"),
        ] {
            assert_eq!(fine.check(), Ok(()), "{fine:?}");
        }
    }
}
