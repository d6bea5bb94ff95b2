//! `FlashSink` over a strict in-memory NOR flash: writes only into erased bytes, at the write
//! size's alignment; reads at the read size's. Pieces of every size from 1 byte, an upload cut
//! in the middle, one after another, one too large, and what `GET /ota/status` reads back.

use demo_app::{FirmwareSink, FirmwareUpload, OtaError};
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use ota::FlashSink;

const ERASE: usize = 1024;
const WRITE: usize = 4;

/// NOR flash that refuses (panics on) what real flash gets wrong: a write into bytes not
/// erased since they were last written, and unaligned access.
struct Strict<const N: usize> {
    bytes: Box<[u8; N]>,
    erases: usize,
}

#[derive(Debug)]
struct Refused;

impl NorFlashError for Refused {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

impl<const N: usize> Strict<N> {
    /// Not erased: garbage, as flash that held something else.
    fn new() -> Self {
        let mut bytes = Box::new([0u8; N]);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        Strict { bytes, erases: 0 }
    }
}

impl<const N: usize> ErrorType for Strict<N> {
    type Error = Refused;
}

impl<const N: usize> ReadNorFlash for Strict<N> {
    const READ_SIZE: usize = 4;

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Refused> {
        let at = offset as usize;
        assert!(
            at.is_multiple_of(4) && buf.len().is_multiple_of(4),
            "unaligned read {at}+{}",
            buf.len()
        );
        buf.copy_from_slice(self.bytes.get(at..at + buf.len()).ok_or(Refused)?);
        Ok(())
    }

    fn capacity(&self) -> usize {
        N
    }
}

impl<const N: usize> NorFlash for Strict<N> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Refused> {
        let (from, to) = (from as usize, to as usize);
        assert!(
            from.is_multiple_of(ERASE) && to.is_multiple_of(ERASE) && to <= N,
            "erase {from}..{to}"
        );
        self.bytes[from..to].fill(0xFF);
        self.erases += (to - from) / ERASE;
        Ok(())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Refused> {
        let at = offset as usize;
        assert!(
            at.is_multiple_of(WRITE) && data.len().is_multiple_of(WRITE),
            "unaligned write {at}+{}",
            data.len()
        );
        let target = &mut self.bytes[at..at + data.len()];
        assert!(
            target.iter().all(|b| *b == 0xFF),
            "write at {at} into bytes not erased"
        );
        target.copy_from_slice(data);
        Ok(())
    }
}

const DFU: usize = 16 * ERASE;
type Sink = FlashSink<Strict<DFU>, Strict<ERASE>, WRITE>;

fn sink() -> Sink {
    FlashSink::new(Strict::new(), Strict::new())
}

fn image(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

/// Upload `data` in pieces of the sizes `sizes` (cycled); finish unless `cut`.
fn upload(sink: &mut Sink, data: &[u8], sizes: &[usize], cut: bool) -> Result<(), OtaError> {
    let mut upload = sink.begin()?;
    let mut rest = data;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, after) = rest.split_at((*size).min(rest.len()));
        upload.write(piece)?;
        rest = after;
        if cut && rest.len() < data.len() / 2 {
            return Ok(()); // dropped unfinished
        }
    }
    upload.finish(data.len() as u64, 0)
}

/// What `GET /ota/status` reads: the stored bytes, 64 at a time from offset 0.
fn read_back(sink: &mut Sink) -> (Vec<u8>, bool) {
    let (len, updated) = sink.stored().unwrap();
    let mut out = vec![0u8; len as usize];
    for (i, chunk) in out.chunks_mut(64).enumerate() {
        sink.read(i as u64 * 64, chunk).unwrap();
    }
    (out, updated)
}

#[test]
fn pieces_of_every_size_land_whole() {
    let mut sink = sink();
    assert_eq!(sink.stored(), Ok((0, false)), "a fresh partition is idle");
    for (len, sizes) in [
        (10_001, &[1usize, 2, 3, 5, 7, 11, 13][..]),
        (4_099, &[1023, 1, 4, 4096][..]),
        (sink.capacity() as usize, &[1460][..]),
        (1, &[1][..]),
        (0, &[1][..]),
    ] {
        let data = image(len, len as u32);
        upload(&mut sink, &data, sizes, false).unwrap();
        assert_eq!(
            read_back(&mut sink),
            (data, true),
            "{len} bytes in {sizes:?}"
        );
    }
}

#[test]
fn a_cut_upload_leaves_idle_and_the_next_one_works() {
    let mut sink = sink();
    let first = image(5_000, 1);
    upload(&mut sink, &first, &[512], false).unwrap();
    assert_eq!(sink.stored(), Ok((5_000, true)));
    upload(&mut sink, &image(9_000, 2), &[333], true).unwrap();
    assert_eq!(sink.stored(), Ok((0, false)), "cut: idle, nothing stored");
    // Into sectors the cut upload wrote: each is erased again before its first write.
    let third = image(700, 3);
    upload(&mut sink, &third, &[3], false).unwrap();
    assert_eq!(read_back(&mut sink), (third, true));
}

#[test]
fn larger_than_the_partition_is_refused() {
    let mut sink = sink();
    assert_eq!(
        sink.capacity(),
        (DFU - ERASE) as u64,
        "a sector is kept for the swap"
    );
    let data = image(DFU, 4);
    assert_eq!(
        upload(&mut sink, &data, &[1024], false),
        Err(OtaError::TooLarge)
    );
    assert_eq!(sink.stored(), Ok((0, false)));
}

#[test]
fn mark_booted_clears_the_mark() {
    let mut sink = sink();
    upload(&mut sink, &image(100, 5), &[10], false).unwrap();
    assert_eq!(sink.state(), Ok(embassy_boot::State::Swap));
    sink.mark_booted().unwrap();
    assert_eq!(sink.state(), Ok(embassy_boot::State::Boot));
    assert_eq!(sink.stored(), Ok((100, false)));
}
