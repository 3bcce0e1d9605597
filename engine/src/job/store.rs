//! Durable job state in SQLite: jobs, per-range checkpoints, per-collection counters and
//! dead letters. A batch's checkpoint, counters, dead letters and copied documents change in
//! one transaction, so after a crash the counters describe exactly the documents before each
//! checkpoint, and resuming from the checkpoints counts every document once. The read plans,
//! copied documents and throttling records are in [`super::ledger`].
//!
//! Each job also keeps its timeline (created, started, paused and resumed by whom,
//! verification, the end) and how long it spent copying and verifying, so a finished job
//! can say how long it took and how fast it went. Databases written before those existed
//! are brought up to date when opened ([`JobStore::open`]); nothing in them is lost.

pub use super::history::Act;
use super::{history, schema};
use crate::convert::{ContentHash, Converted};
pub use crate::wire::{Counters, JobStatus, TimelineEntry};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::{
    collections::HashSet,
    path::Path,
    sync::{Arc, Mutex},
};

/// What can go wrong with the state database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the job state database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the job state database holds unreadable data: {0}")]
    Corrupt(String),
    #[error("there is no job {0}")]
    NoSuchJob(String),
}

/// One `_id` range of a collection: bounds and checkpoint as BSON-encoded `{v: value}`
/// documents (`None` for an open end, or for no checkpoint yet).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeState {
    pub index: u32,
    pub lower: Option<Vec<u8>>,
    pub upper: Option<Vec<u8>>,
    pub checkpoint: Option<Vec<u8>>,
    pub done: bool,
}

/// A range's encoded `(lower, upper)` bounds; `None` is an open end.
pub type RangeBounds = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A document set aside with the reason it could not be written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    pub collection: String,
    /// The source `_id` as a stable string.
    pub id: String,
    /// Machine-readable reason, e.g. `SHRED_BAD_FIELD_NAME`.
    pub code: String,
    /// The reason as a sentence.
    pub reason: String,
    /// The original document as canonical Extended JSON.
    pub document: String,
}

/// A document the copy wrote or found already present, as verification needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedDocument {
    /// The `_id`'s stable key.
    pub key: String,
    /// The `_id` as Data API JSON, to ask the target for it.
    pub id_json: String,
    /// The content hash of the converted source document.
    pub hash: ContentHash,
}

impl CopiedDocument {
    /// What verification needs of a converted document.
    pub fn of(converted: &Converted) -> Self {
        Self { key: converted.id_key().to_owned(), id_json: converted.id_json().to_owned(), hash: converted.content_hash() }
    }
}

/// What one acknowledged batch changes, applied atomically by [`JobStore::commit_batch`].
#[derive(Debug, Default)]
pub struct BatchCommit<'a> {
    pub job: &'a str,
    pub collection: &'a str,
    pub range: u32,
    /// The last `_id` of the batch (BSON `{v: id}`): everything up to it is accounted for.
    pub checkpoint: Vec<u8>,
    pub written: u64,
    pub already_present: u64,
    pub dead_letters: Vec<DeadLetter>,
    /// The documents written or found present, for verification (empty when it won't run).
    pub copied: Vec<CopiedDocument>,
}

/// What someone asked of a job that another process runs; that process applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRequest {
    Pause,
    Resume,
    Cancel,
    /// Cut an online job over (see `job::online`).
    Cutover,
}

impl ControlRequest {
    pub fn as_str(self) -> &'static str {
        match self {
            ControlRequest::Pause => "pause",
            ControlRequest::Resume => "resume",
            ControlRequest::Cancel => "cancel",
            ControlRequest::Cutover => "cutover",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pause" => Ok(ControlRequest::Pause),
            "resume" => Ok(ControlRequest::Resume),
            "cancel" => Ok(ControlRequest::Cancel),
            "cutover" => Ok(ControlRequest::Cutover),
            other => Err(StoreError::Corrupt(format!("unknown request {other:?}"))),
        }
    }
}

/// A request left for the process that runs a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    pub request: ControlRequest,
    pub who: String,
    pub at_ms: i64,
}

/// A job row.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: String,
    /// The job's specification as JSON (see `job::spec`).
    pub spec: String,
    pub status: JobStatus,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Why the job failed or stopped, when it did.
    pub message: Option<String>,
    /// When it first started copying (`None` before, and for jobs recorded before this was kept).
    pub started_at_ms: Option<i64>,
    /// When it ended (complete, failed or cancelled).
    pub finished_at_ms: Option<i64>,
    /// Time spent copying (running), in milliseconds, up to the last change of status.
    pub running_ms: i64,
    /// Time spent verifying, in milliseconds, up to the last change of status.
    pub verifying_ms: i64,
}

