//! Writing `$vector`: arrays and packed binary, their checks, and what reads give back.

use serde_json::{json, Value};

use super::{binary, create_vector_collection, unbinary, vector_elements, COLL};
use crate::common::{error_codes, message, only_error, start, Harness};

async fn insert_one(h: &Harness, coll: &str, document: Value) -> Value {
    h.cmd(coll, json!({"insertOne": {"document": document}})).await
}

/// Asserts an insert failed for the document alone: `insertedIds` empty, one error.
fn failed(body: &Value) -> (String, String) {
    assert_eq!(body["status"], json!({"insertedIds": []}), "{body}");
    let codes = error_codes(body);
    assert_eq!(codes.len(), 1, "{body}");
    (codes[0].clone(), message(body))
}

// VectorSearchIntegrationTest.InsertOneCollection: insertVectorSearch, insertBigVectorThenSearch,
// insertVectorCollectionWithoutVectorData; InsertManyCollection.insertVectorSearch.
#[tokio::test]
async fn insert_and_read_back_vectors() {
    let h = start().await;
    create_vector_collection(&h, COLL, 5, "cosine").await;
    let doc = json!({"_id": "1", "name": "Coded Cleats", "description": "ChatGPT integrated sneakers that talk to you", "$vector": [0.25, 0.25, 0.25, 0.25, 0.25]});
    assert_eq!(insert_one(&h, COLL, doc.clone()).await, json!({"status": {"insertedIds": ["1"]}}));
    let found = h.find_docs(COLL, json!({"filter": {"_id": "1"}, "projection": {"*": 1}})).await;
    assert_eq!(found, std::slice::from_ref(&doc));
    // Not projected by default.
    let mut plain = doc.clone();
    plain.as_object_mut().unwrap().remove("$vector");
    assert_eq!(h.find_one(COLL, json!({"_id": "1"})).await, plain);

    let body = insert_one(&h, COLL, json!({"_id": "10", "name": "Coded Cleats"})).await;
    assert_eq!(body["status"]["insertedIds"], json!(["10"]));
    assert_eq!(h.find_one(COLL, json!({"_id": "10"})).await, json!({"_id": "10", "name": "Coded Cleats"}));

    let body = h
        .insert_many(
            COLL,
            json!([
                {"_id": "2", "name": "Logic Layers", "$vector": [0.25, 0.25, 0.25, 0.25, 0.25]},
                {"_id": "3", "name": "Vision Vector Frame", "$vector": [0.12, 0.05, 0.08, 0.32, 0.6]}
            ]),
            json!({"ordered": true}),
        )
        .await;
    assert_eq!(body, json!({"status": {"insertedIds": ["2", "3"]}}));
    // Numbers come back as they were written (Astra keeps the document's JSON; only the index
    // holds float32s).
    let (_, text) = h.post_raw(&format!("default_keyspace/{COLL}"), r#"{"findOne":{"filter":{"_id":"3"},"projection":{"$vector":1}}}"#.into()).await;
    assert!(text.contains(r#""$vector":[0.12,0.05,0.08,0.32,0.6]"#), "{text}");

    // A vector longer than the 1,000 elements of an indexed array.
    create_vector_collection(&h, "big_vector_collection", 1536, "cosine").await;
    let big = vector_elements(1, 1536);
    let body = insert_one(&h, "big_vector_collection", json!({"_id": "bigVector1", "name": "Victor", "$vector": big})).await;
    assert_eq!(body["status"]["insertedIds"], json!(["bigVector1"]));
    let found = h.find_docs("big_vector_collection", json!({"filter": {"_id": "bigVector1"}, "projection": {"*": 1}})).await;
    assert_eq!(found[0]["$vector"].as_array().unwrap().len(), 1536);
    let search = vector_elements(3, 1536);
    let found =
        h.find_docs("big_vector_collection", json!({"sort": {"$vector": search}, "projection": {"_id": 1, "$vector": 1}})).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["_id"], "bigVector1");
    assert_eq!(found[0]["$vector"].as_array().unwrap().len(), 1536);
}

// VectorSearchIntegrationTest.InsertOneCollection: insertSimpleBinaryVector,
// insertLargeDimensionBinaryVector.
#[tokio::test]
async fn binary_vectors_round_trip() {
    let h = start().await;
    create_vector_collection(&h, COLL, 5, "cosine").await;
    let expected = [0.25f32, -1.5, 0.0, 0.75, 0.5];
    let doc = json!({"_id": "b1", "name": "aaron", "$vector": {"$binary": binary(&expected)}});
    assert_eq!(insert_one(&h, COLL, doc.clone()).await["status"]["insertedIds"], json!(["b1"]));
    let found = h.find_docs(COLL, json!({"filter": {"_id": "b1"}, "projection": {"$vector": 1}})).await;
    assert_eq!(found, std::slice::from_ref(&doc));
    assert_eq!(unbinary(found[0]["$vector"]["$binary"].as_str().unwrap()), expected);

    create_vector_collection(&h, "large_binary_vector_collection", 4096, "cosine").await;
    let large = vector_elements(1, 4096);
    let doc = json!({"_id": "b2", "name": "aaron", "$vector": {"$binary": binary(&large)}});
    assert_eq!(insert_one(&h, "large_binary_vector_collection", doc.clone()).await["status"]["insertedIds"], json!(["b2"]));
    let found = h.find_docs("large_binary_vector_collection", json!({"filter": {"_id": "b2"}, "projection": {"$vector": 1}})).await;
    assert_eq!(found, [doc]);
    // The binary form is searchable like the array form.
    let found = h.find_docs("large_binary_vector_collection", json!({"sort": {"$vector": {"$binary": binary(&large)}}, "options": {"includeSimilarity": true}})).await;
    assert_eq!(found[0]["_id"], "b2");
    assert_eq!(found[0]["$similarity"], json!(1.0));
}

// VectorSearchIntegrationTest.InsertOneCollection: insertEmptyVectorData, insertInvalidVectorData,
// failToInsertBinaryVectorWithInvalidBinaryString, failToInsertBinaryVectorWithInvalidBinaryValue,
// failToInsertBinaryVectorWithInvalidVectorObject, failToInsertBinaryVectorWithInvalidDecodedValue,
// failToInsertBinaryVectorWithUnmatchedVectorDimension;
// VectorSearchExtendedCommands.insertVectorWithUnmatchedSize.
#[tokio::test]
async fn bad_vectors_are_refused() {
    let h = start().await;
    create_vector_collection(&h, COLL, 5, "cosine").await;
    for (vector, code, text) in [
        (json!([]), "SHRED_BAD_VECTOR_SIZE", "Bad $vector value: cannot be empty Array"),
        (
            json!([0.11, "abc", true, null]),
            "SHRED_BAD_VECTOR_VALUE",
            "Bad $vector value: needs to be an array containing only Numbers but has a String value",
        ),
        (
            json!({"$binary": "@#$%^&*()"}),
            "SHRED_BAD_BINARY_VECTOR_VALUE",
            "Bad binary vector value to shred: Invalid content in EJSON $binary wrapper; not valid Base64-encoded String: Cannot access contents of TextNode as binary due to broken Base64 encoding: Illegal character '@'",
        ),
        (
            json!({"$binary": 1234}),
            "SHRED_BAD_BINARY_VECTOR_VALUE",
            "Bad binary vector value to shred: Unsupported JSON value type in EJSON $binary wrapper (Number): only String allowed",
        ),
        (
            json!({"binary": "PoAAAD6AAAA+gAAAPoAAAD6AAAA="}),
            "SHRED_BAD_DOCUMENT_VECTOR_TYPE",
            "Bad $vector value to shred: the key for the $vector Object must be '$binary', not 'binary'",
        ),
        (
            json!({"$binary": "1234"}),
            "SHRED_BAD_BINARY_VECTOR_VALUE",
            "Bad binary vector value to shred: binary value to decode is not a multiple of 4 bytes long (3 bytes)",
        ),
        (json!("abc"), "SHRED_BAD_DOCUMENT_VECTOR_TYPE", "JSON 'String's not supported: only JSON Arrays and Objects are"),
        (json!({"$binary": binary(&[0.25, -1.5, 0.0])}), "INVALID_VECTOR_LENGTH", "The configured vector dimension is: 5."),
        (json!(vector_elements(0, 3)), "INVALID_VECTOR_LENGTH", "The collection was: default_keyspace.my_collection."),
        (json!(vector_elements(0, 7)), "INVALID_VECTOR_LENGTH", "using a vector that has a length different"),
        // VectorSearchIntegrationTest.FindOneCollection.failWithZerosVector: the database refuses
        // a zero vector with cosine, on writes as on queries.
        (json!([0.0, 0.0, 0.0, 0.0, 0.0]), "INVALID_DATABASE_QUERY", "Zero and near-zero vectors cannot be indexed or queried with cosine similarity"),
        (json!([1e39, 0.0, 0.0, 0.0, 0.0]), "INVALID_DATABASE_QUERY", "non-finite value at vector[0]=Infinity"),
        (json!([1e18, 0.0, 0.0, 0.0, 0.0]), "INVALID_DATABASE_QUERY", "Out-of-bounds value at vector[0]=1.0E18"),
    ] {
        let body = insert_one(&h, COLL, json!({"_id": "Invalid", "name": "aaron", "$vector": vector})).await;
        let (found, shown) = failed(&body);
        assert_eq!(found, code, "{vector}: {body}");
        assert!(shown.contains(text), "{vector}: {shown}");
        assert_eq!(body["errors"][0]["documentIds"], json!(["Invalid"]), "{body}");
    }
    // Longer than 4,096 elements: the document limit.
    let body = insert_one(&h, COLL, json!({"_id": "huge", "$vector": vector_elements(0, 4097)})).await;
    assert_eq!(failed(&body).0, "SHRED_DOC_LIMIT_VIOLATION");
    assert!(message(&body).contains("number of elements Vector embedding (field '$vector') has (4097) exceeds maximum allowed (4096)"));
    // A `null` vector is no vector.
    assert_eq!(insert_one(&h, COLL, json!({"_id": "none", "$vector": null})).await["status"]["insertedIds"], json!(["none"]));
    // An unordered insertMany writes the good documents.
    let body = h
        .insert_many(COLL, json!([{"_id": "a", "$vector": [1, 2, 3]}, {"_id": "b", "$vector": [1, 2, 3, 4, 5]}]), json!({}))
        .await;
    assert_eq!(body["status"]["insertedIds"], json!(["b"]));
    assert_eq!(error_codes(&body), ["INVALID_VECTOR_LENGTH"]);
}

// InsertCollectionOperationTest.insertOneVectorDisabledWithVectorData: a `$vector` in a
// collection without vectors fails the whole command; a malformed one is still the shredder's.
#[tokio::test]
async fn vectors_need_a_vector_collection() {
    let h = start().await;
    h.create_collection("plain", json!({})).await;
    let body = insert_one(&h, "plain", json!({"_id": "doc1", "text": "user1", "$vector": [0.11, 0.22, 0.33, 0.44]})).await;
    assert_eq!(only_error(&body), "VECTOR_SEARCH_NOT_SUPPORTED");
    assert_eq!(message(&body), "Vector search is not enabled for collection: default_keyspace.plain.");
    let body = h.insert_many("plain", json!([{"_id": 1}, {"_id": 2, "$vector": [1]}]), json!({})).await;
    assert_eq!(only_error(&body), "VECTOR_SEARCH_NOT_SUPPORTED");
    assert_eq!(h.cmd("plain", json!({"countDocuments": {}})).await["status"]["count"], 0);
    let body = insert_one(&h, "plain", json!({"_id": "doc1", "$vector": []})).await;
    assert_eq!(failed(&body).0, "SHRED_BAD_VECTOR_SIZE");
    assert_eq!(insert_one(&h, "plain", json!({"_id": "doc2", "$vector": null})).await["status"]["insertedIds"], json!(["doc2"]));
}
