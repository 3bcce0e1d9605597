//! The Data API client against a real astra-local (in-process, port 0, data in a temporary
//! directory): collections, inserts with per-document outcomes, paging, counts, the clear
//! errors, and — with astra-local's faults on — that every document ends written or already
//! present exactly once.

// In tests a failed unwrap is a failed test, with its message.

use engine::convert::{content_hash, id_key_from_json, ContentHash, Converted};
use engine::policy::Indexing;
use engine::astra::data_api::{CollectionOptions, DefaultIdType, DocumentCount, FindQuery};
use engine::astra::{DataApiClient, DataApiConfig, DataApiError, DocumentOutcome, Token};
use futures::TryStreamExt;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use crate::common::target::{
    convert_unchecked, converted_sample, fast_retries, nested, LocalTarget, LosingProxy, KEYSPACE, TOKEN,
};

/// id key → content hash of each converted document.
fn expected(docs: &[Converted]) -> BTreeMap<String, ContentHash> {
    docs.iter().map(|d| (d.id_key().to_owned(), d.content_hash())).collect()
}

/// Every document of a collection through `find` pages: id key → content hash, failing on a
/// repeated id; and the number of pages.
async fn read_back(client: &DataApiClient, collection: &str) -> (BTreeMap<String, ContentHash>, usize) {
    let pages: Vec<_> = client.find_pages(collection, FindQuery::default()).try_collect().await.unwrap();
    let mut found = BTreeMap::new();
    for page in &pages {
        for doc in &page.documents {
            let value: serde_json::Value = serde_json::from_str(doc.get()).unwrap();
            let key = id_key_from_json(&value["_id"].to_string()).unwrap();
            let hash = content_hash(doc.get()).unwrap();
            assert!(found.insert(key.clone(), hash).is_none(), "document {key} read twice");
        }
    }
    (found, pages.len())
}

fn count_outcomes(outcomes: &[DocumentOutcome]) -> (usize, usize, usize) {
    let written = outcomes.iter().filter(|o| **o == DocumentOutcome::Written).count();
    let present = outcomes.iter().filter(|o| **o == DocumentOutcome::AlreadyPresent).count();
    (written, present, outcomes.len() - written - present)
}

