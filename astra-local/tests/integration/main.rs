//! Integration tests of astra-local over real HTTP: each test starts its own instance on a
//! free port with a temporary data directory.

mod astrapy;
mod common;
mod data_api;
mod document_api;
mod faults;
mod http;
mod limits;
