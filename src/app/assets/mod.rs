//! Static assets served from flash: a table of files ([`Asset`]) mounted under a path prefix
//! ([`Assets`]), each with its content type, a strong `ETag` and optionally a precompressed
//! `gzip` copy, all made at build time (`tools/embed-assets` writes the table from a folder;
//! a hand-written table works the same way).
//!
//! The contract of [`Assets::serve`] (also its [`Handler`]), for `GET` and `HEAD`:
//! - **Paths.** The path the handler is routed ([`Request::route_path`]: the whole path, or
//!   the rest under [`crate::Router::nest`]) after the table's prefix ([`Assets::at`], `/` by
//!   default), percent-decoded, names a file of the table (`/static/app.js` → `app.js`). A path that is empty or ends in `/` names the directory's
//!   index file (`/ui/` → `index.html`); a directory asked for without its slash, and the
//!   prefix itself without its slash (`/ui`), are redirected there with `301`. Anything else
//!   is `404`; other methods `405` with `Allow: GET, HEAD`.
//! - **Content coding** (RFC 9110 §12.5.3). `Accept-Encoding` with q-values: `gzip` (or
//!   `x-gzip`, or `*`) with a weight above zero and not below identity's gets the gzip copy;
//!   else the file as it is (identity), which is acceptable unless `identity;q=0`, or `*;q=0`
//!   without an `identity` entry, refuses it. If identity is refused and no copy fits, the
//!   answer is `406 Not Acceptable` (the request asks for something this table cannot
//!   give; serving it anyway is the alternative RFC 9110 allows, and a client that sends
//!   `identity;q=0` would not decode it). No `Accept-Encoding` at all gets identity. Every
//!   response for a file that has a gzip copy says `Vary: Accept-Encoding`, and the two
//!   representations have different entity tags (the gzip one is the identity tag with
//!   `-gz` inside the quotes).
//! - **Validation** (RFC 9110 §13.1.2). `If-None-Match` (`*`, or a list of tags, compared
//!   weakly: `W/"x"` matches `"x"`) that matches the selected representation gets
//!   `304 Not Modified` with `ETag`, `Cache-Control` and `Vary`, no body. Every `200` carries
//!   `ETag` and `Cache-Control` (the table's, by default `no-cache`: always revalidate, so a
//!   new firmware's UI is never stale; an asset may carry its own).
//! - **Ranges** (RFC 9110 §14), on `GET`, over the selected representation's bytes (so a
//!   client that wants ranges of the file itself sends `Accept-Encoding: identity`, as
//!   browsers do for media). `bytes=a-b`, `a-` and `-n`; one satisfiable range gets
//!   `206 Partial Content` with `Content-Range: bytes a-b/len` (`b` clipped to the end);
//!   none satisfiable (a start at or past the end, `-0`, any range of an empty file) gets
//!   `416 Range Not Satisfiable` with `Content-Range: bytes */len`. Several satisfiable
//!   ranges get the whole representation with `200` (no multipart bodies; RFC 9110 §14.2
//!   lets a server ignore `Range`), unsatisfiable ones among them are dropped. A `Range` that
//!   does not parse (another unit, `5-3`, a stray byte) is ignored; a number too large for
//!   64 bits means "past any end". `If-Range` with the representation's strong tag keeps the
//!   range, anything else (another tag, a weak one, a date: these files have no
//!   `Last-Modified`) turns it into a `200` of the whole. `Accept-Ranges: bytes` is on every
//!   `200` and `206`.
//! - **HEAD** gets the headers `GET` would (with the whole length), no body.
//!
//! Bodies are sent from flash where they lie, without copying. Nothing here allocates or
//! formats: numbers go through the integer writer.

mod negotiate;

use negotiate::{none_match, parse_range, select, write_content_range, Range};

use crate::handler::{Handler, Responded, Responder, ResponseHead};
use crate::wire::{Method, Request, Status};

/// One file of an [`Assets`] table. Made with [`Asset::new`] (a `const fn`, so tables can be
/// `static`s in flash) and the `with_*` methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Asset {
    /// The path under the table's prefix, without a leading `/`, not percent-encoded:
    /// `app.js`, `img/logo.svg`, `index.html`.
    pub path: &'static str,
    /// The `Content-Type`, e.g. from [`content_type_for`].
    pub content_type: &'static str,
    /// The strong entity tag of the file's bytes, quoted: `"3b2c9a51d07e44f0"`.
    pub etag: &'static str,
    /// The file's bytes.
    pub body: &'static [u8],
    /// The file gzip-compressed, if that is smaller.
    pub gzip: Option<Encoded>,
    /// A `Cache-Control` of its own, instead of the table's ([`Assets::cache_control`]).
    pub cache_control: Option<&'static str>,
}

