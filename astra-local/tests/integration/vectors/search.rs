//! `sort: {"$vector": ..}` on `find` and `findOne`: order, similarity, limits, filters,
//! projections and the refusals.

use serde_json::{json, Value};

use super::{binary, cosine_similarity, create_vector_collection, floats, ids_of, query, with_vector_documents, COLL};
use crate::common::{message, only_error, start};

// VectorSearchIntegrationTest.FindCollection: happyPath, happyPathBinaryVector,
// happyPathWithIncludeAll, happyPathWithExcludeAll, happyPathWithFilter, happyPathWithInFilter.
#[tokio::test]
async fn find_sorts_by_similarity() {
    let h = with_vector_documents().await;
    let body = h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}, "projection": {"_id": 1, "$vector": 1}, "options": {"limit": 5}}})).await;
    assert_eq!(ids_of(&body), ["3", "2", "1"]);
    assert!(body["data"]["documents"].as_array().unwrap().iter().all(|d| d["$vector"].is_array()));
    assert_eq!(body["data"]["nextPageState"], Value::Null);
    assert!(body.get("status").is_none(), "{body}");

    let packed = binary(&[0.15, 0.1, 0.1, 0.35, 0.55]);
    let body = h.cmd(COLL, json!({"find": {"sort": {"$vector": {"$binary": packed}}, "projection": {"_id": 1, "$vector": 1}, "options": {"limit": 5}}})).await;
    assert_eq!(ids_of(&body), ["3", "2", "1"]);

    let all = h.find_docs(COLL, json!({"sort": {"$vector": query()}, "projection": {"*": 1}, "options": {"limit": 5}})).await;
    assert_eq!(all[0]["name"], "Vision Vector Frame");
    assert!(all[0]["$vector"].is_array());
    let none = h.find_docs(COLL, json!({"sort": {"$vector": query()}, "projection": {"*": 0}, "options": {"limit": 2}})).await;
    assert_eq!(none, [json!({}), json!({})]);

    // `{"_id": 1, "$vector": 0}` names only special fields: an exclusion projection of `$vector`.
    let one = h.find_docs(COLL, json!({"filter": {"_id": "1"}, "projection": {"_id": 1, "$vector": 0}, "sort": {"$vector": query()}, "options": {"limit": 5}})).await;
    assert_eq!(one, [json!({"_id": "1", "name": "Coded Cleats", "description": "ChatGPT integrated sneakers that talk to you"})]);

    h.cmd(COLL, json!({"insertOne": {"document": {"_id": "xx", "name": "Logic Layers", "$vector": [0.25, 0.25, 0.25, 0.25, 0.25]}}})).await;
    let found = h
        .find_docs(
            COLL,
            json!({"filter": {"_id": {"$in": ["??", "xx"]}, "name": {"$in": ["Logic Layers", "???"]}},
                   "projection": {"_id": 1, "$vector": 0}, "sort": {"$vector": query()}, "options": {"limit": 5}}),
        )
        .await;
    assert_eq!(found, [json!({"_id": "xx", "name": "Logic Layers"})]);
    // A filter on another field: the matching documents, still by similarity.
    let found = h.find_docs(COLL, json!({"filter": {"name": "Logic Layers"}, "sort": {"$vector": query()}})).await;
    assert_eq!(found.iter().map(|d| d["_id"].clone()).collect::<Vec<_>>(), ["xx", "2"]);
    // A document without a vector takes no part.
    h.cmd(COLL, json!({"insertOne": {"document": {"_id": "novector", "name": "Logic Layers"}}})).await;
    assert_eq!(h.find_docs(COLL, json!({"filter": {"name": "Logic Layers"}, "sort": {"$vector": query()}})).await.len(), 2);
}

