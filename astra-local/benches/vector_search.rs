//! astra-local's vector search: a collection of `VECTOR_DOCS` documents (10,000) with
//! `VECTOR_DIMENSION`-dimension (768) cosine vectors, written as astrapy writes them (packed
//! binary), then `VECTOR_QUERIES` `find`s sorted by `$vector` (limit 10, with similarity), one
//! at a time; prints the ingest rate and the query latency (median, p95), and checks each top-1
//! is the document whose vector was the query.
//!
//! Run: `cargo bench -p astra-local --bench vector_search`.

use std::time::{Duration, Instant};

use astra_local::{spawn, Config, Faults};
use base64::Engine as _;
use serde_json::{json, Value};

const TOKEN: &str = "AstraCS:bench";
const CHUNK: usize = 100;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A deterministic pseudo-random vector (xorshift), components in [-1, 1).
fn vector(seed: usize, dimension: usize) -> Vec<f32> {
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..dimension)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn binary(vector: &[f32]) -> Value {
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_be_bytes()).collect();
    json!({"$binary": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

async fn post(http: &reqwest::Client, url: &str, body: String) -> Value {
    let response = http
        .post(url)
        .header("Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let text = response.text().await.expect("response");
    serde_json::from_str(&text).expect("JSON response")
}

fn main() {
    let total = env_usize("VECTOR_DOCS", 10_000);
    let dimension = env_usize("VECTOR_DIMENSION", 768);
    let queries = env_usize("VECTOR_QUERIES", 50);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config { data_dir: dir.path().to_path_buf(), token: TOKEN.into(), faults: Faults::default() };
        let astra = spawn("127.0.0.1:0".parse().expect("address"), config).await.expect("astra-local starts");
        let http = reqwest::Client::new();
        let base = format!("{}/api/json/v1/default_keyspace", astra.endpoint());
        let create = json!({"createCollection": {"name": "vectors", "options": {"vector": {"dimension": dimension, "metric": "cosine"}}}});
        assert_eq!(post(&http, &base, create.to_string()).await["status"]["ok"], 1);
        let url = format!("{base}/vectors");

        let bodies: Vec<String> = (0..total.div_ceil(CHUNK))
            .map(|chunk| {
                let docs: Vec<Value> = (chunk * CHUNK..((chunk + 1) * CHUNK).min(total))
                    .map(|i| json!({"_id": i, "title": format!("document {i}"), "$vector": binary(&vector(i, dimension))}))
                    .collect();
                json!({"insertMany": {"documents": docs}}).to_string()
            })
            .collect();
        let started = Instant::now();
        for body in bodies {
            let answer = post(&http, &url, body).await;
            assert!(answer.get("errors").is_none(), "insertMany failed: {answer}");
        }
        let ingest = started.elapsed();

        let mut latencies: Vec<Duration> = Vec::with_capacity(queries);
        for q in 0..=queries {
            let target = (q * 7919) % total;
            let body = json!({"find": {"sort": {"$vector": binary(&vector(target, dimension))}, "options": {"limit": 10, "includeSimilarity": true}}})
                .to_string();
            let started = Instant::now();
            let answer = post(&http, &url, body).await;
            let elapsed = started.elapsed();
            let top = &answer["data"]["documents"][0];
            assert_eq!(top["_id"], target, "top-1 of query {q}: {answer}");
            assert!((top["$similarity"].as_f64().unwrap_or(0.0) - 1.0).abs() < 1e-6, "{top}");
            // The first query loads the collection's vectors.
            if q == 0 {
                println!("first vector query (loads the vectors): {:.1} ms", elapsed.as_secs_f64() * 1e3);
            } else {
                latencies.push(elapsed);
            }
        }
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let median = latencies.get(latencies.len() / 2).copied().unwrap_or_default();
        let p95 = latencies.get(latencies.len() * 95 / 100).copied().unwrap_or_default();
        println!(
            "astra-local vector collection: {total} × {dimension} inserted in {:.2}s ({:.0} docs/s); find sorted by $vector (limit 10): median {:.1} ms, p95 {:.1} ms over {queries} queries; every top-1 exact",
            ingest.as_secs_f64(),
            total as f64 / ingest.as_secs_f64(),
            ms(median),
            ms(p95)
        );
        astra.shutdown().await;
    });
}
