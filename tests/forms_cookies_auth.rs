//! Forms and queries, redirects, cookies and Basic auth, over the blocking driver in memory:
//! each case alone, then all of them pipelined on one connection at several read sizes.

mod common;

use common::{parse_responses, Parsed, Scripted};
use embedded_responder::cookie::{cookie, cookies, SameSite, SetCookie};
use embedded_responder::form::{FieldError, FieldErrorKind, Form};
use embedded_responder::io::blocking::serve;
use embedded_responder::io::Action;
use embedded_responder::Redirect;
use embedded_responder::{
    get, post, Connection, Failure, Handler, Request, Responded, Responder, Router, Status,
};

/// Serve `requests` (whole requests, bytes) on one connection, read `step` bytes at a time.
fn serve_all(app: &mut impl Handler, requests: &[String], step: usize) -> Vec<Parsed> {
    let input: String = requests.concat();
    let mut io = Scripted::stepped(input.as_bytes(), step);
    let (mut rx, mut tx) = ([0u8; 1024], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let _ = serve(&mut io, &mut conn, app);
    let heads: Vec<bool> = requests.iter().map(|r| r.starts_with("HEAD")).collect();
    parse_responses(&io.output, &heads)
}

/// A request with these extra header lines and body (Content-Length added).
fn request(line: &str, headers: &[&str], body: &str) -> String {
    let mut r = format!("{line} HTTP/1.1\r\nHost: x\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    r
}

/// A request and the check of its response.
type Case = (String, &'static dyn Fn(&Parsed));

/// Each case alone, then all pipelined byte by byte and in 7-byte reads: the same answers.
fn check_cases(app: &mut impl Handler, cases: &[Case]) {
    for (req, check) in cases {
        let got = serve_all(app, std::slice::from_ref(req), 1 << 20);
        assert_eq!(got.len(), 1, "{req}");
        check(&got[0]);
    }
    let all: Vec<String> = cases.iter().map(|c| c.0.clone()).collect();
    for step in [1, 7] {
        let got = serve_all(app, &all, step);
        assert_eq!(got.len(), cases.len(), "step {step}");
        for ((req, check), parsed) in cases.iter().zip(&got) {
            let _ = req;
            check(parsed);
        }
    }
}

/// An expectation that lives as long as the test (the cases borrow it).
fn leak(check: impl Fn(&Parsed) + 'static) -> &'static dyn Fn(&Parsed) {
    Box::leak(Box::new(check))
}

fn text(p: &Parsed) -> &str {
    std::str::from_utf8(&p.body).unwrap()
}

// ---------------------------------------------------------------------------------------
// Forms and queries

fn config<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let form = match Form::from_request(req) {
        Ok(form) => form,
        Err(e) => return e.respond(res),
    };
    let ssid = match form.text::<32>("ssid") {
        Ok(ssid) if ssid.is_empty() => Err(FieldError::new("ssid", FieldErrorKind::Empty)),
        other => other,
    };
    match (ssid, form.number_in::<u32>("interval", 1..=3600)) {
        (Ok(ssid), Ok(interval)) => res.start(Status::OK).body_with(|w| {
            w.push_str(&ssid);
            w.push_str("|");
            w.push_u64(u64::from(interval));
        }),
        (Err(e), _) | (_, Err(e)) => e.respond(res, Status::UNPROCESSABLE_CONTENT),
    }
}

fn search<'a>(req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
    let query = Form::query(req);
    let mut buf = [0u8; 16];
    match query.decode_into("q", &mut buf) {
        Ok(q) => {
            let page = query.number::<u8>("page").unwrap_or(1);
            res.start(Status::OK).body_with(|w| {
                w.push_str(q);
                w.push_str("@");
                w.push_u64(u64::from(page));
                for tag in query.values("tag") {
                    w.push_str(",");
                    w.push_str(&tag.text::<8>().unwrap_or_default());
                }
            })
        }
        Err(e) => e.respond(res, Status::BAD_REQUEST),
    }
}

fn form_app() -> impl Handler {
    Router::new()
        .route("/config", post(config))
        .route("/search", get(search))
}

const FORM: &str = "Content-Type: application/x-www-form-urlencoded";

#[test]
fn form_fields_decoded_typed_and_named_in_errors() {
    let post = |headers: &[&str], body: &str| request("POST /config", headers, body);
    let ok = |want: &'static str| {
        leak(move |p: &Parsed| {
            assert_eq!(p.status, 200);
            assert_eq!(text(p), want);
        })
    };
    let unprocessable = |want: &'static str| {
        leak(move |p: &Parsed| {
            assert_eq!((p.status, text(p)), (422, want));
            assert_eq!(p.header("content-type"), Some("text/plain; charset=utf-8"));
        })
    };
    let cases: Vec<Case> = vec![
        (
            post(&[FORM], "ssid=My+Home%21&interval=60"),
            ok("My Home!|60"),
        ),
        (post(&[FORM], "interval=1&ssid=caf%C3%A9"), ok("café|1")),
        (
            post(
                &["Content-Type: Application/X-WWW-Form-Urlencoded; charset=UTF-8"],
                "ssid=a&interval=3600",
            ),
            ok("a|3600"),
        ),
        (post(&[FORM], "ssid=%2B%26%3D&interval=2"), ok("+&=|2")),
        (post(&[FORM], "ssid="), unprocessable("ssid: empty\n")),
        (
            post(&[FORM], "interval=5"),
            unprocessable("ssid: missing\n"),
        ),
        (
            post(&[FORM], "ssid=x"),
            unprocessable("interval: missing\n"),
        ),
        (
            post(&[FORM], "ssid=a%zz&interval=5"),
            unprocessable("ssid: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a%00&interval=5"),
            unprocessable("ssid: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=%C3&interval=5"),
            unprocessable("ssid: malformed\n"),
        ),
        (
            post(&[FORM], &format!("ssid={}&interval=5", "x".repeat(33))),
            unprocessable("ssid: too long\n"),
        ),
        (
            post(&[FORM], &format!("ssid={}&interval=5", "%41".repeat(32))),
            ok("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA|5"),
        ),
        (
            post(&[FORM], "ssid=a&interval=+5"),
            unprocessable("interval: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval=05"),
            unprocessable("interval: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval=5s"),
            unprocessable("interval: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval="),
            unprocessable("interval: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval=0"),
            unprocessable("interval: out of range\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval=3601"),
            unprocessable("interval: out of range\n"),
        ),
        (
            post(&[FORM], "ssid=a&interval=99999999999999999999999"),
            unprocessable("interval: malformed\n"),
        ),
        (
            post(&[FORM], "ssid=a&ssid=b&interval=5"),
            unprocessable("ssid: repeated\n"),
        ),
        (
            post(&["Content-Type: application/json"], "{\"ssid\":\"a\"}"),
            &|p: &Parsed| {
                assert_eq!(p.status, 415);
                assert!(text(p).contains("application/x-www-form-urlencoded"));
            },
        ),
        (post(&[], "ssid=a&interval=5"), &|p: &Parsed| {
            assert_eq!(p.status, 415)
        }),
        (
            post(&["Content-Type: multipart/form-data; boundary=x"], "--x--"),
            &|p: &Parsed| assert_eq!(p.status, 415),
        ),
    ];
    check_cases(&mut form_app(), &cases);
}

