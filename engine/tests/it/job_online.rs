//! Online jobs end to end against SecantusDB and astra-local (issue 13): a writer inserts,
//! updates (`$set`, `$inc`, `$push`, `$unset`), replaces and deletes at a steady rate during
//! the copy and after it; after the cutover the target equals the source exactly, read back
//! from both. The same with astra-local's faults on during the sync. And what goes wrong: a
//! source that is not a replica set, a resume point the oplog no longer holds (by token, and
//! by time, which SecantusDB would quietly move to its oldest entry), a dropped collection,
//! documents Astra refuses.

use astra_local::testing::TestAstra;
use bson::{doc, Document};
use engine::{
    job::{target_name, CollectionSpec, JobManager, JobMode, JobSpec, TargetSpec},
    source::{
        changes::{anchor, ChangeError, ChangeFeed, StreamPoint},
        mongo::SourceUri,
    },
    testing::{
        changes::{assert_same, SourceWriter},
        MongoOptions, MongoServer,
    },
    wire::{JobProgress, JobStatus, OnlinePhase},
};
use std::time::{Duration, Instant};

const TOKEN: &str = "AstraCS:online-test-token";

fn online_spec(server: &MongoServer, endpoint: &str, collections: &[&str]) -> JobSpec {
    let collections = collections
        .iter()
        .map(|name| CollectionSpec { source: (*name).into(), target: target_name(name), filter: None, indexing: Default::default(), vector: None })
        .collect();
    let target = TargetSpec::DataApi { endpoint: endpoint.into(), keyspace: "default_keyspace".into(), token: TOKEN.into() };
    JobSpec { mode: JobMode::Online, in_flight: 8, ..JobSpec::new(server.uri(), "shop".into(), collections, target) }
}

