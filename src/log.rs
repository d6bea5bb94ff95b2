//! The library's own log lines, through the `log` crate (feature `log`) or `defmt` (feature
//! `defmt`); with neither, nothing is logged and nothing is linked.
//!
//! One line per exchange, as the drivers finish it (`-` for a method or path the request did
//! not get far enough to have): `GET /path 200` at debug level (an access
//! log is noise on a device unless asked for); a request the connection refused (a protocol
//! error: 400, 408, 413, 431...) with its reason at info; a 500 or a streamed response that
//! broke, with the reason the handler did not choose ([`crate::Failure`]), at warn.

use crate::connection::Exchange;

/// Log one finished exchange (see the module docs).
#[inline]
pub(crate) fn exchange(exchange: &Exchange<'_>) {
    #[cfg(any(feature = "log", feature = "defmt"))]
    {
        let method = exchange.method.map_or("-", crate::wire::Method::as_str);
        let path = if exchange.path.is_empty() {
            "-"
        } else {
            exchange.path
        };
        let status = exchange.status.code();
        #[cfg(feature = "log")]
        match (exchange.failure, exchange.error) {
            (Some(failure), _) => ::log::warn!("{method} {path} {status}: {failure}"),
            (None, Some(error)) => ::log::info!("{method} {path} {status}: {error}"),
            (None, None) => ::log::debug!("{method} {path} {status}"),
        }
        #[cfg(feature = "defmt")]
        match (exchange.failure, exchange.error) {
            (Some(failure), _) => ::defmt::warn!("{} {} {}: {}", method, path, status, failure),
            (None, Some(error)) => ::defmt::info!("{} {} {}: {}", method, path, status, error),
            (None, None) => ::defmt::debug!("{} {} {}", method, path, status),
        }
    }
    #[cfg(not(any(feature = "log", feature = "defmt")))]
    let _ = exchange;
}

/// Log a connection answered `503` because it waited too long for a place (a server with
/// more sockets than places), at info.
#[cfg(feature = "embassy-net")]
#[inline]
pub(crate) fn refused_busy() {
    #[cfg(feature = "log")]
    ::log::info!("- - 503: no place free for the connection in time");
    #[cfg(feature = "defmt")]
    ::defmt::info!("- - 503: no place free for the connection in time");
}
