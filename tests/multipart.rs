//! `multipart/form-data` through the real drivers over in-memory IO: a table of valid and
//! broken bodies, each sent whole, cut at every byte offset and a byte per read, with
//! Content-Length and chunked framing, through receive buffers of 256 and 512 bytes (so
//! parts and delimiters cross reads), followed by a pipelined request; the blocking driver
//! with a blocking handler and the async driver with an async one must see the same parts,
//! the same bytes and the same error, and answer the same. Then a 5 MiB file through a
//! 1 KiB receive buffer (CRC-32 compared), and a property test over random forms.

mod common;

use std::cell::RefCell;

use common::{parse_responses, Parsed, Scripted};
use embedded_responder::io::blocking;
use embedded_responder::multipart::{Multipart, MultipartError, Part};
use embedded_responder::{
    get, post, Connection, Request, RequestBody, Responded, Responder, Router, Status, StreamError,
};

/// A part as the handler saw it: name, filename, content type, data.
type Seen = (String, Option<String>, Option<String>, Vec<u8>);

/// What a handler read: every part, then the error that stopped it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Outcome {
    parts: Vec<Seen>,
    error: Option<MultipartError>,
}

fn seen(part: &Part<'_>) -> Seen {
    (
        part.name().to_string(),
        part.filename().map(str::to_string),
        part.content_type().map(str::to_string),
        Vec::new(),
    )
}

/// The handlers' head buffer.
const HEAD_ROOM: usize = 160;

const NEXT: &[u8] = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n";

/// Read every part and all its data (`skip`: read no data, let `next_part` skip it).
fn read_all(req: &Request<'_>, body: RequestBody<'_>, skip: bool) -> Outcome {
    let mut head = [0u8; HEAD_ROOM];
    let mut outcome = Outcome::default();
    let run = || -> Result<(), MultipartError> {
        let mut form = Multipart::new(req, body)?;
        while let Some(part) = form.next_part(&mut head)? {
            outcome.parts.push(seen(&part));
            if skip {
                continue;
            }
            while let Some(piece) = form.read_data()? {
                assert!(!piece.is_empty());
                outcome.parts.last_mut().unwrap().3.extend_from_slice(piece);
            }
        }
        Ok(())
    };
    outcome.error = run().err();
    outcome
}

/// [`read_all`] in an async handler.
async fn read_all_async(
    req: &Request<'_>,
    body: RequestBody<'_>,
    head: &mut [u8],
    skip: bool,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut form = match Multipart::new(req, body) {
        Ok(form) => form,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    loop {
        match form.next_part_async(head).await {
            Ok(Some(part)) => outcome.parts.push(seen(&part)),
            Ok(None) => return outcome,
            Err(e) => {
                outcome.error = Some(e);
                return outcome;
            }
        }
        if skip {
            continue;
        }
        loop {
            match form.read_data_async().await {
                Ok(Some(piece)) => outcome.parts.last_mut().unwrap().3.extend_from_slice(piece),
                Ok(None) => break,
                Err(e) => {
                    outcome.error = Some(e);
                    return outcome;
                }
            }
        }
    }
}

/// 200 with the number of parts, or the error's answer.
fn answer<'a>(res: Responder<'a, '_>, outcome: &Outcome) -> Responded {
    match outcome.error {
        None => res
            .start(Status::OK)
            .body_with(|w| w.push_u64(outcome.parts.len() as u64)),
        Some(e) => e.respond(res),
    }
}

