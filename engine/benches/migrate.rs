//! docshift's end-to-end migration rate against its two limits, and its peak memory.
//!
//! On one run, with the same settings as a default job (4 `_id` ranges, batches of 1,000,
//! `insertMany` of 50, 20 requests in flight per range), over `DOCSHIFT_BENCH_DOCS` sample
//! "orders" documents (about 1 KB each; default 1,000,000):
//! 1. loads them into SecantusDB (a Python process) and says how long that took;
//! 2. **source alone**: reads the collection with the mongodb driver the way the runner does
//!    (parallel ranges, each sorted by `_id`, into `bson::Document`s);
//! 3. **target alone**: sends the same documents, converted beforehand, to a fresh
//!    astra-local as `insertMany` of 50 with as many requests in flight as the job keeps;
//! 4. **end to end**: runs a `JobManager` job into another fresh astra-local, in a child
//!    process, timing the copy and the verification (every document read back) apart;
//! 5. prints the rates, the ratio end-to-end / min(source, target) (goal ≥ 0.8) and the
//!    child's peak RSS (`VmHWM`; goal ≤ 200 MB).
//!
//! The child process is this binary again, and runs only docshift's engine: job manager,
//! mongodb driver, HTTP client and SQLite state. SecantusDB is its own (Python) process and
//! astra-local runs in this parent process, so neither counts in the child's peak RSS.
//!
//! Everything runs on loopback, on the same machine: the three processes share its cores, so
//! the end-to-end figure pays for the source, the target and docshift at once while each
//! "alone" figure has the machine to itself. Figures on a shared machine are noisy.
//!
//! Run: `cargo bench -p engine --bench migrate` (env: `DOCSHIFT_BENCH_DOCS`, e.g. 100000 for
//! a quicker run). It needs the SecantusDB venv (`make test` creates it) and disk space for
//! the documents three times over (SecantusDB and two astra-local databases).
//!
//! Expect it to be slow at 1,000,000 documents on 2 cores: SecantusDB loads about 3,500 to
//! 6,000 docs/s (3 to 5 minutes), and it answers a range query with a collection scan and an
//! in-memory sort (no `_id` index use), so each of the 4 ranges scans the whole collection:
//! the 4-range scan alone took 10 minutes, the one-cursor scan 2, and the job takes as long
//! as the 4-range scan again, plus verification. 100,000 documents take about 2.5 minutes.

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

use astra_local::testing::TestAstra;
use bson::Document;
use engine::{
    convert::Converter,
    job::{CollectionSpec, JobManager, JobSpec, TargetSpec},
    sample::document,
    source::ranges::split,
    testing::MongoServer,
    wire::JobStatus,
};
use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncBufReadExt;
use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const TOKEN: &str = "AstraCS:bench-token";
const DATABASE: &str = "bench";
const COLLECTION: &str = "orders";
/// The job's defaults, which every part of the benchmark uses.
const RANGES: usize = engine::tuning::PARALLEL_RANGES.default;
const BATCH: usize = engine::tuning::BATCH_SIZE.default;
const CHUNK: usize = engine::tuning::CHUNK_SIZE.default;
const IN_FLIGHT: usize = engine::tuning::IN_FLIGHT.default;
/// Minimum documents per range, as the runner splits (engine::job::runner).
const MIN_PER_RANGE: u64 = 5_000;
/// Set in the child's environment: the state directory; the child runs the job.
const CHILD_STATE: &str = "DOCSHIFT_BENCH_CHILD_STATE";
const CHILD_SOURCE: &str = "DOCSHIFT_BENCH_CHILD_SOURCE";
const CHILD_TARGET: &str = "DOCSHIFT_BENCH_CHILD_TARGET";

fn main() {
    match std::env::var(CHILD_STATE) {
        Ok(state) => child(Path::new(&state)),
        Err(_) => parent(),
    }
}

