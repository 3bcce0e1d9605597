//! The Document API v2 client against a real astra-local: documents stored under their source
//! `_id`'s stable key (PUT, or batch for string ids), read back unchanged, replaced on a
//! re-run instead of duplicated; refused documents fail alone; clear errors; and with faults
//! on, every document still ends written.

// In tests a failed unwrap is a failed test, with its message.

use engine::convert::{content_hash, Converted};
use engine::astra::{DocumentApiClient, DocumentApiConfig, DocumentApiError, DocumentOutcome, Token};
use futures::stream::{self, StreamExt};
use std::time::Duration;
use crate::common::target::{convert_unchecked, converted_sample, fast_retries, nested, LocalTarget, KEYSPACE, TOKEN};

/// ObjectId, number and string ids: the first two go by PUT, strings by batch.
fn mixed_documents() -> Vec<Converted> {
    let (mut docs, _) = converted_sample("customers", 200);
    for i in 0..150 {
        docs.push(convert_unchecked(&bson::doc! { "_id": format!("sku-{i:04}"), "name": "widget", "price": i }));
    }
    for i in 0..20i64 {
        docs.push(convert_unchecked(&bson::doc! { "_id": 10_000 + i, "kind": "numbered" }));
    }
    // Characters that must be escaped in a URL path segment.
    docs.push(convert_unchecked(&bson::doc! { "_id": "a/b c?d#e%f", "kind": "awkward id" }));
    docs
}

/// Reads every document back by id and checks its content.
async fn assert_stored(client: &DocumentApiClient, collection: &str, docs: &[Converted]) {
    let results: Vec<_> = stream::iter(docs)
        .map(|doc| async move { (doc, client.get_document(collection, doc.id_key()).await) })
        .buffer_unordered(16)
        .collect()
        .await;
    for (doc, result) in results {
        let stored = result.unwrap().unwrap_or_else(|| panic!("document {} missing", doc.id_key()));
        assert_eq!(content_hash(stored.get()).unwrap(), doc.content_hash(), "document {} differs", doc.id_key());
    }
}

#[tokio::test]
async fn writes_under_stable_ids_and_rewrites_without_duplicating() {
    let target = LocalTarget::start().await;
    let client = target.document_api();
    let docs = mixed_documents();
    let outcomes = client.write_many("products", docs.clone()).await.unwrap();
    assert_eq!(outcomes.len(), docs.len());
    assert!(outcomes.iter().all(|o| *o == DocumentOutcome::Written), "{outcomes:?}");
    assert_stored(&client, "products", &docs).await;

    // A re-run replaces: same ids, same content, nothing new.
    let again = client.write_many("products", docs.clone()).await.unwrap();
    assert!(again.iter().all(|o| *o == DocumentOutcome::Written));
    assert_stored(&client, "products", &docs).await;

    // A changed source document replaces the stored one.
    let changed = convert_unchecked(&bson::doc! { "_id": "sku-0007", "name": "gadget", "price": 99 });
    assert_eq!(client.put_document("products", &changed).await.unwrap(), DocumentOutcome::Written);
    assert_stored(&client, "products", std::slice::from_ref(&changed)).await;

    assert!(client.get_document("products", "no-such-id").await.unwrap().is_none());
}

#[tokio::test]
async fn a_refused_document_fails_alone() {
    let target = LocalTarget::start().await;
    let client = target.document_api();
    let mut docs = mixed_documents();
    // Depth 70 passes a converter with relaxed limits; the Document API allows 64. One has a
    // string id (inside a batch, which is then written one by one), one a number (PUT).
    docs.insert(210, convert_unchecked(&nested("too-deep", 70)));
    let mut deep_numbered = nested("x", 70);
    deep_numbered.insert("_id", 77i64);
    docs.push(convert_unchecked(&deep_numbered));
    let outcomes = client.write_many("refusals", docs.clone()).await.unwrap();
    for position in [210, docs.len() - 1] {
        match &outcomes[position] {
            DocumentOutcome::Failed { code, message } => {
                assert_eq!(code, "HTTP_400");
                assert!(message.contains("depth"), "{message}");
            }
            other => panic!("document {position} was not refused: {other:?}"),
        }
    }
    let written = outcomes.iter().filter(|o| **o == DocumentOutcome::Written).count();
    assert_eq!(written, docs.len() - 2);
    assert!(client.get_document("refusals", "too-deep").await.unwrap().is_none());
    docs.pop();
    docs.remove(210);
    assert_stored(&client, "refusals", &docs).await;
}

#[tokio::test]
async fn a_wrong_token_and_an_unknown_namespace_are_clear() {
    let target = LocalTarget::start().await;
    let secret = "AstraCS:wrong-token:fedcba9876543210";
    let mut config = DocumentApiConfig::new(target.astra.endpoint(), KEYSPACE, Token::new(secret));
    config.retry = fast_retries(3);
    let client = DocumentApiClient::new(config).unwrap();
    let (docs, _) = converted_sample("customers", 5);
    let error = client.write_many("guarded", docs.clone()).await.unwrap_err();
    assert!(matches!(error, DocumentApiError::TokenRefused), "{error:?}");
    let shown = format!("{error} {error:?} {client:?}");
    assert!(!shown.contains("fedcba9876543210") && !shown.contains(TOKEN), "{shown}");

    let mut config = target.document_api_config();
    config.namespace = "no_such_namespace".into();
    let client = DocumentApiClient::new(config).unwrap();
    let error = client.write_many("anything", docs).await.unwrap_err();
    assert!(matches!(error, DocumentApiError::UnknownNamespace { .. }), "{error:?}");
    assert!(error.to_string().contains("'no_such_namespace'"), "{error}");
    let error = client.get_document("anything", "some-id").await.unwrap_err();
    assert!(matches!(error, DocumentApiError::UnknownNamespace { .. }), "{error:?}");
    // A missing document whose id mentions a namespace is still just missing.
    assert!(target.document_api().get_document("anything", "Unknown namespace").await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_faults_every_document_ends_written() {
    let target = LocalTarget::start().await;
    let mut docs = mixed_documents();
    let (events, _) = converted_sample("events", 1_500);
    docs.extend(events);
    target.astra.set_faults(astra_local::Faults {
        latency_ms: 2_500,
        latency_spike_rate: 0.02,
        latency_jitter: 0.0,
        rate_429: 0.05,
        rate_5xx: 0.3,
        drop_rate: 0.05,
        rps_quota: Some(400),
    });
    let mut config = target.document_api_config();
    config.request_timeout = Duration::from_secs(2);
    config.retry = fast_retries(40);
    let client = DocumentApiClient::new(config).unwrap();
    let outcomes = client.write_many("faulty", docs.clone()).await.unwrap();
    assert_eq!(outcomes.len(), docs.len());
    assert!(outcomes.iter().all(|o| *o == DocumentOutcome::Written), "{:?}", outcomes.iter().find(|o| !o.is_stored()));

    target.astra.set_faults(astra_local::Faults::default());
    assert_stored(&target.document_api(), "faulty", &docs).await;
}
