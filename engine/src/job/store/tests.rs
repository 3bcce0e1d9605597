//! The job store against an in-memory or temporary SQLite database.

use super::*;

fn letter(id: &str) -> DeadLetter {
    DeadLetter { collection: "events".into(), id: id.into(), code: "SHRED_BAD_FIELD_NAME".into(), reason: "r".into(), document: "{}".into() }
}

#[test]
fn a_collection_not_counted_has_no_total_until_counted_or_settled() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[("a".into(), None), ("b".into(), None)]).unwrap();
    let counters = |name: &str| store.counters("j1").unwrap().into_iter().find(|(n, _)| n == name).unwrap().1;
    assert_eq!(counters("a").matched, None);
    store.set_matched("j1", "a", 7).unwrap();
    assert_eq!(counters("a").matched, Some(7));
    store.set_matched("j1", "a", 9).unwrap();
    assert_eq!(counters("a").matched, Some(7), "the first count stands");
    store.ensure_ranges("j1", "b", &[(None, None)]).unwrap();
    let batch = BatchCommit { job: "j1", collection: "b", range: 0, checkpoint: vec![1], written: 3, already_present: 1, dead_letters: vec![letter("x")], copied: Vec::new() };
    store.commit_batch(&batch).unwrap();
    assert_eq!(counters("b").matched, None);
    store.settle_matched("j1", "b").unwrap();
    assert_eq!(counters("b"), Counters { matched: Some(5), written: 3, already_present: 1, dead_lettered: 1 });
    store.set_matched("j1", "b", 9).unwrap();
    assert_eq!(counters("b").matched, Some(5), "a late count does not undo the copy's");
}

#[test]
fn an_older_database_gains_the_counted_column_and_keeps_its_counts() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = Connection::open(dir.path().join("state.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE collections (job_id TEXT NOT NULL, name TEXT NOT NULL, matched INTEGER NOT NULL DEFAULT 0,
             written INTEGER NOT NULL DEFAULT 0, already_present INTEGER NOT NULL DEFAULT 0,
             dead_lettered INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, name));
             INSERT INTO collections (job_id, name, matched) VALUES ('j1', 'a', 12);",
        )
        .unwrap();
    }
    let store = JobStore::open(dir.path()).unwrap();
    assert_eq!(store.counters("j1").unwrap()[0].1.matched, Some(12));
}

#[test]
fn a_batch_moves_checkpoint_counters_and_dead_letters_together() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[("events".into(), Some(10))]).unwrap();
    store.ensure_ranges("j1", "events", &[(None, Some(vec![1])), (Some(vec![1]), None)]).unwrap();
    store
        .commit_batch(&BatchCommit {
            job: "j1",
            collection: "events",
            range: 1,
            checkpoint: vec![7],
            written: 4,
            already_present: 1,
            dead_letters: vec![letter("a")],
            copied: Vec::new(),
        })
        .unwrap();
    let counters = store.counters("j1").unwrap();
    assert_eq!(counters[0].1, Counters { matched: Some(10), written: 4, already_present: 1, dead_lettered: 1 });
    let ranges = store.ranges("j1", "events").unwrap();
    assert_eq!(ranges[1].checkpoint, Some(vec![7]));
    assert_eq!(ranges[0].checkpoint, None);
    assert_eq!(store.dead_letters("j1", None).unwrap().len(), 1);
    assert_eq!(store.dead_letter_count("j1").unwrap(), 1);
}

#[test]
fn a_dead_letter_stored_twice_counts_once() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[("events".into(), Some(2))]).unwrap();
    store.ensure_ranges("j1", "events", &[(None, None)]).unwrap();
    for _ in 0..2 {
        let batch = BatchCommit { job: "j1", collection: "events", range: 0, checkpoint: vec![1], dead_letters: vec![letter("a")], ..Default::default() };
        store.commit_batch(&batch).unwrap();
    }
    let counters = store.counters("j1").unwrap()[0].1;
    assert_eq!((counters.dead_lettered, counters.already_present), (1, 0));
}

#[test]
fn ranges_are_recorded_once_and_jobs_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = JobStore::open(dir.path()).unwrap();
        store.create_job("j1", "{\"x\":1}", &[("c".into(), Some(5))]).unwrap();
        store.ensure_ranges("j1", "c", &[(None, None)]).unwrap();
        store.set_status("j1", JobStatus::Running, None).unwrap();
    }
    let store = JobStore::open(dir.path()).unwrap();
    store.ensure_ranges("j1", "c", &[(None, Some(vec![1])), (Some(vec![1]), None)]).unwrap();
    assert_eq!(store.ranges("j1", "c").unwrap().len(), 1);
    let unfinished = store.unfinished().unwrap();
    assert_eq!(unfinished.len(), 1);
    assert_eq!(unfinished[0].spec, "{\"x\":1}");
    assert!(matches!(store.set_status("nope", JobStatus::Paused, None), Err(StoreError::NoSuchJob(_))));
}

