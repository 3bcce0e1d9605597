//! `$vector` through the update commands, vector sorts on the single-document write commands,
//! and vectors surviving a restart.

use serde_json::{json, Value};

use super::{create_vector_collection, ids_of, insert_vector_documents, query, vector_elements, with_vector_documents, COLL};
use crate::common::{message, only_error, start, start_in, Harness};

async fn nearest(h: &Harness, coll: &str, vector: Value) -> Value {
    h.cmd(coll, json!({"findOne": {"sort": {"$vector": vector}, "projection": {"_id": 1}}})).await["data"]["document"]["_id"].clone()
}

// VectorSearchIntegrationTest.UpdateCollection: setOperation, unsetOperation,
// setOnInsertOperation, errorOperationForVector.
#[tokio::test]
async fn update_operators_on_vectors() {
    let h = with_vector_documents().await;
    let body = h
        .cmd(
            COLL,
            json!({"findOneAndUpdate": {"filter": {"_id": "2"}, "projection": {"*": 1},
                "update": {"$set": {"$vector": [0.25, 0.25, 0.25, 0.25, 0.25]}}, "options": {"returnDocument": "after"}}}),
        )
        .await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    assert_eq!(body["data"]["document"]["_id"], "2");
    assert_eq!(body["data"]["document"]["$vector"], json!([0.25, 0.25, 0.25, 0.25, 0.25]));
    // The index follows: the new vector is its own nearest.
    assert_eq!(nearest(&h, COLL, json!([0.25, 0.25, 0.25, 0.25, 0.25])).await, "2");

    let body = h
        .cmd(COLL, json!({"findOneAndUpdate": {"filter": {"name": "Coded Cleats"}, "update": {"$unset": {"$vector": null}}, "options": {"returnDocument": "after"}}}))
        .await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    assert_eq!(body["data"]["document"]["_id"], "1");
    assert!(body["data"]["document"].get("$vector").is_none());
    let ids = ids_of(&h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}}})).await);
    assert_eq!(ids, ["3", "2"]);

    let body = h
        .cmd(
            COLL,
            json!({"findOneAndUpdate": {"filter": {"_id": "11"}, "projection": {"*": 1},
                "update": {"$setOnInsert": {"$vector": [0.11, 0.22, 0.33, 0.44, 0.55]}}, "options": {"returnDocument": "after", "upsert": true}}}),
        )
        .await;
    assert_eq!(body["status"], json!({"upsertedId": "11", "matchedCount": 0, "modifiedCount": 0}));
    assert_eq!(body["data"]["document"]["$vector"], json!([0.11, 0.22, 0.33, 0.44, 0.55]));
    assert_eq!(nearest(&h, COLL, json!([0.11, 0.22, 0.33, 0.44, 0.55])).await, "11");

    let body = h.cmd(COLL, json!({"findOneAndUpdate": {"filter": {"_id": "3"}, "update": {"$push": {"$vector": 0.33}}, "options": {"returnDocument": "after"}}})).await;
    assert_eq!(only_error(&body), "UNSUPPORTED_UPDATE_OPERATOR_FOR_VECTOR");
    assert!(message(&body).contains("command used the update operator: $push"));

    // A written vector is checked as an inserted one; the failure is the command's.
    let body = h.cmd(COLL, json!({"updateOne": {"filter": {"_id": "3"}, "update": {"$set": {"$vector": [1, 2]}}}})).await;
    assert_eq!(only_error(&body), "INVALID_VECTOR_LENGTH");
    let body = h.cmd(COLL, json!({"updateOne": {"filter": {"_id": "3"}, "update": {"$set": {"$vector": ["a"]}}}})).await;
    assert_eq!(only_error(&body), "SHRED_BAD_VECTOR_VALUE");
    // Setting `$vector` drops `$vectorize` (`SetOperation`).
    h.cmd(COLL, json!({"insertOne": {"document": {"_id": "v", "$vectorize": "text"}}})).await;
    h.cmd(COLL, json!({"updateOne": {"filter": {"_id": "v"}, "update": {"$set": {"$vector": [1, 1, 1, 1, 1]}}}})).await;
    let body = h.cmd(COLL, json!({"findOne": {"filter": {"_id": "v"}, "projection": {"*": 1}}})).await;
    assert_eq!(body["data"]["document"], json!({"_id": "v", "$vector": [1, 1, 1, 1, 1]}));
}

