//! HTTP Basic authentication (RFC 7617), feature `auth`: one user and password, checked in
//! constant time, per route or per nested router.
//!
//! [`BasicAuth::check`] reads `Authorization: Basic <base64(user:password)>` (the scheme in
//! any case, the credentials decoded with the `base64` crate's standard alphabet and
//! padding, split at the first `:` so a password may contain `:`); [`BasicAuth::challenge`]
//! answers `401` with `WWW-Authenticate: Basic realm="...", charset="UTF-8"`;
//! [`BasicAuth::protect`] wraps any [`Handler`] (a route's, or a whole nested router) so that
//! only authenticated requests reach it ([`BasicAuth::protect_fn`] for a closure). A method
//! the route does not have still gets 405 from the router; under a protected nested router,
//! every path gets 401 until the client logs in, so paths are not revealed by 404s.
//!
//! The comparison takes the same time whatever the client sent, for given credentials: every
//! byte of the expected user and password is compared, without stopping at the first
//! difference or at a difference in length. (Basic auth sends the password in the clear:
//! over plain HTTP anyone on the network can read it.)
//!
//! ```
//! use embedded_responder::auth::BasicAuth;
//! use embedded_responder::{get, on, Method, Router};
//!
//! let auth = BasicAuth::new("device", "admin", "admin").expect("a realm without quotes");
//! let settings = Router::new().route("/", get(|_req, res| res.text("settings")));
//! let app = Router::new()
//!     // One route (a named `fn` goes to `auth.protect(name)`):
//!     .route("/admin", on(Method::Get, auth.protect_fn(|_req, res| res.text("admin page"))))
//!     // A whole router, 401 for every path under it:
//!     .nest("/settings", auth.protect(settings))
//!     // By hand:
//!     .route(
//!         "/status",
//!         get(move |req, res| match auth.check(req) {
//!             true => res.text("all of it"),
//!             false => auth.challenge(res),
//!         }),
//!     );
//! # let _ = app;
//! ```

use base64::Engine;

use crate::app::router::sealed::{Answer, AnswerBlocking};
use crate::handler::{Handler, Responded, Responder};
use crate::wire::{Request, Status};

/// The longest `user:password` accepted, in bytes (decoded). Longer credentials are refused.
pub const MAX_CREDENTIALS: usize = 192;

/// Why a [`BasicAuth`] cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum AuthError {
    /// The realm has a `"`, `\`, control or non-ASCII byte: it could not be sent quoted.
    InvalidRealm,
    /// The user has a `:` (RFC 7617 §2: the password starts at the first one), or the user
    /// and password together are longer than [`MAX_CREDENTIALS`] minus one.
    InvalidCredentials,
}

/// One user and password for Basic authentication; see the [module docs](self). `Copy`, so
/// one value can guard several routes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct BasicAuth<'c> {
    realm: &'c str,
    user: &'c [u8],
    password: &'c [u8],
}

impl core::fmt::Debug for BasicAuth<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl<'c> BasicAuth<'c> {
    /// Credentials `user` / `password` for the protection space `realm` (shown by browsers in
    /// their login prompt).
    pub fn new(realm: &'c str, user: &'c str, password: &'c str) -> Result<Self, AuthError> {
        if !realm
            .bytes()
            .all(|b| b == b' ' || (b.is_ascii_graphic() && b != b'"' && b != b'\\'))
        {
            return Err(AuthError::InvalidRealm);
        }
        if user.contains(':') || user.len() + 1 + password.len() > MAX_CREDENTIALS {
            return Err(AuthError::InvalidCredentials);
        }
        Ok(BasicAuth {
            realm,
            user: user.as_bytes(),
            password: password.as_bytes(),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &'c str {
        self.realm
    }

    /// Whether `req` carries these credentials in its (first) `Authorization` header. A
    /// missing header, another scheme, base64 that does not decode, credentials without `:`
    /// and wrong ones are all `false`.
    pub fn check(&self, req: &Request<'_>) -> bool {
        let Some(value) = req.header_bytes("authorization") else {
            return false;
        };
        let Some((scheme, token)) = split_scheme(value) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case(b"basic") {
            return false;
        }
        let mut decoded = [0u8; MAX_CREDENTIALS];
        let Ok(len) = base64::engine::general_purpose::STANDARD.decode_slice(token, &mut decoded)
        else {
            return false;
        };
        let credentials = &decoded[..len];
        let Some(colon) = credentials.iter().position(|&b| b == b':') else {
            return false;
        };
        let user_ok = constant_time_eq(&credentials[..colon], self.user);
        let password_ok = constant_time_eq(&credentials[colon + 1..], self.password);
        // `&`, not `&&`: the password is compared even when the user is wrong.
        user_ok & password_ok
    }

    /// Answer `401 Unauthorized` with `WWW-Authenticate: Basic realm="<realm>",
    /// charset="UTF-8"` (a browser then asks for a user and password).
    pub fn challenge(&self, res: Responder<'_, '_>) -> Responded {
        res.start(Status::UNAUTHORIZED)
            .header_parts(
                "WWW-Authenticate",
                &["Basic realm=\"", self.realm, "\", charset=\"UTF-8\""],
            )
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(b"Unauthorized\n")
    }

    /// `handler` (a [`crate::Router`], a named `fn`, any [`Handler`]) behind these
    /// credentials: requests without them get [`BasicAuth::challenge`]'s 401 and never reach
    /// it. For a closure, [`BasicAuth::protect_fn`] infers its argument types.
    pub fn protect<H>(&self, handler: H) -> Protected<'c, H> {
        Protected {
            auth: *self,
            handler,
        }
    }

    /// [`BasicAuth::protect`] for a closure (as [`crate::get`] is for [`crate::on`]).
    pub fn protect_fn<F>(&self, handler: F) -> Protected<'c, F>
    where
        F: for<'r, 'a, 's> FnMut(&'r Request<'a>, Responder<'a, 's>) -> Responded,
    {
        self.protect(handler)
    }
}

/// A [`Handler`] behind [`BasicAuth`]; made by [`BasicAuth::protect`].
#[derive(Debug, Clone, Copy)]
pub struct Protected<'c, H> {
    auth: BasicAuth<'c>,
    handler: H,
}

