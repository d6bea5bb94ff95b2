//! [`Status`]: the three-digit code of a response (RFC 9110 §15), and the reason phrases of
//! the statuses this crate names, packed for flash. A leaf: it imports nothing.

/// An HTTP status code (RFC 9110 §15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Status(u16);

impl Status {
    /// 100 Continue
    pub const CONTINUE: Status = Status(100);
    /// 101 Switching Protocols (see [`crate::Responder::upgrade`])
    pub const SWITCHING_PROTOCOLS: Status = Status(101);
    /// 200 OK
    pub const OK: Status = Status(200);
    /// 201 Created
    pub const CREATED: Status = Status(201);
    /// 202 Accepted
    pub const ACCEPTED: Status = Status(202);
    /// 204 No Content
    pub const NO_CONTENT: Status = Status(204);
    /// 301 Moved Permanently
    pub const MOVED_PERMANENTLY: Status = Status(301);
    /// 302 Found
    pub const FOUND: Status = Status(302);
    /// 303 See Other
    pub const SEE_OTHER: Status = Status(303);
    /// 304 Not Modified
    pub const NOT_MODIFIED: Status = Status(304);
    /// 307 Temporary Redirect
    pub const TEMPORARY_REDIRECT: Status = Status(307);
    /// 308 Permanent Redirect
    pub const PERMANENT_REDIRECT: Status = Status(308);
    /// 400 Bad Request
    pub const BAD_REQUEST: Status = Status(400);
    /// 401 Unauthorized
    pub const UNAUTHORIZED: Status = Status(401);
    /// 403 Forbidden
    pub const FORBIDDEN: Status = Status(403);
    /// 404 Not Found
    pub const NOT_FOUND: Status = Status(404);
    /// 405 Method Not Allowed
    pub const METHOD_NOT_ALLOWED: Status = Status(405);
    /// 408 Request Timeout
    pub const REQUEST_TIMEOUT: Status = Status(408);
    /// 409 Conflict
    pub const CONFLICT: Status = Status(409);
    /// 411 Length Required
    pub const LENGTH_REQUIRED: Status = Status(411);
    /// 413 Content Too Large
    pub const CONTENT_TOO_LARGE: Status = Status(413);
    /// 413 Content Too Large, by its RFC 7231 name.
    #[deprecated(note = "RFC 9110 calls it Content Too Large: use Status::CONTENT_TOO_LARGE")]
    pub const PAYLOAD_TOO_LARGE: Status = Status(413);
    /// 414 URI Too Long
    pub const URI_TOO_LONG: Status = Status(414);
    /// 415 Unsupported Media Type
    pub const UNSUPPORTED_MEDIA_TYPE: Status = Status(415);
    /// 417 Expectation Failed
    pub const EXPECTATION_FAILED: Status = Status(417);
    /// 422 Unprocessable Content
    pub const UNPROCESSABLE_CONTENT: Status = Status(422);
    /// 429 Too Many Requests
    pub const TOO_MANY_REQUESTS: Status = Status(429);
    /// 426 Upgrade Required
    pub const UPGRADE_REQUIRED: Status = Status(426);
    /// 431 Request Header Fields Too Large
    pub const REQUEST_HEADER_FIELDS_TOO_LARGE: Status = Status(431);
    /// 500 Internal Server Error
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501 Not Implemented
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 503 Service Unavailable
    pub const SERVICE_UNAVAILABLE: Status = Status(503);
    /// 505 HTTP Version Not Supported
    pub const HTTP_VERSION_NOT_SUPPORTED: Status = Status(505);

    /// The status of a three-digit code (100..=599: every registered code and the unassigned
    /// ones a client must treat as its class, RFC 9110 §15); `None` outside. A 1xx status is
    /// not a handler's response (interim responses are the connection's: `100 Continue`, or
    /// `101` through [`crate::Responder::upgrade`]): starting one makes a 500. Codes outside
    /// [`Status::reason`]'s table go out with an empty reason phrase, which RFC 9112 §4
    /// allows.
    pub const fn from_code(code: u16) -> Option<Status> {
        if code >= 100 && code <= 599 {
            Some(Status(code))
        } else {
            None
        }
    }

