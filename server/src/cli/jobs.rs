//! `docshift jobs`, `docshift resume ID` and `docshift dead-letters ID`: what the state
//! directory knows, continuing a job that stopped (paused, or its process killed) from its
//! checkpoints, and the documents a job set aside.

use super::{
    print_stdout,
    progress::{self, Display},
    report, CliError, StateArgs,
};
use engine::{job::DeadLetter, wire::{JobProgress, JobStatus}};
use serde::Serialize;
use serde_json::value::RawValue;
use std::fmt::Write;

/// List the jobs of the state directory, newest first.
#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    state: StateArgs,
    /// Print the jobs as a JSON array (each as the final report shows it).
    #[arg(long)]
    json: bool,
}

/// Continue a paused or interrupted job from its checkpoints.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "\
A job whose `docshift migrate` was killed stays recorded as running; resume takes it over once
no other docshift process runs it. Documents written just before the stop come back as already
present and are counted once. The exit status is that of `docshift migrate`.")]
pub struct ResumeArgs {
    /// The job's id, as `docshift jobs` lists it.
    id: String,
    #[command(flatten)]
    state: StateArgs,
    /// Print the final report as JSON on stdout (and no progress bar).
    #[arg(long)]
    json: bool,
}

/// Print the documents a job set aside, as JSON Lines.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "\
One JSON object per line: {\"collection\", \"id\", \"code\", \"reason\", \"document\"}, where
document is the original MongoDB document as canonical Extended JSON.")]
pub struct DeadLettersArgs {
    /// The job's id, as `docshift jobs` lists it.
    id: String,
    #[command(flatten)]
    state: StateArgs,
}

/// Runs `docshift jobs`.
pub fn list(args: JobsArgs) -> Result<(), CliError> {
    let jobs = args.state.open()?.jobs()?;
    if args.json {
        let mut text = serde_json::to_string_pretty(&jobs).map_err(|e| CliError::State(format!("cannot write the jobs: {e}")))?;
        text.push('\n');
        return print_stdout(&text);
    }
    if jobs.is_empty() {
        return print_stdout(&format!("No jobs in {}.\n", args.state.state_dir.display()));
    }
    print_stdout(&table(&jobs))
}

/// One line per job, in aligned columns.
fn table(jobs: &[JobProgress]) -> String {
    let header = ["ID", "STATUS", "DATABASE", "COLLECTIONS", "MATCHED", "WRITTEN", "PRESENT", "DEAD"];
    let rows: Vec<[String; 8]> = jobs
        .iter()
        .map(|job| {
            let totals = job.totals();
            let collections: Vec<String> = job.collections.iter().map(progress::label).collect();
            [
                job.id.clone(),
                job.status.as_str().to_owned(),
                job.database.clone(),
                collections.join(", "),
                totals.matched.map_or_else(|| "-".to_owned(), |m| m.to_string()),
                totals.written.to_string(),
                totals.already_present.to_string(),
                totals.dead_lettered.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header.map(String::from)).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(column, (cell, width))| if column >= 4 { format!("{cell:>width$}") } else { format!("{cell:<width$}") })
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// Runs `docshift resume ID`.
pub async fn resume(args: ResumeArgs) -> Result<(), CliError> {
    let jobs = args.state.open()?;
    let progress = jobs.progress(&args.id)?;
    if progress.status == JobStatus::Complete {
        return report::finish(&jobs, &progress, &args.state, args.json);
    }
    let events = jobs.subscribe();
    jobs.resume(&args.id, "docshift resume")?;
    if !args.json {
        eprintln!("docshift: job {} resumed from its checkpoints", args.id);
    }
    let progress = progress::follow(&jobs, &args.id, events, Display::choose(args.json)).await?;
    report::finish(&jobs, &progress, &args.state, args.json)
}

/// A dead letter as one JSON line; the document is embedded as JSON, not as a string.
#[derive(Serialize)]
struct DeadLetterLine<'a> {
    collection: &'a str,
    id: &'a str,
    code: &'a str,
    reason: &'a str,
    document: DocumentJson<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum DocumentJson<'a> {
    Json(Box<RawValue>),
    /// Not expected (the engine stores JSON), but never lose it.
    Text(&'a str),
}

fn line(letter: &DeadLetter) -> Result<String, CliError> {
    let document = match RawValue::from_string(letter.document.clone()) {
        Ok(raw) => DocumentJson::Json(raw),
        Err(_) => DocumentJson::Text(&letter.document),
    };
    let line = DeadLetterLine { collection: &letter.collection, id: &letter.id, code: &letter.code, reason: &letter.reason, document };
    serde_json::to_string(&line).map_err(|e| CliError::State(format!("cannot write a dead letter: {e}")))
}

/// Runs `docshift dead-letters ID`.
pub fn dead_letters(args: DeadLettersArgs) -> Result<(), CliError> {
    let letters = args.state.open()?.dead_letters(&args.id, None)?;
    let mut out = String::new();
    for letter in &letters {
        out.push_str(&line(letter)?);
        out.push('\n');
        if out.len() > 1 << 20 {
            print_stdout(&out)?;
            out.clear();
        }
    }
    print_stdout(&out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_dead_letter_line_embeds_the_document_as_json() {
        let letter = DeadLetter {
            collection: "events".into(),
            id: "e1".into(),
            code: "SHRED_BAD_FIELD_NAME".into(),
            reason: "field $x".into(),
            document: r#"{"_id":"e1","$x":{"$numberInt":"1"}}"#.into(),
        };
        let value: serde_json::Value = serde_json::from_str(&line(&letter).unwrap()).unwrap();
        assert_eq!(value["document"]["$x"]["$numberInt"], "1");
        assert_eq!(value["code"], "SHRED_BAD_FIELD_NAME");
    }
}
