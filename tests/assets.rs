//! Static assets over the blocking driver, in memory: content coding by `Accept-Encoding`
//! q-values, `If-None-Match` lists, `Range` edge cases, HEAD, directory indexes and
//! redirects, mounted with `Router::nest`, with a prefix route, and alone. Every case runs
//! whole, and all of them pipelined at every read size.

mod common;

use common::{parse_responses, Parsed, Scripted};
use embedded_responder::assets::{content_type_for, Asset, Assets};
use embedded_responder::io::blocking::serve;
use embedded_responder::{get, Connection, Handler, Router};

/// Bytes that are longer than the transmit buffer, so a body leaves from flash.
static BIG: [u8; 3000] = {
    let mut b = [0u8; 3000];
    let mut i = 0;
    while i < b.len() {
        b[i] = b'a' + (i % 26) as u8;
        i += 1;
    }
    b
};

static FILES: [Asset; 5] = [
    Asset::new(
        "index.html",
        content_type_for("html"),
        "\"ix1\"",
        b"<!doctype html><script src=app.js></script>",
    ),
    Asset::new("app.js", content_type_for("js"), "\"js1\"", b"0123456789")
        .with_gzip(b"GZ-BYTES", "\"js1-gz\""),
    Asset::new("big.bin", content_type_for("bin"), "\"big\"", &BIG),
    Asset::new("sub/index.html", content_type_for("htm"), "\"sub\"", b"sub")
        .with_cache_control("max-age=60"),
    Asset::new("a b.txt", content_type_for("txt"), "\"sp\"", b""),
];

static UI: Assets = Assets::new(&FILES);

/// Serve `input` with `app`, reads of `step` bytes, rx 1 KiB and tx 256 B.
fn run(app: &mut impl Handler, input: &[u8], step: usize) -> Vec<u8> {
    let mut io = Scripted::stepped(input, step);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, app);
    io.output
}

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: x\r\n");
    for (n, v) in headers {
        r += &format!("{n}: {v}\r\n");
    }
    r += "\r\n";
    r.into_bytes()
}

/// One case: a request and what its response must have.
struct Case {
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    status: u16,
    /// Headers the response must have (`None`: must not have).
    expect: &'static [(&'static str, Option<&'static str>)],
    body: &'static [u8],
}

const fn case(
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    status: u16,
    expect: &'static [(&'static str, Option<&'static str>)],
    body: &'static [u8],
) -> Case {
    Case {
        method,
        path,
        headers,
        status,
        expect,
        body,
    }
}

const IDENTITY: &[(&str, Option<&str>)] = &[
    ("ETag", Some("\"js1\"")),
    ("Content-Encoding", None),
    ("Vary", Some("Accept-Encoding")),
];
const GZIP: &[(&str, Option<&str>)] = &[
    ("ETag", Some("\"js1-gz\"")),
    ("Content-Encoding", Some("gzip")),
    ("Vary", Some("Accept-Encoding")),
];
const NOT_MODIFIED: &[(&str, Option<&str>)] = &[
    ("ETag", Some("\"js1\"")),
    ("Cache-Control", Some("no-cache")),
    ("Vary", Some("Accept-Encoding")),
    ("Content-Length", None),
];

