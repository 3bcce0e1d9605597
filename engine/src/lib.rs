//! The docshift migration core. It knows MongoDB and Astra, and nothing of the web:
//! the server, the CLI and the tests all drive migrations through this crate.
//!
//! Without the `native` feature only the wire-compatible part compiles — [`wire`] (the
//! serializable types the server sends to browsers), [`policy`], [`naming`] and [`tuning`] —
//! so both ends share one definition of each.

pub mod naming;
pub mod policy;
pub mod tuning;
pub mod wire;

#[cfg(feature = "native")]
pub mod astra;
#[cfg(feature = "native")]
pub mod census;
#[cfg(feature = "native")]
pub mod convert;
#[cfg(feature = "native")]
pub mod job;
#[cfg(feature = "native")]
pub mod sample;
#[cfg(feature = "native")]
pub mod source;
#[cfg(feature = "testing")]
pub mod testing;
