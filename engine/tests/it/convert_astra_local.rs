//! Converted documents are accepted by astra-local (our stand-in for the Data API) and come
//! back with the same content: random documents from the property-test generators are
//! converted, inserted with `insertMany`, read back with `find` page by page, hashed and
//! decoded, and compared with the source. Documents at the edge of each limit go in too.

use bson::{doc, Bson, Document};
use astra_local::testing::TestAstra;
use crate::common::convert::{any_document, clean_document, equivalent_document, permissive_policy};
use engine::convert::{content_hash, document_from_json, id_key_from_json, ContentHash, Converted, Converter};
use engine::policy::{ConversionPolicy, Indexing};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

const TOKEN: &str = "AstraCS:convert-test";

struct Target {
    _astra: TestAstra,
    http: reqwest::Client,
    keyspace_url: String,
}

impl Target {
    async fn start() -> Self {
        let astra = TestAstra::start(TOKEN).await;
        let keyspace_url = format!("{}/api/json/v1/default_keyspace", astra.endpoint());
        Self { _astra: astra, http: reqwest::Client::new(), keyspace_url }
    }

    async fn command(&self, url: &str, body: String) -> serde_json::Value {
        let response = self
            .http
            .post(url)
            .header("Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.unwrap()
    }

    async fn create_collection(&self, name: &str) {
        let body = serde_json::json!({ "createCollection": { "name": name } }).to_string();
        let reply = self.command(&self.keyspace_url, body).await;
        assert!(reply.get("errors").is_none(), "{reply}");
    }

    /// Inserts with `ordered: false` and `returnDocumentResponses: true`; asserts each is OK.
    async fn insert_all(&self, collection: &str, docs: &[&Converted]) {
        let url = format!("{}/{collection}", self.keyspace_url);
        for chunk in docs.chunks(50) {
            let documents: Vec<&str> = chunk.iter().map(|c| c.json()).collect();
            let body = format!(
                r#"{{"insertMany":{{"documents":[{}],"options":{{"ordered":false,"returnDocumentResponses":true}}}}}}"#,
                documents.join(",")
            );
            // The reply's `_id`s can be numbers beyond f64 (Decimal128 ids): read them as raw
            // text, never into a serde_json::Value.
            #[derive(Deserialize)]
            struct Reply {
                status: Status,
            }
            #[derive(Deserialize)]
            struct Status {
                #[serde(rename = "documentResponses")]
                document_responses: Vec<DocumentResponse>,
            }
            #[derive(Deserialize)]
            struct DocumentResponse {
                _id: Box<RawValue>,
                status: String,
            }
            let text = self.post_text(&url, body).await;
            let reply: Reply = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            let responses = reply.status.document_responses;
            assert_eq!(responses.len(), chunk.len(), "{text}");
            for (response, doc) in responses.iter().zip(chunk) {
                assert_eq!(response.status, "OK", "astra-local refused {}: {text}", doc.json());
                // The `_id` comes back with the same stable key.
                assert_eq!(id_key_from_json(response._id.get()).unwrap(), doc.id_key());
            }
        }
    }

    async fn post_text(&self, url: &str, body: String) -> String {
        let response = self.http.post(url).header("Token", TOKEN).header("Content-Type", "application/json").body(body).send().await.unwrap();
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.text().await.unwrap()
    }

    /// Every document of the collection, as raw JSON text, through `find` pages.
    async fn find_all(&self, collection: &str) -> Vec<String> {
        #[derive(Deserialize)]
        struct Reply {
            data: Data,
        }
        #[derive(Deserialize)]
        struct Data {
            documents: Vec<Box<RawValue>>,
            #[serde(rename = "nextPageState")]
            next_page_state: Option<String>,
        }
        let url = format!("{}/{collection}", self.keyspace_url);
        let mut all = Vec::new();
        let mut page_state: Option<String> = None;
        loop {
            let mut options = serde_json::json!({});
            if let Some(state) = &page_state {
                options["pageState"] = serde_json::Value::String(state.clone());
            }
            let body = serde_json::json!({ "find": { "filter": {}, "options": options } }).to_string();
            let text = self.post_text(&url, body).await;
            let reply: Reply = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            all.extend(reply.data.documents.into_iter().map(|d| d.get().to_owned()));
            match reply.data.next_page_state {
                Some(state) => page_state = Some(state),
                None => break,
            }
        }
        all
    }
}

fn generate(strategy: impl Strategy<Value = Document>, n: usize, seed_runner: &mut TestRunner) -> Vec<Document> {
    (0..n).map(|_| strategy.new_tree(seed_runner).unwrap().current()).collect()
}

/// Converts, keeps the accepted ones with distinct ids.
fn convert_unique(converter: &Converter, docs: &[Document]) -> Vec<(Document, Converted)> {
    let mut seen = std::collections::HashSet::new();
    docs.iter()
        .filter_map(|d| converter.convert(d).ok().map(|c| (d.clone(), c)))
        .filter(|(_, c)| seen.insert(c.id_key().to_owned()))
        .collect()
}

async fn round_trip(target: &Target, collection: &str, policy: ConversionPolicy, converted: &[(Document, Converted)]) {
    target.create_collection(collection).await;
    let refs: Vec<&Converted> = converted.iter().map(|(_, c)| c).collect();
    target.insert_all(collection, &refs).await;
    let expected: HashMap<&str, (&Document, ContentHash)> =
        converted.iter().map(|(d, c)| (c.id_key(), (d, c.content_hash()))).collect();
    let found = target.find_all(collection).await;
    assert_eq!(found.len(), converted.len());
    for json in found {
        let back = document_from_json(&json).unwrap();
        let id_json = serde_json::to_string(&back_id_json(&json)).unwrap();
        let key = id_key_from_json(&id_json).unwrap();
        let (source, hash) = expected.get(key.as_str()).unwrap_or_else(|| panic!("unexpected {json}"));
        assert_eq!(content_hash(&json).unwrap(), *hash, "content differs: {json}");
        assert!(equivalent_document(source, &back, &policy, true), "{json}\n{source:?}");
    }
}

/// The `_id` of a found document, kept as raw text.
fn back_id_json(json: &str) -> Box<RawValue> {
    #[derive(Deserialize)]
    struct WithId {
        _id: Box<RawValue>,
    }
    serde_json::from_str::<WithId>(json).unwrap()._id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_converted_documents_are_accepted_and_read_back_unchanged() {
    let target = Target::start().await;
    let mut runner = TestRunner::deterministic();

    let default_policy = ConversionPolicy::default();
    let clean = generate(clean_document(), 300, &mut runner);
    let converter = Converter::new(default_policy, &Indexing::default()).unwrap();
    let converted = convert_unique(&converter, &clean);
    assert!(converted.len() > 200, "{}", converted.len());
    round_trip(&target, "clean", default_policy, &converted).await;

    let policy = permissive_policy();
    let any = generate(any_document(), 300, &mut runner);
    let converter = Converter::new(policy, &Indexing::default()).unwrap();
    let converted = convert_unique(&converter, &any);
    assert!(converted.len() > 100, "{}", converted.len());
    round_trip(&target, "tagged", policy, &converted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_at_every_limit_are_accepted() {
    let target = Target::start().await;
    let converter = Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap();
    let mut deep = Bson::Document(doc! {});
    for _ in 0..14 {
        deep = Bson::Document(doc! { "a": deep });
    }
    let mut many = Document::new();
    for i in 0..999 {
        many.insert(format!("k{i}"), i);
    }
    let mut path = Document::new();
    path.insert("p".repeat(1000), 1);
    let mut edge = vec![
        doc! { "_id": 1, "a": deep },
        doc! { "_id": 2, "s": "x".repeat(8000) },
        doc! { "_id": 3, "a": (0..1000).collect::<Vec<i32>>() },
        doc! { "_id": 4, "o": many.clone() },
        doc! { "_id": 5, "d": Bson::Decimal128("-9.999999999999999999999999999999999E+6144".parse().unwrap()), "e": Bson::Decimal128("1E-6176".parse().unwrap()) },
        doc! { "_id": 6, "l": [i64::MIN, i64::MAX], "f": [f64::MAX, 5e-324, -0.0] },
        doc! { "_id": 7, "date": [bson::DateTime::MIN, bson::DateTime::MAX, bson::DateTime::from_millis(-62_198_755_200_000)] },
    ];
    path.insert("_id", 8);
    edge.push(path);
    many.insert("_id", 9);
    edge.push(many);
    let converted: Vec<(Document, Converted)> =
        edge.into_iter().map(|d| { let c = converter.convert(&d).unwrap(); (d, c) }).collect();
    round_trip(&target, "edges", ConversionPolicy::default(), &converted).await;
}

/// Documents just over each limit: the converter rejects them with the same error code that
/// astra-local answers when the same JSON (written with the limits lifted) is sent anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converter_and_target_refuse_the_same_documents_with_the_same_codes() {
    use engine::policy::DocumentLimits;
    #[derive(Deserialize)]
    struct Reply {
        errors: Option<Vec<ApiError>>,
    }
    #[derive(Deserialize)]
    struct ApiError {
        #[serde(rename = "errorCode")]
        error_code: String,
    }

    let target = Target::start().await;
    target.create_collection("over").await;
    let url = format!("{}/over", target.keyspace_url);
    let strict = Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap();
    let unlimited = DocumentLimits {
        max_document_chars: usize::MAX,
        max_depth: usize::MAX - 1,
        max_path_chars: usize::MAX,
        max_number_chars: usize::MAX,
        max_array_elements: usize::MAX,
        max_string_bytes: usize::MAX,
        max_object_properties: usize::MAX,
        max_document_properties: usize::MAX,
    };
    let lenient = Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap().with_limits(unlimited);

    let mut deep = Bson::Document(doc! {});
    for _ in 0..15 {
        deep = Bson::Document(doc! { "a": deep });
    }
    let props = |n: usize| {
        let mut o = Document::new();
        for i in 0..n {
            o.insert(format!("k{i}"), i as i32);
        }
        o
    };
    let mut long_path = doc! { "_id": 4 };
    long_path.insert("p".repeat(1001), 1);
    let over = vec![
        doc! { "_id": 1, "a": deep },
        doc! { "_id": 2, "s": "x".repeat(8001) },
        doc! { "_id": 3, "a": (0..1001).collect::<Vec<i32>>() },
        long_path,
        doc! { "_id": 5, "o": props(1001) },
        doc! { "_id": 6, "a": props(1000), "b": props(998) },
        doc! { "_id": 7, "s": "x".repeat(4_000_000) },
    ];
    let mut sent = Vec::new();
    for d in &over {
        let rejection = strict.convert(d).unwrap_err();
        let codes: Vec<String> = rejection.violations.iter().map(|v| v.code().as_str().to_owned()).collect();
        let json = lenient.convert(d).unwrap().into_json();
        sent.push((codes, json));
    }
    // What no converted document can contain: check the codes on hand-written JSON.
    for (code, json) in [
        ("SHRED_BAD_FIELD_NAME", r#"{"_id":10,"$bad":1}"#),
        ("SHRED_BAD_FIELD_NAME", r#"{"_id":11,"a":{"$set":1}}"#),
        ("SHRED_BAD_FIELD_NAME", r#"{"_id":12,"a":{"":1}}"#),
        ("SHRED_BAD_DOCID_TYPE", r#"{"_id":{"a":1}}"#),
        ("SHRED_BAD_DOCID_TYPE", r#"{"_id":[1]}"#),
        ("SHRED_BAD_DOCID_VALUE", r#"{"_id":""}"#),
    ] {
        sent.push((vec![code.to_owned()], json.to_owned()));
    }
    // The target stops at its first refusal; it must be one we reported.
    for (codes, json) in sent {
        let body = format!(r#"{{"insertOne":{{"document":{json}}}}}"#);
        let text = target.post_text(&url, body).await;
        let reply: Reply = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let errors = reply.errors.unwrap_or_default();
        let preview: String = json.chars().take(80).collect();
        assert_eq!(errors.len(), 1, "{preview}: {text}");
        assert!(codes.contains(&errors[0].error_code), "{preview}: we said {codes:?}, the target {text}");
    }
}