/// Paths are under `/ui/` (the tests mount the table there).
fn cases() -> Vec<Case> {
    vec![
        // The whole file, its headers.
        case(
            "GET",
            "/ui/app.js",
            &[],
            200,
            &[
                ("Content-Type", Some("text/javascript; charset=utf-8")),
                ("ETag", Some("\"js1\"")),
                ("Cache-Control", Some("no-cache")),
                ("Accept-Ranges", Some("bytes")),
                ("Vary", Some("Accept-Encoding")),
                ("Content-Encoding", None),
                ("Content-Length", Some("10")),
            ],
            b"0123456789",
        ),
        // Accept-Encoding and its q-values.
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip, deflate, br")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "x-gzip")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "*")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "GZIP;Q=1.000")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip;q=0")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip;q=0.0, *")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "br, deflate")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip;q=0.5, identity;q=0.8")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        // A tie goes to the smaller copy.
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip;q=0.8, identity;q=0.8")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "identity;q=0, gzip;q=0.1")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        // A q-value that does not parse drops its entry only.
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip;q=2")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        // Identity refused and nothing else fits: 406.
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "*;q=0")],
            406,
            &[("Vary", Some("Accept-Encoding"))],
            b"Not Acceptable: identity refused, no other coding available\n",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Accept-Encoding", "*;q=0, gzip")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/index.html",
            &[("Accept-Encoding", "gzip, identity;q=0")],
            406,
            &[("Vary", None)],
            b"Not Acceptable: identity refused, no other coding available\n",
        ),
        // `*;q=0` with identity named: identity.
        case(
            "GET",
            "/ui/index.html",
            &[("Accept-Encoding", "*;q=0, identity")],
            200,
            &[("Vary", None), ("ETag", Some("\"ix1\""))],
            b"<!doctype html><script src=app.js></script>",
        ),
        // If-None-Match: the selected representation's tag, compared weakly; `*`; lists.
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"js1\"")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "W/\"js1\"")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "*")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"a\", W/\"b\",\"js1\"")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        case(
            "HEAD",
            "/ui/app.js",
            &[("If-None-Match", "\"js1\"")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"js2\", \"js1-gz\"")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"js1-gz\""), ("Accept-Encoding", "gzip")],
            304,
            &[
                ("ETag", Some("\"js1-gz\"")),
                ("Vary", Some("Accept-Encoding")),
            ],
            b"",
        ),
        // The identity tag does not validate the gzip copy.
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"js1\""), ("Accept-Encoding", "gzip")],
            200,
            GZIP,
            b"GZ-BYTES",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "js1")],
            200,
            IDENTITY,
            b"0123456789",
        ),
        // If-None-Match wins over Range.
        case(
            "GET",
            "/ui/app.js",
            &[("If-None-Match", "\"js1\""), ("Range", "bytes=0-1")],
            304,
            NOT_MODIFIED,
            b"",
        ),
        // Ranges.
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=2-4")],
            206,
            &[
                ("Content-Range", Some("bytes 2-4/10")),
                ("ETag", Some("\"js1\"")),
                ("Content-Type", Some("text/javascript; charset=utf-8")),
                ("Content-Length", Some("3")),
            ],
            b"234",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=7-")],
            206,
            &[("Content-Range", Some("bytes 7-9/10"))],
            b"789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=-2")],
            206,
            &[("Content-Range", Some("bytes 8-9/10"))],
            b"89",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=-20")],
            206,
            &[("Content-Range", Some("bytes 0-9/10"))],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=8-100")],
            206,
            &[("Content-Range", Some("bytes 8-9/10"))],
            b"89",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=9-9")],
            206,
            &[("Content-Range", Some("bytes 9-9/10"))],
            b"9",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-99999999999999999999999999")],
            206,
            &[("Content-Range", Some("bytes 0-9/10"))],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=10-")],
            416,
            &[
                ("Content-Range", Some("bytes */10")),
                ("Content-Length", Some("0")),
                ("Vary", Some("Accept-Encoding")),
            ],
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=-0")],
            416,
            &[("Content-Range", Some("bytes */10"))],
            b"",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=99999999999999999999999-")],
            416,
            &[("Content-Range", Some("bytes */10"))],
            b"",
        ),
        case(
            "GET",
            "/ui/a%20b.txt",
            &[("Range", "bytes=0-")],
            416,
            &[("Content-Range", Some("bytes */0"))],
            b"",
        ),
        // Invalid ranges are ignored.
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=5-3")],
            200,
            &[("Content-Range", None)],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=x-3")],
            200,
            &[("Content-Range", None)],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "lines=1-2")],
            200,
            &[("Content-Range", None)],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=+1-2")],
            200,
            &[("Content-Range", None)],
            b"0123456789",
        ),
        // Several ranges: the whole, or the one that is satisfiable.
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1,4-5")],
            200,
            &[("Content-Range", None)],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1, 40-50")],
            206,
            &[("Content-Range", Some("bytes 0-1/10"))],
            b"01",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=20-30,40-")],
            416,
            &[("Content-Range", Some("bytes */10"))],
            b"",
        ),
        // Ranges of the gzip copy, when it is selected.
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1"), ("Accept-Encoding", "gzip")],
            206,
            &[
                ("Content-Range", Some("bytes 0-1/8")),
                ("Content-Encoding", Some("gzip")),
            ],
            b"GZ",
        ),
        // If-Range: the strong tag keeps the range; another tag, a weak one or a date do not.
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1"), ("If-Range", "\"js1\"")],
            206,
            &[],
            b"01",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1"), ("If-Range", "\"old\"")],
            200,
            &[],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[("Range", "bytes=0-1"), ("If-Range", "W/\"js1\"")],
            200,
            &[],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/app.js",
            &[
                ("Range", "bytes=0-1"),
                ("If-Range", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ],
            200,
            &[],
            b"0123456789",
        ),
        // HEAD: GET's headers and length, no body; Range is for GET only.
        case(
            "HEAD",
            "/ui/app.js",
            &[("Range", "bytes=0-1")],
            200,
            &[
                ("Content-Length", Some("10")),
                ("ETag", Some("\"js1\"")),
                ("Content-Range", None),
            ],
            b"",
        ),
        case(
            "HEAD",
            "/ui/app.js",
            &[("Accept-Encoding", "gzip")],
            200,
            &[("Content-Length", Some("8")), ("ETag", Some("\"js1-gz\""))],
            b"",
        ),
        // A body larger than the transmit buffer, whole and in part.
        case(
            "GET",
            "/ui/big.bin",
            &[],
            200,
            &[("Content-Length", Some("3000")), ("Vary", None)],
            &BIG,
        ),
        case(
            "GET",
            "/ui/big.bin",
            &[("Range", "bytes=100-2999")],
            206,
            &[("Content-Range", Some("bytes 100-2999/3000"))],
            BIG.split_at(100).1,
        ),
        // Directories, percent-encoding, 404.
        case(
            "GET",
            "/ui/",
            &[],
            200,
            &[
                ("Content-Type", Some("text/html; charset=utf-8")),
                ("ETag", Some("\"ix1\"")),
            ],
            b"<!doctype html><script src=app.js></script>",
        ),
        case(
            "GET",
            "/ui/sub/",
            &[],
            200,
            &[("Cache-Control", Some("max-age=60"))],
            b"sub",
        ),
        case(
            "GET",
            "/ui/sub/index.html",
            &[],
            200,
            &[("ETag", Some("\"sub\""))],
            b"sub",
        ),
        case(
            "GET",
            "/ui/sub",
            &[],
            301,
            &[("Location", Some("/ui/sub/"))],
            b"",
        ),
        case("GET", "/ui", &[], 301, &[("Location", Some("/ui/"))], b""),
        case(
            "GET",
            "/ui/%61pp.js?v=2",
            &[],
            200,
            &[("ETag", Some("\"js1\""))],
            b"0123456789",
        ),
        case(
            "GET",
            "/ui/a%20b.txt",
            &[],
            200,
            &[("Content-Type", Some("text/plain; charset=utf-8"))],
            b"",
        ),
        case("GET", "/ui/app.js/", &[], 404, &[], b"Not Found\n"),
        case("GET", "/ui/nope.js", &[], 404, &[], b"Not Found\n"),
        case("GET", "/ui/app%2", &[], 404, &[], b"Not Found\n"),
        case("GET", "/ui/sub/x/", &[], 404, &[], b"Not Found\n"),
        case("GET", "/ui/../ui/app.js", &[], 404, &[], b"Not Found\n"),
    ]
}

