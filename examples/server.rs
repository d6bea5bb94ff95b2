//! The classic "Hello, World" socket server, done properly: the demo app on the recommended
//! host server (`tokio_server`: tasks on tokio's current-thread runtime, the async driver).
//!
//! ```text
//! cargo run --release --example server                 # 127.0.0.1:8000
//! cargo run --release --example server -- 0.0.0.0:8080
//! cargo run --release --example server -- 127.0.0.1:0 --quiet
//! ```
//!
//! Routes (see `embedded_responder::demo`): `GET /` the classic page, `POST /echo` echoes the
//! body with its Content-Type, `POST /upload` takes a body of any size and answers its length
//! and CRC-32, `GET /stream?bytes=N` streams N bytes, `GET /events` streams Server-Sent Events
//! (and `GET /live` shows them in a page); anything else 404 (an HTML page); wrong methods get
//! 405 + `Allow`. Ctrl+C stops it cleanly (a second Ctrl+C exits at once).

use embedded_responder::demo;
use embedded_responder::tokio_server::{Config, Server};

fn main() {
    let mut addr = String::from("127.0.0.1:8000");
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quiet" | "-q" => config.log = false,
            "--max-connections" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => config.max_connections = n,
                None => {
                    eprintln!("--max-connections takes a number");
                    std::process::exit(2);
                }
            },
            "--help" | "-h" => {
                println!(
                    "usage: server [ADDRESS] [--quiet] [--max-connections N]   \
                     (default 127.0.0.1:8000, 256 connections)"
                );
                return;
            }
            _ => addr = arg,
        }
    }

    let server = match Server::bind(&addr, config) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    let handle = server.shutdown_handle();
    ctrlc::set_handler(move || {
        if handle.is_shutting_down() {
            std::process::exit(130);
        }
        eprintln!("shutting down (Ctrl+C again to exit at once)");
        handle.shutdown();
    })
    .expect("installing the Ctrl+C handler");

    match server.local_addr() {
        Ok(local) => println!("listening on http://{local}/"),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }

    if let Err(e) = server.run(demo::async_app) {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
    eprintln!("stopped");
}
