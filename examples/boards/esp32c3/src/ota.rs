//! `POST /ota` for the ESP-IDF second-stage bootloader: a [`FirmwareSink`] that writes the
//! image into the OTA app partition the firmware is not running from, and on
//! [`FirmwareUpload::finish`] selects that partition in `otadata`, so that the bootloader
//! boots it at the next reset.
//!
//! The partitions come from the partition table in flash (esp-bootloader-esp-idf's
//! [`partitions::read_partition_table`]), read once by [`IdfSink::new`]: `otadata`, the
//! number of OTA app partitions, the one running (`PartitionTable::booted_partition`: the
//! partition the MMU maps the firmware from) and the next one after it (`ota_1` when running
//! from `ota_0`, and the other way round). `otadata` is read and written through
//! esp-bootloader-esp-idf's [`Ota`]: its two entries, the one with the higher sequence number
//! selecting the partition, each with an image state ([`OtaImageState`]).
//!
//! - [`IdfSink::mark_valid`] (at start-up): `otadata` selects the running partition, its
//!   state `Valid`. After an update the bootloader has booted the new image (state `New`,
//!   `PendingVerify` if the bootloader's rollback is on): marking it valid keeps it. If the
//!   bootloader could not boot the selected image and fell back to the other one, this selects
//!   the running one again.
//! - [`FirmwareSink::begin`]: if `otadata` selects the next partition (an update finished but
//!   not yet booted), the running one is selected again (state `Valid`); else `otadata` is
//!   left as it is. A cut or broken upload therefore leaves nothing selected: `idle`.
//! - [`FirmwareUpload::write`]: pieces of any size; the bytes that do not fill a flash word
//!   (4 bytes) are carried to the next piece; each 4 KiB sector is erased before the first
//!   write into it.
//! - [`FirmwareUpload::finish`]: the last word (padded with `0xFF`), then `otadata` selects
//!   the written partition with the state `New`.
//!
//! The image is not checked here: the bootloader checks it (its header, checksum and
//! appended SHA-256) and, if it is not a valid app image, boots the other partition, which
//! selects itself again at start-up. The image's length is kept in RAM (0 after a restart),
//! its bytes only in flash. Flash encryption is not handled (writes answer
//! [`OtaError::Flash`]).
//!
//! Not esp-bootloader-esp-idf's `OtaUpdater`: it borrows the flash and a 3 KiB copy of the
//! partition table for as long as it lives, and with a blank `otadata` (as
//! `espflash --erase-parts otadata` leaves it) and no factory partition, its next partition
//! is computed from the factory sub-type's slot number (which underflows) and comes out as
//! `ota_0`, the running one.

use demo_app::{FirmwareSink, FirmwareUpload, OtaError};
use embedded_storage::nor_flash::NorFlash;
use esp_bootloader_esp_idf::ota::{Ota, OtaImageState};
use esp_bootloader_esp_idf::partitions::{
    self, AppPartitionSubType, DataPartitionSubType, Error, PartitionEntry, PartitionType,
};
use esp_storage::FlashStorage;

/// The flash's write size (`FlashStorage::WRITE_SIZE`): writes are whole words.
const WORD: usize = FlashStorage::WRITE_SIZE;
/// The flash's erase size.
const SECTOR: u32 = FlashStorage::SECTOR_SIZE;

/// A flash word, aligned as one (esp-storage writes from it directly).
#[derive(Clone, Copy)]
#[repr(align(4))]
struct Word([u8; WORD]);

/// The OTA app partition number of a sub-type (`ota_0` is 0), `None` for the factory and
/// test partitions.
fn ota_number(slot: AppPartitionSubType) -> Option<u8> {
    let first = AppPartitionSubType::Ota0 as u8;
    let n = (slot as u8).checked_sub(first)?;
    (n < 16).then_some(n)
}

