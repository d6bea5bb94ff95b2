//! Firmware updates over HTTP into whatever stores them: `POST /ota` writes an image into a
//! [`FirmwareSink`] as it arrives (a raw `application/octet-stream` body, or the `firmware`
//! part of a `multipart/form-data` form), `GET /ota/status` reads what the sink holds back.
//!
//! The sink is the device's: `examples/ota` writes through embassy-boot's firmware updater
//! into a DFU partition; the host examples, which have no partition, use [`Discard`]. The
//! handlers compute the CRC-32 and count the bytes; the sink only stores them.

use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::mutex::Mutex;
use embedded_responder::multipart::Multipart;
use embedded_responder::{Request, Responded, Responder, Status};

use crate::{upload_answer, Crc32};

/// Where firmware images go; one upload at a time (the sink lives in an [`OtaLock`]).
pub trait FirmwareSink {
    /// An upload in progress: pieces in order, then [`FirmwareUpload::finish`]. Dropped
    /// unfinished (a cut or broken upload), it leaves no update marked.
    type Upload<'s>: FirmwareUpload
    where
        Self: 's;

    /// The largest image the sink stores, in bytes.
    fn capacity(&self) -> u64;

    /// Start an upload: forget any update marked before (the state is `idle` until the new
    /// one finishes).
    fn begin(&mut self) -> Result<Self::Upload<'_>, OtaError>;

    /// The image stored by the last finished upload: its length (0 if none), and whether it
    /// is marked for the bootloader.
    fn stored(&mut self) -> Result<(u64, bool), OtaError>;

    /// Read stored bytes from `offset` into `buf` (the image's bytes, not a copy in RAM).
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OtaError>;
}

/// An upload into a [`FirmwareSink`].
pub trait FirmwareUpload {
    /// Store the next piece (of any size).
    fn write(&mut self, piece: &[u8]) -> Result<(), OtaError>;

    /// All pieces are in (`bytes` of them, CRC-32 `crc32`): store what is left and mark the
    /// image for the bootloader.
    fn finish(self, bytes: u64, crc32: u32) -> Result<(), OtaError>;
}

/// Why a [`FirmwareSink`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtaError {
    /// The image is larger than [`FirmwareSink::capacity`]: 413.
    TooLarge,
    /// The flash failed (erase, write or read): 500.
    Flash,
    /// This sink keeps nothing to read back ([`Discard`]): 501.
    NotStored,
}

impl OtaError {
    fn respond(self, res: Responder<'_, '_>) -> Responded {
        let (status, text) = match self {
            OtaError::TooLarge => (Status::CONTENT_TOO_LARGE, "larger than the partition"),
            OtaError::Flash => (Status::INTERNAL_SERVER_ERROR, "flash failed"),
            OtaError::NotStored => (Status::NOT_IMPLEMENTED, "no partition on this device"),
        };
        res.start(status)
            .header("Content-Type", "application/json")
            .body_with(|w| {
                w.push_str("{\"error\":\"");
                w.push_str(text);
                w.push_str("\"}");
            })
    }
}

/// A sink behind the lock that keeps uploads one at a time: a second upload (or a status
/// read during one) is answered 503 with `Retry-After`, not queued.
pub type OtaLock<S> = Mutex<CriticalSectionRawMutex, S>;

/// Counts and checks, stores nothing (the host examples: no partition).
#[derive(Debug, Default)]
pub struct Discard;

impl FirmwareSink for Discard {
    type Upload<'s> = Discard;

    fn capacity(&self) -> u64 {
        crate::OTA_LIMIT
    }

    fn begin(&mut self) -> Result<Discard, OtaError> {
        Ok(Discard)
    }

    fn stored(&mut self) -> Result<(u64, bool), OtaError> {
        Err(OtaError::NotStored)
    }

    fn read(&mut self, _offset: u64, _buf: &mut [u8]) -> Result<(), OtaError> {
        Err(OtaError::NotStored)
    }
}

impl FirmwareUpload for Discard {
    fn write(&mut self, _piece: &[u8]) -> Result<(), OtaError> {
        Ok(())
    }

    fn finish(self, _bytes: u64, _crc32: u32) -> Result<(), OtaError> {
        Ok(())
    }
}

