//! The Data API client's writes for sync against a real astra-local (issue 11's engine part):
//! `findOneAndReplace` (upsert inserting vs replacing, `returnDocument`, sort, projection),
//! `findOneAndUpdate`, `updateOne`, `updateMany` over more than a page, `findOneAndDelete`,
//! `deleteOne`, `deleteMany` over more than 20 documents, concurrent replaces and updates of
//! one document from many tasks (the Data API's conditional writes lose to each other and
//! answer `FAILED_CONCURRENT_OPERATIONS`, which the client retries), and the same under
//! astra-local's faults.

use crate::common::target::{fast_retries, LocalTarget, KEYSPACE, TOKEN};
use engine::astra::data_api::{CollectionOptions, DeletedCount, FindAndModify, FindQuery, ReturnDocument, WriteOutcome};
use engine::astra::{DataApiClient, DataApiConfig, Token};
use futures::TryStreamExt;
use serde_json::{json, value::RawValue, Value};

fn raw(value: Value) -> Box<RawValue> {
    RawValue::from_string(value.to_string()).unwrap()
}

fn parsed(document: Option<Box<RawValue>>) -> Value {
    document.map(|d| serde_json::from_str(d.get()).unwrap()).unwrap_or(Value::Null)
}

async fn all(client: &DataApiClient, collection: &str) -> Vec<Value> {
    let pages: Vec<_> = client.find_pages(collection, FindQuery::default()).try_collect().await.unwrap();
    pages.into_iter().flat_map(|p| p.documents).map(|d| serde_json::from_str(d.get()).unwrap()).collect()
}

#[tokio::test]
async fn find_one_and_replace_upserts_replaces_and_answers_the_asked_version() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("people", &CollectionOptions::default()).await.unwrap();
    let upsert_after = FindAndModify { upsert: true, return_document: ReturnDocument::After, ..Default::default() };

    // Nothing matches: the upsert inserts, and says so.
    let first = client.find_one_and_replace("people", &json!({"_id": "ada"}), &raw(json!({"_id": "ada", "n": 1})), &upsert_after).await.unwrap();
    assert_eq!(first.result.outcome(), WriteOutcome::Inserted);
    assert_eq!(first.result.upserted_id.as_deref(), Some("\"ada\""));
    assert_eq!(parsed(first.document), json!({"_id": "ada", "n": 1}));

    // It matches now: the same call replaces, and answers the document before when asked.
    let before = FindAndModify { upsert: true, ..Default::default() };
    let second = client.find_one_and_replace("people", &json!({"_id": "ada"}), &raw(json!({"n": 2, "tags": ["x"]})), &before).await.unwrap();
    assert_eq!(second.result.outcome(), WriteOutcome::Modified);
    assert!(!second.result.inserted());
    assert_eq!(parsed(second.document), json!({"_id": "ada", "n": 1}));

    // The same replacement again changes nothing.
    let third = client.find_one_and_replace("people", &json!({"_id": "ada"}), &raw(json!({"_id": "ada", "n": 2, "tags": ["x"]})), &upsert_after).await.unwrap();
    assert_eq!(third.result.outcome(), WriteOutcome::Unchanged);

    // Without upsert and without a match: nothing, and no document.
    let none = client.find_one_and_replace("people", &json!({"_id": "grace"}), &raw(json!({"n": 9})), &FindAndModify::default()).await.unwrap();
    assert_eq!(none.result.outcome(), WriteOutcome::NoMatch);
    assert!(none.document.is_none());
    assert_eq!(all(&client, "people").await, vec![json!({"_id": "ada", "n": 2, "tags": ["x"]})]);

    // Sort picks which match is replaced, projection what comes back.
    for (id, n) in [("b", 5), ("c", 7), ("d", 6)] {
        client.find_one_and_replace("people", &json!({"_id": id}), &raw(json!({"group": "g", "n": n})), &upsert_after).await.unwrap();
    }
    let sorted = FindAndModify {
        return_document: ReturnDocument::After,
        sort: Some(json!({"n": -1})),
        projection: Some(json!({"n": 1})),
        ..Default::default()
    };
    let top = client.find_one_and_replace("people", &json!({"group": "g"}), &raw(json!({"group": "g", "n": 70, "top": true})), &sorted).await.unwrap();
    assert_eq!(top.result.outcome(), WriteOutcome::Modified);
    assert_eq!(parsed(top.document), json!({"_id": "c", "n": 70}));
}

