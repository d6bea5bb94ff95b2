//! The classic "Hello, World" socket server, done properly: the demo app on the recommended
//! host server (`tokio_server`: tasks on tokio's current-thread runtime, the async driver).
//!
//! ```text
//! cargo run --release --example server                 # 127.0.0.1:8000
//! cargo run --release --example server -- 0.0.0.0:8080
//! cargo run --release --example server -- 127.0.0.1:0 --quiet
//! cargo run --release --example server -- 127.0.0.1:8443 --tls-cert cert.pem --tls-key key.pem \
//!     --redirect-http 8080                             # https://127.0.0.1:8443/
//! ```
//!
//! Routes (see the `demo-app` crate, `examples/demo`): `GET /` the classic page, `POST /echo` echoes the
//! body with its Content-Type, `POST /upload` takes a body of any size and answers its length
//! and CRC-32, `GET /stream?bytes=N` streams N bytes, `GET /events` streams Server-Sent Events
//! (and `GET /live` shows them in a page); anything else 404 (an HTML page); wrong methods get
//! 405 + `Allow`. Ctrl+C stops it cleanly (a second Ctrl+C exits at once).

#[path = "common/cli.rs"]
mod cli;

use demo_app as demo;
use embedded_responder::host::tls::RedirectToHttps;
use embedded_responder::host::tokio_server::{Acceptor, Server};

fn main() {
    let (addr, config) = cli::parse("server");
    let server = match Server::bind(&addr, config.clone()) {
        Ok(server) => server,
        Err(e) => {
            cli::say(&format!("cannot listen on {addr}: {e}"));
            std::process::exit(1);
        }
    };
    let mut handles = vec![server.shutdown_handle()];
    let tls = cli::tls();
    // `--redirect-http PORT`: a plain listener beside, on a thread of its own.
    if let (Some(port), Some(_), Ok(local)) = (cli::redirect_http(), &tls, server.local_addr()) {
        let plain_addr = cli::with_port(&addr, port);
        let redirect = match Server::bind(&plain_addr, config) {
            Ok(redirect) => redirect,
            Err(e) => {
                cli::say(&format!("cannot listen on {plain_addr}: {e}"));
                std::process::exit(1);
            }
        };
        handles.push(redirect.shutdown_handle());
        if let Ok(plain) = redirect.local_addr() {
            println!("redirecting http://{plain}/ to https");
        }
        let https_port = local.port();
        std::thread::spawn(move || {
            let _ = redirect.run(move || RedirectToHttps { port: https_port });
        });
    }
    cli::stop_on_ctrl_c(handles);
    let served = match tls {
        Some(tls) => serve(server.with_acceptor(tls), "https"),
        None => serve(server, "http"),
    };
    if let Err(e) = served {
        cli::say(&format!("server error: {e}"));
        std::process::exit(1);
    }
    cli::say("stopped");
}

fn serve<A: Acceptor>(server: Server<A>, scheme: &str) -> std::io::Result<()> {
    match server.local_addr() {
        Ok(local) => println!("listening on {scheme}://{local}/"),
        Err(e) => cli::say(&format!("listening (address unknown: {e})")),
    }
    server.run(|| demo::app_with(cli::admin_password(), cli::cors_origins()))
}
