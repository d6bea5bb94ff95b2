//! Cross-origin resource sharing (the Fetch standard's CORS protocol), as a [`Layer`]
//! (feature `layers`): a page served from another origin (a development server on
//! `http://localhost:3000`, a dashboard) may call the device's API.
//!
//! For a request whose `Origin` is one of the allowed ones:
//! - a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here, `204`
//!   with `Access-Control-Allow-Origin`, `-Allow-Methods`, `-Allow-Headers`, `-Max-Age` and
//!   `-Allow-Credentials` as configured, and `Vary: Origin`;
//! - every other response (the handler's, the router's 404 and 405, an error answer, 4xx and
//!   5xx alike) carries `Access-Control-Allow-Origin` (and `-Allow-Credentials`,
//!   `-Expose-Headers` as configured) and `Vary: Origin`.
//!
//! A request from an origin not in the list gets no CORS headers (the browser then keeps the
//! answer from the page), only `Vary: Origin`; its preflight goes to the router, whose
//! `OPTIONS` answer carries no `Access-Control-Allow-Origin`. A request without `Origin` is
//! not a CORS request and passes untouched. An origin `"*"` in the list allows any origin
//! (answered `*`, or the request's origin when credentials are allowed, which `*` may not
//! carry).
//!
//! ```
//! use embedded_responder::cors::Cors;
//! use embedded_responder::{get, put, Method, Router};
//!
//! static API_CORS: Cors = Cors::new(&["http://localhost:3000"])
//!     .methods(&[Method::Get, Method::Put])
//!     .headers(&["content-type"])
//!     .max_age(600);
//!
//! let api = Router::new()
//!     .route("/leds", get(|_req, res| res.text("[]")))
//!     .route("/leds/0", put(|_req, res| res.text("{}")));
//! let app = Router::new()
//!     .route("/", get(|_req, res| res.html("<h1>device</h1>")))
//!     .nest("/api", api.layer(&API_CORS));
//! # let _ = app;
//! ```

use super::layer::Layer;
use crate::handler::{Responded, Responder};
use crate::wire::syntax::write_decimal;
use crate::wire::{Method, Request, Status};

/// A CORS policy; see the [module docs](self). Built with `const fn`s, so it can be a
/// `static`.
#[derive(Debug, Clone, Copy)]
pub struct Cors<'c> {
    origins: &'c [&'c str],
    methods: &'c [Method],
    headers: &'c [&'c str],
    expose: &'c [&'c str],
    credentials: bool,
    max_age: Option<u32>,
}

impl<'c> Cors<'c> {
    /// Allow these origins (`scheme://host[:port]`, as browsers send them in `Origin`;
    /// `"*"` for any), for `GET`, `HEAD` and `POST`, no request headers beyond the
    /// CORS-safelisted ones, no credentials.
    pub const fn new(origins: &'c [&'c str]) -> Self {
        Cors {
            origins,
            methods: &[Method::Get, Method::Head, Method::Post],
            headers: &[],
            expose: &[],
            credentials: false,
            max_age: None,
        }
    }

    /// The methods a preflight allows (`Access-Control-Allow-Methods`).
    pub const fn methods(mut self, methods: &'c [Method]) -> Self {
        self.methods = methods;
        self
    }

    /// The request headers a preflight allows (`Access-Control-Allow-Headers`), e.g.
    /// `content-type` for a JSON body.
    pub const fn headers(mut self, headers: &'c [&'c str]) -> Self {
        self.headers = headers;
        self
    }

    /// The response headers the page may read (`Access-Control-Expose-Headers`).
    pub const fn expose(mut self, headers: &'c [&'c str]) -> Self {
        self.expose = headers;
        self
    }

    /// Allow credentials (cookies, `Authorization`): `Access-Control-Allow-Credentials:
    /// true`.
    pub const fn credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long a browser may cache a preflight's answer, in seconds
    /// (`Access-Control-Max-Age`).
    pub const fn max_age(mut self, seconds: u32) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    fn allow_origin<'o>(&self, origin: &'o str) -> Option<&'o str> {
        let any = self.origins.contains(&"*");
        if any && !self.credentials {
            Some("*")
        } else if any || self.origins.contains(&origin) {
            Some(origin)
        } else {
            None
        }
    }
}

impl Layer for Cors<'_> {
    fn before<'a, 's>(
        &self,
        req: &Request<'a>,
        res: Responder<'a, 's>,
    ) -> Result<Responded, Responder<'a, 's>> {
        let Some(origin) = req.header("origin") else {
            // Not a CORS request.
            return Err(res);
        };
        let Some(allow) = self.allow_origin(origin) else {
            // The answer depends on the origin: caches must keep them apart.
            return Err(res.with_header("Vary", "Origin"));
        };
        let mut res = res.with_header("Access-Control-Allow-Origin", allow);
        if allow != "*" {
            res = res.with_header("Vary", "Origin");
        }
        if self.credentials {
            res = res.with_header("Access-Control-Allow-Credentials", "true");
        }
        let preflight = req.method() == Method::Options
            && req.header_bytes("access-control-request-method").is_some();
        if !preflight {
            if !self.expose.is_empty() {
                res = res
                    .with_header_list("Access-Control-Expose-Headers", self.expose.iter().copied());
            }
            return Err(res);
        }
        res = res.with_header_list(
            "Access-Control-Allow-Methods",
            self.methods.iter().map(|m| m.as_str()),
        );
        if !self.headers.is_empty() {
            res =
                res.with_header_list("Access-Control-Allow-Headers", self.headers.iter().copied());
        }
        if let Some(seconds) = self.max_age {
            let mut digits = [0u8; 20];
            let n = write_decimal(u64::from(seconds), &mut digits).unwrap_or(0);
            let seconds = core::str::from_utf8(&digits[..n]).unwrap_or("0");
            res = res.with_header("Access-Control-Max-Age", seconds);
        }
        Ok(res.start(Status::NO_CONTENT).body(&[]))
    }
}
