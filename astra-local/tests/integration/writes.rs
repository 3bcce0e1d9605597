//! The update commands, restated from stargate/data-api's FindOneAndReplace, FindOneAndUpdate,
//! UpdateOne and UpdateMany integration tests: upserts that insert vs. ones that update,
//! `returnDocument`, no match, projections, the operators, and `updateMany`'s paging.

use astra_local::DEFAULT_PAGE_SIZE;
use serde_json::{json, Value};

use crate::common::{message, only_error, start, Harness};

const USER3: fn() -> Value = || json!({"_id": "doc3", "username": "user3", "active_user": true});

async fn fresh(h: &Harness, coll: &str, docs: Vec<Value>) {
    h.cmd(coll, json!({"deleteMany": {}})).await;
    h.insert_all(coll, docs).await;
}

// FindOneAndReplaceIntegrationTest.FindOneAndReplace: byId, byIdWithId, byIdWithIdNoChange,
// withSort, byIdWithDifferentId, byIdWithEmptyDocument; FindOneAndReplaceWithProjection:
// byIdProjectionAfter, byIdProjectionBefore; FindOneAndReplaceFailing.tryReplaceWithTooLongNumber.
#[tokio::test]
async fn find_one_and_replace_replaces_one_document() {
    let h = start().await;
    h.seed("r", vec![USER3()]).await;
    let body =
        h.cmd("r", json!({"findOneAndReplace": {"filter": {"_id": "doc3"}, "replacement": {"username": "user3", "status": false}}})).await;
    assert_eq!(body, json!({"data": {"document": USER3()}, "status": {"matchedCount": 1, "modifiedCount": 1}}));
    assert_eq!(h.find_one("r", json!({"_id": "doc3"})).await, json!({"_id": "doc3", "username": "user3", "status": false}));

    fresh(&h, "r", vec![USER3()]).await;
    let body = h
        .cmd(
            "r",
            json!({"findOneAndReplace": {"filter": {"_id": "doc3"}, "replacement": {"_id": "doc3", "username": "user3", "status": false}}}),
        )
        .await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));

    fresh(&h, "r", vec![USER3()]).await;
    let body = h.cmd("r", json!({"findOneAndReplace": {"filter": {"_id": "doc3"}, "replacement": {"_id": "doc3", "username": "user3", "active_user": true}}})).await;
    assert_eq!(body, json!({"data": {"document": USER3()}, "status": {"matchedCount": 1, "modifiedCount": 0}}));

    fresh(&h, "r", vec![USER3(), json!({"_id": "doc2", "username": "user2", "active_user": true})]).await;
    let command = json!({"findOneAndReplace": {"filter": {"active_user": true}, "sort": {"username": 1},
        "replacement": {"username": "username2", "status": true}, "options": {"returnDocument": "after"}}});
    let expected = json!({"_id": "doc2", "username": "username2", "status": true});
    assert_eq!(h.cmd("r", command).await, json!({"data": {"document": expected}, "status": {"matchedCount": 1, "modifiedCount": 1}}));
    assert_eq!(h.find_one("r", json!({"_id": "doc2"})).await, expected);

    fresh(&h, "r", vec![USER3()]).await;
    let body =
        h.cmd("r", json!({"findOneAndReplace": {"filter": {"_id": "doc3"}, "replacement": {"_id": "doc4", "username": "user3"}}})).await;
    assert_eq!(only_error(&body), "DOCUMENT_REPLACE_DIFFERENT_DOCID");
    assert!(message(&body).starts_with("The replace document and document resolved using filter have different '_id's: StringId('doc4') (replace document) vs. StringId('doc3') (document that filter matches)."), "{body}");
    let body = h.cmd("r", json!({"findOneAndReplace": {"filter": {"_id": "doc3"}, "replacement": {}}})).await;
    assert_eq!(body["data"]["document"], USER3());
    assert_eq!(h.find_one("r", json!({"_id": "doc3"})).await, json!({"_id": "doc3"}));

    for (after, shown) in [("after", json!({"_id": "docP", "status": false})), ("before", json!({"_id": "docP", "active_user": true}))] {
        fresh(&h, "r", vec![json!({"_id": "docP", "username": "userP", "active_user": true})]).await;
        let body = h
            .cmd(
                "r",
                json!({"findOneAndReplace": {"filter": {"_id": "docP"}, "options": {"returnDocument": after},
                "projection": {"active_user": 1, "status": 1}, "replacement": {"username": "userP", "status": false}}}),
            )
            .await;
        assert_eq!(body["data"]["document"], shown, "{after}");
        assert_eq!(h.find_one("r", json!({"_id": "docP"})).await, json!({"_id": "docP", "username": "userP", "status": false}));
    }

    let (_, text) = h
        .post_raw(
            "default_keyspace/r",
            format!(r#"{{"findOneAndReplace":{{"filter":{{"_id":"docP"}},"replacement":{{"value":{}}}}}}}"#, "1234567890".repeat(11)),
        )
        .await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(only_error(&body), "SHRED_DOC_LIMIT_VIOLATION");
    assert!(message(&body).contains("Document size limitation violated: Number value length"));
    let body = h.cmd("r", json!({"findOneAndReplace": {"filter": {}, "options": {"returnDocument": "later"}, "replacement": {}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("returnDocument value can only be 'before' or 'after'"));
    let body = h.cmd("r", json!({"findOneAndReplace": {"filter": {}}})).await;
    assert!(message(&body).contains("Command field 'command.replacementDocument' value `null` not valid: must not be null"));
}

// FindOneAndReplaceIntegrationTest.FindOneAndReplace: withUpsert, withUpsertNewIdNumeric,
// withUpsertNewId, withUpsertNoId; FindOneAndReplaceWithProjection.projectionBeforeWithoutId.
#[tokio::test]
async fn find_one_and_replace_upserts() {
    let h = start().await;
    h.seed("u", vec![json!({"_id": 1, "hello": "world"})]).await;
    let body = h
        .cmd(
            "u",
            json!({"findOneAndReplace": {"filter": {"_id": "doc2"}, "replacement": {"username": "username2", "status": true},
            "options": {"returnDocument": "after", "upsert": true}}}),
        )
        .await;
    let expected = json!({"_id": "doc2", "username": "username2", "status": true});
    assert_eq!(body, json!({"data": {"document": expected}, "status": {"upsertedId": "doc2", "matchedCount": 0, "modifiedCount": 0}}));
    assert_eq!(h.find_one("u", json!({"_id": "doc2"})).await, expected);

    let body = h
        .cmd("u", json!({"findOneAndReplace": {"filter": {"_id": 3}, "replacement": {"_id": 3, "hallo": "welt"}, "options": {"upsert": true, "returnDocument": "after"}}}))
        .await;
    assert_eq!(body["status"], json!({"upsertedId": 3, "matchedCount": 0, "modifiedCount": 0}));
    assert_eq!(h.find_one("u", json!({"hallo": "welt"})).await["_id"], 3);

    let body = h
        .cmd("u", json!({"findOneAndReplace": {"filter": {}, "replacement": {"username": "aaronm", "_id": "new-id-1234"}, "options": {"returnDocument": "after", "upsert": true}}}))
        .await;
    // An empty filter matches a document, and its `_id` is not the replacement's.
    assert_eq!(only_error(&body), "DOCUMENT_REPLACE_DIFFERENT_DOCID");
    h.cmd("u", json!({"deleteMany": {}})).await;
    let body = h
        .cmd("u", json!({"findOneAndReplace": {"filter": {}, "replacement": {"username": "aaronm", "_id": "new-id-1234"}, "options": {"returnDocument": "after", "upsert": true}}}))
        .await;
    assert_eq!(body["status"], json!({"upsertedId": "new-id-1234", "matchedCount": 0, "modifiedCount": 0}));
    assert_eq!(body["data"]["document"]["_id"], "new-id-1234");

    let body = h
        .cmd("u", json!({"findOneAndReplace": {"filter": {"username": "username2"}, "replacement": {"username": "username2", "status": true}, "options": {"returnDocument": "after", "upsert": true}}}))
        .await;
    let id = body["status"]["upsertedId"].clone();
    assert!(id.is_string(), "{body}");
    assert_eq!(body["data"]["document"]["_id"], id);

    let body = h
        .cmd("u", json!({"findOneAndReplace": {"filter": {"no.such.field": "or.value"}, "replacement": {}, "options": {"returnDocument": "before", "upsert": true}, "projection": {"*": 0}}}))
        .await;
    assert_eq!(body["data"], json!({"document": null}), "no match, so no before-document");
    let id = body["status"]["upsertedId"].clone();
    assert_eq!(h.find_one("u", json!({"_id": id.clone()})).await, json!({"_id": id}), "a replacement keeps none of the filter's fields");
}

// FindOneAndUpdateIntegrationTest.FindOneAndUpdate: byIdAndSet, byIdAndSetNoChange,
// byIdAndSetNotFound, byIdReturnDocumentAfter, byIdReturnDocumentBefore, byColumnUpsert,
// byIdUpsert, byIdAndUnset, withSortReturnDocumentAfter; FindOneAndUpdateWithSetOnInsert:
// byIdUpsertAndAddOnInsert, useGivenDocIdOnInsert; FindOneAndUpdateFailures: byIdTryUnsetId,
// byIdTrySetId, byIdTrySetPropertyOnArray, byIdTryPopNonArray, byIdTryIncNonNumber;
// FindOneAndUpdateWithCurrentDate: simpleCurrentDate, tryCurrentDateWithInvalidArg.
#[tokio::test]
async fn find_one_and_update_returns_before_or_after() {
    let h = start().await;
    h.seed("f", vec![USER3()]).await;
    let update = |filter: Value, update: Value, options: Value| json!({"findOneAndUpdate": {"filter": filter, "update": update, "options": options}});
    let body = h.cmd("f", update(json!({"_id": "doc3"}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body, json!({"data": {"document": USER3()}, "status": {"matchedCount": 1, "modifiedCount": 1}}));
    let body = h.cmd("f", update(json!({"_id": "doc3"}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 0}));
    let body = h.cmd("f", update(json!({"_id": "nope"}), json!({"$set": {"a": 1}}), json!({}))).await;
    assert_eq!(body, json!({"data": {"document": null}, "status": {"matchedCount": 0, "modifiedCount": 0}}));
    let body = h.cmd("f", update(json!({"_id": "doc3"}), json!({"$set": {"x": 1}}), json!({"returnDocument": "after"}))).await;
    assert_eq!(body["data"]["document"], json!({"_id": "doc3", "username": "user3", "active_user": false, "x": 1}));
    let body = h.cmd("f", update(json!({"_id": "doc3"}), json!({"$unset": {"x": 1}}), json!({"returnDocument": "before"}))).await;
    assert_eq!(body["data"]["document"]["x"], 1);
    assert!(h.find_one("f", json!({"_id": "doc3"})).await.get("x").is_none());

    let body = h
        .cmd(
            "f",
            update(
                json!({"location": "my_city"}),
                json!({"$set": {"active_user": false}}),
                json!({"returnDocument": "after", "upsert": true}),
            ),
        )
        .await;
    assert_eq!(body["data"]["document"]["location"], "my_city");
    assert_eq!(body["status"]["matchedCount"], 0);
    assert_eq!(body["status"]["upsertedId"], body["data"]["document"]["_id"]);

    let body = h
        .cmd(
            "f",
            update(
                json!({"_id": "setOnInsertDoc1"}),
                json!({"$set": {"active_user": true}, "$setOnInsert": {"new_user": true}}),
                json!({"returnDocument": "after", "upsert": true}),
            ),
        )
        .await;
    let inserted = json!({"_id": "setOnInsertDoc1", "new_user": true, "active_user": true});
    assert_eq!(
        body,
        json!({"data": {"document": inserted}, "status": {"upsertedId": "setOnInsertDoc1", "matchedCount": 0, "modifiedCount": 0}})
    );
    let body = h
        .cmd(
            "f",
            update(
                json!({"_id": "setOnInsertDoc1"}),
                json!({"$set": {"new_user": false}, "$setOnInsert": {"x": 5}}),
                json!({"returnDocument": "after", "upsert": true}),
            ),
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"document": {"_id": "setOnInsertDoc1", "new_user": false, "active_user": true}}, "status": {"matchedCount": 1, "modifiedCount": 1}})
    );
    let body = h
        .cmd(
            "f",
            update(
                json!({"_id": "noSuchItem"}),
                json!({"$set": {"active_user": true, "extra": 13}, "$setOnInsert": {"_id": "setOnInsertDoc2", "new_user": true}}),
                json!({"returnDocument": "after", "upsert": true}),
            ),
        )
        .await;
    assert_eq!(body["data"]["document"], json!({"_id": "setOnInsertDoc2", "active_user": true, "new_user": true, "extra": 13}));
    assert_eq!(body["status"]["upsertedId"], "setOnInsertDoc2");

    fresh(
        &h,
        "f",
        vec![
            json!({"_id": "s3", "username": "user3", "active_user": true}),
            json!({"_id": "s2", "username": "user2", "active_user": true}),
        ],
    )
    .await;
    let body = h
        .cmd("f", json!({"findOneAndUpdate": {"filter": {"active_user": true}, "sort": {"username": -1}, "update": {"$set": {"picked": true}}, "options": {"returnDocument": "after"}, "projection": {"picked": 1}}}))
        .await;
    assert_eq!(body["data"]["document"], json!({"_id": "s3", "picked": true}));

    fresh(&h, "f", vec![json!({"_id": "d", "subdoc": {"array": [1], "value": "x"}})]).await;
    let failures = [
        (json!({"$unset": {"_id": 1}}), "UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID", "_id field cannot be updated using update operators"),
        (json!({"$set": {"_id": "new-id"}}), "UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID", "_id field cannot be updated using update operators"),
        (json!({"$set": {"subdoc.array.name": "Bob"}}), "UNSUPPORTED_UPDATE_OPERATION_PATH", "Unsupported update operation path: cannot create field ('name') in path 'subdoc.array.name'; only Object nodes have properties (got Array)"),
        (json!({"$pop": {"subdoc.value": 1}}), "UNSUPPORTED_UPDATE_OPERATION_TARGET", "Unsupported target JSON value for update operation: $pop requires target to be Array; value at 'subdoc.value' of type String"),
        (json!({"$inc": {"subdoc.value": -99}}), "UNSUPPORTED_UPDATE_OPERATION_TARGET", "Unsupported target JSON value for update operation: $inc requires target to be Number; value at 'subdoc.value' of type String"),
        (json!({"$currentDate": {"d": "now"}}), "UNSUPPORTED_UPDATE_OPERATION_PARAM", "$currentDate requires argument of either `true` or `{\"$type\":\"date\"}`, got: `\"now\"`"),
    ];
    for (clause, code, text) in failures {
        let body = h.cmd("f", update(json!({"_id": "d"}), clause.clone(), json!({}))).await;
        assert_eq!(only_error(&body), code, "{clause}");
        assert!(message(&body).contains(text), "{clause}: {body}");
    }
    assert_eq!(h.find_one("f", json!({"_id": "d"})).await, json!({"_id": "d", "subdoc": {"array": [1], "value": "x"}}));
    let body = h
        .cmd(
            "f",
            update(
                json!({"_id": "d"}),
                json!({"$currentDate": {"updated": true, "checked": {"$type": "date"}}}),
                json!({"returnDocument": "after"}),
            ),
        )
        .await;
    let millis = body["data"]["document"]["updated"]["$date"].as_i64().unwrap();
    assert!(millis > 1_700_000_000_000, "{body}");
    assert_eq!(body["data"]["document"]["checked"]["$date"].as_i64(), Some(millis));
}

// UpdateOneIntegrationTest: UpdateOneWithSet (byIdAndSet, byIdUpsert, byIdUpsertSetOnInsert,
// byColumnUpsert, byIdAndColumnUpsert, byColumnWithSortAndSet, withDotInPathName,
// withEscapeInPathName), UpdateOneWithPop, UpdateOneWithPush (byColumnAndPush, ...WithEach,
// ...WithEachAndPosition), UpdateOneWithInc, UpdateOneWithMul, UpdateOneWithAddToSet
// (byColumnAndAddToSet, ...NoChange, ...WithEach), UpdateOneWithMin/Max (byColumnMinMixedTypes,
// byColumnMaxMixedTypes), UpdateOneWithRename, UpdateOneMultipleOperationTypes,
// ClientErrors (invalidCommand, invalidSetAndUnsetPathConflict).
#[tokio::test]
async fn update_one_applies_the_operators() {
    let h = start().await;
    h.seed(
        "o",
        vec![
            json!({"_id": "doc1", "username": "user1", "active_user": true}),
            json!({"_id": "doc2", "username": "user2", "active_user": true}),
        ],
    )
    .await;
    let update_one =
        |filter: Value, update: Value, options: Value| json!({"updateOne": {"filter": filter, "update": update, "options": options}});
    let body = h.cmd("o", update_one(json!({"_id": "doc1"}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 1, "modifiedCount": 1}}));
    let body = h.cmd("o", update_one(json!({"active_user": true}), json!({"$set": {"sorted": true}}), json!({}))).await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 1}));
    let body = h.cmd("o", json!({"updateOne": {"filter": {}, "sort": {"username": -1}, "update": {"$set": {"last": true}}}})).await;
    assert_eq!(body["status"]["modifiedCount"], 1);
    assert_eq!(h.find_one("o", json!({"_id": "doc2"})).await["last"], true);

    let body = h.cmd("o", update_one(json!({"_id": "afterDoc3"}), json!({"$set": {"active_user": false}}), json!({"upsert": true}))).await;
    assert_eq!(body, json!({"status": {"upsertedId": "afterDoc3", "matchedCount": 0, "modifiedCount": 0}}));
    let body = h
        .cmd(
            "o",
            update_one(
                json!({"_id": "afterDoc7", "username": "afterName7", "phone": null}),
                json!({"$set": {"active_user": false}}),
                json!({"upsert": true}),
            ),
        )
        .await;
    assert_eq!(body["status"]["upsertedId"], "afterDoc7");
    assert_eq!(
        h.find_one("o", json!({"_id": "afterDoc7"})).await,
        json!({"_id": "afterDoc7", "username": "afterName7", "phone": null, "active_user": false})
    );
    let body =
        h.cmd("o", update_one(json!({"location": "my_city"}), json!({"$set": {"active_user": false}}), json!({"upsert": true}))).await;
    assert!(body["status"]["upsertedId"].is_string(), "{body}");
    let body = h.cmd("o", update_one(json!({"_id": "nope"}), json!({"$set": {"a": 1}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 0, "modifiedCount": 0}}));

    let ops = [
        (json!({"price.usd": 5}), json!({"$set": {"price&.usd": 6}}), json!({"price.usd": 6})),
        (json!({"price&usd": 5}), json!({"$set": {"price&&usd": 6}}), json!({"price&usd": 6})),
        (json!({"array": [1, 2, 3]}), json!({"$pop": {"array": 1, "nosuch": -1}}), json!({"array": [1, 2]})),
        (
            json!({"array": [2]}),
            json!({"$push": {"array": 13, "subdoc.array": true}}),
            json!({"array": [2, 13], "subdoc": {"array": [true]}}),
        ),
        (
            json!({"array": [1, 2, 3]}),
            json!({"$push": {"array": {"$each": [4, 5], "$position": 2}, "nested.values": {"$each": [1, 2, 3], "$position": -999}}}),
            json!({"array": [1, 2, 4, 5, 3], "nested": {"values": [1, 2, 3]}}),
        ),
        (
            json!({"number": 123, "numbers": {"values": [1]}}),
            json!({"$inc": {"number": -4, "newProp": 0.25, "numbers.values.0": 9}}),
            json!({"number": 119, "newProp": 0.25, "numbers": {"values": [10]}}),
        ),
        (
            json!({"number": 12, "float": 0.25}),
            json!({"$mul": {"number": -3, "float": 2, "missing": 7}}),
            json!({"number": -36, "float": 0.50, "missing": 0}),
        ),
        (
            json!({"array": [2]}),
            json!({"$addToSet": {"array": {"$each": [2, 3, 3]}, "subdoc.array": "x"}}),
            json!({"array": [2, 3], "subdoc": {"array": ["x"]}}),
        ),
        (json!({"start": "abc", "end": "xyz"}), json!({"$min": {"start": 123, "end": true}}), json!({"start": 123, "end": "xyz"})),
        (json!({"start": "abc", "end": "xyz"}), json!({"$max": {"start": 123, "end": true}}), json!({"start": "abc", "end": true})),
        (
            json!({"total": 1, "subdoc": {"x": 5}}),
            json!({"$rename": {"total": "sum", "subdoc.x": "subdoc.y"}}),
            json!({"sum": 1, "subdoc": {"y": 5}}),
        ),
        (json!({"a": 1, "b": 2}), json!({"$set": {"c": 3}, "$unset": {"a": 1}}), json!({"b": 2, "c": 3})),
    ];
    for (i, (start_doc, clause, expected)) in ops.into_iter().enumerate() {
        let id = format!("op{i}");
        let mut doc = start_doc;
        doc["_id"] = json!(id);
        h.insert_all("o", vec![doc]).await;
        let body = h.cmd("o", update_one(json!({"_id": id}), clause.clone(), json!({}))).await;
        assert_eq!(body, json!({"status": {"matchedCount": 1, "modifiedCount": 1}}), "{clause}");
        let mut expected = expected;
        expected["_id"] = json!(id);
        assert_eq!(h.find_one("o", json!({"_id": id})).await, expected, "{clause}");
    }
    h.insert_all("o", vec![json!({"_id": "set", "array": [2]})]).await;
    let body = h.cmd("o", update_one(json!({"_id": "set"}), json!({"$addToSet": {"array": 2}}), json!({}))).await;
    assert_eq!(body["status"], json!({"matchedCount": 1, "modifiedCount": 0}));

    let body = h.cmd("o", json!({"updateOne": {"filter": {"_id": "update_doc_max"}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).starts_with("Command field 'command.updateClause' value `null` not valid: must not be null."));
    let body =
        h.cmd("o", update_one(json!({"_id": "x"}), json!({"$set": {"root.array.1": 13}, "$unset": {"root.array": 1}}), json!({}))).await;
    assert_eq!(only_error(&body), "UNSUPPORTED_UPDATE_OPERATION_PARAM");
    assert!(message(&body).contains("Update operator path conflict due to overlap: 'root.array' ($unset) vs 'root.array.1' ($set)"));
    let body = h.cmd("o", update_one(json!({"_id": "doc1"}), json!({"$set": {"price&usd": 7}}), json!({}))).await;
    assert_eq!(only_error(&body), "UNSUPPORTED_UPDATE_OPERATION_PATH");
    assert!(message(&body).contains("Unsupported update operation path: update path ('price&usd') is not valid: The ampersand character"));
    let body = h.cmd("o", update_one(json!({"_id": "doc1"}), json!({"$pullAll": {"a": [1]}}), json!({}))).await;
    assert_eq!(only_error(&body), "UNSUPPORTED_UPDATE_OPERATION");
}

// UpdateManyIntegrationTest.UpdateMany: byId, emptyOptionsAllowed, byColumn,
// updateLessThanDefaultPageSizeDoesNotSetMoreData, updateFirstPageAndSetsMoreDataForPartialNextPage,
// updatePagination, upsert, upsertWithSetOnInsert, byIdNoChange, upsertManyByColumnUpsert,
// upsertAddFilterColumn; ClientErrors.invalidCommand.
#[tokio::test]
async fn update_many_updates_a_page_at_a_time() {
    let h = start().await;
    let users = |n: usize| {
        (1..=n).map(|i| json!({"_id": format!("doc{i}"), "username": format!("user{i}"), "active_user": true})).collect::<Vec<_>>()
    };
    h.seed("m", users(2)).await;
    let many =
        |filter: Value, update: Value, options: Value| json!({"updateMany": {"filter": filter, "update": update, "options": options}});
    let body = h.cmd("m", many(json!({"_id": "doc1"}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 1, "modifiedCount": 1}}));
    assert_eq!(h.find_one("m", json!({"_id": "doc2"})).await["active_user"], true);
    let body = h.cmd("m", many(json!({"_id": "doc2"}), json!({"$set": {"active_user": true}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 1, "modifiedCount": 0}}));
    let body = h.cmd("m", many(json!({"_id": "nope"}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 0, "modifiedCount": 0}}));

    let partial = DEFAULT_PAGE_SIZE - 20;
    fresh(&h, "m", users(partial)).await;
    let body = h.cmd("m", many(json!({"active_user": true}), json!({"$set": {"active_user": false}}), json!({}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": partial, "modifiedCount": partial}}));

    fresh(&h, "m", users(DEFAULT_PAGE_SIZE + 5)).await;
    let body = h.cmd("m", many(json!({"active_user": true}), json!({"$set": {"new_data": "new_data_value"}}), json!({}))).await;
    assert_eq!(body["status"]["matchedCount"], DEFAULT_PAGE_SIZE);
    assert_eq!(body["status"]["modifiedCount"], DEFAULT_PAGE_SIZE);
    assert_eq!(body["status"]["moreData"], true);
    let state = body["status"]["nextPageState"].as_str().unwrap().to_owned();
    assert!(!state.is_empty());
    let body =
        h.cmd("m", many(json!({"active_user": true}), json!({"$set": {"new_data": "new_data_value"}}), json!({"pageState": state}))).await;
    assert_eq!(body, json!({"status": {"matchedCount": 5, "modifiedCount": 5}}));
    let count = h.cmd("m", json!({"countDocuments": {"filter": {"new_data": "new_data_value"}}})).await;
    assert_eq!(count["status"]["count"], DEFAULT_PAGE_SIZE + 5);

    fresh(&h, "m", users(5)).await;
    let body = h.cmd("m", many(json!({"_id": "doc6"}), json!({"$set": {"active_user": false}}), json!({"upsert": true}))).await;
    assert_eq!(body, json!({"status": {"upsertedId": "doc6", "matchedCount": 0, "modifiedCount": 0}}));
    assert_eq!(h.find_one("m", json!({"_id": "doc6"})).await, json!({"_id": "doc6", "active_user": false}));
    let body = h
        .cmd(
            "m",
            many(
                json!({"_id": "no-such-doc"}),
                json!({"$set": {"active_user": true}, "$setOnInsert": {"_id": "docX"}}),
                json!({"upsert": true}),
            ),
        )
        .await;
    assert_eq!(body["status"]["upsertedId"], "docX");
    assert_eq!(h.find_one("m", json!({"_id": "docX"})).await, json!({"_id": "docX", "active_user": true}));
    let body =
        h.cmd("m", many(json!({"_id": "doc7", "answer": 42}), json!({"$set": {"active_user": false}}), json!({"upsert": true}))).await;
    assert_eq!(body["status"]["upsertedId"], "doc7");
    assert_eq!(h.find_one("m", json!({"_id": "doc7"})).await, json!({"_id": "doc7", "answer": 42, "active_user": false}));
    let body = h.cmd("m", many(json!({"location": "my_city"}), json!({"$set": {"active_user": false}}), json!({"upsert": true}))).await;
    assert!(body["status"]["upsertedId"].is_string());

    let body = h.cmd("m", json!({"updateMany": {"filter": {"something": "matching"}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID");
    assert!(message(&body).contains("Command field 'command.updateClause' value `null` not valid: must not be null."));
}
