//! Sorted reads and read options, restated from stargate/data-api's FindCollectionWithSort,
//! FindOneWithSort, Find, FindOne, RangeRead and InAndNin integration tests: every non-vector
//! sort is in memory, returns at most `min(limit, page size)` documents and no
//! `nextPageState`, refuses `pageState`, and fails over 10,000 matching documents.

use astra_local::DEFAULT_PAGE_SIZE;
use serde_json::{json, Value};

use crate::common::{ids, message, only_error, start, Harness};

/// FindCollectionWithSortIntegrationTest.getDocuments: `n - 3` regular documents, one with a
/// null username, one without activeUser/dateValue, one whose userId is a string.
fn sort_documents(n: usize) -> Vec<Value> {
    let mut docs: Vec<Value> = (1..=n - 3)
        .map(|i| {
            json!({"_id": format!("doc{i}"), "username": format!("user{i}"), "userId": i, "activeUser": i % 2 == 0,
                   "dateValue": {"$date": 1_672_531_200_000u64 + i as u64 * 1000}})
        })
        .collect();
    docs.push(json!({"_id": format!("doc{}", n - 2), "username": null, "userId": n - 2, "activeUser": (n - 2).is_multiple_of(2)}));
    docs.push(json!({"_id": format!("doc{}", n - 1), "username": format!("user{}", n - 1), "userId": n - 1}));
    docs.push(json!({"_id": format!("doc{n}"), "username": format!("user{n}"), "userId": "1"}));
    docs
}

async fn sorted(h: &Harness, find: Value) -> Vec<Value> {
    let body = h.cmd("s", json!({ "find": find })).await;
    assert!(body["data"]["nextPageState"].is_null(), "a sorted find gave a page state: {body}");
    body["data"]["documents"].as_array().cloned().unwrap_or_default()
}

// FindCollectionWithSortIntegrationTest.FindCollectionOperationWithSort: sortByTextAndNullValue,
// sortWithSkipLimit, sortDescendingTextValue, sortBooleanValueAndMissing, sortNumericField,
// sortNumericFieldDescending, sortNumericFieldAndFilter, sortMultiColumnsMixedOrder, sortByDate.
#[tokio::test]
async fn sorted_finds_return_one_page_and_no_page_state() {
    let h = start().await;
    let n = DEFAULT_PAGE_SIZE + 5;
    let docs = sort_documents(n);
    h.seed("s", docs.clone()).await;

    // username ascending: null first, then strings in code-point order.
    let mut by_name: Vec<(String, Value)> =
        docs[..n - 3].iter().map(|d| (d["username"].as_str().unwrap().to_owned(), d["_id"].clone())).collect();
    by_name.push((format!("user{}", n - 1), json!(format!("doc{}", n - 1))));
    by_name.push((format!("user{n}"), json!(format!("doc{n}"))));
    by_name.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![json!(format!("doc{}", n - 2))];
    expected.extend(by_name.iter().map(|(_, id)| id.clone()));
    let got = sorted(&h, json!({"sort": {"username": 1}})).await;
    assert_eq!(ids(&got), expected[..DEFAULT_PAGE_SIZE]);
    let got = sorted(&h, json!({"sort": {"username": 1}, "options": {"skip": 10, "limit": 10}})).await;
    assert_eq!(ids(&got), expected[10..20]);
    let got = sorted(&h, json!({"sort": {"username": -1}})).await;
    let descending: Vec<Value> = expected.iter().rev().take(DEFAULT_PAGE_SIZE).cloned().collect();
    assert_eq!(ids(&got), descending);

    // activeUser: missing < false < true, ties by _id.
    let got = sorted(&h, json!({"sort": {"activeUser": 1}, "options": {"limit": 3}})).await;
    assert_eq!(ids(&got), [json!(format!("doc{}", n - 1)), json!(format!("doc{n}")), json!("doc1")]);

    // userId: numbers before the one string; descending puts the string first.
    let got = sorted(&h, json!({"sort": {"userId": 1}})).await;
    assert_eq!(ids(&got), (1..=DEFAULT_PAGE_SIZE).map(|i| json!(format!("doc{i}"))).collect::<Vec<_>>());
    let got = sorted(&h, json!({"sort": {"userId": -1}, "options": {"limit": 3}})).await;
    assert_eq!(ids(&got), [json!(format!("doc{n}")), json!(format!("doc{}", n - 1)), json!(format!("doc{}", n - 2))]);

    // A filter, then several sort fields, then a date.
    let got = sorted(&h, json!({"filter": {"activeUser": true}, "sort": {"userId": 1}})).await;
    let evens: Vec<Value> = (1..=n - 2).filter(|i| i % 2 == 0).map(|i| json!(format!("doc{i}"))).collect();
    assert_eq!(ids(&got), evens);
    let got = sorted(&h, json!({"filter": {"activeUser": true}, "sort": {"activeUser": 1, "userId": -1}})).await;
    assert_eq!(ids(&got), evens.iter().rev().cloned().collect::<Vec<_>>());
    let got = sorted(&h, json!({"filter": {"activeUser": true}, "sort": {"dateValue": -1}, "options": {"limit": 2}})).await;
    assert_eq!(ids(&got), evens[evens.len() - 2..].iter().rev().cloned().collect::<Vec<_>>());

    // An `_id` sort is in memory too: one page, no page state.
    let got = sorted(&h, json!({"sort": {"_id": 1}})).await;
    assert_eq!(got.len(), DEFAULT_PAGE_SIZE);
    let got = sorted(&h, json!({"sort": {"_id": -1}, "options": {"limit": 2}})).await;
    assert_eq!(ids(&got), [json!("doc9"), json!("doc8")]);
}