/// The state database. Cheap to clone; calls are short and synchronous (run them from
/// `spawn_blocking` on hot paths).
#[derive(Clone)]
pub struct JobStore {
    conn: Arc<Mutex<Connection>>,
}

/// The columns every job query reads, in [`JobRecord`]'s order (see [`job_record`]).
const JOB_COLUMNS: &str = "id, spec, status, created_at_ms, updated_at_ms, message, started_at_ms, finished_at_ms, running_ms, verifying_ms";

/// A job row read with [`JOB_COLUMNS`].
fn job_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<(JobRecord, String)> {
    let status: String = r.get(2)?;
    let record = JobRecord {
        id: r.get(0)?,
        spec: r.get(1)?,
        status: JobStatus::Pending,
        created_at_ms: r.get(3)?,
        updated_at_ms: r.get(4)?,
        message: r.get(5)?,
        started_at_ms: r.get(6)?,
        finished_at_ms: r.get(7)?,
        running_ms: r.get(8)?,
        verifying_ms: r.get(9)?,
    };
    Ok((record, status))
}

/// The record with its status read.
fn with_status((record, status): (JobRecord, String)) -> Result<JobRecord, StoreError> {
    Ok(JobRecord { status: parse_status(&status)?, ..record })
}

fn parse_status(text: &str) -> Result<JobStatus, StoreError> {
    JobStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown job status {text:?}")))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl JobStore {
    /// Opens (creating if needed) `state.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", dir.display())))?;
        Self::with_connection(Connection::open(dir.join("state.db"))?)
    }

    /// A throwaway store for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(schema::JOBS)?;
        history::prepare(&mut conn)?;
        schema::add_missing_columns(&mut conn, "collections", schema::ADDED_COLLECTION_COLUMNS)?;
        conn.execute_batch(schema::LEDGER)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The connection, for the tables of other job modules (online sync keeps its own).
    pub(crate) fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.lock()
    }

    /// Records a new job and its collections with their counts (`None`: not counted yet).
    pub fn create_job(&self, id: &str, spec: &str, collections: &[(String, Option<u64>)]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO jobs (id, spec, status, created_at_ms, updated_at_ms) VALUES (?1, ?2, 'pending', ?3, ?3)",
            params![id, spec, now],
        )?;
        for (name, matched) in collections {
            tx.execute(
                "INSERT INTO collections (job_id, name, matched, counted) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, matched.unwrap_or(0) as i64, matched.is_some()],
            )?;
        }
        tx.execute("UPDATE jobs SET status_since_ms = ?2 WHERE id = ?1", params![id, now])?;
        history::add(&tx, id, now, "created", None, None)?;
        tx.commit()?;
        Ok(())
    }

    /// Records the job's status and why; a change of status goes on the timeline.
    pub fn set_status(&self, id: &str, status: JobStatus, message: Option<&str>) -> Result<(), StoreError> {
        self.change_status(id, status, Some(message), None)
    }

    /// Replaces the job's specification (its target's endpoint or token changed).
    pub fn update_spec(&self, id: &str, spec: &str) -> Result<(), StoreError> {
        let changed = self.lock().execute("UPDATE jobs SET spec = ?2 WHERE id = ?1", params![id, spec])?;
        if changed == 0 {
            return Err(StoreError::NoSuchJob(id.to_owned()));
        }
        Ok(())
    }

    /// Records the job's status, keeping its message; a change of status goes on the timeline.
    pub fn set_status_keeping_message(&self, id: &str, status: JobStatus) -> Result<(), StoreError> {
        self.change_status(id, status, None, None)
    }

    /// Records the status someone set (pausing, resuming, cancelling): `act` goes on the
    /// timeline with their name, whether the status changed or not.
    pub fn set_status_by(&self, id: &str, status: JobStatus, message: Option<&str>, act: Act<'_>) -> Result<(), StoreError> {
        self.change_status(id, status, Some(message), Some(act))
    }

    fn change_status(&self, id: &str, status: JobStatus, message: Option<Option<&str>>, act: Option<Act<'_>>) -> Result<(), StoreError> {
        if history::change_status(&mut self.lock(), id, status, message, act, now_ms())? {
            Ok(())
        } else {
            Err(StoreError::NoSuchJob(id.to_owned()))
        }
    }

    /// Names who created the job on its timeline.
    pub fn set_creator(&self, id: &str, who: &str) -> Result<(), StoreError> {
        Ok(history::set_creator(&self.lock(), id, who)?)
    }

    /// What happened to the job, oldest first. Jobs recorded before timelines were kept
    /// get their creation from the job row.
    pub fn timeline(&self, id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let record = self.job(id)?;
        let mut entries = history::timeline(&self.lock(), id)?;
        if !entries.iter().any(|e| e.kind == "created") {
            entries.insert(0, TimelineEntry { at_ms: record.created_at_ms, kind: "created".into(), who: None, detail: None });
        }
        Ok(entries)
    }

    /// Forgets a job: its row, counters, ranges, verification, requests, timeline, dead
    /// letters, read plans, copied documents and throttling. The documents it wrote stay in
    /// the target.
    pub fn delete_job(&self, id: &str) -> Result<(), StoreError> {
        if history::delete_job(&mut self.lock(), id)? {
            Ok(())
        } else {
            Err(StoreError::NoSuchJob(id.to_owned()))
        }
    }

    /// (id, last change) of the jobs changed at or after `since_ms`.
    pub fn changed_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached("SELECT id, updated_at_ms FROM jobs WHERE updated_at_ms >= ?1")?;
        let rows = statement.query_map(params![since_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn job(&self, id: &str) -> Result<JobRecord, StoreError> {
        let conn = self.lock();
        let row = conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), params![id], job_record).optional()?;
        with_status(row.ok_or_else(|| StoreError::NoSuchJob(id.to_owned()))?)
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY created_at_ms DESC, id"))?;
        let rows = stmt.query_map([], job_record)?;
        rows.map(|row| with_status(row?)).collect()
    }

    /// Jobs a restart must pick up again: those that were running, verifying or pending.
    pub fn unfinished(&self) -> Result<Vec<JobRecord>, StoreError> {
        Ok(self
            .jobs()?
            .into_iter()
            .filter(|j| matches!(j.status, JobStatus::Pending | JobStatus::Running | JobStatus::Verifying))
            .collect())
    }

    /// A collection read whole: its matched count becomes what the read accounted for (the
    /// count taken before was the server's estimate, or none).
    pub fn settle_matched(&self, job: &str, collection: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE collections SET matched = written + already_present + dead_lettered, counted = 1 WHERE job_id = ?1 AND name = ?2",
            params![job, collection],
        )?;
        Ok(())
    }

    /// A count taken after the job was created, for a collection that has none yet (the
    /// first count to land stands, the copy's own included).
    pub fn set_matched(&self, job: &str, collection: &str, matched: u64) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE collections SET matched = ?3, counted = 1 WHERE job_id = ?1 AND name = ?2 AND counted = 0",
            params![job, collection, matched as i64],
        )?;
        Ok(())
    }

    pub fn counters(&self, job: &str) -> Result<Vec<(String, Counters)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT name, matched, written, already_present, dead_lettered, counted FROM collections WHERE job_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map(params![job], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Counters {
                    matched: r.get::<_, bool>(5)?.then_some(r.get::<_, i64>(1)? as u64),
                    written: r.get::<_, i64>(2)? as u64,
                    already_present: r.get::<_, i64>(3)? as u64,
                    dead_lettered: r.get::<_, i64>(4)? as u64,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records the ranges of a collection, once: a resumed job keeps the ones it has.
    pub fn ensure_ranges(&self, job: &str, collection: &str, bounds: &[RangeBounds]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let existing: i64 =
            tx.query_row("SELECT COUNT(*) FROM ranges WHERE job_id = ?1 AND collection = ?2", params![job, collection], |r| r.get(0))?;
        if existing == 0 {
            for (index, (lower, upper)) in bounds.iter().enumerate() {
                tx.execute(
                    "INSERT INTO ranges (job_id, collection, idx, lower, upper) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![job, collection, index as i64, lower, upper],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn ranges(&self, job: &str, collection: &str) -> Result<Vec<RangeState>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT idx, lower, upper, checkpoint, done FROM ranges WHERE job_id = ?1 AND collection = ?2 ORDER BY idx",
        )?;
        let rows = stmt.query_map(params![job, collection], |r| {
            Ok(RangeState {
                index: r.get::<_, i64>(0)? as u32,
                lower: r.get(1)?,
                upper: r.get(2)?,
                checkpoint: r.get(3)?,
                done: r.get::<_, i64>(4)? != 0,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies one acknowledged batch: checkpoint, counters and dead letters together.
    /// A dead letter already stored was counted when it was stored, so it is not counted
    /// again.
    pub fn commit_batch(&self, batch: &BatchCommit<'_>) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let mut dead = 0u64;
        for letter in &batch.dead_letters {
            dead += tx.execute(
                "INSERT OR IGNORE INTO dead_letters (job_id, collection, id, code, reason, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![batch.job, letter.collection, letter.id, letter.code, letter.reason, letter.document],
            )? as u64;
        }
        tx.execute(
            "UPDATE collections SET written = written + ?3, already_present = already_present + ?4, dead_lettered = dead_lettered + ?5
             WHERE job_id = ?1 AND name = ?2",
            params![batch.job, batch.collection, batch.written as i64, batch.already_present as i64, dead as i64],
        )?;
        tx.execute(
            "UPDATE ranges SET checkpoint = ?4 WHERE job_id = ?1 AND collection = ?2 AND idx = ?3",
            params![batch.job, batch.collection, batch.range as i64, batch.checkpoint],
        )?;
        insert_copied(&tx, batch.job, batch.collection, &batch.copied)?;
        tx.execute("UPDATE jobs SET updated_at_ms = ?2 WHERE id = ?1", params![batch.job, now_ms()])?;
        tx.commit()?;
        Ok(())
    }

    pub fn finish_range(&self, job: &str, collection: &str, range: u32) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE ranges SET done = 1 WHERE job_id = ?1 AND collection = ?2 AND idx = ?3",
            params![job, collection, range as i64],
        )?;
        Ok(())
    }

    /// Keeps a collection's verification report (replacing an earlier one), and puts its
    /// verdict on the job's timeline.
    pub fn save_verification(&self, job: &str, collection: &str, report: &crate::wire::Verification) -> Result<(), StoreError> {
        let text = serde_json::to_string(report).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let verdict = format!("{collection}: {} of {} documents match", crate::wire::thousands(report.matching), crate::wire::thousands(report.checked));
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO verifications (job_id, collection, report) VALUES (?1, ?2, ?3)",
            params![job, collection, text],
        )?;
        let kind = if report.passed() { "verified" } else { "verification_failed" };
        history::add(&tx, job, now_ms(), kind, Some(&verdict), None)?;
        tx.commit()?;
        Ok(())
    }

    pub fn verifications(&self, job: &str) -> Result<Vec<(String, crate::wire::Verification)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT collection, report FROM verifications WHERE job_id = ?1")?;
        let rows = stmt.query_map(params![job], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (collection, text) = row?;
            let report = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((collection, report))
        })
        .collect()
    }

    /// The ids of a collection's dead letters (without their documents).
    pub fn dead_letter_ids(&self, job: &str, collection: &str) -> Result<HashSet<String>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT id FROM dead_letters WHERE job_id = ?1 AND collection = ?2")?;
        let rows = stmt.query_map(params![job, collection], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The job's dead letters in the order they were refused, the first `limit` of them or all.
    pub fn dead_letters(&self, job: &str, limit: Option<usize>) -> Result<Vec<DeadLetter>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT collection, id, code, reason, document FROM dead_letters WHERE job_id = ?1 ORDER BY rowid LIMIT ?2",
        )?;
        // SQLite reads a negative LIMIT as none.
        let limit = limit.and_then(|n| i64::try_from(n).ok()).unwrap_or(-1);
        let rows = stmt.query_map(params![job, limit], |r| {
            Ok(DeadLetter { collection: r.get(0)?, id: r.get(1)?, code: r.get(2)?, reason: r.get(3)?, document: r.get(4)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Leaves a request for the process that runs the job; a newer one replaces it.
    pub fn request(&self, job: &str, request: ControlRequest, who: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO requests (job_id, action, who, at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![job, request.as_str(), who, now_ms()],
        )?;
        Ok(())
    }

    /// Takes (and removes) the request left for the job, if there is one.
    pub fn take_request(&self, job: &str) -> Result<Option<PendingRequest>, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let row: Option<(String, String, i64)> = tx
            .query_row("SELECT action, who, at_ms FROM requests WHERE job_id = ?1", params![job], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((action, who, at_ms)) = row else { return Ok(None) };
        tx.execute("DELETE FROM requests WHERE job_id = ?1", params![job])?;
        tx.commit()?;
        Ok(Some(PendingRequest { request: ControlRequest::parse(&action)?, who, at_ms }))
    }

    pub fn dead_letter_count(&self, job: &str) -> Result<u64, StoreError> {
        let conn = self.lock();
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM dead_letters WHERE job_id = ?1", params![job], |r| r.get(0))?;
        Ok(count.unsigned_abs())
    }
}

/// Records copied documents inside a batch's transaction.
fn insert_copied(tx: &Transaction<'_>, job: &str, collection: &str, copied: &[CopiedDocument]) -> Result<(), StoreError> {
    if copied.is_empty() {
        return Ok(());
    }
    let mut statement =
        tx.prepare_cached("INSERT OR REPLACE INTO copied (job_id, collection, id_key, id_json, hash) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for document in copied {
        statement.execute(params![job, collection, document.key, document.id_json, &document.hash.0[..]])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
