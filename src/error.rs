//! The library's errors, one variant per rule:
//! - [`Error`]: every way a peer's bytes can be unacceptable, each mapped to the status the
//!   server answers with before it closes the connection;
//! - [`Failure`]: why a response became a `500` (or a streamed one ended early) when the
//!   handler did not choose it, the reason a log line shows;
//! - [`StreamError`]: why reading a request body or writing a streamed response failed.
//!
//! Errors are sticky (h11's habit): once the connection state machine meets one, it sends the
//! error's response with `Connection: close` and then only closes. IO errors are not here;
//! drivers keep them apart (see [`crate::io::ServeError`]).

use crate::wire::status::Status;

/// Why a request was refused. `status()` is what the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The request line or a header line is not valid HTTP/1.1 syntax (RFC 9112 §3, §5).
    Malformed,
    /// A line ends in a bare LF (RFC 9112 §2.2 lets servers accept it; this crate does not,
    /// though httparse would). A bare CR, which servers must not accept, is refused by
    /// httparse and reported as [`Error::Malformed`].
    BareLineEnding,
    /// The request-target contains a byte outside printable ASCII (RFC 9112 §3.2).
    InvalidTarget,
    /// An HTTP/1.1 request without a Host header, or with more than one (RFC 9112 §3.2).
    HostMissingOrRepeated,
    /// A Content-Length that is not a plain decimal number, or several that disagree
    /// (RFC 9110 §8.6, RFC 9112 §6.3).
    InvalidContentLength,
    /// Both Content-Length and Transfer-Encoding were sent (RFC 9112 §6.1: a smuggling vector).
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1).
    TransferEncodingInHttp10,
    /// A Transfer-Encoding this server cannot decode (RFC 9112 §6.1: 501).
    UnsupportedTransferEncoding,
    /// A chunked body with bad syntax: a chunk size that is not hex or overflows, a missing
    /// CRLF after chunk data, control bytes in an extension or trailer (RFC 9112 §7.1).
    InvalidChunk,
    /// A chunk extension longer than [`crate::Limits::max_chunk_extension`] (RFC 9112 §7.1.1
    /// lets servers bound them).
    ChunkExtensionTooLong,
    /// The trailer section is larger than [`crate::Limits::max_trailers`] (RFC 9112 §7.1.2).
    TrailersTooLarge,
    /// `chunked` is in Transfer-Encoding but not last (RFC 9112 §6.3: 400 and close).
    ChunkedNotLast,
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1: 417).
    ExpectationFailed,
    /// A path or query that does not decode: a bad or `%00` escape, not UTF-8, or a segment
    /// that would escape its directory (`%2f`, a backslash). Returned by [`crate::target`].
    InvalidPath,
    /// A method this crate does not know, or CONNECT, which a server that is not a proxy does
    /// not implement (RFC 9110 §9.1, §9.3.6: 501).
    MethodNotImplemented,
    /// A well-formed HTTP version other than 1.0 and 1.1 (RFC 9110 §15.6.6: 505).
    UnsupportedVersion,
    /// The request line is longer than the configured limit, or does not fit the buffer
    /// (RFC 9112 §3: 414).
    UriTooLong,
    /// The header section does not fit the buffer, or has more fields than the header table
    /// holds (RFC 6585 §5: 431).
    HeadTooLarge,
    /// The declared body is larger than the buffer or the configured limit (RFC 9110 §15.5.14).
    BodyTooLarge,
    /// The peer closed the connection in the middle of a request.
    Incomplete,
    /// The peer stopped sending in the middle of a request (RFC 9110 §15.5.9: 408).
    Timeout,
}

impl Error {
    /// The status sent to the client for this error.
    pub const fn status(self) -> Status {
        match self {
            Error::Malformed
            | Error::BareLineEnding
            | Error::InvalidTarget
            | Error::HostMissingOrRepeated
            | Error::InvalidContentLength
            | Error::ContentLengthWithTransferEncoding
            | Error::TransferEncodingInHttp10
            | Error::InvalidChunk
            | Error::ChunkExtensionTooLong
            | Error::ChunkedNotLast
            | Error::InvalidPath
            | Error::Incomplete => Status::BAD_REQUEST,
            Error::TrailersTooLarge => Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Error::ExpectationFailed => Status::EXPECTATION_FAILED,
            Error::UnsupportedTransferEncoding | Error::MethodNotImplemented => {
                Status::NOT_IMPLEMENTED
            }
            Error::UnsupportedVersion => Status::HTTP_VERSION_NOT_SUPPORTED,
            Error::UriTooLong => Status::URI_TOO_LONG,
            Error::HeadTooLarge => Status::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Error::BodyTooLarge => Status::CONTENT_TOO_LARGE,
            Error::Timeout => Status::REQUEST_TIMEOUT,
        }
    }

