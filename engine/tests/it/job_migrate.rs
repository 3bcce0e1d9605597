//! Jobs end to end against real services: SecantusDB as the source, astra-local as the
//! target. Every document ends written, already present or dead-lettered, and the counts
//! add up; verification reads everything back.

use bson::{doc, Document};
use engine::{
    job::{target_name, CollectionSpec, JobManager, JobSpec, TargetSpec},
    sample::refused_count,
    testing::{MongoOptions, MongoServer},
    wire::{JobProgress, JobStatus, PlanChoice, ReadPlanKind, ServerEvent},
};
use astra_local::testing::TestAstra;

const TOKEN: &str = "AstraCS:test-token";

fn spec(server: &MongoServer, endpoint: &str, database: &str, collections: &[(&str, Option<&str>)]) -> JobSpec {
    let collections = collections
        .iter()
        .map(|(name, filter)| CollectionSpec {
            source: (*name).into(),
            target: target_name(name),
            filter: filter.map(Into::into),
            indexing: Default::default(),
            vector: None,
        })
        .collect();
    let target = TargetSpec::DataApi { endpoint: endpoint.into(), keyspace: "default_keyspace".into(), token: TOKEN.into() };
    JobSpec::new(server.uri(), database.into(), collections, target)
}

/// SecantusDB holding sample collections, astra-local, and a JobManager on a state
/// directory of their own.
struct Stack {
    server: MongoServer,
    astra: TestAstra,
    jobs: JobManager,
    state: tempfile::TempDir,
}

async fn stack(database: &str, samples: &[(&str, u64)]) -> Stack {
    stack_with(&MongoOptions::default(), database, samples).await
}

async fn stack_with(options: &MongoOptions, database: &str, samples: &[(&str, u64)]) -> Stack {
    let server = MongoServer::start_with(options);
    for (collection, count) in samples {
        server.load_sample(database, collection, *count).await;
    }
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    Stack { server, astra, jobs, state }
}

impl Stack {
    fn spec(&self, database: &str, collections: &[(&str, Option<&str>)]) -> JobSpec {
        spec(&self.server, &self.astra.endpoint(), database, collections)
    }
}

#[tokio::test]
async fn a_collection_migrates_in_parallel_ranges_and_verifies() {
    let stack = stack("shop", &[("orders", 30_000)]).await;
    let jobs = &stack.jobs;

    let id = jobs.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let orders = &done.collections[0];
    assert_eq!(orders.counters.matched, Some(30_000));
    assert_eq!(orders.counters.written, 30_000);
    let verification = orders.verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (30_000, 30_000));

    // Running it again writes nothing new: everything is already present.
    let again = jobs.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    let again = jobs.settled(&again).await.unwrap();
    assert_eq!(again.status, JobStatus::Complete, "{:?}", again.message);
    assert_eq!((again.collections[0].counters.written, again.collections[0].counters.already_present), (0, 30_000));
}

/// Fails the source's next `count` commands (all of them, or `times`) with MaxTimeMSExpired,
/// as a server counting by a scan answers within the job's count budget.
async fn fail_counts(client: &mongodb::Client, mode: bson::Bson) {
    configure(
        client,
        doc! {
            "configureFailPoint": "failCommand",
            "mode": mode,
            "data": { "failCommands": ["count"], "errorCode": 50, "errmsg": "operation exceeded time limit" },
        },
    )
    .await;
}

/// Every progress event of job `id` until it ends, then its settled state.
async fn watch_to_the_end(jobs: &JobManager, id: &str) -> (Vec<JobProgress>, JobProgress) {
    let mut events = jobs.subscribe();
    let mut seen = Vec::new();
    while !jobs.progress(id).unwrap().status.is_final() {
        match tokio::time::timeout(std::time::Duration::from_secs(120), events.recv()).await {
            Ok(Ok(ServerEvent::Job(p))) if p.id == id => seen.push(p),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("job {id} never ended: {other:?}"),
        }
    }
    (seen, jobs.settled(id).await.unwrap())
}

