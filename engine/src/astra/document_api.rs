//! A client for the Stargate Document API v2, the API the original migrator wrote to
//! (deprecated on Astra since 2024, still served by older databases and by astra-local).
//!
//! Each document is stored under a stable id: the source `_id`'s key
//! ([`Converted::id_key`]: the ObjectId's hex, the string itself, ...), never a random one,
//! so a re-run replaces instead of duplicating. Writes are create-or-replace:
//!
//! - `PUT /api/rest/v2/namespaces/{ns}/collections/{coll}/{docId}` writes one document;
//! - `POST .../collections/{coll}/batch?id-path=_id` writes many at once, reading each id at
//!   `_id`. That only gives the same id as `PUT` when `_id` is a JSON string, so
//!   [`DocumentApiClient::write_many`] batches documents with string ids and `PUT`s the
//!   others (ObjectIds, numbers, dates, UUIDs), with up to `concurrency` requests in flight.
//!   A batch is all-or-nothing: when the server refuses one (HTTP 400, 413, 422), its
//!   documents are written one by one so that only the bad ones fail.
//!
//! The token goes in `X-Cassandra-Token`. Retries follow the Data API client's rules:
//! HTTP 408, 429, 500, 502, 503, 504, timeouts and connection errors, with the shared
//! [`RetryPolicy`]. Since writes replace, a retried write cannot duplicate anything; every
//! document is reported [`DocumentOutcome::Written`] or `Failed` (`code` `HTTP_<status>`,
//! the server's `description` as the message), never `AlreadyPresent`.

use super::{
    http::{api_error, body_excerpt, exchange, excerpt, join_segments, with_retries, ApiError, AttemptFailure, Http},
    retry::RetryPolicy,
    stats::RequestStats,
    DocumentOutcome, Limiter, Token,
};
use crate::convert::Converted;
use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;
use std::{sync::Arc, time::Duration};

/// Documents per batch request by default.
pub const DEFAULT_BATCH_SIZE: usize = crate::tuning::CHUNK_SIZE.default;
/// Requests in flight by default.
pub const DEFAULT_CONCURRENCY: usize = crate::tuning::IN_FLIGHT.default;
/// Most bytes of one batch body.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Where the Document API is and how to talk to it.
#[derive(Debug, Clone)]
pub struct DocumentApiConfig {
    /// The API endpoint, e.g. `https://<db-id>-<region>.apps.astra.datastax.com` (a trailing
    /// `/api/rest` is accepted).
    pub endpoint: String,
    /// The namespace (keyspace).
    pub namespace: String,
    /// The application token.
    pub token: Token,
    /// Limit on one HTTP request, answer included.
    pub request_timeout: Duration,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// Documents per batch request (at least 1).
    pub batch_size: usize,
    /// Requests in flight at once (at least 1).
    pub concurrency: usize,
    /// Whether documents with string ids go through the batch endpoint (else all are `PUT`).
    pub use_batch: bool,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// The pace of the target, shared with other clients of it; `None`: a limiter of this
    /// client's own, with `concurrency` as its ceiling.
    pub limiter: Option<Arc<Limiter>>,
}

impl DocumentApiConfig {
    /// Settings with the defaults: 30 s per request, 10 s to connect, batches of 50, 20 in
    /// flight, batching on, [`RetryPolicy::default`].
    pub fn new(endpoint: impl Into<String>, namespace: impl Into<String>, token: Token) -> Self {
        Self {
            endpoint: endpoint.into(),
            namespace: namespace.into(),
            token,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            batch_size: DEFAULT_BATCH_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            use_batch: true,
            retry: RetryPolicy::default(),
            limiter: None,
        }
    }
}

