//! The server's integration tests, in one binary so the crate and its dependencies link
//! once: the real `docshift` binary against SecantusDB and astra-local — browsing, access,
//! presence, secrets, and the job commands (`cli_*`). Tests run in parallel threads of this
//! one process: none may rely on process-wide state (the environment, the current
//! directory, a fixed port); each child process gets its settings on its own command line.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

mod access;
mod browse;
mod cli_kill;
mod cli_migrate;
mod cli_online;
mod presence;
mod restart;
mod secrets;
mod security;
