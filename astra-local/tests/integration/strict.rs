//! What the real Data API refuses, restated from stargate/data-api's integration tests: unknown
//! command and option fields, options on commands that take none, request shapes, filter
//! validation, `&`-escaped paths in filters and projections, and filters on paths a
//! collection does not index (IndexingDescIntegrationTest).

use serde_json::{json, Value};

use crate::common::{ids, message, only_error, start};

// CollectionResourceIntegrationTest.ClientErrors: unknownCommandField, emptyBody,
// unknownCommand; KeyspaceResourceIntegrationTest.ClientErrors: emptyBody, unknownCommand;
// DeleteOneIntegrationTest.DeleteOne: emptyOptionsAllowed, noOptionsAllowed;
// InsertInCollectionIntegrationTest.InsertOne: noOptionsAllowed, notValidDocumentMissing.
#[tokio::test]
async fn unknown_fields_and_options_are_refused() {
    let h = start().await;
    h.create_collection("c", json!({})).await;
    let body = h.cmd("c", json!({"findOne": {"unknown": "value"}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_UNKNOWN");
    assert!(message(&body).starts_with("Command field 'unknown' not recognized"), "{body}");
    assert!(message(&body).contains("not one of known fields ('filter', 'options', 'projection', 'sort')"), "{body}");

    for (path, body) in [("default_keyspace/c", ""), ("default_keyspace", "  ")] {
        let (status, text) = h.post_raw(path, body.into()).await;
        assert_eq!(status, 200);
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
        assert!(message(&body).starts_with("Command field 'command' value `null` not valid: must not be null."), "{body}");
    }
    let body = h.cmd("c", json!({"unknownCommand": {}})).await;
    assert_eq!(only_error(&body), "COMMAND_UNKNOWN");
    assert!(message(&body).starts_with("Command 'unknownCommand' is not a Collection Command recognized by Data API."));
    let (_, body) = h.post("default_keyspace", &json!({"unknownCommand": {}})).await;
    assert!(message(&body).starts_with("Command 'unknownCommand' is not a Keyspace Command recognized by Data API."));

    assert_eq!(h.cmd("c", json!({"deleteOne": {"filter": {"_id": "doc3"}, "options": {}}})).await, json!({"status": {"deletedCount": 0}}));
    let cases = [
        (json!({"deleteOne": {"filter": {"_id": "x"}, "options": {"setting": "abc"}}}), "COMMAND_ACCEPTS_NO_OPTIONS", "Command 'deleteOne' does not accept options but some were included."),
        (json!({"insertOne": {"document": {}, "options": {"ordered": true}}}), "COMMAND_ACCEPTS_NO_OPTIONS", "Command 'insertOne' does not accept options"),
        (json!({"countDocuments": {"options": {"limit": 1}}}), "COMMAND_ACCEPTS_NO_OPTIONS", "Command 'countDocuments'"),
        (json!({"find": {"options": {"limitt": 1}}}), "COMMAND_FIELD_UNKNOWN", "Command field 'limitt' not recognized: not one of known fields ('includeSimilarity', 'includeSortVector', 'limit', 'pageState', 'skip')"),
        (json!({"findOne": {"options": {"skip": 1}}}), "COMMAND_FIELD_UNKNOWN", "Command field 'skip' not recognized"),
        (json!({"findOneAndDelete": {"filter": {}, "options": {}}}), "COMMAND_FIELD_UNKNOWN", "Command field 'options' not recognized"),
        (json!({"updateMany": {"filter": {}, "update": {"$set": {"a": 1}}, "sort": {"a": 1}}}), "COMMAND_FIELD_UNKNOWN", "Command field 'sort'"),
        (json!({"insertOne": {}}), "COMMAND_FIELD_VALUE_INVALID", "Command field 'command.document' value `null` not valid: must not be null"),
        (json!({"deleteOne": {}}), "COMMAND_FIELD_VALUE_INVALID", "Command field 'command.filterDefinition' value `null` not valid: must not be null"),
        (json!({"find": {"options": {"limit": "x"}}}), "REQUEST_STRUCTURE_MISMATCH", "Request is valid JSON but has a structural mismatch"),
        (json!({"find": 5}), "REQUEST_STRUCTURE_MISMATCH", "structural mismatch"),
    ];
    for (command, code, text) in cases {
        let body = h.cmd("c", command.clone()).await;
        assert_eq!(only_error(&body), code, "{command}");
        assert!(message(&body).contains(text), "{command}: {body}");
    }
    let (_, body) = h.post("default_keyspace", &json!({"deleteCollection": {"name": "c", "options": {"x": 1}}})).await;
    assert_eq!(only_error(&body), "COMMAND_ACCEPTS_NO_OPTIONS");
    let (_, body) = h.post("default_keyspace", &json!({"deleteCollection": {}})).await;
    assert!(message(&body).contains("Command field 'command.name' value `null` not valid: must not be empty"), "{body}");
    let (_, body) = h.post("default_keyspace", &json!({"findCollections": {"options": {"explain": true, "verbose": 1}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_UNKNOWN");
}

// InsertInCollectionIntegrationTest.InsertMany: emptyDocuments ([{}, {}] is fine) and an
// empty list (`@NotEmpty`); InsertManyLimitsChecking.insertManyWithTooManyDocuments.
#[tokio::test]
async fn insert_many_needs_one_to_a_hundred_documents() {
    let h = start().await;
    h.create_collection("c", json!({})).await;
    let body = h.cmd("c", json!({"insertMany": {"documents": [{}, {}]}})).await;
    assert_eq!(body["status"]["insertedIds"].as_array().unwrap().len(), 2);
    let body = h.cmd("c", json!({"insertMany": {"documents": []}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("Command field 'command.documents' value \"[]\" not valid: must not be empty."), "{body}");
    let text = "abcd 1234 ".repeat(100);
    let docs: Vec<Value> = (0..101).map(|i| json!({"_id": format!("doc{i}"), "text": text})).collect();
    let body = h.cmd("c", json!({"insertMany": {"documents": docs}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("not valid: amount of documents to insert is over the max limit (101 vs 100)."), "{body}");
    assert!(message(&body).contains("[TRUNCATED from "), "{body}");
}

// CreateCollectionIntegrationTest.CreateCollectionFail: failWithInvalidMainLevelOption,
// failWithInvalidIdConfigOption, failWithInvalidIndexingConfigOption,
// failWithInvalidVectorConfigOption, failCreateCollectionWithIndexHavingDuplicates,
// failCreateCollectionWithIndexHavingAllowAndDeny, failWithInvalidNameInIndexingDeny,
// failWithEmptyNameInIndexingDeny, failWithInvalidEscapeCharacterInIndexingDeny.
#[tokio::test]
async fn create_collection_options_are_checked() {
    let h = start().await;
    let cases = [
        (
            json!({"InDex": {}}),
            "INVALID_CREATE_COLLECTION_FIELD",
            "'createCollection' command referenced unrecognized field(s): No option \"InDex\" exists",
        ),
        (
            json!({"defaultId": {"unknown": 3}}),
            "INVALID_CREATE_COLLECTION_FIELD",
            "'createCollection' command referenced unrecognized field(s): Unrecognized field \"unknown\"",
        ),
        (
            json!({"indexing": {"unknown": 3}}),
            "INVALID_CREATE_COLLECTION_FIELD",
            "Unrecognized field \"unknown\" for `createCollection.options.indexing` (known fields: \"allow\", \"deny\")",
        ),
        (json!({"vector": {"unknown": 3}}), "INVALID_CREATE_COLLECTION_FIELD", "Unrecognized field \"unknown\""),
        (
            json!({"indexing": {"allow": ["field1", "field1"]}}),
            "INVALID_INDEXING_DEFINITION",
            "'createCollection' indexing definition invalid: 'allow' cannot contain duplicates",
        ),
        (json!({"indexing": {"allow": ["*"], "deny": ["*"]}}), "INVALID_INDEXING_DEFINITION", "'allow' and 'deny' cannot be used together"),
        (
            json!({"indexing": {"deny": ["field", "$in"]}}),
            "INVALID_INDEXING_DEFINITION",
            "'createCollection' indexing definition invalid: path ('$in') must not start with '$'",
        ),
        (json!({"indexing": {"deny": ["field", ""]}}), "INVALID_INDEXING_DEFINITION", "path must be represented as a non-empty string"),
        (
            json!({"indexing": {"deny": ["field", "pricing.price&usd"]}}),
            "INVALID_INDEXING_DEFINITION",
            "indexing path ('pricing.price&usd') is not a valid path",
        ),
        (json!({"indexing": {"allow": ["a&b"]}}), "INVALID_INDEXING_DEFINITION", "indexing path ('a&b') is not a valid path"),
    ];
    for (options, code, text) in cases {
        let (_, body) = h.post("default_keyspace", &json!({"createCollection": {"name": "bad", "options": options}})).await;
        assert_eq!(only_error(&body), code, "{options}");
        assert!(message(&body).contains(text), "{options}: {body}");
    }
    let (_, body) = h.post("default_keyspace", &json!({"createCollection": {"name": "bad", "option": {}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_UNKNOWN");
    assert!(message(&body).contains("not one of known fields ('name', 'options')"));
    h.create_collection("ok", json!({"indexing": {"allow": ["pricing.price&.usd", "metadata.app&.kubernetes&.io/name"]}})).await;
}

// FindIntegrationTest.Find: dollarOperatorInFilterPathExpression,
// invalidDollarOperatorPathExpression, exceedMaxFieldInFilter; FilterClauseBuilderTest:
// multipleIdFilterAndOr, mustFailOnBadUUIDAsId, mustFailOnBadObjectIdAsId;
// FindOneIntegrationTest.FindOneFail: failForInvalidUUIDAsId, failForInvalidObjectIdAsId;
// RangeReadIntegrationTest.DocumentIdRange.InvalidRangeFilter.
#[tokio::test]
async fn filters_are_validated_like_the_data_api() {
    let h = start().await;
    h.seed("f", vec![json!({"_id": "doc1", "tags": ["a", "b"], "address": {"city": "Beijing"}})]).await;
    let cases = [
        (json!({"$gt": {"test": 5}}), "FILTER_INVALID_EXPRESSION", "filter expression path ('$gt') cannot start with '$'"),
        (json!({"$gt": 5}), "FILTER_INVALID_EXPRESSION", "filter expression path ('$gt') cannot start with '$'"),
        (json!({"address": {"city": {"$eq": "Beijing"}}}), "FILTER_INVALID_EXPRESSION", "invalid use of '$eq' operator"),
        (json!({"tags": ["a", "b"]}), "FILTER_INVALID_EXPRESSION", "cannot filter on 'tags' by array type"),
        (json!({"_id": "testID1", "$or": [{"name": "n"}, {"_id": "testID2"}]}), "FILTER_MULTIPLE_ID_FILTER", "use '$in' operator instead"),
        (json!({"_id": {"$gt": 1, "$lt": 5}}), "FILTER_MULTIPLE_ID_FILTER", "more than one '_id'"),
        (json!({"$or": [{"_id": 1}, {"name": "n"}]}), "FILTER_INVALID_EXPRESSION", "ID field can not be used with '$or' operator"),
        (
            json!({"_id": {"$lte": null}}),
            "FILTER_INVALID_EXPRESSION",
            "'$lte' operator must have `Date` or `Number` or `String` or `Boolean` value",
        ),
        (
            json!({"_id": {"$uuid": "not-an-uuid"}}),
            "SHRED_BAD_DOCID_TYPE",
            "Bad JSON Extension value to shred: '$uuid' value has to be 36-character UUID String, instead got (\"not-an-uuid\")",
        ),
        (
            json!({"_id": {"$objectId": "bogus"}}),
            "SHRED_BAD_DOCID_TYPE",
            "'$objectId' value has to be 24-digit hexadecimal ObjectId, instead got (\"bogus\")",
        ),
        (json!({"_id": {"$in": [{"$uuid": "x"}]}}), "SHRED_BAD_DOCID_TYPE", "36-character UUID"),
        (json!({"_id": {"a": 1}}), "SHRED_BAD_DOCID_TYPE", "Document Id must be"),
        (json!({"when": {"$date": "2020"}}), "SHRED_BAD_EJSON_VALUE", "'$date' value has to be an epoch timestamp"),
        (json!({"tags": {"$exists": 1}}), "FILTER_INVALID_EXPRESSION", "'$exists' operator must have `Boolean`"),
        (json!({"tags": {"$size": -1}}), "FILTER_INVALID_EXPRESSION", "'$size' operator must have integer value >= 0"),
        (json!({"tags": {"$all": []}}), "FILTER_INVALID_EXPRESSION", "'$all' operator must have at least one value"),
        (json!({"": 1}), "FILTER_INVALID_EXPRESSION", "filter expression path cannot be empty String"),
    ];
    for (filter, code, text) in cases {
        let body = h.cmd("f", json!({"find": {"filter": filter}})).await;
        assert_eq!(only_error(&body), code, "{filter}");
        assert!(message(&body).contains(text), "{filter}: {body}");
    }
    let body = h.cmd("f", json!({"find": {"filter": 5}})).await;
    assert_eq!(only_error(&body), "FILTER_UNSUPPORTED_DATA_TYPE");
    assert!(message(&body).contains("filter definition must be JSON Object, command had Number"));

    let fields = |n: usize| Value::Object((1..=n).map(|i| (format!("name{i}"), json!(i.to_string()))).collect());
    assert!(h.cmd("f", json!({"find": {"filter": fields(64)}})).await.get("errors").is_none());
    let body = h.cmd("f", json!({"find": {"filter": fields(65)}})).await;
    assert_eq!(only_error(&body), "FILTER_FIELDS_LIMIT_VIOLATION");
    assert!(message(&body).contains("Filter has 65 fields, exceeds maximum allowed (64)"));
    // Every field of a `$or` element is an alternative (FilterClauseBuilder.populateExpression).
    let docs = h.find_docs("f", json!({"filter": {"$or": [{"tags": "z", "address.city": "Beijing"}]}})).await;
    assert_eq!(ids(&docs), [json!("doc1")]);
    let docs = h.find_docs("f", json!({"filter": {"tags": {"$all": ["b", "a"]}, "tags.0": "a", "tags": {"$size": 2}}})).await;
    assert_eq!(ids(&docs), [json!("doc1")]);
}

// FindOneIntegrationTest.FindOneFilterWithDottedPaths: byDottedFieldSimpleEq,
// byDottedFieldSimpleEqWithoutEscape, byDottedFieldTwoEqs, byDottedFieldTwoEqsWithoutEscape,
// byDottedFieldComplexEscapeEq, failWithInvalidEscape.
#[tokio::test]
async fn filters_honour_ampersand_escapes() {
    let h = start().await;
    let doc1 = json!({"_id": "dotted1", "app.kubernetes.io/name": "dotted1", "pricing": {"price.usd": 25.5, "price&.aud": 10.5, "currency": "USD"}});
    let doc2 = json!({"_id": "dotted2", "app.kubernetes.io/name": "dotted2", "pricing.price.usd": 12.5, "pricing&price&aud": 25.5, "pricing.currency": "USD"});
    h.seed("d", vec![doc1.clone(), doc2.clone()]).await;
    assert_eq!(h.find_one("d", json!({"pricing.price&.usd": 25.5})).await, doc1);
    assert_eq!(h.find_one("d", json!({"pricing.price.usd": 25.5})).await, Value::Null);
    assert_eq!(h.find_one("d", json!({"pricing&.currency": {"$eq": "USD"}, "app&.kubernetes&.io/name": {"$eq": "dotted2"}})).await, doc2);
    assert_eq!(
        h.find_one("d", json!({"pricing.currency": {"$eq": "USD"}, "app.kubernetes.io/name": {"$eq": "dotted2"}})).await,
        Value::Null
    );
    assert_eq!(h.find_one("d", json!({"pricing.price&&&.aud": 10.5})).await, doc1);
    for path in ["pricing&price&aud", "price&", "price&abc"] {
        let body = h.cmd("d", json!({"findOne": {"filter": {path: 1}}})).await;
        assert_eq!(only_error(&body), "FILTER_INVALID_EXPRESSION", "{path}");
        assert!(message(&body).contains(&format!("Unsupported filter clause: filter expression path ('{path}') is not valid")), "{body}");
    }
    // `foo..bar` passes the filter's check (only `&` escapes are verified) and matches nothing.
    assert_eq!(h.find_one("d", json!({"foo..bar": 1})).await, Value::Null);
}

// FindIntegrationTest.FindWithProjection: byIdWithProjection, byIdEmptyProjection,
// byIdIncludeAllProjection, byIdExcludeAllProjection, withAmpersandEscape,
// failWithAmpersandEscapeAtTheEnd, failWithAmpersandEscapeNotFollowedByAmpersandOrDot,
// failWithEmptySegment; FindOneWithProjectionIntegrationTest.byIdRootSliceHead/Tail.
#[tokio::test]
async fn projections_follow_the_data_api() {
    let h = start().await;
    let doc1 = json!({"_id": "doc1", "username": "user1", "active_user": true, "date": {"$date": 1_672_531_200_000i64}});
    let doc6 = json!({"_id": "doc6", "price.usd": 5, "tags": [1, 2, 3, 4]});
    h.seed("p", vec![doc1.clone(), doc6]).await;
    let project = |id: &'static str, projection: Value| {
        let h = &h;
        async move { h.cmd("p", json!({"find": {"filter": {"_id": id}, "projection": projection}})).await }
    };
    assert_eq!(project("doc1", json!({"_id": 0, "username": 1})).await["data"]["documents"][0], json!({"username": "user1"}));
    assert_eq!(project("doc1", json!({})).await["data"]["documents"][0], doc1);
    assert_eq!(project("doc1", json!({"*": 1})).await["data"]["documents"][0], doc1);
    assert_eq!(project("doc1", json!({"*": 0})).await["data"]["documents"][0], json!({}));
    assert_eq!(project("doc1", json!({"_id": 1})).await["data"]["documents"][0], doc1, "{{_id: 1}} alone excludes nothing");
    assert_eq!(project("doc6", json!({"price&.usd": 1})).await["data"]["documents"][0], json!({"_id": "doc6", "price.usd": 5}));
    assert_eq!(
        project("doc6", json!({"tags": {"$slice": -2}, "_id": 0, "price&.usd": 0})).await["data"]["documents"][0],
        json!({"tags": [3, 4]})
    );
    for path in ["price&", "price&abc", "foo..bar"] {
        let body = project("doc6", json!({path: 1})).await;
        assert_eq!(only_error(&body), "UNSUPPORTED_PROJECTION_PARAM", "{path}");
        assert!(
            message(&body).contains(&format!("Unsupported projection parameter: projection path ('{path}') is not a valid path")),
            "{body}"
        );
    }
    let body = project("doc6", json!([1])).await;
    assert_eq!(only_error(&body), "UNSUPPORTED_PROJECTION_DEFINITION");
}

/// IndexingDescIntegrationTest.CreateCollectionAndData: the document and the five collections.
fn indexing_doc() -> Value {
    json!({
        "_id": "1",
        "name": "aaron",
        "address": {"street": "1 banana street", "city": "monkey town"},
        "contact": [{"phone": "123", "email": "123@gmail.com"}, "use phone please"],
        "pricing": {"price.usd": 1, "pricing.price&jpy": 1, "pricing.price&.aud": 1},
        "metadata": {"app.kubernetes.io/name": "test"}
    })
}

// IndexingDescIntegrationTest.IndexingDesc: filterFieldInDenyOne, filterVectorFieldInDenyAll,
// filterFieldNotInDenyOne, filterFieldInDenyMany, filterFieldInDenyAll, filterIdInDenyAllWithEqAndIn,
// filterIdInDenyAllWithoutEqAndIn, filterFieldInAllowOne, filterFieldNotInAllowOne,
// filterFieldInAllowMany, filterFieldNotInAllowMany, incrementalPathInArray, incrementalPathInMap,
// sortFieldNotInAllowMany, fieldNameWithDot.
#[tokio::test]
async fn filters_on_unindexed_paths_are_refused() {
    let h = start().await;
    let collections = [
        ("deny_one", json!({"deny": ["address.city"]})),
        ("deny_many", json!({"deny": ["name", "address", "contact.email"]})),
        ("deny_all", json!({"deny": ["*"]})),
        ("allow_one", json!({"allow": ["name"]})),
        (
            "allow_many",
            json!({"allow": ["name", "address.city", "pricing.price&.usd", "pricing.price&&jpy", "metadata.app&.kubernetes&.io/name"]}),
        ),
    ];
    for (name, indexing) in &collections {
        h.create_collection(name, json!({ "indexing": indexing })).await;
        h.insert_all(name, vec![indexing_doc()]).await;
    }
    let found = |coll: &'static str, filter: Value| {
        let h = &h;
        async move { h.cmd(coll, json!({"find": {"filter": filter}})).await }
    };
    let refused = |body: &Value, code: &str, text: &str| {
        assert_eq!(only_error(body), code, "{body}");
        assert!(message(body).contains(text), "{body}");
    };
    let count = |body: &Value| body["data"]["documents"].as_array().map_or(usize::MAX, Vec::len);

    refused(
        &found("deny_one", json!({"address.city": "monkey town"})).await,
        "FILTER_PATH_UNINDEXED",
        "Collection path 'address.city' is not indexed: cannot filter",
    );
    refused(
        &found("deny_all", json!({"$vector": {"$exists": true}})).await,
        "FILTER_PATH_UNINDEXED",
        "Collection path '$vector' is not indexed",
    );
    assert_eq!(count(&found("deny_one", json!({"name": "aaron"})).await), 1);
    // Filters see the indexed part of a document: without the denied city, address is {street}.
    assert_eq!(count(&found("deny_one", json!({"address": {"$eq": {"street": "1 banana street"}}})).await), 1);
    refused(
        &found("deny_one", json!({"address": {"$eq": {"street": "1 banana street", "city": "monkey town"}}})).await,
        "FILTER_PATH_UNINDEXED",
        "'address.city'",
    );
    refused(&found("deny_many", json!({"address.city": "monkey town"})).await, "FILTER_PATH_UNINDEXED", "'address.city'");
    refused(&found("deny_all", json!({"address.city": "monkey town"})).await, "FILTER_PATH_UNINDEXED", "'address.city'");
    assert_eq!(count(&found("deny_all", json!({"_id": "1"})).await), 1);
    assert_eq!(count(&found("deny_all", json!({"_id": {"$in": ["1", "2"]}})).await), 1);
    let not_eq = "Collection field '_id' is never indexed so filtering can only be done using operators '$eq' or '$in', not '$nin'";
    refused(&found("deny_all", json!({"_id": {"$nin": ["1", "2"]}})).await, "FILTER_ID_NOT_INDEXED", not_eq);
    refused(&found("deny_all", json!({"_id": {"$ne": "1"}})).await, "FILTER_ID_NOT_INDEXED", "not '$ne'");
    assert_eq!(count(&found("allow_one", json!({"name": "aaron"})).await), 1);
    refused(
        &found("allow_one", json!({"address": {"$eq": {"street": "1 banana street", "city": "monkey town"}}})).await,
        "FILTER_PATH_UNINDEXED",
        "Collection path 'address' is not indexed: cannot filter on that path",
    );
    refused(&found("allow_one", json!({"_id": {"$nin": ["1", "2"]}})).await, "FILTER_ID_NOT_INDEXED", not_eq);
    assert_eq!(count(&found("allow_one", json!({"_id": "1"})).await), 1);
    let allowed = json!({"$and": [{"$or": [{"address.city": "New York"}, {"address.city": "monkey town"}]}, {"$or": [{"name": "Jim"}, {"name": "aaron"}]}]});
    assert_eq!(count(&found("allow_many", allowed).await), 1);
    let street = json!({"$and": [{"_id": {"$in": ["1", "2"]}}, {"$or": [{"address.street": "1 banana street"}, {"address.street": "2 banana street"}]}]});
    refused(&found("allow_many", street).await, "FILTER_PATH_UNINDEXED", "'address.street'");
    refused(
        &found("allow_many", json!({"address": {"$eq": {"street": "1 banana street", "city": "monkey town"}}})).await,
        "FILTER_PATH_UNINDEXED",
        "'address'",
    );
    refused(
        &found("deny_one", json!({"address": {"$in": [[{"city": "monkey town"}], "abc", ["def"]]}})).await,
        "FILTER_PATH_UNINDEXED",
        "'address.city'",
    );
    assert_eq!(count(&found("deny_one", json!({"address": {"$in": [{"street": "1 banana street"}]}})).await), 1);
    refused(&found("deny_one", json!({"address": {"$in": [{"city": "monkey town"}]}})).await, "FILTER_PATH_UNINDEXED", "'address.city'");
    refused(
        &found("deny_many", json!({"contact": {"$in": [[{"phone": "123", "email": "123@gmail.com"}]]}})).await,
        "FILTER_PATH_UNINDEXED",
        "'contact.email'",
    );
    refused(
        &found("deny_one", json!({"address": {"$eq": {"city": {"zipcode": "12345"}}}})).await,
        "FILTER_PATH_UNINDEXED",
        "'address.city'",
    );
    let body = h.cmd("allow_many", json!({"find": {"sort": {"address.street": 1}}})).await;
    refused(&body, "SORT_CLAUSE_PATH_UNINDEXED", "Collection field 'address.street' is not indexed: cannot sort using it");
    assert_eq!(count(&found("allow_many", json!({"pricing.price&.usd": 1})).await), 1);
    refused(
        &found("allow_many", json!({"pricing.price&jpy": 1})).await,
        "FILTER_INVALID_EXPRESSION",
        "Unsupported filter clause: filter expression path ('pricing.price&jpy') is not valid: The ampersand",
    );
    assert_eq!(count(&found("allow_many", json!({"metadata.app&.kubernetes&.io/name": "test"})).await), 1);
    refused(
        &found("allow_many", json!({"pricing.price&&&.aud": 1})).await,
        "FILTER_PATH_UNINDEXED",
        "Collection path 'pricing.price&&&.aud' is not indexed",
    );
}