/// Why a Document API call failed. Messages are sentences for the user; none holds the token.
#[derive(Debug, thiserror::Error)]
pub enum DocumentApiError {
    /// The settings cannot work.
    #[error("invalid Document API settings: {0}")]
    InvalidConfig(String),
    /// A namespace or collection name the API would refuse.
    #[error("'{name}' is not a valid {kind} name: use 1 to 48 letters, digits or underscores")]
    InvalidName {
        /// `namespace` or `collection`.
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// HTTP 401.
    #[error("the Document API refused the token: check that the application token is correct, not revoked, and belongs to this database")]
    TokenRefused,
    /// HTTP 403.
    #[error("the token is not allowed to write to namespace '{namespace}': it needs a role with read and write access")]
    Forbidden {
        /// The namespace addressed.
        namespace: String,
    },
    /// HTTP 404 on a write: the namespace does not exist.
    #[error("namespace '{namespace}' does not exist in this database: create it in the Astra console or choose an existing one")]
    UnknownNamespace {
        /// The namespace addressed.
        namespace: String,
    },
    /// HTTP 415.
    #[error("the Document API refused the request's content type (HTTP 415); expected application/json")]
    UnsupportedMediaType,
    /// A transient failure outlasted the retry policy.
    #[error("{operation} kept failing after {attempts} attempts in {elapsed_ms} ms; the last failure: {last}")]
    RetriesExhausted {
        /// The operation retried.
        operation: &'static str,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed_ms: u128,
        /// What the last attempt ran into.
        last: String,
    },
    /// An HTTP status that fits no case above.
    #[error("unexpected HTTP {status} from the Document API for {operation} (is the endpoint right?): {body}")]
    Http {
        /// The operation.
        operation: &'static str,
        /// The status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// An answer that is not what the Document API sends.
    #[error("the Document API's answer to {operation} could not be understood: {problem}")]
    InvalidResponse {
        /// The operation.
        operation: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The HTTP client could not be built.
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl DocumentApiError {
    /// Whether trying again later may succeed (an outage outlasted the retries).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RetriesExhausted { .. })
    }
}

api_error!(DocumentApiError, "Document API", operation);

/// A Document API v2 client for one namespace. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct DocumentApiClient {
    http: reqwest::Client,
    namespace_url: Url,
    namespace: String,
    token: Token,
    token_header: HeaderValue,
    batch_size: usize,
    concurrency: usize,
    use_batch: bool,
    retry: RetryPolicy,
    /// Retries and throttling met, per collection (see [`super::stats`]).
    stats: Arc<RequestStats>,
    limiter: Arc<Limiter>,
}

impl fmt::Debug for DocumentApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentApiClient")
            .field("namespace_url", &self.namespace_url.as_str())
            .field("token", &self.token)
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("use_batch", &self.use_batch)
            .field("retry", &self.retry)
            .finish()
    }
}

/// What one attempt of a Document API request ran into, when it did not succeed.
type Failure = AttemptFailure<DocumentApiError>;

/// A document ready to send: its id and JSON text.
struct Outgoing {
    position: usize,
    id: String,
    json: Bytes,
}

/// Work for one request (or, for a refused batch, a few).
enum Unit {
    Single(Outgoing),
    Batch(Vec<Outgoing>),
}

/// The Document API's error body.
#[derive(Deserialize)]
struct ErrorBody {
    description: Option<String>,
}

impl DocumentApiClient {
    /// Checks the settings and builds the HTTP client. No request is made.
    pub fn new(config: DocumentApiConfig) -> Result<Self, DocumentApiError> {
        DocumentApiError::check_name("namespace", &config.namespace)?;
        if config.batch_size == 0 || config.concurrency == 0 || config.retry.max_attempts == 0 {
            return Err(DocumentApiError::InvalidConfig(
                "the batch size, the requests in flight and the attempts must each be at least 1".into(),
            ));
        }
        let Http { base, token_header, client: http } = Http::new::<DocumentApiError>(
            &config.endpoint,
            "/api/rest",
            &config.token,
            config.request_timeout,
            config.connect_timeout,
            config.concurrency,
        )?;
        let namespace_url = join_segments(&base, &["api", "rest", "v2", "namespaces", &config.namespace]);
        Ok(Self {
            http,
            namespace_url,
            namespace: config.namespace,
            token: config.token,
            token_header,
            batch_size: config.batch_size,
            concurrency: config.concurrency,
            use_batch: config.use_batch,
            retry: config.retry,
            stats: Arc::default(),
            limiter: config.limiter.unwrap_or_else(|| Limiter::new(config.concurrency, None)),
        })
    }

    /// The retries and throttling this client's requests met.
    pub fn stats(&self) -> &Arc<RequestStats> {
        &self.stats
    }

    /// The namespace this client addresses.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The pace of the target this client sends to.
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// Writes (creates or replaces) one document under its id key.
    pub async fn put_document(&self, collection: &str, document: &Converted) -> Result<DocumentOutcome, DocumentApiError> {
        DocumentApiError::check_name("collection", collection)?;
        let outgoing = Outgoing {
            position: 0,
            id: document.id_key().to_owned(),
            json: Bytes::from(document.json().to_owned()),
        };
        self.put(collection, &outgoing).await
    }

