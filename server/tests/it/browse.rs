//! Browsing a real MongoDB-compatible server through the server functions, and the
//! errors a user sees for bad or unreachable connection strings.

use crate::common::{load_sample, Docshift, MongoServer};
use engine::testing::free_port;
use engine::sample::scaled_collections;
use serde_json::Value;
use std::time::{Duration, Instant};

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test]
async fn browsing_goes_from_the_source_to_its_documents() {
    let mongo = MongoServer::start();
    load_sample(&mongo.uri(), 2_000);
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    let (status, body) = docshift.call("list_sources", &[]).await;
    assert_eq!(status, 200, "{body}");
    let sources = json(&body);
    assert_eq!(sources[0]["id"], "default");
    assert_eq!(sources[0]["uri"], mongo.uri());

    let (status, body) = docshift.call("list_databases", &[("source", "default")]).await;
    assert_eq!(status, 200, "{body}");
    let databases = json(&body);
    let shop = databases.as_array().unwrap().iter().find(|d| d["name"] == "shop").expect("shop is listed");
    assert_eq!(shop["collections"], 3);
    let analytics = databases.as_array().unwrap().iter().find(|d| d["name"] == "analytics").expect("analytics is listed");
    assert_eq!(analytics["collections"], 2);

    let expected = scaled_collections(2_000);
    let (status, body) = docshift.call("list_collections", &[("source", "default"), ("database", "shop")]).await;
    assert_eq!(status, 200, "{body}");
    let collections = json(&body);
    let names: Vec<&str> = collections.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customers", "orders", "products"]);
    let customers = expected.iter().find(|c| c.name == "customers").unwrap();
    assert_eq!(collections[0]["estimated_count"], customers.count);

    let args = [("source", "default"), ("database", "shop"), ("collection", "customers")];
    let (status, body) = docshift.call("first_documents", &args).await;
    assert_eq!(status, 200, "{body}");
    let documents = json(&body);
    assert_eq!(documents.as_array().unwrap().len(), 20);
    let first: Value = serde_json::from_str(documents[0].as_str().unwrap()).unwrap();
    assert!(first["_id"]["$oid"].is_string(), "ObjectIds read as Extended JSON: {first}");
    assert!(first["signedUpAt"]["$date"].is_string(), "dates read as Extended JSON: {first}");

    let (status, body) = docshift.call("exact_count", &args).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body), customers.count);

    // The server-rendered page shows the same documents.
    let (status, page) = docshift.get("/sources/default/shop/customers").await;
    assert_eq!(status, 200);
    assert!(page.contains("$oid"), "the collection page renders documents");
}

#[tokio::test]
async fn unknown_databases_and_collections_are_named_in_the_error() {
    let mongo = MongoServer::start();
    load_sample(&mongo.uri(), 500);
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    let (status, body) = docshift.call("list_collections", &[("source", "default"), ("database", "nope")]).await;
    assert_ne!(status, 200);
    assert!(body.contains("no database named \\\"nope\\\""), "{body}");
    let args = [("source", "default"), ("database", "shop"), ("collection", "ghosts")];
    let (status, body) = docshift.call("first_documents", &args).await;
    assert_ne!(status, 200);
    assert!(body.contains("no collection named \\\"ghosts\\\""), "{body}");
    let (status, body) = docshift.call("list_databases", &[("source", "missing")]).await;
    assert_ne!(status, 200);
    assert!(body.contains("There is no source"), "{body}");
}

#[tokio::test]
async fn a_malformed_uri_is_refused_at_once_and_nothing_is_stored() {
    let mongo = MongoServer::start();
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    for bad in ["mongodb://db.example.com:notaport", "postgres://somewhere", "mongodb://"] {
        let started = Instant::now();
        let (status, body) = docshift.call("add_source", &[("name", "bad"), ("uri", bad)]).await;
        assert_ne!(status, 200, "{bad} was accepted");
        assert!(body.contains("not valid"), "{bad}: {body}");
        assert!(started.elapsed() < Duration::from_secs(1), "a malformed URI is refused without a network wait");
    }
    let (_, body) = docshift.call("list_sources", &[]).await;
    assert_eq!(json(&body).as_array().unwrap().len(), 1, "nothing was stored: {body}");
}

#[tokio::test]
async fn an_unreachable_host_is_reported_within_the_timeout() {
    let mongo = MongoServer::start();
    let docshift = Docshift::serve(&mongo.uri(), &[]);
    let closed = free_port();

    let started = Instant::now();
    let uri = format!("mongodb://127.0.0.1:{closed}");
    let (status, body) = docshift.call("add_source", &[("name", "gone"), ("uri", &uri)]).await;
    let waited = started.elapsed();
    assert_ne!(status, 200);
    assert!(body.contains(&format!("Could not reach MongoDB at 127.0.0.1:{closed}")), "{body}");
    // The server was started with a 3 s server-selection timeout.
    assert!(waited < Duration::from_secs(6), "took {waited:?}");
    let (_, body) = docshift.call("list_sources", &[]).await;
    assert_eq!(json(&body).as_array().unwrap().len(), 1, "an unreachable source is not stored: {body}");
}

#[tokio::test]
async fn a_reachable_source_can_be_added_and_browsed() {
    let mongo = MongoServer::start();
    let other = MongoServer::start();
    load_sample(&other.uri(), 300);
    let docshift = Docshift::serve(&mongo.uri(), &[]);

    let (status, body) = docshift.call("add_source", &[("name", "Staging cluster"), ("uri", &other.uri())]).await;
    assert_eq!(status, 200, "{body}");
    let added = json(&body);
    assert_eq!(added["id"], "staging-cluster");
    let (_, body) = docshift.call("list_databases", &[("source", "staging-cluster")]).await;
    assert!(body.contains("\"shop\""), "{body}");
    let (_, body) = docshift.call("list_sources", &[]).await;
    assert_eq!(json(&body).as_array().unwrap().len(), 2);
}
