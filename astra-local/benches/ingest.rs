//! astra-local's own `insertMany` ingest rate: 50 documents per request, a few requests in
//! flight, a bounded number of documents, then docs/s is printed. Later benchmarks compare
//! docshift's end-to-end rate against this figure (the target's own limit).
//!
//! Run: `cargo bench -p astra-local --bench ingest` (env: `INGEST_DOCS`, `INGEST_IN_FLIGHT`).

use std::time::Instant;

use astra_local::testing::TestAstra;
use futures_free::run_bounded;
use serde_json::json;

const TOKEN: &str = "AstraCS:bench";
const CHUNK: usize = 50;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A document shaped like the demo's sample data: ids, dates, nested objects, arrays, decimals.
fn document(i: usize) -> serde_json::Value {
    json!({
        "_id": {"$objectId": format!("{:024x}", i)},
        "customer": {"name": format!("Customer {i}"), "email": format!("c{i}@example.com"), "tier": i % 4},
        "created": {"$date": 1_700_000_000_000u64 + i as u64},
        "items": [
            {"sku": format!("SKU-{}", i % 97), "qty": i % 5 + 1, "price": 19.99},
            {"sku": format!("SKU-{}", i % 89), "qty": 1, "price": 5.25}
        ],
        "total": 1234567.25,
        "tags": ["bench", "ingest"],
        "active": i.is_multiple_of(2)
    })
}

mod futures_free {
    //! A tiny bounded-concurrency runner on tokio (no extra dependency).
    use std::future::Future;

    pub async fn run_bounded<F, Fut>(jobs: usize, in_flight: usize, make: F)
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut set = tokio::task::JoinSet::new();
        for job in 0..jobs {
            if set.len() >= in_flight {
                if let Some(Err(e)) = set.join_next().await {
                    panic!("request task failed: {e}");
                }
            }
            set.spawn(make(job));
        }
        while let Some(result) = set.join_next().await {
            if let Err(e) = result {
                panic!("request task failed: {e}");
            }
        }
    }
}

fn main() {
    let total = env_usize("INGEST_DOCS", 50_000);
    let in_flight = env_usize("INGEST_IN_FLIGHT", 8);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let astra = TestAstra::start(TOKEN).await;
        let http = reqwest::Client::new();
        let base = format!("{}/api/json/v1/default_keyspace", astra.endpoint());
        let created = http
            .post(&base)
            .header("Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(json!({"createCollection": {"name": "bench"}}).to_string())
            .send()
            .await
            .expect("createCollection");
        assert!(created.status().is_success());

        // Bodies are built before timing: the figure is the server's, not the client's JSON.
        let bodies: Vec<String> = (0..total.div_ceil(CHUNK))
            .map(|chunk| {
                let docs: Vec<_> = (chunk * CHUNK..((chunk + 1) * CHUNK).min(total)).map(document).collect();
                json!({"insertMany": {"documents": docs, "options": {"ordered": false, "returnDocumentResponses": true}}})
                    .to_string()
            })
            .collect();
        let bodies = std::sync::Arc::new(bodies);
        let url = format!("{base}/bench");
        let started = Instant::now();
        run_bounded(bodies.len(), in_flight, |i| {
            let (http, url, bodies) = (http.clone(), url.clone(), bodies.clone());
            async move {
                let response = http
                    .post(&url)
                    .header("Token", TOKEN)
                    .header("Content-Type", "application/json")
                    .body(bodies[i].clone())
                    .send()
                    .await
                    .expect("insertMany request");
                let text = response.text().await.expect("insertMany response");
                assert!(!text.contains("\"errors\""), "insertMany failed: {text}");
            }
        })
        .await;
        let elapsed = started.elapsed();
        let count = http
            .post(&url)
            .header("Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(r#"{"estimatedDocumentCount":{}}"#)
            .send()
            .await
            .expect("count")
            .text()
            .await
            .expect("count body");
        println!(
            "astra-local insertMany ingest: {total} docs in {:.2}s = {:.0} docs/s (chunks of {CHUNK}, {in_flight} in flight; {count})",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
        astra.stop().await;
    });
}
