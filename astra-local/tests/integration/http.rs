//! The HTTP edge: token (401), content type (415), body size (413), bad JSON, the `/v1` path
//! astrapy uses for non-Astra environments, and persistence across a restart.

use serde_json::{json, Value};

use crate::common::{error_codes, start, start_in, TOKEN};

#[tokio::test]
async fn token_content_type_and_size_are_checked() {
    let h = start().await;
    let url = h.url("default_keyspace");
    let body = json!({"findCollections": {}}).to_string();

    let response = h.http.post(&url).header("Content-Type", "application/json").body(body.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let json: Value = response.json().await.unwrap();
    assert_eq!(error_codes(&json), ["MISSING_AUTHENTICATION_TOKEN"]);
    assert_eq!(json["errors"][0]["scope"], "SECURITY");

    let response = h.http.post(&url).header("Token", "AstraCS:wrong").body(body.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let json: Value = response.json().await.unwrap();
    assert_eq!(error_codes(&json), ["UNAUTHENTICATED_REQUEST"]);
    assert!(!json.to_string().contains(TOKEN));

    // The legacy header works too.
    let response = h.http.post(&url).header("X-Cassandra-Token", TOKEN).body(body.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let response = h
        .http
        .post(&url)
        .header("Token", TOKEN)
        .header("Content-Type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let json: Value = response.json().await.unwrap();
    assert_eq!(error_codes(&json), ["UNSUPPORTED_CONTENT_TYPE"]);

    let huge = format!(r#"{{"insertMany":{{"documents":[{{"s":"{}"}}]}}}}"#, "x".repeat(21 * 1024 * 1024));
    let response = h.http.post(&url).header("Token", TOKEN).header("Content-Type", "application/json").body(huge).send().await;
    match response {
        Ok(response) => assert_eq!(response.status().as_u16(), 413),
        // The server may close the connection while the client is still sending.
        Err(error) => assert!(error.is_request() || error.is_body(), "{error}"),
    }

    let (status, text) = h.post_raw("default_keyspace", "{not json".into()).await;
    assert_eq!(status, 200);
    assert!(text.contains("REQUEST_NOT_JSON"), "{text}");
    let (_, text) = h.post_raw("default_keyspace", r#"{"findCollections":{},"x":{}}"#.into()).await;
    assert!(text.contains("REQUEST_STRUCTURE_MISMATCH"), "{text}");
}

#[tokio::test]
async fn v1_path_serves_the_same_api() {
    let h = start().await;
    h.create_collection("c", json!({})).await;
    let response = h
        .http
        .post(format!("{}/v1/default_keyspace/c", h.astra.endpoint()))
        .header("Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(json!({"insertOne": {"document": {"_id": 1}}}).to_string())
        .send()
        .await
        .unwrap();
    let json: Value = response.json().await.unwrap();
    assert_eq!(json, json!({"status": {"insertedIds": [1]}}));
}

#[tokio::test]
async fn data_survives_a_restart() {
    let h = start().await;
    h.create_collection("kept", json!({"indexing": {"deny": ["free"]}})).await;
    let docs: Vec<Value> = (0..50).map(|i| json!({"_id": i, "v": format!("{i}")})).collect();
    h.insert_many("kept", Value::Array(docs), json!({})).await;
    let dir = h.astra.stop().await;

    let h = start_in(dir).await;
    let (_, body) = h.post("default_keyspace/kept", &json!({"countDocuments": {}})).await;
    assert_eq!(body, json!({"status": {"count": 50}}));
    let (_, body) = h.post("default_keyspace/kept", &json!({"findOne": {"filter": {"_id": 49}}})).await;
    assert_eq!(body["data"]["document"], json!({"_id": 49, "v": "49"}));
    // The collection's settings survived too.
    let long = json!([{"_id": "long", "free": "x".repeat(9000)}]);
    let body = h.insert_many("kept", long, json!({})).await;
    assert_eq!(body["status"]["insertedIds"], json!(["long"]));
}
