//! Integration tests of astra-local over real HTTP: each test starts its own instance on a
//! free port with a temporary data directory.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod astrapy;
mod common;
mod concurrency;
mod data_api;
mod deletes;
mod document_api;
mod faults;
mod http;
mod limits;
mod reads;
mod strict;
mod vectors;
mod writes;
