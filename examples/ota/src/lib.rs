//! The demo's `POST /ota` into flash: a [`demo_app::FirmwareSink`] that writes an image
//! through embassy-boot's [`BlockingFirmwareUpdater`] into a DFU partition as it arrives, and
//! marks it for the bootloader when the upload is whole.
//!
//! Any [`NorFlash`] partitions do: a chip's flash (embassy-stm32's, embassy-rp's,
//! esp-storage's, through embassy-embedded-hal's partitions) or, under QEMU, a file on the
//! host (`examples/firmware`). Pieces of any size and alignment arrive; the sink writes them
//! in multiples of the flash's write size (`W`, a carry of fewer than `W` bytes between
//! pieces), and the updater erases each sector before the first write into it, so that
//! nothing but `W` bytes of RAM stands between the body and the flash.
//!
//! At the start of an upload the state partition is set back to "boot" (the `idle` of
//! `GET /ota/status`): an upload that is cut or broken leaves no update marked, whatever the
//! previous one did. The image's length is kept in RAM (0 after a restart: embassy-boot's
//! state partition has no room for it), its bytes only in flash.
#![no_std]

use demo_app::{FirmwareSink, FirmwareUpload, OtaError};
use embassy_boot::{
    AlignedBuffer, BlockingFirmwareState, BlockingFirmwareUpdater, FirmwareUpdaterConfig, State,
};
use embedded_storage::nor_flash::NorFlash;

/// The largest read alignment [`FlashSink::read`] copes with (esp-storage's is 4).
const MAX_READ_SIZE: usize = 32;

/// An image's way into a DFU partition (`dfu`), its mark in embassy-boot's state partition
/// (`state`); `W` is both partitions' write size (`NorFlash::WRITE_SIZE`).
pub struct FlashSink<DFU, STATE, const W: usize> {
    dfu: DFU,
    state: STATE,
    /// The state partition's magic, read and written through it.
    magic: AlignedBuffer<W>,
    /// The bytes of the last piece that did not fill a write.
    carry: AlignedBuffer<W>,
    /// The length of the image the last whole upload stored.
    stored: u64,
}

impl<DFU: NorFlash, STATE: NorFlash, const W: usize> FlashSink<DFU, STATE, W> {
    /// A sink over these partitions.
    ///
    /// # Panics
    /// If `W` is not both partitions' write size, or the DFU partition's read size is over
    /// 32 bytes (a mistake in the firmware's types, found at its first start).
    pub fn new(dfu: DFU, state: STATE) -> Self {
        assert!(DFU::WRITE_SIZE == W && STATE::WRITE_SIZE == W && DFU::READ_SIZE <= 32);
        FlashSink {
            dfu,
            state,
            magic: AlignedBuffer([0; W]),
            carry: AlignedBuffer([0; W]),
            stored: 0,
        }
    }

    /// Mark the running image good (embassy-boot's `mark_booted`): a firmware that the
    /// bootloader has just swapped in calls it once it works, or the next reset reverts it.
    pub fn mark_booted(&mut self) -> Result<(), OtaError> {
        BlockingFirmwareState::new(&mut self.state, &mut self.magic.0)
            .mark_booted()
            .map_err(|_| OtaError::Flash)
    }

    /// embassy-boot's state: `Swap` once an upload is marked for the bootloader.
    pub fn state(&mut self) -> Result<State, OtaError> {
        BlockingFirmwareState::new(&mut self.state, &mut self.magic.0)
            .get_state()
            .map_err(|_| OtaError::Flash)
    }
}

impl<DFU: NorFlash, STATE: NorFlash, const W: usize> FirmwareSink for FlashSink<DFU, STATE, W> {
    type Upload<'s>
        = Upload<'s, DFU, STATE, W>
    where
        Self: 's;

