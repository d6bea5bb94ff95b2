//! HTTPS on the host servers (feature `tls`): [`Tls`] is an acceptor for both servers,
//! rustls (on ring's crypto) through tokio-rustls on the tokio server and rustls' blocking
//! stream on the thread server, with ALPN `http/1.1`.
//!
//! ```no_run
//! use embedded_responder::host::{tls::Tls, tokio_server::Server, Config};
//! use embedded_responder::{get, Router};
//!
//! let tls = Tls::from_pem_files("cert.pem", "key.pem").unwrap(); // a clear error if not
//! let server = Server::bind("127.0.0.1:8443", Config::default()).unwrap().with_acceptor(tls);
//! server
//!     .run(|| Router::new().route("/", get(|_req, res| res.html("<h1>Hello</h1>"))))
//!     .unwrap();
//! ```
//!
//! Every promise of the [host module](super) holds over TLS:
//!
//! - The handshake counts as waiting for a request head: it runs once the connection has a
//!   place, within [`Config::handshake_timeout`](super::Config::handshake_timeout) (2 s under
//!   pressure), may be evicted at the cap like a connection waiting for a head, and holds no
//!   HTTP buffers (they are taken when it is done). A handshake that fails is logged as
//!   `PEER - - tls: REASON (TIME)`.
//! - At the cap, a connection on probation shows progress with a whole first TLS record (its
//!   ClientHello) or 1 KiB of one. A connection turned away is **refused before the
//!   handshake**, with a TLS `internal_error` alert (a plain 503 would be unreadable to a
//!   TLS client, and one inside TLS would cost the server a handshake per refused client,
//!   the very load that fills it).
//! - Write timeouts, the lingering close, streams, uploads, Server-Sent Events and
//!   WebSocket (`wss://`) are unchanged: they run over the TLS stream as over TCP. Every
//!   close sends `close_notify` first (graceful shutdown included).
//! - A plain HTTP request on the TLS port gets a short plain-text `400` naming the https URL,
//!   then a close; [`RedirectToHttps`] serves a plain port that sends every request there
//!   with `308`.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

use super::admission::PROBATION_PEEK;
use super::transport::Handshake;
use crate::handler::{Handler, Redirect, Responded, Responder};
use crate::wire::{Request, Status};

/// A TLS server configuration, the acceptor both host servers take
/// (`Server::with_acceptor`); cheap to clone.
#[derive(Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
}

impl core::fmt::Debug for Tls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tls")
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// From a PEM certificate chain (the server's certificate first) and a PEM private key
    /// (PKCS#8, PKCS#1 or SEC1) in files. An error names the file and what is wrong with it.
    pub fn from_pem_files(cert_chain: impl AsRef<Path>, key: impl AsRef<Path>) -> io::Result<Tls> {
        let read = |path: &Path, what: &str| {
            std::fs::read(path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot read the {what} {}: {e}", path.display()),
                )
            })
        };
        let (cert_path, key_path) = (cert_chain.as_ref(), key.as_ref());
        let certs = read(cert_path, "certificate chain")?;
        let key = read(key_path, "private key")?;
        Tls::from_pem(&certs, &key).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{} and {}: {e}", cert_path.display(), key_path.display()),
            )
        })
    }

    /// From a PEM certificate chain (the server's certificate first) and a PEM private key,
    /// with rustls' safe defaults (TLS 1.3 and 1.2), ring's crypto, no client
    /// certificates, and ALPN `http/1.1`.
    pub fn from_pem(cert_chain: &[u8], key: &[u8]) -> io::Result<Tls> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let certs = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(format!("the certificate chain is not valid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(invalid("no CERTIFICATE in the certificate chain".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| invalid(format!("no private key found: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| invalid(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| invalid(format!("the key and certificate are not usable: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls::from_config(Arc::new(config)))
    }

    /// From a rustls configuration of your own (client certificates, a certificate
    /// resolver, another crypto provider), used as it is: give it ALPN `http/1.1`.
    pub fn from_config(config: Arc<ServerConfig>) -> Tls {
        Tls { config }
    }

    /// The rustls configuration it serves with.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

/// A fatal `internal_error` alert, in a plaintext record (allowed before the handshake):
/// what a TLS client turned away at the cap is sent.
const REFUSAL_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];

/// The first byte of a TLS handshake record.
const HANDSHAKE_RECORD: u8 = 0x16;

impl Handshake for Tls {
    /// A whole first record (the ClientHello), or 1 KiB of one.
    fn shows_progress(&self, peeked: &[u8]) -> bool {
        if peeked.len() >= PROBATION_PEEK {
            return true;
        }
        match peeked {
            [HANDSHAKE_RECORD, _, _, hi, lo, rest @ ..] => {
                rest.len() >= usize::from(u16::from_be_bytes([*hi, *lo]))
            }
            _ => false,
        }
    }

    fn refusal(&self) -> &'static [u8] {
        &REFUSAL_ALERT
    }
}

/// Whether a connection's first byte starts a plain HTTP request (a method) rather than a
/// TLS record.
fn is_plain_http(first: u8) -> bool {
    first.is_ascii_uppercase()
}

/// The error a plain HTTP request on the TLS port ends its connection with (for the log).
fn plain_http_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "plain HTTP request on the TLS port (answered 400)",
    )
}