/// Polls the job until `ready` holds (or fails the test after two minutes); the last progress.
async fn wait_for(jobs: &JobManager, id: &str, what: &str, ready: impl Fn(&JobProgress) -> bool) -> JobProgress {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let progress = jobs.progress(id).unwrap();
        if ready(&progress) {
            return progress;
        }
        assert!(
            Instant::now() < deadline && !progress.status.is_final(),
            "job {id} never got {what}: {:?} {:?} {:?}",
            progress.status,
            progress.message,
            progress.online
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn phase(progress: &JobProgress) -> Option<OnlinePhase> {
    progress.online.as_ref().map(|o| o.phase)
}

fn caught_up(progress: &JobProgress) -> bool {
    progress.online.as_ref().is_some_and(|o| o.lag_seconds == Some(0.0) && o.waiting == 0)
}

/// Cuts over and waits for the end; the job must be complete and verified, with no change
/// after the barrier.
async fn cut_over(jobs: &JobManager, id: &str) -> JobProgress {
    jobs.cutover(id, "Ada").await.unwrap();
    let done = tokio::time::timeout(Duration::from_secs(180), jobs.settled(id)).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let message = done.message.clone().unwrap_or_default();
    assert!(message.starts_with("Cut over by Ada at ") && message.contains("the target equals the source as of"), "{message}");
    let online = done.online.clone().unwrap();
    assert_eq!((online.phase, online.after_barrier), (OnlinePhase::Complete, 0));
    assert_eq!(online.cutover.as_ref().map(|c| c.by.as_str()), Some("Ada"));
    for collection in &done.collections {
        let verification = collection.verification.as_ref().unwrap();
        assert!(verification.passed() && verification.checked > 0, "{verification:?}");
    }
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_during_the_copy_and_after_it_end_in_an_exact_copy() {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 3_000).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();

    let writer = SourceWriter::start(&server.uri(), "shop", "orders", 150, 2).await;
    let id = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap();
    let copying = jobs.progress(&id).unwrap();
    assert!(matches!(phase(&copying), Some(OnlinePhase::Copying | OnlinePhase::Following)), "{:?}", copying.online);
    wait_for(&jobs, &id, "changes applied while following", |p| {
        phase(p) == Some(OnlinePhase::Following) && p.online.as_ref().is_some_and(|o| o.applied.total() > 200)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let written = writer.stop().await;
    let caught = wait_for(&jobs, &id, "caught up", caught_up).await;
    eprintln!("writer: {written:?}; applied: {:?}", caught.online.as_ref().map(|o| o.applied));

    let done = cut_over(&jobs, &id).await;
    let applied = done.online.unwrap().applied;
    assert!(applied.inserts > 0 && applied.updates > 0 && applied.replaces > 0 && applied.deletes > 0, "{applied:?}");
    assert!(applied.total() <= written.total(), "only the writer changed the source: {applied:?} vs {written:?}");
    let count = assert_same(&server.uri(), "shop", "orders", &astra.endpoint(), TOKEN, "orders").await;
    assert!(count > 2_500, "{count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_faults_during_the_sync_delay_it_and_lose_nothing() {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 1_000).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let id = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap();
    wait_for(&jobs, &id, "following", |p| phase(p) == Some(OnlinePhase::Following)).await;

    astra.set_faults(astra_local::Faults { rate_429: 0.3, rate_5xx: 0.2, drop_rate: 0.03, latency_ms: 40, latency_spike_rate: 0.2, ..Default::default() });
    let writer = SourceWriter::start(&server.uri(), "shop", "orders", 120, 2).await;
    let mut worst_lag = 0.0f64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        let progress = jobs.progress(&id).unwrap();
        worst_lag = worst_lag.max(progress.online.as_ref().and_then(|o| o.lag_seconds).unwrap_or_default());
        assert_eq!(progress.status, JobStatus::Running, "{:?}", progress.message);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    writer.stop().await;
    astra.set_faults(astra_local::Faults::default());
    wait_for(&jobs, &id, "caught up after the faults", caught_up).await;
    eprintln!("worst lag under faults: {worst_lag:.2} s");
    assert!(worst_lag > 0.0, "the faults held the sync back");

    cut_over(&jobs, &id).await;
    assert_same(&server.uri(), "shop", "orders", &astra.endpoint(), TOKEN, "orders").await;
}

#[tokio::test]
async fn a_source_that_is_not_a_replica_set_is_refused_before_any_copy() {
    let server = MongoServer::start_with(&MongoOptions { standalone: true, ..Default::default() });
    server.load_sample("shop", "orders", 10).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let refused = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap_err().to_string();
    assert!(refused.contains("is not a replica set") && refused.contains("--replSet"), "{refused}");
    assert!(jobs.jobs().unwrap().is_empty(), "no job was created");

    // A copy of the same source is fine.
    let copy = JobSpec { mode: JobMode::Copy, ..online_spec(&server, &astra.endpoint(), &["orders"]) };
    let id = jobs.create(copy).await.unwrap();
    assert_eq!(jobs.settled(&id).await.unwrap().status, JobStatus::Complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_point_the_oplog_no_longer_holds_stops_the_job_with_the_cause_and_the_fix() {
    let server = MongoServer::start_with(&MongoOptions { oplog_max_entries: Some(100), ..Default::default() });
    server.load_sample("shop", "orders", 200).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let uri = SourceUri::parse(&server.uri()).unwrap();
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let orders = client.database("shop").collection::<Document>("orders");
    // A point taken now, to open by its time alone once the oplog has moved on.
    let old = anchor(&orders, &uri).await.unwrap();

    let id = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap();
    wait_for(&jobs, &id, "following", |p| phase(p) == Some(OnlinePhase::Following) && caught_up(p)).await;
    jobs.pause(&id, "Ada").unwrap();
    // Once the follower has stopped reading: writes elsewhere while the job is paused, then the oplog trimmed to its last 100.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let noise = client.database("shop").collection::<Document>("noise");
    noise.insert_many((0..500).map(|i| doc! { "i": i })).await.unwrap();
    server.trim_oplog().await;
    jobs.resume(&id, "Ada").unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(60), jobs.settled(&id)).await.unwrap().unwrap();
    assert_eq!(stopped.status, JobStatus::Failed);
    let message = stopped.message.unwrap_or_default();
    assert!(message.contains("oplog no longer holds") && message.contains("larger oplog") && message.contains("new online job"), "{message}");

    // By time alone: SecantusDB would start at its oldest entry; docshift sees the gap.
    let by_time = StreamPoint { token: None, time: old.time };
    let refused = ChangeFeed::open(&orders, &uri, &by_time).await.err();
    assert!(matches!(refused, Some(ChangeError::HistoryLost { .. })), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_changes_are_dead_lettered_and_a_dropped_collection_stops_the_job() {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 50).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let id = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap();
    wait_for(&jobs, &id, "following", |p| phase(p) == Some(OnlinePhase::Following)).await;

    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let orders = client.database("shop").collection::<Document>("orders");
    // Nested deeper than Astra's 16 levels, then fixed; and larger than Astra's 4,000,000
    // characters, whose update makes a change event of more than 16 MB.
    let mut deep = doc! { "leaf": 1 };
    for _ in 0..20 {
        deep = doc! { "n": deep };
    }
    orders.insert_one(doc! { "_id": "deep", "n": deep }).await.unwrap();
    orders.insert_one(doc! { "_id": "big", "text": "x".repeat(8 << 20) }).await.unwrap();
    orders.update_one(doc! { "_id": "big" }, doc! { "$set": { "more": "y".repeat(7 << 20) } }).await.unwrap();
    orders.replace_one(doc! { "_id": "deep" }, doc! { "fixed": true }).await.unwrap();
    let settled = wait_for(&jobs, &id, "the refused changes", |p| p.online.as_ref().is_some_and(|o| o.applied.dead_lettered >= 3)).await;
    assert_eq!(settled.status, JobStatus::Running);
    let letters = jobs.dead_letters(&id, None).unwrap();
    let codes: Vec<_> = letters.iter().map(|l| (l.id.as_str(), l.code.as_str())).collect();
    assert!(codes.contains(&("deep", "SHRED_DOC_LIMIT_VIOLATION")) && codes.contains(&("big", "SHRED_DOC_LIMIT_VIOLATION")), "{codes:?}");
    assert!(letters.iter().all(|l| l.reason.contains(" at Timestamp(")), "each names its change: {:?}", letters.iter().map(|l| &l.reason).collect::<Vec<_>>());
    let fixed = wait_for(&jobs, &id, "the fix applied", |p| p.online.as_ref().is_some_and(|o| o.applied.replaces >= 1 && o.waiting == 0)).await;
    assert_eq!(fixed.online.unwrap().applied.dead_lettered, 3);

    orders.drop().await.unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(60), jobs.settled(&id)).await.unwrap().unwrap();
    assert_eq!(stopped.status, JobStatus::Failed);
    let message = stopped.message.unwrap_or_default();
    assert!(message.contains("shop.orders was dropped"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_too_large_to_read_is_dead_lettered_and_the_sync_goes_on() {
    let server = MongoServer::start_with(&MongoOptions { test_commands: true, ..Default::default() });
    server.load_sample("shop", "orders", 20).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let id = jobs.create(online_spec(&server, &astra.endpoint(), &["orders"])).await.unwrap();
    wait_for(&jobs, &id, "following", |p| phase(p) == Some(OnlinePhase::Following) && caught_up(p)).await;

    // mongod fails the read of a change event over 16 MB with BSONObjectTooLarge; SecantusDB
    // sends such events, so its failpoint plays the part for the next read of the stream.
    jobs.pause(&id, "Ada").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let orders = client.database("shop").collection::<Document>("orders");
    orders.insert_one(doc! { "_id": "huge", "n": 1 }).await.unwrap();
    orders.insert_one(doc! { "_id": "after", "n": 2 }).await.unwrap();
    client
        .database("admin")
        .run_command(doc! {
            "configureFailPoint": "failCommand",
            "mode": { "times": 1 },
            "data": { "failCommands": ["aggregate"], "errorCode": 10334, "errmsg": "BSONObjectTooLarge" },
        })
        .await
        .unwrap();
    jobs.resume(&id, "Ada").unwrap();
    let passed = wait_for(&jobs, &id, "the change after it applied", |p| p.online.as_ref().is_some_and(|o| o.applied.inserts >= 1 && caught_up(p))).await;
    assert_eq!(passed.status, JobStatus::Running);
    assert_eq!(passed.online.unwrap().applied.dead_lettered, 1);
    let letters = jobs.dead_letters(&id, None).unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!((letters[0].id.as_str(), letters[0].code.as_str()), ("huge", "CHANGE_EVENT_TOO_LARGE"));
    assert!(letters[0].reason.contains("larger than MongoDB's 16 MB limit"), "{}", letters[0].reason);

    let done = cut_over(&jobs, &id).await;
    assert!(done.collections[0].verification.as_ref().unwrap().passed());
    let target = engine::testing::changes::target_documents(&astra.endpoint(), TOKEN, "default_keyspace", "orders").await;
    assert!(target.contains_key("after") && !target.contains_key("huge"), "the dead-lettered change is not in the target");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_cancel_work_while_copying_and_while_following() {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 3_000).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let spec = JobSpec { batch_size: 100, ..online_spec(&server, &astra.endpoint(), &["orders"]) };
    let id = jobs.create(spec).await.unwrap();

    // While copying.
    jobs.pause(&id, "Ada").unwrap();
    let paused = jobs.progress(&id).unwrap();
    assert_eq!(paused.status, JobStatus::Paused);
    assert!(paused.online.as_ref().is_some_and(|o| o.lag_seconds.is_none()), "no live lag while paused: {:?}", paused.online);
    jobs.resume(&id, "Ada").unwrap();
    wait_for(&jobs, &id, "following", |p| phase(p) == Some(OnlinePhase::Following) && caught_up(p)).await;

    // While following: changes made while paused wait in the oplog, then apply.
    jobs.pause(&id, "Grace").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let orders = client.database("shop").collection::<Document>("orders");
    orders.update_many(doc! {}, doc! { "$set": { "paused": true } }).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let still = jobs.progress(&id).unwrap();
    assert_eq!((still.status, still.online.as_ref().map(|o| o.applied.updates)), (JobStatus::Paused, Some(0)), "nothing applied while paused");
    jobs.resume(&id, "Grace").unwrap();
    wait_for(&jobs, &id, "the updates applied", |p| p.online.as_ref().is_some_and(|o| o.applied.updates == 3_000) && caught_up(p)).await;
    assert_same(&server.uri(), "shop", "orders", &astra.endpoint(), TOKEN, "orders").await;

    // Cancelled while following: it stops applying.
    jobs.cancel(&id, "Ada").unwrap();
    let cancelled = tokio::time::timeout(Duration::from_secs(30), jobs.settled(&id)).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    orders.update_many(doc! {}, doc! { "$set": { "after_cancel": true } }).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = jobs.progress(&id).unwrap();
    assert_eq!(after.online.map(|o| o.applied.updates), Some(3_000));
    assert!(jobs.cutover(&id, "Ada").await.is_err(), "a cancelled job is not cut over");
}