#[test]
fn query_fields() {
    let get = |target: &str| request(&format!("GET {target}"), &[], "");
    let ok = |want: &'static str| {
        leak(move |p: &Parsed| {
            assert_eq!((p.status, text(p)), (200, want));
        })
    };
    let cases: Vec<Case> = vec![
        (get("/search?q=a+b%20c"), ok("a b c@1")),
        (get("/search?page=3&q=x"), ok("x@3")),
        (get("/search?q=x&page=01"), ok("x@1")), // not canonical: the handler's default
        (get("/search?q=x&tag=a&tag=b%2Fc"), ok("x@1,a,b/c")),
        (get("/search?q="), ok("@1")),
        (get("/search?q"), ok("@1")),
        (get("/search"), &|p: &Parsed| {
            assert_eq!((p.status, text(p)), (400, "q: missing\n"))
        }),
        (get("/search?qq=1"), &|p: &Parsed| {
            assert_eq!((p.status, text(p)), (400, "q: missing\n"))
        }),
        (get("/search?q=%41%4"), &|p: &Parsed| {
            assert_eq!((p.status, text(p)), (400, "q: malformed\n"))
        }),
        (get("/search?q=0123456789abcdefX"), &|p: &Parsed| {
            assert_eq!((p.status, text(p)), (400, "q: too long\n"))
        }),
        (get("/search?q=1&q=2"), &|p: &Parsed| {
            assert_eq!((p.status, text(p)), (400, "q: repeated\n"))
        }),
    ];
    check_cases(&mut form_app(), &cases);
}