/// 503 with `Retry-After`: another upload holds the sink.
fn busy(res: Responder<'_, '_>) -> Responded {
    res.start(Status::SERVICE_UNAVAILABLE)
        .header("Retry-After", "5")
        .header("Content-Type", "application/json")
        .body(br#"{"error":"an update is in progress"}"#)
}

/// Counts, checksums and stores an image's pieces; the first refusal stops it.
struct Writer<U> {
    upload: U,
    bytes: u64,
    capacity: u64,
    crc: Crc32,
}

impl<U: FirmwareUpload> Writer<U> {
    fn write(&mut self, piece: &[u8]) -> Result<(), OtaError> {
        self.bytes += piece.len() as u64;
        if self.bytes > self.capacity {
            return Err(OtaError::TooLarge);
        }
        self.crc.update(piece);
        self.upload.write(piece)
    }

    fn finish(self) -> Result<(u64, u32), OtaError> {
        let crc = self.crc.finalize();
        self.upload.finish(self.bytes, crc)?;
        Ok((self.bytes, crc))
    }
}

/// `POST /ota`: write the image into `lock`'s sink as it arrives and answer
/// `{"bytes":N,"crc32":"xxxxxxxx"}`; after a whole upload the sink marks it for the
/// bootloader. The body is the image (`application/octet-stream`, any framing), or a
/// `multipart/form-data` form whose `firmware` part is (its part head within `HEAD` bytes;
/// the other parts are skipped). Another content type: 415; no `firmware` part: 422; larger
/// than the sink: 413 (at once when `Content-Length` says so); a broken body: 400, and the
/// update is left unmarked; another upload in progress: 503.
pub async fn ota_into<'a, S: FirmwareSink, const HEAD: usize>(
    req: &Request<'a>,
    mut res: Responder<'a, '_>,
    lock: &OtaLock<S>,
) -> Responded {
    let multipart = req
        .header_bytes("content-type")
        .is_some_and(|t| t.len() >= 19 && t[..19].eq_ignore_ascii_case(b"multipart/form-data"));
    let raw = req
        .header_bytes("content-type")
        .is_some_and(|t| t.eq_ignore_ascii_case(b"application/octet-stream"));
    if !multipart && !raw {
        return res
            .start(Status::UNSUPPORTED_MEDIA_TYPE)
            .header("Content-Type", "application/json")
            .body(br#"{"error":"send application/octet-stream or multipart/form-data"}"#);
    }
    let Ok(mut sink) = lock.try_lock() else {
        return busy(res);
    };
    let capacity = sink.capacity();
    // The library has checked the framing: one Content-Length of digits, if any.
    let declared = req
        .header("content-length")
        .and_then(|n| n.parse::<u64>().ok());
    if raw && declared.is_some_and(|n| n > capacity) {
        return OtaError::TooLarge.respond(res);
    }
    let upload = match sink.begin() {
        Ok(upload) => upload,
        Err(e) => return e.respond(res),
    };
    let mut writer = Writer {
        upload,
        bytes: 0,
        capacity,
        crc: Crc32::new(),
    };
    if raw {
        let mut body = res.request_body();
        loop {
            let piece = match body.fill_async().await {
                Ok([]) => break,
                Ok(piece) => piece,
                Err(e) => return res.error(e),
            };
            let n = piece.len();
            if let Err(e) = writer.write(piece) {
                return e.respond(res);
            }
            body.consume(n);
        }
    } else {
        let mut form = match Multipart::new(req, res.request_body()) {
            Ok(form) => form,
            Err(e) => return e.respond(res),
        };
        let mut head = [0u8; HEAD];
        let mut found = false;
        loop {
            match form.next_part_async(&mut head).await {
                Ok(Some(part)) if part.name() == "firmware" && !found => loop {
                    match form.read_data_async().await {
                        Ok(Some(piece)) => {
                            if let Err(e) = writer.write(piece) {
                                return e.respond(res);
                            }
                        }
                        Ok(None) => {
                            found = true;
                            break;
                        }
                        Err(e) => return e.respond(res),
                    }
                },
                Ok(Some(_)) => {} // the next part skips this one's data
                Ok(None) => break,
                Err(e) => return e.respond(res),
            }
        }
        if !found {
            return res
                .start(Status::UNPROCESSABLE_CONTENT)
                .header("Content-Type", "application/json")
                .body(br#"{"error":"no firmware part"}"#);
        }
    }
    match writer.finish() {
        Ok((bytes, crc)) => upload_answer(res, bytes, crc),
        Err(e) => e.respond(res),
    }
}

/// `GET /ota/status`: the stored image read back from the sink,
/// `{"bytes":N,"crc32":"xxxxxxxx","state":"idle"|"updated"}` (`updated`: marked for the
/// bootloader). 503 during an upload; 501 where nothing is stored ([`Discard`]).
pub fn ota_status<'a, S: FirmwareSink>(
    _req: &Request<'a>,
    res: Responder<'a, '_>,
    lock: &OtaLock<S>,
) -> Responded {
    let Ok(mut sink) = lock.try_lock() else {
        return busy(res);
    };
    let (bytes, updated) = match sink.stored() {
        Ok(stored) => stored,
        Err(e) => return e.respond(res),
    };
    let mut crc = Crc32::new();
    let mut chunk = [0u8; 64];
    let mut offset = 0;
    while offset < bytes {
        let n = chunk.len().min((bytes - offset) as usize);
        if let Err(e) = sink.read(offset, &mut chunk[..n]) {
            return e.respond(res);
        }
        crc.update(&chunk[..n]);
        offset += n as u64;
    }
    let crc = crc.finalize();
    res.start(Status::OK)
        .header("Content-Type", "application/json")
        .body_with(|w| {
            w.push_str("{\"bytes\":");
            w.push_u64(bytes);
            w.push_str(",\"crc32\":\"");
            w.push_hex(u64::from(crc), 8);
            w.push_str("\",\"state\":\"");
            w.push_str(if updated { "updated" } else { "idle" });
            w.push_str("\"}");
        })
}