impl<H: Handler> Handler for Protected<'_, H> {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        if self.auth.check(req) {
            self.handler.handle(req, res)
        } else {
            self.auth.challenge(res)
        }
    }

    /// The protected handler's limit, whether or not the request is authenticated: a
    /// refused request's body is then not read (nor asked for with `100 Continue`), rather
    /// than refused with 413 for not fitting the receive buffer.
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.handler.stream_limit(req)
    }
}

impl<H: Answer> Answer for Protected<'_, H> {
    fn stream_limit(&self, req: &Request<'_>) -> Option<u64> {
        self.handler.stream_limit(req)
    }
    fn answer_now<'a, 's>(
        &mut self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        if self.auth.check(req) {
            self.handler.answer_now(req, res)
        } else {
            Ok(self.auth.challenge(res))
        }
    }
    /// Only after [`Answer::answer_now`] let the request through.
    #[cfg(feature = "async")]
    fn answer_later<'x, 'r, 'a, 's>(
        &'x mut self,
        req: &'r Request<'a>,
        res: Responder<'a, 's>,
    ) -> impl core::future::Future<Output = Responded> {
        self.handler.answer_later(req, res)
    }
}

impl<H: AnswerBlocking> AnswerBlocking for Protected<'_, H> {
    fn answer<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        if self.auth.check(req) {
            self.handler.answer(req, res)
        } else {
            self.auth.challenge(res)
        }
    }
}

/// `auth-scheme 1*SP token68` (RFC 9110 §11.3, §11.4).
fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    let token = rest.trim_ascii_start();
    (!scheme.is_empty() && !token.is_empty()).then_some((scheme, token))
}

/// Whether `given` equals `expected`, in a time that depends only on `expected`'s length:
/// every byte of `expected` is compared (against `given`'s byte at that place, or 0 past its
/// end) and the differences are gathered without branching, the length difference with them.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        difference |= core::hint::black_box(g ^ e);
    }
    core::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"admin", b"admin"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"admim", b"admin"));
        assert!(!constant_time_eq(b"admin2", b"admin"));
        assert!(!constant_time_eq(b"admi", b"admin"));
        assert!(!constant_time_eq(b"admin\0", b"admin"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(!constant_time_eq(b"\0", b""));
    }

    #[test]
    fn construction() {
        assert!(BasicAuth::new("my device", "u", "p:w").is_ok());
        assert_eq!(
            BasicAuth::new("a\"b", "u", "p"),
            Err(AuthError::InvalidRealm)
        );
        assert_eq!(
            BasicAuth::new("a\\b", "u", "p"),
            Err(AuthError::InvalidRealm)
        );
        assert_eq!(
            BasicAuth::new("a\nb", "u", "p"),
            Err(AuthError::InvalidRealm)
        );
        assert_eq!(
            BasicAuth::new("r", "u:v", "p"),
            Err(AuthError::InvalidCredentials)
        );
        let long = "x".repeat(MAX_CREDENTIALS);
        assert_eq!(
            BasicAuth::new("r", "u", &long),
            Err(AuthError::InvalidCredentials)
        );
        assert!(BasicAuth::new("r", "u", &long[..MAX_CREDENTIALS - 2]).is_ok());
        assert!(!format!("{:?}", BasicAuth::new("r", "u", "secret").unwrap()).contains("secret"));
    }

    #[test]
    fn scheme_split() {
        assert_eq!(
            split_scheme(b"Basic abc"),
            Some((&b"Basic"[..], &b"abc"[..]))
        );
        assert_eq!(
            split_scheme(b"Basic   abc"),
            Some((&b"Basic"[..], &b"abc"[..]))
        );
        assert_eq!(split_scheme(b"Basic"), None);
        assert_eq!(split_scheme(b"Basic "), None);
        assert_eq!(split_scheme(b" abc"), None);
    }
}
