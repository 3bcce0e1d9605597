//! The delete commands, restated from stargate/data-api's DeleteOne, DeleteMany and
//! FindOneAndDelete integration tests.

use serde_json::{json, Value};

use crate::common::{ids, only_error, start};

fn users(n: usize) -> Vec<Value> {
    (1..=n).map(|i| json!({"_id": format!("doc{i}"), "username": format!("user{i}"), "status": "active"})).collect()
}

// DeleteOneIntegrationTest.DeleteOne: byId, byColumn, noFilter, noMatch, withSort,
// emptyOptionsAllowed; RangeReadIntegrationTest: gtWithDeleteOne.
#[tokio::test]
async fn delete_one_deletes_the_first_match() {
    let h = start().await;
    h.seed("d", users(7)).await;
    let delete_one = |command: Value| {
        let h = &h;
        async move { h.cmd("d", json!({ "deleteOne": command })).await }
    };
    assert_eq!(delete_one(json!({"filter": {"_id": "doc3"}})).await, json!({"status": {"deletedCount": 1}}));
    assert_eq!(h.find_one("d", json!({"_id": "doc3"})).await, Value::Null);
    assert_eq!(delete_one(json!({"filter": {"username": "user4"}})).await, json!({"status": {"deletedCount": 1}}));
    assert_eq!(delete_one(json!({"filter": {"username": "user12345"}})).await, json!({"status": {"deletedCount": 0}}));
    assert_eq!(delete_one(json!({"filter": {"status": "active"}, "sort": {"username": -1}})).await["status"]["deletedCount"], 1);
    assert_eq!(h.find_one("d", json!({"_id": "doc7"})).await, Value::Null, "the sort picked user7");
    assert_eq!(delete_one(json!({"filter": {}, "options": {}})).await["status"]["deletedCount"], 1);
    assert_eq!(h.find_one("d", json!({"_id": "doc1"})).await, Value::Null, "no sort: the first _id");
    let left = h.find_docs("d", json!({})).await;
    assert_eq!(ids(&left), [json!("doc2"), json!("doc5"), json!("doc6")]);
}

// DeleteManyIntegrationTest.DeleteMany: byId, emptyOptionsAllowed, byColumn, noFilter,
// emptyFilter, withFilterMoreDataFlag; RangeReadIntegrationTest.gtWithDeleteMany.
#[tokio::test]
async fn delete_many_deletes_twenty_at_a_time() {
    let h = start().await;
    h.seed("d", users(2)).await;
    assert_eq!(h.cmd("d", json!({"deleteMany": {"filter": {"_id": "doc1"}, "options": {}}})).await, json!({"status": {"deletedCount": 1}}));
    assert_eq!(h.find_one("d", json!({"_id": "doc2"})).await["_id"], "doc2");
    h.insert_all("d", users(5).into_iter().filter(|d| d["_id"] != "doc2").collect()).await;
    assert_eq!(h.cmd("d", json!({"deleteMany": {"filter": {"status": "active"}}})).await, json!({"status": {"deletedCount": 5}}));
    assert!(h.find_docs("d", json!({"filter": {"status": "active"}})).await.is_empty());

    for command in [json!({"deleteMany": {}}), json!({"deleteMany": {"filter": {}}})] {
        h.insert_all("d", users(25)).await;
        assert_eq!(h.cmd("d", command).await, json!({"status": {"deletedCount": -1}}));
        assert!(h.find_docs("d", json!({})).await.is_empty());
    }

    h.insert_all("d", users(25)).await;
    let body = h.cmd("d", json!({"deleteMany": {"filter": {"status": "active"}}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": 20, "moreData": true}}));
    assert_eq!(h.find_docs("d", json!({})).await.len(), 5);
    let body = h.cmd("d", json!({"deleteMany": {"filter": {"status": "active"}}})).await;
    assert_eq!(body, json!({"status": {"deletedCount": 5}}));
    let body = h.cmd("d", json!({"deleteMany": {"filter": {"status": "active"}, "sort": {"_id": 1}}})).await;
    assert_eq!(only_error(&body), "COMMAND_FIELD_UNKNOWN");
}

// FindOneAndDeleteIntegrationTest.FindOneAndDelete: byId, byIdNoData, withSortDesc, withSort,
// withSortProjection.
#[tokio::test]
async fn find_one_and_delete_returns_the_deleted_document() {
    let h = start().await;
    let doc3 = json!({"_id": "doc3", "username": "user3", "active_user": true});
    let doc2 = json!({"_id": "doc2", "username": "user2", "active_user": true});
    h.seed("d", vec![doc3.clone(), doc2.clone()]).await;
    let body = h.cmd("d", json!({"findOneAndDelete": {"filter": {"_id": "doc5"}}})).await;
    assert_eq!(body, json!({"data": {"document": null}, "status": {"deletedCount": 0}}));
    let body = h.cmd("d", json!({"findOneAndDelete": {"filter": {"active_user": true}, "sort": {"username": -1}}})).await;
    assert_eq!(body, json!({"data": {"document": doc3}, "status": {"deletedCount": 1}}));
    h.insert_all("d", vec![doc3.clone()]).await;
    let body = h.cmd("d", json!({"findOneAndDelete": {"filter": {"active_user": true}, "sort": {"username": 1}, "projection": {"_id": 0, "username": 1}}})).await;
    assert_eq!(body, json!({"data": {"document": {"username": "user2"}}, "status": {"deletedCount": 1}}));
    let body = h.cmd("d", json!({"findOneAndDelete": {"filter": {"_id": "doc3"}}})).await;
    assert_eq!(body, json!({"data": {"document": doc3}, "status": {"deletedCount": 1}}));
    assert!(h.find_docs("d", json!({})).await.is_empty());
}
