//! The sans-IO core of multipart: a byte-level state machine over a `multipart/form-data`
//! body (RFC 2046 §5.1.1), fed the received bytes as they come; it says what they are.
//!
//! # Theory of operation
//!
//! Call [`Decoder::decode`] with the bytes not taken yet; it takes what it can from their
//! front and returns how many it took and at most one [`Found`]. At the end of the body
//! call [`Decoder::end`]. The states, in the body's order:
//!
//! - **Preamble**: everything before the first delimiter is discarded. The body's start counts
//!   as a line start, so a body may open with `--boundary` without a CRLF before it.
//! - **Delimiter line**: after `--boundary`, either `--` (the closing delimiter) or transport
//!   padding (spaces, tabs) and CRLF. Anything else is [`MultipartError::InvalidDelimiterLine`].
//! - **Head**: header lines, checked byte by byte (token name, colon, field bytes, CRLF; a
//!   bare LF, a fold or a control byte is an error) and copied into the caller's head buffer;
//!   the blank line ends the head, which is judged whole ([`super::head::parse_part`]) and
//!   handed out as [`Found::Part`].
//! - **Data**: the part's bytes, handed out where they lie ([`Found::Data`]: positions in
//!   the input) until the delimiter `CRLF--boundary` ([`Found::DataEnd`]; the CRLF belongs to
//!   the delimiter, not the data). The blank line that ends the head counts as the CRLF of a
//!   delimiter right after it (`body-part := MIME-part-headers [CRLF *OCTET]`: a part may
//!   have no data section), as the body's start does for the first one.
//! - **Epilogue**: after `--boundary--`, padding, and CRLF or the end, everything is ignored.
//!
//! Finding the delimiter across reads without holding bytes back: the decoder takes every
//! byte it is given and remembers how many bytes of the delimiter the input ended in
//! (`matched`). Those bytes are known (they *are* the delimiter's first bytes), so when the
//! next byte shows they were data after all, the decoder hands them out again from the
//! delimiter itself ([`Found::Replay`]: `CRLF--` is a constant, the boundary is borrowed from
//! the request's `Content-Type`), and no receive buffer, however small, has to hold a whole
//! delimiter. The delimiter's only CR is its first byte, so a failed match never hides the
//! start of another: the matching is linear, one look at each byte (a match carried from an
//! earlier call that fails rescans only the bytes of this call that continued it).
//!
//! Invariants: a call returns at most one `Found`; it returns `Ok((n, None))` only once it
//! has taken all its input (`n == input.len()`), so a caller loops while something is found
//! and reads more when nothing is. [`Found::Data`] is never empty. Every call takes at least
//! one byte or changes state towards taking one ([`Found::Replay`] takes none and is
//! followed by at most one more replay), so no input makes it loop. The head never grows
//! past the caller's buffer nor [`super::MAX_PART_HEADERS`] lines. Errors are sticky: after
//! one, every call returns it.

use super::error::MultipartError;
use super::head::{parse_part, PartHead, MAX_BOUNDARY_LEN, MAX_PART_HEADERS};
use crate::wire::syntax::{is_field_byte, is_token_byte};

/// The delimiter's bytes before the boundary.
const DELIMITER_START: &[u8; 4] = b"\r\n--";

/// What [`Decoder::decode`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found<'b> {
    /// A part's head is complete in the head buffer: its fields' positions there.
    Part(PartHead),
    /// The current part's data: `input[start..end]` (never empty).
    Data { start: usize, end: usize },
    /// The current part's data: delimiter bytes matched earlier that were data after all.
    Replay(&'b [u8]),
    /// The current part's data ended at a delimiter.
    DataEnd,
    /// The closing delimiter `--boundary--`: no more parts (the epilogue is ignored).
    Closed,
    /// The body ended after the closing delimiter ([`Decoder::end`]; every call after it
    /// says so again).
    End,
}