/// A precompressed copy of an [`Asset`]: its bytes and its own strong entity tag (quoted,
/// different from the identity one's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    /// The compressed bytes.
    pub body: &'static [u8],
    /// The strong entity tag of this representation, quoted.
    pub etag: &'static str,
}

impl Asset {
    /// A file at `path` (relative to the table's prefix, no leading `/`) with its content
    /// type, its strong quoted entity tag and its bytes; no compressed copy.
    pub const fn new(
        path: &'static str,
        content_type: &'static str,
        etag: &'static str,
        body: &'static [u8],
    ) -> Asset {
        Asset {
            path,
            content_type,
            etag,
            body,
            gzip: None,
            cache_control: None,
        }
    }

    /// With a gzip copy and its entity tag (by convention the identity tag with `-gz`
    /// inside the quotes).
    pub const fn with_gzip(self, body: &'static [u8], etag: &'static str) -> Asset {
        Asset {
            gzip: Some(Encoded { body, etag }),
            ..self
        }
    }

    /// With a `Cache-Control` of its own (e.g. `public, max-age=31536000, immutable` for a
    /// file whose name changes with its content).
    pub const fn with_cache_control(self, value: &'static str) -> Asset {
        Asset {
            cache_control: Some(value),
            ..self
        }
    }
}

/// A table of [`Asset`]s mounted under a path prefix, with a directory index; serve it with
/// [`Assets::serve`] or as a [`Handler`].
///
/// ```
/// use embedded_responder::assets::{content_type_for, Asset, Assets};
/// use embedded_responder::{get, Router};
///
/// static FILES: [Asset; 2] = [
///     Asset::new("index.html", content_type_for("html"), "\"1\"", b"<script src=app.js></script>"),
///     Asset::new("app.js", content_type_for("js"), "\"2\"", b"alert(1)"),
/// ];
/// static UI: Assets = Assets::new(&FILES);
///
/// let app = Router::new()
///     .route("/", get(|_req, res| res.html("<a href=/ui/>UI</a>")))
///     // `/ui/` is index.html, then `/ui/app.js`; `/ui` is redirected to `/ui/`.
///     .route("/ui", get(|req, res| UI.at("/ui/").serve(req, res)))
///     .nest("/ui", UI)
///     // The same table under a prefix route: `at` names the prefix.
///     .mount("/static/*", UI.at("/static/"));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assets {
    files: &'static [Asset],
    prefix: &'static str,
    index: Option<&'static str>,
    cache_control: &'static str,
}

impl Assets {
    /// A table of `files` under the prefix `/`, with `index.html` as the directory index and
    /// `Cache-Control: no-cache`.
    pub const fn new(files: &'static [Asset]) -> Assets {
        Assets {
            files,
            prefix: "/",
            index: Some("index.html"),
            cache_control: "no-cache",
        }
    }

    /// Mounted under `prefix`, which should begin and end with `/` (`/static/`): the same
    /// prefix as the route's pattern without its `*`.
    pub const fn at(self, prefix: &'static str) -> Assets {
        Assets { prefix, ..self }
    }

    /// The file a directory path (empty, or ending in `/`) names, or `None` for no
    /// directory index (such paths are then 404).
    pub const fn index(self, name: Option<&'static str>) -> Assets {
        Assets {
            index: name,
            ..self
        }
    }

    /// The `Cache-Control` of every file that has none of its own.
    pub const fn cache_control(self, value: &'static str) -> Assets {
        Assets {
            cache_control: value,
            ..self
        }
    }

