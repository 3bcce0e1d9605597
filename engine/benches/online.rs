//! Online sync's speed, on one run:
//! 1. **astra-local alone**: its own `findOneAndReplace` rate (upserts by `_id` of documents
//!    like the changes), over plain HTTP with the bodies made beforehand, the fastest of a few
//!    concurrencies up to the job's lanes;
//! 2. **apply rate at saturation**: an online job over `DOCSHIFT_BENCH_DOCS` documents (default
//!    5,000) is paused, `DOCSHIFT_BENCH_CHANGES` changes (default 100,000) are made, the job
//!    resumes, and the time until it has applied them all gives its rate — goal ≥ 0.8 × (1).
//!    The job publishes its counts every half second, so the time is known to within that:
//!    the backlog is large enough for the half second to be a few percent of it.
//!    Twice: (a) inserts, whose events carry their documents, and (b) updates (`updateMany`s
//!    over the whole collection), which the source must look up one by one; for each, the
//!    change stream's own rate (read, nothing applied) is printed too, since the source can be
//!    the slower end, and the ratio to the slower of the two ends alone;
//! 3. **lag under a steady write rate**: a writer makes `DOCSHIFT_BENCH_RATE` changes a second
//!    (default 1,000: inserts, updates, replaces, deletes, in small batches every 20 ms) for
//!    `DOCSHIFT_BENCH_SECONDS` (default 20) while the job follows; the job's own lag is sampled
//!    every 250 ms — goal ≤ 2 s — and the writer's achieved rate printed beside it;
//! 4. **over a far, jittery path** (`DOCSHIFT_BENCH_FAR=100:0.6`, the default: every request to
//!    astra-local 100 ms longer at the median, log-normal with σ 0.6, as a database in another
//!    region; empty for none): astra-local's `findOneAndReplace` rate over that path, (3)
//!    again with a new online job whose target is that far from the start, and (2b): one
//!    update of every document (the collection holds (2a)'s inserts by then).
//!
//! SecantusDB (a Python process) and astra-local (in this process) share the machine with
//! docshift: (1) has the machine to itself, (2) and (3) pay for the source's change stream
//! and lookups too. Figures on a shared machine are noisy.
//!
//! Run: `cargo bench -p engine --bench online` (needs the SecantusDB venv, `$DOCSHIFT_VENV`).
//! `DOCSHIFT_BENCH_IN_FLIGHT` sets the job's requests in flight (its lanes; default docshift's).

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

use astra_local::{testing::TestAstra, Faults};
use bson::{doc, Document};
use engine::{
    job::{CollectionSpec, JobManager, JobMode, JobSpec, TargetSpec},
    source::{
        changes::{anchor, ChangeFeed, StreamPoint},
        mongo::SourceUri,
    },
    testing::{MongoOptions, MongoServer},
    tuning::IN_FLIGHT,
    wire::{JobProgress, OnlinePhase},
};
use futures::StreamExt;
use std::time::{Duration, Instant};

