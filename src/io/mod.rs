//! Drivers: thin loops that move bytes between a transport and a [`crate::Connection`].
//! They make no protocol decisions of their own.

#[cfg(feature = "async")]
pub mod asynch;
pub mod blocking;
