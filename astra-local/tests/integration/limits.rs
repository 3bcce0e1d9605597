//! Each document limit: one document just under it (written) and one just over (refused with
//! SHRED_DOC_LIMIT_VIOLATION), and the indexed-only limits lifted by `indexing.deny`.

use serde_json::{json, Map, Value};

use crate::common::{error_codes, start, Harness};

/// Inserts one raw document; returns the error codes (empty when written).
async fn insert(h: &Harness, coll: &str, doc: String) -> Vec<String> {
    let (status, text) = h.post_raw(&format!("default_keyspace/{coll}"), format!(r#"{{"insertMany":{{"documents":[{doc}]}}}}"#)).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let codes = error_codes(&body);
    if codes.is_empty() {
        assert_eq!(body["status"]["insertedIds"].as_array().unwrap().len(), 1, "{body}");
    }
    codes
}

fn violation() -> Vec<String> {
    vec!["SHRED_DOC_LIMIT_VIOLATION".to_owned()]
}

fn object_with(n: usize) -> Value {
    let mut map = Map::new();
    for i in 0..n {
        map.insert(format!("p{i}"), json!(i));
    }
    Value::Object(map)
}

#[tokio::test]
async fn document_size_depth_path_and_numbers() {
    let h = start().await;
    h.create_collection("c", json!({"indexing": {"deny": ["blob"]}})).await;

    // Serialized size: {"_id":"a","blob":"…"} is 21 chars plus the string.
    let size_doc = |id: &str, total: usize| format!(r#"{{"_id":"{id}","blob":"{}"}}"#, "x".repeat(total - 21));
    assert!(insert(&h, "c", size_doc("a", 4_000_000)).await.is_empty());
    assert_eq!(insert(&h, "c", size_doc("b", 4_000_001)).await, violation());

    // Depth: the root is level 1.
    let nested = |id: u32, levels: usize| {
        let mut inner = json!(1);
        for _ in 0..levels {
            inner = json!({"a": inner});
        }
        json!({"_id": id, "n": inner}).to_string()
    };
    assert!(insert(&h, "c", nested(1, 15)).await.is_empty());
    assert_eq!(insert(&h, "c", nested(2, 16)).await, violation());

    // Dotted path length.
    let path_doc = |id: u32, outer: usize, inner: usize| {
        format!(r#"{{"_id":{id},"{}":{{"{}":1}}}}"#, "o".repeat(outer), "i".repeat(inner))
    };
    assert!(insert(&h, "c", path_doc(3, 500, 499)).await.is_empty());
    assert_eq!(insert(&h, "c", path_doc(4, 500, 500)).await, violation());

    // Number literal length (sign excluded), refused for the whole request.
    let digits = "7".repeat(100);
    assert!(insert(&h, "c", format!(r#"{{"_id":5,"n":-{digits}}}"#)).await.is_empty());
    let (_, text) = h.post_raw("default_keyspace/c", r#"{"findOne":{"filter":{"_id":5}}}"#.into()).await;
    assert!(text.contains(&format!("\"n\":-{digits}")), "{text}");
    let (_, text) = h
        .post_raw("default_keyspace/c", format!(r#"{{"insertMany":{{"documents":[{{"_id":6}},{{"_id":7,"n":{digits}7}}]}}}}"#))
        .await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(error_codes(&body), violation());
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Number value length (101) exceeds the maximum allowed (100"));
    assert!(body.get("status").is_none());
}

#[tokio::test]
async fn indexed_limits_apply_unless_denied() {
    let h = start().await;
    h.create_collection("idx", json!({})).await;
    h.create_collection("deny", json!({"indexing": {"deny": ["free"]}})).await;
    h.create_collection("allow", json!({"indexing": {"allow": ["kept"]}})).await;

    let array = |id: u32, n: usize| json!({"_id": id, "free": vec![0; n]}).to_string();
    assert!(insert(&h, "idx", array(1, 1000)).await.is_empty());
    assert_eq!(insert(&h, "idx", array(2, 1001)).await, violation());
    assert!(insert(&h, "deny", array(2, 1001)).await.is_empty());
    assert!(insert(&h, "allow", array(2, 1001)).await.is_empty());

    let string = |id: u32, s: String| json!({"_id": id, "free": s}).to_string();
    assert!(insert(&h, "idx", string(3, "x".repeat(8000))).await.is_empty());
    assert_eq!(insert(&h, "idx", string(4, "x".repeat(8001))).await, violation());
    assert!(insert(&h, "idx", string(5, "é".repeat(4000))).await.is_empty());
    assert_eq!(insert(&h, "idx", string(6, "é".repeat(4001))).await, violation());
    assert!(insert(&h, "deny", string(4, "x".repeat(8001))).await.is_empty());
    assert_eq!(insert(&h, "allow", json!({"_id": 4, "kept": "x".repeat(8001)}).to_string()).await, violation());

    let object = |id: u32, n: usize| json!({"_id": id, "free": object_with(n)}).to_string();
    assert!(insert(&h, "idx", object(7, 1000)).await.is_empty());
    assert_eq!(insert(&h, "idx", object(8, 1001)).await, violation());
    assert!(insert(&h, "deny", object(8, 1001)).await.is_empty());

    // Indexed properties of the document: root (4) + 700 + 700 + rest.
    let total = |id: u32, rest: usize| {
        json!({"_id": id, "a": object_with(700), "b": object_with(700), "free": object_with(rest)}).to_string()
    };
    assert!(insert(&h, "idx", total(9, 596)).await.is_empty());
    assert_eq!(insert(&h, "idx", total(10, 597)).await, violation());
    assert!(insert(&h, "deny", total(10, 597)).await.is_empty());
}
