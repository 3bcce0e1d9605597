//! What several test modules share: converting sample and generated documents, and an
//! astra-local with clients for it. Each test starts the real services it needs itself
//! (SecantusDB through `engine::testing`, astra-local through `astra_local::testing`).

// Each helper serves some of the test modules.
#![allow(dead_code)]

pub mod convert;
pub mod proxy;
pub mod target;
