//! The classic "Hello, World" socket server, done properly.
//!
//! ```text
//! cargo run --release --example server                 # 127.0.0.1:8000
//! cargo run --release --example server -- 0.0.0.0:8080
//! cargo run --release --example server -- 127.0.0.1:0 --quiet
//! ```
//!
//! Routes: `GET /` the page below, `POST /echo` echoes the body with its Content-Type,
//! anything else 404 (an HTML page); `DELETE /` and other wrong methods get 405 + `Allow`.
//! Ctrl+C stops it cleanly (a second Ctrl+C exits at once).

use embedded_responder::std_server::{Config, Server};
use embedded_responder::{get, post, Router, Status};

const PAGE: &str = "<!DOCTYPE html>
<html>
  <head>
    <meta charset=\"utf-8\">
    <title>Page Title</title>
  </head>
  <body>
    <h1>Hello, World</h1>
  </body>
</html>
";

const NOT_FOUND_PAGE: &str = "<!DOCTYPE html>
<html>
  <head>
    <meta charset=\"utf-8\">
    <title>Not Found</title>
  </head>
  <body>
    <h1>404 Not Found</h1>
  </body>
</html>
";

fn main() {
    let mut addr = String::from("127.0.0.1:8000");
    let mut log = true;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quiet" | "-q" => log = false,
            "--help" | "-h" => {
                println!("usage: server [ADDRESS] [--quiet]   (default address 127.0.0.1:8000)");
                return;
            }
            _ => addr = arg,
        }
    }

    let config = Config {
        log,
        ..Config::default()
    };
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

    let result = server.serve(|| {
        Router::new()
            .route("/", get(|_req, res| res.html(PAGE)))
            .route(
                "/echo",
                post(|req, res| {
                    let content_type = req
                        .header("content-type")
                        .unwrap_or("application/octet-stream");
                    res.ok(content_type, req.body())
                }),
            )
            .fallback(|_req, res| {
                res.start(Status::NOT_FOUND)
                    .header("Content-Type", "text/html; charset=utf-8")
                    .body(NOT_FOUND_PAGE.as_bytes())
            })
    });
    if let Err(e) = result {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
    eprintln!("stopped");
}