// VectorSearchIntegrationTest.UpdateCollection.setBigVectorOperation;
// VectorSearchExtendedCommands.findOneAndReplaceWithBigVector.
#[tokio::test]
async fn big_vectors_through_updates() {
    let h = start().await;
    create_vector_collection(&h, "big_vector_collection", 1536, "cosine").await;
    for id in ["bigVectorForSet", "bigVectorForFindReplace"] {
        h.cmd("big_vector_collection", json!({"insertOne": {"document": {"_id": id, "name": "Bob", "$vector": null}}})).await;
        let found = h.find_docs("big_vector_collection", json!({"filter": {"_id": id}, "projection": {"*": 1}})).await;
        assert_eq!(found[0]["$vector"], Value::Null);
    }
    let body = h
        .cmd(
            "big_vector_collection",
            json!({"findOneAndUpdate": {"filter": {"_id": "bigVectorForSet"}, "projection": {"*": 1},
                "update": {"$set": {"$vector": vector_elements(7, 1536)}}, "options": {"returnDocument": "after"}}}),
        )
        .await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    assert_eq!(body["data"]["document"]["$vector"].as_array().unwrap().len(), 1536);
    let body = h
        .cmd(
            "big_vector_collection",
            json!({"findOneAndReplace": {"filter": {"_id": "bigVectorForFindReplace"}, "projection": {"*": 1},
                "replacement": {"_id": "bigVectorForFindReplace", "$vector": vector_elements(2, 1536)}, "options": {"returnDocument": "after"}}}),
        )
        .await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    assert_eq!(body["data"]["document"]["$vector"].as_array().unwrap().len(), 1536);
    assert_eq!(nearest(&h, "big_vector_collection", json!(vector_elements(7, 1536))).await, "bigVectorForSet");
    assert_eq!(nearest(&h, "big_vector_collection", json!(vector_elements(2, 1536))).await, "bigVectorForFindReplace");
}

