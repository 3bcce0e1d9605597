//! docshift against the true limits of the source and the target, and against a peer script.
//!
//! One run, `DOCSHIFT_BENCH_DOCS` sample "orders" documents (default 100,000; about 500
//! bytes of BSON each: an ObjectId, a Decimal128 total, a date, an array of order lines) in
//! SecantusDB, then for SecantusDB as it comes and again after `createIndex({_id: -1})`:
//! 1. **source**: its fastest plain read, one cursor `find({})`, no sort, the Rust driver,
//!    the documents kept as raw BSON;
//! 2. **target**: astra-local's ingest alone, bodies converted beforehand, its fastest of a
//!    few chunk sizes and concurrencies;
//! 3. **peer**: `scripts/peer_astrapy.py` (pymongo `find({})` → astrapy
//!    `insert_many(chunk_size=50, concurrency=20)`), with the venv's python;
//! 4. **docshift copy** (`verify: none`) and 5. **docshift with verification**, each a
//!    `JobManager` job in a child process (its peak RSS, `VmHWM`, is the docshift figure),
//!    with the read plan it chose and why;
//!
//! 1, 4 and 5 run in turn `DOCSHIFT_BENCH_RUNS` times (default 3; see [`runs_from_env`])
//! and count by their medians, the peer once; and the ratios docshift / min(source, target) (goal ≥ 0.8) and docshift / peer (goal
//! ≥ 2.5), verification total / copy only (goal ≥ 0.6). Then runs against a request quota
//! (astra-local `rps_quota` 40 and 200, on a collection the quota's ceiling copies in 20 s:
//! 40,000 and 200,000 documents, whatever `DOCSHIFT_BENCH_DOCS`): docs/s
//! against the quota's ceiling (quota × 50 documents a request, for the copy and for the
//! read-back alike; goal ≥ 0.9), and the share of requests answered 429, counted by
//! astra-local's fault layer, in all, once settled (after the first 10 s; goal ≤ 5 %) and
//! second by second. `DOCSHIFT_BENCH_QUOTAS=40` runs one quota, `DOCSHIFT_BENCH_QUOTAS=`
//! none. And over a far, jittery path (`DOCSHIFT_BENCH_FAR=100:0.6`, the default: every
//! request to astra-local 100 ms longer at the median, log-normal with σ 0.6, as a database
//! in another region; empty for none): the source's plain read, the target alone over that
//! path (insertMany of 50, as many in flight as docshift may have), the peer and docshift's
//! copy over it, and docshift / min(source, target over the path).
//!
//! Beside each ratio to a limit, the bound the source's first batch sets: no copy writes
//! before it, so none takes less than that batch's wait plus the target's time alone. It
//! matters on a source that answers a query only once it has read all of it (SecantusDB
//! does, even for `find({}).limit(1000)`: see the README's performance section).
//!
//! Run: `DOCSHIFT_BENCH_DOCS=100000 cargo bench -p engine --bench migrate` (the venv of
//! `make test` at the workspace root, or `DOCSHIFT_VENV=/path/to/venv`; it holds SecantusDB,
//! pymongo and astrapy). `cargo bench` builds release, so astra-local, served from this
//! process, is a release build too. SecantusDB and
//! the peer are Python processes, astra-local runs in this process, docshift in a child:
//! all share the machine's cores, as they would on a laptop. Ratios within one run are what
//! count; figures on a shared machine are noisy.

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

