//! The example app on the event-loop server (feature `event-loop`): epoll through mio, one
//! loop per core. Same routes and behaviour as `examples/server.rs`, the simple threaded path.
//!
//! ```text
//! cargo run --release --features event-loop --example event_server
//! cargo run --release --features event-loop --example event_server -- 127.0.0.1:0 --quiet --workers 1
//! ```

use embedded_responder::demo;
use embedded_responder::event_server::EventServer;
use embedded_responder::std_server::Config;

fn main() {
    let mut addr = String::from("127.0.0.1:8000");
    let mut log = true;
    let mut workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut max_connections = Config::default().max_connections;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quiet" | "-q" => log = false,
            "--workers" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => workers = n,
                None => {
                    eprintln!("--workers needs a number");
                    std::process::exit(2);
                }
            },
            "--max-connections" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => max_connections = n,
                None => {
                    eprintln!("--max-connections needs a number");
                    std::process::exit(2);
                }
            },
            "--help" | "-h" => {
                println!(
                    "usage: event_server [ADDRESS] [--quiet] [--workers N] [--max-connections N]   (default 127.0.0.1:8000, one worker per core, 256)"
                );
                return;
            }
            _ => addr = arg,
        }
    }

    let config = Config {
        log,
        max_connections,
        ..Config::default()
    };
    let server = match EventServer::bind(&addr, config, workers) {
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
        Ok(local) => {
            println!("listening on http://{local}/");
            eprintln!("{workers} event-loop workers");
        }
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }

    if let Err(e) = server.serve(demo::app) {
        eprintln!("server error: {e}");
        std::process::exit(1);
    }
}
