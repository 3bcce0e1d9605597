//! The headless commands on the same engine as the web app, for scripts and CI:
//! `docshift migrate` (a copy, or `--online`), `jobs`, `resume`, `cutover` and `dead-letters`. They keep their jobs in the same
//! state directory as `docshift serve`, so either can show what the other started.
//!
//! Exit status: 0 only when the job is complete (every document accounted for and
//! verification passed); 1 when it ran but did not complete; 2 when the input was refused
//! before any write; 130 when interrupted (the job is paused and can be resumed).

pub mod jobs;
pub mod migrate;
pub mod online;
pub mod policy;
pub mod progress;
pub mod report;

use engine::job::{JobError, JobManager};
use std::{io::Write, path::PathBuf, process::ExitCode};

/// Where the jobs live, shared by every job command.
#[derive(clap::Args, Debug, Clone)]
pub struct StateArgs {
    /// Where docshift keeps its jobs, checkpoints and dead letters (the same directory as
    /// `docshift serve` uses, so jobs started in either show in both).
    #[arg(long, env = "DOCSHIFT_STATE_DIR", default_value = ".docshift/state")]
    pub state_dir: PathBuf,
}

impl StateArgs {
    /// The jobs of the state directory (created if needed).
    pub fn open(&self) -> Result<JobManager, CliError> {
        JobManager::open(&self.state_dir)
            .map_err(|e| CliError::State(format!("cannot open the state directory {}: {e}", self.state_dir.display())))
    }
}

/// Why a command did not succeed; each is a sentence that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input was refused before anything was written.
    #[error("{0}")]
    Input(String),
    /// The engine refused the job or a request about it.
    #[error("{0}")]
    Job(#[from] JobError),
    /// The state directory could not be used.
    #[error("{0}")]
    State(String),
    /// The job ran but is not complete; the report has already been printed.
    #[error("job {id} is {status}: {reason}")]
    Incomplete { id: String, status: &'static str, reason: String },
    /// Ctrl-C or SIGTERM: the job is paused (or was stopped while verifying) and can be resumed.
    #[error("interrupted: job {id} {}; `docshift resume {id}` continues it from its checkpoints", if *paused { "is paused" } else { "stopped" })]
    Interrupted { id: String, paused: bool },
    /// Writing the output failed (other than a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process exit status for this error (see the module header).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) | CliError::Job(_) => 2,
            CliError::State(_) | CliError::Incomplete { .. } | CliError::Output(_) => 1,
            CliError::Interrupted { .. } => 130,
        }
    }
}

/// Turns a command's outcome into the process exit status, printing the reason.
pub fn exit(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Output(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("docshift: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Writes `text` to stdout at once (a closed pipe, as with `| head`, ends quietly).
pub fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
