//! [`MultipartError`]: one variant per rule a `multipart/form-data` request can break, with
//! the status to answer and a plain-text answer naming the rule.

use crate::error::StreamError;
use crate::handler::{Responded, Responder};
use crate::wire::Status;

/// Why a request is not the `multipart/form-data` body a handler reads: one variant per rule
/// of RFC 7578 and RFC 2046 §5.1, each with its [`MultipartError::status`]; errors are sticky
/// (once one is returned, the reader returns it again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MultipartError {
    /// The request has no `Content-Type`, or its media type is not `multipart/form-data`
    /// (ASCII case-insensitive; RFC 7578 §4): 415.
    NotMultipart,
    /// The `Content-Type` has no `boundary` parameter, which `multipart` requires (RFC 2046
    /// §5.1.1, RFC 7578 §4.1): 415.
    MissingBoundary,
    /// The `boundary` parameter is empty, longer than [`super::MAX_BOUNDARY_LEN`] (70)
    /// characters, has a character outside RFC 2046's `bchars` (unquoted: outside the
    /// `bchars` that are also `tchar`s), ends in a space, or is repeated; or the parameter
    /// list around it is malformed (RFC 2046 §5.1.1, RFC 9110 §5.6.6): 400.
    InvalidBoundary,
    /// The body ended before the closing delimiter `--boundary--`, which is required (RFC
    /// 2046 §5.1.1's `close-delimiter`): no delimiter at all, or the body was cut in a part's
    /// head or data: 400.
    MissingClosingDelimiter,
    /// After a delimiter's boundary, something other than transport padding (spaces and tabs)
    /// and then CRLF, or `--` for the closing delimiter; after `--boundary--`, something
    /// other than padding and then CRLF or the end (RFC 2046 §5.1.1: a delimiter is a line
    /// of its own, and no line of the data may start with it): 400.
    InvalidDelimiterLine,
    /// A part's header line ends in a bare LF, not CRLF (RFC 2046 §5.1.1 and RFC 5322 §2.2:
    /// lines end in CRLF): 400.
    BareLineEnding,
    /// A part's header line starts with a space or tab: a folded line (obs-fold, refused as
    /// RFC 9112 §5.2 refuses it in HTTP heads; RFC 7578 §4.8 has no use for it): 400.
    ObsFold,
    /// A part's header line that is not `name: value`: a name that is not a token, no
    /// colon, a control byte in the value, or a CR not followed by LF (RFC 5322 §2.2, RFC
    /// 9110 §5): 400.
    InvalidHeaderLine,
    /// A part's head (its header lines as sent, CRLFs included) is larger than the buffer
    /// the handler gave [`super::Multipart::next_part`]: 431, the status for header fields
    /// too large (RFC 6585 §5), here a part's.
    HeadTooLarge {
        /// The head buffer's size in bytes.
        room: usize,
    },
    /// A part's head has more than [`super::MAX_PART_HEADERS`] header lines: 431.
    TooManyHeaders,
    /// `Content-Disposition` or `Content-Type` is repeated in a part's head (RFC 7578 §4.2:
    /// one Content-Disposition; RFC 2045 §5: one Content-Type): 400.
    RepeatedHeader,
    /// A part without a `Content-Disposition` header (RFC 7578 §4.2: each part MUST have
    /// one): 400.
    MissingContentDisposition,
    /// A part whose `Content-Disposition` type is not `form-data` (RFC 7578 §4.2): 400.
    NotFormData,
    /// A part's `Content-Disposition` has no `name` parameter (RFC 7578 §4.2: it MUST have
    /// one): 400.
    MissingName,
    /// A part's `Content-Disposition` is malformed: its type is not a token, a parameter is
    /// not `token=token` or `token="quoted string"` (RFC 6266 §4.1, RFC 9110 §5.6.6), `name`
    /// or `filename` is repeated, or one of them is not UTF-8: 400.
    InvalidContentDisposition,
    /// A part's `Content-Type` is not `type/subtype` with well-formed parameters, or is not
    /// UTF-8 (RFC 2045 §5.1, RFC 9110 §8.3.1): 400.
    InvalidContentType,
    /// Reading the request body failed: its framing broke, it is over the route's limit, the
    /// peer stopped or went away ([`StreamError::status`] says what to answer: 400, 413,
    /// 408, ...).
    Body(StreamError),
}