// FindIntegrationTest.Find: failWithNonEmptySortAndPageState, happyWithEmptyPageStateAndNonEmptySort,
// happyWithNullPageStateAndNonEmptySort; FindCommandTest: invalidOptionsZeroLimit,
// invalidOptionsNegativeSkip, skip without a sort (FindOptionsValidation).
#[tokio::test]
async fn sorted_finds_refuse_page_states_and_bad_windows() {
    let h = start().await;
    h.seed("s", sort_documents(10)).await;
    let body = h
        .cmd("s", json!({"find": {"filter": {"username": "user1"}, "sort": {"username": 1}, "options": {"pageState": "someState"}}}))
        .await;
    assert_eq!(only_error(&body), "SORT_CLAUSE_INVALID");
    assert!(
        message(&body).contains("Sort clause used by command not valid.\nProblem: 'pageState' is not supported with non-empty sort clause")
    );
    for state in [json!(""), Value::Null] {
        let docs = sorted(&h, json!({"filter": {"username": "user1"}, "sort": {"username": 1}, "options": {"pageState": state}})).await;
        assert_eq!(docs.len(), 1);
    }
    for (options, text) in [
        (json!({"limit": 0}), "Command field 'command.options.limit' value 0 not valid: limit should be greater than `0`."),
        (json!({"limit": -1}), "limit should be greater than `0`"),
        (json!({"skip": -1}), "skip should be greater than or equal to `0`"),
        (json!({"skip": 2}), "skip options should be used with sort clause"),
    ] {
        let body = h.cmd("s", json!({"find": {"options": options}})).await;
        assert_eq!(only_error(&body), "COMMAND_FIELD_VALUE_INVALID", "{options}");
        assert!(message(&body).contains(text), "{options}: {body}");
    }
    // An empty sort is no sort: paging works.
    let body = h.cmd("s", json!({"find": {"sort": {}, "options": {"limit": 2}}})).await;
    assert_eq!(body["data"]["documents"].as_array().unwrap().len(), 2);
}