#[tokio::test]
async fn updates_apply_operators_and_update_many_follows_the_pages() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("counters", &CollectionOptions::default()).await.unwrap();

    let after = FindAndModify { upsert: true, return_document: ReturnDocument::After, ..Default::default() };
    let created = client
        .find_one_and_update("counters", &json!({"_id": 1}), &json!({"$set": {"name": "one"}, "$inc": {"n": 1}, "$push": {"log": "a"}}), &after)
        .await
        .unwrap();
    assert_eq!(created.result.outcome(), WriteOutcome::Inserted);
    assert_eq!(parsed(created.document), json!({"_id": 1, "name": "one", "n": 1, "log": ["a"]}));

    let updated = client.update_one("counters", &json!({"_id": 1}), &json!({"$inc": {"n": 2}, "$unset": {"name": ""}}), false, None).await.unwrap();
    assert_eq!(updated.outcome(), WriteOutcome::Modified);
    let missing = client.update_one("counters", &json!({"_id": 2}), &json!({"$set": {"n": 1}}), false, None).await.unwrap();
    assert_eq!(missing.outcome(), WriteOutcome::NoMatch);
    let upserted = client.update_one("counters", &json!({"_id": 2}), &json!({"$set": {"n": 1}}), true, None).await.unwrap();
    assert_eq!((upserted.outcome(), upserted.upserted_id.as_deref()), (WriteOutcome::Inserted, Some("2")));
    let one = client.find_one("counters", &FindQuery { filter: Some(json!({"_id": 1})), ..Default::default() }).await.unwrap();
    assert_eq!(parsed(one), json!({"_id": 1, "n": 3, "log": ["a"]}));

    // 130 documents of one group: more than one page of updateMany (50 a call).
    let documents: Vec<_> = (100..230).map(|i| raw(json!({"_id": i, "group": "bulk", "n": 0}))).collect();
    for document in &documents {
        client.find_one_and_replace("counters", &json!({"_id": serde_json::from_str::<Value>(document.get()).unwrap()["_id"]}), document, &after).await.unwrap();
    }
    let many = client.update_many("counters", &json!({"group": "bulk"}), &json!({"$inc": {"n": 5}}), false).await.unwrap();
    assert_eq!((many.matched, many.modified, many.upserted_id), (130, 130, None));
    let bulk = all(&client, "counters").await.into_iter().filter(|d| d["group"] == "bulk").collect::<Vec<_>>();
    assert_eq!(bulk.len(), 130);
    assert!(bulk.iter().all(|d| d["n"] == 5), "every page was updated");
}