/// A server that can't count within the job's budget: the job starts without a total at
/// once, and ends with the exact count, verified. Where the server can't count at all, the
/// progress says "so far" until the copy has counted; where it counts slowly but reads one
/// query at a time (SecantusDB), it is not asked again beside the copy, which it would hold
/// up; where it serves queries in parallel, the total arrives while the copy runs. Ranges,
/// placed by a count, take one before the copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_cannot_count_quickly_is_counted_as_it_is_read() {
    let stack = stack_with(&MongoOptions { test_commands: true, ..MongoOptions::default() }, "shop", &[("orders", 20_000)]).await;
    let jobs = &stack.jobs;
    let client = mongodb::Client::with_uri_str(stack.server.uri()).await.unwrap();
    let job = |target: &str, plan: PlanChoice| {
        let mut spec = stack.spec("shop", &[("orders", None)]);
        spec.collections[0].target = target.into();
        spec.read_plan = plan;
        spec
    };
    let exact = |done: &JobProgress| {
        assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
        let orders = &done.collections[0];
        assert_eq!((orders.counters.matched, orders.counters.written), (Some(20_000), 20_000));
        let verification = orders.verification.as_ref().unwrap();
        assert_eq!((verification.checked, verification.matching), (20_000, 20_000));
    };

    // No count at all: the copy counts.
    fail_counts(&client, "alwaysOn".into()).await;
    let id = jobs.create(job("orders", PlanChoice::Auto)).await.unwrap();
    assert_eq!(jobs.progress(&id).unwrap().collections[0].counters.matched, None, "not counted before the copy");
    let (seen, done) = watch_to_the_end(jobs, &id).await;
    assert!(seen.iter().any(|p| p.collections[0].counters.matched.is_none() && p.collections[0].counters.accounted() > 0), "progress while not counted");
    exact(&done);

    // Ranges are placed by a count: the plan takes one (exact, however long) first.
    let id = jobs.create(job("orders_by_range", PlanChoice::Forced(ReadPlanKind::ParallelRanges))).await.unwrap();
    let (_, done) = watch_to_the_end(jobs, &id).await;
    exact(&done);
    assert!(done.collections[0].plan.as_ref().is_some_and(|p| p.ranges >= 2), "{:?}", done.collections[0].plan);

    // Only the job's first count fails, and SecantusDB reads one query at a time: a count
    // beside the copy would hold the copy up by a read of its own, so there is none. The
    // total comes with the end of the read.
    fail_counts(&client, doc! { "times": 1 }.into()).await;
    let id = jobs.create(job("orders_not_counted_beside", PlanChoice::Auto)).await.unwrap();
    let (seen, done) = watch_to_the_end(jobs, &id).await;
    let mid_copy = |p: &JobProgress| p.status == JobStatus::Running && p.collections[0].counters.accounted() < 20_000;
    assert!(seen.iter().any(mid_copy), "progress while copying");
    assert!(seen.iter().filter(|p| mid_copy(p)).all(|p| p.collections[0].counters.matched.is_none()), "no count beside the copy on this server");
    exact(&done);

    // A server that serves queries in parallel (every find held 20 ms, as far away) and
    // can't count within the budget (its first timed operation expires): the count beside
    // the copy gives the total while the copy runs.
    // (This failCommand replaces the one on counts.)
    configure(&client, doc! { "configureFailPoint": "failCommand", "mode": "alwaysOn", "data": { "failCommands": ["find"], "blockConnection": true, "blockTimeMS": 20 } }).await;
    configure(&client, doc! { "configureFailPoint": "maxTimeAlwaysTimeOut", "mode": { "times": 1 } }).await;
    let id = jobs.create(job("orders_counted_beside", PlanChoice::Forced(ReadPlanKind::NaturalOrder))).await.unwrap();
    assert_eq!(jobs.progress(&id).unwrap().collections[0].counters.matched, None, "not counted before the copy");
    let (seen, done) = watch_to_the_end(jobs, &id).await;
    configure(&client, doc! { "configureFailPoint": "failCommand", "mode": "off" }).await;
    assert!(seen.iter().any(|p| mid_copy(p) && p.collections[0].counters.matched == Some(20_000)), "the total while copying");
    exact(&done);
}

/// Sends a `configureFailPoint` command.
async fn configure(client: &mongodb::Client, command: bson::Document) {
    client.database("admin").run_command(command).await.unwrap();
}