/// The allocator docshift's binary has.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "AstraCS:online-bench-token";

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let documents = env_number("DOCSHIFT_BENCH_DOCS", 5_000);
    let changes = env_number("DOCSHIFT_BENCH_CHANGES", 100_000);
    let steady_rate = env_number("DOCSHIFT_BENCH_RATE", 1_000);
    let steady_seconds = env_number("DOCSHIFT_BENCH_SECONDS", 20);
    let lanes = env_number("DOCSHIFT_BENCH_IN_FLIGHT", IN_FLIGHT.default as u64) as usize;
    let astra = TestAstra::start(TOKEN).await;

    // 1. astra-local's own findOneAndReplace rate.
    let (raw, best) = replace_rate(&astra.endpoint(), lanes, changes.min(20_000)).await;
    println!("astra-local findOneAndReplace alone (plain HTTP, the fastest of 4, 16 and {lanes} in flight): {raw:.0} requests/s with {best} in flight");

    // 2. The job's apply rate with a backlog.
    // An oplog that holds every change the bench makes (both backlogs and the writers): each
    // backlog is read by the stream alone first, then by the job, and must still be there.
    let server = MongoServer::start_with(&MongoOptions { oplog_max_entries: Some(changes * 4 + documents * 2), ..MongoOptions::default() });
    server.load_sample("bench", "orders", documents).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let (id, took) = online_job(&jobs, &server.uri(), &astra.endpoint(), lanes).await;
    println!("copied {documents} documents and caught up in {took:.1?}");

    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let orders = client.database("bench").collection::<Document>("orders");
    let uri = SourceUri::parse(&server.uri()).unwrap();

    // 2a. Inserts: the change stream carries each document, no lookup.
    let backlog = changes;
    let (inserted, from) = paused(&jobs, &id, &orders, &uri, |orders| async move {
        for chunk in 0..backlog.div_ceil(1_000) {
            let documents = (0..1_000).map(|i| doc! { "_id": format!("new-{chunk}-{i}"), "status": "placed", "lines": [{ "sku": "SKU-1", "quantity": 2 }], "n": i });
            orders.insert_many(documents).await.unwrap();
        }
        backlog.div_ceil(1_000) * 1_000
    })
    .await;
    let stream = stream_rate(&orders, &uri, &from, inserted).await;
    let rate = apply(&jobs, &id, inserted).await;
    println!(
        "apply rate at saturation, {inserted} inserts: {rate:.0} changes/s = {:.2} × astra-local alone (goal ≥ 0.80); the change stream alone gives {stream:.0}/s: {:.2} × the slower end alone",
        rate / raw,
        rate / raw.min(stream)
    );

    // 2b. Updates: the source looks each document up (`fullDocument: "updateLookup"`).
    let (updated, stream, rate) = update_backlog(&jobs, &id, &orders, &uri, backlog).await;
    println!(
        "apply rate at saturation, {updated} updates: {rate:.0} changes/s = {:.2} × astra-local alone; the change stream alone gives {stream:.0}/s with its lookups: {:.2} × the slower end alone",
        rate / raw,
        rate / raw.min(stream)
    );

    // 3. The lag under a steady write rate.
    let (achieved, lag) = steady_lag(&jobs, &id, &orders, steady_rate, steady_seconds, "steady").await;
    println!("lag under {achieved:.0} changes/s from the writer (asked {steady_rate}/s) for {steady_seconds} s: {lag} (goal ≤ 2 s)");
    jobs.cancel(&id, "bench").unwrap();

    // 4. The same with a target far away from the start (a database in another region): a new
    //    job, its own astra-local.
    if let Some((latency_ms, jitter)) = far_from_env() {
        let far = TestAstra::with_faults(TOKEN, Faults { latency_ms, latency_jitter: jitter, ..Faults::default() }).await;
        let (raw, best) = replace_rate(&far.endpoint(), lanes, 5_000).await;
        println!();
        println!("over a far, jittery path (every request {latency_ms} ms longer at the median, log-normal with sigma {jitter}):");
        println!("astra-local findOneAndReplace alone over it: {raw:.0} requests/s with {best} in flight");
        let (id, took) = online_job(&jobs, &server.uri(), &far.endpoint(), lanes).await;
        println!("copied the collection over it and caught up in {took:.1?}");
        let (achieved, lag) = steady_lag(&jobs, &id, &orders, steady_rate, steady_seconds, "far").await;
        println!("lag under {achieved:.0} changes/s from the writer (asked {steady_rate}/s) for {steady_seconds} s: {lag} (goal ≤ 2 s)");
        // At least one change: one round, an update of every document.
        let (updated, _, rate) = update_backlog(&jobs, &id, &orders, &uri, 1).await;
        println!("apply rate at saturation over it, {updated} updates: {rate:.0} changes/s = {:.2} × astra-local alone over it", rate / raw);
        jobs.cancel(&id, "bench").unwrap();
    }
}

/// Pauses the job, updates every document of `orders` (`$inc`, `$set`) until at least
/// `backlog` changes are made, and resumes it: the changes made, the change stream's own
/// rate over them (with its lookups), and the job's apply rate.
async fn update_backlog(jobs: &JobManager, id: &str, orders: &mongodb::Collection<Document>, uri: &SourceUri, backlog: u64) -> (u64, f64, f64) {
    let (updated, from) = paused(jobs, id, orders, uri, |orders| async move {
        let mut made = 0;
        let mut round = 0i64;
        while made < backlog {
            round += 1;
            made += orders.update_many(doc! {}, doc! { "$inc": { "bench.round": 1 }, "$set": { "bench.at": round } }).await.unwrap().modified_count;
        }
        made
    })
    .await;
    let stream = stream_rate(orders, uri, &from, updated).await;
    let rate = apply(jobs, id, updated).await;
    (updated, stream, rate)
}