    /// The three-digit code.
    pub const fn code(self) -> u16 {
        self.0
    }

    /// The standard reason phrase, or `""` for codes without one here. (101 and 426 are not
    /// in the table: the code that sends them writes their phrase, so that firmware without
    /// upgrades does not carry it.)
    pub fn reason(self) -> &'static str {
        let mut start = 0;
        for &(code, end) in &PACKED_PHRASE_ENDS {
            if code == self.0 {
                return PACKED_PHRASES.get(start..usize::from(end)).unwrap_or("");
            }
            start = usize::from(end);
        }
        ""
    }

    /// Whether a response with this status may carry a body (not 1xx, 204 or 304).
    pub const fn allows_body(self) -> bool {
        !(self.0 < 200 || self.0 == 204 || self.0 == 304)
    }
}

/// The reason phrases of the statuses this crate names (RFC 9110 §15).
const REASON_PHRASES: [(u16, &str); 30] = [
    (100, "Continue"),
    (200, "OK"),
    (201, "Created"),
    (202, "Accepted"),
    (204, "No Content"),
    (301, "Moved Permanently"),
    (302, "Found"),
    (303, "See Other"),
    (304, "Not Modified"),
    (307, "Temporary Redirect"),
    (308, "Permanent Redirect"),
    (400, "Bad Request"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (405, "Method Not Allowed"),
    (408, "Request Timeout"),
    (409, "Conflict"),
    (411, "Length Required"),
    (413, "Content Too Large"),
    (414, "URI Too Long"),
    (415, "Unsupported Media Type"),
    (417, "Expectation Failed"),
    (422, "Unprocessable Content"),
    (429, "Too Many Requests"),
    (431, "Request Header Fields Too Large"),
    (500, "Internal Server Error"),
    (501, "Not Implemented"),
    (503, "Service Unavailable"),
    (505, "HTTP Version Not Supported"),
];

/// [`REASON_PHRASES`] as flash holds it: the phrases back to back, and each code with where
/// its phrase ends, four bytes an entry instead of a `&str`'s eight (plus the code's padding)
/// on a 32-bit MCU. Built at compile time.
const PACKED_PHRASES: &str = match core::str::from_utf8(&PACKED_PHRASE_BYTES) {
    Ok(phrases) => phrases,
    Err(_) => panic!("reason phrases are ASCII"),
};
const PACKED_PHRASE_ENDS: [(u16, u16); REASON_PHRASES.len()] = {
    let mut ends = [(0, 0); REASON_PHRASES.len()];
    let (mut i, mut end) = (0, 0);
    while i < REASON_PHRASES.len() {
        end += REASON_PHRASES[i].1.len();
        ends[i] = (REASON_PHRASES[i].0, end as u16);
        i += 1;
    }
    ends
};
const PACKED_PHRASE_BYTES: [u8; PACKED_PHRASE_ENDS[REASON_PHRASES.len() - 1].1 as usize] = {
    let mut bytes = [0; PACKED_PHRASE_ENDS[REASON_PHRASES.len() - 1].1 as usize];
    let (mut i, mut at) = (0, 0);
    while i < REASON_PHRASES.len() {
        let phrase = REASON_PHRASES[i].1.as_bytes();
        let mut j = 0;
        while j < phrase.len() {
            bytes[at] = phrase[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    bytes
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_phrase_comes_out_of_the_packed_table() {
        for (code, phrase) in REASON_PHRASES {
            assert_eq!(Status(code).reason(), phrase);
        }
        assert_eq!(Status::NOT_FOUND.reason(), "Not Found");
        assert_eq!(Status(299).reason(), "");
    }

    #[test]
    fn codes_and_bodies() {
        assert_eq!(Status::from_code(99), None);
        assert_eq!(Status::from_code(600), None);
        assert_eq!(Status::from_code(102), Some(Status(102)));
        assert_eq!(Status::from_code(299).map(Status::reason), Some(""));
        assert!(!Status::NOT_MODIFIED.allows_body());
        assert!(!Status::CONTINUE.allows_body());
        assert!(Status::OK.allows_body());
    }
}