/// How long the answer to a plain HTTP request waits for the rest of its head.
const PLAIN_HEAD_WAIT: Duration = Duration::from_millis(500);

/// The host of a `Host` header value without its port (`[::1]`, `example.com`), if it is a
/// plausible one (letters, digits, `.`, `-`, and an IPv6 literal's brackets and colons).
fn host_of(value: &str) -> Option<&str> {
    let host = if value.starts_with('[') {
        &value[..=value.find(']')?]
    } else {
        value.rsplit_once(':').map_or(value, |(host, _)| host)
    };
    let plausible = |b: u8| b.is_ascii_alphanumeric() || b".-[]:".contains(&b);
    (!host.is_empty() && host.len() <= 255 && host.bytes().all(plausible)).then_some(host)
}

/// `https://HOST[:PORT]TARGET` for a request whose `Host` is `host` and target `target`
/// (an origin-form target kept if it is short and visible ASCII, else `/`).
fn https_url(host: &str, port: u16, target: &str) -> String {
    let target = if target.starts_with('/')
        && target.len() <= 2048
        && target.bytes().all(|b| b.is_ascii_graphic())
    {
        target
    } else {
        "/"
    };
    if port == 443 {
        format!("https://{host}{target}")
    } else {
        format!("https://{host}:{port}{target}")
    }
}

/// The plain-text 400 a plain HTTP request on the TLS port gets, naming the https URL (from
/// its `Host` and target if the head `peeked` is whole, else the server's address).
fn plain_http_answer(peeked: &[u8], local: Option<SocketAddr>) -> Vec<u8> {
    let port = local.map_or(443, |a| a.port());
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let from_request = match req.parse(peeked) {
        Ok(httparse::Status::Complete(_)) => {
            let host = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("host"))
                .and_then(|h| core::str::from_utf8(h.value).ok())
                .and_then(host_of);
            host.map(|host| https_url(host, port, req.path.unwrap_or("/")))
        }
        _ => None,
    };
    let url = from_request.unwrap_or_else(|| match local {
        Some(SocketAddr::V6(a)) => https_url(&format!("[{}]", a.ip()), port, "/"),
        Some(SocketAddr::V4(a)) => https_url(&a.ip().to_string(), port, "/"),
        None => "https://localhost/".into(),
    });
    let body = format!("This port speaks HTTPS: {url}\n");
    format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Whether `peeked` holds a whole request head, or as much as the answer looks at.
fn head_complete(peeked: &[u8]) -> bool {
    peeked.len() >= PROBATION_PEEK || peeked.windows(4).any(|w| w == b"\r\n\r\n")
}

/// The tokio server's side: tokio-rustls.
#[cfg(feature = "tokio")]
mod on_tokio {
    use super::*;
    use crate::host::transport::asynch::{Acceptor, Transport};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;
    use tokio_rustls::server::TlsStream;

    impl Transport for TlsStream<TcpStream> {
        fn tcp(&self) -> &TcpStream {
            self.get_ref().0
        }

        fn has_buffered(&mut self) -> bool {
            // Decrypted bytes waiting, or an error for the driver's read to find.
            self.get_mut()
                .1
                .process_new_packets()
                .map_or(true, |state| state.plaintext_bytes_to_read() > 0)
        }
    }

