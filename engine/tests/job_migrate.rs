//! Jobs end to end against real services: SecantusDB as the source, astra-local as the
//! target. Every document ends written, already present or dead-lettered, and the counts
//! add up; verification reads everything back.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use bson::{doc, Document};
use engine::{
    job::{target_name, CollectionSpec, JobManager, JobSpec, TargetSpec, VerifyMode},
    sample::{document, refused_count},
    testing::MongoServer,
    wire::JobStatus,
};
use std::net::SocketAddr;

const TOKEN: &str = "AstraCS:test-token";

async fn astra(dir: &std::path::Path) -> astra_local::LocalAstra {
    let config = astra_local::Config { data_dir: dir.to_path_buf(), token: TOKEN.into(), faults: Default::default() };
    astra_local::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config).await.unwrap()
}

async fn load(server: &MongoServer, database: &str, collection: &str, count: u64) {
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let coll = client.database(database).collection::<Document>(collection);
    let mut batch = Vec::new();
    for i in 0..count {
        batch.push(document(collection, i));
        if batch.len() == 2_000 {
            coll.insert_many(std::mem::take(&mut batch)).await.unwrap();
        }
    }
    if !batch.is_empty() {
        coll.insert_many(batch).await.unwrap();
    }
}

fn spec(server: &MongoServer, endpoint: &str, database: &str, collections: &[(&str, Option<&str>)]) -> JobSpec {
    JobSpec {
        source_uri: server.uri(),
        database: database.into(),
        collections: collections
            .iter()
            .map(|(name, filter)| CollectionSpec {
                source: (*name).into(),
                target: target_name(name),
                filter: filter.map(Into::into),
                indexing: Default::default(),
            })
            .collect(),
        target: TargetSpec::DataApi { endpoint: endpoint.into(), keyspace: "default_keyspace".into(), token: TOKEN.into() },
        policy: Default::default(),
        parallel_ranges: 4,
        batch_size: 1_000,
        chunk_size: 50,
        in_flight: 20,
        verify: VerifyMode::All,
    }
}

#[tokio::test]
async fn a_collection_migrates_in_parallel_ranges_and_verifies() {
    let server = MongoServer::start();
    load(&server, "shop", "orders", 30_000).await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let astra = astra(dirs.0.path()).await;
    let jobs = JobManager::open(dirs.1.path()).unwrap();

    let id = jobs.create(spec(&server, &astra.endpoint(), "shop", &[("orders", None)])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let orders = &done.collections[0];
    assert_eq!(orders.counters.matched, 30_000);
    assert_eq!(orders.counters.written, 30_000);
    let verification = orders.verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (30_000, 30_000));

    // Running it again writes nothing new: everything is already present.
    let again = jobs.create(spec(&server, &astra.endpoint(), "shop", &[("orders", None)])).await.unwrap();
    let again = jobs.settled(&again).await.unwrap();
    assert_eq!(again.status, JobStatus::Complete, "{:?}", again.message);
    assert_eq!((again.collections[0].counters.written, again.collections[0].counters.already_present), (0, 30_000));
}

#[tokio::test]
async fn refused_documents_are_dead_lettered_and_the_accounting_is_exact() {
    let server = MongoServer::start();
    load(&server, "analytics", "events", 8_000).await;
    load(&server, "analytics", "sensor-readings", 3_000).await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let astra = astra(dirs.0.path()).await;
    let jobs = JobManager::open(dirs.1.path()).unwrap();

    let id = jobs.create(spec(&server, &astra.endpoint(), "analytics", &[("events", None), ("sensor-readings", None)])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let letters = jobs.dead_letters(&id).unwrap();
    for (collection, count) in [("events", 8_000), ("sensor-readings", 3_000)] {
        let progress = done.collections.iter().find(|c| c.source == collection).unwrap();
        let refused = refused_count(collection, count);
        assert_eq!(progress.counters.dead_lettered, refused, "{collection}");
        assert_eq!(progress.counters.written + progress.counters.dead_lettered, count, "{collection}");
        assert_eq!(letters.iter().filter(|l| l.collection == collection).count() as u64, refused);
    }
    assert_eq!(done.collections[1].target, "sensor_readings");
    let letter = letters.iter().find(|l| l.collection == "events").unwrap();
    assert!(!letter.reason.is_empty() && letter.document.contains("\"_id\""), "{letter:?}");
}

#[tokio::test]
async fn a_filter_migrates_only_what_it_matches() {
    let server = MongoServer::start();
    load(&server, "shop", "orders", 6_000).await;
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let shipped = client.database("shop").collection::<Document>("orders").count_documents(doc! { "status": "shipped" }).await.unwrap();
    assert!(shipped > 0);
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let astra = astra(dirs.0.path()).await;
    let jobs = JobManager::open(dirs.1.path()).unwrap();

    let id = jobs.create(spec(&server, &astra.endpoint(), "shop", &[("orders", Some(r#"{"status": "shipped"}"#))])).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    assert_eq!(done.collections[0].counters.matched, shipped);
    assert_eq!(done.collections[0].counters.written, shipped);
}

#[tokio::test]
async fn bad_input_stops_the_job_before_any_write() {
    let server = MongoServer::start();
    load(&server, "shop", "orders", 100).await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let astra = astra(dirs.0.path()).await;
    let jobs = JobManager::open(dirs.1.path()).unwrap();
    let endpoint = astra.endpoint();

    let error = |spec| async { jobs.create(spec).await.err().unwrap().to_string() };
    assert!(error(spec(&server, &endpoint, "nope", &[("orders", None)])).await.contains("no database named \"nope\""));
    assert!(error(spec(&server, &endpoint, "shop", &[("ghosts", None)])).await.contains("no collection named \"ghosts\""));
    assert!(error(spec(&server, &endpoint, "shop", &[("orders", Some("{not json"))])).await.contains("filter of orders"));
    let message = error(spec(&server, &endpoint, "shop", &[("orders", Some(r#"{"status": {"$shipped": true}}"#))])).await;
    assert!(message.contains("MongoDB refused the filter of orders") && message.contains("$shipped"), "{message}");
    let mut wrong_token = spec(&server, &endpoint, "shop", &[("orders", None)]);
    wrong_token.target = TargetSpec::DataApi { endpoint: endpoint.clone(), keyspace: "default_keyspace".into(), token: "AstraCS:wrong-secret".into() };
    let message = error(wrong_token).await;
    assert!(message.contains("token") && !message.contains("wrong-secret"), "{message}");
    let mut keyspace = spec(&server, &endpoint, "shop", &[("orders", None)]);
    keyspace.target = TargetSpec::DataApi { endpoint: endpoint.clone(), keyspace: "missing_ks".into(), token: TOKEN.into() };
    assert!(error(keyspace).await.contains("missing_ks"));
    let unreachable = format!("http://127.0.0.1:{}", engine::testing::free_port());
    let message = error(spec(&server, &unreachable, "shop", &[("orders", None)])).await;
    assert!(!message.is_empty());
    assert!(jobs.jobs().unwrap().is_empty(), "no job was created");
}