#[test]
fn the_timeline_says_what_happened_and_who_did_it() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[("events".into(), Some(2))]).unwrap();
    store.set_creator("j1", "Ada").unwrap();
    store.set_status("j1", JobStatus::Running, None).unwrap();
    store.set_status("j1", JobStatus::Running, None).unwrap();
    store.set_status_by("j1", JobStatus::Paused, Some("Paused by Grace."), Act { kind: "paused", who: "Grace" }).unwrap();
    store.set_status_by("j1", JobStatus::Running, Some("Resumed by Ada."), Act { kind: "resumed", who: "Ada" }).unwrap();
    store.set_status_keeping_message("j1", JobStatus::Verifying).unwrap();
    assert_eq!(store.job("j1").unwrap().message.as_deref(), Some("Resumed by Ada."), "verifying keeps the message");
    let report = crate::wire::Verification { checked: 2, matching: 2, missing: vec![], different: vec![], recall: None };
    store.save_verification("j1", "events", &report).unwrap();
    store.set_status("j1", JobStatus::Complete, None).unwrap();
    let timeline = store.timeline("j1").unwrap();
    let kinds: Vec<(&str, Option<&str>)> = timeline.iter().map(|e| (e.kind.as_str(), e.who.as_deref())).collect();
    assert_eq!(
        kinds,
        [
            ("created", Some("Ada")),
            ("running", None),
            ("paused", Some("Grace")),
            ("resumed", Some("Ada")),
            ("verifying", None),
            ("verified", None),
            ("complete", None)
        ]
    );
    assert_eq!(timeline[5].detail.as_deref(), Some("events: 2 of 2 documents match"));
    let job = store.job("j1").unwrap();
    assert!(job.started_at_ms.is_some() && job.finished_at_ms.is_some());
}

#[test]
fn a_failure_keeps_its_reason_on_the_timeline() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[]).unwrap();
    store.set_status("j1", JobStatus::Running, None).unwrap();
    store.set_status("j1", JobStatus::Failed, Some("the target went away")).unwrap();
    let last = store.timeline("j1").unwrap().pop().unwrap();
    assert_eq!((last.kind.as_str(), last.detail.as_deref()), ("failed", Some("the target went away")));
}

#[test]
fn a_deleted_job_leaves_nothing_behind() {
    let store = JobStore::in_memory().unwrap();
    store.create_job("j1", "{}", &[("events".into(), Some(1))]).unwrap();
    store.create_job("j2", "{}", &[("events".into(), Some(1))]).unwrap();
    store.ensure_ranges("j1", "events", &[(None, None)]).unwrap();
    let batch = BatchCommit { job: "j1", collection: "events", range: 0, checkpoint: vec![1], dead_letters: vec![letter("a")], ..Default::default() };
    store.commit_batch(&batch).unwrap();
    store.delete_job("j1").unwrap();
    assert!(matches!(store.job("j1"), Err(StoreError::NoSuchJob(_))));
    assert!(matches!(store.delete_job("j1"), Err(StoreError::NoSuchJob(_))));
    assert!(store.dead_letters("j1", None).unwrap().is_empty());
    assert!(store.ranges("j1", "events").unwrap().is_empty());
    assert_eq!(store.jobs().unwrap().len(), 1);
}

#[test]
fn a_database_from_before_timelines_opens_with_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    {
        // The schema and a row as the first release wrote them.
        let conn = Connection::open(dir.path().join("state.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL,
                 created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, message TEXT);
             INSERT INTO jobs VALUES ('old', '{}', 'complete', 1000, 5000, NULL);",
        )
        .unwrap();
    }
    let store = JobStore::open(dir.path()).unwrap();
    let job = store.job("old").unwrap();
    assert_eq!((job.status, job.started_at_ms, job.running_ms), (JobStatus::Complete, None, 0));
    let timeline = store.timeline("old").unwrap();
    assert_eq!((timeline.len(), timeline[0].kind.as_str(), timeline[0].at_ms), (1, "created", 1000));
    drop(store);
    // Opening it again finds every column there.
    assert_eq!(JobStore::open(dir.path()).unwrap().jobs().unwrap().len(), 1);
}

#[test]
fn a_request_is_taken_once_and_a_newer_one_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let (asking, running) = (JobStore::open(dir.path()).unwrap(), JobStore::open(dir.path()).unwrap());
    assert_eq!(running.take_request("j1").unwrap(), None);
    asking.request("j1", ControlRequest::Pause, "Ada").unwrap();
    asking.request("j1", ControlRequest::Cancel, "Grace").unwrap();
    let taken = running.take_request("j1").unwrap().unwrap();
    assert_eq!((taken.request, taken.who.as_str()), (ControlRequest::Cancel, "Grace"));
    assert_eq!(running.take_request("j1").unwrap(), None);
}
