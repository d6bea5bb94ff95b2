//! The classic "Hello, World" socket server, done properly: the demo app on the recommended
//! host server (`tokio_server`: tasks on tokio's current-thread runtime, the async driver).
//!
//! ```text
//! cargo run --release --example server                 # 127.0.0.1:8000
//! cargo run --release --example server -- 0.0.0.0:8080
//! cargo run --release --example server -- 127.0.0.1:0 --quiet
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
use embedded_responder::host::tokio_server::Server;

fn main() {
    let (addr, config) = cli::parse("server");
    let server = match Server::bind(&addr, config) {
        Ok(server) => server,
        Err(e) => {
            cli::say(&format!("cannot listen on {addr}: {e}"));
            std::process::exit(1);
        }
    };
    cli::stop_on_ctrl_c(server.shutdown_handle());
    match server.local_addr() {
        Ok(local) => println!("listening on http://{local}/"),
        Err(e) => cli::say(&format!("listening (address unknown: {e})")),
    }
    if let Err(e) = server.run(|| demo::app_with(cli::admin_password(), cli::cors_origins())) {
        cli::say(&format!("server error: {e}"));
        std::process::exit(1);
    }
    cli::say("stopped");
}
