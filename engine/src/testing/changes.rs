//! For online jobs' tests and benchmark: a writer that changes a source collection at a steady
//! rate (inserts, `$set`/`$inc`/`$push`/`$unset` updates, replaces, deletes), and the exact
//! comparison of a source collection with its Astra copy, both read back in full.

use crate::{
    astra::{
        data_api::{DataApiClient, DataApiConfig, FindQuery},
        Token,
    },
    convert::{content_hash, id_key_from_json, Converter},
    policy::{ConversionPolicy, Indexing},
};
use bson::{doc, oid::ObjectId, Bson, Document};
use futures::TryStreamExt;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};
use tokio::{sync::watch, task::JoinSet};

/// What a [`SourceWriter`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub inserts: u64,
    pub updates: u64,
    pub replaces: u64,
    pub deletes: u64,
}

impl Written {
    pub fn total(&self) -> u64 {
        self.inserts + self.updates + self.replaces + self.deletes
    }

    fn add(&mut self, other: Written) {
        self.inserts += other.inserts;
        self.updates += other.updates;
        self.replaces += other.replaces;
        self.deletes += other.deletes;
    }
}

/// Tasks changing a collection at a steady rate until stopped.
pub struct SourceWriter {
    stop: watch::Sender<bool>,
    tasks: JoinSet<Written>,
}

impl SourceWriter {
    /// Starts `workers` tasks changing `database.collection` at `per_second` changes a second
    /// in all; each works on its own share of the documents there now and those it inserts.
    pub async fn start(uri: &str, database: &str, collection: &str, per_second: u32, workers: usize) -> Self {
        let client = mongodb::Client::with_uri_str(uri).await.unwrap_or_else(|e| panic!("SecantusDB: {e}"));
        let target = client.database(database).collection::<Document>(collection);
        let ids: Vec<Bson> = target
            .find(doc! {})
            .projection(doc! { "_id": 1 })
            .await
            .unwrap_or_else(|e| panic!("reading ids: {e}"))
            .try_collect::<Vec<Document>>()
            .await
            .unwrap_or_else(|e| panic!("reading ids: {e}"))
            .into_iter()
            .filter_map(|d| d.get("_id").cloned())
            .collect();
        let workers = workers.max(1);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let every = Duration::from_secs_f64(workers as f64 / f64::from(per_second.max(1)));
        for worker in 0..workers {
            let share: Vec<Bson> = ids.iter().skip(worker).step_by(workers).cloned().collect();
            tasks.spawn(write(target.clone(), share, every, stopped.clone(), worker as u64));
        }
        Self { stop, tasks }
    }

    /// Stops the writer after the changes in flight; what it did in all.
    pub async fn stop(mut self) -> Written {
        let _ = self.stop.send(true);
        let mut written = Written::default();
        while let Some(done) = self.tasks.join_next().await {
            written.add(done.unwrap_or_else(|e| panic!("a writer crashed: {e}")));
        }
        written
    }
}

/// One writer task: a change every `every`, on its own documents.
async fn write(collection: mongodb::Collection<Document>, mut ids: Vec<Bson>, every: Duration, stop: watch::Receiver<bool>, seed: u64) -> Written {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut written = Written::default();
    let mut next = Instant::now();
    let mut round = 0u64;
    while !*stop.borrow() {
        round += 1;
        let pick = rng.gen_range(0..100);
        let id = (!ids.is_empty()).then(|| ids[rng.gen_range(0..ids.len())].clone());
        let result = match (pick, id) {
            (0..=19, _) | (_, None) => {
                let id = Bson::ObjectId(ObjectId::new());
                ids.push(id.clone());
                written.inserts += 1;
                collection.insert_one(doc! { "_id": id, "kind": "inserted", "round": round as i64, "tags": ["a"] }).await.map(|_| ())
            }
            (20..=64, Some(id)) => {
                written.updates += 1;
                let update = match round % 4 {
                    0 => doc! { "$set": { "sync.note": format!("set {round}"), "status": "changed" } },
                    1 => doc! { "$inc": { "sync.count": 1, "sync.total": 2.5 } },
                    2 => doc! { "$push": { "sync.log": round as i64 } },
                    _ => doc! { "$unset": { "sync.note": "", "shipping": "" } },
                };
                collection.update_one(doc! { "_id": id }, update).await.map(|_| ())
            }
            (65..=79, Some(id)) => {
                written.replaces += 1;
                collection.replace_one(doc! { "_id": id }, doc! { "kind": "replaced", "round": round as i64, "nested": { "a": [1, 2, { "b": "c" }] } }).await.map(|_| ())
            }
            (_, Some(id)) => {
                written.deletes += 1;
                if let Some(at) = ids.iter().position(|i| *i == id) {
                    ids.swap_remove(at);
                }
                collection.delete_one(doc! { "_id": id }).await.map(|_| ())
            }
        };
        result.unwrap_or_else(|e| panic!("the writer's change failed: {e}"));
        next += every;
        let now = Instant::now();
        if next > now {
            tokio::time::sleep(next - now).await;
        } else {
            next = now;
        }
    }
    written
}

