//! `/metrics` against the real binary: scraped while a job copies into an astra-local that
//! is slow and throttles, its counters move, and once the job has ended they are the job's
//! own counters (written, dead letters, retries, throttling). Off loopback it needs a
//! session like every other route.

use crate::common::{load_sample, Docshift, MongoServer, ASTRA_TOKEN};
use astra_local::{testing::TestAstra, Faults};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The value of the sample of `metric` whose labels start with `labels`.
fn value(text: &str, metric: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{metric}{{{labels}");
    text.lines().find(|l| l.starts_with(&prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

async fn scrape(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    response.text().await.unwrap()
}

async fn job(docshift: &Docshift, id: &str) -> Value {
    let (status, body) = docshift.call("list_jobs", &[]).await;
    assert_eq!(status, 200, "{body}");
    let jobs: Value = serde_json::from_str(&body).unwrap();
    jobs.as_array().unwrap().iter().find(|j| j["id"] == id).cloned().unwrap_or_else(|| panic!("no job {id} in {body}"))
}

#[tokio::test]
async fn metrics_move_while_a_job_runs_and_end_as_its_counters() {
    let mongo = MongoServer::start();
    load_sample(&mongo.uri(), 5_000);
    let astra = TestAstra::start(ASTRA_TOKEN).await;
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    let target = [("name", "throttling"), ("kind", "data-api"), ("endpoint", &astra.endpoint()), ("keyspace", "default_keyspace"), ("token", ASTRA_TOKEN)];
    let (status, body) = docshift.call("add_target", &target).await;
    assert_eq!(status, 200, "{body}");
    let request = json!({ "request": {
        "source": "default", "database": "shop", "target": "throttling", "who": "Ada",
        "collections": [{ "source": "orders", "target": "orders", "filter": "", "deny": [] }],
        "policy": {}, "parallel_ranges": 1, "batch_size": 50,
    }});
    let response = reqwest::Client::new().post(format!("{}/api/start_migration", docshift.base)).json(&request).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id: String = response.json().await.unwrap();
    // From the copy on (the checks before it retry less), throttling now and then, and held
    // to a quota that makes the copy take 4 s or more however fast this machine is: 40
    // insertMany at 10 a second.
    astra.set_faults(Faults { latency_ms: 25, rate_429: 0.15, rps_quota: Some(10), ..Faults::default() });
    let labels = format!("job=\"{id}\",collection=\"orders\"");

    // Mid-copy, two scrapes see the written counter move.
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while seen.len() < 2 && Instant::now() < deadline {
        let text = scrape(&docshift.base).await;
        let running = value(&text, "docshift_job_status", &format!("job=\"{id}\",status=\"running\"")) == Some(1.0);
        let written = value(&text, "docshift_documents_written_total", &labels).unwrap_or_default();
        if running && written > 0.0 && seen.last() != Some(&written) {
            seen.push(written);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if seen.len() < 2 {
        panic!("the written counter did not move while the job ran: {seen:?}; the job: {}", job(&docshift, &id).await);
    }
    assert!(seen[1] > seen[0]);

    // Once the job has ended, the metrics are its counters.
    let finished = loop {
        let job = job(&docshift, &id).await;
        if job["status"] == "complete" || job["status"] == "failed" {
            break job;
        }
        assert!(Instant::now() < deadline, "the job did not end: {job}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(finished["status"], "complete", "{finished}");
    let collection = &finished["collections"][0];
    let text = scrape(&docshift.base).await;
    let metric = |name: &str| value(&text, name, &labels).unwrap_or_else(|| panic!("{name} missing:\n{text}"));
    assert_eq!(metric("docshift_documents_matched"), 2_000.0);
    assert_eq!(metric("docshift_documents_written_total"), collection["counters"]["written"].as_f64().unwrap());
    assert_eq!(metric("docshift_documents_written_total"), 2_000.0);
    assert_eq!(metric("docshift_documents_dead_lettered_total"), collection["counters"]["dead_lettered"].as_f64().unwrap());
    assert_eq!(metric("docshift_target_retries_total"), collection["retries"].as_f64().unwrap());
    assert_eq!(metric("docshift_target_throttled_total"), collection["throttled"].as_f64().unwrap());
    assert!(metric("docshift_target_throttled_total") > 0.0, "astra-local throttled 15% of requests:\n{text}");
    assert!(metric("docshift_target_retries_total") >= metric("docshift_target_throttled_total"));
    assert_eq!(value(&text, "docshift_job_status", &format!("job=\"{id}\",status=\"complete\"")), Some(1.0));
    assert!(value(&text, "docshift_job_copying_seconds_total", &format!("job=\"{id}\"")).unwrap() > 0.0);
}

#[tokio::test]
async fn off_loopback_metrics_need_a_session() {
    const TOKEN: &str = "metrics-test-access-token-0123456789";
    let state = tempfile::tempdir().unwrap();
    let docshift = Docshift::serve_in(state.path(), "0.0.0.0:0", "mongodb://127.0.0.1:1", &[], &[("DOCSHIFT_ACCESS_TOKEN", TOKEN)]);
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!("{}/metrics", docshift.base);

    let refused = client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "a scraper is told, not redirected");
    let forged = client.get(&url).header(header::COOKIE, "docshift_session=0123456789abcdef").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    let signed_in = client.post(format!("{}/api/sign_in", docshift.base)).form(&[("token", TOKEN), ("next", "/")]).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = signed_in.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let allowed = client.get(&url).header(header::COOKIE, &cookie).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert!(allowed.text().await.unwrap().contains("# TYPE docshift_browsers_watching gauge"));

    // Another site can't read it even with the cookie.
    let cross = client.get(&url).header(header::COOKIE, &cookie).header(header::ORIGIN, "http://evil.example").send().await.unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
}
