//! The DFU and state partitions of the embassy firmware's `POST /ota`, in a file on the host
//! through ARM semihosting: QEMU's lm3s6965evb maps the chip's 256 KiB of flash as ROM (a
//! write is ignored, and there is no flash controller to erase or program it), and its 64
//! KiB of RAM hold the firmware, so neither can hold an image. The file stands for the flash:
//! NOR semantics: erase sets 0xFF a sector at a time, writes go at the write size's alignment,
//! and a write into bytes not erased since they were written is refused (as NOR flash cannot
//! set a bit that is 0), so the updater's erase logic is checked here as on a chip.
//!
//! QEMU runs with `-semihosting-config enable=on,target=native` (`run-qemu.sh`,
//! `test-qemu.sh`); the file is [`PATH`], relative to QEMU's working directory, made and
//! erased at the first start.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// The file, from `examples/firmware` (where the scripts start QEMU).
pub const PATH: &str = "target/ota-flash.bin\0";
/// Sector (erase) size, as the LM3S6965's flash pages are 1 KiB but the boards' are 4 KiB:
/// the larger, so the updater's sector logic is exercised as it is on them.
pub const ERASE_SIZE: usize = 4096;
/// Write size: a word, as the LM3S6965's flash programs.
pub const WRITE_SIZE: usize = 4;
/// embassy-boot's state partition: one sector.
pub const STATE_SIZE: u32 = ERASE_SIZE as u32;
/// The DFU partition: a 256 KiB image and the sector embassy-boot's swap needs.
pub const DFU_SIZE: u32 = 256 * 1024 + ERASE_SIZE as u32;

/// A region of the file: `size` bytes from `base`.
#[derive(Debug)]
pub struct HostFlash {
    handle: usize,
    base: u32,
    size: u32,
}

/// The host refused a semihosting call (no file, a short read or write).
#[derive(Debug, Clone, Copy)]
pub struct HostError;

impl NorFlashError for HostError {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// Semihosting operation numbers (ARM's "Semihosting for AArch32 and AArch64").
mod op {
    pub const OPEN: usize = 0x01;
    pub const WRITE: usize = 0x05;
    pub const READ: usize = 0x06;
    pub const SEEK: usize = 0x0A;
    pub const FLEN: usize = 0x0C;
}

fn call<const N: usize>(op: usize, args: &[usize; N]) -> isize {
    // SAFETY: each call passes the parameter block its operation defines (OPEN: a
    // NUL-terminated name, a mode, the name's length; READ/WRITE: a handle, a buffer that
    // lives through the call, its length; SEEK: a handle, a position; FLEN: a handle), and
    // QEMU only reads or writes the buffers given. Without semihosting enabled the BKPT
    // would fault: the scripts enable it.
    unsafe { cortex_m_semihosting::syscall(op, args) as isize }
}

/// 0xFF, written to erase.
static ERASED: [u8; 256] = [0xFF; 256];

impl HostFlash {
    /// Open [`PATH`] (made and erased if it is missing or short) and split it into the
    /// state partition and the DFU partition.
    pub fn open() -> Result<(HostFlash, HostFlash), HostError> {
        let name = PATH.as_bytes();
        let len = name.len() - 1;
        // Mode 3 is "r+b" (keep what an earlier run stored); 7 is "w+b" (make it).
        let mut handle = call(op::OPEN, &[name.as_ptr() as usize, 3, len]);
        if handle < 0 {
            handle = call(op::OPEN, &[name.as_ptr() as usize, 7, len]);
        }
        let handle = usize::try_from(handle).map_err(|_| HostError)?;
        let total = STATE_SIZE + DFU_SIZE;
        let mut state = HostFlash {
            handle,
            base: 0,
            size: STATE_SIZE,
        };
        let mut dfu = HostFlash {
            handle,
            base: STATE_SIZE,
            size: DFU_SIZE,
        };
        if call(op::FLEN, &[handle]) < total as isize {
            state.erase(0, STATE_SIZE)?;
            dfu.erase(0, DFU_SIZE)?;
        }
        Ok((dfu, state))
    }

    fn seek(&self, offset: u32) -> Result<(), HostError> {
        let to = (self.base + offset) as usize;
        match call(op::SEEK, &[self.handle, to]) {
            0 => Ok(()),
            _ => Err(HostError),
        }
    }

    fn check(&self, offset: u32, len: usize) -> Result<(), HostError> {
        match offset.checked_add(len as u32) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(HostError),
        }
    }
}

impl HostFlash {
    /// Whether the `len` bytes at `offset` are all erased (a write may set them).
    fn erased(&mut self, offset: u32, len: usize) -> Result<(), HostError> {
        let mut seen = [0u8; 64];
        let mut done = 0;
        while done < len {
            let n = seen.len().min(len - done);
            self.read(offset + done as u32, &mut seen[..n])?;
            if seen[..n].iter().any(|b| *b != 0xFF) {
                return Err(HostError);
            }
            done += n;
        }
        Ok(())
    }

    /// Set the `len` bytes at `offset` to 0xFF, whatever they hold (an erase).
    fn fill_erased(&mut self, offset: u32, len: usize) -> Result<(), HostError> {
        self.seek(offset)?;
        match call(op::WRITE, &[self.handle, ERASED.as_ptr() as usize, len]) {
            0 => Ok(()),
            _ => Err(HostError),
        }
    }
}

impl ErrorType for HostFlash {
    type Error = HostError;
}

impl ReadNorFlash for HostFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), HostError> {
        self.check(offset, bytes.len())?;
        self.seek(offset)?;
        // READ answers the number of bytes it did not read.
        match call(
            op::READ,
            &[self.handle, bytes.as_mut_ptr() as usize, bytes.len()],
        ) {
            0 => Ok(()),
            _ => Err(HostError),
        }
    }

    fn capacity(&self) -> usize {
        self.size as usize
    }
}

impl NorFlash for HostFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = ERASE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), HostError> {
        let sector = ERASE_SIZE as u32;
        if !from.is_multiple_of(sector) || !to.is_multiple_of(sector) || from > to {
            return Err(HostError);
        }
        self.check(from, (to - from) as usize)?;
        let mut at = from;
        while at < to {
            self.fill_erased(at, ERASED.len())?;
            at += ERASED.len() as u32;
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), HostError> {
        if !(offset as usize).is_multiple_of(WRITE_SIZE) || !bytes.len().is_multiple_of(WRITE_SIZE)
        {
            return Err(HostError);
        }
        self.check(offset, bytes.len())?;
        self.erased(offset, bytes.len())?;
        self.seek(offset)?;
        // WRITE answers the number of bytes it did not write.
        match call(
            op::WRITE,
            &[self.handle, bytes.as_ptr() as usize, bytes.len()],
        ) {
            0 => Ok(()),
            _ => Err(HostError),
        }
    }
}