// FindCollectionWithSortIntegrationTest.FindCollectionOperationWithFailingSort.sortFailDueToTooMany
// (with the service's default maxDocumentSortCount of 10,000 instead of the test's 100):
// the in-memory sort reads at most 10,000 rows and fails when it got them all.
#[tokio::test]
async fn sorts_over_ten_thousand_matches_fail() {
    let h = start().await;
    let docs: Vec<Value> = (0..9_999).map(|i| json!({"_id": i, "n": i, "username": format!("u{i}"), "even": i % 2 == 0})).collect();
    h.seed("s", docs).await;
    let docs = sorted(&h, json!({"sort": {"n": -1}, "options": {"limit": 3}})).await;
    assert_eq!(ids(&docs), [json!(9_998), json!(9_997), json!(9_996)]);

    h.insert_all("s", vec![json!({"_id": 9_999, "n": 9_999, "username": "last", "even": false})]).await;
    for command in [
        json!({"find": {"sort": {"username": 1}}}),
        json!({"find": {"sort": {"_id": 1}, "options": {"limit": 1}}}),
        json!({"findOne": {"sort": {"username": 1}}}),
        json!({"deleteOne": {"filter": {}, "sort": {"username": 1}}}),
        json!({"updateOne": {"filter": {}, "sort": {"username": 1}, "update": {"$set": {"x": 1}}}}),
    ] {
        let body = h.cmd("s", command.clone()).await;
        assert_eq!(only_error(&body), "OVERLOADED_SORT_ROW_LIMIT", "{command}");
        assert!(message(&body).starts_with("The command used in-memory sorting which has a limit of 10000 documents"), "{body}");
    }
    // A filter that matches fewer documents sorts fine.
    let docs = sorted(&h, json!({"filter": {"even": true}, "sort": {"_id": -1}, "options": {"limit": 1}})).await;
    assert_eq!(ids(&docs), [json!(9_998)]);
}

// FindOneWithSortIntegrationTest: sortById, sortByDottedFieldWithEscape,
// sortByDottedFieldWithoutEscape, sortByNestedField; FindOneIntegrationTest.FindOne:
// noFilterSortAscending/Descending, withExistsOperatorSortAsc; FindOneWithSortIntegrationTest
// (sort path `a&b`: SORT_CLAUSE_PATH_INVALID).
#[tokio::test]
async fn find_one_sorts_by_escaped_and_nested_paths() {
    let h = start().await;
    let docs = vec![
        json!({"_id": "dottedSort1", "type": "sorted", "app.kubernetes.io/name": "dottedZ", "metadata": {"shape": "square"}}),
        json!({"_id": "dottedSort2", "type": "sorted", "app.kubernetes.io/name": "dottedY", "metadata": {"shape": "triangle"}}),
        json!({"_id": "dottedSort3", "type": "sorted", "app.kubernetes.io/name": "dottedX", "metadata": {"shape": "circle"}}),
    ];
    h.seed("s", docs).await;
    let one = |sort: Value| {
        let h = &h;
        async move { h.cmd("s", json!({"findOne": {"filter": {"type": "sorted"}, "sort": sort}})).await["data"]["document"]["_id"].clone() }
    };
    assert_eq!(one(json!({"_id": 1})).await, "dottedSort1");
    assert_eq!(one(json!({"_id": -1})).await, "dottedSort3");
    assert_eq!(one(json!({"app&.kubernetes&.io/name": 1})).await, "dottedSort3");
    assert_eq!(one(json!({"app&.kubernetes&.io/name": -1})).await, "dottedSort1");
    // Not escaped: no such path, every document ties, the first _id wins either way.
    assert_eq!(one(json!({"app.kubernetes.io/name": 1})).await, "dottedSort1");
    assert_eq!(one(json!({"app.kubernetes.io/name": -1})).await, "dottedSort1");
    assert_eq!(one(json!({"metadata.shape": 1})).await, "dottedSort3");
    assert_eq!(one(json!({"metadata.shape": -1})).await, "dottedSort2");
    let body = h.cmd("s", json!({"find": {"sort": {"a&b": 1}}})).await;
    assert_eq!(only_error(&body), "SORT_CLAUSE_PATH_INVALID");
    assert!(
        message(&body).contains("Path 'a&b' used in sort clause not valid: The ampersand character '&' at position 1 must be followed by")
    );
}

