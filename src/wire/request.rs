//! The request as a handler sees it: [`Method`], [`Version`], [`Header`] fields and the
//! [`Request`] view, all borrowed from the connection's receive buffer. Made by the head
//! parser (`request_head.rs`); nothing here parses or allocates.

/// Request methods this crate knows (RFC 9110 §9, plus PATCH from RFC 5789).
///
/// Method names are case-sensitive: `get` is an unknown method and gets 501.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`: answered like GET without the body.
    Head,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `PATCH`
    Patch,
    /// `TRACE`: parsed, but only served if the application routes it.
    Trace,
}

impl Method {
    /// Every method, in the order `Allow` headers list them.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Options,
        Method::Patch,
        Method::Trace,
    ];

    /// The method for an exact, case-sensitive token, or `None`.
    pub fn from_token(token: &str) -> Option<Method> {
        Some(match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            "PATCH" => Method::Patch,
            "TRACE" => Method::Trace,
            _ => return None,
        })
    }

    /// The method's token as sent on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// A distinct bit per method, for method sets such as a route's `Allow` list.
    pub const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The two HTTP/1 versions a request can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Version {
    /// `HTTP/1.0`: connections close after each response unless the client asks for keep-alive.
    Http10,
    /// `HTTP/1.1`: connections persist unless either side says `Connection: close`.
    Http11,
}

impl Version {
    /// The version as written in a status line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// One header field of a request: a token name and a value without surrounding whitespace,
/// both borrowed from the connection's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The field name, as sent (compare it case-insensitively).
    pub name: &'a str,
    /// The field value, without leading or trailing spaces and tabs.
    pub value: &'a [u8],
}

/// The header fields of a [`Request`], in the order received; see [`Request::headers`].
#[derive(Debug, Clone)]
pub struct Headers<'a> {
    /// Field lines not yet visited, each ending in CRLF.
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Header<'a>> {
        // The lines were validated by httparse: `name ":" OWS value OWS CRLF`, no folding,
        // no bare CR or LF; so a line ends at its LF, and its name at the first colon.
        let end = self.rest.iter().position(|&b| b == b'\n')?;
        let (line, rest) = self.rest.split_at(end + 1);
        self.rest = rest;
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = line.split_at(colon);
        Some(Header {
            name: core::str::from_utf8(name).unwrap_or(""),
            value: value[1..].trim_ascii(),
        })
    }
}

/// A parsed request, borrowing its bytes from the connection's buffer. Handlers receive it
/// by reference.
///
/// It holds no header table: the fields are read from the buffer when asked for
/// ([`Request::header`], [`Request::headers`]), so that a handler that awaits (async
/// driver) does not keep a table of slices alive across its awaits.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    method: Method,
    target: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    version: Version,
    /// The field lines of the head, each ending in CRLF, validated.
    fields: &'a [u8],
    body: &'a [u8],
    /// The pattern of the route that matched (`""` before routing).
    #[cfg(feature = "params")]
    route: &'static str,
}

impl<'a> Request<'a> {
    /// A request read from a validated head (no body yet, not routed).
    pub(crate) fn new(
        method: Method,
        target: &'a str,
        (path, query): (&'a str, Option<&'a str>),
        version: Version,
        fields: &'a [u8],
    ) -> Self {
        Request {
            method,
            target,
            path,
            query,
            version,
            fields,
            body: &[],
            #[cfg(feature = "params")]
            route: "",
        }
    }

    /// The request method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The request-target exactly as sent (`/a/b?x=1`, `*`, or an absolute URI).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The path of the target, still percent-encoded; `*` for `OPTIONS *`, and the path part
    /// of an absolute-form target (`/` if it has none). Under a nested router
    /// ([`crate::Router::nest`]), what follows its prefix (the whole path is in
    /// [`Request::target`]).
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query string after `?`, without the `?`, still percent-encoded.
    pub fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// The HTTP version of the request.
    pub fn version(&self) -> Version {
        self.version
    }

    /// All header fields, in the order received.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.fields }
    }

    /// The first header with this name (ASCII case-insensitive), if its value is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_bytes(name)
            .and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The raw bytes of the first header with this name (ASCII case-insensitive).
    #[inline(never)]
    pub fn header_bytes(&self, name: &str) -> Option<&'a [u8]> {
        // As `headers()` does, without checking each name's UTF-8: only bytes are compared.
        let mut rest = self.fields;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (line, next) = rest.split_at(end + 1);
            rest = next;
            let Some((field, after)) = line.split_at_checked(name.len()) else {
                continue;
            };
            if let (true, Some(value)) = (
                field.eq_ignore_ascii_case(name.as_bytes()),
                after.strip_prefix(b":"),
            ) {
                return Some(value.trim_ascii());
            }
        }
        None
    }

    /// The request body (empty if none was sent).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// This request with its body, once the body is whole in the receive buffer.
    pub(crate) fn with_body(mut self, body: &'a [u8]) -> Self {
        self.body = body;
        self
    }

    /// The pattern of the parameter route that matched (`"/api/leds/{id:u8}"`); `""`
    /// before routing and for routes without parameters.
    #[cfg(feature = "params")]
    #[cfg_attr(docsrs, doc(cfg(feature = "params")))]
    pub fn route(&self) -> &'static str {
        self.route
    }

    /// The path the current router matches: [`Request::path`] (which, under a nested router,
    /// is what follows its prefix).
    pub fn route_path(&self) -> &'a str {
        self.path
    }

    /// This request as routed by `pattern`.
    #[cfg(feature = "params")]
    pub(crate) fn routed(mut self, pattern: &'static str) -> Self {
        self.route = pattern;
        self
    }

    /// This request as a router nested under a prefix of `len` bytes sees it.
    pub(crate) fn nested(mut self, len: usize) -> Self {
        self.path = self.path.get(len..).unwrap_or(self.path);
        #[cfg(feature = "params")]
        {
            self.route = "";
        }
        self
    }
}
