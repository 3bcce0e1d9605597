//! Vector collections, restated from stargate/data-api's `VectorSearchIntegrationTest` (its
//! nested classes `CreateCollection`, `InsertOneCollection`, `InsertManyCollection`,
//! `FindCollection`, `FindOneCollection`, `UpdateCollection`, `VectorSearchExtendedCommands`,
//! `VectorSearchSimilarityProjection`), the vector cases of `CreateCollectionIntegrationTest`,
//! `FindCollectionsIntegrationTest`, `IndexingDescIntegrationTest`, `FindIntegrationTest` and
//! `FindOneIntegrationTest`, and the unit tests `InsertCollectionOperationTest` and
//! `CreateCollectionResolverVectorizeDisabledTest` where no integration test exists. Each test
//! names its source.

mod create;
mod insert;
mod search;
mod writes;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::common::Harness;

/// The collection most upstream vector tests use (`my_collection`: dimension 5, cosine).
pub const COLL: &str = "my_collection";

/// The sort vector of the upstream `FindCollection` tests.
pub fn query() -> Value {
    json!([0.15, 0.1, 0.1, 0.35, 0.55])
}

/// `createVectorCollection`.
pub async fn create_vector_collection(h: &Harness, name: &str, dimension: usize, metric: &str) {
    h.create_collection(name, json!({"vector": {"dimension": dimension, "metric": metric}})).await;
}

/// `insertVectorDocuments`: three documents in `my_collection` after emptying it.
pub async fn insert_vector_documents(h: &Harness) {
    h.cmd(COLL, json!({"deleteMany": {}})).await;
    let body = h
        .insert_many(
            COLL,
            json!([
                {"_id": "1", "name": "Coded Cleats", "description": "ChatGPT integrated sneakers that talk to you", "$vector": [0.1, 0.15, 0.3, 0.12, 0.05]},
                {"_id": "2", "name": "Logic Layers", "description": "An AI quilt to help you sleep forever", "$vector": [0.45, 0.09, 0.01, 0.2, 0.11]},
                {"_id": "3", "name": "Vision Vector Frame", "description": "Vision Vector Frame', 'A deep learning display that controls your mood", "$vector": [0.1, 0.05, 0.08, 0.3, 0.6]}
            ]),
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// A started astra-local with `my_collection` holding the three upstream documents.
pub async fn with_vector_documents() -> Harness {
    let h = crate::common::start().await;
    create_vector_collection(&h, COLL, 5, "cosine").await;
    insert_vector_documents(&h).await;
    h
}

/// `generateBase64EncodedBinaryVector`: packed big-endian float32s, Base64.
pub fn binary(floats: &[f32]) -> String {
    let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_be_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `decodeBase64BinaryVectorToFloatArray`.
pub fn unbinary(text: &str) -> Vec<f32> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
    bytes.chunks_exact(4).map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// `buildVectorElements`: values exact in binary, cycled from `offset`.
pub fn vector_elements(offset: usize, count: usize) -> Vec<f32> {
    const NUMS: [f32; 8] = [0.25, 0.5, 0.75, 0.975, 0.0125, 0.375, 0.625, 0.125];
    (0..count).map(|i| NUMS[(offset + i) % NUMS.len()]).collect()
}

/// The `_id`s of a `find` answer's documents.
pub fn ids_of(body: &Value) -> Vec<Value> {
    body["data"]["documents"].as_array().unwrap().iter().map(|d| d["_id"].clone()).collect()
}

/// Cosine similarity as the database reports it, `(1 + cos) / 2`, computed in f64.
pub fn cosine_similarity(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    (1.0 + dot / (na * nb)) / 2.0
}

/// A JSON array of numbers as f64s.
pub fn floats(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}