    /// A short, stable description, also used as the body of the error response.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::Malformed => "malformed request",
            Error::BareLineEnding => "bare LF line ending",
            Error::InvalidTarget => "invalid request-target",
            Error::HostMissingOrRepeated => "missing or repeated Host header",
            Error::InvalidContentLength => "invalid Content-Length",
            Error::ContentLengthWithTransferEncoding => "Content-Length with Transfer-Encoding",
            Error::TransferEncodingInHttp10 => "Transfer-Encoding in HTTP/1.0",
            Error::UnsupportedTransferEncoding => "unsupported Transfer-Encoding",
            Error::InvalidChunk => "invalid chunked encoding",
            Error::ChunkExtensionTooLong => "chunk extension too long",
            Error::TrailersTooLarge => "trailer section too large",
            Error::ChunkedNotLast => "chunked is not the last transfer coding",
            Error::ExpectationFailed => "unsupported expectation",
            Error::InvalidPath => "invalid path encoding",
            Error::MethodNotImplemented => "method not implemented",
            Error::UnsupportedVersion => "unsupported HTTP version",
            Error::UriTooLong => "request-target too long",
            Error::HeadTooLarge => "header section too large",
            Error::BodyTooLarge => "body too large",
            Error::Incomplete => "incomplete request",
            Error::Timeout => "request timeout",
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

/// Why a response became a `500`, or a streamed response ended early, when the handler did
/// not choose it: the reason a log line shows. Not sent to the client (it may describe the
/// server's internals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The response head (status line and headers) does not fit the transmit buffer.
    HeadTooLarge {
        /// The transmit buffer's size in bytes.
        room: usize,
    },
    /// A body written with `body_with` does not fit what the head left of the transmit
    /// buffer; a streamed body (`ResponseHead::stream`) has no such limit.
    BodyTooLarge {
        /// The body's size in bytes, as far as it was written (at least this much).
        body: usize,
        /// The bytes left for it.
        room: usize,
    },
    /// A header name that is not a token, or a value with CR, LF, NUL or another control
    /// byte (RFC 9110 §5.1, §5.5): sending it could split the response.
    InvalidHeader,
    /// The handler wrote more body bytes than the `Content-Length` it declared.
    StreamTooLong {
        /// The declared length.
        declared: u64,
    },
    /// The handler finished a declared-length body short of its length.
    StreamTooShort {
        /// The declared length.
        declared: u64,
        /// The bytes written.
        written: u64,
    },
    /// The handler gave up on a streamed body after its head was sent.
    StreamAborted,
    /// Writing a streamed body failed (the peer went away or stopped reading).
    StreamWrite,
    /// A streamed body outgrew the transmit buffer where no driver can send it in pieces
    /// ([`crate::Connection::poll`] has no transport).
    NeedsDriver,
    /// A handler started a 1xx response: interim responses are the connection's (`100
    /// Continue`; `101` through `Responder::upgrade`), and the client would wait for a final
    /// one.
    InterimStatus,
    /// A `101` response could not take the connection: the request was HTTP/1.0, its body
    /// was still arriving, or the driver cannot move bytes while the handler runs.
    Upgrade,
    /// A blocking handler called a blocking method that moves bytes (streaming a body in or
    /// out, an upgraded connection) on the async driver, which cannot run it: the response is
    /// a 500 that says so ([`Failure::BLOCKING_ON_ASYNC`]).
    BlockingOnAsync,
    /// The handler returned without a response: its future was dropped before it finished
    /// (an async handler that awaited something other than the connection, polled on the
    /// blocking driver by `io::blocking::Polled`).
    NoResponse,
}