// ---------------------------------------------------------------------------------------
// Redirects

#[test]
fn redirects_carry_their_status_and_location() {
    let mut app = Router::new()
        .route(
            "/303",
            post(|_req, res| res.redirect(Redirect::SeeOther, "/config")),
        )
        .route(
            "/307",
            get(|_req, res| res.redirect(Redirect::Temporary, "/b?x=1")),
        )
        .route(
            "/308",
            get(|_req, res| res.redirect(Redirect::Permanent, "https://example.com/")),
        )
        .route("/302", get(|_req, res| res.redirect(Redirect::Found, "/f")))
        .route(
            "/301",
            get(|_req, res| res.redirect(Redirect::MovedPermanently, "/m")),
        );
    let expect = |status: u16, location: &'static str| {
        leak(move |p: &Parsed| {
            assert_eq!(p.status, status);
            assert_eq!(p.header("location"), Some(location));
            assert_eq!(p.header("content-length"), Some("0"));
            assert!(!p.closes());
        })
    };
    let r = |line: &str| request(line, &[], "");
    let cases: Vec<Case> = vec![
        (r("POST /303"), expect(303, "/config")),
        (r("GET /307"), expect(307, "/b?x=1")),
        (r("GET /308"), expect(308, "https://example.com/")),
        (r("GET /302"), expect(302, "/f")),
        (r("GET /301"), expect(301, "/m")),
        (r("HEAD /301"), expect(301, "/m")),
    ];
    check_cases(&mut app, &cases);
    assert_eq!(Redirect::SeeOther.status(), Status::SEE_OTHER);
}