#[tokio::test]
async fn creates_inserts_reads_back_and_counts() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    let options = CollectionOptions {
        indexing: Some(Indexing { allow: None, deny: Some(vec!["notes".into()]) }),
        default_id: Some(DefaultIdType::ObjectId),
        vector: None,
    };
    client.create_collection("customers", &options).await.unwrap();
    // Creating it again with the same options is fine; with others it is not.
    client.create_collection("customers", &options).await.unwrap();
    let other = client.create_collection("customers", &CollectionOptions::default()).await.unwrap_err();
    assert!(matches!(other, DataApiError::CollectionExistsWithOtherSettings { .. }), "{other}");
    assert!(other.to_string().contains("customers"), "{other}");

    let collections = client.find_collections().await.unwrap();
    let customers = collections.iter().find(|c| c.name == "customers").unwrap();
    assert_eq!(customers.options["indexing"]["deny"], json!(["notes"]));
    assert_eq!(customers.options["defaultId"]["type"], json!("objectId"));

    let (docs, rejected) = converted_sample("customers", 1_000);
    assert_eq!((docs.len(), rejected), (1_000, 0));
    let want = expected(&docs);
    let first = docs[0].clone();
    let outcomes = client.insert_many("customers", docs).await.unwrap();
    assert_eq!(outcomes.len(), 1_000);
    assert!(outcomes.iter().all(|o| *o == DocumentOutcome::Written), "{outcomes:?}");

    let (found, pages) = read_back(&client, "customers").await;
    assert_eq!(found, want, "the documents read back differ from the ones written");
    assert_eq!(pages, 1_000usize.div_ceil(astra_local::DEFAULT_PAGE_SIZE), "one page per page size of documents");

    assert_eq!(
        client.count_documents("customers", None).await.unwrap(),
        DocumentCount { count: 1_000, more_data: false }
    );
    assert_eq!(client.estimated_document_count("customers").await.unwrap(), 1_000);

    // findOne by _id, and find with a projection and a limit.
    let by_id = FindQuery {
        filter: Some(json!({ "_id": serde_json::from_str::<serde_json::Value>(first.id_json()).unwrap() })),
        ..FindQuery::default()
    };
    let one = client.find_one("customers", &by_id).await.unwrap().unwrap();
    assert_eq!(content_hash(one.get()).unwrap(), first.content_hash());
    let counted = client.count_documents("customers", by_id.filter.clone()).await.unwrap();
    assert_eq!(counted, DocumentCount { count: 1, more_data: false });
    let missing = FindQuery { filter: Some(json!({ "_id": "no-such-document" })), ..FindQuery::default() };
    assert!(client.find_one("customers", &missing).await.unwrap().is_none());

    // On Astra `{"_id": 1}` alone is an exclusion projection that keeps everything: include a
    // field to get small documents.
    let names_only = FindQuery { projection: Some(json!({ "name": 1 })), limit: Some(5), ..FindQuery::default() };
    let page = client.find_page("customers", &names_only, None).await.unwrap();
    assert_eq!(page.documents.len(), 5);
    assert!(page.next_page_state.is_none());
    for doc in &page.documents {
        let value: serde_json::Value = serde_json::from_str(doc.get()).unwrap();
        let fields: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["_id", "name"], "projection kept more than _id and name: {value}");
    }

    // One more document: countDocuments stops at 1,000 and says so.
    let extra = convert_unchecked(&bson::doc! { "_id": "extra", "name": "one too many" });
    assert_eq!(client.insert_many("customers", vec![extra]).await.unwrap(), vec![DocumentOutcome::Written]);
    assert_eq!(
        client.count_documents("customers", None).await.unwrap(),
        DocumentCount { count: 1_000, more_data: true }
    );
    assert_eq!(client.estimated_document_count("customers").await.unwrap(), 1_001);

    client.delete_collection("customers").await.unwrap();
    client.delete_collection("customers").await.unwrap();
    assert!(client.find_collections().await.unwrap().iter().all(|c| c.name != "customers"));
    let error = client.count_documents("customers", None).await.unwrap_err();
    assert!(matches!(error, DataApiError::UnknownCollection { .. }), "{error:?}");
}

#[tokio::test]
async fn duplicates_come_back_already_present() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("orders", &CollectionOptions::default()).await.unwrap();
    let (docs, _) = converted_sample("orders", 500);
    let first_run = client.insert_many("orders", docs[..300].to_vec()).await.unwrap();
    assert_eq!(count_outcomes(&first_run), (300, 0, 0));

    // A re-run of everything, with document 400 sent twice in the same request.
    let mut again = docs.clone();
    again.insert(401, docs[400].clone());
    let outcomes = client.insert_many("orders", again).await.unwrap();
    assert_eq!(outcomes.len(), 501);
    assert!(outcomes[..300].iter().all(|o| *o == DocumentOutcome::AlreadyPresent), "{:?}", &outcomes[..300]);
    let pair = [outcomes[400].clone(), outcomes[401].clone()];
    assert!(
        pair.contains(&DocumentOutcome::Written) && pair.contains(&DocumentOutcome::AlreadyPresent),
        "a doubled document must be written once: {pair:?}"
    );
    assert_eq!(count_outcomes(&outcomes), (200, 301, 0));

    let (found, _) = read_back(&client, "orders").await;
    assert_eq!(found, expected(&docs));
}

#[tokio::test]
async fn chunks_complete_in_input_order() {
    let target = LocalTarget::start().await;
    let mut config = target.data_api_config();
    config.chunk_size = 40;
    config.concurrency = 4;
    let client = DataApiClient::new(config).unwrap();
    client.create_collection("products", &CollectionOptions::default()).await.unwrap();
    let (docs, _) = converted_sample("products", 230);
    let chunks: Vec<_> = client.insert_chunks("products", docs).try_collect().await.unwrap();
    let shape: Vec<(usize, usize)> = chunks.iter().map(|c| (c.first, c.outcomes.len())).collect();
    assert_eq!(shape, [(0, 40), (40, 40), (80, 40), (120, 40), (160, 40), (200, 30)]);
    assert!(chunks.iter().flat_map(|c| &c.outcomes).all(|o| *o == DocumentOutcome::Written));
    let count = client.count_documents("products", None).await.unwrap();
    assert_eq!(count, DocumentCount { count: 230, more_data: false });
}