use astra_local::{testing::TestAstra, FaultCounts, Faults};
use bson::{doc, Document};
use engine::{
    convert::Converter,
    job::{CollectionSpec, JobManager, JobSpec, TargetSpec, VerifyMode},
    sample::document,
    testing::{venv, MongoServer},
    wire::JobStatus,
};
use futures::{StreamExt, TryStreamExt};
use std::{
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::io::AsyncBufReadExt;

/// The allocator docshift's binary has.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "AstraCS:bench-token";
const DATABASE: &str = "bench";
const COLLECTION: &str = "orders";
/// The quota runs' collections (one per quota, named with it), and how long a copy at the
/// quota's ceiling takes: their size.
const QUOTA_COLLECTION: &str = "quota";
const QUOTA_SECONDS: u64 = 20;
const CHUNK: u64 = 50;
/// Set in the child's environment: the state directory; the child runs the job.
const CHILD_STATE: &str = "DOCSHIFT_BENCH_CHILD_STATE";
const CHILD_SOURCE: &str = "DOCSHIFT_BENCH_CHILD_SOURCE";
const CHILD_TARGET: &str = "DOCSHIFT_BENCH_CHILD_TARGET";
const CHILD_COLLECTION: &str = "DOCSHIFT_BENCH_CHILD_COLLECTION";
const CHILD_VERIFY: &str = "DOCSHIFT_BENCH_CHILD_VERIFY";

fn main() {
    match std::env::var(CHILD_STATE) {
        Ok(state) => {
            // `RUST_LOG=engine=debug` shows the job's steps with their times.
            tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
            child(Path::new(&state))
        }
        Err(_) => parent(),
    }
}

fn docs_from_env() -> u64 {
    match std::env::var("DOCSHIFT_BENCH_DOCS") {
        Ok(text) => text.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("DOCSHIFT_BENCH_DOCS={text} is not a number")),
        Err(_) => 100_000,
    }
}

/// How many times the next-door figures are measured (`DOCSHIFT_BENCH_RUNS`, default 3).
/// SecantusDB's own CPU time for the same read varies by about a tenth from one run to the
/// next (5.6-6.8 s for 100,000 documents, read with pymongo and by docshift alike), and a
/// copy next door ends about as soon as the source has served it, so one run of each moved
/// the ratio by as much: medians of runs made in turn hold still.
fn runs_from_env() -> usize {
    match std::env::var("DOCSHIFT_BENCH_RUNS") {
        Ok(text) => text.trim().parse().ok().filter(|n| *n > 0).unwrap_or_else(|| panic!("DOCSHIFT_BENCH_RUNS={text} is not a positive number")),
        Err(_) => 3,
    }
}

/// The middle of `times` (the lower middle of an even count).
fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted[(sorted.len() - 1) / 2]
}

/// The run whose `time` is the median.
fn median_run<T>(runs: &[T], time: impl Fn(&T) -> Duration) -> &T {
    let mut sorted: Vec<&T> = runs.iter().collect();
    sorted.sort_by_key(|r| time(r));
    sorted[(sorted.len() - 1) / 2]
}

/// `5.9s, 5.6s-6.2s over 3 runs`, or just the time of one run.
fn spread(times: &[Duration]) -> String {
    match (times.iter().min(), times.iter().max()) {
        (Some(min), Some(max)) if times.len() > 1 => format!("{:.1?}, {min:.1?}-{max:.1?} over {} runs", median(times), times.len()),
        _ => format!("{:.1?}", median(times)),
    }
}

/// The quotas to run against: `DOCSHIFT_BENCH_QUOTAS` (default `40,200`; empty for none).
fn quotas_from_env() -> Vec<u32> {
    let text = std::env::var("DOCSHIFT_BENCH_QUOTAS").unwrap_or_else(|_| "40,200".into());
    text.split(',').map(str::trim).filter(|q| !q.is_empty()).map(|q| q.parse().unwrap_or_else(|_| panic!("DOCSHIFT_BENCH_QUOTAS: {q} is not a number"))).collect()
}