/// Waits for the first progress event of job `id` with `status`.
async fn until_status(events: &mut tokio::sync::broadcast::Receiver<ServerEvent>, id: &str, status: JobStatus) {
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(120), events.recv()).await {
            Ok(Ok(ServerEvent::Job(progress))) if progress.id == id && progress.status == status => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("job {id} never reached {status:?}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_cancel_work_while_verifying() {
    let stack = stack("shop", &[("orders", 20_000)]).await;
    let jobs = &stack.jobs;

    // Paused as verification starts, it stays paused, then finishes once resumed.
    let mut events = jobs.subscribe();
    let id = jobs.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    until_status(&mut events, &id, JobStatus::Verifying).await;
    jobs.pause(&id, "Ada").unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let paused = jobs.progress(&id).unwrap();
    assert_eq!(paused.status, JobStatus::Paused, "{:?}", paused.message);
    assert!(paused.collections[0].verification.is_none(), "verification went on while paused");
    jobs.resume(&id, "Grace").unwrap();
    until_status(&mut events, &id, JobStatus::Verifying).await;
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let verification = done.collections[0].verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (20_000, 20_000));

    // Cancelled while verifying, it ends cancelled, saying who did it: not "complete".
    let id = jobs.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    until_status(&mut events, &id, JobStatus::Verifying).await;
    jobs.cancel(&id, "Ada").unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Cancelled);
    assert!(done.message.as_deref().unwrap_or_default().starts_with("Cancelled by Ada"), "{:?}", done.message);
    assert!(done.collections[0].verification.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_in_one_process_and_the_others_control_it_there() {
    let stack = stack("shop", &[("orders", 20_000)]).await;
    let running = &stack.jobs;
    let mut events = running.subscribe();
    let id = running.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    until_status(&mut events, &id, JobStatus::Running).await;

    // A second process on the same state directory (a `docshift serve` started meanwhile,
    // a `docshift resume ID`) sees the job as running but may not run it.
    let other = JobManager::open(stack.state.path()).unwrap();
    let _follower = other.follow_other_processes(std::time::Duration::from_millis(200));
    let mut watching = other.subscribe();
    assert_eq!(other.resume_unfinished().unwrap(), Vec::<String>::new());
    let message = other.resume(&id, "Ada").unwrap_err().to_string();
    assert!(message.contains("being run by another docshift process"), "{message}");

    // It can pause and resume it: the running process does, on its request.
    other.pause(&id, "Ada").unwrap();
    until_status(&mut events, &id, JobStatus::Paused).await;
    let paused = running.progress(&id).unwrap();
    assert!(paused.message.as_deref().is_some_and(|m| m.starts_with("Paused by Ada")), "{:?}", paused.message);
    // The batches in flight land, then nothing more.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let before = running.progress(&id).unwrap().totals().accounted();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let after = running.progress(&id).unwrap();
    assert_eq!(after.status, JobStatus::Paused);
    assert_eq!(after.totals().accounted(), before, "nothing lands while paused");
    assert!(before < 20_000, "paused before the end: {before}");
    other.resume(&id, "Ada").unwrap();
    until_status(&mut events, &id, JobStatus::Running).await;

    // Its subscribers see the job move, from the state the running process records.
    let mut moving = Vec::new();
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(120), watching.recv()).await {
            Ok(Ok(ServerEvent::Job(progress))) if progress.id == id => {
                moving.push(progress.totals().accounted());
                if progress.status == JobStatus::Complete {
                    break;
                }
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("the second manager's subscribers never saw the job complete: {other:?}"),
        }
    }
    assert!(moving.iter().any(|n| (1..20_000).contains(n)), "no progress seen on the way: {moving:?}");

    let done = running.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let c = done.collections[0].counters;
    assert_eq!((c.matched, c.written, c.already_present), (Some(20_000), 20_000, 0), "counted once");

    // And cancel one: the running process stops it.
    let again = running.create(stack.spec("shop", &[("orders", None)])).await.unwrap();
    until_status(&mut events, &again, JobStatus::Running).await;
    other.cancel(&again, "Ada").unwrap();
    let cancelled = tokio::time::timeout(std::time::Duration::from_secs(60), running.settled(&again)).await.unwrap().unwrap();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    assert!(cancelled.message.as_deref().is_some_and(|m| m.starts_with("Cancelled by Ada")), "{:?}", cancelled.message);
}

