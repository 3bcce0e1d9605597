//! One process at a time per job. The CLI and `docshift serve` can share a state directory,
//! and a killed process leaves its job recorded as running: a job may be run (started,
//! resumed, taken over) only by the process that holds its lock, an exclusive lock on
//! `locks/<id>.lock` in the state directory. The operating system drops it when the process
//! ends, even by SIGKILL, so a killed job is free to resume at once.

use super::error::JobError;
use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read, Seek, Write},
    path::Path,
};

/// The lock on one job, held while this value lives.
#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

impl JobLock {
    /// Takes the job's lock in `dir`, or says which process holds it.
    pub fn acquire(dir: &Path, id: &str) -> Result<Self, JobError> {
        let cannot = |e: std::io::Error| JobError::Invalid(format!("cannot lock job {id} in {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(cannot)?;
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(dir.join(format!("{id}.lock"))).map_err(cannot)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let by = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
                return Err(JobError::Busy { id: id.to_owned(), by });
            }
            Err(TryLockError::Error(e)) => return Err(cannot(e)),
        }
        // Who holds it, for the message above; the lock itself is what counts.
        file.set_len(0).map_err(cannot)?;
        file.rewind().map_err(cannot)?;
        write!(file, "{}", std::process::id()).map_err(cannot)?;
        file.flush().map_err(cannot)?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_job_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = JobLock::acquire(dir.path(), "job1").unwrap();
        let refused = JobLock::acquire(dir.path(), "job1").unwrap_err().to_string();
        assert!(refused.contains("another docshift process") && refused.contains(&std::process::id().to_string()), "{refused}");
        JobLock::acquire(dir.path(), "job2").unwrap();
        drop(first);
        JobLock::acquire(dir.path(), "job1").unwrap();
    }
}