/// Every failure of the flash or of `otadata` (unreadable, out of bounds, encrypted) is a 500.
fn flash(_: Error) -> OtaError {
    OtaError::Flash
}

/// `POST /ota` into the next OTA app partition, selected in `otadata` when whole.
pub struct IdfSink {
    flash: FlashStorage<'static>,
    /// The `otadata` partition (8 KiB: two entries).
    otadata: PartitionEntry,
    /// The OTA app partitions in the table (what `otadata`'s sequence numbers count).
    slots: usize,
    /// The partition this firmware runs from.
    running: AppPartitionSubType,
    /// The partition uploads go into, and its sub-type.
    next: PartitionEntry,
    next_slot: AppPartitionSubType,
    /// The bytes of the last piece that did not fill a word.
    carry: Word,
    /// The length of the image the last whole upload stored.
    stored: u64,
}

impl IdfSink {
    /// A sink over `flash`'s partitions.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the partition table has no `otadata`, the firmware does not run
    /// from an OTA app partition (a factory partition, or one the table does not list), or
    /// the next OTA partition is missing; the flash's errors reading the table.
    pub fn new(mut flash: FlashStorage<'static>) -> Result<Self, Error> {
        let mut table = [0u8; partitions::PARTITION_TABLE_MAX_LEN];
        let table = partitions::read_partition_table(&mut flash, &mut table)?;
        let otadata = table
            .find_partition(PartitionType::Data(DataPartitionSubType::Ota))?
            .ok_or(Error::Invalid)?;
        let slots = table
            .iter()
            .filter(
                |p| matches!(p.partition_type(), PartitionType::App(s) if ota_number(s).is_some()),
            )
            .count();
        if slots > 16 {
            // otadata counts at most 16 (ota_0 to ota_15): the table repeats one.
            return Err(Error::Invalid);
        }
        let running = match table.booted_partition()?.map(|p| p.partition_type()) {
            Some(PartitionType::App(slot)) if ota_number(slot).is_some() => slot,
            _ => return Err(Error::Invalid),
        };
        let n = ota_number(running).ok_or(Error::Invalid)?;
        // Below 16: an OTA sub-type.
        let next_n = (usize::from(n) + 1) % slots.max(1);
        let next_slot =
            AppPartitionSubType::try_from(AppPartitionSubType::Ota0 as u8 + next_n as u8)?;
        if next_slot == running {
            return Err(Error::Invalid);
        }
        let next = table
            .find_partition(PartitionType::App(next_slot))?
            .ok_or(Error::Invalid)?;
        Ok(IdfSink {
            flash,
            otadata,
            slots,
            running,
            next,
            next_slot,
            carry: Word([0; WORD]),
            stored: 0,
        })
    }

    /// `otadata`, through esp-bootloader-esp-idf's [`Ota`].
    fn ota(&mut self) -> Result<Ota<'_, 'static>, Error> {
        Ota::new(self.otadata.as_flash_region(&mut self.flash), self.slots)
    }

    /// Keep the running image: `otadata` selects the running partition, state `Valid` (the
    /// ESP-IDF bootloader's equivalent of embassy-boot's `mark_booted`). Writes only what
    /// differs. With a blank `otadata` (the bootloader booting `ota_0`) this writes its first
    /// entry, selecting `ota_0`, as ESP-IDF's own first update would.
    pub fn mark_valid(&mut self) -> Result<(), Error> {
        let running = self.running;
        let mut ota = self.ota()?;
        if ota.current_app_partition()? != running {
            ota.set_current_app_partition(running)?;
        }
        if ota.current_ota_state()? != OtaImageState::Valid {
            ota.set_current_ota_state(OtaImageState::Valid)?;
        }
        Ok(())
    }
}

impl FirmwareSink for IdfSink {
    type Upload<'s>
        = Upload<'s>
    where
        Self: 's;

    /// The next partition, whole (1,920 KiB in `partitions.csv`).
    fn capacity(&self) -> u64 {
        u64::from(self.next.len())
    }

