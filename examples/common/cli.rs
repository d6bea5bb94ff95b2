//! What both host examples share: their command line, Ctrl+C, and messages that a closed
//! standard error cannot turn into a panic.

use embedded_responder::host::{Config, ShutdownHandle};

/// `[ADDRESS] [--quiet] [--max-connections N] [--password P] [--cors-origin O]...
/// [--ws-max-message BYTES]`: the
/// address (default 127.0.0.1:8000) and the server's settings (the password of `/admin` and
/// `/ota`: see [`admin_password`]; more origins for `/api/`: see [`cors_origins`]; the
/// largest message `/ws` and `/ws/ticks` take, default 64 KiB, up to 4 GiB - 1). Exits
/// with a usage line on `--help` or a bad argument.
pub fn parse(name: &str) -> (String, Config) {
    let mut addr = String::from("127.0.0.1:8000");
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    let mut origins = Vec::new();
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
            "--help" | "-h" => usage(name, 0),
            _ => addr = arg,
        }
    }
    if !origins.is_empty() {
        let mut all: Vec<&'static str> = demo_app::CORS_ORIGINS.to_vec();
        all.extend(origins.into_iter().map(|o| &*o.leak()));
        let _ = ORIGINS.set(all);
    }
    (addr, config)
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
         [--cors-origin ORIGIN]... [--ws-max-message BYTES]   (default 127.0.0.1:8000, \
         4,096 connections, password admin, CORS for http://localhost:3000, WebSocket \
         messages up to 65536 bytes)"
    );
    std::process::exit(code)
}

/// A line on standard error, or nothing if it cannot be written.
pub fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Ctrl+C shuts the server down cleanly; a second one exits at once.
pub fn stop_on_ctrl_c(handle: ShutdownHandle) {
    let installed = ctrlc::set_handler(move || {
        if handle.is_shutting_down() {
            std::process::exit(130);
        }
        say("shutting down (Ctrl+C again to exit at once)");
        handle.shutdown();
    });
    if let Err(e) = installed {
        say(&format!("cannot install the Ctrl+C handler: {e}"));
        std::process::exit(1);
    }
}