    impl Acceptor for Tls {
        type Stream = TlsStream<TcpStream>;

        async fn accept(&self, tcp: TcpStream) -> io::Result<Self::Stream> {
            let mut first = [0u8; 1];
            if tcp.peek(&mut first).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "closed before the handshake",
                ));
            }
            if is_plain_http(first[0]) {
                answer_plain_http(tcp).await;
                return Err(plain_http_error());
            }
            tokio_rustls::TlsAcceptor::from(Arc::clone(&self.config))
                .accept(tcp)
                .await
        }
    }

    /// Answer a plain HTTP request with the 400 naming the https URL, then close.
    async fn answer_plain_http(mut tcp: TcpStream) {
        let mut peeked = [0u8; PROBATION_PEEK];
        let until = tokio::time::Instant::now() + PLAIN_HEAD_WAIT;
        let mut n = 0;
        while tokio::time::Instant::now() < until {
            n = match tcp.peek(&mut peeked).await {
                Ok(n) => n,
                Err(_) => return,
            };
            if head_complete(&peeked[..n]) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let answer = plain_http_answer(&peeked[..n], tcp.local_addr().ok());
        let _ = tokio::time::timeout(PLAIN_HEAD_WAIT, async {
            tcp.write_all(&answer).await?;
            tcp.shutdown().await?;
            // Read off what the request sent, so that closing does not reset the answer.
            let mut sink = [0u8; 4096];
            let mut read = 0;
            while read < 64 * 1024 {
                match tcp.read(&mut sink).await? {
                    0 => break,
                    got => read += got,
                }
            }
            io::Result::Ok(())
        })
        .await;
    }
}

/// The thread server's side: rustls' blocking stream.
mod on_threads {
    use super::*;
    use crate::host::transport::blocking::{Acceptor, Transport, Waiting};
    use rustls::{ServerConnection, StreamOwned};
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    /// Whether a read failed only because its timeout passed.
    fn timed_out(e: &io::Error) -> bool {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
        )
    }

    impl Transport for StreamOwned<ServerConnection, TcpStream> {
        fn tcp(&self) -> &TcpStream {
            &self.sock
        }

        fn close_write(&mut self) -> io::Result<()> {
            self.conn.send_close_notify();
            while self.conn.wants_write() {
                self.conn.write_tls(&mut self.sock)?;
            }
            self.sock.shutdown(std::net::Shutdown::Write)
        }
    }

    impl Acceptor for Tls {
        type Stream = StreamOwned<ServerConnection, TcpStream>;

        fn accept(&self, mut tcp: TcpStream, waiting: &Waiting<'_>) -> io::Result<Self::Stream> {
            let mut first = [0u8; 1];
            loop {
                match tcp.peek(&mut first) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "closed before the handshake",
                        ))
                    }
                    Ok(_) => break,
                    Err(e) if timed_out(&e) => waiting.keep_waiting()?,
                    Err(e) => return Err(e),
                }
            }
            if is_plain_http(first[0]) {
                answer_plain_http(tcp, waiting);
                return Err(plain_http_error());
            }
            let mut conn =
                ServerConnection::new(Arc::clone(&self.config)).map_err(io::Error::other)?;
            while conn.is_handshaking() {
                match conn.complete_io(&mut tcp) {
                    Ok(_) => waiting.keep_waiting()?,
                    Err(e) if timed_out(&e) => waiting.keep_waiting()?,
                    Err(e) => return Err(e),
                }
            }
            Ok(StreamOwned::new(conn, tcp))
        }
    }

    /// Answer a plain HTTP request with the 400 naming the https URL, then close.
    fn answer_plain_http(mut tcp: TcpStream, waiting: &Waiting<'_>) {
        let mut peeked = [0u8; PROBATION_PEEK];
        let until = std::time::Instant::now() + PLAIN_HEAD_WAIT;
        let mut n = 0;
        while std::time::Instant::now() < until && waiting.keep_waiting().is_ok() {
            n = match tcp.peek(&mut peeked) {
                Ok(n) => n,
                Err(e) if timed_out(&e) => n,
                Err(_) => return,
            };
            if head_complete(&peeked[..n]) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let answer = plain_http_answer(&peeked[..n], tcp.local_addr().ok());
        if tcp.write_all(&answer).is_err() || tcp.shutdown(std::net::Shutdown::Write).is_err() {
            return;
        }
        let _ = tcp.set_read_timeout(Some(PLAIN_HEAD_WAIT));
        let mut sink = [0u8; 4096];
        let mut read = 0;
        while read < 64 * 1024 {
            match tcp.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(got) => read += got,
            }
        }
    }
}