/// Every document of `database.collection` converted (default policy): id key → content hash.
pub async fn source_documents(uri: &str, database: &str, collection: &str) -> BTreeMap<String, crate::convert::ContentHash> {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap_or_else(|e| panic!("SecantusDB: {e}"));
    let converter = Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap_or_else(|e| panic!("converter: {e}"));
    let mut cursor = client.database(database).collection::<Document>(collection).find(doc! {}).await.unwrap_or_else(|e| panic!("reading the source: {e}"));
    let mut documents = BTreeMap::new();
    while let Some(document) = cursor.try_next().await.unwrap_or_else(|e| panic!("reading the source: {e}")) {
        let converted = converter.convert(&document).unwrap_or_else(|e| panic!("a source document does not convert: {e}"));
        documents.insert(converted.id_key().to_owned(), converted.content_hash());
    }
    documents
}

/// Every document of an Astra collection: id key → content hash; a document read twice fails.
pub async fn target_documents(endpoint: &str, token: &str, keyspace: &str, collection: &str) -> BTreeMap<String, crate::convert::ContentHash> {
    let client = DataApiClient::new(DataApiConfig::new(endpoint, keyspace, Token::new(token))).unwrap_or_else(|e| panic!("client: {e}"));
    let mut pages = std::pin::pin!(client.find_pages(collection, FindQuery::default()));
    let mut documents = BTreeMap::new();
    while let Some(page) = pages.try_next().await.unwrap_or_else(|e| panic!("reading the target: {e}")) {
        for document in page.documents {
            let value: serde_json::Value = serde_json::from_str(document.get()).unwrap_or_else(|e| panic!("target JSON: {e}"));
            let key = id_key_from_json(&value["_id"].to_string()).unwrap_or_else(|e| panic!("target _id: {e}"));
            let hash = content_hash(document.get()).unwrap_or_else(|e| panic!("target JSON: {e}"));
            assert!(documents.insert(key.clone(), hash).is_none(), "document {key} read twice from the target");
        }
    }
    documents
}

/// Panics unless the source collection and its Astra copy hold the same documents, with the
/// same content; answers how many.
pub async fn assert_same(source_uri: &str, database: &str, collection: &str, endpoint: &str, token: &str, target: &str) -> usize {
    let source = source_documents(source_uri, database, collection).await;
    let copied = target_documents(endpoint, token, "default_keyspace", target).await;
    let missing: Vec<_> = source.keys().filter(|k| !copied.contains_key(*k)).take(10).collect();
    let extra: Vec<_> = copied.keys().filter(|k| !source.contains_key(*k)).take(10).collect();
    let different: Vec<_> = source.iter().filter(|(k, h)| copied.get(*k).is_some_and(|c| c != *h)).map(|(k, _)| k).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && different.is_empty(),
        "the target differs from the source ({} vs {} documents): missing {missing:?}, not in the source {extra:?}, different {different:?}",
        source.len(),
        copied.len()
    );
    source.len()
}