/// Starts an online job from the source's "orders" to `endpoint` with `lanes` in flight and
/// waits until it has copied and caught up: its id, and how long that took.
async fn online_job(jobs: &JobManager, source: &str, endpoint: &str, lanes: usize) -> (String, Duration) {
    let collections = vec![CollectionSpec { source: "orders".into(), target: "orders".into(), filter: None, indexing: Default::default(), vector: None }];
    let target = TargetSpec::DataApi { endpoint: endpoint.into(), keyspace: "default_keyspace".into(), token: TOKEN.into() };
    let spec = JobSpec { mode: JobMode::Online, in_flight: lanes, ..JobSpec::new(source.into(), "bench".into(), collections, target) };
    let started = Instant::now();
    let id = jobs.create(spec).await.unwrap();
    wait(jobs, &id, |p| following(p) && caught_up(p)).await;
    (id, started.elapsed())
}

/// The far path to run over: `DOCSHIFT_BENCH_FAR` as `latency_ms:jitter` (default `100:0.6`;
/// empty for none).
fn far_from_env() -> Option<(u64, f64)> {
    let text = std::env::var("DOCSHIFT_BENCH_FAR").unwrap_or_else(|_| "100:0.6".into());
    let (latency, jitter) = text.trim().split_once(':')?;
    Some((latency.trim().parse().expect("DOCSHIFT_BENCH_FAR: latency_ms:jitter"), jitter.trim().parse().expect("DOCSHIFT_BENCH_FAR: latency_ms:jitter")))
}

