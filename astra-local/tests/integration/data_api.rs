//! Data API commands, response shapes and error codes.

use serde_json::{json, Value};

use crate::common::{assert_error_shape, error_codes, start};

#[tokio::test]
async fn collections_are_created_listed_and_deleted() {
    let h = start().await;
    h.create_collection("people", json!({"indexing": {"deny": ["blob"]}, "defaultId": {"type": "objectId"}})).await;
    // Same settings again: ok; different: refused.
    h.create_collection("people", json!({"indexing": {"deny": ["blob"]}, "defaultId": {"type": "objectId"}})).await;
    let (_, body) = h.post("default_keyspace", &json!({"createCollection": {"name": "people"}})).await;
    assert_eq!(error_codes(&body), ["EXISTING_COLLECTION_DIFFERENT_SETTINGS"]);
    assert_error_shape(&body["errors"][0]);

    h.create_collection("plain", json!({})).await;
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {}})).await;
    assert_eq!(body, json!({"status": {"collections": ["people", "plain"]}}));
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {"options": {"explain": true}}})).await;
    assert_eq!(
        body["status"]["collections"][0],
        json!({"name": "people", "options": {"defaultId": {"type": "objectId"}, "indexing": {"deny": ["blob"]}}})
    );
    assert_eq!(body["status"]["collections"][1], json!({"name": "plain", "options": {}}));

    let (_, body) = h.post("default_keyspace", &json!({"deleteCollection": {"name": "plain"}})).await;
    assert_eq!(body, json!({"status": {"ok": 1}}));
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {}})).await;
    assert_eq!(body, json!({"status": {"collections": ["people"]}}));
}

#[tokio::test]
async fn schema_errors_have_the_real_codes() {
    let h = start().await;
    let (status, body) = h.post("default_keyspace", &json!({"createCollection": {"name": "bad-name"}})).await;
    assert_eq!(status, 200);
    assert_eq!(error_codes(&body), ["UNSUPPORTED_SCHEMA_NAME"]);

    let (_, body) = h.post("nowhere", &json!({"findCollections": {}})).await;
    assert_eq!(error_codes(&body), ["UNKNOWN_KEYSPACE"]);
    assert_eq!(body["errors"][0]["scope"], "SCHEMA");

    let (_, body) = h.post("default_keyspace/missing", &json!({"find": {}})).await;
    assert_eq!(error_codes(&body), ["UNKNOWN_COLLECTION_OR_TABLE"]);

    h.create_collection("c", json!({})).await;
    let (_, body) = h.post("default_keyspace/c", &json!({"frobnicate": {}})).await;
    assert_eq!(error_codes(&body), ["COMMAND_UNKNOWN"]);

    let (_, body) = h
        .post("default_keyspace", &json!({"createCollection": {"name": "x", "options": {"indexing": {"allow": ["a"], "deny": ["b"]}}}}))
        .await;
    assert_eq!(error_codes(&body), ["INVALID_INDEXING_DEFINITION"]);

    for i in 1..10 {
        h.create_collection(&format!("c{i}"), json!({})).await;
    }
    let (_, body) = h.post("default_keyspace", &json!({"createCollection": {"name": "one_too_many"}})).await;
    assert_eq!(error_codes(&body), ["TOO_MANY_COLLECTIONS"]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("maximum number of collections per database is 10"));
}