// VectorSearchIntegrationTest.VectorSearchSimilarityProjection: findOneSimilarityOption,
// findSimilarityOption; FindCollection.happyPathWithIncludeSortVectorOption. The similarity is
// the cosine metric's (1 + cos) / 2, as a float; `$similarity` comes last.
#[tokio::test]
async fn similarity_and_sort_vector() {
    let h = with_vector_documents().await;
    let body = h.cmd(COLL, json!({"findOne": {"sort": {"$vector": query()}, "options": {"includeSimilarity": true}}})).await;
    let document = &body["data"]["document"];
    assert_eq!(document["_id"], "3");
    let expected = cosine_similarity(&floats(&query()), &[0.1, 0.05, 0.08, 0.3, 0.6]);
    assert!((document["$similarity"].as_f64().unwrap() - expected).abs() < 1e-6, "{document} vs {expected}");
    assert_eq!(document.as_object().unwrap().keys().next_back().unwrap(), "$similarity");

    let body = h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}, "options": {"includeSimilarity": true}}})).await;
    let docs = body["data"]["documents"].as_array().unwrap();
    assert_eq!(ids_of(&body), ["3", "2", "1"]);
    let scores: Vec<f64> = docs.iter().map(|d| d["$similarity"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Without a vector sort there is no similarity.
    let plain = h.find_docs(COLL, json!({"options": {"includeSimilarity": true}})).await;
    assert!(plain.iter().all(|d| d.get("$similarity").is_none()));

    let body = h
        .cmd(COLL, json!({"find": {"sort": {"$vector": query()}, "projection": {"_id": 1, "$vector": 1}, "options": {"limit": 5, "includeSortVector": true}}}))
        .await;
    assert_eq!(ids_of(&body), ["3", "2", "1"]);
    assert_eq!(body["status"], json!({"sortVector": [0.15, 0.1, 0.1, 0.35, 0.55]}));
    // The sort vector is the float32 one, printed as Java prints a float.
    let (_, text) = h
        .post_raw(
            &format!("default_keyspace/{COLL}"),
            r#"{"findOne":{"sort":{"$vector":[0.123456789,1,2e-5,3,4]},"options":{"includeSortVector":true}}}"#.into(),
        )
        .await;
    assert!(text.contains(r#""status":{"sortVector":[0.12345679,1.0,2.0E-5,3.0,4.0]}"#), "{text}");
}

// FindIntegrationTest.noFilterWithIncludeSortVectorOptions,
// FindOneIntegrationTest.includeSortVectorOptionsAllowed: without a vector sort `sortVector` is
// null; and `ReadOperationPage` then leaves out the next page state.
#[tokio::test]
async fn include_sort_vector_without_a_vector_sort() {
    let h = start().await;
    let docs: Vec<Value> = (0..60).map(|i| json!({"_id": i})).collect();
    h.seed("plain", docs).await;
    let body = h.cmd("plain", json!({"find": {"options": {"limit": 2, "includeSortVector": true}}})).await;
    assert_eq!(body["status"], json!({"sortVector": null}));
    assert_eq!(body["data"]["documents"].as_array().unwrap().len(), 2);
    let body = h.cmd("plain", json!({"find": {"options": {"includeSortVector": true}}})).await;
    assert_eq!(body["data"]["documents"].as_array().unwrap().len(), 50);
    assert_eq!(body["data"]["nextPageState"], Value::Null);
    let body = h.cmd("plain", json!({"findOne": {"options": {"includeSortVector": true}}})).await;
    assert!(body["data"]["document"].is_object());
    assert_eq!(body["status"], json!({"sortVector": null}));
}

// VectorSearchIntegrationTest.FindCollection: happyPathWithEmptyVector, happyPathWithInvalidData,
// limitError, skipError; FindOneCollection: happyPath, happyPathWithIdFilter, failWithEmptyVector,
// failWithZerosVector, failWithInvalidVectorElements, failWithVectorFilter;
// VectorSearchExtendedCommands.findVectorWithUnmatchedSize.
#[tokio::test]
async fn vector_sort_refusals() {
    let h = with_vector_documents().await;
    assert_eq!(h.cmd(COLL, json!({"findOne": {"sort": {"$vector": query()}}})).await["data"]["document"]["_id"], "3");
    assert_eq!(h.cmd(COLL, json!({"findOne": {"filter": {"_id": "1"}, "sort": {"$vector": query()}}})).await["data"]["document"]["_id"], "1");
    for (command, code, text) in [
        (json!({"find": {"filter": {"_id": "1"}, "sort": {"$vector": []}, "options": {"limit": 5}}}), "SHRED_BAD_VECTOR_SIZE", "Bad $vector value: cannot be empty Array"),
        (
            json!({"find": {"filter": {"_id": "1"}, "sort": {"$vector": [0.11, "abc", true]}, "options": {"limit": 5}}}),
            "SHRED_BAD_VECTOR_VALUE",
            "Bad $vector value: needs to be an array containing only Numbers but has a String value",
        ),
        (
            json!({"find": {"sort": {"$vector": query()}, "projection": {"_id": 1, "$vector": 1}, "options": {"limit": 5000}}}),
            "COMMAND_FIELD_VALUE_INVALID",
            "limit options should not be greater than 1000 for vector search.",
        ),
        (
            json!({"find": {"sort": {"$vector": query()}, "options": {"skip": 10}}}),
            "COMMAND_FIELD_VALUE_INVALID",
            "skip options should not be used with vector search.",
        ),
        (json!({"findOne": {"filter": {"_id": "1"}, "sort": {"$vector": []}}}), "SHRED_BAD_VECTOR_SIZE", "cannot be empty Array"),
        (
            json!({"findOne": {"filter": {"_id": "1"}, "sort": {"$vector": [0.0, 0.0, 0.0, 0.0, 0.0]}}}),
            "INVALID_DATABASE_QUERY",
            "Zero and near-zero vectors cannot be indexed or queried with cosine similarity",
        ),
        (
            json!({"findOne": {"filter": {"_id": "1"}, "sort": {"$vector": [0.11, "abc", true]}}}),
            "SHRED_BAD_VECTOR_VALUE",
            "but has a String value",
        ),
        (
            json!({"findOne": {"filter": {"$vector": [1, 1, 1, 1, 1]}}}),
            "FILTER_INVALID_EXPRESSION",
            "cannot filter on '$vector' field using operator '$eq': only '$exists' is supported",
        ),
        (json!({"find": {"sort": {"$vector": [0.25, 0.5, 0.75]}, "options": {"limit": 5}}}), "INVALID_VECTOR_LENGTH", "The configured vector dimension is: 5."),
        (json!({"find": {"sort": {"$vector": [1, 2, 3, 4, 5, 6, 7]}}}), "INVALID_VECTOR_LENGTH", "default_keyspace.my_collection"),
        // CollectionSortClauseBuilder: the vector sort alone, an Array or a `$binary`.
        (json!({"find": {"sort": {"$vector": query(), "name": 1}}}), "SORT_CLAUSE_INVALID", "vector search cannot be used with other sort expressions"),
        (json!({"find": {"sort": {"$vector": "text"}}}), "SORT_CLAUSE_VALUE_INVALID", "vector sort expression needs to be Array value, not String"),
        (json!({"find": {"sort": {"$vector": {"$date": 5}}}}), "SORT_CLAUSE_VALUE_INVALID", "only binary vector object values are supported for sorting"),
        (json!({"find": {"sort": {"$vector": {"$binary": "1234"}}}}), "SORT_CLAUSE_VALUE_INVALID", "Invalid content in EJSON $binary wrapper, problem: binary value to decode is not a multiple of 4 bytes long (3 bytes)"),
        (json!({"find": {"sort": {"$vector": query()}, "options": {"pageState": "abc"}}}), "SORT_CLAUSE_INVALID", "'pageState' is not supported with non-empty sort clause"),
    ] {
        let body = h.cmd(COLL, command.clone()).await;
        assert_eq!(only_error(&body), code, "{command}: {body}");
        assert!(message(&body).contains(text), "{command}: {}", message(&body));
    }
    // The exists filter works, `null` is no vector, and the other operators find no vector.
    h.cmd(COLL, json!({"insertOne": {"document": {"_id": "4", "$vector": null}}})).await;
    assert_eq!(h.find_docs(COLL, json!({"filter": {"$vector": {"$exists": true}}})).await.len(), 3);
    assert_eq!(h.find_docs(COLL, json!({"filter": {"$vector": {"$exists": false}}})).await.len(), 1);
    assert_eq!(h.find_docs(COLL, json!({"filter": {"$vector": {"$size": 5}}})).await.len(), 0);
}

// VectorSearchIntegrationTest.FindCollection (the 1,000-result cap of `maxVectorSearchLimit`):
// a vector sort without a limit returns 1,000 documents, in one page.
#[tokio::test]
async fn vector_sort_returns_at_most_1000() {
    let h = start().await;
    create_vector_collection(&h, "many", 2, "euclidean").await;
    let docs: Vec<Value> = (0..1_100).map(|i| json!({"_id": i, "$vector": [i as f32, 0.0]})).collect();
    h.insert_all("many", docs).await;
    let body = h.cmd("many", json!({"find": {"sort": {"$vector": [0.0, 0.0]}, "options": {"includeSimilarity": true}}})).await;
    let docs = body["data"]["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 1_000);
    assert_eq!(body["data"]["nextPageState"], Value::Null);
    // Exact neighbours: the nearest first, 1 / (1 + d²).
    let ids: Vec<i64> = docs.iter().map(|d| d["_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (0..1_000).collect::<Vec<_>>());
    assert_eq!(docs[0]["$similarity"], json!(1.0));
    assert_eq!(docs[2]["$similarity"], json!(0.2));
    let body = h.cmd("many", json!({"find": {"sort": {"$vector": [1099.0, 0.0]}, "options": {"limit": 1000}}})).await;
    assert_eq!(body["data"]["documents"][0]["_id"], 1099);
    let body = h.cmd("many", json!({"find": {"filter": {"_id": {"$gte": 1050}}, "sort": {"$vector": [0.0, 0.0]}, "options": {"limit": 3}}})).await;
    assert_eq!(ids_of(&body), [json!(1050), json!(1051), json!(1052)]);
}

// Metrics: dot_product gives (1 + a·b) / 2, euclidean 1 / (1 + |a - b|²); for cosine the stored
// vector queried with itself is its own top-1 at similarity 1.
#[tokio::test]
async fn metrics_score_as_the_database() {
    let h = start().await;
    for (name, metric) in [("dot", "dot_product"), ("euc", "euclidean"), ("cos", "cosine")] {
        create_vector_collection(&h, name, 3, metric).await;
        h.insert_all(name, vec![json!({"_id": "a", "$vector": [0.6, 0.8, 0.0]}), json!({"_id": "b", "$vector": [0.0, 0.6, 0.8]})]).await;
    }
    let similarity = |body: &Value, i: usize| body["data"]["documents"][i]["$similarity"].as_f64().unwrap();
    let body = h.cmd("dot", json!({"find": {"sort": {"$vector": [0.0, 0.6, 0.8]}, "options": {"includeSimilarity": true}}})).await;
    assert_eq!(ids_of(&body), ["b", "a"]);
    assert!((similarity(&body, 0) - 1.0).abs() < 1e-6 && (similarity(&body, 1) - (1.0 + 0.48) / 2.0).abs() < 1e-6, "{body}");
    let body = h.cmd("euc", json!({"find": {"sort": {"$vector": [0.6, 0.8, 0.0]}, "options": {"includeSimilarity": true}}})).await;
    assert_eq!(ids_of(&body), ["a", "b"]);
    assert!((similarity(&body, 1) - 1.0 / (1.0 + 0.36 + 0.04 + 0.64)).abs() < 1e-6, "{body}");
    let body = h.cmd("cos", json!({"find": {"sort": {"$vector": [0.0, 0.6, 0.8]}, "options": {"includeSimilarity": true, "limit": 1}}})).await;
    assert_eq!(ids_of(&body), ["b"]);
    assert_eq!(similarity(&body, 0), 1.0);
    // The zero vector is fine for dot_product and euclidean.
    assert!(h.cmd("dot", json!({"findOne": {"sort": {"$vector": [0.0, 0.0, 0.0]}}})).await.get("errors").is_none());
}

// IndexingDescIntegrationTest.IndexingDesc: filterVectorFieldInDenyAll, sortFieldInAllowMany
// (vector collections with indexing; `$vector` stays sortable unless denied by name).
#[tokio::test]
async fn vectors_and_indexing() {
    let h = start().await;
    let doc = json!({"_id": "1", "name": "aaron", "address": {"street": "1 banana street", "city": "monkey town"}, "$vector": [0.25, 0.25, 0.25, 0.25, 0.25]});
    for (name, indexing) in [
        ("deny_all", json!({"deny": ["*"]})),
        ("deny_many", json!({"deny": ["name", "address", "contact.email"]})),
        ("allow_one", json!({"allow": ["name"]})),
        ("deny_vector", json!({"deny": ["$vector"]})),
    ] {
        h.create_collection(name, json!({"vector": {"size": 5, "function": "cosine"}, "indexing": indexing})).await;
        h.insert_all(name, vec![doc.clone()]).await;
    }
    let body = h.cmd("deny_all", json!({"find": {"filter": {"$vector": {"$exists": true}}}})).await;
    assert_eq!(only_error(&body), "FILTER_PATH_UNINDEXED");
    assert!(message(&body).contains("Collection path '$vector' is not indexed: cannot filter"));
    for name in ["deny_all", "deny_many", "allow_one"] {
        assert_eq!(h.find_docs(name, json!({"sort": {"$vector": query()}})).await.len(), 1, "{name}");
    }
    assert_eq!(h.find_docs("allow_one", json!({"filter": {"$vector": {"$exists": true}}})).await.len(), 1);
    let body = h.cmd("deny_vector", json!({"find": {"sort": {"$vector": query()}}})).await;
    assert_eq!(only_error(&body), "SORT_CLAUSE_PATH_UNINDEXED");
    // Not indexed, so not checked either: any `$vector` is kept in the document.
    let body = h.cmd("deny_vector", json!({"insertOne": {"document": {"_id": "2", "$vector": [1, 2]}}})).await;
    assert_eq!(body["status"]["insertedIds"], json!(["2"]));
}