    fn begin(&mut self) -> Result<Upload<'_>, OtaError> {
        self.stored = 0;
        let (running, next) = (self.running, self.next_slot);
        let mut ota = self.ota().map_err(flash)?;
        if ota.current_app_partition().map_err(flash)? == next {
            // A finished update not booted yet: select the running image again.
            ota.set_current_app_partition(running).map_err(flash)?;
            ota.set_current_ota_state(OtaImageState::Valid)
                .map_err(flash)?;
        }
        Ok(Upload {
            sink: self,
            offset: 0,
            erased: 0,
            carried: 0,
        })
    }

    fn stored(&mut self) -> Result<(u64, bool), OtaError> {
        let next = self.next_slot;
        let selected = self.ota().and_then(|mut ota| ota.current_app_partition());
        Ok((self.stored, selected.map_err(flash)? == next))
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), OtaError> {
        let offset = u32::try_from(offset).map_err(|_| OtaError::Flash)?;
        // Any offset and length: esp-storage reads whole words and copies.
        self.next
            .as_flash_region(&mut self.flash)
            .read(offset, buf)
            .map_err(flash)
    }
}

/// An upload in progress into an [`IdfSink`]'s next partition.
pub struct Upload<'s> {
    sink: &'s mut IdfSink,
    /// Where the next write goes in the partition (a multiple of [`WORD`]).
    offset: u32,
    /// The partition is erased below this (a multiple of [`SECTOR`]).
    erased: u32,
    /// The bytes in the sink's carry.
    carried: usize,
}

impl Upload<'_> {
    /// Write whole words at `offset`, erasing the sectors they reach first.
    fn write_words(&mut self, data: &[u8]) -> Result<(), OtaError> {
        let end = u32::try_from(data.len())
            .ok()
            .and_then(|n| self.offset.checked_add(n))
            .filter(|&end| u64::from(end) <= self.sink.capacity())
            .ok_or(OtaError::TooLarge)?;
        let mut region = self.sink.next.as_flash_region(&mut self.sink.flash);
        if end > self.erased {
            let to = end.next_multiple_of(SECTOR);
            region.erase(self.erased, to).map_err(flash)?;
            self.erased = to;
        }
        region
            .as_nor_flash()
            .and_then(|mut nor| nor.write(self.offset, data))
            .map_err(flash)?;
        self.offset = end;
        Ok(())
    }
}

impl FirmwareUpload for Upload<'_> {
    fn write(&mut self, mut piece: &[u8]) -> Result<(), OtaError> {
        if self.carried > 0 {
            let take = (WORD - self.carried).min(piece.len());
            self.sink.carry.0[self.carried..self.carried + take].copy_from_slice(&piece[..take]);
            self.carried += take;
            piece = &piece[take..];
            if self.carried < WORD {
                return Ok(());
            }
            let word = self.sink.carry;
            self.write_words(&word.0)?;
            self.carried = 0;
        }
        let whole = piece.len() / WORD * WORD;
        if whole > 0 {
            self.write_words(&piece[..whole])?;
        }
        let rest = &piece[whole..];
        self.sink.carry.0[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
        Ok(())
    }

    fn finish(mut self, bytes: u64, _crc32: u32) -> Result<(), OtaError> {
        if self.carried > 0 {
            // The last word, filled with the erased value.
            self.sink.carry.0[self.carried..].fill(0xFF);
            let word = self.sink.carry;
            self.write_words(&word.0)?;
        }
        let next = self.sink.next_slot;
        let mut ota = self.sink.ota().map_err(flash)?;
        ota.set_current_app_partition(next).map_err(flash)?;
        // "Monitor the first boot": the bootloader makes it PendingVerify (rollback on) and
        // the new image marks itself Valid at start-up.
        ota.set_current_ota_state(OtaImageState::New)
            .map_err(flash)?;
        self.sink.stored = bytes;
        Ok(())
    }
}