/// Runs the steady writer (its new `_id`s tagged `tag`) for `seconds` while sampling the
/// job's lag every 250 ms, then waits for the job to catch up: the writer's rate, and the
/// lag's median, p95 and max.
async fn steady_lag(jobs: &JobManager, id: &str, orders: &mongodb::Collection<Document>, rate: u64, seconds: u64, tag: &'static str) -> (f64, String) {
    let writer = tokio::spawn(steady_writer(orders.clone(), rate, Duration::from_secs(seconds), tag));
    let steady = Instant::now();
    let mut lags = Vec::new();
    while steady.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Some(lag) = jobs.progress(id).unwrap().online.and_then(|o| o.lag_seconds) {
            lags.push(lag);
        }
    }
    let written = writer.await.unwrap();
    let achieved = written as f64 / steady.elapsed().as_secs_f64();
    let caught = Instant::now();
    wait(jobs, id, caught_up).await;
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| lags.get(((lags.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    (achieved, format!("median {:.2} s, p95 {:.2} s, max {:.2} s; caught up {:.1?} after the writer stopped", at(0.5), at(0.95), at(1.0), caught.elapsed()))
}

/// Pauses the job, makes changes on the source with `make` (which says how many), and resumes
/// it: the count, and a point from before the changes.
async fn paused<F, Fut>(jobs: &JobManager, id: &str, orders: &mongodb::Collection<Document>, uri: &SourceUri, make: F) -> (u64, StreamPoint)
where
    F: FnOnce(mongodb::Collection<Document>) -> Fut,
    Fut: std::future::Future<Output = u64>,
{
    jobs.pause(id, "bench").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from = anchor(orders, uri).await.unwrap();
    let started = Instant::now();
    let made = make(orders.clone()).await;
    println!("made {made} changes on the source in {:.1?} while the job was paused", started.elapsed());
    (made, from)
}

/// Resumes the job and times it until `count` more changes are applied: per second.
async fn apply(jobs: &JobManager, id: &str, count: u64) -> f64 {
    let before = applied(&jobs.progress(id).unwrap());
    jobs.resume(id, "bench").unwrap();
    let started = Instant::now();
    let done = wait(jobs, id, |p| applied(p) >= before + count && caught_up(p)).await;
    (applied(&done) - before) as f64 / started.elapsed().as_secs_f64()
}

/// Changes `orders` at `per_second` changes a second for `length`, in small batches every
/// 20 ms (SecantusDB takes a few hundred single writes a second): a quarter inserts, half
/// updates, some replaces, the rest deletes. Answers the changes made.
async fn steady_writer(orders: mongodb::Collection<Document>, per_second: u64, length: Duration, tag: &'static str) -> u64 {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(1);
    let mut ids: Vec<bson::Bson> = orders
        .distinct("_id", doc! {})
        .await
        .unwrap();
    let tick = Duration::from_millis(20);
    let per_tick = (per_second as f64 * tick.as_secs_f64()).max(4.0) as usize;
    let (inserts, updates, deletes) = (per_tick / 4, per_tick / 2, per_tick / 8);
    let started = Instant::now();
    let mut next = started;
    let mut made = 0u64;
    let mut round = 0u64;
    while started.elapsed() < length {
        round += 1;
        let new: Vec<Document> = (0..inserts).map(|i| doc! { "_id": format!("{tag}-{round}-{i}"), "status": "placed", "n": 0 }).collect();
        ids.extend(new.iter().filter_map(|d| d.get("_id").cloned()));
        orders.insert_many(new).await.unwrap();
        let pick: Vec<bson::Bson> = (0..updates).map(|_| ids[rng.gen_range(0..ids.len())].clone()).collect();
        made += inserts as u64 + orders.update_many(doc! { "_id": { "$in": pick } }, doc! { "$inc": { "n": 1 }, "$set": { "at": round as i64 } }).await.unwrap().modified_count;
        let replaced = ids[rng.gen_range(0..ids.len())].clone();
        made += orders.replace_one(doc! { "_id": replaced }, doc! { "status": "replaced", "round": round as i64 }).await.unwrap().modified_count;
        let gone: Vec<bson::Bson> = (0..deletes).map(|_| ids.swap_remove(rng.gen_range(0..ids.len()))).collect();
        made += orders.delete_many(doc! { "_id": { "$in": gone } }).await.unwrap().deleted_count;
        next += tick;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    made
}

/// Reads `count` changes from `from` as a job's follower does, applying nothing: per second.
async fn stream_rate(collection: &mongodb::Collection<Document>, uri: &SourceUri, from: &StreamPoint, count: u64) -> f64 {
    let started = Instant::now();
    let mut feed = ChangeFeed::open(collection, uri, from).await.unwrap();
    let mut read = 0;
    while read < count {
        if feed.next().await.unwrap().is_some() {
            read += 1;
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// astra-local's own upsert rate: `total` `findOneAndReplace`s by `_id` (new documents) sent
/// over plain HTTP, bodies made beforehand, at a few concurrencies up to `in_flight`; the
/// fastest, in requests per second, and the concurrency that gave it. Plain HTTP, not
/// docshift's client: the target's limit, not docshift's limiter's idea of it.
async fn replace_rate(endpoint: &str, in_flight: usize, total: u64) -> (f64, usize) {
    let http = reqwest::Client::new();
    let keyspace = format!("{endpoint}/api/json/v1/default_keyspace");
    let mut best = (0.0, 0);
    for (round, concurrency) in [4usize, 16, in_flight].into_iter().filter(|&c| c <= in_flight).enumerate() {
        let name = format!("alone{round}");
        let created = http.post(&keyspace).header("Token", TOKEN).body(format!(r#"{{"createCollection":{{"name":"{name}"}}}}"#)).send().await.unwrap();
        assert!(created.status().is_success());
        let url = format!("{keyspace}/{name}");
        let bodies: Vec<String> = (0..total)
            .map(|i| {
                let replacement = serde_json::json!({ "_id": i, "orderNumber": format!("ORD-{i:08}"), "status": "changed", "bench": { "round": i, "at": i } });
                serde_json::json!({ "findOneAndReplace": { "filter": { "_id": i }, "replacement": replacement, "projection": { "_id": 1 }, "options": { "upsert": true } } }).to_string()
            })
            .collect();
        let started = Instant::now();
        let requests = bodies.into_iter().map(|body| {
            let request = http.post(&url).header("Token", TOKEN).header("Content-Type", "application/json").body(body);
            async move {
                let response = request.send().await.unwrap();
                assert!(response.status().is_success(), "findOneAndReplace: HTTP {}", response.status());
                let text = response.bytes().await.unwrap();
                assert!(!text.windows(9).any(|w| w == b"\"errors\":"), "findOneAndReplace failed: {}", String::from_utf8_lossy(&text));
            }
        });
        futures::stream::iter(requests).buffer_unordered(concurrency).collect::<()>().await;
        let rate = total as f64 / started.elapsed().as_secs_f64();
        if rate > best.0 {
            best = (rate, concurrency);
        }
    }
    best
}

fn applied(progress: &JobProgress) -> u64 {
    progress.online.as_ref().map(|o| o.applied.total()).unwrap_or_default()
}

fn following(progress: &JobProgress) -> bool {
    progress.online.as_ref().is_some_and(|o| o.phase == OnlinePhase::Following)
}

fn caught_up(progress: &JobProgress) -> bool {
    progress.online.as_ref().is_some_and(|o| o.lag_seconds == Some(0.0) && o.waiting == 0)
}

async fn wait(jobs: &JobManager, id: &str, ready: impl Fn(&JobProgress) -> bool) -> JobProgress {
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let progress = jobs.progress(id).unwrap();
        if ready(&progress) {
            return progress;
        }
        assert!(Instant::now() < deadline && !progress.status.is_final(), "the job did not get there: {progress:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