    /// Writes every document (see the module documentation): one [`DocumentOutcome`] per
    /// document, in input order.
    pub async fn write_many(
        &self,
        collection: &str,
        documents: Vec<Converted>,
    ) -> Result<Vec<DocumentOutcome>, DocumentApiError> {
        DocumentApiError::check_name("collection", collection)?;
        let total = documents.len();
        let mut units = Vec::new();
        let mut batch: Vec<Outgoing> = Vec::new();
        let mut batch_bytes = 0usize;
        for (position, doc) in documents.into_iter().enumerate() {
            let string_id = doc.id_json().starts_with('"');
            let outgoing = Outgoing { position, id: doc.id_key().to_owned(), json: Bytes::from(doc.into_json()) };
            if !(self.use_batch && string_id) {
                units.push(Unit::Single(outgoing));
                continue;
            }
            if !batch.is_empty()
                && (batch.len() >= self.batch_size || batch_bytes + outgoing.json.len() + 1 > MAX_BATCH_BYTES)
            {
                units.push(Unit::Batch(std::mem::take(&mut batch)));
                batch_bytes = 0;
            }
            batch_bytes += outgoing.json.len() + 1;
            batch.push(outgoing);
        }
        if !batch.is_empty() {
            units.push(Unit::Batch(batch));
        }
        let results: Vec<Vec<(usize, DocumentOutcome)>> = stream::iter(units)
            .map(|unit| self.write_unit(collection, unit))
            .buffer_unordered(self.concurrency)
            .try_collect()
            .await?;
        let mut outcomes: Vec<Option<DocumentOutcome>> = vec![None; total];
        for (position, outcome) in results.into_iter().flatten() {
            if let Some(slot) = outcomes.get_mut(position) {
                *slot = Some(outcome);
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.ok_or_else(|| DocumentApiError::InvalidResponse {
                    operation: "write",
                    problem: "a document was left without an outcome".into(),
                })
            })
            .collect()
    }

    /// Reads one document by id: its `data`, or `None` when there is none.
    pub async fn get_document(&self, collection: &str, document_id: &str) -> Result<Option<Box<RawValue>>, DocumentApiError> {
        #[derive(Deserialize)]
        struct Envelope {
            data: Box<RawValue>,
        }
        DocumentApiError::check_name("collection", collection)?;
        let url = join_segments(&self.namespace_url, &["collections", collection, document_id]);
        let (status, body) = with_retries(&self.retry, "get", || self.send_once(Method::GET, &url, None, 0)).await?;
        match status {
            200 => serde_json::from_slice::<Envelope>(&body).map(|e| Some(e.data)).map_err(|e| {
                DocumentApiError::InvalidResponse { operation: "get", problem: format!("unreadable document ({e})") }
            }),
            404 if self.description(&body).starts_with("Unknown namespace") => {
                Err(DocumentApiError::UnknownNamespace { namespace: self.namespace.clone() })
            }
            404 => Ok(None),
            _ => Err(self.unexpected("get", status, &body)),
        }
    }

    async fn write_unit(&self, collection: &str, unit: Unit) -> Result<Vec<(usize, DocumentOutcome)>, DocumentApiError> {
        match unit {
            Unit::Single(outgoing) => Ok(vec![(outgoing.position, self.put(collection, &outgoing).await?)]),
            Unit::Batch(documents) => match self.batch(collection, &documents).await? {
                Some(()) => Ok(documents.iter().map(|d| (d.position, DocumentOutcome::Written)).collect()),
                None => {
                    // The batch was refused as a whole: find the culprits one by one.
                    let mut outcomes = Vec::with_capacity(documents.len());
                    for outgoing in &documents {
                        outcomes.push((outgoing.position, self.put(collection, outgoing).await?));
                    }
                    Ok(outcomes)
                }
            },
        }
    }

    /// `PUT` of one document.
    async fn put(&self, collection: &str, outgoing: &Outgoing) -> Result<DocumentOutcome, DocumentApiError> {
        if outgoing.id.is_empty() {
            return Ok(DocumentOutcome::Failed {
                code: "EMPTY_DOCUMENT_ID".into(),
                message: "the Document API cannot store a document under an empty id".into(),
            });
        }
        let url = join_segments(&self.namespace_url, &["collections", collection, &outgoing.id]);
        let (status, body) = with_retries(&self.retry, "put", || self.send_once(Method::PUT, &url, Some(outgoing.json.clone()), 1))
            .await?;
        match status {
            200..=299 => Ok(DocumentOutcome::Written),
            400 | 413 | 422 => Ok(DocumentOutcome::Failed { code: format!("HTTP_{status}"), message: self.description(&body) }),
            404 => Err(DocumentApiError::UnknownNamespace { namespace: self.namespace.clone() }),
            _ => Err(self.unexpected("put", status, &body)),
        }
    }

