//! The engine's integration tests, in one binary so the crate and its dependencies link
//! once: conversion (`convert_*`), the Astra clients against astra-local (`target_*`),
//! source ranges and the census against SecantusDB, and whole jobs (`job_*`). Tests run in
//! parallel threads of this one process: none may rely on process-wide state (a global
//! tracing subscriber, the environment, the current directory, a fixed port).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

mod census;
mod convert_astra_local;
mod convert_limits;
mod convert_props;
mod convert_sample;
mod convert_types;
mod convert_vectors;
mod job_faults;
mod job_migrate;
mod job_throughput;
mod job_vectors;
mod job_online;
mod source_ranges;
mod target_data_api;
mod target_data_api_write;
mod target_document_api;
