//! The Stellaris MAC as an `embassy-net-driver` (feature `embassy`): the same FIFO protocol
//! as [`crate::enet`], woken by the MAC's receive interrupt instead of polled.
//!
//! Receiving: when the FIFO is empty, [`Driver::receive`] registers the stack's waker,
//! acknowledges the receive interrupt and unmasks it (`IM`); the handler, [`interrupt`],
//! masks it again and wakes the stack, which then drains the FIFO. The interrupt is
//! level-triggered on `RIS & IM`: a frame that arrives between the emptiness check and the
//! unmasking raises it as soon as it is unmasked, so no wake-up is lost.
//!
//! Sending is synchronous (a frame goes into the transmit FIFO and out at once), so there is
//! always room for the next one.

use core::task::Context;

use embassy_net_driver::{Capabilities, Driver, HardwareAddress, LinkState};
use embassy_sync::waitqueue::AtomicWaker;

use crate::enet::{self, Enet, IM, INT_RX, MTU, NP, RIS_IACK};
use crate::reg;

/// The stack's task, waiting for a frame.
static RX_WAKER: AtomicWaker = AtomicWaker::new();

/// The Ethernet controller's interrupt handler (IRQ 42): mask the receive interrupt and wake
/// the network stack, which reads the FIFO and unmasks it once empty.
pub extern "C" fn interrupt() {
    reg::write(IM, 0);
    RX_WAKER.wake();
}

/// A received frame, in the driver's receive buffer.
pub struct RxToken<'a>(&'a mut [u8]);

/// Room for one frame to send.
pub struct TxToken<'a>(&'a mut [u8; MTU]);

impl embassy_net_driver::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl embassy_net_driver::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let frame = &mut self.0[..len.min(MTU)];
        let result = f(frame);
        enet::send(frame);
        result
    }
}

impl Driver for Enet {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(RxToken<'_>, TxToken<'_>)> {
        loop {
            if reg::read(NP) == 0 {
                RX_WAKER.register(cx.waker());
                // Acknowledge first: a frame arriving after the check below raises it again.
                reg::write(RIS_IACK, INT_RX);
                if reg::read(NP) == 0 {
                    reg::write(IM, INT_RX);
                    return None;
                }
            }
            if let Some(len) = self.take_frame() {
                return Some((RxToken(&mut self.rx[..len]), TxToken(&mut self.tx)));
            }
            // Too long for the buffer: dropped; try the next one.
        }
    }

    fn transmit(&mut self, _cx: &mut Context<'_>) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn link_state(&mut self, _cx: &mut Context<'_>) -> LinkState {
        // QEMU's user network is always up (the PHY's link bit is not modelled here).
        LinkState::Up
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(1);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac())
    }
}
