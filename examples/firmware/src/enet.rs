//! The LM3S6965's Ethernet MAC at 0x4004_8000 as a `smoltcp` device.
//!
//! Frames move through 32-bit FIFO words. Receive: the first word's low half is the frame
//! length plus 6 (the two length bytes and the FCS), followed by the frame and its FCS.
//! Transmit: the first word's low half is the frame length minus the 14-byte Ethernet
//! header, followed by the frame; writing 1 to TR sends it (the MAC pads and adds the FCS).

use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::reg;

pub(crate) const BASE: usize = 0x4004_8000;
pub(crate) const RIS_IACK: usize = BASE;
pub(crate) const IM: usize = BASE + 0x04;
const RCTL: usize = BASE + 0x08;
const TCTL: usize = BASE + 0x0C;
pub(crate) const DATA: usize = BASE + 0x10;
const IA0: usize = BASE + 0x14;
const IA1: usize = BASE + 0x18;
pub(crate) const NP: usize = BASE + 0x34;
const TR: usize = BASE + 0x38;

pub(crate) const INT_RX: u32 = 1;
const RCTL_RXEN: u32 = 1;
const RCTL_RSTFIFO: u32 = 1 << 4;
const TCTL_TXEN: u32 = 1;
const TCTL_PADEN: u32 = 1 << 1;
const TCTL_CRC: u32 = 1 << 2;
const TR_NEWTX: u32 = 1;

/// Largest Ethernet frame without FCS.
pub const MTU: usize = 1514;

/// The MAC, with one frame buffer each way.
pub struct Enet {
    pub(crate) rx: [u8; MTU],
    pub(crate) tx: [u8; MTU],
}

/// Whether a received frame waits in the FIFO. Acknowledges the receive interrupt first, so
/// that a frame arriving after this check raises it again.
pub fn rx_ready() -> bool {
    reg::write(RIS_IACK, INT_RX);
    reg::read(NP) != 0
}

impl Enet {
    /// Reset the receive FIFO and enable both directions; only the receive interrupt is
    /// enabled (it only wakes the core).
    pub fn new() -> Self {
        let mut mac = Enet::UNSTARTED;
        mac.start();
        mac
    }

    /// The frame buffers, before [`Enet::start`]: a constant, so that a `static` can hold it
    /// without building its 3 KB on the stack first.
    pub const UNSTARTED: Enet = Enet {
        rx: [0; MTU],
        tx: [0; MTU],
    };

    /// What [`Enet::new`] does to the MAC's registers.
    pub fn start(&mut self) {
        reg::write(RCTL, RCTL_RSTFIFO);
        reg::write(RCTL, RCTL_RXEN);
        reg::write(TCTL, TCTL_TXEN | TCTL_PADEN | TCTL_CRC);
        reg::write(IM, INT_RX);
    }

    /// The station address the board was given (QEMU: `-nic ...,mac=`).
    pub fn mac(&self) -> [u8; 6] {
        let [a, b, c, d] = reg::read(IA0).to_le_bytes();
        let [e, f, _, _] = reg::read(IA1).to_le_bytes();
        [a, b, c, d, e, f]
    }

    /// Move the next frame from the FIFO into `self.rx`; its length, or `None` if it was too
    /// long (then it is dropped).
    pub(crate) fn take_frame(&mut self) -> Option<usize> {
        let first = reg::read(DATA);
        let fifo_len = (first & 0xFFFF) as usize; // frame + 2 length bytes + 4 FCS bytes
        let frame_len = fifo_len.saturating_sub(6);
        let fits = frame_len <= MTU;
        let mut put = |i: usize, byte: u8| {
            if fits && i < frame_len {
                self.rx[i] = byte;
            }
        };
        let [_, _, b0, b1] = first.to_le_bytes();
        put(0, b0);
        put(1, b1);
        let mut offset = 4;
        let mut i = 2;
        while offset < fifo_len {
            for byte in reg::read(DATA).to_le_bytes() {
                put(i, byte);
                i += 1;
            }
            offset += 4;
        }
        fits.then_some(frame_len)
    }
}

impl Default for Enet {
    fn default() -> Self {
        Enet::new()
    }
}

/// A received frame.
pub struct RxToken<'a>(&'a [u8]);

/// Room for one frame to send.
pub struct TxToken<'a>(&'a mut [u8; MTU]);

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let len = len.min(MTU);
        let result = f(&mut self.0[..len]);
        send(&self.0[..len]);
        result
    }
}

/// Write `frame` (without FCS) to the transmit FIFO and send it.
pub(crate) fn send(frame: &[u8]) {
    let len = frame.len();
    if len >= 14 {
        let data_len = (len - 14) as u32;
        reg::write(
            DATA,
            data_len | u32::from(frame[0]) << 16 | u32::from(frame[1]) << 24,
        );
        for word in frame[2..].chunks(4) {
            let mut bytes = [0u8; 4];
            bytes[..word.len()].copy_from_slice(word);
            reg::write(DATA, u32::from_le_bytes(bytes));
        }
        reg::write(TR, TR_NEWTX);
    }
}

impl Device for Enet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        while reg::read(NP) != 0 {
            if let Some(len) = self.take_frame() {
                return Some((RxToken(&self.rx[..len]), TxToken(&mut self.tx)));
            }
        }
        None
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_>> {
        // Sending is synchronous (TR is written before `consume` returns), so there is always
        // room for the next frame.
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }
}
