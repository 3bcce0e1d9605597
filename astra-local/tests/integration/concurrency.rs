//! Concurrent writes of the same documents from several clients, restated from the
//! `Concurrency` tests of stargate/data-api's UpdateOne, UpdateMany, DeleteOne, DeleteMany and
//! FindOneAndDelete integration tests: the conditional writes lose no update and count each
//! delete once, whether the retries win or, past their limit, answer
//! FAILED_CONCURRENT_OPERATIONS.

use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::common::{start, Harness, TOKEN};

/// Sends `command` to collection `coll` from `clients` clients at once; their answers.
async fn all_at_once(h: &Harness, coll: &str, clients: usize, command: Value) -> Vec<Value> {
    let url = h.url(&format!("default_keyspace/{coll}"));
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (url, command) = (url.clone(), command.to_string());
        tasks.spawn(async move {
            let client = reqwest::Client::new();
            let response =
                client.post(url).header("Token", TOKEN).header("Content-Type", "application/json").body(command).send().await.unwrap();
            serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap()
        });
    }
    let mut answers = Vec::with_capacity(clients);
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.unwrap());
    }
    answers
}

fn count(answers: &[Value], field: &str) -> i64 {
    answers.iter().map(|a| a["status"][field].as_i64().unwrap_or(0)).sum()
}

// UpdateOneIntegrationTest.Concurrency.concurrentUpdates (3 clients, repeated).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_one_loses_no_increment() {
    let h = start().await;
    h.create_collection("c", json!({})).await;
    for round in 0..10 {
        let id = format!("concurrent{round}");
        h.insert_all("c", vec![json!({"_id": id, "count": 0})]).await;
        let answers = all_at_once(&h, "c", 3, json!({"updateOne": {"filter": {"_id": id}, "update": {"$inc": {"count": 1}}}})).await;
        for answer in &answers {
            assert_eq!(answer, &json!({"status": {"matchedCount": 1, "modifiedCount": 1}}), "three clients never exhaust the retries");
        }
        assert_eq!(h.find_one("c", json!({"_id": id})).await, json!({"_id": id, "count": 3}));
    }
}

// UpdateManyIntegrationTest.Concurrency.concurrentUpdates (5 documents, 3 clients, repeated).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_update_many_loses_no_increment() {
    let h = start().await;
    for round in 0..5 {
        let coll = format!("many{round}");
        h.seed(&coll, (0..5).map(|i| json!({"_id": format!("concurrent-{i}"), "count": 0})).collect()).await;
        let answers = all_at_once(&h, &coll, 3, json!({"updateMany": {"update": {"$inc": {"count": 1}}}})).await;
        for answer in &answers {
            assert_eq!(answer, &json!({"status": {"matchedCount": 5, "modifiedCount": 5}}));
        }
        let docs = h.find_docs(&coll, json!({})).await;
        assert!(docs.iter().all(|d| d["count"] == 3), "{docs:?}");
    }
}

// UpdateOneIntegrationTest.Concurrency with more clients than the retries cover
// (ReadAndUpdateCollectionOperation: 1 try + 3 retries, then FAILED_CONCURRENT_OPERATIONS per
// document): every increment either lands or is reported, none is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_lose_no_update_and_report_what_they_gave_up() {
    let h = start().await;
    h.seed("hot", vec![json!({"_id": "hot", "count": 0})]).await;
    let before = h.astra.state().lost_writes();
    let clients = 16;
    let answers = all_at_once(
        &h,
        "hot",
        clients,
        json!({"findOneAndUpdate": {"filter": {"_id": "hot"}, "update": {"$inc": {"count": 1}}, "options": {"returnDocument": "after"}}}),
    )
    .await;
    let modified = count(&answers, "modifiedCount");
    let mut gave_up = 0;
    for answer in &answers {
        assert_eq!(answer["status"]["matchedCount"], 1, "{answer}");
        if let Some(errors) = answer.get("errors") {
            assert_eq!(errors[0]["errorCode"], "FAILED_CONCURRENT_OPERATIONS", "{answer}");
            assert_eq!(errors[0]["family"], "SERVER");
            assert_eq!(errors[0]["scope"], "DATABASE");
            assert_eq!(errors[0]["documentIds"], json!(["hot"]));
            assert!(errors[0]["message"].as_str().unwrap().contains("default_keyspace.hot"), "{answer}");
            assert_eq!(answer["data"]["document"], Value::Null);
            gave_up += 1;
        } else {
            assert_eq!(answer["status"]["modifiedCount"], 1, "{answer}");
        }
    }
    assert_eq!(modified + gave_up, clients as i64);
    assert_eq!(h.find_one("hot", json!({"_id": "hot"})).await["count"], modified, "no lost update");
    assert!(h.astra.state().lost_writes() > before, "the clients never raced");
}

// Upserts racing to insert the same _id: one inserts, the others find it and update it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_upserts_insert_once() {
    let h = start().await;
    h.create_collection("u", json!({})).await;
    let answers = all_at_once(
        &h,
        "u",
        3,
        json!({"updateOne": {"filter": {"_id": "new"}, "update": {"$inc": {"count": 1}}, "options": {"upsert": true}}}),
    )
    .await;
    let upserted = answers.iter().filter(|a| a["status"]["upsertedId"] == "new").count();
    assert_eq!(upserted + count(&answers, "modifiedCount") as usize, 3, "{answers:?}");
    assert!(upserted >= 1, "{answers:?}");
    assert_eq!(h.find_one("u", json!({"_id": "new"})).await, json!({"_id": "new", "count": 3}));
}

// DeleteOneIntegrationTest.Concurrency.concurrentDeletes, DeleteManyIntegrationTest.Concurrency
// .concurrentDeletes, FindOneAndDeleteIntegrationTest.ConcurrentDelete.findOneAndDelete.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_count_each_document_once() {
    let h = start().await;
    h.create_collection("d", json!({})).await;
    for _ in 0..5 {
        h.insert_all("d", vec![json!({"_id": "concurrent"})]).await;
        let answers = all_at_once(&h, "d", 3, json!({"deleteOne": {"filter": {"_id": "concurrent"}}})).await;
        assert!(answers.iter().all(|a| a.get("errors").is_none()), "{answers:?}");
        assert_eq!(count(&answers, "deletedCount"), 1);
    }
    for _ in 0..5 {
        h.insert_all("d", (0..10).map(|i| json!({"_id": format!("concurrent-{i}"), "status": "active"})).collect()).await;
        let answers = all_at_once(&h, "d", 3, json!({"deleteMany": {"filter": {"status": "active"}}})).await;
        assert!(answers.iter().all(|a| a.get("errors").is_none()), "{answers:?}");
        assert_eq!(count(&answers, "deletedCount"), 10);
        assert!(h.find_docs("d", json!({})).await.is_empty());
    }
    let products = [("1", "Coded Cleats"), ("2", "Logic Layers"), ("3", "Logic Layers"), ("4", "Vision Vector Frame")];
    h.insert_all("d", products.iter().map(|(id, name)| json!({"_id": id, "name": name})).collect()).await;
    let answers = all_at_once(&h, "d", 5, json!({"findOneAndDelete": {"filter": {"name": "Logic Layers"}}})).await;
    assert!(answers.iter().all(|a| a.get("errors").is_none() && a["data"].is_object()), "{answers:?}");
    let deleted = count(&answers, "deletedCount");
    assert!((1..=2).contains(&deleted), "{answers:?}");
    let left = h.find_docs("d", json!({"filter": {"name": "Logic Layers"}})).await;
    assert_eq!(left.len() as i64, 2 - deleted);
}
