//! Starting astra-local and talking to it.

use astra_local::{testing::TestAstra, Faults};
use serde_json::{json, Value};

pub const TOKEN: &str = "AstraCS:test-token";

pub struct Harness {
    pub astra: TestAstra,
    pub http: reqwest::Client,
}

/// A fresh instance.
pub async fn start() -> Harness {
    harness(TestAstra::start(TOKEN).await)
}

/// An instance on the data a stopped one left in `dir`.
pub async fn start_in(dir: tempfile::TempDir) -> Harness {
    harness(TestAstra::reopen(dir, TOKEN, Faults::default()).await)
}

fn harness(astra: TestAstra) -> Harness {
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    Harness { astra, http }
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/json/v1/{path}", self.astra.endpoint())
    }

    /// Posts a command and returns (HTTP status, JSON body).
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .header("Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Posts raw text as a command.
    pub async fn post_raw(&self, path: &str, body: String) -> (u16, String) {
        let response = self
            .http
            .post(self.url(path))
            .header("Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub async fn create_collection(&self, name: &str, options: Value) {
        let (status, body) = self
            .post("default_keyspace", &json!({"createCollection": {"name": name, "options": options}}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"status": {"ok": 1}}), "{body}");
    }

    pub async fn insert_many(&self, coll: &str, docs: Value, options: Value) -> Value {
        let (status, body) = self
            .post(&format!("default_keyspace/{coll}"), &json!({"insertMany": {"documents": docs, "options": options}}))
            .await;
        assert_eq!(status, 200);
        body
    }
}

/// The error codes of a response.
pub fn error_codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["errorCode"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Asserts an error has every field the Data API sends.
pub fn assert_error_shape(error: &Value) {
    for field in ["id", "family", "scope", "errorCode", "title", "message"] {
        assert!(error.get(field).is_some(), "error lacks {field}: {error}");
    }
}

impl Harness {
    /// Posts `command` to collection `coll` of `default_keyspace`; returns the JSON answer
    /// (asserting HTTP 200).
    pub async fn cmd(&self, coll: &str, command: Value) -> Value {
        let (status, body) = self.post(&format!("default_keyspace/{coll}"), &command).await;
        assert_eq!(status, 200, "{command}: {body}");
        body
    }

    /// Creates `coll` (default options) and inserts `docs`, 100 at a time.
    pub async fn seed(&self, coll: &str, docs: Vec<Value>) {
        self.create_collection(coll, json!({})).await;
        self.insert_all(coll, docs).await;
    }

    /// Inserts `docs`, 100 at a time, asserting no errors.
    pub async fn insert_all(&self, coll: &str, docs: Vec<Value>) {
        for chunk in docs.chunks(100) {
            let body = self.insert_many(coll, Value::Array(chunk.to_vec()), json!({})).await;
            assert!(body.get("errors").is_none(), "{body}");
        }
    }

    /// The documents of a `find` answer.
    pub async fn find_docs(&self, coll: &str, find: Value) -> Vec<Value> {
        let body = self.cmd(coll, json!({ "find": find })).await;
        body["data"]["documents"].as_array().cloned().unwrap_or_else(|| panic!("no documents: {body}"))
    }

    /// The one document `findOne` with `filter` finds.
    pub async fn find_one(&self, coll: &str, filter: Value) -> Value {
        self.cmd(coll, json!({ "findOne": { "filter": filter } })).await["data"]["document"].clone()
    }
}

/// The single error code of a response (asserting there is exactly one error and no data).
pub fn only_error(body: &Value) -> String {
    let codes = error_codes(body);
    assert_eq!(codes.len(), 1, "expected one error: {body}");
    assert!(body.get("data").is_none(), "error with data: {body}");
    assert_error_shape(&body["errors"][0]);
    codes[0].clone()
}

/// The message of the first error.
pub fn message(body: &Value) -> String {
    body["errors"][0]["message"].as_str().unwrap_or_default().to_owned()
}

/// The `_id`s of documents.
pub fn ids(docs: &[Value]) -> Vec<Value> {
    docs.iter().map(|d| d["_id"].clone()).collect()
}