/// The failure the log line would show for `handler`'s answer to a GET.
fn failure_of(handler: impl Handler) -> (u16, Option<Failure>) {
    let mut app = handler;
    let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
    let mut conn = Connection::new(&mut rx, &mut tx);
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    conn.read_buf()[..req.len()].copy_from_slice(req);
    conn.received(req.len());
    match conn.poll(&mut app) {
        Action::Write(t) => {
            let exchange = t.exchange.expect("a final response");
            (exchange.status.code(), exchange.failure)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refused_locations_are_500_with_a_reason() {
    let refused = Some(Failure::InvalidHeader);
    for location in [
        "/a\r\nSet-Cookie: x=1",
        "/a\nb",
        "/a b",
        "",
        "/caf\u{e9}",
        "/\0",
        "/\t",
    ] {
        let got = failure_of(move |_req: &Request<'_>, res: Responder<'_, '_>| {
            res.redirect(Redirect::SeeOther, location)
        });
        assert_eq!(got, (500, refused), "{location:?}");
    }
    let got = failure_of(|_req: &Request<'_>, res: Responder<'_, '_>| {
        res.redirect(Redirect::SeeOther, "/ok")
    });
    assert_eq!(got, (303, None));
}

// ---------------------------------------------------------------------------------------
// Cookies

fn cookie_app() -> impl Handler {
    Router::new()
        .route(
            "/whoami",
            get(|req, res| {
                let session = cookie(req, "session").unwrap_or("-");
                let count = cookies(req).count();
                res.start(Status::OK).body_with(|w| {
                    w.push_str(session);
                    w.push_str(" ");
                    w.push_u64(count as u64);
                })
            }),
        )
        .route(
            "/login",
            post(|_req, res| {
                let session = SetCookie::new("session", "abc123")
                    .path("/")
                    .max_age(3600)
                    .http_only()
                    .secure()
                    .same_site(SameSite::Strict);
                let theme = SetCookie::new("theme", "dark").path("/");
                res.start(Status::SEE_OTHER)
                    .header("Location", "/")
                    .set_cookie(&session)
                    .set_cookie(&theme)
                    .body(&[])
            }),
        )
        .route(
            "/logout",
            post(|_req, res| {
                res.start(Status::NO_CONTENT)
                    .set_cookie(&SetCookie::removal("session").path("/"))
                    .body(&[])
            }),
        )
}

#[test]
fn cookies_read_from_every_cookie_header() {
    let who = |headers: &[&str]| request("GET /whoami", headers, "");
    let says =
        |want: &'static str| leak(move |p: &Parsed| assert_eq!((p.status, text(p)), (200, want)));
    let cases: Vec<Case> = vec![
        (who(&[]), says("- 0")),
        (who(&["Cookie: session=abc"]), says("abc 1")),
        (
            who(&["Cookie: theme=dark; session=abc; x=y"]),
            says("abc 3"),
        ),
        (who(&["Cookie: theme=dark;session=abc"]), says("abc 2")),
        (
            who(&["Cookie: theme=dark", "Cookie: session=abc"]),
            says("abc 2"),
        ),
        (
            who(&["cookie: session=first", "COOKIE: session=second"]),
            says("first 2"),
        ),
        (who(&["Cookie: session=\"quoted\""]), says("quoted 1")),
        (
            who(&["Cookie: Session=upper; session=lower"]),
            says("lower 2"),
        ),
        (who(&["Cookie: sessionx=1; xsession=2"]), says("- 2")),
        (who(&["Cookie: session="]), says(" 1")),
        (who(&["Cookie: flag; session=a=b"]), says("a=b 1")),
        (who(&["Cookie: ; ;session=z;"]), says("z 1")),
        (who(&["X-Cookie: session=no"]), says("- 0")),
    ];
    check_cases(&mut cookie_app(), &cases);
}

#[test]
fn set_cookie_headers() {
    let got = serve_all(
        &mut cookie_app(),
        &[
            request("POST /login", &[], ""),
            request("POST /logout", &[], ""),
        ],
        1 << 20,
    );
    assert_eq!(got[0].status, 303);
    let set: Vec<&str> = got[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        set,
        [
            "session=abc123; Path=/; Max-Age=3600; Secure; HttpOnly; SameSite=Strict",
            "theme=dark; Path=/"
        ]
    );
    assert_eq!(got[1].status, 204);
    assert_eq!(
        got[1].header("set-cookie"),
        Some("session=; Path=/; Max-Age=0")
    );
}

#[test]
fn refused_cookies_are_500_with_a_reason() {
    let bad = [
        SetCookie::new("session", "a\r\nEvil: 1"),
        SetCookie::new("session", "a;b"),
        SetCookie::new("session", "a b"),
        SetCookie::new("se ssion", "a"),
        SetCookie::new("session", "a").path("/\r\n"),
        SetCookie::new("session", "a").same_site(SameSite::None),
    ];
    for cookie in bad {
        let got = failure_of(move |_req: &Request<'_>, res: Responder<'_, '_>| {
            res.start(Status::OK).set_cookie(&cookie).body(b"x")
        });
        assert_eq!(got, (500, Some(Failure::InvalidHeader)), "{cookie:?}");
        assert!(cookie.check().is_err());
    }
}

// ---------------------------------------------------------------------------------------
// Basic auth

#[cfg(feature = "auth")]
mod auth {
    use super::*;
    use base64::Engine;
    use embedded_responder::auth::BasicAuth;
    use embedded_responder::{on, Method};

    fn basic(credentials: &str) -> String {
        let mut out = vec![0u8; credentials.len() * 2 + 4];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(credentials, &mut out)
            .unwrap();
        format!(
            "Authorization: Basic {}",
            std::str::from_utf8(&out[..n]).unwrap()
        )
    }

