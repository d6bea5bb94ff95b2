//! In-memory cost per request: a typical browser GET (12 headers) parsed, routed and answered
//! into a buffer by a `Connection`, against `httparse::Request::parse` alone on the same
//! bytes. Run with `cargo bench --bench request`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use demo_app as demo;
use embedded_responder::io::blocking::Polled;
use embedded_responder::io::Action;
use embedded_responder::Connection;

const BROWSER_GET: &[u8] = b"GET / HTTP/1.1\r\n\
Host: 127.0.0.1:8000\r\n\
Connection: keep-alive\r\n\
Cache-Control: max-age=0\r\n\
sec-ch-ua: \"Chromium\";v=\"156\", \"Not-A.Brand\";v=\"24\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Upgrade-Insecure-Requests: 1\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n\
Sec-Fetch-Site: none\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
\r\n";

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("browser GET, 12 headers");
    group.throughput(Throughput::Elements(1));

    group.bench_function("httparse::Request::parse alone", |b| {
        b.iter(|| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            black_box(req.parse(black_box(BROWSER_GET)).unwrap());
        })
    });

    group.bench_function("Connection: read, parse, check, route, respond", |b| {
        let (mut rx, mut tx) = (vec![0u8; 4096], vec![0u8; 1024]);
        let mut conn = Connection::new(&mut rx, &mut tx);
        let mut app = Polled(demo::app());
        b.iter(|| {
            // The bytes a socket read would bring.
            let buf = conn.read_buf();
            buf[..BROWSER_GET.len()].copy_from_slice(black_box(BROWSER_GET));
            conn.received(BROWSER_GET.len());
            match conn.poll(&mut app) {
                Action::Write(t) => {
                    black_box((t.head.len(), t.body.len()));
                }
                other => panic!("expected a response, got {other:?}"),
            }
            // Consumes the request; the connection waits for the next.
            assert!(matches!(conn.poll(&mut app), Action::Read));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