#[tokio::test]
async fn refused_documents_are_dead_lettered_and_the_accounting_is_exact() {
    let stack = stack("analytics", &[("events", 8_000), ("sensor-readings", 3_000)]).await;
    let jobs = &stack.jobs;

    let id = jobs.create(stack.spec("analytics", &[("events", None), ("sensor-readings", None)])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let letters = jobs.dead_letters(&id, None).unwrap();
    for (collection, count) in [("events", 8_000), ("sensor-readings", 3_000)] {
        let progress = done.collections.iter().find(|c| c.source == collection).unwrap();
        let refused = refused_count(collection, count);
        assert_eq!(progress.counters.dead_lettered, refused, "{collection}");
        assert_eq!(progress.counters.written + progress.counters.dead_lettered, count, "{collection}");
        assert_eq!(letters.iter().filter(|l| l.collection == collection).count() as u64, refused);
    }
    assert_eq!(done.collections[1].target, "sensor_readings");
    assert_eq!(jobs.dead_letter_count(&id).unwrap(), letters.len() as u64);
    let first: Vec<_> = jobs.dead_letters(&id, Some(3)).unwrap().into_iter().map(|l| l.id).collect();
    assert_eq!(first, letters.iter().take(3).map(|l| l.id.clone()).collect::<Vec<_>>(), "the first refused, in order");
    let letter = letters.iter().find(|l| l.collection == "events").unwrap();
    assert!(!letter.reason.is_empty() && letter.document.contains("\"_id\""), "{letter:?}");
}

#[tokio::test]
async fn a_filter_migrates_only_what_it_matches() {
    let stack = stack("shop", &[("orders", 6_000)]).await;
    let jobs = &stack.jobs;
    let client = mongodb::Client::with_uri_str(stack.server.uri()).await.unwrap();
    let shipped = client.database("shop").collection::<Document>("orders").count_documents(doc! { "status": "shipped" }).await.unwrap();
    assert!(shipped > 0);

    let id = jobs.create(stack.spec("shop", &[("orders", Some(r#"{"status": "shipped"}"#))])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    assert_eq!(done.collections[0].counters.matched, Some(shipped));
    assert_eq!(done.collections[0].counters.written, shipped);
}

#[tokio::test]
async fn bad_input_stops_the_job_before_any_write() {
    let stack = stack("shop", &[("orders", 100)]).await;
    let (server, jobs, endpoint) = (&stack.server, &stack.jobs, stack.astra.endpoint());

    let error = |spec| async { jobs.create(spec).await.err().unwrap().to_string() };
    assert!(error(spec(server, &endpoint, "nope", &[("orders", None)])).await.contains("no database named \"nope\""));
    assert!(error(spec(server, &endpoint, "shop", &[("ghosts", None)])).await.contains("no collection named \"ghosts\""));
    assert!(error(spec(server, &endpoint, "shop", &[("orders", Some("{not json"))])).await.contains("filter of orders"));
    let message = error(spec(server, &endpoint, "shop", &[("orders", Some(r#"{"status": {"$shipped": true}}"#))])).await;
    assert!(message.contains("MongoDB refused the filter of orders") && message.contains("$shipped"), "{message}");
    let mut wrong_token = spec(server, &endpoint, "shop", &[("orders", None)]);
    wrong_token.target = TargetSpec::DataApi { endpoint: endpoint.clone(), keyspace: "default_keyspace".into(), token: "AstraCS:wrong-secret".into() };
    let message = error(wrong_token).await;
    assert!(message.contains("token") && !message.contains("wrong-secret"), "{message}");
    let mut keyspace = spec(server, &endpoint, "shop", &[("orders", None)]);
    keyspace.target = TargetSpec::DataApi { endpoint: endpoint.clone(), keyspace: "missing_ks".into(), token: TOKEN.into() };
    assert!(error(keyspace).await.contains("missing_ks"));
    let unreachable = format!("http://127.0.0.1:{}", engine::testing::free_port());
    let message = error(spec(server, &unreachable, "shop", &[("orders", None)])).await;
    assert!(!message.is_empty());
    assert!(jobs.jobs().unwrap().is_empty(), "no job was created");
}
