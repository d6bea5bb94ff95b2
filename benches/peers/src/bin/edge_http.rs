//! edge-http 0.8 over edge-nal-std (std sockets driven by async-io), its default server of 4
//! handler tasks, on one thread, with TCP_NODELAY set on each accepted socket (edge-http writes
//! the head and the body separately; without it each response waits out delayed ACKs, about
//! 90 req/s). Usage: edge_http ADDRESS
use core::fmt::{Debug, Display};
use core::net::SocketAddr;

use edge_http::io::server::{Connection, DefaultServer, Handler};
use edge_http::io::Error;
use edge_nal::{TcpAccept, TcpBind};
use embedded_io_async::{Read, Write};

struct Page;

impl Handler for Page {
    type Error<E>
        = Error<E>
    where
        E: Debug;

    async fn handle<T, const N: usize>(
        &self,
        _task_id: impl Display + Copy,
        conn: &mut Connection<'_, T, N>,
    ) -> Result<(), Self::Error<T::Error>>
    where
        T: Read + Write,
    {
        if conn.headers()?.path == "/" {
            let length = peers::PAGE.len().to_string();
            conn.initiate_response(
                200,
                Some("OK"),
                &[
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", &length),
                ],
            )
            .await?;
            conn.write_all(peers::PAGE.as_bytes()).await?;
        } else {
            conn.initiate_response(404, Some("Not Found"), &[("Content-Length", "0")])
                .await?;
        }
        Ok(())
    }
}

/// edge-nal-std's acceptor, with TCP_NODELAY on every accepted socket.
struct NoDelay(edge_nal_std::TcpAcceptor);

impl TcpAccept for NoDelay {
    type Error = std::io::Error;
    type Socket<'a> = edge_nal_std::TcpSocket;

    async fn accept(&self) -> Result<(SocketAddr, Self::Socket<'_>), Self::Error> {
        let (peer, socket) = self.0.accept().await?;
        let stream = socket.release();
        stream.get_ref().set_nodelay(true)?;
        Ok((peer, edge_nal_std::TcpSocket::new(stream)))
    }
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8206".into());
    let mut server = Box::new(DefaultServer::new());
    futures_lite::future::block_on(async {
        let acceptor = edge_nal_std::Stack::new()
            .bind(addr.parse().unwrap())
            .await
            .unwrap();
        server.run(None, NoDelay(acceptor), Page).await.unwrap();
    });
}
