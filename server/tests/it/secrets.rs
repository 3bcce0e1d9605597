//! A MongoDB password given to docshift never leaves the server: not in a server function's
//! answer, a page, a websocket frame, an error, or a log line.

use crate::common::{load_sample, Docshift, MongoServer};
use astra_local::testing::TestAstra;
use futures::StreamExt;
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "Tr0ub4dor-3xyz";
const WRONG: &str = "Wr0ngHorse-9qq";

#[tokio::test]
async fn passwords_never_appear_in_responses_frames_or_logs() {
    let mongo = MongoServer::start_with_user(USER, PASSWORD);
    let uri = mongo.uri_with(USER, PASSWORD);
    load_sample(&uri, 300);
    let docshift = Docshift::serve(&uri, &[]);

    let (ws, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    let (_, mut frames) = ws.split();

    let mut seen = Vec::new();
    let mut record = |(status, body): (u16, String)| {
        seen.push(body.clone());
        (status, body)
    };
    let (status, body) = record(docshift.call("list_sources", &[]).await);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("mongodb://{USER}:****@127.0.0.1:{}", mongo.port)), "{body}");
    let (status, body) = record(docshift.call("list_databases", &[("source", "default")]).await);
    assert_eq!(status, 200, "{body}");
    record(docshift.call("list_collections", &[("source", "default"), ("database", "shop")]).await);
    let args = [("source", "default"), ("database", "shop"), ("collection", "orders")];
    record(docshift.call("first_documents", &args).await);
    record(docshift.call("exact_count", &args).await);

    // A second source with the right password, one with a wrong password, one malformed.
    let (status, body) = record(docshift.call("add_source", &[("name", "again"), ("uri", &uri)]).await);
    assert_eq!(status, 200, "{body}");
    let wrong = mongo.uri_with(USER, WRONG);
    let (status, body) = record(docshift.call("add_source", &[("name", "wrong"), ("uri", &wrong)]).await);
    assert_ne!(status, 200);
    assert!(body.contains("refused the credentials"), "{body}");
    let malformed = format!("mongodb://{USER}:{WRONG}@127.0.0.1:99999999");
    let (status, body) = record(docshift.call("add_source", &[("name", "bad"), ("uri", &malformed)]).await);
    assert_ne!(status, 200, "{body}");

    for path in ["/", "/sources", "/sources/default", "/sources/default/shop", "/sources/default/shop/orders", "/sources/again"] {
        let (status, _) = record(docshift.get(path).await);
        assert_eq!(status, 200, "{path}");
    }

    // Collect whatever frames arrived meanwhile.
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_millis(300), frames.next()).await {
        seen.push(frame.to_string());
    }
    seen.push(docshift.output());

    for text in &seen {
        for secret in [PASSWORD, WRONG] {
            assert!(!text.contains(secret), "a password leaked into:\n{text}");
        }
    }
    assert!(docshift.output().contains("****"), "the log names the source, redacted");
}

const ASTRA_TOKEN: &str = "AstraCS:Zz9-stored-target-secret";

/// A target token and a source password, used through a whole migration, appear in no
/// server-function answer, page, download, websocket frame or log line.
#[tokio::test]
async fn stored_tokens_and_passwords_stay_on_the_server_through_a_migration() {
    let mongo = MongoServer::start_with_user(USER, PASSWORD);
    let uri = mongo.uri_with(USER, PASSWORD);
    load_sample(&uri, 2_000);
    let astra = TestAstra::start(ASTRA_TOKEN).await;
    let docshift = Docshift::serve(&uri, &[]);
    let (ws, _) = tokio_tungstenite::connect_async(docshift.ws_url()).await.unwrap();
    let (_, mut frames) = ws.split();

    let mut seen = Vec::new();
    let endpoint = astra.endpoint();
    let (status, body) = docshift
        .call("add_target", &[("name", "Local"), ("kind", "data-api"), ("endpoint", &endpoint), ("keyspace", "default_keyspace"), ("token", ASTRA_TOKEN)])
        .await;
    assert_eq!(status, 200, "{body}");
    seen.push(body);
    let (status, body) = docshift
        .call("add_target", &[("name", "Wrong"), ("kind", "data-api"), ("endpoint", &endpoint), ("keyspace", "default_keyspace"), ("token", "AstraCS:Zz9-wrong-secret")])
        .await;
    assert_ne!(status, 200, "a refused token is not stored: {body}");
    assert!(!body.contains("Zz9-wrong-secret"), "{body}");
    seen.push(docshift.call("list_targets", &[]).await.1);
    seen.push(docshift.call("test_target", &[("id", "local")]).await.1);

    let request = serde_json::json!({ "request": {
        "source": "default", "database": "analytics", "target": "local",
        "collections": [{ "source": "sensor-readings", "target": "sensor_readings", "filter": "", "deny": [] }],
        "policy": {}, "parallel_ranges": 2, "batch_size": 200, "who": "tester"
    }});
    let response = reqwest::Client::new().post(format!("{}/api/start_migration", docshift.base)).json(&request).send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let id: String = serde_json::from_str(&body).unwrap();
    seen.push(body);

    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = docshift.call("list_jobs", &[]).await;
        let done = body.contains("\"complete\"") || body.contains("\"failed\"");
        seen.push(body.clone());
        if done {
            assert!(body.contains("\"complete\""), "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the job did not finish: {body}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    seen.push(docshift.call("job_dead_letters", &[("id", &id)]).await.1);
    for path in ["/targets", "/jobs", &format!("/jobs/{id}"), &format!("/jobs/{id}/dead-letters.jsonl"), "/migrate"] {
        let (status, page) = docshift.get(path).await;
        assert_eq!(status, 200, "{path}");
        seen.push(page);
    }
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_millis(500), frames.next()).await {
        seen.push(frame.to_string());
    }
    seen.push(docshift.output());
    assert!(seen.iter().any(|t| t.contains("sensor_readings")), "the job was reported");
    for text in &seen {
        for secret in [PASSWORD, ASTRA_TOKEN, "Zz9-stored-target-secret", "Zz9-wrong-secret"] {
            assert!(!text.contains(secret), "a secret leaked into:\n{}", &text[..text.len().min(2_000)]);
        }
    }
}
