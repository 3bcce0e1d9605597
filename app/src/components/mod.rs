//! Pieces of UI that several pages use.

pub mod census;
pub mod online;
pub mod presence;
pub mod progress;
pub mod status;