#[tokio::test]
async fn insert_many_reports_each_document() {
    let h = start().await;
    h.create_collection("c", json!({})).await;
    let body = h.insert_many("c", json!([{"_id": 1}, {"_id": "two"}, {"_id": {"$uuid": "123e4567-e89b-12d3-a456-426614174000"}}]), json!({})).await;
    assert_eq!(
        body,
        json!({"status": {"insertedIds": [1, "two", {"$uuid": "123e4567-e89b-12d3-a456-426614174000"}]}})
    );

    // Unordered (the default): the duplicate fails alone.
    let body = h.insert_many("c", json!([{"_id": 1}, {"_id": 3}]), json!({})).await;
    assert_eq!(body["status"]["insertedIds"], json!([3]));
    assert_eq!(error_codes(&body), ["DOCUMENT_ALREADY_EXISTS"]);
    assert_eq!(body["errors"][0]["documentIds"], json!([1]));
    assert_error_shape(&body["errors"][0]);
    assert_eq!(body["errors"][0]["family"], "REQUEST");
    assert_eq!(body["errors"][0]["scope"], "DOCUMENT");

    // Per-document responses, in input order, one bad document failing alone.
    let body = h
        .insert_many(
            "c",
            json!([{"_id": 10}, {"_id": 1}, {"_id": [1]}, {"_id": 11, "$bad": 1}, {"_id": 12}]),
            json!({"returnDocumentResponses": true}),
        )
        .await;
    assert_eq!(
        body["status"]["documentResponses"],
        json!([
            {"_id": 10, "status": "OK"},
            {"_id": 1, "status": "ERROR", "errorsIdx": 0},
            {"status": "ERROR", "errorsIdx": 1},
            {"_id": 11, "status": "ERROR", "errorsIdx": 2},
            {"_id": 12, "status": "OK"}
        ])
    );
    assert_eq!(error_codes(&body), ["DOCUMENT_ALREADY_EXISTS", "SHRED_BAD_DOCID_TYPE", "SHRED_BAD_FIELD_NAME"]);

    // Ordered: stops at the first failure, the rest are skipped.
    let body = h
        .insert_many("c", json!([{"_id": 20}, {"_id": 20}, {"_id": 21}]), json!({"ordered": true, "returnDocumentResponses": true}))
        .await;
    assert_eq!(
        body["status"]["documentResponses"],
        json!([{"_id": 20, "status": "OK"}, {"_id": 20, "status": "ERROR", "errorsIdx": 0}, {"_id": 21, "status": "SKIPPED"}])
    );

    // More than 100 documents: refused as a whole.
    let many: Vec<Value> = (0..101).map(|i| json!({"_id": 1000 + i})).collect();
    let body = h.insert_many("c", Value::Array(many), json!({})).await;
    assert_eq!(error_codes(&body), ["COMMAND_FIELD_VALUE_INVALID"]);
    assert!(body.get("status").is_none());
    let hundred: Vec<Value> = (0..100).map(|i| json!({"_id": 1000 + i})).collect();
    let body = h.insert_many("c", Value::Array(hundred), json!({})).await;
    assert_eq!(body["status"]["insertedIds"].as_array().unwrap().len(), 100);
}

#[tokio::test]
async fn insert_one_and_generated_ids() {
    let h = start().await;
    h.create_collection("oid", json!({"defaultId": {"type": "objectId"}})).await;
    let (_, body) = h.post("default_keyspace/oid", &json!({"insertOne": {"document": {"name": "x"}}})).await;
    let id = &body["status"]["insertedIds"][0];
    let hex = id["$objectId"].as_str().unwrap();
    assert_eq!(hex.len(), 24);
    let (_, body) = h.post("default_keyspace/oid", &json!({"findOne": {"filter": {"_id": id}}})).await;
    assert_eq!(body["data"]["document"], json!({"_id": id, "name": "x"}));

    h.create_collection("plain", json!({})).await;
    let (_, body) = h.post("default_keyspace/plain", &json!({"insertOne": {"document": {"name": "y"}}})).await;
    assert!(body["status"]["insertedIds"][0].is_string());
    let (_, body) = h.post("default_keyspace/plain", &json!({"insertOne": {"document": {"_id": {"a": 1}}}})).await;
    assert_eq!(error_codes(&body), ["SHRED_BAD_DOCID_TYPE"]);
    assert_eq!(body["status"]["insertedIds"], json!([]));
}