    fn admin_page<'a>(_req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        res.text("admin")
    }

    fn app(auth: BasicAuth<'static>) -> impl Handler {
        let settings = Router::new()
            .route("/", get(|_req, res| res.text("settings")))
            .route(
                "/upload",
                post(|_req, res| res.text("uploaded")).stream_body(1 << 20),
            );
        Router::new()
            .route("/", get(|_req, res| res.text("public")))
            .route("/admin", on(Method::Get, auth.protect(admin_page)))
            .route(
                "/closure",
                on(
                    Method::Get,
                    auth.protect_fn(|_req, res| res.text("closure")),
                ),
            )
            .nest("/settings", auth.protect(settings))
            .route(
                "/by-hand",
                get(move |req, res| {
                    if auth.check(req) {
                        res.text("by hand")
                    } else {
                        auth.challenge(res)
                    }
                }),
            )
    }

    fn unauthorized(p: &Parsed) {
        assert_eq!(p.status, 401);
        assert_eq!(
            p.header("www-authenticate"),
            Some("Basic realm=\"my device\", charset=\"UTF-8\"")
        );
        assert_eq!(text(p), "Unauthorized\n");
    }

    #[test]
    fn credentials_checked_per_route_and_per_router() {
        let auth = BasicAuth::new("my device", "admin", "pa:ss:w0rd").unwrap();
        let good = basic("admin:pa:ss:w0rd");
        assert!(good.ends_with("=="), "the unpadded case below differs");
        let get = |target: &str, headers: &[&str]| request(&format!("GET {target}"), headers, "");
        let says = |want: &'static str| {
            leak(move |p: &Parsed| assert_eq!((p.status, text(p)), (200, want)))
        };
        let header = |scheme: &str, token: &str| format!("Authorization: {scheme} {token}");
        let token = good.trim_start_matches("Authorization: Basic ").to_string();
        let wrong_user = basic("root:pa:ss:w0rd");
        let wrong_password = basic("admin:pa:ss:w0r");
        let longer_password = basic("admin:pa:ss:w0rd!");
        let empty_password = basic("admin:");
        let no_colon = basic("adminpa");
        let unpadded = header("Basic", token.trim_end_matches('='));
        let lower = header("basic", &token);
        let upper = header("BASIC", &token);
        let spaced = header("Basic ", &token);
        let bearer = header("Bearer", &token);
        let bad_b64 = header("Basic", "!!!!");
        let bad_b64_tail = header("Basic", &format!("{token}x"));
        let bare = "Authorization: Basic".to_string();
        let long = basic(&format!("admin:{}", "x".repeat(300)));
        let cases: Vec<Case> = vec![
            (get("/", &[]), says("public")),
            (get("/admin", &[]), &unauthorized),
            (get("/admin", &[&good]), says("admin")),
            (get("/admin", &[&lower]), says("admin")),
            (get("/admin", &[&upper]), says("admin")),
            (get("/admin", &[&spaced]), says("admin")),
            (get("/admin", &[&wrong_user]), &unauthorized),
            (get("/admin", &[&wrong_password]), &unauthorized),
            (get("/admin", &[&longer_password]), &unauthorized),
            (get("/admin", &[&empty_password]), &unauthorized),
            (get("/admin", &[&no_colon]), &unauthorized),
            (get("/admin", &[&unpadded]), &unauthorized),
            (get("/admin", &[&bearer]), &unauthorized),
            (get("/admin", &[&bad_b64]), &unauthorized),
            (get("/admin", &[&bad_b64_tail]), &unauthorized),
            (get("/admin", &[&bare]), &unauthorized),
            (get("/admin", &[&long]), &unauthorized),
            (get("/settings/", &[]), &unauthorized),
            (get("/settings/", &[&good]), says("settings")),
            (get("/settings/nothing", &[]), &unauthorized), // no 404 before logging in
            (get("/settings/nothing", &[&good]), &|p: &Parsed| {
                assert_eq!(p.status, 404)
            }),
            (get("/closure", &[]), &unauthorized),
            (get("/closure", &[&good]), says("closure")),
            (get("/by-hand", &[]), &unauthorized),
            (get("/by-hand", &[&good]), says("by hand")),
            (request("POST /admin", &[], ""), &|p: &Parsed| {
                assert_eq!(p.status, 405)
            }),
        ];
        check_cases(&mut app(auth), &cases);
    }

    #[test]
    fn a_refused_upload_is_not_read() {
        // The protected route streams its body: an unauthenticated upload larger than the
        // receive buffer gets 401 (not 413), and the client is not asked for the body.
        let auth = BasicAuth::new("my device", "admin", "admin").unwrap();
        let upload = "POST /settings/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\
                      Expect: 100-continue\r\n\r\n"
            .to_string();
        let got = serve_all(&mut app(auth), &[upload], 1 << 20);
        assert_eq!(got.len(), 1);
        unauthorized(&got[0]);
        assert!(got[0].closes());
    }

    #[test]
    fn empty_realm_and_password_are_allowed() {
        let auth = BasicAuth::new("", "u", "").unwrap();
        let mut app = Router::new().route("/", on(Method::Get, auth.protect(admin_page)));
        let got = serve_all(
            &mut app,
            &[
                request("GET /", &[&basic("u:")], ""),
                request("GET /", &[], ""),
            ],
            1 << 20,
        );
        assert_eq!(got[0].status, 200);
        assert_eq!(
            got[1].header("www-authenticate"),
            Some("Basic realm=\"\", charset=\"UTF-8\"")
        );
    }
}
