//! What both host examples share: their command line, Ctrl+C, and messages that a closed
//! standard error cannot turn into a panic.

use embedded_responder::host::tls::Tls;
use embedded_responder::host::{Config, ShutdownHandle};

/// `[ADDRESS] [--quiet] [--max-connections N] [--password P] [--cors-origin O]...
/// [--ws-max-message BYTES] [--tls-cert CERT.pem --tls-key KEY.pem [--redirect-http PORT]]`:
/// the
/// address (default 127.0.0.1:8000) and the server's settings (the password of `/admin` and
/// `/ota`: see [`admin_password`]; more origins for `/api/`: see [`cors_origins`]; the
/// largest message `/ws` and `/ws/ticks` take, default 64 KiB, up to 4 GiB - 1). Exits
/// with a usage line on `--help` or a bad argument.
pub fn parse(name: &str) -> (String, Config) {
    let mut addr = String::from("127.0.0.1:8000");
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    let mut origins = Vec::new();
    let (mut tls_cert, mut tls_key) = (None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quiet" | "-q" => config.log = false,
            "--max-connections" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => config.max_connections = n,
                None => usage(name, 2),
            },
            "--password" => match args.next() {
                Some(p) => {
                    let _ = PASSWORD.set(p);
                }
                None => usage(name, 2),
            },
            "--cors-origin" => match args.next() {
                Some(o) => origins.push(o),
                None => usage(name, 2),
            },
            "--ws-max-message" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => demo_app::set_ws_max_message(n),
                None => usage(name, 2),
            },
            "--tls-cert" | "--tls-key" => match args.next() {
                Some(path) if arg == "--tls-cert" => tls_cert = Some(path),
                Some(path) => tls_key = Some(path),
                None => usage(name, 2),
            },
            "--redirect-http" => match args.next().and_then(|n| n.parse().ok()) {
                Some(port) => {
                    let _ = REDIRECT_HTTP.set(port);
                }
                None => usage(name, 2),
            },
            "--help" | "-h" => usage(name, 0),
            _ => addr = arg,
        }
    }
    if !origins.is_empty() {
        let mut all: Vec<&'static str> = demo_app::CORS_ORIGINS.to_vec();
        all.extend(origins.into_iter().map(|o| &*o.leak()));
        let _ = ORIGINS.set(all);
    }
    match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => {
            // A missing or unusable certificate or key is an error at start (exit code 1).
            match Tls::from_pem_files(&cert, &key) {
                Ok(tls) => {
                    let _ = TLS.set(tls);
                }
                Err(e) => {
                    say(&format!("cannot serve HTTPS: {e}"));
                    std::process::exit(1);
                }
            }
        }
        (None, None) if REDIRECT_HTTP.get().is_some() => {
            say("--redirect-http needs --tls-cert and --tls-key");
            std::process::exit(2);
        }
        (None, None) => {}
        _ => {
            say("--tls-cert and --tls-key go together");
            std::process::exit(2);
        }
    }
    (addr, config)
}

/// The certificate and key of `--tls-cert` and `--tls-key`, loaded.
static TLS: std::sync::OnceLock<Tls> = std::sync::OnceLock::new();

/// HTTPS with the certificate and key given (`--tls-cert`, `--tls-key`), if any.
pub fn tls() -> Option<Tls> {
    TLS.get().cloned()
}

/// The port of `--redirect-http PORT`.
static REDIRECT_HTTP: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

/// The port of `--redirect-http PORT`: a plain HTTP listener beside the TLS one that sends
/// every request to the https URL with 308.
pub fn redirect_http() -> Option<u16> {
    REDIRECT_HTTP.get().copied()
}

/// `addr` (`IP:PORT`, `[IPv6]:PORT` or `HOST:PORT`) with its port replaced by `port`.
pub fn with_port(addr: &str, port: u16) -> String {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    format!("{host}:{port}")
}
/// The origins the `--cors-origin` options add, with the demo's own.
static ORIGINS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();

/// The origins whose pages may call the demo's `/api/` (CORS): the demo's default
/// (`http://localhost:3000`) and every `--cors-origin O` given.
pub fn cors_origins() -> &'static [&'static str] {
    ORIGINS.get().map_or(demo_app::CORS_ORIGINS, Vec::as_slice)
}

/// The `--password` given, if any.
static PASSWORD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The password of the demo's `/admin` (user `admin`): `--password P`, else the demo's
/// default (`admin`).
pub fn admin_password() -> &'static str {
    PASSWORD
        .get()
        .map_or(demo_app::ADMIN_PASSWORD, String::as_str)
}

fn usage(name: &str, code: i32) -> ! {
    println!(
        "usage: {name} [ADDRESS] [--quiet] [--max-connections N] [--password P] \
         [--cors-origin ORIGIN]... [--ws-max-message BYTES] \
         [--tls-cert CERT.pem --tls-key KEY.pem [--redirect-http PORT]]   (default \
         127.0.0.1:8000, 4,096 connections, password admin, CORS for http://localhost:3000, \
         WebSocket messages up to 65536 bytes, plain HTTP)"
    );
    std::process::exit(code)
}

/// A line on standard error, or nothing if it cannot be written.
pub fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Ctrl+C shuts the servers down cleanly; a second one exits at once.
pub fn stop_on_ctrl_c(handles: Vec<ShutdownHandle>) {
    let installed = ctrlc::set_handler(move || {
        if handles.iter().any(ShutdownHandle::is_shutting_down) {
            std::process::exit(130);
        }
        say("shutting down (Ctrl+C again to exit at once)");
        for handle in &handles {
            handle.shutdown();
        }
    });
    if let Err(e) = installed {
        say(&format!("cannot install the Ctrl+C handler: {e}"));
        std::process::exit(1);
    }
}