    /// The DFU partition but a sector: embassy-boot's swap needs one more sector than the
    /// image.
    fn capacity(&self) -> u64 {
        self.dfu.capacity().saturating_sub(DFU::ERASE_SIZE) as u64
    }

    fn begin(&mut self) -> Result<Self::Upload<'_>, OtaError> {
        let capacity = self.capacity();
        self.stored = 0;
        let config = FirmwareUpdaterConfig {
            dfu: &mut self.dfu,
            state: &mut self.state,
        };
        // A new updater for every upload: it erases each sector before its first write.
        let mut updater = BlockingFirmwareUpdater::new(config, &mut self.magic.0);
        updater.mark_booted().map_err(|_| OtaError::Flash)?;
        Ok(Upload {
            updater,
            carry: &mut self.carry.0,
            carried: 0,
            offset: 0,
            capacity,
            stored: &mut self.stored,
        })
    }

    fn stored(&mut self) -> Result<(u64, bool), OtaError> {
        Ok((self.stored, self.state()? == State::Swap))
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OtaError> {
        let offset = u32::try_from(offset).map_err(|_| OtaError::Flash)?;
        let align = DFU::READ_SIZE as u32;
        if offset.is_multiple_of(align) && (buf.len() as u32).is_multiple_of(align) {
            return self.dfu.read(offset, buf).map_err(|_| OtaError::Flash);
        }
        // Unaligned: a read-size block at a time, through an aligned buffer.
        let mut block = AlignedBuffer([0u8; MAX_READ_SIZE]);
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u32;
            let start = at - at % align;
            let skip = (at - start) as usize;
            let block = &mut block.0[..DFU::READ_SIZE];
            self.dfu.read(start, block).map_err(|_| OtaError::Flash)?;
            let n = (block.len() - skip).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&block[skip..skip + n]);
            done += n;
        }
        Ok(())
    }
}

/// An upload in progress into a [`FlashSink`].
pub struct Upload<'s, DFU: NorFlash, STATE: NorFlash, const W: usize> {
    updater: BlockingFirmwareUpdater<'s, &'s mut DFU, &'s mut STATE>,
    carry: &'s mut [u8; W],
    carried: usize,
    /// Where the next write goes (a multiple of `W`).
    offset: usize,
    capacity: u64,
    stored: &'s mut u64,
}

impl<DFU: NorFlash, STATE: NorFlash, const W: usize> Upload<'_, DFU, STATE, W> {
    fn write_aligned(&mut self, data: &[u8]) -> Result<(), OtaError> {
        if (self.offset + data.len()) as u64 > self.capacity + W as u64 {
            return Err(OtaError::TooLarge);
        }
        self.updater
            .write_firmware(self.offset, data)
            .map_err(|_| OtaError::Flash)?;
        self.offset += data.len();
        Ok(())
    }
}

impl<DFU: NorFlash, STATE: NorFlash, const W: usize> FirmwareUpload for Upload<'_, DFU, STATE, W> {
    fn write(&mut self, mut piece: &[u8]) -> Result<(), OtaError> {
        if self.carried > 0 {
            let take = (W - self.carried).min(piece.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&piece[..take]);
            self.carried += take;
            piece = &piece[take..];
            if self.carried < W {
                return Ok(());
            }
            let carry = *self.carry;
            self.write_aligned(&carry)?;
            self.carried = 0;
        }
        let whole = piece.len() / W * W;
        if whole > 0 {
            self.write_aligned(&piece[..whole])?;
        }
        let rest = &piece[whole..];
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
        Ok(())
    }

    fn finish(mut self, bytes: u64, _crc32: u32) -> Result<(), OtaError> {
        if self.carried > 0 {
            // The last write, filled with the erased value.
            self.carry[self.carried..].fill(0xFF);
            let carry = *self.carry;
            self.write_aligned(&carry)?;
        }
        self.updater.mark_updated().map_err(|_| OtaError::Flash)?;
        *self.stored = bytes;
        Ok(())
    }
}