// VectorSearchIntegrationTest.VectorSearchExtendedCommands: findOneAndUpdate, updateOne,
// findOneAndReplace, findOneAndReplaceWithoutVector, findOneAndDelete, deleteOne.
#[tokio::test]
async fn write_commands_take_a_vector_sort() {
    let h = with_vector_documents().await;
    let body = h
        .cmd(COLL, json!({"findOneAndUpdate": {"sort": {"$vector": query()}, "update": {"$set": {"status": "active"}}, "options": {"returnDocument": "after"}}}))
        .await;
    assert_eq!(body["data"]["document"]["_id"], "3");
    assert_eq!(body["data"]["document"]["status"], "active");
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));

    insert_vector_documents(&h).await;
    let body = h.cmd(COLL, json!({"updateOne": {"update": {"$set": {"new_col": "new_val"}}, "sort": {"$vector": query()}}})).await;
    assert_eq!(body, json!({"status": {"matchedCount": 1, "modifiedCount": 1}}));
    assert_eq!(h.find_one(COLL, json!({"_id": "3"})).await["new_col"], "new_val");

    insert_vector_documents(&h).await;
    let body = h
        .cmd(
            COLL,
            json!({"findOneAndReplace": {"sort": {"$vector": query()}, "projection": {"*": 1},
                "replacement": {"_id": "3", "username": "user3", "status": false, "$vector": [0.12, 0.05, 0.08, 0.32, 0.6]},
                "options": {"returnDocument": "after"}}}),
        )
        .await;
    assert_eq!(body["data"]["document"]["_id"], "3");
    assert_eq!(body["data"]["document"]["$vector"], json!([0.12, 0.05, 0.08, 0.32, 0.6]));
    assert_eq!(body["data"]["document"]["username"], "user3");
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));

    insert_vector_documents(&h).await;
    let body = h
        .cmd(COLL, json!({"findOneAndReplace": {"sort": {"$vector": query()}, "replacement": {"_id": "3", "username": "user3", "status": false}, "options": {"returnDocument": "after"}}}))
        .await;
    assert_eq!(body["data"]["document"], json!({"_id": "3", "username": "user3", "status": false}));
    // Replaced without a vector, it left the index.
    assert_eq!(ids_of(&h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}}})).await), ["2", "1"]);

    insert_vector_documents(&h).await;
    let body = h.cmd(COLL, json!({"findOneAndDelete": {"projection": {"*": 1}, "sort": {"$vector": query()}}})).await;
    assert_eq!(body["status"], json!({"deletedCount": 1}));
    assert_eq!(body["data"]["document"]["_id"], "3");
    assert_eq!(body["data"]["document"]["name"], "Vision Vector Frame");
    assert!(body["data"]["document"]["$vector"].is_array());

    insert_vector_documents(&h).await;
    let body = h.cmd(COLL, json!({"deleteOne": {"filter": {"$vector": {"$exists": true}}, "sort": {"$vector": query()}}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": 1}}));
    assert_eq!(h.find_one(COLL, json!({"_id": "3"})).await, Value::Null);
    assert_eq!(nearest(&h, COLL, query()).await, "2");
    // Truncated, no vector remains.
    h.cmd(COLL, json!({"deleteMany": {}})).await;
    assert_eq!(h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}}})).await["data"]["documents"], json!([]));
}

// UpdateCollectionOperation on a collection without vectors: the database has no vector column
// to write, so an updated `$vector` is only part of the document; a vector sort is refused.
#[tokio::test]
async fn plain_collections_keep_updated_vectors_as_fields() {
    let h = start().await;
    h.seed("plain", vec![json!({"_id": 1})]).await;
    let body = h.cmd("plain", json!({"updateOne": {"filter": {"_id": 1}, "update": {"$set": {"$vector": [1, 2, 3]}}}})).await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    let body = h.cmd("plain", json!({"findOne": {"filter": {"_id": 1}, "projection": {"$vector": 1}}})).await;
    assert_eq!(body["data"]["document"], json!({"_id": 1, "$vector": [1, 2, 3]}));
    for command in [
        json!({"findOne": {"sort": {"$vector": [1, 2, 3]}}}),
        json!({"deleteOne": {"filter": {}, "sort": {"$vector": [1, 2, 3]}}}),
        json!({"updateOne": {"update": {"$set": {"a": 1}}, "sort": {"$vector": [1, 2, 3]}}}),
    ] {
        assert_eq!(only_error(&h.cmd("plain", command.clone()).await), "VECTOR_SEARCH_NOT_SUPPORTED", "{command}");
    }
}

// Vectors live in the `vectors` table next to their documents: a restarted astra-local finds
// them again.
#[tokio::test]
async fn vectors_survive_a_restart() {
    let h = with_vector_documents().await;
    assert_eq!(nearest(&h, COLL, query()).await, "3");
    let dir = h.astra.stop().await;
    let h = start_in(dir).await;
    let body = h.cmd(COLL, json!({"find": {"sort": {"$vector": query()}, "options": {"includeSimilarity": true}}})).await;
    assert_eq!(ids_of(&body), ["3", "2", "1"]);
    h.cmd(COLL, json!({"deleteOne": {"filter": {"_id": "3"}}})).await;
    assert_eq!(nearest(&h, COLL, query()).await, "2");
}