/// Where the decoder is; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter; `matched` delimiter bytes matched (2, the CRLF, at the
    /// body's start).
    Preamble { matched: u8 },
    /// Just after a delimiter's boundary.
    Boundary,
    /// `--boundary-`: the second `-` of the closing delimiter must follow.
    CloseDash,
    /// Transport padding after a delimiter, up to its CR.
    Padding,
    /// The CR of a delimiter line: LF must follow.
    DelimiterLf,
    /// At the start of a header line, or of the blank line that ends the head.
    LineStart,
    /// In a header name.
    Name,
    /// In a header value, up to CR.
    Value,
    /// A header line's CR: LF must follow.
    LineLf,
    /// The blank line's CR: LF must follow.
    BlankLf,
    /// In a part's data: delimiter bytes `from..matched` were matched and taken (`from` is 2
    /// where the blank line of the head stands for the delimiter's CRLF).
    Data { from: u8, matched: u8 },
    /// Delimiter bytes `from..to` matched earlier were data: handing them out.
    Replay { from: u8, to: u8 },
    /// After `--boundary--`: padding, then CRLF or the end.
    ClosePadding,
    /// The closing delimiter line's CR: LF must follow.
    CloseLf,
    /// After the closing delimiter line: ignored.
    Epilogue,
    /// The body ended after the closing delimiter.
    Finished,
    /// A rule was broken: all the decoder answers.
    Failed(MultipartError),
}

/// How far a delimiter match went over some input.
enum Match {
    /// All of the delimiter: it ends `n` bytes into the input.
    Complete(usize),
    /// The input ran out with this much of the delimiter matched.
    Partial(u8),
    /// A byte that does not continue the delimiter, `n` bytes into the input.
    Broken(usize),
}

/// The multipart state machine; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoder<'b> {
    /// 1 to 70 bytes, checked by [`super::head::boundary`].
    boundary: &'b [u8],
    state: State,
    /// Bytes of the part's head in the head buffer.
    head_len: usize,
    /// Header lines in the part's head.
    lines: u8,
}

impl<'b> Decoder<'b> {
    /// A decoder at the start of a body delimited by `boundary` (1 to 70 `bchars`; a
    /// longer one is refused at once).
    pub(crate) fn new(boundary: &'b [u8]) -> Self {
        let state = if (1..=MAX_BOUNDARY_LEN).contains(&boundary.len()) {
            State::Preamble { matched: 2 }
        } else {
            State::Failed(MultipartError::InvalidBoundary)
        };
        Decoder {
            boundary,
            state,
            head_len: 0,
            lines: 0,
        }
    }

    /// In a part's data (some may still be handed out).
    pub(crate) fn in_data(&self) -> bool {
        matches!(self.state, State::Data { .. } | State::Replay { .. })
    }

    /// Whether [`Decoder::decode`] has use for more input: not while it replays (or once it
    /// is finished or failed).
    pub(crate) fn needs_input(&self) -> bool {
        !matches!(
            self.state,
            State::Replay { .. } | State::Finished | State::Failed(_)
        )
    }

    /// The error the decoder failed with, if it did.
    pub(crate) fn error(&self) -> Option<MultipartError> {
        match self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// Fail with `e` (an error of the body's): it is all the decoder answers from now on.
    pub(crate) fn fail(&mut self, e: MultipartError) -> MultipartError {
        self.state = State::Failed(e);
        e
    }

    /// The body ended: [`Found::End`] after the closing delimiter, else the error.
    pub(crate) fn end(&mut self) -> Result<Found<'b>, MultipartError> {
        match self.state {
            State::Failed(e) => Err(e),
            State::ClosePadding | State::Epilogue | State::Finished => {
                self.state = State::Finished;
                Ok(Found::End)
            }
            State::CloseLf => Err(self.fail(MultipartError::InvalidDelimiterLine)),
            _ => Err(self.fail(MultipartError::MissingClosingDelimiter)),
        }
    }

