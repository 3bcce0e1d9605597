//! One interface over the two Astra clients, as the job runner and the verifier need it:
//! where the documents go ([`TargetSpec`]), and a [`Writer`] that checks, prepares, writes
//! and reads back through whichever API the target speaks, says what the target already
//! holds (for dry runs), and counts the retries its writes and reads met.

use super::{
    data_api::{CollectionOptions, FindQuery},
    stats::{counted, RequestStats},
    DataApiClient, DataApiConfig, DataApiError, DocumentApiClient, DocumentApiConfig, DocumentApiError, DocumentOutcome,
    Limiter, RetryPolicy, Token,
};
use crate::{
    convert::Converted,
    policy::{Indexing, VectorMapping},
    wire::TargetKind,
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

/// Where the documents go. Part of a job's stored spec (server-side only: it holds the token).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum TargetSpec {
    /// The Astra Data API (current Astra databases, and astra-local).
    DataApi { endpoint: String, keyspace: String, token: String },
    /// The Stargate Document API v2 (deprecated on Astra).
    DocumentApi { endpoint: String, namespace: String, token: String },
}

impl TargetSpec {
    /// A target of `kind` at `endpoint`, writing into `keyspace` (the namespace, for the
    /// Document API) with `token`.
    pub fn new(kind: TargetKind, endpoint: String, keyspace: String, token: String) -> Self {
        match kind {
            TargetKind::DataApi => TargetSpec::DataApi { endpoint, keyspace, token },
            TargetKind::DocumentApi => TargetSpec::DocumentApi { endpoint, namespace: keyspace, token },
        }
    }

    /// Which API it speaks.
    pub fn kind(&self) -> TargetKind {
        match self {
            TargetSpec::DataApi { .. } => TargetKind::DataApi,
            TargetSpec::DocumentApi { .. } => TargetKind::DocumentApi,
        }
    }

    /// The target without its token, for people to read.
    pub fn describe(&self) -> String {
        match self {
            TargetSpec::DataApi { endpoint, keyspace, .. } => format!("Data API {endpoint} keyspace {keyspace}"),
            TargetSpec::DocumentApi { endpoint, namespace, .. } => format!("Document API {endpoint} namespace {namespace}"),
        }
    }

    /// The keyspace (Data API) or namespace (Document API) written into.
    pub fn keyspace(&self) -> &str {
        match self {
            TargetSpec::DataApi { keyspace, .. } => keyspace,
            TargetSpec::DocumentApi { namespace, .. } => namespace,
        }
    }
}

/// A target failure, as a sentence without the token.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    DataApi(#[from] DataApiError),
    #[error(transparent)]
    DocumentApi(#[from] DocumentApiError),
}

impl TargetError {
    /// A failure that may pass (an outage that outlasted the retries): the job can be
    /// resumed later from its checkpoints.
    pub fn is_transient(&self) -> bool {
        match self {
            TargetError::DataApi(e) => e.is_transient(),
            TargetError::DocumentApi(e) => e.is_transient(),
        }
    }
}

/// How many documents a target collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentTally {
    pub documents: u64,
    /// Counted exactly, rather than the target's estimate.
    pub exact: bool,
}

/// A connected target.
#[derive(Clone)]
pub enum Writer {
    DataApi(DataApiClient),
    DocumentApi(DocumentApiClient),
}

impl Writer {
    /// A writer with a limiter of its own, at most `in_flight` requests in flight.
    pub fn new(target: &TargetSpec, chunk_size: usize, in_flight: usize, retry: RetryPolicy) -> Result<Self, TargetError> {
        Self::with_limiter(target, chunk_size, retry, Limiter::new(in_flight, None))
    }

