//! Instantiates the async driver over a socket type for two apps, so that `measure.sh` can
//! read the size of the connection future from rustc's type-size report for a Cortex-M4F
//! target: a typical firmware router of blocking handlers (a page, an echo, a 404 page:
//! `serve_connection`), and the demo app's one router with its async streaming routes
//! (upload, download, Server-Sent Events: `serve_demo`), whose largest handler future it
//! holds.
#![no_std]

use demo_app as demo;
use embedded_io_async::{ErrorKind, ErrorType, Read, Write};
use embedded_responder::io::asynch::{self, NoTimer};
use embedded_responder::{get, post, Connection, Router};

/// Stands in for a network socket (embassy-net's `TcpSocket` is a pointer-sized handle).
pub struct Socket<'a>(&'a mut [u8]);

impl ErrorType for Socket<'_> {
    type Error = ErrorKind;
}

impl Read for Socket<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        Ok(n)
    }
}

impl Write for Socket<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// Serve one connection: this async fn's future is the one measured (`ServeConnection`).
pub async fn serve_connection(socket: &mut Socket<'_>, rx: &mut [u8], tx: &mut [u8]) {
    let mut conn: Connection<'_> = Connection::new(rx, tx);
    let mut app = Router::new()
        .route("/", get(|_req, res| res.html(demo::PAGE)))
        .route("/echo", post(demo::echo))
        .fallback(demo::not_found);
    let _ = asynch::serve(socket, &mut conn, &mut app, &NoTimer, &mut ()).await;
}

/// Serve one connection with the demo app (`ServeDemo`).
pub async fn serve_demo(socket: &mut Socket<'_>, rx: &mut [u8], tx: &mut [u8]) {
    let mut conn: Connection<'_> = Connection::new(rx, tx);
    let mut app = demo::app();
    let _ = asynch::serve(socket, &mut conn, &mut app, &NoTimer, &mut ()).await;
}

/// The size in bytes of [`serve_connection`]'s future, for a firmware to report.
pub fn connection_future_size(socket: &mut Socket<'_>, rx: &mut [u8], tx: &mut [u8]) -> usize {
    core::mem::size_of_val(&serve_connection(socket, rx, tx))
}

/// The size in bytes of [`serve_demo`]'s future.
pub fn demo_future_size(socket: &mut Socket<'_>, rx: &mut [u8], tx: &mut [u8]) -> usize {
    core::mem::size_of_val(&serve_demo(socket, rx, tx))
}