    /// The files of the table.
    pub const fn files(&self) -> &'static [Asset] {
        self.files
    }

    /// The file a path under the prefix names (percent-encoded, as in a request; an empty
    /// path or one ending in `/` names the directory's index file).
    pub fn find(&self, path: &str) -> Option<&'static Asset> {
        let path = path.as_bytes();
        if path.is_empty() || path.ends_with(b"/") {
            let index = self.index?;
            self.files
                .iter()
                .find(|f| names(path, f.path.as_bytes(), index.as_bytes()))
        } else {
            self.files
                .iter()
                .find(|f| names(path, f.path.as_bytes(), b""))
        }
    }

    /// Answer `req` from the table; see the [module docs](self) for what is answered how.
    pub fn serve<'a>(&self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        let answer = self.answer_for(req);
        if !matches!(req.method(), Method::Get | Method::Head) {
            // Another method on a path the table has: 405; on one it does not: 404.
            return match answer {
                Answer::Missing => res.status(Status::NOT_FOUND),
                _ => res
                    .start(Status::METHOD_NOT_ALLOWED)
                    .header("Allow", "GET, HEAD")
                    .body(&[]),
            };
        }
        match answer {
            Answer::Asset(asset) => self.serve_asset(asset, req, res),
            Answer::Directory => redirect(res, full_path(req)),
            Answer::Missing => res.status(Status::NOT_FOUND),
        }
    }

    /// What the table has at `req`'s path.
    fn answer_for(&self, req: &Request<'_>) -> Answer {
        // The path this handler matches: the whole path, or what follows a nesting
        // router's prefix (`Router::nest`).
        let path = req.route_path();
        let Some(rel) = path.strip_prefix(self.prefix) else {
            // The prefix without its slash (`/ui` for `/ui/`): the directory itself.
            if self.prefix.strip_suffix('/') == Some(path) && self.find("").is_some() {
                return Answer::Directory;
            }
            return Answer::Missing;
        };
        let is_dir = rel.is_empty() || rel.ends_with('/');
        match self.find(rel) {
            // A nesting router hands `/ui` on as `/`: the page's relative links need `/ui/`.
            Some(_) if is_dir && !req.path().ends_with('/') => Answer::Directory,
            Some(asset) => Answer::Asset(asset),
            None if !is_dir && self.is_dir(rel) => Answer::Directory,
            None => Answer::Missing,
        }
    }

    /// Whether `rel` (percent-encoded, no trailing `/`) is a directory with an index file.
    fn is_dir(&self, rel: &str) -> bool {
        let Some(index) = self.index else {
            return false;
        };
        self.files.iter().any(|f| {
            f.path
                .as_bytes()
                .strip_suffix(index.as_bytes())
                .and_then(|dir| dir.strip_suffix(b"/"))
                .is_some_and(|dir| names(rel.as_bytes(), dir, b""))
        })
    }

    /// Answer `req` with `asset` (found by the caller, e.g. under another name).
    pub fn serve_asset<'a>(
        &self,
        asset: &'static Asset,
        req: &Request<'a>,
        res: Responder<'a, '_>,
    ) -> Responded {
        let cache_control = asset.cache_control.unwrap_or(self.cache_control);
        let vary = asset.gzip.is_some();
        let Some((body, etag, gzip)) = select(asset, req.header_bytes("accept-encoding")) else {
            return vary_header(res.start_with(NOT_ACCEPTABLE, "Not Acceptable"), vary)
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(b"Not Acceptable: identity refused, no other coding available\n");
        };
        if let Some(tags) = req.header_bytes("if-none-match") {
            if none_match(tags, etag) {
                let head = res
                    .start(Status::NOT_MODIFIED)
                    .header("ETag", etag)
                    .header("Cache-Control", cache_control);
                return vary_header(head, vary).body(&[]);
            }
        }
        let len = body.len() as u64;
        let range = match req.header_bytes("range") {
            Some(value)
                if req.method() == Method::Get
                    && req
                        .header_bytes("if-range")
                        .is_none_or(|v| v == etag.as_bytes()) =>
            {
                parse_range(value, len)
            }
            _ => Range::Whole,
        };
        // `bytes ` + `a-b/len`: three numbers of up to 20 digits and two separators.
        let mut content_range = [0u8; 6 + 3 * 20 + 2];
        let mut head = match range {
            Range::Whole => res.start(Status::OK),
            Range::Unsatisfiable => {
                let n = write_content_range(&mut content_range, None, len);
                let head = res
                    .start_with(RANGE_NOT_SATISFIABLE, "Range Not Satisfiable")
                    .header("Content-Range", ascii(&content_range[..n]))
                    .header("Accept-Ranges", "bytes");
                return vary_header(head, vary).body(&[]);
            }
            Range::Single(first, last) => {
                let n = write_content_range(&mut content_range, Some((first, last)), len);
                res.start_with(PARTIAL_CONTENT, "Partial Content")
                    .header("Content-Range", ascii(&content_range[..n]))
            }
        };
        head = head
            .header("Content-Type", asset.content_type)
            .header("ETag", etag)
            .header("Cache-Control", cache_control)
            .header("Accept-Ranges", "bytes");
        if gzip {
            head = head.header("Content-Encoding", "gzip");
        }
        let body = match range {
            Range::Single(first, last) => usize::try_from(first)
                .ok()
                .zip(usize::try_from(last).ok())
                .and_then(|(first, last)| body.get(first..=last))
                .unwrap_or(body),
            _ => body,
        };
        vary_header(head, vary).body(body)
    }
}

impl Handler for Assets {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        self.serve(req, res)
    }
}

crate::app::router::blocking_endpoint!(impl[] Assets);