    /// Decode from the front of `input` (the bytes not taken yet), copying a part's head
    /// into `head`. How many bytes were taken, and what was found; see the module docs.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        head: &mut [u8],
    ) -> Result<(usize, Option<Found<'b>>), MultipartError> {
        let mut pos = 0;
        match self.advance(input, head, &mut pos) {
            Ok(found) => Ok((pos, found)),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The delimiter's length: `CRLF--` and the boundary (at most 74).
    fn delimiter_len(&self) -> usize {
        DELIMITER_START.len() + self.boundary.len()
    }

    /// The delimiter's byte `i`.
    fn delimiter_byte(&self, i: usize) -> Option<u8> {
        match i.checked_sub(DELIMITER_START.len()) {
            None => DELIMITER_START.get(i).copied(),
            Some(j) => self.boundary.get(j).copied(),
        }
    }

    /// The delimiter's bytes `from..to`, as far as they are contiguous: `CRLF--` and the
    /// boundary lie apart, so a range across them gives its part before the boundary.
    fn delimiter_bytes(&self, from: usize, to: usize) -> &'b [u8] {
        let start = DELIMITER_START.len();
        if from < start {
            DELIMITER_START.get(from..to.min(start)).unwrap_or_default()
        } else {
            self.boundary
                .get(from - start..to - start)
                .unwrap_or_default()
        }
    }

    /// Continue a match of the delimiter over `input`, with `matched` bytes of it matched.
    fn extend_match(&self, input: &[u8], matched: usize) -> Match {
        let len = self.delimiter_len();
        let mut m = matched;
        for (i, &b) in input.iter().enumerate() {
            if m == len {
                return Match::Complete(i);
            }
            if self.delimiter_byte(m) != Some(b) {
                return Match::Broken(i);
            }
            m += 1;
        }
        if m == len {
            Match::Complete(input.len())
        } else {
            // m < len <= 74.
            Match::Partial(m as u8)
        }
    }

    /// Scan `input` for the delimiter, `matched` bytes of it matched before: `(taken,
    /// match)`: the bytes before a possible delimiter are content (`Broken(n)`: `n` bytes of
    /// content); a match carried from before that fails is `Broken(0)` (its bytes are
    /// content, taken earlier: the caller replays them).
    fn scan(&self, input: &[u8], matched: usize) -> Match {
        if matched > 0 {
            return match self.extend_match(input, matched) {
                Match::Broken(_) => Match::Broken(0),
                other => other,
            };
        }
        match input.iter().position(|&b| b == b'\r') {
            None => Match::Broken(input.len()),
            Some(0) => match self.extend_match(input, 0) {
                // At least the CR: content, and the byte that broke the match is looked at
                // again (it may be the CR of a delimiter).
                Match::Broken(n) => Match::Broken(n.max(1)),
                other => other,
            },
            Some(cr) => Match::Broken(cr),
        }
    }

    /// Run the state machine over `input[*pos..]` until something is found or the input is
    /// all taken.
    fn advance(
        &mut self,
        input: &[u8],
        head: &mut [u8],
        pos: &mut usize,
    ) -> Result<Option<Found<'b>>, MultipartError> {
        loop {
            let rest = input.get(*pos..).unwrap_or_default();
            match self.state {
                State::Failed(e) => return Err(e),
                State::Finished => return Ok(Some(Found::End)),
                State::Epilogue => {
                    *pos = input.len();
                    return Ok(None);
                }
                State::Replay { from, to } => {
                    let piece = self.delimiter_bytes(usize::from(from), usize::from(to));
                    // piece.len() <= to - from <= 74.
                    let next = from.saturating_add(piece.len() as u8);
                    self.state = if !piece.is_empty() && next < to {
                        State::Replay { from: next, to }
                    } else {
                        State::Data {
                            from: 0,
                            matched: 0,
                        }
                    };
                    if !piece.is_empty() {
                        return Ok(Some(Found::Replay(piece)));
                    }
                }
                _ if rest.is_empty() => return Ok(None),
                State::Preamble { matched } => match self.scan(rest, usize::from(matched)) {
                    Match::Complete(n) => {
                        *pos += n;
                        self.state = State::Boundary;
                    }
                    Match::Partial(m) => {
                        *pos = input.len();
                        self.state = State::Preamble { matched: m };
                    }
                    Match::Broken(n) => {
                        *pos += n;
                        self.state = State::Preamble { matched: 0 };
                    }
                },
                State::Data { from, matched } => match self.scan(rest, usize::from(matched)) {
                    Match::Complete(n) => {
                        *pos += n;
                        self.state = State::Boundary;
                        return Ok(Some(Found::DataEnd));
                    }
                    Match::Partial(m) => {
                        *pos = input.len();
                        self.state = State::Data { from, matched: m };
                    }
                    Match::Broken(0) => {
                        self.state = State::Replay { from, to: matched };
                    }
                    Match::Broken(n) => {
                        let start = *pos;
                        *pos += n;
                        self.state = State::Data {
                            from: 0,
                            matched: 0,
                        };
                        return Ok(Some(Found::Data { start, end: *pos }));
                    }
                },
                _ => {
                    let b = rest.first().copied().unwrap_or_default();
                    *pos += 1;
                    if let Some(found) = self.step(b, head)? {
                        return Ok(Some(found));
                    }
                }
            }
        }
    }

    /// Advance over one byte of a delimiter line or a part's head.
    fn step(&mut self, b: u8, head: &mut [u8]) -> Result<Option<Found<'b>>, MultipartError> {
        use MultipartError::*;
        use State::*;
        self.state = match (self.state, b) {
            (Boundary, b'-') => CloseDash,
            (Boundary | Padding, b' ' | b'\t') => Padding,
            (Boundary | Padding, b'\r') => DelimiterLf,
            (CloseDash, b'-') => {
                self.state = ClosePadding;
                return Ok(Some(Found::Closed));
            }
            (ClosePadding, b' ' | b'\t') => ClosePadding,
            (ClosePadding, b'\r') => CloseLf,
            (CloseLf, b'\n') => Epilogue,
            (DelimiterLf, b'\n') => {
                self.head_len = 0;
                self.lines = 0;
                LineStart
            }
            (Boundary | Padding | CloseDash | ClosePadding | CloseLf | DelimiterLf, _) => {
                return Err(InvalidDelimiterLine)
            }
            (LineStart, b'\r') => BlankLf,
            (LineStart, _) if is_token_byte(b) => {
                if usize::from(self.lines) >= MAX_PART_HEADERS {
                    return Err(TooManyHeaders);
                }
                self.lines += 1;
                self.push(head, b)?;
                Name
            }
            (LineStart, b' ' | b'\t') if self.lines > 0 => return Err(ObsFold),
            (Name, _) if is_token_byte(b) => {
                self.push(head, b)?;
                Name
            }
            (Name, b':') => {
                self.push(head, b)?;
                Value
            }
            (Value, b'\r') => LineLf,
            (Value, _) if is_field_byte(b) => {
                self.push(head, b)?;
                Value
            }
            (LineLf, b'\n') => {
                self.push(head, b'\r')?;
                self.push(head, b'\n')?;
                LineStart
            }
            (BlankLf, b'\n') => {
                let part = match head.get_mut(..self.head_len) {
                    Some(bytes) => parse_part(bytes)?,
                    None => return Err(HeadTooLarge { room: head.len() }),
                };
                self.state = Data {
                    from: 2,
                    matched: 2,
                };
                return Ok(Some(Found::Part(part)));
            }
            (LineStart | Name | Value, b'\n') => return Err(BareLineEnding),
            (LineStart | Name | Value | LineLf | BlankLf, _) => return Err(InvalidHeaderLine),
            // The scanning states are not stepped a byte at a time.
            (Preamble { .. } | Data { .. } | Replay { .. } | Epilogue | Finished, _) => self.state,
            (Failed(e), _) => return Err(e),
        };
        Ok(None)
    }

    /// Append a byte to the part's head.
    fn push(&mut self, head: &mut [u8], b: u8) -> Result<(), MultipartError> {
        let room = head.len();
        let slot = head
            .get_mut(self.head_len)
            .ok_or(MultipartError::HeadTooLarge { room })?;
        *slot = b;
        self.head_len += 1;
        Ok(())
    }
}
