//! hyper 1.x HTTP/1.1 over TLS on tokio's current-thread runtime: `hyper` (src/bin/hyper.rs)
//! accepting through tokio-rustls, rustls on ring's crypto, for benches/tls_compare.sh.
//!
//! ```text
//! hyper_tls ADDRESS --tls-cert CERT.pem --tls-key KEY.pem
//! ```
//!
//! The flags are our examples' (`--tls-cert`: the PEM certificate chain, the server's first;
//! `--tls-key`: a PEM private key, PKCS#8, PKCS#1 or SEC1); other arguments are ignored, as
//! `hyper` ignores them. The rustls configuration is the library's `Tls::from_pem`, built
//! here by hand: ring's provider, rustls' safe default protocol versions (TLS 1.3 and 1.2),
//! no client certificates, ALPN `http/1.1`, rustls' default session cache.
//!
//! The rest is `hyper`'s set-up: the same routes (`peers::hyper_app`), a header read timeout
//! of 10 s, accept errors backed off, and on Ctrl+C a graceful shutdown bounded by 10 s. Each
//! handshake runs in its connection's task, bounded by 10 s too (our request deadline), so
//! a slow client holds up neither the accept loop nor the others. It prints
//! `listening on https://ADDRESS/` as our examples do.
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The longest a client may take over its handshake, as over its request's head.
const DEADLINE: Duration = Duration::from_secs(10);

fn fail(what: String) -> ! {
    eprintln!("hyper_tls: {what}");
    std::process::exit(1);
}

/// The server's rustls configuration from the PEM files `cert` and `key`.
fn config(cert: &str, key: &str) -> ServerConfig {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .unwrap_or_else(|e| fail(format!("{cert}: {e}")));
    if certs.is_empty() {
        fail(format!("{cert}: no CERTIFICATE"));
    }
    let key = PrivateKeyDer::from_pem_file(key).unwrap_or_else(|e| fail(format!("{key}: {e}")));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| fail(e.to_string()))
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap_or_else(|e| fail(format!("the key and certificate are not usable: {e}")));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut cert, mut key) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tls-cert" => cert = args.next(),
            "--tls-key" => key = args.next(),
            _ if addr.is_none() && !arg.starts_with("--") => addr = Some(arg),
            _ => {}
        }
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        fail("usage: hyper_tls ADDRESS --tls-cert CERT.pem --tls-key KEY.pem".into());
    };
    let acceptor = TlsAcceptor::from(Arc::new(config(&cert, &key)));
    let addr = addr.unwrap_or_else(|| "127.0.0.1:8443".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .unwrap_or_else(|e| fail(format!("cannot listen on {addr}: {e}")));
    println!("listening on https://{}/", listener.local_addr().unwrap());
    let graceful = GracefulShutdown::new();
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = &mut ctrl_c => break,
        };
        stream.set_nodelay(true).unwrap();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        tokio::task::spawn(async move {
            let Ok(Ok(tls)) = tokio::time::timeout(DEADLINE, acceptor.accept(stream)).await else {
                return;
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(DEADLINE)
                .serve_connection(TokioIo::new(tls), service_fn(peers::hyper_app::handle));
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
}