    /// A batch write; `Ok(None)` when the server refused the batch's content.
    async fn batch(&self, collection: &str, documents: &[Outgoing]) -> Result<Option<()>, DocumentApiError> {
        #[derive(Deserialize)]
        struct Written {
            #[serde(rename = "documentIds")]
            document_ids: Vec<String>,
        }
        let mut url = join_segments(&self.namespace_url, &["collections", collection, "batch"]);
        url.query_pairs_mut().append_pair("id-path", "_id");
        let mut body = Vec::with_capacity(documents.iter().map(|d| d.json.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, outgoing) in documents.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&outgoing.json);
        }
        body.push(b']');
        let body = Bytes::from(body);
        let (status, answer) =
            with_retries(&self.retry, "batch write", || self.send_once(Method::POST, &url, Some(body.clone()), documents.len())).await?;
        match status {
            200..=299 => {
                let written: Written = serde_json::from_slice(&answer).map_err(|e| DocumentApiError::InvalidResponse {
                    operation: "batch write",
                    problem: format!("unreadable answer ({e})"),
                })?;
                let mut expected: Vec<&str> = documents.iter().map(|d| d.id.as_str()).collect();
                let mut got: Vec<&str> = written.document_ids.iter().map(String::as_str).collect();
                expected.sort_unstable();
                got.sort_unstable();
                if got != expected {
                    return Err(DocumentApiError::InvalidResponse {
                        operation: "batch write",
                        problem: format!("{} ids written for {} documents, or not the ids sent", written.document_ids.len(), expected.len()),
                    });
                }
                Ok(Some(()))
            }
            400 | 413 | 422 => Ok(None),
            404 => Err(DocumentApiError::UnknownNamespace { namespace: self.namespace.clone() }),
            _ => Err(self.unexpected("batch write", status, &answer)),
        }
    }

    /// One HTTP exchange through the target's limiter (which waits out 429s): the status and
    /// body, unless transient or a refused token. `documents`: how many the request carries.
    async fn send_once(&self, method: Method, url: &Url, body: Option<Bytes>, documents: usize) -> Result<(u16, Bytes), Failure> {
        let request = || {
            let request = self.http.request(method.clone(), url.clone()).header("X-Cassandra-Token", self.token_header.clone());
            match &body {
                Some(body) => request.header(CONTENT_TYPE, HeaderValue::from_static("application/json")).body(body.clone()),
                None => request,
            }
        };
        let answer = exchange(&self.limiter, documents, DocumentApiError::API, request).await.map_err(|e| Failure::transport(&self.token, e))?;
        let (status, retry_after, bytes) = (answer.status, answer.retry_after, answer.bytes);
        match status {
            401 => Err(Failure::Fatal(DocumentApiError::TokenRefused)),
            403 => Err(Failure::Fatal(DocumentApiError::Forbidden { namespace: self.namespace.clone() })),
            415 => Err(Failure::Fatal(DocumentApiError::UnsupportedMediaType)),
            408 | 429 | 500 | 502 | 503 | 504 => Err(Failure::Transient {
                reason: format!("HTTP {status}: {}", body_excerpt(&self.token, &bytes)),
                retry_after,
            }),
            _ => Ok((status, bytes)),
        }
    }

    /// The `description` of an error answer, or its start.
    fn description(&self, body: &[u8]) -> String {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { description: Some(description) }) => self.token.redact(&excerpt(&description, 500)),
            _ => body_excerpt(&self.token, body),
        }
    }

    fn unexpected(&self, operation: &'static str, status: u16, body: &[u8]) -> DocumentApiError {
        DocumentApiError::Http { operation, status, body: body_excerpt(&self.token, body) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn futures_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let client = DocumentApiClient::new(DocumentApiConfig::new("http://127.0.0.1:1", "ks", Token::new("t0k3n"))).unwrap();
        assert_send(&client.write_many("c", Vec::new()));
        assert_send(&client.get_document("c", "id"));
    }

    #[test]
    fn settings_and_debug() {
        let config = DocumentApiConfig::new("http://127.0.0.1:1/api/rest", "ks", Token::new("AstraCS:secret-value"));
        assert!(!format!("{config:?}").contains("secret-value"));
        let client = DocumentApiClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("secret-value"));
        assert_eq!(client.namespace_url.as_str(), "http://127.0.0.1:1/api/rest/v2/namespaces/ks");
        let ids = join_segments(&client.namespace_url, &["collections", "c", "a/b c"]);
        assert_eq!(ids.as_str(), "http://127.0.0.1:1/api/rest/v2/namespaces/ks/collections/c/a%2Fb%20c");
    }
}
