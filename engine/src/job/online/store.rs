//! An online job's durable state, in tables of its own in the job database:
//! `online_jobs` (the phase and the cutover: who, when, the barrier) and `online_streams`
//! (per collection the resume point, the changes applied by kind, and the live lag, changes
//! waiting and rate, so that every process reading the state directory shows them).
//!
//! The resume point, the counters and the dead letters of the changes before it move in one
//! transaction: after a crash the counters describe exactly the changes before the stored
//! point, and replaying from it counts every change once.

use crate::job::store::{now_ms, DeadLetter, JobStore, StoreError};
use crate::{
    source::changes::{ClusterTime, StreamPoint},
    wire::{ChangeCounters, Cutover, JobStatus, OnlinePhase, OnlineProgress},
};
use bson::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS online_jobs (
    job_id TEXT PRIMARY KEY,
    phase TEXT NOT NULL,
    cutover_by TEXT,
    cutover_at_ms INTEGER,
    barrier_s INTEGER,
    barrier_i INTEGER,
    barrier_ms INTEGER,
    after_barrier INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS online_streams (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    token BLOB,
    time_s INTEGER NOT NULL,
    time_i INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    inserts INTEGER NOT NULL DEFAULT 0,
    updates INTEGER NOT NULL DEFAULT 0,
    replaces INTEGER NOT NULL DEFAULT 0,
    deletes INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    lag_ms INTEGER,
    waiting INTEGER NOT NULL DEFAULT 0,
    rate REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, collection)
);
";

/// The cutover someone asked for, with the barrier docshift took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CutoverRequest {
    pub by: String,
    pub at_ms: i64,
    pub barrier: ClusterTime,
}

impl CutoverRequest {
    pub fn view(&self) -> Cutover {
        Cutover { by: self.by.clone(), at_ms: self.at_ms, barrier_ms: self.barrier.wall_ms, barrier: self.barrier.to_string() }
    }
}

/// What one commit of a collection's sync changes (see [`OnlineStore::commit`]).
#[derive(Debug, Default)]
pub(crate) struct SyncCommit {
    /// The new resume point: every change before it is applied (or set aside).
    pub point: Option<StreamPoint>,
    /// Changes accounted for since the last commit.
    pub applied: ChangeCounters,
    pub dead_letters: Vec<DeadLetter>,
    /// Live figures: seconds behind in ms (`None` while not following), changes waiting,
    /// changes applied per second.
    pub lag_ms: Option<i64>,
    pub waiting: u64,
    pub rate: f64,
}

/// The online tables of a job store.
#[derive(Clone)]
pub(crate) struct OnlineStore {
    store: JobStore,
}

fn phase(text: &str) -> Result<OnlinePhase, StoreError> {
    OnlinePhase::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown online phase {text:?}")))
}

fn time_of(seconds: i64, increment: i64, wall_ms: i64) -> ClusterTime {
    ClusterTime::new(Timestamp { time: seconds as u32, increment: increment as u32 }, Some(wall_ms))
}

impl OnlineStore {
    /// The online tables of `store`, created if needed.
    pub fn open(store: &JobStore) -> Result<Self, StoreError> {
        store.connection().execute_batch(SCHEMA)?;
        Ok(Self { store: store.clone() })
    }

    /// The online tables of `store`, which an online job's creation made: for reading its
    /// progress without touching the schema.
    pub fn attach(store: &JobStore) -> Self {
        Self { store: store.clone() }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.store.connection()
    }