fn check(case: &Case, got: &Parsed) {
    let what = format!("{} {} {:?}", case.method, case.path, case.headers);
    assert_eq!(got.status, case.status, "{what}: {got:?}");
    for (name, value) in case.expect {
        assert_eq!(got.header(name), *value, "{what}: {name} in {got:?}");
    }
    assert_eq!(got.body, case.body, "{what}");
}

/// Each case alone, then all of them pipelined at every read size from 1 byte, through the
/// table as a nested handler, as a prefix route, and alone.
fn every_case(app: &mut impl Handler) {
    let cases = cases();
    let mut all = Vec::new();
    for case in &cases {
        let input = request(case.method, case.path, case.headers);
        all.extend_from_slice(&input);
        let out = run(app, &input, input.len());
        let got = parse_responses(&out, &[case.method == "HEAD"]);
        assert_eq!(got.len(), 1, "{}", case.path);
        check(case, &got[0]);
    }
    let heads: Vec<bool> = cases.iter().map(|c| c.method == "HEAD").collect();
    for step in [1, 2, 3, 7, 64, 1000, all.len()] {
        let got = parse_responses(&run(app, &all, step), &heads);
        assert_eq!(got.len(), cases.len(), "step {step}");
        for (case, got) in cases.iter().zip(&got) {
            check(case, got);
        }
    }
}

