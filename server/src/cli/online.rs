//! Online jobs from the command line: `docshift cutover ID` (from any shell, on the same state
//! directory as the process that runs the job), and how an online job's sync reads on the
//! progress line and in the report: phase, lag, changes waiting and applied, the cutover.

use super::{CliError, StateArgs};
use engine::wire::{thousands, OnlinePhase, OnlineProgress};
use std::fmt::Write;

/// Cut an online job over.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "\
docshift takes the barrier (the source's cluster time now), the process that runs the job
applies every change up to it and none after, runs the verification the job asked for and
reports \"the target equals the source as of T\". Changes made on the source after the
barrier are counted and reported: stop the application's writes to MongoDB first.
The `docshift migrate --online` or `docshift resume` that runs the job then exits like a copy
(0 only when complete and verified). A paused job cuts over when it resumes.")]
pub struct CutoverArgs {
    /// The job's id, as `docshift jobs` lists it.
    id: String,
    /// The name everyone watching sees as the one who cut over.
    #[arg(long, value_name = "NAME", default_value = "docshift cutover")]
    by: String,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `docshift cutover ID`.
pub async fn cutover(args: CutoverArgs) -> Result<(), CliError> {
    let jobs = args.state.open()?;
    jobs.cutover(&args.id, &args.by).await?;
    eprintln!(
        "docshift: cutover of job {} asked by {}; the process that runs it applies the changes up to the barrier, verifies and ends the job",
        args.id, args.by
    );
    Ok(())
}

/// The sync in one line: `following changes, lag 0.4 s, 12 waiting, 950 changes/s`.
pub fn line(online: &OnlineProgress) -> String {
    let mut text = online.phase.label().to_owned();
    if let Some(lag) = online.lag_seconds {
        let _ = write!(text, ", lag {lag:.1} s, {} waiting, {:.0} changes/s", thousands(online.waiting), online.rate);
    }
    if online.phase != OnlinePhase::Copying {
        let a = online.applied;
        let _ = write!(
            text,
            "; applied {} inserts, {} updates, {} replaces, {} deletes",
            thousands(a.inserts),
            thousands(a.updates),
            thousands(a.replaces),
            thousands(a.deletes)
        );
        if a.skipped > 0 {
            let _ = write!(text, ", {} skipped", thousands(a.skipped));
        }
        if a.dead_lettered > 0 {
            let _ = write!(text, ", {} dead-lettered", thousands(a.dead_lettered));
        }
    }
    if let Some(cutover) = &online.cutover {
        let _ = write!(text, "; cutover asked by {}", cutover.by);
    }
    if online.after_barrier > 0 {
        let noun = if online.after_barrier == 1 { "change" } else { "changes" };
        let _ = write!(text, "; {} {noun} after the barrier", thousands(online.after_barrier));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::wire::{ChangeCounters, Cutover};

    #[test]
    fn the_line_says_phase_lag_and_changes() {
        let mut online = OnlineProgress {
            phase: OnlinePhase::Following,
            lag_seconds: Some(0.42),
            waiting: 1_200,
            rate: 950.4,
            applied: ChangeCounters { inserts: 1, updates: 2_000, replaces: 3, deletes: 4, skipped: 0, dead_lettered: 1 },
            cutover: None,
            after_barrier: 0,
        };
        assert_eq!(
            line(&online),
            "following changes, lag 0.4 s, 1,200 waiting, 950 changes/s; applied 1 inserts, 2,000 updates, 3 replaces, 4 deletes, 1 dead-lettered"
        );
        online.phase = OnlinePhase::Verifying;
        online.lag_seconds = None;
        online.cutover = Some(Cutover { by: "Ada".into(), at_ms: 0, barrier_ms: 0, barrier: "Timestamp(1, 1)".into() });
        online.after_barrier = 3;
        assert!(line(&online).ends_with("; cutover asked by Ada; 3 changes after the barrier"), "{}", line(&online));
    }
}