    /// A writer whose requests all go through `limiter` (its ceiling is the most in flight).
    pub fn with_limiter(target: &TargetSpec, chunk_size: usize, retry: RetryPolicy, limiter: Arc<Limiter>) -> Result<Self, TargetError> {
        let in_flight = limiter.ceiling();
        Ok(match target {
            TargetSpec::DataApi { endpoint, keyspace, token } => {
                let mut config = DataApiConfig::new(endpoint.clone(), keyspace.clone(), Token::new(token.clone()));
                config.chunk_size = chunk_size;
                config.concurrency = in_flight;
                config.retry = retry;
                config.limiter = Some(limiter);
                Writer::DataApi(DataApiClient::new(config)?)
            }
            TargetSpec::DocumentApi { endpoint, namespace, token } => {
                let mut config = DocumentApiConfig::new(endpoint.clone(), namespace.clone(), Token::new(token.clone()));
                config.concurrency = in_flight;
                config.retry = retry;
                config.limiter = Some(limiter);
                Writer::DocumentApi(DocumentApiClient::new(config)?)
            }
        })
    }

    /// The pace of the target, which every request of this writer goes through.
    pub fn limiter(&self) -> &Arc<Limiter> {
        match self {
            Writer::DataApi(client) => client.limiter(),
            Writer::DocumentApi(client) => client.limiter(),
        }
    }

    /// Checks the endpoint, the token and the keyspace before anything is written.
    pub async fn check(&self) -> Result<(), TargetError> {
        match self {
            Writer::DataApi(client) => client.find_collections().await.map(|_| ()).map_err(Into::into),
            Writer::DocumentApi(client) => client.get_document("docshift_probe", "probe").await.map(|_| ()).map_err(Into::into),
        }
    }

    /// Creates the target collection `name` where the target has collections to create,
    /// with `indexing` when it is not the default.
    /// A `vector` mapping makes it a vector collection (Data API only).
    pub async fn prepare(&self, name: &str, indexing: &Indexing, vector: Option<&VectorMapping>) -> Result<(), TargetError> {
        match self {
            Writer::DataApi(client) => {
                let indexing = (*indexing != Indexing::default()).then(|| indexing.clone());
                let options = CollectionOptions { indexing, default_id: None, vector: vector.cloned() };
                client.create_collection(name, &options).await.map_err(Into::into)
            }
            Writer::DocumentApi(_) => Ok(()),
        }
    }

    /// Writes documents; one outcome per document, in order.
    pub async fn write(&self, collection: &str, documents: Vec<Converted>) -> Result<Vec<DocumentOutcome>, TargetError> {
        let write = async {
            match self {
                Writer::DataApi(client) => client.insert_many(collection, documents).await.map_err(Into::into),
                Writer::DocumentApi(client) => client.write_many(collection, documents).await.map_err(Into::into),
            }
        };
        counted(self.stats(), collection, write).await
    }

    /// The retries and throttling met by [`Writer::write`] and [`Writer::read_back`], per
    /// target collection.
    pub fn stats(&self) -> &Arc<RequestStats> {
        match self {
            Writer::DataApi(client) => client.stats(),
            Writer::DocumentApi(client) => client.stats(),
        }
    }

    /// The collections the target's keyspace holds; `None` for the Document API, whose
    /// collections are made by the first write and not listed here.
    pub async fn collection_names(&self) -> Result<Option<Vec<String>>, TargetError> {
        match self {
            Writer::DataApi(client) => Ok(Some(client.find_collections().await?.into_iter().map(|c| c.name).collect())),
            Writer::DocumentApi(_) => Ok(None),
        }
    }

    /// How many documents a target collection holds (Data API): exact up to the
    /// `countDocuments` limit of 1,000, the estimate beyond it. `None` for the Document API.
    pub async fn document_count(&self, collection: &str) -> Result<Option<DocumentTally>, TargetError> {
        let Writer::DataApi(client) = self else { return Ok(None) };
        let counted = client.count_documents(collection, None).await?;
        if !counted.more_data {
            return Ok(Some(DocumentTally { documents: counted.count, exact: true }));
        }
        let estimated = client.estimated_document_count(collection).await?;
        Ok(Some(DocumentTally { documents: estimated.max(counted.count), exact: false }))
    }

