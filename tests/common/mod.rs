//! Test support: in-memory transports and a response reader, shared by the integration tests.
#![allow(dead_code)]

pub mod cases;

use embedded_io::{ErrorType, Read, Write};

/// A transport whose reads return `input` in the pieces given by `cuts` (offsets where a read
/// stops), and whose writes are collected.
pub struct Scripted {
    input: Vec<u8>,
    cuts: Vec<usize>,
    pos: usize,
    pub output: Vec<u8>,
    pub writes: usize,
    /// For the async impl: the next read is ready (a read that is not pends once first).
    ready: bool,
}

impl Scripted {
    /// Reads return at most `step` bytes each.
    pub fn stepped(input: &[u8], step: usize) -> Self {
        let cuts = (1..)
            .map(|i| i * step)
            .take_while(|&c| c < input.len())
            .collect();
        Self::cut_at(input, cuts)
    }

    /// Reads stop at each offset in `cuts`.
    pub fn cut_at(input: &[u8], cuts: Vec<usize>) -> Self {
        Scripted {
            input: input.to_vec(),
            cuts,
            pos: 0,
            output: Vec::new(),
            writes: 0,
            ready: false,
        }
    }
}

impl ErrorType for Scripted {
    type Error = core::convert::Infallible;
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let stop = self
            .cuts
            .iter()
            .copied()
            .find(|&c| c > self.pos)
            .unwrap_or(self.input.len());
        let n = (stop - self.pos).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        if !buf.is_empty() {
            self.writes += 1;
        }
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// One parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Parsed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Split a byte stream of responses into parsed responses, strictly: every response must be
/// complete and framed by Content-Length (or have no body by its status / the request being
/// HEAD, given per response in `head_requests`).
pub fn parse_responses(mut bytes: &[u8], head_requests: &[bool]) -> Vec<Parsed> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(bytes).expect("valid response head") {
            httparse::Status::Complete(n) => n,
            httparse::Status::Partial => {
                panic!("truncated response: {:?}", String::from_utf8_lossy(bytes))
            }
        };
        let status = resp.code.unwrap();
        let headers: Vec<(String, String)> = resp
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8(h.value.to_vec()).unwrap(),
                )
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let is_head = head_requests.get(out.len()).copied().unwrap_or(false);
        let body_len = if is_head || status == 204 || status == 304 {
            0
        } else {
            length
        };
        assert!(bytes.len() >= n + body_len, "truncated body");
        out.push(Parsed {
            status,
            headers,
            body: bytes[n..n + body_len].to_vec(),
        });
        bytes = &bytes[n + body_len..];
    }
    out
}

/// A future that is pending once (waking itself), like a task switch.
#[cfg(feature = "async")]
pub struct YieldNow(pub bool);

#[cfg(feature = "async")]
impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// Every other read is not ready at first (pends once, as a socket without data would), like
/// a readiness-based transport: a read dropped while pending loses nothing, and the next one
/// finds the data ready.
#[cfg(feature = "async")]
impl embedded_io_async::Read for Scripted {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        if !std::mem::replace(&mut self.ready, false) {
            self.ready = true;
            YieldNow(false).await;
            self.ready = false;
        }
        embedded_io::Read::read(self, buf)
    }
}

#[cfg(feature = "async")]
impl embedded_io_async::Write for Scripted {
    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        embedded_io::Write::write(self, buf)
    }
}