#[tokio::test]
async fn a_refused_document_fails_alone() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("mixed", &CollectionOptions::default()).await.unwrap();
    let (mut docs, _) = converted_sample("products", 60);
    // Depth 20 passes a converter with relaxed limits; the Data API allows 16.
    docs.insert(30, convert_unchecked(&nested("too-deep", 20)));
    let outcomes = client.insert_many("mixed", docs.clone()).await.unwrap();
    assert_eq!(outcomes.len(), 61);
    match &outcomes[30] {
        DocumentOutcome::Failed { code, message } => {
            assert_eq!(code, "SHRED_DOC_LIMIT_VIOLATION");
            assert!(!message.is_empty());
        }
        other => panic!("the deep document was not refused: {other:?}"),
    }
    assert_eq!(count_outcomes(&outcomes), (60, 0, 1));

    let (found, _) = read_back(&client, "mixed").await;
    docs.remove(30);
    assert_eq!(found, expected(&docs));
}

#[tokio::test]
async fn a_wrong_token_is_refused_without_revealing_it() {
    let target = LocalTarget::start().await;
    target.data_api().create_collection("guarded", &CollectionOptions::default()).await.unwrap();
    let secret = "AstraCS:wrong-token:0123456789abcdef";
    let mut config = DataApiConfig::new(target.astra.endpoint(), KEYSPACE, Token::new(secret));
    config.retry = fast_retries(3);
    let client = DataApiClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains("0123456789abcdef"));

    let listing = client.find_collections().await.unwrap_err();
    let (docs, _) = converted_sample("customers", 10);
    let insert = client.insert_many("guarded", docs).await.unwrap_err();
    for error in [listing, insert] {
        assert!(matches!(error, DataApiError::TokenRefused), "{error:?}");
        assert!(!error.is_transient());
        let shown = format!("{error} {error:?}");
        assert!(shown.contains("token"), "{shown}");
        assert!(!shown.contains("0123456789abcdef") && !shown.contains(TOKEN), "{shown}");
    }
}

#[tokio::test]
async fn unknown_keyspaces_and_collections_are_named() {
    let target = LocalTarget::start().await;
    let mut config = target.data_api_config();
    config.keyspace = "no_such_keyspace".into();
    let client = DataApiClient::new(config).unwrap();
    let error = client.find_collections().await.unwrap_err();
    assert!(matches!(&error, DataApiError::UnknownKeyspace { keyspace } if keyspace == "no_such_keyspace"), "{error:?}");
    assert!(error.to_string().contains("'no_such_keyspace'"), "{error}");

    let client = target.data_api();
    let (docs, _) = converted_sample("customers", 10);
    let error = client.insert_many("missing_collection", docs).await.unwrap_err();
    assert!(matches!(error, DataApiError::UnknownCollection { .. }), "{error:?}");
    let shown = error.to_string();
    assert!(shown.contains("'missing_collection'") && shown.contains("'default_keyspace'"), "{shown}");

    let error = client.count_documents("sensor-readings", None).await.unwrap_err();
    assert!(matches!(error, DataApiError::InvalidName { .. }), "{error:?}");
    assert!(error.to_string().contains("sensor-readings"), "{error}");
}

