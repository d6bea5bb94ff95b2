//! The host servers' request log: one line per exchange, written to standard error by a
//! thread of its own, so that a log sink that fails (a closed pipe, a full disk) or blocks
//! (a pipe nobody reads) can never panic, block or slow a connection: lines are handed over
//! through a bounded queue of fixed-size lines (no allocation), and dropped, and counted,
//! when the queue is full.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Instant;

use crate::connection::Exchange;
use crate::error::Failure;

/// Longest line kept; a longer one (a long path) is cut.
const LINE: usize = 256;

/// Lines waiting to be written before new ones are dropped.
const QUEUE: usize = 1024;

/// One line, fixed-size, so that logging never allocates.
struct Line {
    len: usize,
    bytes: [u8; LINE],
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = LINE - 1 - self.len; // keep one byte for the newline
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Where connections send their log lines; cheap to clone (one per connection).
#[derive(Clone)]
pub(crate) struct Log {
    queue: SyncSender<Line>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish()
    }
}

impl Log {
    /// Start the writer thread. It ends when every `Log` is dropped; if standard error
    /// blocks, it waits there, and only the lines queued behind it are lost.
    pub(crate) fn start() -> Log {
        let (queue, lines) = sync_channel(QUEUE);
        let _ = std::thread::Builder::new()
            .name("http-log".into())
            .stack_size(64 * 1024)
            .spawn(move || write_lines(lines));
        Log {
            queue,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Log one exchange: peer, method, path, status, time since the request's first bytes,
    /// and the protocol error or the reason for a 500 or a broken stream, if any.
    pub(crate) fn exchange(&self, peer: SocketAddr, started: Instant, exchange: &Exchange<'_>) {
        let mut line = Line {
            len: 0,
            bytes: [0; LINE],
        };
        let method = exchange.method.map_or("-", |m| m.as_str());
        let path = if exchange.path.is_empty() {
            "-"
        } else {
            exchange.path
        };
        let error = exchange.error.map_or("", |e| e.as_str());
        let _ = write!(
            line,
            "{} {} {} {} {:.3}ms {}{}",
            peer,
            method,
            path,
            exchange.status.code(),
            started.elapsed().as_secs_f64() * 1e3,
            error,
            Reason(exchange.failure)
        );
        line.bytes[line.len] = b'\n';
        line.len += 1;
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Log a connection whose handshake failed (TLS, or the server's acceptor): peer, `- -`
    /// for the method and path no request had, then `tls: ` and the reason, and the time
    /// since it was accepted.
    pub(crate) fn handshake_failed(
        &self,
        peer: SocketAddr,
        started: Instant,
        reason: &dyn std::fmt::Display,
    ) {
        let mut line = Line {
            len: 0,
            bytes: [0; LINE],
        };
        let _ = write!(
            line,
            "{} - - tls: {} ({:.3}ms)",
            peer,
            reason,
            started.elapsed().as_secs_f64() * 1e3
        );
        line.bytes[line.len] = b'\n';
        line.len += 1;
        if self.queue.try_send(line).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Say how many lines were dropped, if any (at shutdown), the same best-effort way.
    pub(crate) fn report_dropped(&self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            let mut line = Line {
                len: 0,
                bytes: [0; LINE],
            };
            let _ = write!(
                line,
                "log: {dropped} lines dropped (standard error too slow)"
            );
            line.bytes[line.len] = b'\n';
            line.len += 1;
            let _ = self.queue.try_send(line);
        }
    }
}

/// The writer thread: a failed write is ignored (the line is lost), a blocked one waits.
fn write_lines(lines: Receiver<Line>) {
    let stderr = std::io::stderr();
    for line in lines {
        let _ = stderr.lock().write_all(&line.bytes[..line.len]);
    }
}

/// A [`Failure`] for the log, or nothing.
struct Reason(Option<Failure>);

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(failure) => write!(f, "{failure}"),
            None => Ok(()),
        }
    }
}