    /// Records a new online job's anchors (one per collection), phase `copying`: done before
    /// the copy reads its first document.
    pub fn create(&self, job: &str, anchors: &[(String, StreamPoint)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("INSERT INTO online_jobs (job_id, phase) VALUES (?1, 'copying')", params![job])?;
        for (collection, point) in anchors {
            tx.execute(
                "INSERT INTO online_streams (job_id, collection, token, time_s, time_i, wall_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![job, collection, point.token, point.time.seconds, point.time.increment, point.time.wall_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes a job's online rows.
    pub fn delete(&self, job: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM online_streams WHERE job_id = ?1", params![job])?;
        tx.execute("DELETE FROM online_jobs WHERE job_id = ?1", params![job])?;
        tx.commit()?;
        Ok(())
    }

    pub fn phase(&self, job: &str) -> Result<OnlinePhase, StoreError> {
        let text: Option<String> =
            self.conn().query_row("SELECT phase FROM online_jobs WHERE job_id = ?1", params![job], |r| r.get(0)).optional()?;
        phase(&text.ok_or_else(|| StoreError::Corrupt(format!("job {job} is online but has no sync state")))?)
    }

    pub fn set_phase(&self, job: &str, to: OnlinePhase) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute("UPDATE online_jobs SET phase = ?2 WHERE job_id = ?1", params![job, to.as_str()])?;
        conn.execute("UPDATE jobs SET updated_at_ms = ?2 WHERE id = ?1", params![job, now_ms()])?;
        Ok(())
    }

    /// The cutover asked for, if any.
    pub fn cutover(&self, job: &str) -> Result<Option<CutoverRequest>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT cutover_by, cutover_at_ms, barrier_s, barrier_i, barrier_ms FROM online_jobs
                 WHERE job_id = ?1 AND cutover_by IS NOT NULL",
                params![job],
                |r| {
                    Ok(CutoverRequest {
                        by: r.get(0)?,
                        at_ms: r.get(1)?,
                        barrier: time_of(r.get(2)?, r.get(3)?, r.get(4)?),
                    })
                },
            )
            .optional()?;
        Ok(row)
    }

    /// Records a cutover; `false` when one was already asked for (the first stands).
    pub fn request_cutover(&self, job: &str, request: &CutoverRequest) -> Result<bool, StoreError> {
        let conn = self.conn();
        let changed = conn.execute(
            "UPDATE online_jobs SET cutover_by = ?2, cutover_at_ms = ?3, barrier_s = ?4, barrier_i = ?5, barrier_ms = ?6,
                 phase = CASE phase WHEN 'following' THEN 'cutting_over' ELSE phase END
             WHERE job_id = ?1 AND cutover_by IS NULL",
            params![job, request.by, request.at_ms, request.barrier.seconds, request.barrier.increment, request.barrier.wall_ms],
        )?;
        conn.execute("UPDATE jobs SET updated_at_ms = ?2 WHERE id = ?1", params![job, now_ms()])?;
        Ok(changed == 1)
    }

    pub fn set_after_barrier(&self, job: &str, changes: u64) -> Result<(), StoreError> {
        self.conn().execute("UPDATE online_jobs SET after_barrier = ?2 WHERE job_id = ?1", params![job, changes as i64])?;
        Ok(())
    }

    /// Where a collection's sync resumes.
    pub fn stream_point(&self, job: &str, collection: &str) -> Result<StreamPoint, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT token, time_s, time_i, wall_ms FROM online_streams WHERE job_id = ?1 AND collection = ?2",
                params![job, collection],
                |r| Ok((r.get::<_, Option<Vec<u8>>>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)),
            )
            .optional()?;
        let (token, s, i, wall) = row.ok_or_else(|| StoreError::Corrupt(format!("job {job} has no resume point for {collection}")))?;
        Ok(StreamPoint { token, time: time_of(s, i, wall) })
    }

    /// Moves a collection's resume point, counters and dead letters together, with its live
    /// figures. A change's dead letter replaces an earlier one of the same document.
    pub fn commit(&self, job: &str, collection: &str, commit: &SyncCommit) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for letter in &commit.dead_letters {
            tx.execute(
                "INSERT OR REPLACE INTO dead_letters (job_id, collection, id, code, reason, document) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![job, letter.collection, letter.id, letter.code, letter.reason, letter.document],
            )?;
        }
        if let Some(point) = &commit.point {
            tx.execute(
                "UPDATE online_streams SET token = ?3, time_s = ?4, time_i = ?5, wall_ms = ?6 WHERE job_id = ?1 AND collection = ?2",
                params![job, collection, point.token, point.time.seconds, point.time.increment, point.time.wall_ms],
            )?;
        }
        let a = &commit.applied;
        tx.execute(
            "UPDATE online_streams SET inserts = inserts + ?3, updates = updates + ?4, replaces = replaces + ?5, deletes = deletes + ?6,
                 skipped = skipped + ?7, dead_lettered = dead_lettered + ?8, lag_ms = ?9, waiting = ?10, rate = ?11
             WHERE job_id = ?1 AND collection = ?2",
            params![
                job,
                collection,
                a.inserts as i64,
                a.updates as i64,
                a.replaces as i64,
                a.deletes as i64,
                a.skipped as i64,
                a.dead_lettered as i64,
                commit.lag_ms,
                commit.waiting as i64,
                commit.rate
            ],
        )?;
        tx.execute("UPDATE jobs SET updated_at_ms = ?2 WHERE id = ?1", params![job, now_ms()])?;
        tx.commit()?;
        Ok(())
    }

    /// After the copy of an online job: what the copy read is what it had to account for
    /// (the source changed meanwhile, so the count taken at creation was a snapshot).
    pub fn settle_copy_counts(&self, job: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE collections SET matched = written + already_present + dead_lettered, counted = 1 WHERE job_id = ?1",
            params![job],
        )?;
        Ok(())
    }

    /// The job's sync as progress reports show it; the live figures only while it runs.
    pub fn progress(&self, job: &str, status: JobStatus) -> Result<Option<OnlineProgress>, StoreError> {
        let conn = self.conn();
        let head: Option<(String, u64)> = conn
            .query_row("SELECT phase, after_barrier FROM online_jobs WHERE job_id = ?1", params![job], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })
            .optional()?;
        let Some((phase_text, after_barrier)) = head else { return Ok(None) };
        let mut statement = conn.prepare_cached(
            "SELECT inserts, updates, replaces, deletes, skipped, dead_lettered, lag_ms, waiting, rate FROM online_streams WHERE job_id = ?1",
        )?;
        let rows = statement.query_map(params![job], |r| {
            let counters = ChangeCounters {
                inserts: r.get::<_, i64>(0)? as u64,
                updates: r.get::<_, i64>(1)? as u64,
                replaces: r.get::<_, i64>(2)? as u64,
                deletes: r.get::<_, i64>(3)? as u64,
                skipped: r.get::<_, i64>(4)? as u64,
                dead_lettered: r.get::<_, i64>(5)? as u64,
            };
            Ok((counters, r.get::<_, Option<i64>>(6)?, r.get::<_, i64>(7)? as u64, r.get::<_, f64>(8)?))
        })?;
        let mut applied = ChangeCounters::default();
        let (mut lag_ms, mut waiting, mut rate) = (None::<i64>, 0u64, 0.0f64);
        for row in rows {
            let (counters, lag, wait, per_second) = row?;
            applied = applied.plus(&counters);
            lag_ms = match (lag_ms, lag) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            waiting += wait;
            rate += per_second;
        }
        drop(statement);
        drop(conn);
        let phase = phase(&phase_text)?;
        let live = matches!(status, JobStatus::Running | JobStatus::Verifying | JobStatus::Pending)
            && matches!(phase, OnlinePhase::Following | OnlinePhase::CuttingOver | OnlinePhase::Verifying);
        Ok(Some(OnlineProgress {
            phase,
            lag_seconds: if live { lag_ms.map(|ms| ms as f64 / 1_000.0) } else { None },
            waiting: if live { waiting } else { 0 },
            rate: if live { rate } else { 0.0 },
            applied,
            cutover: self.cutover(job)?.map(|c| c.view()),
            after_barrier,
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn point(seconds: u32, token: &[u8]) -> StreamPoint {
        StreamPoint { token: Some(token.to_vec()), time: ClusterTime::new(Timestamp { time: seconds, increment: 1 }, None) }
    }

    #[test]
    fn a_deleted_online_job_leaves_no_phase_or_resume_point_behind() {
        let store = JobStore::in_memory().unwrap();
        let online = OnlineStore::open(&store).unwrap();
        for job in ["j1", "j2"] {
            store.create_job(job, "{}", &[("orders".into(), Some(3))]).unwrap();
            online.create(job, &[("orders".into(), point(100, b"anchor"))]).unwrap();
        }
        store.delete_job("j1").unwrap();
        online.delete("j1").unwrap();
        let rows = |table: &str, job: &str| -> i64 {
            store.connection().query_row(&format!("SELECT COUNT(*) FROM {table} WHERE job_id = ?1"), params![job], |r| r.get(0)).unwrap()
        };
        assert_eq!((rows("online_jobs", "j1"), rows("online_streams", "j1")), (0, 0));
        assert_eq!((rows("online_jobs", "j2"), rows("online_streams", "j2")), (1, 1), "another job keeps its rows");
        assert_eq!(online.stream_point("j2", "orders").unwrap(), point(100, b"anchor"));
    }

    #[test]
    fn the_resume_point_counters_and_dead_letters_move_together() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[("orders".into(), Some(3))]).unwrap();
        let online = OnlineStore::open(&store).unwrap();
        online.create("j1", &[("orders".into(), point(100, b"anchor"))]).unwrap();
        assert_eq!(online.phase("j1").unwrap(), OnlinePhase::Copying);
        assert_eq!(online.stream_point("j1", "orders").unwrap(), point(100, b"anchor"));

        let letter = DeadLetter { collection: "orders".into(), id: "7".into(), code: "C".into(), reason: "r".into(), document: "{}".into() };
        let commit = SyncCommit {
            point: Some(point(105, b"later")),
            applied: ChangeCounters { inserts: 2, deletes: 1, dead_lettered: 1, ..Default::default() },
            dead_letters: vec![letter.clone()],
            lag_ms: Some(1_500),
            waiting: 4,
            rate: 12.0,
        };
        online.commit("j1", "orders", &commit).unwrap();
        online.commit("j1", "orders", &SyncCommit { dead_letters: vec![letter], ..Default::default() }).unwrap();
        assert_eq!(online.stream_point("j1", "orders").unwrap(), point(105, b"later"));
        assert_eq!(store.dead_letter_count("j1").unwrap(), 1, "a document's later dead letter replaces its earlier one");

        online.set_phase("j1", OnlinePhase::Following).unwrap();
        let running = online.progress("j1", JobStatus::Running).unwrap().unwrap();
        assert_eq!(running.applied, ChangeCounters { inserts: 2, deletes: 1, dead_lettered: 1, ..Default::default() });
        assert_eq!((running.lag_seconds, running.waiting), (None, 0), "the second commit said not following");
        let paused = online.progress("j1", JobStatus::Paused).unwrap().unwrap();
        assert_eq!(paused.rate, 0.0);
    }

    #[test]
    fn the_first_cutover_stands() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[]).unwrap();
        let online = OnlineStore::open(&store).unwrap();
        online.create("j1", &[]).unwrap();
        online.set_phase("j1", OnlinePhase::Following).unwrap();
        let first = CutoverRequest { by: "Ada".into(), at_ms: 1, barrier: ClusterTime::new(Timestamp { time: 9, increment: 2 }, Some(9_500)) };
        assert!(online.request_cutover("j1", &first).unwrap());
        assert!(!online.request_cutover("j1", &CutoverRequest { by: "Grace".into(), ..first.clone() }).unwrap());
        assert_eq!(online.cutover("j1").unwrap(), Some(first));
        assert_eq!(online.phase("j1").unwrap(), OnlinePhase::CuttingOver);
    }
}
