//! The demo app on the thread server (`std_server`: a thread per connection, the blocking
//! driver, no runtime): the simple path. `examples/server.rs` serves the same app on the
//! recommended tokio server.
//!
//! ```text
//! cargo run --release --example thread_server                 # 127.0.0.1:8000
//! cargo run --release --example thread_server -- 127.0.0.1:0 --quiet
//! ```
//!
//! Routes: see `embedded_responder::demo`. Ctrl+C stops it cleanly (a second Ctrl+C exits
//! at once).

use embedded_responder::demo;
use embedded_responder::std_server::{Config, Server};

fn main() {
    let mut addr = String::from("127.0.0.1:8000");
    let mut log = true;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quiet" | "-q" => log = false,
            "--help" | "-h" => {
                println!(
                    "usage: thread_server [ADDRESS] [--quiet]   (default address 127.0.0.1:8000)"
                );
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

    let result = server.serve(demo::app);
    if let Err(e) = result {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
    eprintln!("stopped");
}