/// `POST /read` (every byte), `POST /skip` (heads only) and `GET /next`, blocking.
fn serve_blocking(
    input: &[u8],
    cuts: Vec<usize>,
    rx: usize,
    log: &RefCell<Vec<Outcome>>,
) -> Vec<u8> {
    let mut app = Router::new()
        .route(
            "/read",
            post(|req, mut res| {
                let outcome = read_all(req, res.request_body(), false);
                log.borrow_mut().push(outcome.clone());
                answer(res, &outcome)
            })
            .stream_body(u64::MAX),
        )
        .route(
            "/skip",
            post(|req, mut res| {
                let outcome = read_all(req, res.request_body(), true);
                log.borrow_mut().push(outcome.clone());
                answer(res, &outcome)
            })
            .stream_body(u64::MAX),
        )
        .route("/next", get(|_req, res| res.text("next")));
    let mut io = Scripted::cut_at(input, cuts);
    let (mut rx, mut tx) = (vec![0u8; rx], vec![0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    io.output
}

/// The same routes on the async driver, with async handlers in the router.
fn serve_async(input: &[u8], cuts: Vec<usize>, rx: usize, log: &RefCell<Vec<Outcome>>) -> Vec<u8> {
    use embedded_responder::io::asynch::{self, NoTimer};
    use embedded_responder::post_async;
    let (mut read_head, mut skip_head) = ([0u8; HEAD_ROOM], [0u8; HEAD_ROOM]);
    let mut app = Router::new()
        .route(
            "/read",
            post_async(async |req, mut res| {
                let outcome = read_all_async(req, res.request_body(), &mut read_head, false).await;
                log.borrow_mut().push(outcome.clone());
                answer(res, &outcome)
            })
            .stream_body(u64::MAX),
        )
        .route(
            "/skip",
            post_async(async |req, mut res| {
                let outcome = read_all_async(req, res.request_body(), &mut skip_head, true).await;
                log.borrow_mut().push(outcome.clone());
                answer(res, &outcome)
            })
            .stream_body(u64::MAX),
        )
        .route("/next", get(|_req, res| res.text("next")));
    let mut io = Scripted::cut_at(input, cuts);
    let (mut rx, mut tx) = (vec![0u8; rx], vec![0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = futures_executor::block_on(asynch::serve(
        &mut io,
        &mut conn,
        &mut app,
        &NoTimer,
        &mut (),
    ));
    io.output
}

/// A request to `path` with this Content-Type and body, by length or chunked (in chunks of
/// 7 bytes), followed by [`NEXT`].
fn request(path: &str, content_type: &str, body: &[u8], chunked: bool) -> Vec<u8> {
    let mut input = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n");
    if chunked {
        input.push_str("Transfer-Encoding: chunked\r\n\r\n");
    } else {
        input.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    }
    let mut input = input.into_bytes();
    if chunked {
        for chunk in body.chunks(7) {
            input.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            input.extend_from_slice(chunk);
            input.extend_from_slice(b"\r\n");
        }
        input.extend_from_slice(b"0\r\n\r\n");
    } else {
        input.extend_from_slice(body);
    }
    input.extend_from_slice(NEXT);
    input
}

struct Case {
    name: &'static str,
    content_type: String,
    body: Vec<u8>,
    expected: Result<Vec<Seen>, MultipartError>,
}

fn field(name: &str, data: &[u8]) -> Seen {
    (name.to_string(), None, None, data.to_vec())
}

fn file(name: &str, filename: &str, content_type: &str, data: &[u8]) -> Seen {
    let (name, filename, ct) = (
        name.to_string(),
        filename.to_string(),
        content_type.to_string(),
    );
    (name, Some(filename), Some(ct), data.to_vec())
}

const B: &str = "----formBoundary7MA4";
const CT: &str = "multipart/form-data; boundary=----formBoundary7MA4";
const CD: &str = "Content-Disposition: form-data; name=";

fn ok(name: &'static str, body: String, parts: Vec<Seen>) -> Case {
    Case {
        name,
        content_type: CT.to_string(),
        body: body.into_bytes(),
        expected: Ok(parts),
    }
}

fn bad(name: &'static str, body: String, error: MultipartError) -> Case {
    Case {
        name,
        content_type: CT.to_string(),
        body: body.into_bytes(),
        expected: Err(error),
    }
}

fn with_type(mut case: Case, content_type: &str) -> Case {
    case.content_type = content_type.to_string();
    case
}

fn cases() -> Vec<Case> {
    use MultipartError::*;
    let long = "0123456789".repeat(7);
    let mut binary: Vec<u8> = (0..=255u8).collect();
    binary.extend_from_slice(b"\r\n--");
    binary.extend_from_slice(B.as_bytes());
    binary.truncate(binary.len() - 1);
    let mut file_body = format!(
        "--{B}\r\n{CD}\"fw\"; filename=\"fw.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    file_body.extend_from_slice(&binary);
    file_body.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
    // Delimiter prefixes, never a whole delimiter (B starts with `--` itself).
    let near = format!(
        "x--{B}\r\n{}\r\n-\r\n--{}\r--{B}\n--{}\r\n-{B}--",
        &B[..B.len() - 1],
        &B[..B.len() - 1],
        &B[2..]
    );
    vec![
        ok("one part", format!("--{B}\r\n{CD}\"a\"\r\n\r\nhello\r\n--{B}--\r\n"), vec![field("a", b"hello")]),
        ok(
            "several parts",
            format!("--{B}\r\n{CD}a\r\n\r\n1\r\n--{B}\r\n{CD}b\r\n\r\ntwo\r\n--{B}\r\n{CD}c\r\n\r\n3 3 3\r\n--{B}--\r\n"),
            vec![field("a", b"1"), field("b", b"two"), field("c", b"3 3 3")],
        ),
        ok(
            "empty parts",
            format!("--{B}\r\n{CD}a\r\n\r\n\r\n--{B}\r\n{CD}b\r\n\r\n--{B}--"),
            vec![field("a", b""), field("b", b"")],
        ),
        Case {
            name: "file part with filename and content type, binary data",
            content_type: CT.to_string(),
            body: file_body,
            expected: Ok(vec![file("fw", "fw.bin", "application/octet-stream", &binary)]),
        },
        ok(
            "data with delimiter prefixes, CRLFs and near misses",
            format!("--{B}\r\n{CD}a\r\n\r\n{near}\r\n\r\n--{B}--"),
            vec![field("a", format!("{near}\r\n").as_bytes())],
        ),
        ok(
            "preamble, padding, epilogue",
            format!("This is the preamble --{B}\r\n--\r\n--{B} \t \r\n{CD}a\r\n\r\nx\r\n--{B}--  \r\nepilogue --{B}\r\n"),
            vec![field("a", b"x")],
        ),
        ok(
            "a field and a file, as a browser sends them",
            format!(
                "--{B}\r\n{CD}\"note\"\r\n\r\nv1.2\r\n--{B}\r\n{CD}\"firmware\"; filename=\"fw v1.2 \\\"final\\\".bin\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n\x7fELF\r\n--{B}--\r\n"
            ),
            vec![
                field("note", b"v1.2"),
                file("firmware", "fw v1.2 \"final\".bin", "application/octet-stream", b"\x7fELF"),
            ],
        ),
        with_type(
            ok("quoted boundary", "--a b'c\r\nContent-Disposition: form-data; name=q\r\n\r\nq\r\n--a b'c--".to_string(), vec![field("q", b"q")]),
            "Multipart/Form-Data; charset=utf-8; boundary=\"a b'c\"",
        ),
        with_type(
            ok(
                "70-character boundary",
                format!("--{long}\r\n{CD}x\r\n\r\n\r\n--{}\r\n--{long}--", &long[..69]),
                vec![field("x", format!("\r\n--{}", &long[..69]).as_bytes())],
            ),
            &format!("multipart/form-data; boundary={long}"),
        ),
        ok("no parts", format!("--{B}--\r\n"), vec![]),
        bad("no closing delimiter", format!("--{B}\r\n{CD}a\r\n\r\nhello\r\n--{B}\r\n"), MissingClosingDelimiter),
        bad("truncated mid-part", format!("--{B}\r\n{CD}a\r\n\r\nhel"), MissingClosingDelimiter),
        bad("truncated in a head", format!("--{B}\r\n{CD}a"), MissingClosingDelimiter),
        bad("no delimiter at all", "just text".to_string(), MissingClosingDelimiter),
        bad("missing Content-Disposition", format!("--{B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{B}--"), MissingContentDisposition),
        bad("missing name", format!("--{B}\r\nContent-Disposition: form-data; filename=a\r\n\r\nx\r\n--{B}--"), MissingName),
        bad("not form-data", format!("--{B}\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--{B}--"), NotFormData),
        bad(
            "head too large for the buffer",
            format!("--{B}\r\n{CD}{}\r\n\r\nx\r\n--{B}--", "n".repeat(HEAD_ROOM)),
            HeadTooLarge { room: HEAD_ROOM },
        ),
        bad("bare LF in a head", format!("--{B}\r\n{CD}a\n\r\nx\r\n--{B}--"), BareLineEnding),
        bad("obs-fold in a head", format!("--{B}\r\n{CD}a\r\n  more\r\n\r\nx\r\n--{B}--"), ObsFold),
        bad("garbage after a delimiter", format!("--{B}\r\n{CD}a\r\n\r\nx\r\n--{B}x\r\n--{B}--"), InvalidDelimiterLine),
        bad(
            "the second part broken",
            format!("--{B}\r\n{CD}a\r\n\r\nx\r\n--{B}\r\n{CD}a\r\n{CD}b\r\n\r\ny\r\n--{B}--"),
            RepeatedHeader,
        ),
        with_type(bad("boundary too long", format!("--{long}1--"), InvalidBoundary), &format!("multipart/form-data; boundary={long}1")),
        with_type(bad("empty boundary", "----".to_string(), InvalidBoundary), "multipart/form-data; boundary=\"\""),
        with_type(bad("bad boundary characters", "--a*b--".to_string(), InvalidBoundary), "multipart/form-data; boundary=a*b"),
        with_type(bad("no boundary", format!("--{B}--"), MissingBoundary), "multipart/form-data"),
        with_type(bad("not multipart", "a=1&b=2".to_string(), NotMultipart), "application/x-www-form-urlencoded"),
    ]
}

/// A driver serving the test routes: input, cuts, receive buffer, the handlers' log.
type Serve = fn(&[u8], Vec<usize>, usize, &RefCell<Vec<Outcome>>) -> Vec<u8>;

/// The first response and what the handler logged, for one way of sending `input`.
type Run = (Parsed, Vec<Outcome>);

fn run(serve: Serve, input: &[u8], cuts: Vec<usize>, rx: usize) -> (Vec<Parsed>, Vec<Outcome>) {
    let log = RefCell::new(Vec::new());
    let out = serve(input, cuts, rx, &log);
    (parse_responses(&out, &[]), log.into_inner())
}

/// Check one way of sending a case against what is expected; the first response and log.
fn check(case: &Case, way: &str, (responses, log): (Vec<Parsed>, Vec<Outcome>), skip: bool) -> Run {
    let expected = match &case.expected {
        Ok(parts) => {
            let parts = parts.iter().cloned().map(|mut p| {
                if skip {
                    p.3.clear();
                }
                p
            });
            Outcome {
                parts: parts.collect(),
                error: None,
            }
        }
        Err(e) => Outcome {
            parts: Vec::new(),
            error: Some(*e),
        },
    };
    assert_eq!(log.len(), 1, "{}, {way}: one request handled", case.name);
    // Parts before an error are what they are; compare the error, and all parts when valid.
    if case.expected.is_ok() {
        assert_eq!(log[0], expected, "{}, {way}", case.name);
    } else {
        assert_eq!(log[0].error, expected.error, "{}, {way}", case.name);
    }
    let first = responses
        .first()
        .unwrap_or_else(|| panic!("{}, {way}: no response", case.name))
        .clone();
    match case.expected {
        Ok(ref parts) => {
            assert_eq!(first.status, 200, "{}, {way}", case.name);
            assert_eq!(
                first.body,
                parts.len().to_string().as_bytes(),
                "{}, {way}",
                case.name
            );
            assert_eq!(
                responses.len(),
                2,
                "{}, {way}: the pipelined request is answered",
                case.name
            );
            assert_eq!(responses[1].body, b"next");
        }
        Err(e) => {
            assert_eq!(first.status, e.status().code(), "{}, {way}", case.name);
            let text = String::from_utf8_lossy(&first.body);
            assert!(
                text.starts_with(e.as_str()),
                "{}, {way}: {text:?}",
                case.name
            );
        }
    }
    (first, log)
}

/// Every case, every way, through `serve`.
fn table_every_way(serve: Serve) {
    let table = cases();
    assert!(table.len() >= 25);
    for case in &table {
        for path in ["/read", "/skip"] {
            for chunked in [false, true] {
                let input = request(path, &case.content_type, &case.body, chunked);
                for rx in [256, 512] {
                    let skip = path == "/skip";
                    let way = format!("{path} chunked={chunked} rx={rx}");
                    let whole = check(
                        case,
                        &format!("{way} whole"),
                        run(serve, &input, vec![], rx),
                        skip,
                    );
                    for cut in 1..input.len() {
                        let got = check(
                            case,
                            &format!("{way} cut at {cut}"),
                            run(serve, &input, vec![cut], rx),
                            skip,
                        );
                        assert_eq!(
                            got.0.status, whole.0.status,
                            "{}: {way} cut at {cut}",
                            case.name
                        );
                        assert_eq!(
                            got.0.body, whole.0.body,
                            "{}: {way} cut at {cut}",
                            case.name
                        );
                        assert_eq!(got.1, whole.1, "{}: {way} cut at {cut}", case.name);
                    }
                    let bytewise = check(
                        case,
                        &format!("{way} bytewise"),
                        run(serve, &input, (1..input.len()).collect(), rx),
                        skip,
                    );
                    assert_eq!(
                        bytewise.0.body, whole.0.body,
                        "{}: {way} bytewise",
                        case.name
                    );
                    assert_eq!(bytewise.1, whole.1, "{}: {way} bytewise", case.name);
                }
            }
        }
    }
}

#[test]
fn the_table_every_way_on_the_blocking_driver() {
    table_every_way(serve_blocking);
}

#[test]
fn the_table_every_way_on_the_async_driver() {
    table_every_way(serve_async);
}

#[test]
fn both_drivers_give_the_same_bytes() {
    for case in cases() {
        let input = request("/read", &case.content_type, &case.body, false);
        for cut in [0, 40, 100, 150] {
            let cuts = vec![cut]
                .into_iter()
                .filter(|&c| c > 0 && c < input.len())
                .collect::<Vec<_>>();
            let log = RefCell::new(Vec::new());
            let blocking = serve_blocking(&input, cuts.clone(), 256, &log);
            let asynchronous = serve_async(&input, cuts, 256, &log);
            assert_eq!(
                String::from_utf8_lossy(&blocking),
                String::from_utf8_lossy(&asynchronous),
                "{} cut at {cut}",
                case.name
            );
            let log = log.into_inner();
            assert_eq!(log[0], log[1], "{}", case.name);
        }
    }
}

#[test]
fn a_body_cut_short_by_the_peer_is_the_bodys_error() {
    let body = format!("--{B}\r\n{CD}a\r\n\r\nhello\r\n--{B}--\r\n");
    let mut input = format!(
        "POST /read HTTP/1.1\r\nHost: x\r\nContent-Type: {CT}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    input.extend_from_slice(&body.as_bytes()[..body.len() - 5]);
    for serve in [serve_blocking as Serve, serve_async] {
        for cut in 1..input.len() {
            let (responses, log) = run(serve, &input, vec![cut], 256);
            let e = MultipartError::Body(StreamError::Body(embedded_responder::Error::Incomplete));
            assert_eq!(log[0].error, Some(e), "cut at {cut}");
            assert_eq!(log[0].parts.len(), 1);
            assert_eq!(responses[0].status, 400);
            assert!(responses[0].closes());
        }
    }
}

#[test]
fn over_the_routes_limit_is_413() {
    let mut app = Router::new().route(
        "/read",
        post(|req, mut res| {
            let outcome = read_all(req, res.request_body(), false);
            answer(res, &outcome)
        })
        .stream_body(64),
    );
    let body = format!("--{B}\r\n{CD}a\r\n\r\n{}\r\n--{B}--\r\n", "x".repeat(100));
    // Chunked: the length is not known before the handler reads past the limit.
    let input = request("/read", CT, body.as_bytes(), true);
    let mut io = Scripted::stepped(&input, 50);
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    let responses = parse_responses(&io.output, &[]);
    assert_eq!((responses.len(), responses[0].status), (1, 413));
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The `file` part's length and CRC-32, other parts skipped: the handler the OTA
/// page needs.
fn crc_of_file(
    req: &Request<'_>,
    body: RequestBody<'_>,
) -> Result<Option<(u64, u32)>, MultipartError> {
    let mut form = Multipart::new(req, body)?;
    let mut head = [0u8; 256];
    let mut found = None;
    while let Some(part) = form.next_part(&mut head)? {
        if part.name() == "file" {
            let mut crc = CRC32.digest();
            let len = form.for_each_data(|piece| crc.update(piece))?;
            found = Some((len, crc.finalize()));
        }
    }
    Ok(found)
}

#[test]
fn a_5_mib_file_through_a_1_kib_receive_buffer() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut data = vec![0u8; 5 << 20];
    for chunk in data.chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    // Near misses of the delimiter, at every alignment the reads may give them.
    for i in 0..2000 {
        let at = (rng.next() as usize) % (data.len() - 64);
        let miss = format!("\r\n--{}", &B[..(i % B.len()) + 1]);
        data[at..at + miss.len()].copy_from_slice(miss.as_bytes());
        if i % B.len() == B.len() - 1 {
            data[at + miss.len() - 1] ^= 1; // a whole boundary would end the part
        }
    }
    let mut body = format!("--{B}\r\n{CD}\"note\"\r\n\r\nbefore\r\n--{B}\r\n{CD}\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(&data);
    body.extend_from_slice(
        format!("\r\n--{B}\r\n{CD}\"after\"\r\n\r\nafter\r\n--{B}--\r\n").as_bytes(),
    );
    let input = request("/ota", CT, &body, false);
    let expected = format!("{} {:08x}", data.len(), CRC32.checksum(&data));

    let mut app = Router::new()
        .route(
            "/ota",
            post(|req, mut res| match crc_of_file(req, res.request_body()) {
                Ok(Some((len, crc))) => res.start(Status::OK).body_with(|w| {
                    w.push_u64(len);
                    w.push_str(&format!(" {crc:08x}"));
                }),
                Ok(None) => res.status(Status::UNPROCESSABLE_CONTENT),
                Err(e) => e.respond(res),
            })
            .stream_body(64 << 20),
        )
        .route("/next", get(|_req, res| res.text("next")));
    // Reads of irregular sizes.
    let mut cuts = Vec::new();
    let mut at = 0;
    loop {
        at += 1 + (rng.next() as usize) % 1500;
        if at >= input.len() {
            break;
        }
        cuts.push(at);
    }
    let mut io = Scripted::cut_at(&input, cuts);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    let responses = parse_responses(&io.output, &[]);
    assert_eq!(responses[0].status, 200);
    assert_eq!(String::from_utf8_lossy(&responses[0].body), expected);
    assert_eq!(responses[1].body, b"next");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Data likely to hold delimiter prefixes and line ends.
    fn data() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                any::<u8>().prop_map(|b| vec![b]),
                Just(b"\r\n".to_vec()),
                Just(b"\r\n--".to_vec()),
                Just(b"--".to_vec()),
                (1..5usize).prop_map(|n| b"\r\n--bo"[..2 + n].to_vec()),
            ],
            0..40,
        )
        .prop_map(|pieces| pieces.concat())
    }

    fn encode(boundary: &str, parts: &[(String, Option<String>, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, filename, data) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n{CD}\"{name}\"").as_bytes());
            if let Some(f) = filename {
                body.extend_from_slice(
                    format!("; filename=\"{f}\"\r\nContent-Type: application/octet-stream")
                        .as_bytes(),
                );
            }
            body.extend_from_slice(b"\r\n\r\n");
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn random_forms_arrive_whole_however_they_are_read(
            boundary in "bo[a-z0-9'()+_,./:=?-]{0,20}",
            parts in prop::collection::vec(("[a-z]{1,8}", prop::option::of("[a-z. ]{0,12}"), data()), 0..5),
            cuts in prop::collection::vec(0..2000usize, 0..6),
            rx in 200..600usize,
        ) {
            let body = encode(&boundary, &parts);
            // An encoder picks a boundary that is not in the data.
            let delimiter = format!("\r\n--{boundary}");
            prop_assume!(!parts.iter().any(|p| {
                let mut d = b"\r\n".to_vec();
                d.extend_from_slice(&p.2);
                d.windows(delimiter.len()).any(|w| w == delimiter.as_bytes())
            }));
            let input = request("/read", &format!("multipart/form-data; boundary=\"{boundary}\""), &body, false);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c > 0 && c < input.len()).collect();
            cuts.sort_unstable();
            let (responses, log) = run(serve_blocking, &input, cuts, rx);
            let expected: Vec<Seen> = parts
                .iter()
                .map(|(n, f, d)| {
                    let ct = f.as_ref().map(|_| "application/octet-stream".to_string());
                    (n.clone(), f.clone(), ct, d.clone())
                })
                .collect();
            prop_assert_eq!(&log[0], &Outcome { parts: expected, error: None });
            prop_assert_eq!(responses.len(), 2);
        }
    }
}

#[test]
fn the_async_futures_hold_no_buffer() {
    let sizes = RefCell::new(Vec::new());
    let mut app = Router::new().route(
        "/form",
        post(|req, mut res| {
            let mut head = [0u8; 512];
            let mut form = Multipart::new(req, res.request_body()).unwrap();
            sizes.borrow_mut().push(core::mem::size_of_val(&form));
            sizes
                .borrow_mut()
                .push(core::mem::size_of_val(&form.next_part_async(&mut head)));
            sizes
                .borrow_mut()
                .push(core::mem::size_of_val(&form.read_data_async()));
            sizes
                .borrow_mut()
                .push(core::mem::size_of_val(&form.for_each_data_async(|_| {})));
            res.status(Status::OK)
        }),
    );
    let input = request("/form", CT, format!("--{B}--").as_bytes(), false);
    let mut io = Scripted::stepped(&input, usize::MAX);
    let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    let sizes = sizes.into_inner();
    eprintln!("Multipart, next_part_async, read_data_async, for_each_data_async: {sizes:?} B");
    // Pointers and small state (on a 64-bit host): the buffers are the caller's.
    assert!(sizes.iter().all(|&n| n <= 160), "{sizes:?}");
}
