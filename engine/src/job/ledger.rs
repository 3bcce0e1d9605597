//! What a copy records beside its counters and checkpoints, in the same state database: each
//! collection's read plan (its checkpoints mean something only under it), the `_id` and
//! content hash of every document it wrote or found present (so that verification compares
//! the target with the source's converted content without reading the source again), and how
//! the target throttled the job (for reports after the process has gone).
//!
//! Copied documents are written in the batch's own transaction ([`JobStore::commit_batch`]),
//! so after a crash they describe exactly the documents before each checkpoint. The tables
//! are created with the others ([`super::store`]); this module reads and changes them.

use super::store::{CopiedDocument, JobStore, RangeBounds, StoreError};
use crate::{
    convert::ContentHash,
    wire::{ReadPlan, Throttle},
};
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

impl JobStore {
    /// The read plan recorded for a collection, if its copy has started.
    pub fn read_plan(&self, job: &str, collection: &str) -> Result<Option<ReadPlan>, StoreError> {
        let text: Option<String> = self
            .lock()
            .query_row("SELECT plan FROM read_plans WHERE job_id = ?1 AND collection = ?2", params![job, collection], |r| r.get(0))
            .optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("unreadable read plan: {e}")))).transpose()
    }

    /// The read plans of all the job's collections, by collection (one query, for progress).
    pub fn read_plans(&self, job: &str) -> Result<HashMap<String, ReadPlan>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached("SELECT collection, plan FROM read_plans WHERE job_id = ?1")?;
        let rows = stmt.query_map(params![job], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|row| {
            let (collection, text) = row?;
            let plan = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("unreadable read plan: {e}")))?;
            Ok((collection, plan))
        })
        .collect()
    }

    /// Records (or replaces) a collection's read plan.
    pub fn save_read_plan(&self, job: &str, collection: &str, plan: &ReadPlan) -> Result<(), StoreError> {
        let text = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.lock().execute("INSERT OR REPLACE INTO read_plans (job_id, collection, plan) VALUES (?1, ?2, ?3)", params![job, collection, text])?;
        Ok(())
    }

    /// Splits range `index` at `at` (BSON `{v: id}`): it ends there, and a new range from
    /// `at` to its old upper bound is added, with the plan that now describes the ranges.
    /// Returns the new range's index.
    pub fn split_range(&self, job: &str, collection: &str, index: u32, at: &[u8], plan: &ReadPlan) -> Result<u32, StoreError> {
        let text = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let upper: Option<Vec<u8>> = tx.query_row(
            "SELECT upper FROM ranges WHERE job_id = ?1 AND collection = ?2 AND idx = ?3",
            params![job, collection, index as i64],
            |r| r.get(0),
        )?;
        let next: i64 = tx.query_row(
            "SELECT COALESCE(MAX(idx), -1) + 1 FROM ranges WHERE job_id = ?1 AND collection = ?2",
            params![job, collection],
            |r| r.get(0),
        )?;
        tx.execute("UPDATE ranges SET upper = ?4 WHERE job_id = ?1 AND collection = ?2 AND idx = ?3", params![job, collection, index as i64, at])?;
        tx.execute(
            "INSERT INTO ranges (job_id, collection, idx, lower, upper) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![job, collection, next, at, upper],
        )?;
        tx.execute("INSERT OR REPLACE INTO read_plans (job_id, collection, plan) VALUES (?1, ?2, ?3)", params![job, collection, text])?;
        tx.commit()?;
        Ok(next as u32)
    }

    /// Starts a collection's copy over under another plan: its ranges, counters, dead letters
    /// and copied documents are forgotten, the new ranges and plan recorded. What the earlier
    /// copy wrote is still in the target and will count as already present.
    pub fn restart_collection(&self, job: &str, collection: &str, ranges: &[RangeBounds], plan: &ReadPlan) -> Result<(), StoreError> {
        let text = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        for table in ["ranges", "dead_letters", "copied"] {
            tx.execute(&format!("DELETE FROM {table} WHERE job_id = ?1 AND collection = ?2"), params![job, collection])?;
        }
        tx.execute(
            "UPDATE collections SET written = 0, already_present = 0, dead_lettered = 0 WHERE job_id = ?1 AND name = ?2",
            params![job, collection],
        )?;
        for (index, (lower, upper)) in ranges.iter().enumerate() {
            tx.execute(
                "INSERT INTO ranges (job_id, collection, idx, lower, upper) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![job, collection, index as i64, lower, upper],
            )?;
        }
        tx.execute("INSERT OR REPLACE INTO read_plans (job_id, collection, plan) VALUES (?1, ?2, ?3)", params![job, collection, text])?;
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` copied documents of a collection whose keys come after `after`, in key
    /// order: verification pages through them with bounded memory.
    pub fn copied_page(&self, job: &str, collection: &str, after: Option<&str>, limit: usize) -> Result<Vec<CopiedDocument>, StoreError> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(
            "SELECT id_key, id_json, hash FROM copied WHERE job_id = ?1 AND collection = ?2 AND (?3 IS NULL OR id_key > ?3)
             ORDER BY id_key LIMIT ?4",
        )?;
        let rows = statement.query_map(params![job, collection, after, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
        })?;
        rows.map(|row| {
            let (key, id_json, bytes) = row?;
            let hash = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| StoreError::Corrupt(format!("the hash of {key} is not 32 bytes")))?;
            Ok(CopiedDocument { key, id_json, hash: ContentHash(hash) })
        })
        .collect()
    }

    /// How many documents of a collection the copy recorded for verification.
    pub fn copied_count(&self, job: &str, collection: &str) -> Result<u64, StoreError> {
        let count: i64 =
            self.lock().query_row("SELECT COUNT(*) FROM copied WHERE job_id = ?1 AND collection = ?2", params![job, collection], |r| r.get(0))?;
        Ok(count.unsigned_abs())
    }

    /// Records how the target has been throttling the job.
    pub fn save_throttle(&self, job: &str, throttle: &Throttle) -> Result<(), StoreError> {
        let text = serde_json::to_string(throttle).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.lock().execute("INSERT OR REPLACE INTO throttles (job_id, throttle) VALUES (?1, ?2)", params![job, text])?;
        Ok(())
    }

    /// The last throttling recorded for the job.
    pub fn throttle(&self, job: &str) -> Result<Option<Throttle>, StoreError> {
        let text: Option<String> =
            self.lock().query_row("SELECT throttle FROM throttles WHERE job_id = ?1", params![job], |r| r.get(0)).optional()?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("unreadable throttling record: {e}")))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        job::store::BatchCommit,
        wire::{ReadPlanKind, Counters},
    };

    fn plan(ranges: u32) -> ReadPlan {
        ReadPlan { kind: ReadPlanKind::ParallelRanges, ranges, reason: "measured".into(), changes: vec![] }
    }

    fn copied(key: &str) -> CopiedDocument {
        CopiedDocument { key: key.into(), id_json: format!("\"{key}\""), hash: ContentHash([key.len() as u8; 32]) }
    }

    #[test]
    fn copied_documents_commit_with_their_batch_and_page_in_key_order() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[("c".into(), Some(4))]).unwrap();
        store.ensure_ranges("j1", "c", &[(None, None)]).unwrap();
        let batch = BatchCommit { job: "j1", collection: "c", checkpoint: vec![1], written: 3, copied: vec![copied("b"), copied("a"), copied("cc")], ..Default::default() };
        store.commit_batch(&batch).unwrap();
        // A batch committed again after a crash replaces its rows.
        store.commit_batch(&BatchCommit { job: "j1", collection: "c", checkpoint: vec![2], copied: vec![copied("a")], ..Default::default() }).unwrap();
        assert_eq!(store.copied_count("j1", "c").unwrap(), 3);
        let first = store.copied_page("j1", "c", None, 2).unwrap();
        assert_eq!(first.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let rest = store.copied_page("j1", "c", Some("b"), 2).unwrap();
        assert_eq!(rest, [copied("cc")]);
    }

    #[test]
    fn a_deleted_job_leaves_no_plan_copied_documents_or_throttling_behind() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[("c".into(), Some(1))]).unwrap();
        store.ensure_ranges("j1", "c", &[(None, None)]).unwrap();
        store.save_read_plan("j1", "c", &plan(1)).unwrap();
        store.save_throttle("j1", &Throttle::default()).unwrap();
        store.commit_batch(&BatchCommit { job: "j1", collection: "c", checkpoint: vec![1], written: 1, copied: vec![copied("a")], ..Default::default() }).unwrap();
        store.delete_job("j1").unwrap();
        assert_eq!(store.read_plan("j1", "c").unwrap(), None);
        assert_eq!(store.throttle("j1").unwrap(), None);
        assert_eq!(store.copied_count("j1", "c").unwrap(), 0);
    }

    #[test]
    fn a_split_range_ends_where_the_new_one_starts() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[("c".into(), Some(4))]).unwrap();
        store.ensure_ranges("j1", "c", &[(None, Some(vec![9]))]).unwrap();
        let new = store.split_range("j1", "c", 0, &[5], &plan(2)).unwrap();
        assert_eq!(new, 1);
        let ranges = store.ranges("j1", "c").unwrap();
        assert_eq!((ranges[0].lower.clone(), ranges[0].upper.clone()), (None, Some(vec![5])));
        assert_eq!((ranges[1].lower.clone(), ranges[1].upper.clone()), (Some(vec![5]), Some(vec![9])));
        assert_eq!(store.read_plan("j1", "c").unwrap(), Some(plan(2)));
        assert_eq!(store.read_plans("j1").unwrap().get("c"), Some(&plan(2)));
    }

    #[test]
    fn a_restarted_collection_counts_from_zero() {
        let store = JobStore::in_memory().unwrap();
        store.create_job("j1", "{}", &[("c".into(), Some(4))]).unwrap();
        store.ensure_ranges("j1", "c", &[(None, None)]).unwrap();
        store.commit_batch(&BatchCommit { job: "j1", collection: "c", checkpoint: vec![1], written: 2, copied: vec![copied("a")], ..Default::default() }).unwrap();
        store.restart_collection("j1", "c", &[(None, None)], &plan(1)).unwrap();
        assert_eq!(store.counters("j1").unwrap()[0].1, Counters { matched: Some(4), ..Counters::default() });
        assert_eq!(store.copied_count("j1", "c").unwrap(), 0);
        assert_eq!(store.ranges("j1", "c").unwrap()[0].checkpoint, None);
    }

    #[test]
    fn throttling_is_kept_per_job() {
        let store = JobStore::in_memory().unwrap();
        assert_eq!(store.throttle("j1").unwrap(), None);
        let throttle = Throttle { requests: 10, throttled: 1, ..Throttle::default() };
        store.save_throttle("j1", &throttle).unwrap();
        assert_eq!(store.throttle("j1").unwrap(), Some(throttle));
    }
}
