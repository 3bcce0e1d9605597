//! `createCollection` with `options.vector`, and `findCollections` explaining it.

use serde_json::{json, Value};

use super::create_vector_collection;
use crate::common::{message, only_error, start, Harness};

async fn create(h: &Harness, name: &str, options: Value) -> Value {
    h.post("default_keyspace", &json!({"createCollection": {"name": name, "options": options}})).await.1
}

async fn explained(h: &Harness) -> Vec<Value> {
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {"options": {"explain": true}}})).await;
    body["status"]["collections"].as_array().cloned().unwrap()
}

// VectorSearchIntegrationTest.CreateCollection: happyPathVectorSearch,
// happyPathVectorSearchDefaultFunction, happyPathBigVectorCollection, failForTooBigVector,
// failForInvalidVectorMetric.
#[tokio::test]
async fn create_vector_collections() {
    let h = start().await;
    create_vector_collection(&h, "my_collection", 5, "cosine").await;
    h.create_collection("my_collection_default_function", json!({"vector": {"dimension": 5}})).await;
    create_vector_collection(&h, "big_vector_collection", 1536, "cosine").await;
    create_vector_collection(&h, "max_vector_collection", 4096, "dot_product").await;

    let body = create(&h, "TooBigVectorCollection", json!({"vector": {"dimension": 4106, "metric": "cosine"}})).await;
    assert_eq!(only_error(&body), "VECTOR_SEARCH_TOO_BIG_VALUE");
    assert_eq!(body["errors"][0]["scope"], "SCHEMA");
    assert!(message(&body).contains("Vector embedding property '$vector' length too big: 4106 (max 4096)"), "{body}");

    let body = create(&h, "invalidVectorMetric", json!({"vector": {"dimension": 5, "metric": "invalidName"}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("function name can only be 'dot_product', 'cosine' or 'euclidean'"), "{body}");
    assert!(message(&body).starts_with("Command field 'command.options.vector.metric' value \"invalidName\" not valid"), "{body}");

    // `@Positive(message = "dimension should be greater than `0`")`.
    let body = create(&h, "zero", json!({"vector": {"dimension": 0}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("'command.options.vector.dimension' value 0 not valid: dimension should be greater than `0`"));
}

// CreateCollectionIntegrationTest.CreateCollection: duplicateVectorCollectionName,
// duplicateVectorCollectionNameWithDiffSetting (with the old option names `size`/`function`).
#[tokio::test]
async fn recreating_a_vector_collection() {
    let h = start().await;
    let vector = json!({"vector": {"size": 5, "function": "cosine"}});
    h.create_collection("simple_collection", vector.clone()).await;
    h.create_collection("simple_collection", vector).await;
    // The same settings written with the current names and the defaults.
    h.create_collection("simple_collection", json!({"vector": {"dimension": 5, "metric": "cosine", "sourceModel": "other"}})).await;
    for options in [
        json!({}),
        json!({"vector": {"size": 6, "function": "cosine"}}),
        json!({"vector": {"size": 5, "function": "euclidean"}}),
    ] {
        let body = create(&h, "simple_collection", options).await;
        assert_eq!(only_error(&body), "EXISTING_COLLECTION_DIFFERENT_SETTINGS");
        assert!(message(&body).contains(
            "Collection 'simple_collection' already exists but with settings different from ones passed with 'createCollection' command"
        ));
    }
}

// CreateCollectionIntegrationTest.CreateCollectionFail.failWithInvalidVectorConfigOption;
// CreateCollectionWithEmbeddingServiceTestDimension.failNoServiceProviderAndNoDimension;
// CreateCollectionResolverVectorizeDisabledTest.vectorizeSearchDisabled (a `service` needs
// vectorize, which astra-local has not).
#[tokio::test]
async fn invalid_vector_options() {
    let h = start().await;
    let body = create(&h, "collection_with_invalid_vectorconfig", json!({"vector": {"unknown": 3}})).await;
    assert_eq!(only_error(&body), "INVALID_CREATE_COLLECTION_FIELD");
    assert!(message(&body).starts_with("'createCollection' command referenced unrecognized field(s): Unrecognized field \"unknown\""));

    let body = create(&h, "collection_with_vector_service", json!({"vector": {"metric": "cosine"}})).await;
    assert_eq!(only_error(&body), "INVALID_CREATE_COLLECTION_OPTIONS");
    assert!(message(&body)
        .starts_with("'createCollection' command option(s) invalid: The 'dimension' can not be null if 'service' is not provided"));

    let service = json!({"vector": {"metric": "cosine", "dimension": 1024, "service": {"provider": "nvidia", "modelName": "NV-Embed-QA"}}});
    let body = create(&h, "my_collection", service).await;
    assert_eq!(only_error(&body), "VECTORIZE_FEATURE_NOT_AVAILABLE");

    // Jackson cannot read these types.
    for vector in [json!({"dimension": "five"}), json!({"dimension": 5, "metric": 3}), json!([5])] {
        let body = create(&h, "c", json!({"vector": vector})).await;
        assert_eq!(only_error(&body), "REQUEST_STRUCTURE_MISMATCH", "{vector}");
    }
    // Bean validation comes before the resolver's indexing checks.
    let body = create(&h, "c", json!({"indexing": {"allow": ["a"], "deny": ["b"]}, "vector": {"dimension": -1}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    let body = create(&h, "c", json!({"indexing": {"allow": ["a"], "deny": ["b"]}, "vector": {"dimension": 5}})).await;
    assert_eq!(only_error(&body), "INVALID_INDEXING_DEFINITION");
    assert!(explained(&h).await.is_empty());
}

// CreateCollectionIntegrationTest.CreateCollectionWithSourceModel: happyWithSourceModelAndMetrics,
// happyWithSourceModelOnly, happyWithMetricOnly, happyNoSourceModelAndMetric,
// failWithInvalidSourceModel (upstream with a vectorize `service`, here with a `dimension`).
#[tokio::test]
async fn source_model_and_metric_defaults() {
    let h = start().await;
    for (name, vector, metric, model) in [
        ("collection_with_sourceModel_metric", json!({"metric": "cosine", "sourceModel": "openai-v3-small"}), "cosine", "openai-v3-small"),
        ("collection_with_sourceModel", json!({"sourceModel": "openai-v3-small"}), "dot_product", "openai-v3-small"),
        ("collection_with_metric", json!({"metric": "cosine"}), "cosine", "other"),
        ("collection_with_no_sourceModel_metric", json!({}), "cosine", "other"),
        ("collection_with_other", json!({"sourceModel": "other", "metric": "euclidean"}), "euclidean", "other"),
    ] {
        let mut vector = vector;
        vector["dimension"] = json!(1536);
        h.create_collection(name, json!({ "vector": vector })).await;
        let listed = explained(&h).await;
        let options = &listed.iter().find(|c| c["name"] == name).unwrap()["options"];
        assert_eq!(options["vector"], json!({"dimension": 1536, "metric": metric, "sourceModel": model}), "{name}");
        h.post("default_keyspace", &json!({"deleteCollection": {"name": name}})).await;
    }
    let body = create(&h, "collection_with_sourceModel", json!({"vector": {"sourceModel": "invalidName", "dimension": 1536}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).starts_with("Command field 'command.options.vector.sourceModel' value \"invalidName\" not valid"));
}

// FindCollectionsIntegrationTest.FindCollections (the explained `collection2`: vector options
// with their defaults, next to `indexing`). astra-local does not add `lexical`/`rerank`.
#[tokio::test]
async fn find_collections_explains_vector_options() {
    let h = start().await;
    h.create_collection("collection1", json!({})).await;
    h.create_collection("collection2", json!({"vector": {"dimension": 5, "metric": "cosine"}, "indexing": {"deny": ["comment"]}})).await;
    let listed = explained(&h).await;
    assert_eq!(listed[0], json!({"name": "collection1", "options": {}}));
    assert_eq!(
        listed[1],
        json!({"name": "collection2", "options": {
            "vector": {"dimension": 5, "metric": "cosine", "sourceModel": "other"},
            "indexing": {"deny": ["comment"]}
        }})
    );
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {}})).await;
    assert_eq!(body["status"]["collections"], json!(["collection1", "collection2"]));
}
