//! Jobs at the limits of their source and target (issue 12), not timed: against a request
//! quota the job is throttled, says so in its progress, and still completes and verifies;
//! a source that gets slower while it is read makes the job split its ranges again, and the
//! copy stays exact; the read plan is in the report.

use crate::{common::proxy::SlowProxy, job_faults::target_ids};
use astra_local::{testing::TestAstra, Faults};
use bson::{doc, Document};
use engine::{
    convert::Converter,
    job::{target_name, CollectionSpec, JobManager, JobSpec, TargetSpec},
    sample::document,
    testing::MongoServer,
    wire::{JobProgress, JobStatus, ReadPlanKind, ServerEvent},
};
use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

/// The token job_faults' `target_ids` reads with.
const TOKEN: &str = "AstraCS:faults-token";

fn spec(source_uri: String, endpoint: String) -> JobSpec {
    JobSpec::new(
        source_uri,
        "shop".into(),
        vec![CollectionSpec { source: "orders".into(), target: target_name("orders"), filter: None, indexing: Default::default(), vector: None }],
        TargetSpec::DataApi { endpoint, keyspace: "default_keyspace".into(), token: TOKEN.into() },
    )
}

/// The job's progress events, kept as they come.
fn record(jobs: &JobManager) -> (Arc<Mutex<Vec<JobProgress>>>, tokio::task::JoinHandle<()>) {
    let seen: Arc<Mutex<Vec<JobProgress>>> = Arc::default();
    let mut events = jobs.subscribe();
    let kept = seen.clone();
    let task = tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(ServerEvent::Job(progress)) => kept.lock().unwrap().push(progress),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    });
    (seen, task)
}

/// The job ended complete, verified, and the target holds exactly the source's documents.
async fn assert_exact(done: &JobProgress, endpoint: &str, docs: u64) {
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let orders = &done.collections[0];
    let c = orders.counters;
    assert_eq!((c.matched, c.dead_lettered), (Some(docs), 0));
    assert_eq!(c.written + c.already_present, docs, "every document counted once: {c:?}");
    let verification = orders.verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (docs, docs), "{verification:?}");
    let converter = Converter::new(Default::default(), &Default::default()).unwrap();
    let expected: HashSet<String> = (0..docs).map(|i| converter.convert(&document("orders", i)).unwrap().id_key().to_owned()).collect();
    let found = target_ids(endpoint, &orders.target).await;
    assert_eq!(found.len() as u64, docs, "documents in the target");
    assert_eq!(found.into_iter().collect::<HashSet<_>>(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_against_a_request_quota_completes_verifies_and_shows_the_throttling() {
    const DOCS: u64 = 4_000;
    let server = MongoServer::start();
    server.load_sample("shop", "orders", DOCS).await;
    // 25 requests a second: the copy needs 80 insertMany of 50, the read-back more.
    let astra = TestAstra::with_faults(TOKEN, Faults { rps_quota: Some(25), ..Faults::default() }).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let (seen, recorder) = record(&jobs);

    let id = jobs.create(spec(server.uri(), astra.endpoint())).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    recorder.abort();
    let counts = astra.fault_counts();
    eprintln!("job {id}: {:?}; astra-local answered 429 to {} of {} requests; throttle {:?}", done.status, counts.throttled, counts.requests, done.throttle);
    assert!(counts.throttled > 0, "the quota never throttled the job");

    // Throttling was shown while it happened, never as a failure.
    let seen = seen.lock().unwrap().clone();
    let throttled: Vec<&JobProgress> = seen.iter().filter(|p| p.id == id && p.throttle.as_ref().is_some_and(|t| t.throttling)).collect();
    assert!(!throttled.is_empty(), "no progress event said the target was throttling ({} events)", seen.len());
    assert!(throttled.iter().all(|p| matches!(p.status, JobStatus::Running | JobStatus::Verifying)), "throttling paused or failed the job");
    assert!(throttled.iter().all(|p| p.throttle.as_ref().unwrap().line().starts_with("Astra is throttling: ")));
    // And the final report counts it.
    let throttle = done.throttle.as_ref().unwrap();
    assert!(throttle.throttled > 0 && throttle.requests >= throttle.throttled, "{throttle:?}");

    astra.set_faults(Faults::default());
    assert_exact(&done, &astra.endpoint(), DOCS).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_gets_slower_mid_run_is_read_in_more_ranges_and_the_copy_stays_exact() {
    const DOCS: u64 = 30_000;
    let server = MongoServer::start();
    server.load_sample("shop", "orders", DOCS).await;
    // An `_id` index on the test's own data, so that `_id` ranges are index scans.
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let index = mongodb::IndexModel::builder().keys(doc! { "_id": -1 }).build();
    client.database("shop").collection::<Document>("orders").create_index(index).await.unwrap();
    // The source behind a network path of its own: 1 ms a chunk at first.
    let proxy = SlowProxy::start(server.port, Duration::from_millis(1)).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();

    let mut spec = spec(proxy.mongo_uri(), astra.endpoint());
    spec.parallel_ranges = 8;
    let id = jobs.create(spec).await.unwrap();
    // A sixth of the way in, the path gets 100 times slower: long enough after it for a split,
    // its measurement and another.
    let at_slowdown = loop {
        let progress = jobs.progress(&id).unwrap();
        if progress.totals().accounted() >= DOCS / 6 || progress.status.is_final() {
            break progress;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    proxy.set_delay(Duration::from_millis(100));
    let done = jobs.settled(&id).await.unwrap();

    let before = at_slowdown.collections[0].plan.clone().expect("a plan before the copy started");
    let plan = done.collections[0].plan.clone().expect("a plan in the report");
    eprintln!("plan at the slowdown: {before:?}\nplan at the end: {plan:?}");
    assert_eq!(at_slowdown.status, JobStatus::Running, "the job ended before the source got slower");
    assert_eq!(plan.kind, ReadPlanKind::ParallelRanges, "a source with latency and an _id index is read in ranges: {plan:?}");
    assert!(plan.ranges > before.ranges, "the slower source was not read in more ranges: {before:?} → {plan:?}");
    assert!(plan.changes.iter().any(|c| c.contains("split")), "{plan:?}");
    assert_exact(&done, &astra.endpoint(), DOCS).await;
}