/// The far path to run over: `DOCSHIFT_BENCH_FAR` as `latency_ms:jitter` (default `100:0.6`;
/// empty for none).
fn far_from_env() -> Option<(u64, f64)> {
    let text = std::env::var("DOCSHIFT_BENCH_FAR").unwrap_or_else(|_| "100:0.6".into());
    if text.trim().is_empty() {
        return None;
    }
    let (latency, jitter) = text.split_once(':').unwrap_or_else(|| panic!("DOCSHIFT_BENCH_FAR={text}: expected latency_ms:jitter, e.g. 100:0.6"));
    Some((latency.trim().parse().unwrap_or_else(|_| panic!("DOCSHIFT_BENCH_FAR: {latency} is not milliseconds")), jitter.trim().parse().unwrap_or_else(|_| panic!("DOCSHIFT_BENCH_FAR: {jitter} is not a number"))))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

fn rate(docs: u64, elapsed: Duration) -> f64 {
    docs as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn parent() {
    let docs = docs_from_env();
    let runs = runs_from_env();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("docshift benchmark: {docs} sample \"{COLLECTION}\" documents, next-door figures the median of {runs} run(s); {cores} cores, load average {} at the start", load_average());
    let runtime = runtime();
    let server = MongoServer::start();
    let started = Instant::now();
    runtime.block_on(server.load_sample(DATABASE, COLLECTION, docs));
    println!("loaded into SecantusDB in {:.1?} ({:.0} docs/s)", started.elapsed(), rate(docs, started.elapsed()));

    // The target does not depend on the source: its ingest is measured once.
    let (ingest, how) = runtime.block_on(ingest_target(docs, Faults::default(), &[(50, 4), (50, 20), (100, 4), (100, 16)]));
    println!("target, astra-local ingest alone:        {:>8.0} docs/s  ({ingest:.1?}; {how}; the fastest of a few shapes)", rate(docs, ingest));

    for indexed in [false, true] {
        if indexed {
            runtime.block_on(create_id_index(&server.uri(), COLLECTION));
        }
        println!();
        println!("== SecantusDB {} (load average {})", if indexed { "with an {_id: -1} index" } else { "as it comes" }, load_average());
        // The source's read, docshift's copy and its copy with verification, in turn, `runs`
        // times: the figures are medians (fastest–slowest beside them).
        let (mut sources, mut firsts, mut copies, mut fulls) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let (source, first_batch) = runtime.block_on(plain_read(&server.uri(), COLLECTION, docs));
            sources.push(source);
            firsts.push(first_batch);
            copies.push(runtime.block_on(run_job(&server.uri(), COLLECTION, "none", Faults::default())));
            fulls.push(runtime.block_on(run_job(&server.uri(), COLLECTION, "all", Faults::default())));
        }
        let (source, first_batch) = (median(&sources), median(&firsts));
        println!("source, one plain cursor (Rust driver):  {:>8.0} docs/s  ({}; first batch after {first_batch:.1?})", rate(docs, source), spread(&sources));
        let peer = runtime.block_on(run_peer(&server.uri(), COLLECTION, Faults::default()));
        println!("peer, pymongo + astrapy script:          {:>8.0} docs/s  ({peer:.1?})", rate(docs, peer));
        let copy_times: Vec<Duration> = copies.iter().map(|c| c.copy).collect();
        let copy = median_run(&copies, |c| c.copy);
        println!(
            "docshift copy only:                      {:>8.0} docs/s  ({}; first write after {:.1?}; peak RSS {:.0} MB; {:.1} µs of CPU a document)",
            rate(docs, median(&copy_times)),
            spread(&copy_times),
            copy.first_write,
            copies.iter().map(|c| c.hwm_kb).max().unwrap_or_default() as f64 / 1024.0,
            copy.cpu.as_secs_f64() * 1e6 / docs as f64
        );
        println!("  read plan: {} ({} range(s)): {}", copy.plan, copy.ranges, copy.reason);
        let totals: Vec<Duration> = fulls.iter().map(|f| f.copy + f.verify).collect();
        let full = median_run(&fulls, |f| f.copy + f.verify);
        let total = median(&totals);
        println!(
            "docshift with verification:              {:>8.0} docs/s  ({}; the median run {:.1?} copy + {:.1?} verification at {:.0} docs/s; peak RSS {:.0} MB)",
            rate(docs, total),
            spread(&totals),
            full.copy,
            full.verify,
            rate(docs, full.verify),
            fulls.iter().map(|f| f.hwm_kb).max().unwrap_or_default() as f64 / 1024.0
        );
        for run in copies.iter().chain(&fulls) {
            assert_eq!(run.status.as_str(), "complete", "the benchmark jobs must complete");
        }
        let limit = rate(docs, source).min(rate(docs, ingest));
        let copy_rate = rate(docs, median(&copy_times));
        println!("ratio docshift copy / min(source, target): {:.2}  (goal >= 0.80)", copy_rate / limit);
        first_batch_bound(docs, source, first_batch, ingest, copy_rate, limit, "min(source, target)");
        println!("ratio docshift copy / peer:                {:.2}  (goal >= 2.5)", copy_rate / rate(docs, peer));
        println!("ratio with verification / copy only:       {:.2}  (goal >= 0.6)", rate(docs, total) / copy_rate);
    }

    if let Some((latency_ms, jitter)) = far_from_env() {
        // The collection has its {_id: -1} index by now: the source as fast as it gets.
        let faults = Faults { latency_ms, latency_jitter: jitter, ..Faults::default() };
        let in_flight = engine::tuning::IN_FLIGHT.default;
        println!();
        println!("== over a far, jittery path: every request {latency_ms} ms longer at the median, log-normal with sigma {jitter} (load average {})", load_average());
        let (source, first_batch) = runtime.block_on(plain_read(&server.uri(), COLLECTION, docs));
        println!("source, one plain cursor (Rust driver):  {:>8.0} docs/s  ({source:.1?}; first batch after {first_batch:.1?})", rate(docs, source));
        let (alone, how) = runtime.block_on(ingest_target(docs, faults.clone(), &[(CHUNK as usize, in_flight)]));
        println!("target alone over the path:              {:>8.0} docs/s  ({alone:.1?}; {how})", rate(docs, alone));
        let peer = runtime.block_on(run_peer(&server.uri(), COLLECTION, faults.clone()));
        println!("peer, pymongo + astrapy script:          {:>8.0} docs/s  ({peer:.1?})", rate(docs, peer));
        let copy = runtime.block_on(run_job(&server.uri(), COLLECTION, "none", faults));
        println!("docshift copy only:                      {:>8.0} docs/s  ({:.1?}; job {})", rate(docs, copy.copy), copy.copy, copy.status);
        let copy_rate = rate(docs, copy.copy);
        let limit = rate(docs, source).min(rate(docs, alone));
        println!("ratio docshift copy / min(source, target over the path): {:.2}  (goal >= 0.80)", copy_rate / limit);
        first_batch_bound(docs, source, first_batch, alone, copy_rate, limit, "min(source, target over the path)");
        println!("ratio docshift copy / peer:                               {:.2}  (goal >= 2.5)", copy_rate / rate(docs, peer));
    }

    for quota in quotas_from_env() {
        // Long enough to settle: QUOTA_SECONDS at the ceiling.
        let quota_docs = u64::from(quota) * CHUNK * QUOTA_SECONDS;
        let collection = format!("{QUOTA_COLLECTION}{quota}");
        runtime.block_on(server.load_sample(DATABASE, &collection, quota_docs));
        println!();
        println!("== against a quota of {quota} requests/s: {quota_docs} documents, ceiling {} docs/s (load average {})", u64::from(quota) * CHUNK, load_average());
        let faults = Faults { rps_quota: Some(quota), ..Faults::default() };
        let (source, first_batch) = runtime.block_on(plain_read(&server.uri(), &collection, quota_docs));
        let run = runtime.block_on(run_job(&server.uri(), &collection, "all", faults));
        let ceiling = f64::from(quota) * CHUNK as f64;
        let (copy_rate, verify_rate) = (rate(quota_docs, run.copy), rate(quota_docs, run.verify));
        println!("job: {}; copy {copy_rate:.0} docs/s = {:.2} of the ceiling; verification {verify_rate:.0} docs/s = {:.2} of it (goal >= 0.9)", run.status, copy_rate / ceiling, verify_rate / ceiling);
        first_batch_bound(quota_docs, source, first_batch, Duration::from_secs_f64(quota_docs as f64 / ceiling), copy_rate, ceiling, "the ceiling");
        let share = |c: FaultCounts| c.throttled as f64 * 100.0 / c.requests.max(1) as f64;
        println!(
            "429s: {} of {} requests ({:.1} %); once settled (after 10 s): {:.1} %  (goal <= 5 %)",
            run.counts.throttled,
            run.counts.requests,
            share(run.counts),
            share(run.settled)
        );
        println!("429s by second: {}", run.by_second.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "));
    }
    println!();
    println!("load average {} at the end", load_average());
}

/// What the source's first batch leaves any copy: it can't write before that batch, so it
/// takes at least that long plus the target's time alone for every document (and never less
/// than the read itself). Printed beside each ratio to a limit, which assumes a source that
/// streams from its first document.
fn first_batch_bound(docs: u64, source: Duration, first_batch: Duration, target: Duration, copy_rate: f64, limit: f64, of: &str) {
    let best = rate(docs, source.max(first_batch + target));
    println!("  the source's first batch came after {first_batch:.1?} (one plain cursor): a copy could do at most {:.2} of {of} here; docshift did {:.2} of that", best / limit, copy_rate / best);
}

/// The benchmark's own data gets the index (never a user's source).
async fn create_id_index(uri: &str, collection: &str) {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let index = mongodb::IndexModel::builder().keys(doc! { "_id": -1 }).build();
    client.database(DATABASE).collection::<Document>(collection).create_index(index).await.unwrap();
}

/// One plain cursor over the collection, no sort, the documents kept as the raw BSON the
/// server sent (no `Document` built): the fastest read the driver gets. Returns the time it
/// took and the time to the first batch.
async fn plain_read(uri: &str, collection: &str, docs: u64) -> (Duration, Duration) {
    // Patient: SecantusDB answers no heartbeat while it reads the whole result before the
    // first batch, and the driver's monitor would interrupt the read after its connect timeout.
    let client = mongodb::Client::with_uri_str(format!("{uri}/?serverSelectionTimeoutMS=60000&connectTimeoutMS=600000")).await.unwrap();
    let collection = client.database(DATABASE).collection::<bson::RawDocumentBuf>(collection);
    let started = Instant::now();
    let mut cursor = collection.find(doc! {}).batch_size(1_000).await.unwrap();
    let (mut read, mut first) = (0u64, None);
    while let Some(document) = cursor.try_next().await.unwrap() {
        first.get_or_insert_with(|| started.elapsed());
        read += 1;
        std::hint::black_box(document);
    }
    assert_eq!(read, docs);
    (started.elapsed(), first.unwrap_or_default())
}

/// astra-local's ingest alone (with `faults`): the documents converted and packed
/// beforehand, sent to a fresh instance; the fastest of the `shapes` (chunk size,
/// concurrency).
async fn ingest_target(docs: u64, faults: Faults, shapes: &[(usize, usize)]) -> (Duration, String) {
    let converter = Converter::new(Default::default(), &Default::default()).unwrap();
    let json: Vec<String> = (0..docs).map(|i| converter.convert(&document(COLLECTION, i)).unwrap().into_json()).collect();
    let mut best: Option<(Duration, String)> = None;
    for &(chunk, concurrency) in shapes {
        let bodies: Vec<bytes::Bytes> = json
            .chunks(chunk)
            .map(|c| format!(r#"{{"insertMany":{{"documents":[{}],"options":{{"ordered":false,"returnDocumentResponses":true}}}}}}"#, c.join(",")).into())
            .collect();
        let astra = TestAstra::with_faults(TOKEN, faults.clone()).await;
        let http = reqwest::Client::new();
        let keyspace = format!("{}/api/json/v1/default_keyspace", astra.endpoint());
        let created = http.post(&keyspace).header("Token", TOKEN).body(r#"{"createCollection":{"name":"ingest"}}"#).send().await.unwrap();
        assert!(created.status().is_success());
        let url = format!("{keyspace}/ingest");
        let started = Instant::now();
        let requests = bodies.into_iter().map(|body| {
            let request = http.post(&url).header("Token", TOKEN).header("Content-Type", "application/json").body(body);
            async move {
                let response = request.send().await.unwrap();
                assert!(response.status().is_success(), "insertMany: HTTP {}", response.status());
                let text = response.bytes().await.unwrap();
                assert!(!text.windows(9).any(|w| w == b"\"errors\":"), "insertMany failed: {}", String::from_utf8_lossy(&text[..text.len().min(300)]));
            }
        });
        futures::stream::iter(requests).buffer_unordered(concurrency).collect::<()>().await;
        let elapsed = started.elapsed();
        astra.stop().await;
        if best.as_ref().is_none_or(|(b, _)| elapsed < *b) {
            best = Some((elapsed, format!("insertMany of {chunk}, {concurrency} in flight")));
        }
    }
    best.unwrap()
}

/// The astrapy script against a fresh astra-local (with `faults`): its own time from first
/// read to last write.
async fn run_peer(uri: &str, collection: &str, faults: Faults) -> Duration {
    let astra = TestAstra::with_faults(TOKEN, faults).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/peer_astrapy.py");
    let output = tokio::process::Command::new(venv().join("bin/python"))
        .arg(script)
        .args([uri, DATABASE, collection, &astra.endpoint(), TOKEN, "peer"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "the peer failed: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    astra.stop().await;
    let seconds = text.split_whitespace().find_map(|kv| kv.strip_prefix("seconds=")).unwrap_or_else(|| panic!("the peer said: {text}"));
    Duration::from_secs_f64(seconds.parse().unwrap())
}

/// What a child run reports, with astra-local's counts.
#[derive(Debug)]
struct JobRun {
    status: String,
    copy: Duration,
    /// From the job's creation to its first batch written.
    first_write: Duration,
    verify: Duration,
    hwm_kb: u64,
    /// The child's CPU time, user and system.
    cpu: Duration,
    plan: String,
    ranges: String,
    reason: String,
    /// Requests and 429s in all, and after the first 10 s.
    counts: FaultCounts,
    settled: FaultCounts,
    /// 429s in each second of the run.
    by_second: Vec<u64>,
}

/// Runs a job in a child process against a fresh astra-local (with `faults`) served from here.
async fn run_job(source_uri: &str, collection: &str, verify: &str, faults: Faults) -> JobRun {
    let state = tempfile::tempdir().unwrap();
    let astra = Arc::new(TestAstra::with_faults(TOKEN, faults).await);
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .env(CHILD_STATE, state.path())
        .env(CHILD_SOURCE, source_uri)
        .env(CHILD_TARGET, astra.endpoint())
        .env(CHILD_COLLECTION, collection)
        .env(CHILD_VERIFY, verify)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let mut child = tokio::process::Command::from(command).spawn().unwrap();
    // astra-local's counts at 10 s, for the share once settled, and its 429s second by second.
    let at_ten: Arc<Mutex<Option<FaultCounts>>> = Arc::default();
    let by_second: Arc<Mutex<Vec<u64>>> = Arc::default();
    let sampler = {
        let (astra, at_ten, by_second) = (astra.clone(), at_ten.clone(), by_second.clone());
        tokio::spawn(async move {
            let mut last = astra.fault_counts();
            for second in 1.. {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let now = astra.fault_counts();
                by_second.lock().unwrap().push(now.throttled - last.throttled);
                last = now;
                if second == 10 {
                    *at_ten.lock().unwrap() = Some(now);
                }
            }
        })
    };
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    while let Some(line) = stdout.next_line().await.unwrap() {
        lines.push(line);
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "the child failed: {status}; {lines:?}");
    sampler.abort();
    let counts = astra.fault_counts();
    let early = (*at_ten.lock().unwrap()).filter(|_| started.elapsed() > Duration::from_secs(10)).unwrap_or_default();
    let settled = FaultCounts { requests: counts.requests - early.requests, throttled: counts.throttled - early.throttled };
    let by_second = std::mem::take(&mut *by_second.lock().unwrap());
    if let Ok(astra) = Arc::try_unwrap(astra) {
        astra.stop().await;
    }
    let field = |name: &str| -> String {
        lines
            .iter()
            .flat_map(|l| l.split_whitespace())
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("the child did not report {name}: {lines:?}"))
            .to_owned()
    };
    JobRun {
        status: field("status"),
        copy: Duration::from_secs_f64(field("copy_s").parse().unwrap()),
        first_write: Duration::from_secs_f64(field("first_write_s").parse().unwrap()),
        verify: Duration::from_secs_f64(field("verify_s").parse().unwrap()),
        hwm_kb: field("hwm_kb").parse().unwrap(),
        cpu: Duration::from_secs_f64(field("cpu_s").parse().unwrap()),
        plan: field("plan"),
        ranges: field("ranges"),
        reason: lines.iter().find_map(|l| l.strip_prefix("reason: ")).unwrap_or_default().to_owned(),
        counts,
        settled,
        by_second,
    }
}

/// The peak resident set of this process so far, in KB.
/// This process's CPU time so far, user and system (`/proc/self/stat`, in clock ticks of
/// 1/100 s, the kernel's `USER_HZ` on Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap()
}

/// The child: one job with the defaults, the copy and the verification timed apart;
/// reports on stdout.
fn child(state: &Path) {
    let source_uri = std::env::var(CHILD_SOURCE).unwrap();
    let endpoint = std::env::var(CHILD_TARGET).unwrap();
    let collection = std::env::var(CHILD_COLLECTION).unwrap();
    let verify = if std::env::var(CHILD_VERIFY).unwrap() == "none" { VerifyMode::None } else { VerifyMode::All };
    runtime().block_on(async move {
        let jobs = JobManager::open(state).unwrap();
        let mut spec = JobSpec::new(
            source_uri,
            DATABASE.into(),
            vec![CollectionSpec { source: collection.clone(), target: collection, filter: None, indexing: Default::default(), vector: None }],
            TargetSpec::DataApi { endpoint, keyspace: "default_keyspace".into(), token: TOKEN.into() },
        );
        spec.verify = verify;
        let started = Instant::now();
        let id = jobs.create(spec).await.unwrap();
        let (mut copied, mut first_write): (Option<Duration>, Option<Duration>) = (None, None);
        let progress = loop {
            let progress = jobs.progress(&id).unwrap();
            if first_write.is_none() && progress.collections.iter().any(|c| c.counters.written > 0) {
                first_write = Some(started.elapsed());
            }
            if copied.is_none() && matches!(progress.status, JobStatus::Verifying | JobStatus::Complete | JobStatus::Failed) {
                copied = Some(started.elapsed());
            }
            if progress.status.is_final() || progress.status == JobStatus::Paused {
                break jobs.settled(&id).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let total = started.elapsed();
        let copy = copied.unwrap_or(total);
        let orders = &progress.collections[0];
        eprintln!("job {id}: {:?} {:?}; {:?}; {:?}; throttle {:?}", progress.status, progress.message, orders.counters, orders.verification, progress.throttle);
        let plan = orders.plan.clone().unwrap();
        println!(
            "status={} copy_s={:.3} first_write_s={:.3} verify_s={:.3} hwm_kb={} cpu_s={:.2} plan={} ranges={}",
            progress.status.as_str(),
            copy.as_secs_f64(),
            first_write.unwrap_or(copy).as_secs_f64(),
            (total - copy).as_secs_f64(),
            vm_hwm_kb(),
            cpu_time().as_secs_f64(),
            plan.kind.as_str(),
            plan.ranges
        );
        println!("reason: {}{}", plan.reason, plan.changes.iter().map(|c| format!("; then {c}")).collect::<String>());
    });
}