impl Failure {
    /// What [`Failure::BlockingOnAsync`] says, in the log line and in the 500's body.
    pub const BLOCKING_ON_ASYNC: &'static str =
        "a blocking handler cannot stream on the async driver: make it async";
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Failure::HeadTooLarge { room } => {
                write!(f, "response head does not fit the {room} B transmit buffer")
            }
            Failure::BodyTooLarge { body, room } => write!(
                f,
                "response body of {body} B or more does not fit the {room} B left in the \
                 transmit buffer (stream it instead)"
            ),
            Failure::InvalidHeader => f.write_str(
                "response header refused (not a token, or CR, LF or control byte in the value)",
            ),
            Failure::StreamTooLong { declared } => {
                write!(f, "handler wrote more than the declared {declared} B")
            }
            Failure::StreamTooShort { declared, written } => {
                write!(f, "handler wrote {written} B of the declared {declared} B")
            }
            Failure::StreamAborted => f.write_str("handler aborted the streamed body"),
            Failure::StreamWrite => f.write_str("writing the streamed body failed"),
            Failure::NeedsDriver => {
                f.write_str("streamed body outgrew the transmit buffer without a driver")
            }
            Failure::InterimStatus => {
                f.write_str("a 1xx status is not a final response (use Responder::upgrade for 101)")
            }
            Failure::Upgrade => f.write_str(
                "connection could not be upgraded (HTTP/1.0, a body still arriving, or no driver)",
            ),
            Failure::BlockingOnAsync => f.write_str(Failure::BLOCKING_ON_ASYNC),
            Failure::NoResponse => f.write_str(
                "the handler returned no response (an async handler awaited something other \
                 than the connection on the blocking driver)",
            ),
        }
    }
}

/// Why reading a request body or writing a streamed response failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StreamError {
    /// The request body is unacceptable: bad chunked framing, over the route's limit, or
    /// cut short by the peer. [`Error::status`] says what to answer; the connection closes
    /// after the response.
    Body(Error),
    /// The peer sent nothing before the request deadline, or did not take what was written
    /// within the write timeout.
    TimedOut,
    /// The transport failed: most often the peer went away.
    Io(embedded_io::ErrorKind),
    /// More body bytes than the declared `Content-Length`; none of this write was sent.
    TooLong,
    /// The server is shutting down: end the stream.
    ShuttingDown,
    /// This needs a driver that can move bytes while the handler runs (the blocking driver
    /// for [`crate::Handler`]s), or the response could not be encoded (see the log's reason).
    Unsupported,
}

impl StreamError {
    /// The status to answer with, if no response has been sent yet: the body error's status,
    /// 408 for a timeout, 503 at shutdown, 500 otherwise.
    pub fn status(self) -> Status {
        match self {
            StreamError::Body(e) => e.status(),
            StreamError::TimedOut => Status::REQUEST_TIMEOUT,
            StreamError::ShuttingDown => Status::SERVICE_UNAVAILABLE,
            _ => Status::INTERNAL_SERVER_ERROR,
        }
    }
}

impl core::fmt::Display for StreamError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StreamError::Body(e) => write!(f, "request body: {e}"),
            StreamError::TimedOut => f.write_str("timed out"),
            StreamError::Io(kind) => write!(f, "transport: {kind:?}"),
            StreamError::TooLong => f.write_str("more than the declared length"),
            StreamError::ShuttingDown => f.write_str("server shutting down"),
            StreamError::Unsupported => f.write_str("not possible on this driver"),
        }
    }
}

impl core::error::Error for StreamError {}

impl embedded_io::Error for StreamError {
    fn kind(&self) -> embedded_io::ErrorKind {
        match self {
            StreamError::Body(_) => embedded_io::ErrorKind::InvalidData,
            StreamError::TimedOut => embedded_io::ErrorKind::TimedOut,
            StreamError::Io(kind) => *kind,
            StreamError::TooLong => embedded_io::ErrorKind::InvalidInput,
            StreamError::ShuttingDown => embedded_io::ErrorKind::Interrupted,
            StreamError::Unsupported => embedded_io::ErrorKind::Unsupported,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_a_client_error_or_501_505() {
        let all = [
            Error::Malformed,
            Error::BareLineEnding,
            Error::InvalidTarget,
            Error::HostMissingOrRepeated,
            Error::InvalidContentLength,
            Error::ContentLengthWithTransferEncoding,
            Error::TransferEncodingInHttp10,
            Error::UnsupportedTransferEncoding,
            Error::InvalidChunk,
            Error::ChunkExtensionTooLong,
            Error::TrailersTooLarge,
            Error::ChunkedNotLast,
            Error::ExpectationFailed,
            Error::InvalidPath,
            Error::MethodNotImplemented,
            Error::UnsupportedVersion,
            Error::UriTooLong,
            Error::HeadTooLarge,
            Error::BodyTooLarge,
            Error::Incomplete,
            Error::Timeout,
        ];
        for e in all {
            let code = e.status().code();
            assert!(
                (400..500).contains(&code) || code == 501 || code == 505,
                "{e:?} -> {code}"
            );
            assert!(!e.as_str().is_empty());
        }
        assert_eq!(Error::HeadTooLarge.status().code(), 431);
        assert_eq!(Error::UriTooLong.status().code(), 414);
        assert_eq!(Error::BodyTooLarge.status().code(), 413);
    }
}
