//! Why a job could not be created or controlled ([`JobError`]), and why a running job
//! stopped short ([`RunError`]): sentences that say what to fix.

use super::store::StoreError;
use crate::{
    astra::TargetError,
    source::{changes::ChangeError, mongo::SourceError},
};

/// Why a job could not be created or controlled: a sentence that says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The source cannot give an online job its changes.
    #[error("{0}")]
    Changes(#[from] ChangeError),
    #[error("job {id} is {status}: {what}")]
    WrongState { id: String, status: &'static str, what: &'static str },
    /// Another process (a `docshift migrate`, `resume` or `serve` on the same state
    /// directory) runs the job; `by` names it when known.
    #[error("job {id} is being run by another docshift process{by}: wait for it, or stop it first")]
    Busy { id: String, by: String },
}

/// Why a job stopped short.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("reading MongoDB failed: {0}")]
    Read(String),
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Spec(String),
    /// The job's target can't be found where the job looks for it; the job waits, paused.
    #[error("{0}")]
    TargetUnavailable(String),
    /// An online job's change stream.
    #[error("{0}")]
    Changes(#[from] ChangeError),
    /// The process is stopping under the run (its runtime cancelled the run's tasks, as
    /// after Ctrl-C): nothing is recorded; the checkpoints stand and a resume goes on from them.
    #[error("the run was interrupted: the process is stopping")]
    Interrupted,
}
