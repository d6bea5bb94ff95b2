//! tiny_http 0.12 with one worker thread per core. Usage: tiny_http ADDRESS
use std::sync::Arc;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8202".into());
    let server = Arc::new(tiny_http::Server::http(&addr).unwrap());
    let header: tiny_http::Header = "Content-Type: text/html; charset=utf-8".parse().unwrap();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let server = Arc::clone(&server);
            let header = header.clone();
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let response = if request.url() == "/" {
                        tiny_http::Response::from_string(peers::PAGE).with_header(header.clone())
                    } else {
                        tiny_http::Response::from_string("").with_status_code(404)
                    };
                    let _ = request.respond(response);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}