#[tokio::test]
async fn numbers_round_trip_exactly() {
    let h = start().await;
    h.create_collection("n", json!({})).await;
    let hundred_digits = format!("0.{}", "1234567890".repeat(10)).chars().take(100).collect::<String>();
    let doc = format!(
        r#"{{"insertMany":{{"documents":[{{"_id":"d","dec":1234567890123456789012345678901234,"tiny":-1.234567890123456789012345678901234E-6143,"long":9223372036854775807,"hundred":{hundred_digits},"f":0.1}}]}}}}"#
    );
    let (status, text) = h.post_raw("default_keyspace/n", doc).await;
    assert_eq!(status, 200, "{text}");
    let (_, text) = h.post_raw("default_keyspace/n", r#"{"findOne":{"filter":{"_id":"d"}}}"#.into()).await;
    assert!(text.contains("\"dec\":1234567890123456789012345678901234"), "{text}");
    assert!(text.contains("\"tiny\":-1.234567890123456789012345678901234E-6143"), "{text}");
    assert!(text.contains("\"long\":9223372036854775807"), "{text}");
    assert!(text.contains(&format!("\"hundred\":{hundred_digits}")), "{text}");
    assert!(text.contains("\"f\":0.1"), "{text}");
}

async fn seed(h: &crate::common::Harness, coll: &str, n: usize) {
    h.create_collection(coll, json!({})).await;
    let docs: Vec<Value> = (0..n).map(|i| json!({"_id": i, "group": i % 3, "name": format!("n{i}")})).collect();
    for chunk in docs.chunks(100) {
        let body = h.insert_many(coll, Value::Array(chunk.to_vec()), json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
}

// PaginationIntegrationTest.NormalFunction (pagingWithNextPageState, pageLimitCheck),
// FindIntegrationTest.Find (byId, byColumn), InAndNinIntegrationTest (inCondition),
// RangeReadIntegrationTest (gt, lt), FindOneIntegrationTest, CountIntegrationTest.
#[tokio::test]
async fn find_pages_and_filters() {
    let h = start().await;
    let page = astra_local::DEFAULT_PAGE_SIZE;
    let total = 2 * page + 20;
    seed(&h, "f", total).await;
    let mut seen = Vec::new();
    let mut page_state: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut options = json!({});
        if let Some(state) = &page_state {
            options["pageState"] = json!(state);
        }
        let (_, body) = h.post("default_keyspace/f", &json!({"find": {"filter": {}, "options": options}})).await;
        let docs = body["data"]["documents"].as_array().unwrap().clone();
        pages += 1;
        seen.extend(docs.iter().map(|d| d["_id"].as_u64().unwrap()));
        match body["data"]["nextPageState"].as_str() {
            Some(state) => {
                assert_eq!(docs.len(), page);
                page_state = Some(state.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (0..total as u64).collect::<Vec<u64>>());

    let find = |filter: Value, extra: Value| {
        let mut command = json!({"filter": filter});
        if let Value::Object(extra) = extra {
            command.as_object_mut().unwrap().extend(extra);
        }
        json!({"find": command})
    };
    let ids = |body: &Value| -> Vec<u64> {
        body["data"]["documents"].as_array().unwrap().iter().map(|d| d["_id"].as_u64().unwrap()).collect()
    };
    let (_, body) = h.post("default_keyspace/f", &find(json!({"group": 1}), json!({"options": {"limit": 5}}))).await;
    assert_eq!(ids(&body), [1, 4, 7, 10, 13]);
    assert!(body["data"]["nextPageState"].is_null());
    let (_, body) = h.post("default_keyspace/f", &find(json!({"_id": {"$in": [3, 5, 999]}}), json!({}))).await;
    assert_eq!(ids(&body), [3, 5]);
    let (_, body) = h.post("default_keyspace/f", &find(json!({"_id": {"$gte": total - 5}}), json!({}))).await;
    assert_eq!(ids(&body), (total as u64 - 5..total as u64).collect::<Vec<_>>());
    let (_, body) = h.post("default_keyspace/f", &find(json!({"_id": {"$lt": 3}}), json!({"sort": {"_id": -1}}))).await;
    assert_eq!(ids(&body), [2, 1, 0]);
    let (_, body) = h.post("default_keyspace/f", &find(json!({"name": "n7"}), json!({"projection": {"name": 1, "_id": 0}}))).await;
    assert_eq!(body["data"]["documents"], json!([{"name": "n7"}]));

    let (_, body) = h.post("default_keyspace/f", &json!({"findOne": {"filter": {"_id": 44}}})).await;
    assert_eq!(body["data"]["document"], json!({"_id": 44, "group": 2, "name": "n44"}));
    // A limit over the page size still ends at the limit: two pages, the second cut short.
    let (_, first) = h.post("default_keyspace/f", &find(json!({}), json!({"options": {"limit": page + 5}}))).await;
    assert_eq!(ids(&first).len(), page);
    let state = first["data"]["nextPageState"].as_str().unwrap();
    let (_, second) = h.post("default_keyspace/f", &find(json!({}), json!({"options": {"limit": page + 5, "pageState": state}}))).await;
    assert_eq!(ids(&second), (page as u64..page as u64 + 5).collect::<Vec<_>>());
    assert!(second["data"]["nextPageState"].is_null());
    let (_, body) = h.post("default_keyspace/f", &json!({"findOne": {"filter": {"_id": 4400}}})).await;
    assert_eq!(body, json!({"data": {"document": null}}));

    let (_, body) = h.post("default_keyspace/f", &json!({"countDocuments": {"filter": {"group": 0}}})).await;
    assert_eq!(body, json!({"status": {"count": total.div_ceil(3)}}));
    let (_, body) = h.post("default_keyspace/f", &json!({"estimatedDocumentCount": {}})).await;
    assert_eq!(body, json!({"status": {"count": total}}));

    let (_, body) = h.post("default_keyspace/f", &json!({"find": {"filter": {"n": {"$regex": "x"}}}})).await;
    assert_eq!(error_codes(&body), ["FILTER_UNSUPPORTED_OPERATOR"]);
}

#[tokio::test]
async fn count_stops_at_a_thousand_and_delete_many_pages() {
    let h = start().await;
    seed(&h, "big", 1001).await;
    let (_, body) = h.post("default_keyspace/big", &json!({"countDocuments": {"filter": {}}})).await;
    assert_eq!(body, json!({"status": {"count": 1000, "moreData": true}}));
    let (_, body) = h.post("default_keyspace/big", &json!({"countDocuments": {"filter": {"_id": {"$lt": 1000}}}})).await;
    assert_eq!(body, json!({"status": {"count": 1000}}));

    let (_, body) = h.post("default_keyspace/big", &json!({"deleteMany": {"filter": {"group": 1}}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": 20, "moreData": true}}));
    let (_, body) = h.post("default_keyspace/big", &json!({"deleteMany": {"filter": {"_id": {"$in": [0, 1, 2]}}}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": 2}}));
    let (_, body) = h.post("default_keyspace/big", &json!({"deleteMany": {}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": -1}}));
    let (_, body) = h.post("default_keyspace/big", &json!({"estimatedDocumentCount": {}})).await;
    assert_eq!(body, json!({"status": {"count": 0}}));
}

#[tokio::test]
async fn extended_types_and_field_names() {
    let h = start().await;
    h.create_collection("x", json!({})).await;
    let body = h
        .insert_many(
            "x",
            json!([{
                "_id": {"$objectId": "5f0c6ed1a5f40e1b2c3d4e5f"},
                "when": {"$date": 1700000000000i64},
                "before_1970": {"$date": -86400000},
                "uid": {"$uuid": "123e4567-e89b-12d3-a456-426614174000"},
                "bin": {"$binary": "aGVsbG8="},
                "nested": {"list": [{"$date": 1}]}
            }]),
            json!({}),
        )
        .await;
    assert_eq!(body["status"]["insertedIds"], json!([{"$objectId": "5f0c6ed1a5f40e1b2c3d4e5f"}]));

    let cases = [
        (json!({"v": {"$oid": "5f0c6ed1a5f40e1b2c3d4e5f"}}), "SHRED_BAD_FIELD_NAME"),
        (json!({"v": {"$numberLong": "1"}}), "SHRED_BAD_FIELD_NAME"),
        (json!({"v": {"$date": "2020-01-01"}}), "SHRED_BAD_EJSON_VALUE"),
        (json!({"v": {"$date": 1.5}}), "SHRED_BAD_EJSON_VALUE"),
        (json!({"v": {"$objectId": "xyz"}}), "SHRED_BAD_EJSON_VALUE"),
        (json!({"v": {"$uuid": "not-a-uuid"}}), "SHRED_BAD_EJSON_VALUE"),
        (json!({"v": {"$binary": "!!!"}}), "SHRED_BAD_EJSON_VALUE"),
        (json!({"": 1}), "SHRED_BAD_FIELD_NAME"),
        (json!({"a": {"$x": 1, "y": 2}}), "SHRED_BAD_FIELD_NAME"),
        (json!({"_id": [1, 2]}), "SHRED_BAD_DOCID_TYPE"),
        (json!({"_id": {"k": 1}}), "SHRED_BAD_DOCID_TYPE"),
        (json!({"_id": ""}), "SHRED_BAD_DOCID_VALUE"),
    ];
    for (doc, code) in cases {
        let body = h.insert_many("x", json!([doc.clone()]), json!({})).await;
        assert_eq!(error_codes(&body), [code], "{doc}: {body}");
    }
    let (_, body) = h.post("default_keyspace/x", &json!({"insertMany": {"documents": [5]}})).await;
    assert_eq!(error_codes(&body), ["SHRED_BAD_DOCUMENT_TYPE"]);
    // Every accepted id type.
    let body = h
        .insert_many("x", json!([{"_id": true}, {"_id": null}, {"_id": 2.5}, {"_id": {"$date": 5}}, {"_id": "s"}]), json!({}))
        .await;
    assert_eq!(body["status"]["insertedIds"], json!([true, null, 2.5, {"$date": 5}, "s"]));
}

#[tokio::test]
async fn query_and_option_errors() {
    let h = start().await;
    h.create_collection("q", json!({})).await;
    let cases = [
        // FindCollectionOperation.execute: a vector sort on a collection without vectors.
        (json!({"find": {"sort": {"$vector": [0.1]}}}), "VECTOR_SEARCH_NOT_SUPPORTED"),
        // CollectionSortClauseBuilder.buildRegularSortExpression: a direction other than 1/-1.
        (json!({"find": {"sort": {"name": 2}}}), "SORT_CLAUSE_VALUE_INVALID"),
        (json!({"find": {"projection": {"a": {"$elemMatch": 2}}}}), "UNSUPPORTED_PROJECTION_PARAM"),
        (json!({"find": {"projection": {"a": 1, "b": 0}}}), "UNSUPPORTED_PROJECTION_PARAM"),
        (json!({"find": {"filter": {"a": {"$in": 5}}}}), "FILTER_INVALID_EXPRESSION"),
        // FilterClauseBuilder.populateExpression: an array value under any key but $and/$or.
        (json!({"find": {"filter": {"$nor": []}}}), "FILTER_INVALID_EXPRESSION"),
        (json!({"find": {"options": {"pageState": "***"}}}), "COMMAND_FIELD_VALUE_INVALID"),
        // Jackson cannot read "yes" as a boolean.
        (json!({"insertMany": {"documents": [{}], "options": {"ordered": "yes"}}}), "REQUEST_STRUCTURE_MISMATCH"),
    ];
    for (command, code) in cases {
        let (status, body) = h.post("default_keyspace/q", &command).await;
        assert_eq!(status, 200);
        assert_eq!(error_codes(&body), [code], "{command}: {body}");
    }
    let (_, body) = h
        .post("default_keyspace", &json!({"createCollection": {"name": "o", "options": {"defaultId": {"type": "serial"}}}}))
        .await;
    // The `@Pattern` of CreateCollectionCommand.Options.DocIdDesc.idType.
    assert_eq!(error_codes(&body), ["COMMAND_FIELD_VALUE_INVALID"]);
    let (_, text) = h.post_raw("default_keyspace/q", r#"{"insertOne":{"document":{"a":1,"a":2}}}"#.into()).await;
    assert!(text.contains("REQUEST_NOT_JSON") && text.contains("Duplicate field 'a'"), "{text}");
}