impl MultipartError {
    /// The status to answer with: 415 for a request that is not `multipart/form-data` or
    /// has no boundary, 431 for a part's head too large, 400 for broken multipart, and the
    /// body's own status for [`MultipartError::Body`].
    pub fn status(self) -> Status {
        match self {
            MultipartError::NotMultipart | MultipartError::MissingBoundary => {
                Status::UNSUPPORTED_MEDIA_TYPE
            }
            MultipartError::HeadTooLarge { .. } | MultipartError::TooManyHeaders => {
                Status::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            MultipartError::Body(e) => e.status(),
            MultipartError::InvalidBoundary
            | MultipartError::MissingClosingDelimiter
            | MultipartError::InvalidDelimiterLine
            | MultipartError::BareLineEnding
            | MultipartError::ObsFold
            | MultipartError::InvalidHeaderLine
            | MultipartError::RepeatedHeader
            | MultipartError::MissingContentDisposition
            | MultipartError::NotFormData
            | MultipartError::MissingName
            | MultipartError::InvalidContentDisposition
            | MultipartError::InvalidContentType => Status::BAD_REQUEST,
        }
    }

    /// What broke, in a few words (the body of [`MultipartError::respond`]'s answer).
    pub fn as_str(self) -> &'static str {
        match self {
            MultipartError::NotMultipart => "Content-Type must be multipart/form-data",
            MultipartError::MissingBoundary => "multipart/form-data without a boundary",
            MultipartError::InvalidBoundary => "invalid multipart boundary",
            MultipartError::MissingClosingDelimiter => {
                "multipart body ended before its closing delimiter"
            }
            MultipartError::InvalidDelimiterLine => "bytes after a multipart delimiter",
            MultipartError::BareLineEnding => "bare LF in a part's head",
            MultipartError::ObsFold => "folded line in a part's head",
            MultipartError::InvalidHeaderLine => "invalid header line in a part's head",
            MultipartError::HeadTooLarge { .. } => "part head larger than its buffer",
            MultipartError::TooManyHeaders => "too many header lines in a part's head",
            MultipartError::RepeatedHeader => "repeated header in a part's head",
            MultipartError::MissingContentDisposition => "part without Content-Disposition",
            MultipartError::NotFormData => "part's Content-Disposition is not form-data",
            MultipartError::MissingName => "part without a name",
            MultipartError::InvalidContentDisposition => "invalid Content-Disposition in a part",
            MultipartError::InvalidContentType => "invalid Content-Type in a part",
            MultipartError::Body(_) => "request body",
        }
    }

    /// Answer with [`MultipartError::status`] and [`MultipartError::as_str`] as plain text
    /// (`part without a name`; a head too large says the buffer's size). A body error is
    /// answered as [`Responder::error`] answers it: its status and text, and a close.
    pub fn respond(self, res: Responder<'_, '_>) -> Responded {
        if let MultipartError::Body(e) = self {
            return res.error(e);
        }
        res.start(self.status())
            .header("Content-Type", "text/plain; charset=utf-8")
            .body_with(|w| {
                w.push_str(self.as_str());
                if let MultipartError::HeadTooLarge { room } = self {
                    w.push_str(" (");
                    w.push_u64(room as u64);
                    w.push_str(" B)");
                }
                w.push_str("\n");
            })
    }
}

impl From<StreamError> for MultipartError {
    fn from(e: StreamError) -> Self {
        MultipartError::Body(e)
    }
}

impl core::fmt::Display for MultipartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MultipartError::HeadTooLarge { room } => {
                write!(f, "{} ({room} B)", self.as_str())
            }
            MultipartError::Body(e) => write!(f, "request body: {e}"),
            _ => f.write_str(self.as_str()),
        }
    }
}

impl core::error::Error for MultipartError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status_and_a_reason() {
        use MultipartError::*;
        let table = [
            (NotMultipart, 415),
            (MissingBoundary, 415),
            (InvalidBoundary, 400),
            (MissingClosingDelimiter, 400),
            (InvalidDelimiterLine, 400),
            (BareLineEnding, 400),
            (ObsFold, 400),
            (InvalidHeaderLine, 400),
            (HeadTooLarge { room: 64 }, 431),
            (TooManyHeaders, 431),
            (RepeatedHeader, 400),
            (MissingContentDisposition, 400),
            (NotFormData, 400),
            (MissingName, 400),
            (InvalidContentDisposition, 400),
            (InvalidContentType, 400),
            (Body(StreamError::Body(crate::Error::BodyTooLarge)), 413),
            (Body(StreamError::Body(crate::Error::Incomplete)), 400),
            (Body(StreamError::TimedOut), 408),
        ];
        let mut reasons = std::collections::HashSet::new();
        for (e, status) in table {
            assert_eq!(e.status().code(), status, "{e:?}");
            assert!(!e.as_str().is_empty());
            if !matches!(e, Body(_)) {
                assert!(reasons.insert(e.as_str()), "{e:?} shares its reason");
            }
        }
        assert_eq!(
            std::format!("{}", HeadTooLarge { room: 64 }),
            "part head larger than its buffer (64 B)"
        );
    }
}
