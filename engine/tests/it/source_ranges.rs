//! `_id` ranges against a real MongoDB-compatible server: every document falls in exactly
//! one range, whatever mix of `_id` types the collection holds, and a range resumes after
//! its checkpoint.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use engine::{
    source::ranges::{split, IdRange},
    testing::MongoServer,
};
use futures::TryStreamExt;

fn mixed_ids() -> Vec<Bson> {
    let mut ids = vec![Bson::Null, Bson::MinKey, Bson::MaxKey, Bson::Boolean(false), Bson::Boolean(true)];
    for i in 0..40 {
        ids.push(Bson::Int32(i));
        ids.push(Bson::Int64(1_000 + i as i64));
        ids.push(Bson::Double(0.5 + i as f64));
        ids.push(Bson::String(format!("key-{i:03}")));
        ids.push(Bson::Document(doc! { "sensor": i, "seq": 1 }));
        ids.push(Bson::ObjectId(ObjectId::new()));
        ids.push(Bson::DateTime(DateTime::from_millis(-1_000_000 + i as i64 * 86_400_000)));
    }
    ids
}

async fn ids_in(collection: &mongodb::Collection<Document>, filter: Document) -> Vec<Bson> {
    let documents: Vec<Document> = collection.find(filter).sort(doc! { "_id": 1 }).await.unwrap().try_collect().await.unwrap();
    documents.into_iter().map(|mut d| d.remove("_id").unwrap()).collect()
}

#[tokio::test]
async fn ranges_partition_a_collection_of_mixed_id_types() {
    let server = MongoServer::start();
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let collection = client.database("t").collection::<Document>("mixed");
    let ids = mixed_ids();
    collection.insert_many(ids.iter().map(|id| doc! { "_id": id.clone(), "even": matches!(id, Bson::Int32(i) if i % 2 == 0) })).await.unwrap();
    let all = ids_in(&collection, doc! {}).await;
    assert_eq!(all.len(), ids.len());

    for parts in [1, 2, 4, 7, 16] {
        let ranges = split(&collection, &doc! {}, all.len() as u64, parts, 1, None).await.unwrap();
        assert_eq!(ranges.len(), parts, "{parts} ranges asked for");
        let mut union = Vec::new();
        for range in &ranges {
            union.extend(ids_in(&collection, range.filter(&doc! {}, None)).await);
        }
        assert_eq!(union, all, "{parts} ranges, read in order, give every document once");
    }
}

#[tokio::test]
async fn a_range_resumes_after_its_checkpoint_and_keeps_the_user_filter() {
    let server = MongoServer::start();
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let collection = client.database("t").collection::<Document>("mixed");
    let ids = mixed_ids();
    collection.insert_many(ids.iter().map(|id| doc! { "_id": id.clone(), "tag": "x" })).await.unwrap();
    collection.insert_many((0..10).map(|i| doc! { "_id": format!("other-{i}"), "tag": "y" })).await.unwrap();
    let filter = doc! { "tag": "x" };
    let all = ids_in(&collection, filter.clone()).await;
    assert_eq!(all.len(), ids.len());

    let ranges = split(&collection, &filter, all.len() as u64, 3, 1, None).await.unwrap();
    let mut union = Vec::new();
    for range in &ranges {
        let inside = ids_in(&collection, range.filter(&filter, None)).await;
        // Resume from every position inside the range: the rest comes back, nothing else.
        for (k, checkpoint) in inside.iter().enumerate() {
            let rest = ids_in(&collection, range.filter(&filter, Some(checkpoint))).await;
            assert_eq!(rest, inside[k + 1..], "after {checkpoint:?}");
        }
        union.extend(inside);
    }
    assert_eq!(union, all);
    assert_eq!(IdRange::whole().filter(&filter, None), filter);
}

#[tokio::test]
async fn small_collections_stay_in_one_range() {
    let server = MongoServer::start();
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let collection = client.database("t").collection::<Document>("small");
    collection.insert_many((0..50).map(|i| doc! { "_id": i })).await.unwrap();
    let ranges = split(&collection, &doc! {}, 50, 4, 1_000, None).await.unwrap();
    assert_eq!(ranges, vec![IdRange::whole()]);
}