#[test]
fn nested_under_a_prefix() {
    // The nesting router hands over only paths under `/ui/`: `/ui` itself is routed to
    // the table with its prefix, which redirects it.
    every_case(
        &mut Router::new()
            .route("/ui", get(|req, res| UI.at("/ui/").serve(req, res)))
            .nest("/ui", UI),
    );
}

#[test]
fn as_a_prefix_route() {
    let ui = UI.at("/ui/");
    every_case(
        &mut Router::new()
            .route("/ui", get(move |req, res| ui.serve(req, res)))
            .route("/ui/*", get(move |req, res| ui.serve(req, res))),
    );
}

#[test]
fn alone_with_its_prefix() {
    every_case(&mut UI.at("/ui/"));
}

#[test]
fn other_methods_get_405_and_directories_without_an_index_404() {
    let out = run(
        &mut UI.at("/ui/"),
        &request("POST", "/ui/app.js", &[("Content-Length", "0")]),
        1000,
    );
    let got = parse_responses(&out, &[false]);
    assert_eq!(got[0].status, 405);
    assert_eq!(got[0].header("Allow"), Some("GET, HEAD"));
    // Another method on a path the table does not have: 404, as for GET (assets as a
    // router's fallback must not claim every path).
    let input = [
        request("POST", "/ui/nowhere.js", &[("Content-Length", "0")]),
        request("DELETE", "/elsewhere", &[]),
        request("PUT", "/ui/", &[("Content-Length", "0")]),
    ]
    .concat();
    let got = parse_responses(&run(&mut UI.at("/ui/"), &input, 1000), &[false; 3]);
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [404, 404, 405]
    );

    let mut no_index = UI.at("/ui/").index(None).cache_control("max-age=5");
    let input = [
        request("GET", "/ui/", &[]),
        request("GET", "/ui", &[]),
        request("GET", "/ui/app.js", &[]),
    ]
    .concat();
    let got = parse_responses(&run(&mut no_index, &input, 5), &[false; 3]);
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [404, 404, 200]
    );
    assert_eq!(got[2].header("Cache-Control"), Some("max-age=5"));
}

#[test]
fn find_names_files_and_indexes() {
    assert_eq!(UI.find("app.js").map(|a| a.etag), Some("\"js1\""));
    assert_eq!(UI.find("").map(|a| a.path), Some("index.html"));
    assert_eq!(UI.find("sub/").map(|a| a.path), Some("sub/index.html"));
    assert_eq!(UI.find("a%20b.txt").map(|a| a.path), Some("a b.txt"));
    assert_eq!(UI.find("sub"), None);
    assert_eq!(UI.files().len(), 5);
}
