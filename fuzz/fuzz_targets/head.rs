//! The head layer: scanning whole and byte by byte must agree; parsing a complete head must
//! not panic, and a parsed request must be self-consistent.
#![no_main]

use embedded_responder::_internals::{parse_head, HeadScanner, Scan};
use embedded_responder::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let whole = HeadScanner::default().scan(data);

    let mut scanner = HeadScanner::default();
    let mut stepped = Ok(Scan::Partial);
    for end in 1..=data.len() {
        stepped = scanner.scan(&data[..end]);
        if stepped != Ok(Scan::Partial) {
            break;
        }
    }
    if !data.is_empty() {
        assert_eq!(whole, stepped, "whole and byte-at-a-time scans disagree");
    }

    if let Ok(Scan::Complete(n)) = whole {
        assert!(n <= data.len());
        if let Ok(head) = parse_head::<16>(&data[..n], Limits::DEFAULT.max_target) {
            let r = head.request;
            assert!(r.target().len() <= Limits::DEFAULT.max_target);
            assert!(r.path() == "*" || r.path().starts_with('/'));
            assert!(r.target().bytes().all(|b| (0x21..=0x7e).contains(&b)));
            assert!(r.headers().all(|h| !h.name.is_empty()));
        }
    }
});