// RangeReadIntegrationTest.DocumentIdRange: inserts, rangeTest, InvalidRangeFilter;
// RangeReadIntegrationTest.ReadCollectionWithRange: gt, lte, rangeWithDate, gtWithIDRange.
#[tokio::test]
async fn range_filters_compare_within_a_type() {
    let h = start().await;
    let ids_of_each_type = [json!({"$date": 1_672_531_200_000i64}), json!("doc1"), json!(true), json!(123)];
    h.seed("r", ids_of_each_type.iter().map(|id| json!({"_id": id})).collect()).await;
    for id in &ids_of_each_type {
        let docs = h.find_docs("r", json!({"filter": {"_id": {"$lte": id}}})).await;
        assert_eq!(ids(&docs), std::slice::from_ref(id), "$lte {id}");
    }
    let body = h.cmd("r", json!({"findOne": {"filter": {"_id": {"$lte": null}}}})).await;
    assert_eq!(only_error(&body), "FILTER_INVALID_EXPRESSION");
    assert!(message(&body).contains("'$lte' operator must have `Date` or `Number` or `String` or `Boolean` value"));

    let docs: Vec<Value> =
        (1..=25).map(|i| json!({"_id": i, "userId": i, "dateValue": {"$date": 1_672_531_200_000i64 + i * 1000}})).collect();
    h.seed("range", docs).await;
    let found = |filter: Value| {
        let h = &h;
        async move { ids(&h.find_docs("range", json!({"filter": filter, "sort": {"userId": 1}})).await) }
    };
    assert_eq!(found(json!({"userId": {"$gt": 23}})).await, [json!(24), json!(25)]);
    assert_eq!(found(json!({"userId": {"$lte": 3}})).await, [json!(1), json!(2), json!(3)]);
    assert_eq!(found(json!({"dateValue": {"$gt": {"$date": 1_672_531_223_000i64}}})).await, [json!(24), json!(25)]);
    assert_eq!(found(json!({"_id": {"$gt": 23}})).await, [json!(24), json!(25)]);
    assert_eq!(found(json!({"userId": {"$gt": "x"}})).await, Vec::<Value>::new());
}

// InAndNinIntegrationTest: inCondition, inConditionWithSubDoc, inConditionWithArray,
// idInConditionEmptyArray, nonIdNinEmptyArray, idNinEmptyArray, inConditionNonArrayArray,
// nonIdSimpleNinCondition; FindOneIntegrationTest.FindOneFail.failForInvalidJsonExtension.
#[tokio::test]
async fn in_and_nin_match_like_the_data_api() {
    let h = start().await;
    h.seed(
        "i",
        vec![
            json!({"_id": "doc1", "username": "user1"}),
            json!({"_id": "doc2", "username": "user2", "sub_doc": {"a": 5, "b": {"c": "v1", "d": false}}}),
            json!({"_id": "doc3", "username": "user3", "array": ["value1"]}),
        ],
    )
    .await;
    let found = |filter: Value| {
        let h = &h;
        async move { ids(&h.find_docs("i", json!({ "filter": filter })).await) }
    };
    assert_eq!(found(json!({"_id": {"$in": ["doc1", "doc3", "nope"]}})).await, [json!("doc1"), json!("doc3")]);
    assert_eq!(found(json!({"sub_doc": {"$in": [{"a": 5, "b": {"c": "v1", "d": false}}]}})).await, [json!("doc2")]);
    assert_eq!(found(json!({"array": {"$in": [["value1"]]}})).await, [json!("doc3")]);
    assert_eq!(found(json!({"_id": {"$in": []}})).await, Vec::<Value>::new());
    assert_eq!(found(json!({"username": {"$nin": []}})).await.len(), 3);
    assert_eq!(found(json!({"_id": {"$nin": []}})).await.len(), 3);
    assert_eq!(found(json!({"username": {"$nin": ["user2", "user3"]}})).await, [json!("doc1")]);
    let body = h.cmd("i", json!({"find": {"filter": {"_id": {"$in": true}}}})).await;
    assert_eq!(only_error(&body), "FILTER_INVALID_EXPRESSION");
    assert!(message(&body).contains("'$in' operator must have `Array`"));
    let hundred: Vec<Value> = (0..100).map(|i| json!(i)).collect();
    assert!(h.cmd("i", json!({"find": {"filter": {"n": {"$in": hundred}}}})).await.get("errors").is_none());
    let too_many: Vec<Value> = (0..101).map(|i| json!(i)).collect();
    let body = h.cmd("i", json!({"find": {"filter": {"n": {"$nin": too_many}}}})).await;
    assert_eq!(only_error(&body), "FILTER_INVALID_EXPRESSION");
    assert!(message(&body).contains("'$nin' operator must have at most 100 values"));
    let body = h.cmd("i", json!({"findOne": {"filter": {"_id": {"$guid": "doc1"}}}})).await;
    assert_eq!(only_error(&body), "FILTER_UNSUPPORTED_OPERATOR");
    assert!(message(&body).starts_with("Unsupported filter operator '$guid'"));
}
