//! The report a job command ends with: for people, each collection's accounting
//! (matched = written + already present + dead-lettered), its verification and every
//! mismatch, and an online job's sync; with `--json`, the job's progress as the web app sees
//! it (with its `online` part) plus the number of dead letters. The exit status follows from it: success only for a complete job.

use super::{print_stdout, progress::label, CliError, StateArgs};
use engine::{
    job::JobManager,
    wire::{JobProgress, JobStatus},
};
use serde::Serialize;
use std::fmt::Write;

/// The `--json` report: the `JobProgress` fields, plus how many documents were set aside.
#[derive(Serialize)]
pub struct JobReport<'a> {
    #[serde(flatten)]
    pub progress: &'a JobProgress,
    /// Dead letters stored for the job (`docshift dead-letters ID` prints them).
    pub dead_letters: u64,
}

/// Prints the report and returns success only when the job is complete.
pub fn finish(jobs: &JobManager, progress: &JobProgress, state: &StateArgs, json: bool) -> Result<(), CliError> {
    let dead_letters = jobs.dead_letter_count(&progress.id)?;
    if json {
        let mut text = serde_json::to_string_pretty(&JobReport { progress, dead_letters })
            .map_err(|e| CliError::State(format!("cannot write the report: {e}")))?;
        text.push('\n');
        print_stdout(&text)?;
    } else {
        print_stdout(&human(progress, dead_letters, state))?;
    }
    if progress.status == JobStatus::Complete {
        return Ok(());
    }
    let mut reason = progress.message.clone().unwrap_or_else(|| "it stopped before the end".into());
    if matches!(progress.status, JobStatus::Paused | JobStatus::Running | JobStatus::Verifying | JobStatus::Pending) {
        let _ = write!(reason, " (`docshift resume {}` continues it)", progress.id);
    }
    Err(CliError::Incomplete { id: progress.id.clone(), status: progress.status.as_str(), reason })
}

/// The report for people.
pub fn human(progress: &JobProgress, dead_letters: u64, state: &StateArgs) -> String {
    let mut out = String::new();
    let verdict = match progress.status {
        JobStatus::Complete => "complete: every document is accounted for and verification passed".to_owned(),
        status => format!("{}: {}", status.as_str(), progress.message.as_deref().unwrap_or("not complete")),
    };
    let _ = writeln!(out, "Job {} {verdict}", progress.id);
    let _ = writeln!(out, "  from MongoDB database {} to {}", progress.database, progress.target);
    if let Some(rate) = progress.max_rate {
        let _ = writeln!(out, "  at most {rate} documents a second (--max-rate)");
    }
    for collection in &progress.collections {
        let c = collection.counters;
        let _ = write!(
            out,
            "  {}: {} matched = {} written + {} already present + {} dead-lettered",
            label(collection),
            c.matched.map_or_else(|| "not yet counted".to_owned(), |m| m.to_string()),
            c.written,
            c.already_present,
            c.dead_lettered
        );
        if let Some(left) = c.left().filter(|left| *left > 0) {
            let _ = write!(out, " ({left} not yet accounted for)");
        }
        match &collection.verification {
            Some(v) if v.passed() => {
                let _ = writeln!(out, "; verified {} of {}", v.matching, v.checked);
            }
            Some(v) => {
                let _ = writeln!(out, "; verification: {} of {} match", v.matching, v.checked);
                if !v.missing.is_empty() {
                    let _ = writeln!(out, "    missing in the target: {}", v.missing.join(", "));
                }
                if !v.different.is_empty() {
                    let _ = writeln!(out, "    different in the target: {}", v.different.join(", "));
                }
            }
            None => {
                let _ = writeln!(out, "; not verified");
            }
        }
        if let Some(plan) = &collection.plan {
            let ranges = if plan.ranges > 1 { format!(" ({} ranges)", plan.ranges) } else { String::new() };
            let _ = writeln!(out, "    read plan: {}{ranges}: {}", plan.kind.label(), plan.reason);
            for change in &plan.changes {
                let _ = writeln!(out, "      then {change}");
            }
        }
        if let Some(recall) = collection.verification.as_ref().and_then(|v| v.recall) {
            let _ = writeln!(
                out,
                "    vector search: recall@{} {:.3} over {} queries ({} of {} exact neighbours found); vectors compared at float32 precision, as Astra stores them",
                recall.k,
                recall.recall(),
                recall.queries,
                recall.found,
                recall.expected
            );
        }
    }
    if let Some(throttle) = progress.throttle.as_ref().filter(|t| t.throttled > 0) {
        let _ = writeln!(
            out,
            "  Astra throttled {} of {} requests ({:.1} %); docshift slowed down{}",
            throttle.throttled,
            throttle.requests,
            throttle.throttled_percent(),
            throttle.rate_cap.map(|cap| format!(" to about {cap:.0} requests a second")).unwrap_or_default()
        );
    }
    if let Some(online) = &progress.online {
        let _ = writeln!(out, "  sync: {}", super::online::line(online));
    }
    if dead_letters > 0 {
        let _ = writeln!(
            out,
            "{dead_letters} documents were set aside with their reasons: `docshift dead-letters {} --state-dir {}` prints them",
            progress.id,
            state.state_dir.display()
        );
    }
    out
}
