//! Zero heap allocations per request in the host servers' steady state, counted by a global
//! allocator: after a warm-up (the connection's buffers are allocated once), 1,000 keep-alive
//! requests and their responses must not allocate at all, in the server or in this client.
//! One test in this binary, so no other test allocates concurrently.
#![cfg(feature = "std")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};

use demo_app as demo;
use embedded_responder::host::{std_server::Server, Config};
use embedded_responder::io::blocking::Polled;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\nAccept: */*\r\n\r\n";

/// Send `n` requests one after another on `stream`, reading each whole response (its length
/// is `response_len`) into a fixed buffer.
fn exchange(stream: &mut TcpStream, n: usize, response_len: usize) {
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        stream.write_all(REQUEST).unwrap();
        let mut got = 0;
        while got < response_len {
            let r = stream.read(&mut buf[got..]).unwrap();
            assert!(r > 0, "server closed");
            got += r;
        }
        assert_eq!(got, response_len);
        assert!(buf.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
}

/// Allocations counted during 1,000 requests on a warmed-up keep-alive connection to `addr`.
fn allocations_for_1000_requests(addr: SocketAddr) -> usize {
    let at_connect = ALLOCATIONS.load(Ordering::SeqCst);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    // The first response tells its length (head + the page).
    stream.write_all(REQUEST).unwrap();
    let mut first = [0u8; 4096];
    let mut got = 0;
    let response_len = loop {
        got += stream.read(&mut first[got..]).unwrap();
        if let Some(end) = first[..got].windows(4).position(|w| w == b"\r\n\r\n") {
            if got >= end + 4 + demo::PAGE.len() {
                break end + 4 + demo::PAGE.len();
            }
        }
    };
    exchange(&mut stream, 100, response_len);
    // The counter sees the server: a new connection allocates its buffers.
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > at_connect);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    exchange(&mut stream, 1000, response_len);
    ALLOCATIONS.load(Ordering::SeqCst) - before
}

#[test]
fn no_allocation_per_request_in_steady_state() {
    let config = Config {
        log: false,
        ..Config::default()
    };

    let server = Server::bind("127.0.0.1:0", config.clone()).unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.shutdown_handle();
    let thread = std::thread::spawn(move || server.serve(|| Polled(demo::app())));
    let threaded = allocations_for_1000_requests(addr);
    handle.shutdown();
    thread.join().unwrap().unwrap();
    assert_eq!(
        threaded, 0,
        "threaded server: allocations in 1,000 requests"
    );

    #[cfg(feature = "tokio")]
    {
        use embedded_responder::host::tokio_server;
        let server = tokio_server::Server::bind("127.0.0.1:0", config).unwrap();
        let addr = server.local_addr().unwrap();
        let handle = server.shutdown_handle();
        let thread = std::thread::spawn(move || server.run(demo::app));
        let tasks = allocations_for_1000_requests(addr);
        handle.shutdown();
        thread.join().unwrap().unwrap();
        assert_eq!(tasks, 0, "tokio server: allocations in 1,000 requests");
    }
}
