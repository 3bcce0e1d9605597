//! Migration jobs: a [`spec::JobSpec`] becomes a job that the [`manager::JobManager`] checks,
//! runs in parallel `_id` ranges with checkpoints in SQLite ([`store`]), verifies against
//! the target ([`verify`]), and reports as progress events to every subscriber.
//!
//! Every source document ends in exactly one of: written, already present (a resumed job
//! meets what it wrote before the stop), or dead-lettered with its reason. A job is
//! complete only when those add up to the source count and verification passes.
//!
//! A job is a copy, or online: copy, then follow the source's change streams until someone
//! cuts over ([`online`]).
//!
//! Imports run one way: `manager` → `runner` → `online` → {`reader`, `verify`,
//! `astra::Writer`} → {`control`, `progress`, `store`, `targets`} → `history` (the timeline), with the errors in `error`; `progress`
//! reads `online::store`, which needs only `store`; `lock` needs only `error`.

pub mod control;
mod copy;
pub mod error;
mod history;
pub mod ledger;
mod lock;
pub mod manager;
mod plan;
mod online;
mod progress;
mod reader;
mod recall;
pub mod runner;
mod schema;
pub mod spec;
pub mod store;
pub mod targets;
pub mod verify;

pub use error::{JobError, RunError};
pub use manager::JobManager;
pub use spec::{target_name, CollectionSpec, JobMode, JobSpec, TargetSpec, VerifyMode};
pub use store::{CopiedDocument, DeadLetter, JobStore};
pub use targets::TargetDirectory;