#[tokio::test]
async fn deletes_one_by_filter_and_sort_and_many_beyond_twenty_a_call() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("events", &CollectionOptions::default()).await.unwrap();
    let upsert = FindAndModify { upsert: true, ..Default::default() };
    for i in 0..75 {
        let kind = if i < 70 { "old" } else { "new" };
        client.find_one_and_replace("events", &json!({"_id": i}), &raw(json!({"kind": kind, "n": i})), &upsert).await.unwrap();
    }

    let taken = client.find_one_and_delete("events", &json!({"kind": "new"}), Some(&json!({"n": -1})), Some(&json!({"n": 1}))).await.unwrap();
    assert_eq!(parsed(taken), json!({"_id": 74, "n": 74}));
    assert_eq!(client.find_one_and_delete("events", &json!({"_id": 74}), None, None).await.unwrap().map(|d| d.get().to_owned()), None);
    assert_eq!(client.delete_one("events", &json!({"kind": "new"}), Some(&json!({"n": 1}))).await.unwrap(), 1);
    assert_eq!(client.delete_one("events", &json!({"_id": 70}), None).await.unwrap(), 0, "70 went with the sort above");
    assert_eq!(client.delete_one("events", &json!({"_id": 71}), None).await.unwrap(), 1);

    // 70 matches: four calls of at most 20, each saying moreData but the last.
    assert_eq!(client.delete_many("events", &json!({"kind": "old"})).await.unwrap(), DeletedCount::Counted(70));
    let left: Vec<_> = all(&client, "events").await.into_iter().map(|d| d["_id"].clone()).collect();
    assert_eq!(left, vec![json!(72), json!(73)]);
    assert_eq!(client.delete_many("events", &json!({})).await.unwrap(), DeletedCount::All);
    assert!(all(&client, "events").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_to_one_document_converge_and_lose_no_update() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("hot", &CollectionOptions::default()).await.unwrap();
    const TASKS: usize = 16;
    const ROUNDS: usize = 15;

    // Replaces from many tasks: each succeeds (retrying FAILED_CONCURRENT_OPERATIONS), and the
    // document ends as one task's last replacement, whole.
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let client = client.clone();
        tasks.spawn(async move {
            let options = FindAndModify { upsert: true, ..Default::default() };
            for round in 0..ROUNDS {
                let replacement = raw(json!({"_id": "doc", "task": task, "round": round, "payload": format!("{task}-{round}")}));
                client.find_one_and_replace("hot", &json!({"_id": "doc"}), &replacement, &options).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let documents = all(&client, "hot").await;
    assert_eq!(documents.len(), 1, "one document, however many upserts raced: {documents:?}");
    let doc = &documents[0];
    assert_eq!(doc["round"], json!(ROUNDS - 1), "the last write of some task won: {doc}");
    assert_eq!(doc["payload"], json!(format!("{}-{}", doc["task"], ROUNDS - 1)), "never a mix of two writes: {doc}");

    // Increments from many tasks: none lost.
    let lost_before = target.astra.state().lost_writes();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let client = client.clone();
        tasks.spawn(async move {
            for _ in 0..ROUNDS {
                client.update_one("hot", &json!({"_id": "doc"}), &json!({"$inc": {"count": 1}}), false, None).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let doc = all(&client, "hot").await.remove(0);
    assert_eq!(doc["count"], json!(TASKS * ROUNDS), "no update lost: {doc}");
    eprintln!("conditional writes that lost a race: {}", target.astra.state().lost_writes() - lost_before);
}

#[tokio::test]
async fn writes_are_retried_through_faults() {
    let target = LocalTarget::start().await;
    let mut config = DataApiConfig::new(target.astra.endpoint(), KEYSPACE, Token::new(TOKEN));
    config.retry = fast_retries(30);
    let client = DataApiClient::new(config).unwrap();
    client.create_collection("flaky", &CollectionOptions::default()).await.unwrap();
    target.astra.set_faults(astra_local::Faults { rate_429: 0.15, rate_5xx: 0.15, drop_rate: 0.05, ..Default::default() });
    let upsert = FindAndModify { upsert: true, ..Default::default() };
    let writes = futures::future::join_all((0..40).map(|i| {
        let client = client.clone();
        let upsert = upsert.clone();
        async move {
            client.find_one_and_replace("flaky", &json!({"_id": i}), &raw(json!({"n": i})), &upsert).await.unwrap();
            client.update_one("flaky", &json!({"_id": i}), &json!({"$set": {"m": i * 2}}), false, None).await.unwrap();
            if i < 15 {
                assert_eq!(client.delete_one("flaky", &json!({"_id": i}), None).await.unwrap(), 1);
            }
        }
    }));
    writes.await;
    // 30..40: one call, then (after faults) its retries until it answers.
    assert_eq!(client.delete_many("flaky", &json!({"n": {"$gte": 30}})).await.unwrap(), DeletedCount::Counted(10));
    target.astra.set_faults(astra_local::Faults::default());
    let mut left = all(&client, "flaky").await;
    left.sort_by_key(|d| d["_id"].as_i64());
    assert_eq!(left.len(), 15);
    assert!(left.iter().enumerate().all(|(i, d)| *d == json!({"_id": i + 15, "n": i + 15, "m": (i + 15) * 2})), "{left:?}");
}