    /// Reads back the documents with these ids (as Data API `_id` JSON and as stable keys),
    /// every page of the answer, within the documents-per-second ceiling.
    pub async fn read_back(&self, collection: &str, ids: &[(String, String)]) -> Result<Vec<Box<RawValue>>, TargetError> {
        counted(self.stats(), collection, self.read_back_uncounted(collection, ids)).await
    }

    async fn read_back_uncounted(&self, collection: &str, ids: &[(String, String)]) -> Result<Vec<Box<RawValue>>, TargetError> {
        self.limiter().pace_documents(ids.len()).await;
        match self {
            Writer::DataApi(client) => {
                let list = ids.iter().map(|(json, _)| json.as_str()).collect::<Vec<_>>().join(",");
                let filter: serde_json::Value = serde_json::from_str(&format!("{{\"_id\":{{\"$in\":[{list}]}}}}"))
                    .map_err(|e| DataApiError::InvalidResponse { command: "find", problem: e.to_string() })?;
                // Everything, `$vector` included (the default projection leaves it out).
                let query = FindQuery { filter: Some(filter), projection: Some(serde_json::json!({ "*": 1 })), ..Default::default() };
                let pages: Vec<_> = client.find_pages(collection, query).try_collect().await?;
                Ok(pages.into_iter().flat_map(|p| p.documents).collect())
            }
            Writer::DocumentApi(client) => {
                let mut found = Vec::with_capacity(ids.len());
                for (_, key) in ids {
                    if let Some(document) = client.get_document(collection, key).await? {
                        found.push(document);
                    }
                }
                Ok(found)
            }
        }
    }

    /// Up to `n` documents of a vector collection with their `$vector`s, as stable `_id`
    /// keys and the float32 numbers Astra holds (Data API only).
    pub async fn sample_vectors(&self, collection: &str, n: usize) -> Result<Vec<(String, Vec<f32>)>, TargetError> {
        let Writer::DataApi(client) = self else { return Ok(Vec::new()) };
        let query = FindQuery { projection: Some(serde_json::json!({ "*": 1 })), limit: Some(n as u64), ..Default::default() };
        let mut pages = std::pin::pin!(client.find_pages(collection, query));
        let mut sample = Vec::with_capacity(n);
        while let Some(page) = pages.try_next().await? {
            for document in page.documents {
                if let Some(entry) = id_and_vector(document.get()) {
                    sample.push(entry);
                }
            }
            if sample.len() >= n {
                break;
            }
        }
        sample.truncate(n);
        Ok(sample)
    }

    /// The `_id` keys of Astra's `k` nearest neighbours of `vector`, nearest first (a vector
    /// sort, Data API only).
    pub async fn nearest(&self, collection: &str, vector: &[f32], k: usize) -> Result<Vec<String>, TargetError> {
        let Writer::DataApi(client) = self else { return Ok(Vec::new()) };
        let query = FindQuery {
            sort: Some(serde_json::json!({ "$vector": vector })),
            projection: Some(serde_json::json!({ "_id": 1 })),
            limit: Some(k as u64),
            ..Default::default()
        };
        let page = client.find_page(collection, &query, None).await?;
        Ok(page.documents.iter().filter_map(|d| id_and_vector_id(d.get())).collect())
    }
}

#[derive(serde::Deserialize)]
struct IdAndVector<'a> {
    #[serde(borrow, rename = "_id")]
    id: &'a RawValue,
    #[serde(borrow, rename = "$vector", default)]
    vector: Option<&'a RawValue>,
}

/// A document's stable `_id` key and its `$vector`, when it has one.
fn id_and_vector(json: &str) -> Option<(String, Vec<f32>)> {
    let parsed: IdAndVector<'_> = serde_json::from_str(json).ok()?;
    let key = crate::convert::id_key_from_json(parsed.id.get()).ok()?;
    let vector = crate::convert::vector_from_json(parsed.vector?.get()).ok()?;
    Some((key, vector))
}

fn id_and_vector_id(json: &str) -> Option<String> {
    let parsed: IdAndVector<'_> = serde_json::from_str(json).ok()?;
    crate::convert::id_key_from_json(parsed.id.get()).ok()
}
