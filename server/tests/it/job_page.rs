//! What the job pages say, against the real binary and its sandbox: an unknown job answers
//! 404 with a link to Jobs; a finished job has its summary, timeline and settings; the dry
//! run of a re-run says the target collection exists and what it holds; a finished job can
//! be deleted, and is then unknown.

use crate::common::{load_sample, Docshift, MongoServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn request() -> Value {
    json!({ "request": {
        "source": "default", "database": "analytics", "target": "sandbox", "who": "Ada",
        "collections": [{ "source": "sensor-readings", "target": "sensor_readings", "filter": "", "deny": [] }],
        "policy": {}, "parallel_ranges": 2, "batch_size": 100,
    }})
}

async fn post_json(docshift: &Docshift, function: &str, body: &Value) -> (StatusCode, String) {
    let response = reqwest::Client::new().post(format!("{}/api/{function}", docshift.base)).json(body).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn details(docshift: &Docshift, id: &str) -> (u16, Value) {
    let (status, body) = docshift.call("job_details", &[("id", id)]).await;
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}")))
}

#[tokio::test]
async fn a_job_page_tells_what_happened_and_an_unknown_one_answers_404() {
    let mongo = MongoServer::start();
    load_sample(&mongo.uri(), 5_000);
    let sandbox = tempfile::tempdir().unwrap();
    let docshift = Docshift::serve(&mongo.uri(), &["--sandbox-dir", &sandbox.path().display().to_string()]);

    let (status, page) = docshift.get("/jobs/000000000000").await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains("No job with this id."), "{page}");
    assert!(page.contains("href=\"/jobs\""), "a link to Jobs: {page}");

    let (status, body) = post_json(&docshift, "start_migration", &request()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id: String = serde_json::from_str(&body).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let info = loop {
        let (status, info) = details(&docshift, &id).await;
        assert_eq!(status, 200, "{info}");
        if info["progress"]["status"] == "complete" {
            break info;
        }
        assert!(Instant::now() < deadline, "the job did not complete: {info}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let progress: engine::wire::JobProgress = serde_json::from_value(info["progress"].clone()).unwrap();
    let summary = progress.summary().unwrap();
    assert!(summary.starts_with("Completed in ") && summary.contains("docs/s on average — 299 written, 1 refused, verified."), "{summary}");
    assert_eq!(progress.status_label(), "complete, 1 refused");
    let kinds: Vec<&str> = info["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "running", "verifying", "verified", "complete"], "{info}");
    assert_eq!(info["timeline"][0]["who"], "Ada");
    assert_eq!(info["settings"]["parallel_ranges"], 2);
    assert_eq!(info["settings"]["batch_size"], 100);
    assert_eq!(info["request"]["target"], "sandbox", "the form can start the same job again");
    assert!(!info["source"].as_str().unwrap().is_empty());

    // The refused document reads without its _id repeated, the id as relaxed Extended JSON.
    let (_, body) = docshift.call("job_dead_letters", &[("id", &id)]).await;
    let letters: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(letters[0]["id"], r#"{"sensor":0,"seq":250}"#, "{letters}");
    assert!(!letters[0]["reason"].as_str().unwrap().contains("$numberLong"), "the reason does not repeat the _id: {letters}");

    // A re-run's dry run says what the target collection holds already.
    let (status, body) = post_json(&docshift, "dry_run", &request()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["collections"][0]["existing"], json!({ "Exists": { "documents": 299, "exact": true } }), "{report}");
    assert_eq!(report["budget"]["existing"], 1);
    assert_eq!(report["budget"]["created"], 0);
    assert_eq!(report["budget"]["limit"], 10);

    // The page of the finished job renders its story on the server.
    let (status, page) = docshift.get(&format!("/jobs/{id}")).await;
    assert_eq!(status, 200);
    for text in ["Completed in ", "Timeline", "Created by Ada", "Settings"] {
        assert!(page.contains(text), "{text} missing from the job page");
    }

    let (status, body) = docshift.call("delete_job", &[("id", &id)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = details(&docshift, &id).await;
    assert_eq!(status, 500, "an unknown job is an error to the server function");
    let (status, _) = docshift.get(&format!("/jobs/{id}")).await;
    assert_eq!(status, 404);
}