fn docs_from_env() -> u64 {
    match std::env::var("DOCSHIFT_BENCH_DOCS") {
        Ok(text) => text.replace(['_', ','], "").parse().unwrap_or_else(|_| panic!("DOCSHIFT_BENCH_DOCS={text} is not a number")),
        Err(_) => 1_000_000,
    }
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
    println!("docshift migrate benchmark: {docs} sample \"{COLLECTION}\" documents, {RANGES} ranges, batches of {BATCH}, insertMany of {CHUNK}, {IN_FLIGHT} in flight per range");
    println!("machine: {} cores, load average {} at the start", std::thread::available_parallelism().map_or(0, |n| n.get()), load_average());
    let runtime = runtime();
    let server = MongoServer::start();

    let started = Instant::now();
    runtime.block_on(load(&server.uri(), docs));
    let loaded = started.elapsed();
    println!("load into SecantusDB:     {:>10.0} docs/s  ({docs} documents in {loaded:.1?})", rate(docs, loaded));

    let scan = runtime.block_on(scan_source(&server.uri(), docs, RANGES));
    println!("source scan alone:        {:>10.0} docs/s  ({scan:.1?})", rate(docs, scan));
    // For context: one cursor over the whole collection (how fast the server can stream).
    let single = runtime.block_on(scan_source(&server.uri(), docs, 1));
    println!("  (one cursor, no range:  {:>10.0} docs/s  ({single:.1?}), not used in the ratio)", rate(docs, single));

    let ingest = runtime.block_on(ingest_target(docs));
    println!("target ingest alone:      {:>10.0} docs/s  ({ingest:.1?})", rate(docs, ingest));

    let job = runtime.block_on(end_to_end(&server.uri()));
    println!("job status: {}", job.status);
    let copy_rate = rate(docs, job.copy);
    println!("docshift end to end:      {:>10.0} docs/s  ({:.1?} to copy, verification apart)", copy_rate, job.copy);
    println!("verification (all docs):  {:>10.0} docs/s  ({:.1?})", rate(docs, job.verify), job.verify);
    println!("end to end with verification: {:>6.0} docs/s  ({:.1?})", rate(docs, job.copy + job.verify), job.copy + job.verify);
    let limit = rate(docs, scan).min(rate(docs, ingest));
    println!("ratio end to end / min(source, target): {:.2}  (goal >= 0.80)", copy_rate / limit);
    println!(
        "peak RSS of the migrating process (VmHWM): {:.1} MB after the copy, {:.1} MB with verification  (goal <= 200 MB)",
        job.hwm_copy_kb as f64 / 1024.0,
        job.hwm_kb as f64 / 1024.0
    );
    println!("load average {} at the end", load_average());
}

/// Inserts the sample documents, generated here, two batches at a time.
async fn load(uri: &str, docs: u64) {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let collection = client.database(DATABASE).collection::<Document>(COLLECTION);
    let batches = (0..docs).step_by(BATCH).map(|first| {
        let collection = collection.clone();
        async move {
            let batch: Vec<Document> = (first..(first + BATCH as u64).min(docs)).map(|i| document(COLLECTION, i)).collect();
            collection.insert_many(batch).await.map(|_| ())
        }
    });
    futures::stream::iter(batches).buffer_unordered(2).try_collect::<()>().await.unwrap();
}

/// Reads the whole collection as the runner does, in `ranges` parallel ranges; returns the
/// time it took. Like the runner, it waits up to 30 s for the server and reopens a range
/// after the last `_id` read when the server fails transiently (SecantusDB can stall while
/// it sorts ranges of a large collection in memory).
async fn scan_source(uri: &str, docs: u64, ranges: usize) -> Duration {
    let uri = format!("{uri}/?connectTimeoutMS=30000&serverSelectionTimeoutMS=30000");
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    let collection = client.database(DATABASE).collection::<Document>(COLLECTION);
    let started = Instant::now();
    let ranges = split(&collection, &Document::new(), docs, ranges, MIN_PER_RANGE, None).await.unwrap();
    let readers = ranges.into_iter().map(|range| {
        let collection = collection.clone();
        tokio::spawn(async move {
            let mut read = 0u64;
            let mut after: Option<bson::Bson> = None;
            let mut failures = 0;
            'reopen: loop {
                let query = range.filter(&Document::new(), after.as_ref());
                let mut cursor = collection.find(query).sort(bson::doc! { "_id": 1 }).batch_size(BATCH as u32).await.unwrap();
                loop {
                    match cursor.try_next().await {
                        Ok(Some(mut document)) => {
                            read += 1;
                            after = document.remove("_id");
                            std::hint::black_box(&document);
                        }
                        Ok(None) => break 'reopen,
                        Err(e) if failures < 8 => {
                            failures += 1;
                            eprintln!("source scan: {e}; reopening after the last _id read");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue 'reopen;
                        }
                        Err(e) => panic!("source scan: {e}"),
                    }
                }
            }
            read
        })
    });
    let read: u64 = futures::future::try_join_all(readers).await.unwrap().into_iter().sum();
    assert_eq!(read, docs, "the scan read every document once");
    started.elapsed()
}

