//! The embedded table served over the blocking driver: every file whole and gzipped (the
//! copy decodes to the file), revalidated with its tag, and the directory index.

use std::io::Read as _;

use embedded_io::{ErrorType, Read, Write};
use embedded_responder::io::blocking::serve;
use embedded_responder::{Connection, Router};

struct Pipe<'a> {
    input: &'a [u8],
    output: Vec<u8>,
}

impl ErrorType for Pipe<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Pipe<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Pipe<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// One request to `/ui` + `path`: the head (as text) and the body.
fn get(path: &str, headers: &str) -> (String, Vec<u8>) {
    let input = format!("GET /ui{path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
    let mut io = Pipe {
        input: input.as_bytes(),
        output: Vec::new(),
    };
    let ui = embed_assets_roundtrip::ASSETS;
    let mut app = Router::new()
        .route(
            "/ui",
            embedded_responder::get(move |req, res| ui.at("/ui/").serve(req, res)),
        )
        .nest("/ui", ui)
        .nest("/plain", embed_assets_roundtrip::PLAIN);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    let end = io.output.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let body = io.output.split_off(end);
    (String::from_utf8(io.output).unwrap(), body)
}

fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn every_file_whole_gzipped_and_revalidated() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../examples/webui");
    let files = embed_assets_roundtrip::ASSETS.files();
    assert_eq!(
        files.iter().map(|f| f.path).collect::<Vec<_>>(),
        ["app.js", "index.html", "style.css"]
    );
    for file in files {
        let original = std::fs::read(dir.join(file.path)).unwrap();
        let path = format!("/{}", file.path);

        let (head, body) = get(&path, "");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert_eq!(body, original);
        assert_eq!(header(&head, "etag"), Some(file.etag));
        assert_eq!(header(&head, "content-type"), Some(file.content_type));

        let (head, body) = get(&path, "Accept-Encoding: gzip, deflate\r\n");
        let etag = header(&head, "etag").unwrap().to_string();
        if file.gzip.is_some() {
            assert_eq!(header(&head, "content-encoding"), Some("gzip"), "{head}");
            assert_eq!(header(&head, "vary"), Some("Accept-Encoding"));
            assert_eq!(etag, format!("{}-gz\"", &file.etag[..file.etag.len() - 1]));
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut decoded)
                .unwrap();
            assert_eq!(decoded, original, "{}", file.path);
            assert!(body.len() < original.len());
        } else {
            assert_eq!(body, original);
        }

        let (head, body) = get(
            &path,
            &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"),
        );
        assert!(head.starts_with("HTTP/1.1 304 "), "{head}");
        assert!(body.is_empty());
    }

    let (head, body) = get("/", "");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(body, std::fs::read(dir.join("index.html")).unwrap());
    let (head, _) = get("", "");
    assert_eq!(header(&head, "location"), Some("/ui/"));
}

#[test]
fn a_table_without_gzip_and_with_its_cache_control() {
    assert!(embed_assets_roundtrip::PLAIN
        .files()
        .iter()
        .all(|f| f.gzip.is_none()));
    let input = b"GET /plain/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";
    let mut io = Pipe {
        input,
        output: Vec::new(),
    };
    let mut app = Router::new().nest("/plain", embed_assets_roundtrip::PLAIN);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, &mut app);
    let out = String::from_utf8(io.output).unwrap();
    assert!(out.contains("Cache-Control: max-age=60\r\n"), "{out}");
    assert!(
        !out.contains("Content-Encoding") && !out.contains("Vary"),
        "{out}"
    );
}
