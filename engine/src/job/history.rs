//! What happened to each job, in the state database beside its record: the timeline
//! (created, started, paused and resumed by whom, verification, the end) and the time it
//! spent copying and verifying, kept up to date by every change of status. The store
//! ([`super::store`]) calls these inside its own connection lock; this module knows only
//! SQL and the wire types, so it imports nothing of the store.
//!
//! State databases from before the timeline get its table and the new `jobs` columns when
//! they are opened ([`prepare`]); their jobs read as before, with no timing.

use crate::wire::{JobStatus, TimelineEntry};
use super::schema::add_missing_columns;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// Who did what to a job, for its timeline: `kind` is what happened (`paused`, `resumed`,
/// `cancelled`, ...), `who` the name they gave.
#[derive(Debug, Clone, Copy)]
pub struct Act<'a> {
    pub kind: &'a str,
    pub who: &'a str,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS timeline (
    job_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    who TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS timeline_by_job ON timeline (job_id, at_ms);
";

/// Columns added to `jobs` after its first release, with their definitions.
const ADDED_JOB_COLUMNS: &[(&str, &str)] = &[
    ("started_at_ms", "INTEGER"),
    ("finished_at_ms", "INTEGER"),
    ("running_ms", "INTEGER NOT NULL DEFAULT 0"),
    ("verifying_ms", "INTEGER NOT NULL DEFAULT 0"),
    ("status_since_ms", "INTEGER"),
];

/// Creates the timeline and adds the columns of [`ADDED_JOB_COLUMNS`] that `jobs` lacks
/// (see [`add_missing_columns`]). Needs the `jobs` table.
pub(super) fn prepare(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)?;
    add_missing_columns(conn, "jobs", ADDED_JOB_COLUMNS)
}

/// Puts an entry on a job's timeline (saying who, for a person's act).
pub(super) fn add(tx: &Transaction<'_>, job: &str, at_ms: i64, kind: &str, detail: Option<&str>, who: Option<&str>) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO timeline (job_id, at_ms, kind, detail, who) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![job, at_ms, kind, detail, who],
    )?;
    Ok(())
}

/// Sets the status (and the message, when `message` is `Some`), adds the time spent in the
/// status it leaves to the job's running or verifying time, notes when it started and
/// ended, and puts the change (or `act`) on the timeline. `false` when there is no such job.
pub(super) fn change_status(
    conn: &mut Connection,
    id: &str,
    status: JobStatus,
    message: Option<Option<&str>>,
    act: Option<Act<'_>>,
    now: i64,
) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    let before: Option<(String, Option<i64>, i64, Option<String>)> = tx
        .query_row("SELECT status, status_since_ms, updated_at_ms, message FROM jobs WHERE id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((old, since, updated, old_message)) = before else { return Ok(false) };
    let unchanged = old == status.as_str();
    // A job that stays in its status was interrupted (its process stopped) and is picked up
    // again: it ran until its last recorded change, not until now.
    let until = if unchanged { updated } else { now };
    let spent = since.map_or(0, |since| (until - since).max(0));
    let (running, verifying) = match JobStatus::parse(&old) {
        Some(JobStatus::Running) => (spent, 0),
        Some(JobStatus::Verifying) => (0, spent),
        _ => (0, 0),
    };
    let started = (status == JobStatus::Running).then_some(now);
    let finished = status.is_final().then_some(now);
    let message = match message {
        Some(message) => message.map(str::to_owned),
        None => old_message,
    };
    tx.execute(
        "UPDATE jobs SET status = ?2, message = ?3, updated_at_ms = ?4, status_since_ms = ?4,
             running_ms = running_ms + ?5, verifying_ms = verifying_ms + ?6,
             started_at_ms = COALESCE(started_at_ms, ?7), finished_at_ms = ?8
         WHERE id = ?1",
        params![id, status.as_str(), message, now, running, verifying, started, finished],
    )?;
    match act {
        Some(act) => add(&tx, id, now, act.kind, None, Some(act.who))?,
        None if !unchanged => {
            // Why it failed, or why it paused by itself (a target outage).
            let detail = matches!(status, JobStatus::Failed | JobStatus::Paused).then_some(message).flatten();
            add(&tx, id, now, status.as_str(), detail.as_deref(), None)?;
        }
        None => {}
    }
    tx.commit()?;
    Ok(true)
}

/// Names who created the job.
pub(super) fn set_creator(conn: &Connection, id: &str, who: &str) -> rusqlite::Result<()> {
    conn.execute("UPDATE timeline SET who = ?2 WHERE job_id = ?1 AND kind = 'created'", params![id, who])?;
    Ok(())
}

/// The job's timeline, oldest first.
pub(super) fn timeline(conn: &Connection, id: &str) -> rusqlite::Result<Vec<TimelineEntry>> {
    let mut statement = conn.prepare_cached("SELECT at_ms, kind, who, detail FROM timeline WHERE job_id = ?1 ORDER BY at_ms, rowid")?;
    let rows = statement.query_map(params![id], |r| Ok(TimelineEntry { at_ms: r.get(0)?, kind: r.get(1)?, who: r.get(2)?, detail: r.get(3)? }))?;
    rows.collect()
}

/// Deletes every row of the job, in every table; `false` when there is no such job.
pub(super) fn delete_job(conn: &mut Connection, id: &str) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    for table in ["collections", "verifications", "requests", "timeline", "dead_letters", "ranges", "read_plans", "copied", "throttles"] {
        tx.execute(&format!("DELETE FROM {table} WHERE job_id = ?1"), params![id])?;
    }
    let deleted = tx.execute("DELETE FROM jobs WHERE id = ?1", params![id])? > 0;
    tx.commit()?;
    Ok(deleted)
}