/// Sends the documents, converted and packed into request bodies beforehand, to a fresh
/// astra-local; returns the time the requests took.
async fn ingest_target(docs: u64) -> Duration {
    let astra = TestAstra::start(TOKEN).await;
    let http = reqwest::Client::new();
    let keyspace = format!("{}/api/json/v1/default_keyspace", astra.endpoint());
    let created = http.post(&keyspace).header("Token", TOKEN).body(r#"{"createCollection":{"name":"ingest"}}"#).send().await.unwrap();
    assert!(created.status().is_success());

    let converter = Converter::new(Default::default(), &Default::default()).unwrap();
    let bodies: Vec<bytes::Bytes> = (0..docs)
        .step_by(CHUNK)
        .map(|first| {
            let documents: Vec<String> = (first..(first + CHUNK as u64).min(docs)).map(|i| converter.convert(&document(COLLECTION, i)).unwrap().into_json()).collect();
            format!(r#"{{"insertMany":{{"documents":[{}],"options":{{"ordered":false,"returnDocumentResponses":true}}}}}}"#, documents.join(",")).into()
        })
        .collect();

    let url = format!("{keyspace}/ingest");
    let started = Instant::now();
    let requests = bodies.into_iter().map(|body| {
        let request = http.post(&url).header("Token", TOKEN).header("Content-Type", "application/json").body(body);
        async move {
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "insertMany: HTTP {}", response.status());
            let text = response.bytes().await.unwrap();
            assert!(!memchr_errors(&text), "insertMany failed: {}", String::from_utf8_lossy(&text[..text.len().min(300)]));
        }
    });
    futures::stream::iter(requests).buffer_unordered(RANGES * IN_FLIGHT).collect::<()>().await;
    let elapsed = started.elapsed();
    astra.stop().await;
    elapsed
}

/// Whether a Data API answer holds an `errors` array.
fn memchr_errors(body: &[u8]) -> bool {
    body.windows(9).any(|w| w == b"\"errors\":")
}

/// What the child reports.
#[derive(Debug)]
struct ChildReport {
    status: String,
    copy: Duration,
    verify: Duration,
    hwm_copy_kb: u64,
    hwm_kb: u64,
}

/// Runs the job in a child process against a fresh astra-local served from here.
async fn end_to_end(source_uri: &str) -> ChildReport {
    let state = tempfile::tempdir().unwrap();
    let astra = TestAstra::start(TOKEN).await;
    let mut child = tokio::process::Command::from({
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .env(CHILD_STATE, state.path())
            .env(CHILD_SOURCE, source_uri)
            .env(CHILD_TARGET, astra.endpoint())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        command
    })
    .spawn()
    .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    while let Some(line) = stdout.next_line().await.unwrap() {
        lines.push(line);
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "the child failed: {status}; {lines:?}");
    astra.stop().await;
    let field = |name: &str| -> String {
        lines
            .iter()
            .flat_map(|l| l.split_whitespace())
            .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .unwrap_or_else(|| panic!("the child did not report {name}: {lines:?}"))
            .to_owned()
    };
    ChildReport {
        status: field("status"),
        copy: Duration::from_secs_f64(field("copy_s").parse().unwrap()),
        verify: Duration::from_secs_f64(field("verify_s").parse().unwrap()),
        hwm_copy_kb: field("hwm_copy_kb").parse().unwrap(),
        hwm_kb: field("hwm_kb").parse().unwrap(),
    }
}

/// The peak resident set of this process so far, in KB.
fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap()
}

/// The child: one job, the copy and the verification timed apart; reports on stdout.
fn child(state: &Path) {
    let source_uri = std::env::var(CHILD_SOURCE).unwrap();
    let endpoint = std::env::var(CHILD_TARGET).unwrap();
    runtime().block_on(async move {
        let jobs = JobManager::open(state).unwrap();
        let spec = JobSpec::new(
            source_uri,
            DATABASE.into(),
            vec![CollectionSpec { source: COLLECTION.into(), target: COLLECTION.into(), filter: None, indexing: Default::default() }],
            TargetSpec::DataApi { endpoint, keyspace: "default_keyspace".into(), token: TOKEN.into() },
        );
        let started = Instant::now();
        let id = jobs.create(spec).await.unwrap();
        let mut copied: Option<(Duration, u64)> = None;
        let progress = loop {
            let progress = jobs.progress(&id).unwrap();
            if copied.is_none() && matches!(progress.status, JobStatus::Verifying | JobStatus::Complete | JobStatus::Failed) {
                copied = Some((started.elapsed(), vm_hwm_kb()));
            }
            if progress.status.is_final() || progress.status == JobStatus::Paused {
                break jobs.settled(&id).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let total = started.elapsed();
        let (copy, hwm_copy_kb) = copied.unwrap_or((total, vm_hwm_kb()));
        let counters = progress.collections[0].counters;
        let verification = progress.collections[0].verification.clone();
        eprintln!("job {id}: {:?} {:?}; {counters:?}; {verification:?}", progress.status, progress.message);
        println!(
            "status={} copy_s={:.3} verify_s={:.3} hwm_copy_kb={hwm_copy_kb} hwm_kb={}",
            progress.status.as_str(),
            copy.as_secs_f64(),
            (total - copy).as_secs_f64(),
            vm_hwm_kb()
        );
    });
}