/// What an [`Assets`] table has at a path.
enum Answer {
    /// This file.
    Asset(&'static Asset),
    /// A directory named without its slash: redirected to it with one.
    Directory,
    /// Nothing.
    Missing,
}

/// The `Content-Type` for a file name extension (without the dot, any case):
/// `text/html; charset=utf-8` for `html`, `text/javascript; charset=utf-8` for `js` (RFC
/// 9239), and so on for the types a web UI is built from; `application/octet-stream` for
/// any other.
pub const fn content_type_for(extension: &str) -> &'static str {
    let mut i = 0;
    while i < CONTENT_TYPES.len() {
        let (ext, content_type) = CONTENT_TYPES[i];
        if ascii_eq_ignore_case(ext.as_bytes(), extension.as_bytes()) {
            return content_type;
        }
        i += 1;
    }
    "application/octet-stream"
}

/// Extensions and their content types.
const CONTENT_TYPES: [(&str, &str); 26] = [
    ("html", "text/html; charset=utf-8"),
    ("htm", "text/html; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("webmanifest", "application/manifest+json"),
    ("txt", "text/plain; charset=utf-8"),
    ("csv", "text/csv; charset=utf-8"),
    ("xml", "application/xml"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/x-icon"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
    ("bin", "application/octet-stream"),
];

const fn ascii_eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Statuses without a phrase in [`Status::reason`]'s table: their phrases are written here,
/// so that firmware without assets does not carry them.
const PARTIAL_CONTENT: Status = status(206);
const NOT_ACCEPTABLE: Status = status(406);
const RANGE_NOT_SATISFIABLE: Status = status(416);

const fn status(code: u16) -> Status {
    match Status::from_code(code) {
        Some(status) => status,
        None => panic!("a final status"),
    }
}

/// Whether the percent-encoded request path `encoded`, decoded and followed by `then`, is
/// `plain` (a file's path).
fn names(encoded: &[u8], plain: &[u8], then: &[u8]) -> bool {
    let (mut rest, mut plain) = (encoded, plain);
    loop {
        let (byte, next) = match rest {
            [] => return plain == then,
            [b'%', hi, lo, next @ ..] => match (hex(*hi), hex(*lo)) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, next),
                _ => return false,
            },
            [b'%', ..] => return false,
            [byte, next @ ..] => (*byte, next),
        };
        match plain.split_first() {
            Some((&p, after)) if p == byte => plain = after,
            _ => return false,
        }
        rest = next;
    }
}

fn hex(b: u8) -> Option<u8> {
    crate::wire::syntax::hex_value(b)
}

/// The request's whole path, also under a nested router (which sees only the rest as
/// [`Request::path`]): the target up to its query, for an origin-form target.
fn full_path<'a>(req: &Request<'a>) -> &'a str {
    let target = req.target();
    if target.starts_with('/') {
        target.split('?').next().unwrap_or(target)
    } else {
        req.path()
    }
}

/// `301` to `path` + `/`.
fn redirect<'a>(res: Responder<'a, '_>, path: &str) -> Responded {
    let mut location = [0u8; 256];
    let Some(dst) = location.get_mut(..path.len()) else {
        return res.status(Status::NOT_FOUND);
    };
    dst.copy_from_slice(path.as_bytes());
    let Some(slash) = location.get_mut(path.len()) else {
        return res.status(Status::NOT_FOUND);
    };
    *slash = b'/';
    res.start(Status::MOVED_PERMANENTLY)
        .header("Location", ascii(&location[..=path.len()]))
        .body(&[])
}

/// The bytes as `&str`: they are ASCII (digits, or a request path, which httparse checked).
fn ascii(bytes: &[u8]) -> &str {
    core::str::from_utf8(bytes).unwrap_or("")
}

fn vary_header<'a, 's>(head: ResponseHead<'a, 's>, vary: bool) -> ResponseHead<'a, 's> {
    if vary {
        head.header("Vary", "Accept-Encoding")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_names() {
        assert!(names(b"a%20b.txt", b"a b.txt", b""));
        assert!(names(b"sub/", b"sub/index.html", b"index.html"));
        assert!(names(b"", b"index.html", b"index.html"));
        assert!(!names(b"sub/", b"sub/", b"index.html"));
        assert!(!names(b"a%2", b"a", b""));
        assert!(!names(b"a%zz", b"a", b""));
        assert!(!names(b"ab", b"a", b""));
        assert!(!names(b"a", b"ab", b""));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_for("HTML"), "text/html; charset=utf-8");
        assert_eq!(content_type_for("woff2"), "font/woff2");
        assert_eq!(content_type_for("exe"), "application/octet-stream");
        assert_eq!(content_type_for(""), "application/octet-stream");
    }
}
