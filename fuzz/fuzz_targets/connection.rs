//! The whole connection over in-memory IO with the demo app: it never panics or loops, and
//! whole input, byte-at-a-time input and input split where the fuzzer says give the same
//! responses (ignoring interim `100 Continue`, which depends on when the body arrives).
#![no_main]

use demo_app as demo;
use embedded_io::{ErrorType, Read, Write};
use embedded_responder::io::blocking::{self, Polled};
use embedded_responder::Connection;
use libfuzzer_sys::fuzz_target;

struct Scripted<'a> {
    input: &'a [u8],
    cuts: Vec<usize>,
    /// Index of the next cut at or after `pos`.
    next_cut: usize,
    pos: usize,
    output: Vec<u8>,
    reads: usize,
}

impl ErrorType for Scripted<'_> {
    type Error = core::convert::Infallible;
}

impl Read for Scripted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.reads += 1;
        // Every read must make progress or end the stream: a connection that keeps asking
        // after end of stream would loop forever.
        assert!(
            self.reads <= self.input.len() + 2 * self.cuts.len() + 4,
            "read loop"
        );
        while self.cuts.get(self.next_cut).is_some_and(|&c| c <= self.pos) {
            self.next_cut += 1;
        }
        let stop = self
            .cuts
            .get(self.next_cut)
            .copied()
            .unwrap_or(self.input.len())
            .min(self.input.len());
        let n = (stop - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Scripted<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn run(input: &[u8], cuts: Vec<usize>) -> Vec<u8> {
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 256];
    let mut conn = Connection::new(&mut rx, &mut tx);
    let mut app = Polled(demo::app());
    let mut io = Scripted {
        input,
        cuts,
        next_cut: 0,
        pos: 0,
        output: Vec::new(),
        reads: 0,
    };
    let _ = blocking::serve(&mut io, &mut conn, &mut app);
    // Drop interim responses.
    let mut out = Vec::new();
    let mut rest = &io.output[..];
    while !rest.is_empty() {
        if rest.starts_with(CONTINUE) {
            rest = &rest[CONTINUE.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else {
        return;
    };
    let whole = run(input, Vec::new());
    assert!(whole.is_empty() || whole.starts_with(b"HTTP/1.1 "));
    assert_eq!(
        whole,
        run(input, (1..input.len()).collect()),
        "byte at a time"
    );
    let cut = usize::from(split) % (input.len() + 1);
    assert_eq!(whole, run(input, vec![cut]), "split at {cut}");
});