#[tokio::test]
async fn an_outage_longer_than_the_retries_is_reported_as_transient() {
    let target = LocalTarget::start().await;
    let client = target.data_api();
    client.create_collection("outage", &CollectionOptions::default()).await.unwrap();
    target.astra.set_faults(astra_local::Faults { rate_5xx: 1.0, ..Default::default() });
    let mut config = target.data_api_config();
    config.retry = fast_retries(3);
    let impatient = DataApiClient::new(config).unwrap();
    let (docs, _) = converted_sample("customers", 20);
    let error = impatient.insert_many("outage", docs.clone()).await.unwrap_err();
    assert!(matches!(error, DataApiError::RetriesExhausted { attempts: 3, .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(error.to_string().contains("HTTP 50"), "{error}");

    // Once the outage is over, the same documents go in.
    target.astra.set_faults(astra_local::Faults::default());
    let outcomes = client.insert_many("outage", docs).await.unwrap();
    assert!(outcomes.iter().all(DocumentOutcome::is_stored));
}

/// A write that landed but whose answer was lost is retried, comes back
/// `DOCUMENT_ALREADY_EXISTS`, and is reported `AlreadyPresent`: counted once, never twice.
#[tokio::test]
async fn a_lost_answer_after_a_write_counts_once() {
    let target = LocalTarget::start().await;
    target.data_api().create_collection("lost", &CollectionOptions::default()).await.unwrap();
    let proxy = LosingProxy::start(target.astra.addr(), 3).await;
    let mut config = DataApiConfig::new(proxy.endpoint(), KEYSPACE, Token::new(TOKEN));
    config.retry = fast_retries(5);
    config.concurrency = 1;
    let client = DataApiClient::new(config).unwrap();
    let (docs, _) = converted_sample("orders", 150);
    let outcomes = client.insert_many("lost", docs.clone()).await.unwrap();
    // The first chunk was written by its first attempt, whose answer was lost, as were those
    // of the next two attempts; the fourth finds all 50 present. The other chunks go through.
    assert_eq!(count_outcomes(&outcomes), (100, 50, 0));
    assert!(outcomes[..50].iter().all(|o| *o == DocumentOutcome::AlreadyPresent));
    let (found, _) = read_back(&target.data_api(), "lost").await;
    assert_eq!(found, expected(&docs));
}

/// The requirement: with 30 % 5xx, 429 bursts and a request quota, dropped
/// connections and latency spikes beyond the request timeout, every document ends written or
/// already present, none twice, and what astra-local holds is exactly the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_faults_every_document_ends_stored_exactly_once() {
    let target = LocalTarget::start().await;
    let calm = target.data_api();
    calm.create_collection("events", &CollectionOptions::default()).await.unwrap();
    let (docs, rejected) = converted_sample("events", 4_000);
    assert_eq!(rejected, 4, "the sample's events refused by the converter");
    let want = expected(&docs);
    // An earlier, interrupted run copied the first 400.
    let earlier = calm.insert_many("events", docs[..400].to_vec()).await.unwrap();
    assert_eq!(count_outcomes(&earlier), (400, 0, 0));

    target.astra.set_faults(astra_local::Faults {
        latency_ms: 2_500,
        latency_spike_rate: 0.03,
        latency_jitter: 0.0,
        rate_429: 0.05,
        rate_5xx: 0.3,
        drop_rate: 0.05,
        rps_quota: Some(150),
    });
    let mut config = target.data_api_config();
    config.request_timeout = Duration::from_secs(2);
    config.retry = fast_retries(40);
    let client = DataApiClient::new(config).unwrap();
    let outcomes = client.insert_many("events", docs.clone()).await.unwrap();
    assert_eq!(outcomes.len(), docs.len());
    let (written, present, failed) = count_outcomes(&outcomes);
    assert_eq!(failed, 0, "{:?}", outcomes.iter().find(|o| !o.is_stored()));
    assert!(outcomes[..400].iter().all(|o| *o == DocumentOutcome::AlreadyPresent));
    assert_eq!(written + present, docs.len());
    assert!(written <= docs.len() - 400, "more documents written than were missing");

    // A second run under the same faults writes nothing new.
    let rerun = client.insert_many("events", docs[..1_000].to_vec()).await.unwrap();
    assert_eq!(count_outcomes(&rerun), (0, 1_000, 0));

    target.astra.set_faults(astra_local::Faults::default());
    let (found, _) = read_back(&calm, "events").await;
    assert_eq!(found.len(), docs.len());
    let missing: BTreeSet<_> = want.keys().filter(|k| !found.contains_key(*k)).collect();
    assert!(missing.is_empty(), "{} documents missing, e.g. {:?}", missing.len(), missing.iter().next());
    assert_eq!(found, want, "the documents read back differ from the source");
    let count = calm.count_documents("events", None).await.unwrap();
    assert_eq!(count, DocumentCount { count: 1_000, more_data: true });
    assert_eq!(calm.estimated_document_count("events").await.unwrap(), docs.len() as u64);
}
