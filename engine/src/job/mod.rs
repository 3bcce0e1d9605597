//! Migration jobs: a [`spec::JobSpec`] becomes a job that the [`manager::JobManager`] checks,
//! runs in parallel `_id` ranges with checkpoints in SQLite ([`store`]), verifies against
//! the target ([`verify`]), and reports as progress events to every subscriber.
//!
//! Every source document ends in exactly one of: written, already present (a resumed job
//! meets what it wrote before the stop), or dead-lettered with its reason. A job is
//! complete only when those add up to the source count and verification passes.
//!
//! Imports run one way: `manager` → `runner` → {`reader`, `verify`, `astra::Writer`} →
//! {`control`, `progress`, `store`}, with the errors in `error`; `lock` needs only `error`.

pub mod control;
mod copy;
pub mod error;
pub mod ledger;
mod lock;
pub mod manager;
mod plan;
mod progress;
mod reader;
pub mod runner;
pub mod spec;
pub mod store;
pub mod verify;

pub use error::{JobError, RunError};
pub use manager::JobManager;
pub use spec::{target_name, CollectionSpec, JobSpec, TargetSpec, VerifyMode};
pub use store::{CopiedDocument, DeadLetter, JobStore};