/// A handler that answers every request with `308 Permanent Redirect` to the same host and
/// target over https on `port`: what a plain HTTP port beside a TLS one serves (the
/// examples' `--redirect-http PORT`). A request without a plausible `Host` gets 400.
#[derive(Debug, Clone, Copy)]
pub struct RedirectToHttps {
    /// The TLS port the redirects name (443 is left out of the URL).
    pub port: u16,
}

impl Handler for RedirectToHttps {
    fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        match req.header("host").and_then(host_of) {
            Some(host) => res.redirect(
                Redirect::Permanent,
                &https_url(host, self.port, req.target()),
            ),
            None => res.status(Status::BAD_REQUEST),
        }
    }
}

#[cfg(feature = "async")]
impl crate::handler::AsyncHandler for RedirectToHttps {
    async fn handle<'a>(&mut self, req: &Request<'a>, res: Responder<'a, '_>) -> Responded {
        Handler::handle(self, req, res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_without_their_ports() {
        assert_eq!(host_of("example.com:8080"), Some("example.com"));
        assert_eq!(host_of("example.com"), Some("example.com"));
        assert_eq!(host_of("[::1]:8443"), Some("[::1]"));
        assert_eq!(host_of("127.0.0.1"), Some("127.0.0.1"));
        assert_eq!(host_of("evil.com/x"), None);
        assert_eq!(host_of(""), None);
        assert_eq!(host_of("a b"), None);
    }

    #[test]
    fn urls_keep_the_target_and_leave_out_443() {
        assert_eq!(https_url("h", 443, "/a?b=1"), "https://h/a?b=1");
        assert_eq!(https_url("h", 8443, "/x"), "https://h:8443/x");
        assert_eq!(https_url("h", 8443, "*"), "https://h:8443/");
        assert_eq!(https_url("h", 8443, "/a b"), "https://h:8443/");
    }

    #[test]
    fn the_plain_http_answer_names_the_https_url() {
        let local = Some("127.0.0.1:8443".parse().unwrap());
        let whole = plain_http_answer(
            b"GET /ui/?x=1 HTTP/1.1\r\nHost: dev.local:8443\r\n\r\n",
            local,
        );
        let text = String::from_utf8(whole).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nThis port speaks HTTPS: https://dev.local:8443/ui/?x=1\n"));
        let body_len = "This port speaks HTTPS: https://dev.local:8443/ui/?x=1\n".len();
        assert!(text.contains(&format!("Content-Length: {body_len}\r\n")));
        // Half a head: the server's own address.
        let half = String::from_utf8(plain_http_answer(b"GET / HT", local)).unwrap();
        assert!(half.ends_with("https://127.0.0.1:8443/\n"), "{half}");
    }

    #[test]
    fn progress_is_a_whole_first_record() {
        let tls = Tls::from_config(Arc::new(
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(NoCert)),
        ));
        let mut record = vec![HANDSHAKE_RECORD, 3, 1, 0, 10];
        record.extend_from_slice(&[1; 9]);
        assert!(!tls.shows_progress(&record));
        record.push(1);
        assert!(tls.shows_progress(&record));
        assert!(!tls.shows_progress(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(tls.shows_progress(&[0u8; PROBATION_PEEK]));
        assert_eq!(tls.refusal(), &REFUSAL_ALERT);
    }

    #[derive(Debug)]
    struct NoCert;

    impl rustls::server::ResolvesServerCert for NoCert {
        fn resolve(
            &self,
            _: rustls::server::ClientHello<'_>,
        ) -> Option<Arc<rustls::sign::CertifiedKey>> {
            None
        }
    }

    #[test]
    fn missing_and_unusable_files_are_clear_errors() {
        let e = Tls::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
        let e = Tls::from_pem(b"not pem", b"not pem").unwrap_err();
        assert!(e.to_string().contains("no CERTIFICATE"), "{e}");
    }
}
