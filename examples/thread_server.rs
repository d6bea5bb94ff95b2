//! The demo app on the thread server (`std_server`: a thread per connection, the blocking
//! driver, no runtime): the simple path. `examples/server.rs` serves the same app on the
//! recommended tokio server.
//!
//! ```text
//! cargo run --release --example thread_server                 # 127.0.0.1:8000
//! cargo run --release --example thread_server -- 127.0.0.1:0 --quiet
//! ```
//!
//! Routes: see the `demo-app` crate, `examples/demo`. Ctrl+C stops it cleanly (a second Ctrl+C exits
//! at once).

#[path = "common/cli.rs"]
mod cli;

use demo_app as demo;
use embedded_responder::host::std_server::Server;
use embedded_responder::io::blocking::Polled;

fn main() {
    let (addr, config) = cli::parse("thread_server");
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
    if let Err(e) =
        server.serve(|| Polled(demo::app_with(cli::admin_password(), cli::cors_origins())))
    {
        cli::say(&format!("server error: {e}"));
        std::process::exit(1);
    }
    cli::say("stopped");
}
