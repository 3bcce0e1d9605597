//! Each fault kind, set at run time through the library and through the admin endpoint.

use std::time::{Duration, Instant};

use astra_local::Faults;
use serde_json::{json, Value};

use crate::common::{start, Harness, TOKEN};

async fn find_collections(h: &Harness) -> Result<u16, reqwest::Error> {
    h.http
        .post(h.url("default_keyspace"))
        .header("Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(json!({"findCollections": {}}).to_string())
        .send()
        .await
        .map(|r| r.status().as_u16())
}

#[tokio::test]
async fn gateway_errors_429_and_drops() {
    let h = start().await;
    h.astra.set_faults(Faults { rate_5xx: 1.0, ..Faults::default() });
    for _ in 0..10 {
        let status = find_collections(&h).await.unwrap();
        assert!([502, 503, 504].contains(&status), "{status}");
    }
    h.astra.set_faults(Faults { rate_429: 1.0, ..Faults::default() });
    assert_eq!(find_collections(&h).await.unwrap(), 429);

    h.astra.set_faults(Faults { drop_rate: 1.0, ..Faults::default() });
    for _ in 0..3 {
        let error = find_collections(&h).await.unwrap_err();
        assert!(error.is_request() || error.is_connect(), "{error}");
    }
    h.astra.set_faults(Faults::default());
    assert_eq!(find_collections(&h).await.unwrap(), 200);
}

#[tokio::test]
async fn latency_and_quota() {
    let h = start().await;
    h.astra.set_faults(Faults { latency_ms: 300, ..Faults::default() });
    let started = Instant::now();
    assert_eq!(find_collections(&h).await.unwrap(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    h.astra.set_faults(Faults { rps_quota: Some(5), ..Faults::default() });
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(find_collections(&h).await.unwrap());
    }
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert!(limited >= 4, "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 200).count() >= 1, "{statuses:?}");
}

#[tokio::test]
async fn admin_endpoint_sets_faults() {
    let h = start().await;
    let admin = format!("{}/admin/faults", h.astra.endpoint());
    let response = h.http.post(&admin).body(r#"{"rate_5xx":1.0}"#).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);

    let response = h
        .http
        .post(&admin)
        .header("Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(r#"{"rate_5xx":1.0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(h.astra.faults().rate_5xx, 1.0);
    assert!(find_collections(&h).await.unwrap() >= 500);

    // The admin endpoint itself is exempt, so faults can be switched off again.
    let response = h.http.get(&admin).header("Token", TOKEN).send().await.unwrap();
    let current: Value = response.json().await.unwrap();
    assert_eq!(current["rate_5xx"], 1.0);
    let response = h.http.post(&admin).header("Token", TOKEN).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(find_collections(&h).await.unwrap(), 200);

    let response = h.http.post(&admin).header("Token", TOKEN).body(r#"{"rate_429":2}"#).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
}
