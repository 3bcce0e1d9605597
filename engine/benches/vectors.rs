//! The copy of embeddings into a vector collection: its rate, beside the same documents
//! copied with the embedding as an ordinary array, and the recall@10 the job reports.
//!
//! Loads `DOCSHIFT_BENCH_VECTORS` documents (default 20,000), each a title and a 768-number
//! float64 embedding (about 15 KB of BSON), into SecantusDB; then, into a fresh in-process
//! astra-local each time, runs one job with the embedding mapped to `$vector` and one without
//! a mapping, timing the copy and the verification (which, for the vector job, includes the
//! recall pass: 100 queries, one source scan, 100 vector searches) apart.
//!
//! Run: `cargo bench -p engine --bench vectors` (needs the SecantusDB venv that `make test`
//! creates). On a shared 2-core machine the figures are noisy: compare the two jobs of one run.

#![allow(clippy::unwrap_used)] // a benchmark: any failure should stop it loudly

use astra_local::testing::TestAstra;
use bson::{doc, Document};
use engine::{
    job::{CollectionSpec, JobManager, JobSpec, TargetSpec},
    policy::VectorMapping,
    testing::MongoServer,
    wire::{JobStatus, ServerEvent},
};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::time::{Duration, Instant};

/// The allocator docshift's binary has.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "AstraCS:bench-token";
const DIMENSION: usize = 768;

#[tokio::main]
async fn main() {
    let docs: u64 = std::env::var("DOCSHIFT_BENCH_VECTORS").ok().and_then(|t| t.replace(['_', ','], "").parse().ok()).unwrap_or(20_000);
    let server = MongoServer::start();
    let started = Instant::now();
    load(&server, docs).await;
    println!("loaded {docs} documents with {DIMENSION}-number embeddings into SecantusDB in {:.1?}", started.elapsed());

    let vector = run(&server, docs, Some(VectorMapping::new("embedding", DIMENSION))).await;
    let plain = run(&server, docs, None).await;
    let rate = |d: Duration| docs as f64 / d.as_secs_f64();
    println!("| job | copy | docs/s | verification | total |");
    println!("|---|---|---|---|---|");
    for (name, (copy, verify, _)) in [("embedding → $vector", &vector), ("embedding as an array", &plain)] {
        println!("| {name} | {:.1?} | {:.0} | {:.1?} | {:.1?} |", copy, rate(*copy), verify, *copy + *verify);
    }
    println!("vector copy rate / plain copy rate: {:.2}", rate(vector.0) / rate(plain.0));
    if let Some(recall) = vector.2 {
        println!("recall@{}: {:.3} ({} of {} exact neighbours over {} queries)", recall.k, recall.recall(), recall.found, recall.expected, recall.queries);
    }
}

async fn load(server: &MongoServer, docs: u64) {
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let collection = client.database("ml").collection::<Document>("articles");
    let mut rng = StdRng::seed_from_u64(768);
    let mut batch = Vec::with_capacity(500);
    for i in 0..docs {
        let embedding: Vec<f64> = (0..DIMENSION).map(|_| rng.gen_range(-1.0..1.0)).collect();
        batch.push(doc! { "_id": i as i64, "title": format!("article {i}"), "embedding": embedding });
        if batch.len() == 500 || i + 1 == docs {
            collection.insert_many(std::mem::take(&mut batch)).await.unwrap();
        }
    }
}

/// Runs one job; (copy time, verification time, recall).
async fn run(server: &MongoServer, docs: u64, vector: Option<VectorMapping>) -> (Duration, Duration, Option<engine::wire::NeighbourRecall>) {
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let mut events = jobs.subscribe();
    let collection = CollectionSpec { source: "articles".into(), target: "articles".into(), filter: None, indexing: Default::default(), vector };
    let target = TargetSpec::DataApi { endpoint: astra.endpoint(), keyspace: "default_keyspace".into(), token: TOKEN.into() };
    let started = Instant::now();
    let id = jobs.create(JobSpec::new(server.uri(), "ml".into(), vec![collection], target)).await.unwrap();
    let mut copied = None;
    loop {
        match events.recv().await {
            Ok(ServerEvent::Job(progress)) if progress.id == id => {
                if progress.status == JobStatus::Verifying && copied.is_none() {
                    copied = Some(started.elapsed());
                }
                if progress.status.is_final() {
                    assert_eq!(progress.status, JobStatus::Complete, "{:?}", progress.message);
                    assert_eq!(progress.collections[0].counters.written, docs);
                    let total = started.elapsed();
                    let copy = copied.unwrap_or(total);
                    let recall = progress.collections[0].verification.as_ref().and_then(|v| v.recall);
                    return (copy, total - copy, recall);
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}
