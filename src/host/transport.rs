//! What a host server serves HTTP over, and how it gets there from an accepted TCP
//! connection: an acceptor ([`blocking::Acceptor`], `asynch::Acceptor`) turns the
//! connection into a transport (TLS, a tunnel, or the TCP stream as it is: [`Plain`]), one
//! for each server. The server keeps its policy
//! around it (see "Under load" in the [host module](super)): the handshake runs under
//! [`Config::handshake_timeout`](super::Config::handshake_timeout) once the connection has a
//! place, may be evicted like a connection waiting for a head, and holds no HTTP buffers;
//! at the cap, the acceptor says what shows progress and how to refuse.

use std::net::TcpStream;

use super::admission;

/// How a server recognises progress and refuses, for the transport under HTTP; both servers'
/// acceptors have these.
pub trait Handshake {
    /// At the cap, whether what a connection on probation has sent (looked at, not read:
    /// at most 1 KiB) shows progress, so that it may take a place. Plain HTTP: a whole
    /// request head, or 1 KiB of one.
    fn shows_progress(&self, peeked: &[u8]) -> bool {
        admission::shows_progress(peeked)
    }

    /// The bytes a connection turned away at the cap is sent, before the handshake. Plain
    /// HTTP: `503 Service Unavailable` with `Retry-After: 1`.
    fn refusal(&self) -> &'static [u8] {
        super::BUSY
    }
}

/// The TCP stream as it is: what `Server::bind` serves over.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Handshake for Plain {}

/// The blocking server's side (`std_server`).
pub mod blocking {
    use super::*;
    use std::io;

    /// What `std_server` serves HTTP over: a blocking stream over one TCP connection.
    pub trait Transport: io::Read + io::Write + Send {
        /// The TCP connection under it: the server sets its read timeout (the driver's
        /// deadlines, and every 100 ms to see shutdown) and write timeout.
        fn tcp(&self) -> &TcpStream;

        /// Close the sending side, cleanly for the protocol (TLS: `close_notify` first),
        /// before the lingering close.
        fn close_write(&mut self) -> io::Result<()> {
            self.tcp().shutdown(std::net::Shutdown::Write)
        }
    }

    impl Transport for TcpStream {
        fn tcp(&self) -> &TcpStream {
            self
        }
    }

    /// A handshake in progress on the blocking server, handed to [`Acceptor::accept`]: the
    /// connection's reads time out every 100 ms at most, and after each timeout the
    /// acceptor asks [`Waiting::keep_waiting`] whether to go on.
    pub struct Waiting<'w> {
        pub(crate) keep_waiting: &'w dyn Fn() -> io::Result<()>,
        pub(crate) left: std::time::Duration,
    }

    impl core::fmt::Debug for Waiting<'_> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Waiting").finish_non_exhaustive()
        }
    }

    impl Waiting<'_> {
        /// `Ok` to go on waiting for the peer; the error to end the handshake with when its
        /// time is up (its timeout, pressure, eviction) or the server stops.
        pub fn keep_waiting(&self) -> io::Result<()> {
            (self.keep_waiting)()
        }

        /// How long the handshake had left when it started: its timeout (shorter under
        /// pressure).
        pub fn time_left(&self) -> std::time::Duration {
            self.left
        }
    }

    /// Turns an accepted TCP connection into the [`Transport`] `std_server` serves HTTP
    /// over, on the connection's own thread once it has a place. [`AcceptWith`] makes one
    /// from a closure `Fn(TcpStream) -> io::Result<S>` (its reads time out once, at the end
    /// of the handshake's time, not every 100 ms: eviction and shutdown wait for it).
    pub trait Acceptor: Handshake + Sync {
        /// The stream HTTP is served over.
        type Stream: Transport;

        /// Run the handshake. An error ends the connection; the log line gives its reason.
        fn accept(&self, tcp: TcpStream, waiting: &Waiting<'_>) -> io::Result<Self::Stream>;
    }

    impl Acceptor for Plain {
        type Stream = TcpStream;
        fn accept(&self, tcp: TcpStream, _: &Waiting<'_>) -> io::Result<TcpStream> {
            Ok(tcp)
        }
    }

    /// An acceptor made from a closure (see [`Acceptor`]), with plain HTTP's
    /// [`Handshake`] rules.
    #[derive(Debug, Clone, Copy)]
    pub struct AcceptWith<F>(pub F);

    impl<F> Handshake for AcceptWith<F> {}

    impl<F, S> Acceptor for AcceptWith<F>
    where
        F: Fn(TcpStream) -> io::Result<S> + Sync,
        S: Transport,
    {
        type Stream = S;
        fn accept(&self, tcp: TcpStream, waiting: &Waiting<'_>) -> io::Result<S> {
            let left = waiting.time_left().max(std::time::Duration::from_millis(1));
            tcp.set_read_timeout(Some(left))?;
            (self.0)(tcp)
        }
    }
}

/// The tokio server's side (`tokio_server`).
#[cfg(feature = "tokio")]
pub mod asynch {
    use super::*;
    use core::future::Future;
    use std::io;

    use tokio::io::{AsyncRead, AsyncWrite};
    use tokio::net::TcpStream;

    /// What `tokio_server` serves HTTP over: an async stream over one TCP connection. Its
    /// `poll_shutdown` closes the sending side cleanly (TLS: `close_notify` first).
    pub trait Transport: AsyncRead + AsyncWrite + Unpin + 'static {
        /// The TCP connection under it: an idle keep-alive connection waits for it to be
        /// readable, without buffers.
        fn tcp(&self) -> &TcpStream;

        /// Whether bytes already received wait to be read (a TLS layer's decrypted
        /// plaintext): then an idle connection does not wait for the socket.
        fn has_buffered(&mut self) -> bool {
            false
        }
    }

    impl Transport for TcpStream {
        fn tcp(&self) -> &TcpStream {
            self
        }
    }

    /// Turns an accepted TCP connection into the [`Transport`] `tokio_server` serves HTTP
    /// over, in the connection's task once it has a place: the server drops the future
    /// when the handshake's time is up (its timeout, pressure, eviction) or the server
    /// stops. [`AcceptWith`] makes one from an async closure.
    pub trait Acceptor: Handshake + 'static {
        /// The stream HTTP is served over.
        type Stream: Transport;

        /// Run the handshake. An error ends the connection; the log line gives its reason.
        fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<Self::Stream>>;
    }

    impl Acceptor for Plain {
        type Stream = TcpStream;
        async fn accept(&self, tcp: TcpStream) -> io::Result<TcpStream> {
            Ok(tcp)
        }
    }

    /// An acceptor made from a function `Fn(TcpStream) -> impl Future<Output =
    /// io::Result<S>>`, with plain HTTP's [`Handshake`] rules.
    #[derive(Debug, Clone, Copy)]
    pub struct AcceptWith<F>(pub F);

    impl<F> Handshake for AcceptWith<F> {}

    impl<F, Fut, S> Acceptor for AcceptWith<F>
    where
        F: Fn(TcpStream) -> Fut + 'static,
        Fut: Future<Output = io::Result<S>>,
        S: Transport,
    {
        type Stream = S;
        fn accept(&self, tcp: TcpStream) -> impl Future<Output = io::Result<S>> {
            (self.0)(tcp)
        }
    }
}
