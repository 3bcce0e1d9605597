//! Pieces of UI that several pages use.

pub mod presence;
pub mod status;
