//! Embeddings arrive as vectors, end to end: a collection of 768-dimension embeddings stored
//! as arrays of doubles and one of float32 BSON vectors (subtype 9) migrate into vector
//! collections; the vectors read back equal the source's within float32 precision; a
//! wrong-length and a NaN embedding are dead-lettered with their reasons; recall@10 of
//! Astra's vector search is reported (astra-local computes exact neighbours: 1.0); the
//! dimension is found from the source when the job doesn't give it.

use astra_local::testing::TestAstra;
use bson::{binary::Vector, doc, Binary, Document};
use engine::{
    astra::data_api::{DataApiClient, DataApiConfig, FindQuery},
    astra::Token,
    convert::vector_from_json,
    job::{CollectionSpec, JobManager, JobSpec, TargetSpec},
    policy::VectorMapping,
    testing::MongoServer,
    wire::JobStatus,
};
use futures::TryStreamExt;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::collections::HashMap;

const TOKEN: &str = "AstraCS:vector-test-token";

fn embedding(rng: &mut StdRng, dimension: usize) -> Vec<f64> {
    (0..dimension).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// `articles`: 1,200 documents with a 768-number `embedding` of doubles, plus one with 767
/// numbers and one holding NaN; `images`: 800 documents with a 64-float BSON vector `clip`.
async fn load(server: &MongoServer) -> (HashMap<String, Vec<f64>>, HashMap<String, Vec<f32>>) {
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let db = client.database("ml");
    let mut rng = StdRng::seed_from_u64(16);
    let mut articles = HashMap::new();
    let mut docs: Vec<Document> = (0..1_200)
        .map(|i| {
            let e = embedding(&mut rng, 768);
            articles.insert(format!("a{i}"), e.clone());
            doc! { "_id": format!("a{i}"), "title": format!("article {i}"), "embedding": e }
        })
        .collect();
    docs.push(doc! { "_id": "short", "embedding": embedding(&mut rng, 767) });
    let mut nan = embedding(&mut rng, 768);
    nan[5] = f64::NAN;
    docs.push(doc! { "_id": "nan", "embedding": nan });
    db.collection::<Document>("articles").insert_many(docs).await.unwrap();

    let mut images = HashMap::new();
    let docs: Vec<Document> = (0..800)
        .map(|i| {
            let v: Vec<f32> = (0..64).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
            images.insert(format!("{i}"), v.clone());
            doc! { "_id": i, "clip": Binary::from(Vector::Float32(v)) }
        })
        .collect();
    db.collection::<Document>("images").insert_many(docs).await.unwrap();
    (articles, images)
}

/// Every document of an astra-local collection with its `$vector`, by `_id` key.
async fn target_vectors(endpoint: &str, collection: &str) -> HashMap<String, Vec<f32>> {
    let client = DataApiClient::new(DataApiConfig::new(endpoint, "default_keyspace", Token::new(TOKEN))).unwrap();
    let query = FindQuery { projection: Some(serde_json::json!({ "*": 1 })), ..Default::default() };
    let mut vectors = HashMap::new();
    let mut pages = std::pin::pin!(client.find_pages(collection, query));
    while let Some(page) = pages.try_next().await.unwrap() {
        for document in page.documents {
            let value: serde_json::Value = serde_json::from_str(document.get()).unwrap();
            let key = match &value["_id"] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert!(value.get("embedding").is_none() && value.get("clip").is_none(), "the field was moved into $vector: {value}");
            vectors.insert(key, vector_from_json(&value["$vector"].to_string()).unwrap());
        }
    }
    vectors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_become_searchable_vectors() {
    let server = MongoServer::start();
    let (articles, images) = load(&server).await;
    let astra = TestAstra::start(TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();
    let collection = |source: &str, field: &str, dimension: usize| CollectionSpec {
        source: source.into(),
        target: source.into(),
        filter: None,
        indexing: Default::default(),
        vector: Some(VectorMapping::new(field, dimension)),
    };
    let target = TargetSpec::DataApi { endpoint: astra.endpoint(), keyspace: "default_keyspace".into(), token: TOKEN.into() };
    // The articles' dimension is given; the images' is found in the source.
    let spec = JobSpec::new(server.uri(), "ml".into(), vec![collection("articles", "embedding", 768), collection("images", "clip", 0)], target);
    let id = jobs.create(spec).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);

    // Two documents of the articles were set aside, each with its reason.
    let [articles_progress, images_progress] = &done.collections[..] else { panic!("{done:?}") };
    assert_eq!(articles_progress.counters.written, 1_200);
    assert_eq!(articles_progress.counters.dead_lettered, 2);
    let letters: HashMap<String, (String, String)> =
        jobs.dead_letters(&id, None).unwrap().into_iter().map(|l| (l.id, (l.code, l.reason))).collect();
    let (code, reason) = &letters["short"];
    assert_eq!(code, "INVALID_VECTOR_LENGTH");
    assert!(reason.contains("767") && reason.contains("768"), "{reason}");
    let (code, reason) = &letters["nan"];
    assert_eq!(code, "SHRED_BAD_VECTOR_VALUE");
    assert!(reason.contains("NaN"), "{reason}");

    // Verification passed with the vectors compared, and recall@10 is reported.
    for progress in [articles_progress, images_progress] {
        let verification = progress.verification.as_ref().unwrap();
        assert!(verification.passed() && verification.checked > 0, "{verification:?}");
        let recall = verification.recall.unwrap();
        assert_eq!((recall.queries, recall.k), (100, 10), "{recall:?}");
        assert!(recall.recall() >= 0.99, "{}: recall {recall:?}", progress.source);
    }
    assert_eq!(images_progress.counters.written, 800);

    // What Astra holds: each source vector, as float32.
    let stored = target_vectors(&astra.endpoint(), "articles").await;
    assert_eq!(stored.len(), 1_200);
    for (key, source) in &articles {
        let stored = &stored[key];
        assert!(source.iter().zip(stored).all(|(s, t)| (*s as f32) == *t), "{key}");
    }
    let stored = target_vectors(&astra.endpoint(), "images").await;
    assert_eq!(stored.len(), 800);
    for (key, source) in &images {
        assert_eq!(&stored[key], source, "{key}");
    }
}

#[tokio::test]
async fn a_vector_field_the_source_does_not_have_is_refused_before_any_write() {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 50).await;
    let astra = TestAstra::start(TOKEN).await;
    let jobs = JobManager::with_store(engine::job::JobStore::in_memory().unwrap());
    let spec = JobSpec::new(
        server.uri(),
        "shop".into(),
        vec![CollectionSpec { source: "orders".into(), target: "orders".into(), filter: None, indexing: Default::default(), vector: Some(VectorMapping::new("embedding", 0)) }],
        TargetSpec::DataApi { endpoint: astra.endpoint(), keyspace: "default_keyspace".into(), token: TOKEN.into() },
    );
    let error = jobs.create(spec).await.unwrap_err().to_string();
    assert!(error.contains("no document holds a vector") && error.contains("embedding"), "{error}");
}
