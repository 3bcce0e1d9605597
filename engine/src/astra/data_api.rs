//! A client for the Astra Data API: the commands a migration needs, with retries.
//!
//! Every command is one `POST` of a JSON object to `{endpoint}/api/json/v1/{keyspace}` (keyspace
//! commands) or `.../{keyspace}/{collection}` (collection commands), with the token in the
//! `Token` header. Command errors come back with HTTP 200 in an `errors` array (DESIGN.md facts
//! 1–2, stargate/data-api `CommandResult`); gateway statuses (401, 413, 415, 429, 5xx) are
//! handled too.
//!
//! ```no_run
//! # async fn demo(docs: Vec<engine::convert::Converted>) -> Result<(), engine::astra::DataApiError> {
//! use engine::astra::{DataApiClient, DataApiConfig, Token};
//! use engine::astra::data_api::CollectionOptions;
//! let client = DataApiClient::new(DataApiConfig::new(
//!     "https://<db>-<region>.apps.astra.datastax.com",
//!     "default_keyspace",
//!     Token::new("AstraCS:..."),
//! ))?;
//! client.create_collection("customers", &CollectionOptions::default()).await?;
//! let outcomes = client.insert_many("customers", docs).await?;
//! # Ok(()) }
//! ```
//!
//! ## Writes
//! [`DataApiClient::insert_many`] splits the documents into chunks (at most 100 documents,
//! default 50, and under the 20 MB body limit), sends up to `concurrency` chunks at once
//! (default 20, as the official clients do) with `ordered: false` and
//! `returnDocumentResponses: true`, and maps the `documentResponses` back to the input by
//! position, checking each `_id`. Every input document gets exactly one [`DocumentOutcome`],
//! in input order. [`DataApiClient::insert_chunks`] gives the same results chunk by chunk as
//! they complete, for progress and checkpoints. Documents travel as the converter's JSON text, embedded as
//! [`RawValue`]s: never parsed into values and written again.
//!
//! ## Retries
//! A whole request is retried ([`RetryPolicy`]) on HTTP 408, 429, 500, 502, 503, 504,
//! timeouts, connection errors, and the Data API's transient error codes
//! ([`TRANSIENT_ERROR_CODES`]). Inside an `insertMany`, only the documents that failed with a
//! transient code (or were skipped) are sent again. Inserts are insert-if-not-exists, so a
//! retry cannot duplicate: a document that an attempt wrote although its answer was lost
//! comes back `DOCUMENT_ALREADY_EXISTS` and is reported [`DocumentOutcome::AlreadyPresent`],
//! counted once. When the attempts run out on a whole-request failure the call fails with
//! [`DataApiError::RetriesExhausted`] (no document is blamed for an outage: the job pauses and
//! a re-run finds the written ones already present); when they run out on per-document
//! transient errors, those documents are reported `Failed` with the last code.
//!
//! ## Reads
//! [`DataApiClient::find_page`] and [`DataApiClient::find_pages`] follow `nextPageState`;
//! without a sort the Data API pages through the whole collection (with a sort it sorts in
//! memory, at most a few thousand documents), so the verifier reads without one. Documents
//! come back as the server's JSON text ([`RawValue`]), ready for `convert::content_hash`.

use super::retry::{self, Attempts, RetryPolicy};
use super::{excerpt, is_valid_schema_name, join_segments, DocumentOutcome, Http, HttpSetupError, Token};
use crate::convert::{id_key_from_json, Converted};
use crate::policy::Indexing;
use bytes::Bytes;
use futures::future::Either;
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::fmt;
use std::time::Duration;

/// Most documents one `insertMany` may carry.
pub const MAX_CHUNK_SIZE: usize = 100;
/// Documents per `insertMany` by default (the maintainers' measured sweet spot).
pub const DEFAULT_CHUNK_SIZE: usize = 50;
/// `insertMany` requests in flight by default.
pub const DEFAULT_CONCURRENCY: usize = 20;
/// Most bytes of one request body we send; the Data API accepts 20 MB.
pub const MAX_BODY_BYTES: usize = 19 * 1024 * 1024;

/// The Data API error codes that mean "the database could not do it just now; the same
/// request may succeed later" (stargate/data-api `errors.yaml` server errors marked
/// `${SNIPPET.RETRY}`, the driver failures of `ErrorCodeV1`, and older names of the same).
pub const TRANSIENT_ERROR_CODES: &[&str] = &[
    // errors.yaml, DATABASE scope, "It is safe to retry this request."
    "COUNT_READ_FAILED",
    "FAILED_CONCURRENT_OPERATIONS",
    "FAILED_TO_CONNECT_TO_DATABASE",
    "UNAVAILABLE_DATABASE",
    "FAILED_READ_REQUEST",
    "FAILED_WRITE_REQUEST",
    "TIMEOUT_READING_DATA",
    "TIMEOUT_WRITING_DATA",
    "FAILED_COMPARE_AND_SET",
    // ErrorCodeV1 driver failures.
    "SERVER_CLOSED_CONNECTION",
    "SERVER_COORDINATOR_FAILURE",
    "SERVER_DRIVER_TIMEOUT",
    "SERVER_NO_NODE_AVAILABLE",
    "SERVER_QUERY_CONSISTENCY_FAILURE",
    "SERVER_READ_FAILED",
    // Names used by earlier Data API releases.
    "SERVER_TIMEOUT",
    "SERVER_UNAVAILABLE",
    "CONCURRENCY_FAILURE",
];

/// The error code of a duplicate `_id` (DESIGN.md fact 5).
pub const DOCUMENT_ALREADY_EXISTS: &str = "DOCUMENT_ALREADY_EXISTS";

/// Whether a Data API error code is transient (see [`TRANSIENT_ERROR_CODES`]).
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_ERROR_CODES.contains(&code)
}

/// Where the Data API is and how to talk to it.
#[derive(Debug, Clone)]
pub struct DataApiConfig {
    /// The API endpoint, e.g. `https://<db-id>-<region>.apps.astra.datastax.com` or
    /// astra-local's `http://127.0.0.1:8181` (a trailing `/api/json/v1` is accepted).
    pub endpoint: String,
    /// The keyspace (`default_keyspace` on a new Astra database).
    pub keyspace: String,
    /// The application token.
    pub token: Token,
    /// Limit on one HTTP request, answer included.
    pub request_timeout: Duration,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// Documents per `insertMany` (1 to 100).
    pub chunk_size: usize,
    /// `insertMany` requests in flight at once (at least 1).
    pub concurrency: usize,
    /// When and how long to retry.
    pub retry: RetryPolicy,
}

impl DataApiConfig {
    /// Settings with the defaults: 30 s per request, 10 s to connect, chunks of 50, 20 in
    /// flight, [`RetryPolicy::default`].
    pub fn new(endpoint: impl Into<String>, keyspace: impl Into<String>, token: Token) -> Self {
        Self {
            endpoint: endpoint.into(),
            keyspace: keyspace.into(),
            token,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
        }
    }
}

/// Why a Data API call failed. Messages are sentences for the user; none holds the token.
#[derive(Debug, thiserror::Error)]
pub enum DataApiError {
    /// The settings cannot work (endpoint, chunk size, token characters, ...).
    #[error("invalid Data API settings: {0}")]
    InvalidConfig(String),
    /// A keyspace or collection name the Data API would refuse.
    #[error("'{name}' is not a valid {kind} name: use 1 to 48 letters, digits or underscores")]
    InvalidName {
        /// `keyspace` or `collection`.
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// HTTP 401 or an authentication error code.
    #[error("the Data API refused the token: check that the application token is correct, not revoked, and belongs to this database")]
    TokenRefused,
    /// HTTP 403 or `UNAUTHORIZED_ACCESS`.
    #[error("the token is not allowed to run {command} on keyspace '{keyspace}': it needs a role with read and write access")]
    Forbidden {
        /// The command refused.
        command: &'static str,
        /// The keyspace addressed.
        keyspace: String,
    },
    /// The keyspace does not exist.
    #[error("keyspace '{keyspace}' does not exist in this database: create it in the Astra console or choose an existing one")]
    UnknownKeyspace {
        /// The keyspace addressed.
        keyspace: String,
    },
    /// The collection does not exist.
    #[error("collection '{collection}' does not exist in keyspace '{keyspace}': create it first")]
    UnknownCollection {
        /// The keyspace addressed.
        keyspace: String,
        /// The collection addressed.
        collection: String,
    },
    /// `createCollection` of a name that exists with other options.
    #[error("collection '{collection}' already exists in keyspace '{keyspace}' with other settings: delete it or choose another name")]
    CollectionExistsWithOtherSettings {
        /// The keyspace addressed.
        keyspace: String,
        /// The collection addressed.
        collection: String,
    },
    /// HTTP 413.
    #[error("the Data API refused a request of {bytes} bytes as too large (HTTP 413): use smaller chunks")]
    PayloadTooLarge {
        /// Size of the refused body.
        bytes: usize,
    },
    /// HTTP 415.
    #[error("the Data API refused the request's content type (HTTP 415); expected application/json")]
    UnsupportedMediaType,
    /// Any other error the Data API reported for a whole command; not retryable.
    #[error("the Data API refused {command}: {code}: {message}")]
    Command {
        /// The command refused.
        command: &'static str,
        /// Its `errorCode`.
        code: String,
        /// Its message.
        message: String,
    },
    /// A transient failure outlasted the retry policy.
    #[error("{command} kept failing after {attempts} attempts in {elapsed_ms} ms; the last failure: {last}")]
    RetriesExhausted {
        /// The command retried.
        command: &'static str,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed_ms: u128,
        /// What the last attempt ran into.
        last: String,
    },
    /// An HTTP status the Data API does not use for command errors (e.g. 404: wrong endpoint).
    #[error("unexpected HTTP {status} from the Data API for {command} (is the endpoint right?): {body}")]
    Http {
        /// The command sent.
        command: &'static str,
        /// The status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// An answer that is not what the Data API sends.
    #[error("the Data API's answer to {command} could not be understood: {problem}")]
    InvalidResponse {
        /// The command sent.
        command: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A converted document whose JSON is not valid (a converter bug, never expected).
    #[error("document {id_key} is not valid JSON and was not sent: {problem}")]
    InvalidDocument {
        /// The document's id key.
        id_key: String,
        /// The parser's complaint.
        problem: String,
    },
    /// The HTTP client could not be built.
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl DataApiError {
    /// Whether trying again later may succeed (an outage outlasted the retries), as opposed
    /// to a problem the user must fix (token, names, settings).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RetriesExhausted { .. })
    }
}

/// The `type` of a collection's generated ids (`createCollection` `options.defaultId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DefaultIdType {
    /// `{"$objectId": ...}` ids.
    ObjectId,
    /// Random (v4) UUIDs.
    Uuid,
    /// Time-ordered v6 UUIDs.
    #[serde(rename = "uuidv6")]
    UuidV6,
    /// Time-ordered v7 UUIDs.
    #[serde(rename = "uuidv7")]
    UuidV7,
}

/// `createCollection` options that a migration sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionOptions {
    /// Which paths are indexed (`indexing.deny` lifts the indexed-only limits on those paths).
    pub indexing: Option<Indexing>,
    /// The type of ids the Data API generates for documents without `_id`.
    pub default_id: Option<DefaultIdType>,
}

/// A collection as `findCollections` describes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CollectionDescriptor {
    /// Its name.
    pub name: String,
    /// Its options as the Data API reports them (`indexing`, `defaultId`, ...).
    #[serde(default)]
    pub options: serde_json::Value,
}

/// What a `find` asks for. `Default` is every document, all fields, no sort.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindQuery {
    /// The filter, e.g. `{"_id": {"$in": [...]}}`; `None` matches everything.
    pub filter: Option<serde_json::Value>,
    /// The sort, e.g. `{"_id": 1}` (in-memory on Astra; avoid for full scans).
    pub sort: Option<serde_json::Value>,
    /// The projection, e.g. `{"_id": 1}`.
    pub projection: Option<serde_json::Value>,
    /// Most documents in all.
    pub limit: Option<u64>,
    /// Documents to skip (only with a sort on Astra).
    pub skip: Option<u64>,
}

/// One page of a `find`.
#[derive(Debug, Clone)]
pub struct FindPage {
    /// The documents, as the server's JSON text.
    pub documents: Vec<Box<RawValue>>,
    /// The state to ask for the next page; `None` on the last page.
    pub next_page_state: Option<String>,
}

/// The outcomes of one `insertMany` chunk: input documents `first..first + outcomes.len()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkOutcomes {
    /// Input position of the chunk's first document.
    pub first: usize,
    /// One outcome per document of the chunk, in order.
    pub outcomes: Vec<DocumentOutcome>,
}

/// The answer of `countDocuments`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentCount {
    /// Documents counted.
    pub count: u64,
    /// True when the Data API stopped counting (at 1,000): there are more than `count`.
    pub more_data: bool,
}

/// A Data API client for one keyspace. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct DataApiClient {
    http: reqwest::Client,
    keyspace_url: Url,
    keyspace: String,
    token: Token,
    token_header: HeaderValue,
    chunk_size: usize,
    concurrency: usize,
    retry: RetryPolicy,
}

impl fmt::Debug for DataApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataApiClient")
            .field("keyspace_url", &self.keyspace_url.as_str())
            .field("token", &self.token)
            .field("chunk_size", &self.chunk_size)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .finish()
    }
}

/// What one attempt ran into, when it did not succeed.
enum AttemptFailure {
    /// Worth another attempt.
    Transient { reason: String, retry_after: Option<Duration> },
    /// Not worth another attempt.
    Fatal(DataApiError),
}

/// The envelope of every Data API answer.
#[derive(Debug, Deserialize)]
struct ApiReply {
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    status: Option<Box<RawValue>>,
    #[serde(default)]
    errors: Vec<ApiErrorEntry>,
}

/// One entry of an answer's `errors`.
#[derive(Debug, Deserialize)]
struct ApiErrorEntry {
    #[serde(rename = "errorCode", default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ApiErrorEntry {
    fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("UNKNOWN_ERROR")
    }

    fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }
}

/// One document to send: its JSON and its id, for matching the answer.
struct PendingDocument {
    raw: Box<RawValue>,
    id_key: String,
}

#[derive(Serialize)]
struct InsertManyBody<'a> {
    #[serde(rename = "insertMany")]
    insert_many: InsertMany<'a>,
}

#[derive(Serialize)]
struct InsertMany<'a> {
    documents: Vec<&'a RawValue>,
    options: InsertManyOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InsertManyOptions {
    ordered: bool,
    return_document_responses: bool,
}

#[derive(Deserialize)]
struct InsertManyStatus {
    #[serde(rename = "documentResponses")]
    document_responses: Option<Vec<DocumentResponse>>,
}

#[derive(Deserialize)]
struct DocumentResponse {
    #[serde(rename = "_id", default)]
    id: Option<Box<RawValue>>,
    status: String,
    #[serde(rename = "errorsIdx", default)]
    errors_idx: Option<usize>,
}

impl DataApiClient {
    /// Checks the settings and builds the HTTP client. No request is made.
    pub fn new(config: DataApiConfig) -> Result<Self, DataApiError> {
        check_name("keyspace", &config.keyspace)?;
        if !(1..=MAX_CHUNK_SIZE).contains(&config.chunk_size) {
            return Err(DataApiError::InvalidConfig(format!(
                "the chunk size must be between 1 and {MAX_CHUNK_SIZE}, not {}",
                config.chunk_size
            )));
        }
        if config.concurrency == 0 {
            return Err(DataApiError::InvalidConfig("at least one request must be allowed in flight".into()));
        }
        if config.retry.max_attempts == 0 {
            return Err(DataApiError::InvalidConfig("the retry policy must allow at least one attempt".into()));
        }
        let Http { base, token_header, client: http } = Http::new(
            &config.endpoint,
            "/api/json/v1",
            &config.token,
            config.request_timeout,
            config.connect_timeout,
            config.concurrency,
        )
        .map_err(|e| match e {
            HttpSetupError::InvalidConfig(reason) => DataApiError::InvalidConfig(reason),
            HttpSetupError::Client(reason) => DataApiError::Client(reason),
        })?;
        let keyspace_url = join_segments(&base, &["api", "json", "v1", &config.keyspace]);
        Ok(Self {
            http,
            keyspace_url,
            keyspace: config.keyspace,
            token: config.token,
            token_header,
            chunk_size: config.chunk_size,
            concurrency: config.concurrency,
            retry: config.retry,
        })
    }

    /// The keyspace this client addresses.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// Creates a collection, or does nothing when it exists with the same options.
    /// Fails with [`DataApiError::CollectionExistsWithOtherSettings`] when it exists with
    /// other options.
    pub async fn create_collection(&self, name: &str, options: &CollectionOptions) -> Result<(), DataApiError> {
        check_name("collection", name)?;
        let mut opts = serde_json::Map::new();
        if let Some(default_id) = options.default_id {
            opts.insert("defaultId".into(), serde_json::json!({ "type": default_id }));
        }
        if let Some(indexing) = &options.indexing {
            let value = serde_json::to_value(indexing).map_err(|e| DataApiError::InvalidConfig(e.to_string()))?;
            opts.insert("indexing".into(), value);
        }
        let mut command = serde_json::Map::new();
        command.insert("name".into(), name.into());
        if !opts.is_empty() {
            command.insert("options".into(), opts.into());
        }
        let body = serde_json::json!({ "createCollection": command });
        self.run("createCollection", self.keyspace_url.clone(), None, Some(name), json_body(&body)?)
            .await?;
        Ok(())
    }

    /// Deletes a collection and its documents; deleting one that does not exist is fine.
    pub async fn delete_collection(&self, name: &str) -> Result<(), DataApiError> {
        check_name("collection", name)?;
        let body = serde_json::json!({ "deleteCollection": { "name": name } });
        self.run("deleteCollection", self.keyspace_url.clone(), Some(name), None, json_body(&body)?).await?;
        Ok(())
    }

    /// The collections of the keyspace, with their options.
    pub async fn find_collections(&self) -> Result<Vec<CollectionDescriptor>, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            collections: Vec<CollectionDescriptor>,
        }
        let body = serde_json::json!({ "findCollections": { "options": { "explain": true } } });
        let reply = self.run("findCollections", self.keyspace_url.clone(), None, None, json_body(&body)?).await?;
        let status: Status = parse_part("findCollections", reply.status.as_deref(), "status")?;
        Ok(status.collections)
    }

    /// Inserts documents into `collection`: one [`DocumentOutcome`] per document, in input
    /// order (see the module documentation for chunking, concurrency and retries).
    pub async fn insert_many(
        &self,
        collection: &str,
        documents: Vec<Converted>,
    ) -> Result<Vec<DocumentOutcome>, DataApiError> {
        let total = documents.len();
        let chunks: Vec<ChunkOutcomes> = self.insert_chunks(collection, documents).try_collect().await?;
        let outcomes: Vec<DocumentOutcome> = chunks.into_iter().flat_map(|c| c.outcomes).collect();
        if outcomes.len() != total {
            return Err(DataApiError::InvalidResponse {
                command: "insertMany",
                problem: format!("{} outcomes for {total} documents", outcomes.len()),
            });
        }
        Ok(outcomes)
    }

    /// [`DataApiClient::insert_many`] as a stream of chunk results in input order, each as
    /// soon as it and the chunks before it are done: for progress reports and checkpoints
    /// while a large batch is written. The stream ends after the first error.
    pub fn insert_chunks<'a>(
        &'a self,
        collection: &'a str,
        documents: Vec<Converted>,
    ) -> impl Stream<Item = Result<ChunkOutcomes, DataApiError>> + Send + 'a {
        match self.prepare_chunks(collection, documents) {
            Err(error) => Either::Left(stream::once(futures::future::ready(Err(error)))),
            Ok(chunks) => {
                let url = join_segments(&self.keyspace_url, &[collection]);
                Either::Right(
                    stream::iter(chunks)
                        .map(move |(first, chunk)| {
                            let url = url.clone();
                            async move {
                                let outcomes = self.insert_chunk(&url, collection, chunk).await?;
                                Ok(ChunkOutcomes { first, outcomes })
                            }
                        })
                        .buffered(self.concurrency),
                )
            }
        }
    }

    /// Splits documents into chunks of at most `chunk_size` documents and
    /// [`MAX_BODY_BYTES`], each with the input position of its first document.
    fn prepare_chunks(
        &self,
        collection: &str,
        documents: Vec<Converted>,
    ) -> Result<Vec<(usize, Vec<PendingDocument>)>, DataApiError> {
        check_name("collection", collection)?;
        let mut chunks: Vec<(usize, Vec<PendingDocument>)> = Vec::new();
        let mut current: Vec<PendingDocument> = Vec::with_capacity(self.chunk_size);
        let mut current_first = 0usize;
        let mut current_bytes = 0usize;
        for (position, doc) in documents.into_iter().enumerate() {
            let id_key = doc.id_key().to_owned();
            let len = doc.len() + 1;
            let raw = doc.into_raw_value().map_err(|e| DataApiError::InvalidDocument {
                id_key: id_key.clone(),
                problem: e.to_string(),
            })?;
            if !current.is_empty() && (current.len() >= self.chunk_size || current_bytes + len > MAX_BODY_BYTES) {
                chunks.push((current_first, std::mem::take(&mut current)));
                current_bytes = 0;
            }
            if current.is_empty() {
                current_first = position;
            }
            current_bytes += len;
            current.push(PendingDocument { raw, id_key });
        }
        if !current.is_empty() {
            chunks.push((current_first, current));
        }
        Ok(chunks)
    }

    /// One `insertMany` of at most `chunk_size` documents, retried until every document has
    /// an outcome.
    async fn insert_chunk(
        &self,
        url: &Url,
        collection: &str,
        chunk: Vec<PendingDocument>,
    ) -> Result<Vec<DocumentOutcome>, DataApiError> {
        let mut outcomes: Vec<Option<DocumentOutcome>> = vec![None; chunk.len()];
        // The last transient per-document error of each document, reported if retries run out.
        let mut last_errors: Vec<Option<(String, String)>> = vec![None; chunk.len()];
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        let mut attempts = self.retry.start();
        loop {
            attempts.begin();
            let body = InsertManyBody {
                insert_many: InsertMany {
                    documents: pending.iter().map(|&i| &*chunk[i].raw).collect(),
                    options: InsertManyOptions { ordered: false, return_document_responses: true },
                },
            };
            let body = Bytes::from(serde_json::to_vec(&body).map_err(|e| DataApiError::InvalidResponse {
                command: "insertMany",
                problem: format!("the request could not be written: {e}"),
            })?);
            let failure = match self.send_once("insertMany", url, body).await {
                Ok(reply) => {
                    match self.apply_insert_reply(&reply, collection, &chunk, &pending, &mut outcomes, &mut last_errors) {
                        Ok(still_pending) if still_pending.is_empty() => break,
                        Ok(still_pending) => {
                            let reason = still_pending
                                .first()
                                .and_then(|&i| last_errors[i].as_ref())
                                .map_or_else(
                                    || "documents were skipped".to_owned(),
                                    |(code, message)| format!("{code}: {message}"),
                                );
                            pending = still_pending;
                            AttemptFailure::Transient {
                                reason: format!("{} documents failed transiently ({reason})", pending.len()),
                                retry_after: None,
                            }
                        }
                        Err(failure) => {
                            // A whole-request failure: the per-document errors of earlier
                            // attempts are no longer the last word.
                            for &i in &pending {
                                last_errors[i] = None;
                            }
                            failure
                        }
                    }
                }
                Err(failure) => {
                    for &i in &pending {
                        last_errors[i] = None;
                    }
                    failure
                }
            };
            match failure {
                AttemptFailure::Fatal(error) => return Err(error),
                AttemptFailure::Transient { reason, retry_after } => {
                    if let Err(error) = self.wait_or_give_up("insertMany", &attempts, reason, retry_after).await {
                        let per_document = pending.iter().all(|&i| last_errors[i].is_some());
                        if !per_document {
                            return Err(error);
                        }
                        for &i in &pending {
                            if let Some((code, message)) = last_errors[i].take() {
                                outcomes[i] = Some(DocumentOutcome::Failed { code, message });
                            }
                        }
                        break;
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.ok_or_else(|| DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: "a document was left without an outcome".into(),
                })
            })
            .collect()
    }

    /// Records the outcomes an `insertMany` answer gives for the `pending` documents; returns
    /// the documents to send again (transient errors, skipped).
    fn apply_insert_reply(
        &self,
        reply: &ApiReply,
        collection: &str,
        chunk: &[PendingDocument],
        pending: &[usize],
        outcomes: &mut [Option<DocumentOutcome>],
        last_errors: &mut [Option<(String, String)>],
    ) -> Result<Vec<usize>, AttemptFailure> {
        let status: Option<InsertManyStatus> = match reply.status.as_deref() {
            Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| {
                AttemptFailure::Fatal(DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: format!("unreadable status: {e}"),
                })
            })?),
            None => None,
        };
        let Some(responses) = status.and_then(|s| s.document_responses) else {
            // No per-document answer: the whole command failed.
            return Err(match reply.errors.first() {
                Some(error) => self.classify(error, "insertMany", Some(collection)),
                None => AttemptFailure::Fatal(DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: "neither documentResponses nor errors in the answer".into(),
                }),
            });
        };
        if responses.len() != pending.len() {
            return Err(AttemptFailure::Fatal(DataApiError::InvalidResponse {
                command: "insertMany",
                problem: format!("{} documentResponses for {} documents", responses.len(), pending.len()),
            }));
        }
        let mut still_pending = Vec::new();
        for (response, &i) in responses.iter().zip(pending) {
            if let Some(id) = &response.id {
                let matches = id_key_from_json(id.get()).is_ok_and(|key| key == chunk[i].id_key);
                if !matches {
                    return Err(AttemptFailure::Fatal(DataApiError::InvalidResponse {
                        command: "insertMany",
                        problem: format!(
                            "documentResponses out of order: expected _id {}, got {}",
                            chunk[i].id_key,
                            excerpt(id.get(), 100)
                        ),
                    }));
                }
            }
            match response.status.as_str() {
                "OK" => outcomes[i] = Some(DocumentOutcome::Written),
                "SKIPPED" => still_pending.push(i),
                "ERROR" => {
                    let error = response.errors_idx.and_then(|idx| reply.errors.get(idx));
                    let (code, message) = match error {
                        Some(error) => (error.code().to_owned(), self.token.redact(error.message())),
                        None => ("UNKNOWN_ERROR".to_owned(), "the Data API gave no reason".to_owned()),
                    };
                    if code == DOCUMENT_ALREADY_EXISTS {
                        outcomes[i] = Some(DocumentOutcome::AlreadyPresent);
                    } else if is_transient_code(&code) {
                        last_errors[i] = Some((code, message));
                        still_pending.push(i);
                    } else {
                        outcomes[i] = Some(DocumentOutcome::Failed { code, message });
                    }
                }
                other => {
                    return Err(AttemptFailure::Fatal(DataApiError::InvalidResponse {
                        command: "insertMany",
                        problem: format!("unknown document status '{}'", excerpt(other, 40)),
                    }))
                }
            }
        }
        Ok(still_pending)
    }

    /// One page of `find` results; pass the previous page's `next_page_state` to continue.
    pub async fn find_page(
        &self,
        collection: &str,
        query: &FindQuery,
        page_state: Option<&str>,
    ) -> Result<FindPage, DataApiError> {
        #[derive(Deserialize)]
        struct Data {
            documents: Vec<Box<RawValue>>,
            #[serde(rename = "nextPageState", default)]
            next_page_state: Option<String>,
        }
        check_name("collection", collection)?;
        let mut command = read_command(query);
        let mut options = serde_json::Map::new();
        if let Some(limit) = query.limit {
            options.insert("limit".into(), limit.into());
        }
        if let Some(skip) = query.skip {
            options.insert("skip".into(), skip.into());
        }
        if let Some(state) = page_state {
            options.insert("pageState".into(), state.into());
        }
        if !options.is_empty() {
            command.insert("options".into(), options.into());
        }
        let body = serde_json::json!({ "find": command });
        let url = join_segments(&self.keyspace_url, &[collection]);
        let reply = self.run("find", url, Some(collection), None, json_body(&body)?).await?;
        let data: Data = parse_part("find", reply.data.as_deref(), "data")?;
        Ok(FindPage {
            documents: data.documents,
            next_page_state: data.next_page_state.filter(|s| !s.is_empty()),
        })
    }

    /// Every page of a `find`, following `nextPageState` until the last; each page is
    /// fetched (with retries) when the stream is polled.
    pub fn find_pages<'a>(
        &'a self,
        collection: &'a str,
        query: FindQuery,
    ) -> impl Stream<Item = Result<FindPage, DataApiError>> + Send + 'a {
        stream::try_unfold(Some((query, None::<String>)), move |state| async move {
            let Some((query, page_state)) = state else {
                return Ok(None);
            };
            let page = self.find_page(collection, &query, page_state.as_deref()).await?;
            let next = page.next_page_state.clone().map(|state| (query, Some(state)));
            Ok(Some((page, next)))
        })
    }

    /// The first document matching `query` (its filter, sort and projection), if any.
    pub async fn find_one(&self, collection: &str, query: &FindQuery) -> Result<Option<Box<RawValue>>, DataApiError> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            document: Option<Box<RawValue>>,
        }
        check_name("collection", collection)?;
        let body = serde_json::json!({ "findOne": read_command(query) });
        let url = join_segments(&self.keyspace_url, &[collection]);
        let reply = self.run("findOne", url, Some(collection), None, json_body(&body)?).await?;
        let data: Data = parse_part("findOne", reply.data.as_deref(), "data")?;
        Ok(data.document)
    }

    /// Counts the documents matching `filter` (`None`: all); the Data API stops at 1,000.
    pub async fn count_documents(
        &self,
        collection: &str,
        filter: Option<serde_json::Value>,
    ) -> Result<DocumentCount, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            count: u64,
            #[serde(rename = "moreData", default)]
            more_data: bool,
        }
        check_name("collection", collection)?;
        let filter = filter.unwrap_or_else(|| serde_json::json!({}));
        let body = serde_json::json!({ "countDocuments": { "filter": filter } });
        let url = join_segments(&self.keyspace_url, &[collection]);
        let reply = self.run("countDocuments", url, Some(collection), None, json_body(&body)?).await?;
        let status: Status = parse_part("countDocuments", reply.status.as_deref(), "status")?;
        Ok(DocumentCount { count: status.count, more_data: status.more_data })
    }

    /// The approximate number of documents in the collection (fast, from table statistics).
    pub async fn estimated_document_count(&self, collection: &str) -> Result<u64, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            count: u64,
        }
        check_name("collection", collection)?;
        let body = serde_json::json!({ "estimatedDocumentCount": {} });
        let url = join_segments(&self.keyspace_url, &[collection]);
        let reply = self.run("estimatedDocumentCount", url, Some(collection), None, json_body(&body)?).await?;
        let status: Status = parse_part("estimatedDocumentCount", reply.status.as_deref(), "status")?;
        Ok(status.count)
    }

    /// Sends one command until it succeeds, fails for good, or the retries run out.
    /// `collection` names the addressed collection (for errors); `created` the collection a
    /// `createCollection` creates.
    async fn run(
        &self,
        command: &'static str,
        url: Url,
        collection: Option<&str>,
        created: Option<&str>,
        body: Bytes,
    ) -> Result<ApiReply, DataApiError> {
        let mut attempts = self.retry.start();
        loop {
            attempts.begin();
            let failure = match self.send_once(command, &url, body.clone()).await {
                Ok(reply) => match reply.errors.first() {
                    None => return Ok(reply),
                    Some(error) if error.code() == "EXISTING_COLLECTION_DIFFERENT_SETTINGS" => {
                        return Err(DataApiError::CollectionExistsWithOtherSettings {
                            keyspace: self.keyspace.clone(),
                            collection: created.unwrap_or_default().to_owned(),
                        })
                    }
                    Some(error) => self.classify(error, command, collection),
                },
                Err(failure) => failure,
            };
            match failure {
                AttemptFailure::Fatal(error) => return Err(error),
                AttemptFailure::Transient { reason, retry_after } => {
                    self.wait_or_give_up(command, &attempts, reason, retry_after).await?;
                }
            }
        }
    }

    /// Sleeps before the next attempt, or says the retries are used up.
    async fn wait_or_give_up(
        &self,
        command: &'static str,
        attempts: &Attempts,
        reason: String,
        retry_after: Option<Duration>,
    ) -> Result<(), DataApiError> {
        match attempts.next_delay(retry_after) {
            Some(delay) => {
                tracing::debug!(command, attempt = attempts.made(), delay_ms = delay.as_millis() as u64, %reason, "retrying Data API request");
                tokio::time::sleep(delay).await;
                Ok(())
            }
            None => {
                tracing::warn!(command, attempts = attempts.made(), %reason, "Data API request still failing; giving up");
                Err(DataApiError::RetriesExhausted {
                    command,
                    attempts: attempts.made(),
                    elapsed_ms: attempts.elapsed().as_millis(),
                    last: reason,
                })
            }
        }
    }

    /// One HTTP exchange: the parsed answer, or why it is not one.
    async fn send_once(&self, command: &'static str, url: &Url, body: Bytes) -> Result<ApiReply, AttemptFailure> {
        let size = body.len();
        let response = self
            .http
            .post(url.clone())
            .header("Token", self.token_header.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .send()
            .await
            .map_err(|e| self.transport_failure(e))?;
        let status = response.status().as_u16();
        let retry_after = retry::retry_after(response.headers());
        let bytes = response.bytes().await.map_err(|e| self.transport_failure(e))?;
        match status {
            200..=299 => serde_json::from_slice::<ApiReply>(&bytes).map_err(|e| {
                AttemptFailure::Fatal(DataApiError::InvalidResponse {
                    command,
                    problem: format!("not a Data API answer ({e}): {}", self.body_excerpt(&bytes)),
                })
            }),
            401 => Err(AttemptFailure::Fatal(DataApiError::TokenRefused)),
            403 => Err(AttemptFailure::Fatal(DataApiError::Forbidden { command, keyspace: self.keyspace.clone() })),
            413 => Err(AttemptFailure::Fatal(DataApiError::PayloadTooLarge { bytes: size })),
            415 => Err(AttemptFailure::Fatal(DataApiError::UnsupportedMediaType)),
            408 | 429 | 500 | 502 | 503 | 504 => Err(AttemptFailure::Transient {
                reason: format!("HTTP {status}: {}", self.body_excerpt(&bytes)),
                retry_after,
            }),
            _ => Err(AttemptFailure::Fatal(DataApiError::Http { command, status, body: self.body_excerpt(&bytes) })),
        }
    }

    fn transport_failure(&self, error: reqwest::Error) -> AttemptFailure {
        let reason = self.token.redact(&error_chain(&error));
        if error.is_builder() || error.is_redirect() {
            AttemptFailure::Fatal(DataApiError::Client(reason))
        } else {
            AttemptFailure::Transient { reason, retry_after: None }
        }
    }

    fn body_excerpt(&self, bytes: &[u8]) -> String {
        self.token.redact(&excerpt(&String::from_utf8_lossy(bytes), 300))
    }

    /// What a command-level error means for the request.
    fn classify(&self, error: &ApiErrorEntry, command: &'static str, collection: Option<&str>) -> AttemptFailure {
        let code = error.code();
        let fatal = match code {
            "UNAUTHENTICATED_REQUEST" | "MISSING_AUTHENTICATION_TOKEN" | "INVALID_AUTHENTICATION_TOKEN" => {
                DataApiError::TokenRefused
            }
            "UNAUTHORIZED_ACCESS" => DataApiError::Forbidden { command, keyspace: self.keyspace.clone() },
            "UNKNOWN_KEYSPACE" | "KEYSPACE_DOES_NOT_EXIST" | "NAMESPACE_DOES_NOT_EXIST" => {
                DataApiError::UnknownKeyspace { keyspace: self.keyspace.clone() }
            }
            "UNKNOWN_COLLECTION_OR_TABLE" | "COLLECTION_NOT_EXIST" | "UNKNOWN_COLLECTION" => {
                DataApiError::UnknownCollection {
                    keyspace: self.keyspace.clone(),
                    collection: collection.unwrap_or_default().to_owned(),
                }
            }
            _ if is_transient_code(code) => {
                return AttemptFailure::Transient {
                    reason: format!("{code}: {}", self.token.redact(error.message())),
                    retry_after: None,
                }
            }
            _ => DataApiError::Command {
                command,
                code: code.to_owned(),
                message: self.token.redact(error.message()),
            },
        };
        AttemptFailure::Fatal(fatal)
    }
}

fn check_name(kind: &'static str, name: &str) -> Result<(), DataApiError> {
    if is_valid_schema_name(name) {
        Ok(())
    } else {
        Err(DataApiError::InvalidName { kind, name: name.to_owned() })
    }
}

fn json_body(value: &serde_json::Value) -> Result<Bytes, DataApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| DataApiError::InvalidConfig(format!("the request could not be written: {e}")))
}

/// `filter`, `sort` and `projection` of a read command.
fn read_command(query: &FindQuery) -> serde_json::Map<String, serde_json::Value> {
    let mut command = serde_json::Map::new();
    command.insert("filter".into(), query.filter.clone().unwrap_or_else(|| serde_json::json!({})));
    if let Some(sort) = &query.sort {
        command.insert("sort".into(), sort.clone());
    }
    if let Some(projection) = &query.projection {
        command.insert("projection".into(), projection.clone());
    }
    command
}

/// Parses the `data` or `status` part of an answer.
fn parse_part<T: serde::de::DeserializeOwned>(
    command: &'static str,
    part: Option<&RawValue>,
    name: &str,
) -> Result<T, DataApiError> {
    let raw = part.ok_or_else(|| DataApiError::InvalidResponse { command, problem: format!("no {name} in the answer") })?;
    serde_json::from_str(raw.get())
        .map_err(|e| DataApiError::InvalidResponse { command, problem: format!("unreadable {name}: {e}") })
}

/// An error and its causes, one sentence.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let config = |endpoint: &str| DataApiConfig::new(endpoint, "default_keyspace", Token::new("AstraCS:secret"));
        assert!(DataApiClient::new(config("http://127.0.0.1:1")).is_ok());
        assert!(DataApiClient::new(config("https://db-region.apps.astra.datastax.com/api/json/v1/")).is_ok());
        assert!(matches!(DataApiClient::new(config("not a url")), Err(DataApiError::InvalidConfig(_))));
        let mut bad = config("http://127.0.0.1:1");
        bad.chunk_size = 101;
        assert!(matches!(DataApiClient::new(bad), Err(DataApiError::InvalidConfig(_))));
        let mut bad = config("http://127.0.0.1:1");
        bad.keyspace = "my-keyspace".into();
        assert!(matches!(DataApiClient::new(bad), Err(DataApiError::InvalidName { .. })));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = DataApiConfig::new("http://127.0.0.1:1", "default_keyspace", Token::new("AstraCS:secret-value"));
        assert!(!format!("{config:?}").contains("secret-value"));
        let client = DataApiClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("secret-value"));
    }

    fn client() -> DataApiClient {
        DataApiClient::new(DataApiConfig::new("http://127.0.0.1:1", "ks", Token::new("AstraCS:secret-value"))).unwrap()
    }

    fn pending(ids: &[&str]) -> Vec<PendingDocument> {
        ids.iter()
            .map(|id| PendingDocument {
                raw: RawValue::from_string(format!(r#"{{"_id":"{id}"}}"#)).unwrap(),
                id_key: (*id).to_owned(),
            })
            .collect()
    }

    fn reply(json: &str) -> ApiReply {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn document_responses_map_to_outcomes_by_position() {
        let client = client();
        let chunk = pending(&["a", "b", "c", "d", "e"]);
        let answer = reply(
            r#"{"status":{"documentResponses":[
                {"_id":"a","status":"OK"},
                {"_id":"b","status":"ERROR","errorsIdx":0},
                {"_id":"c","status":"ERROR","errorsIdx":1},
                {"_id":"d","status":"ERROR","errorsIdx":2},
                {"_id":"e","status":"SKIPPED"}]},
              "errors":[
                {"errorCode":"DOCUMENT_ALREADY_EXISTS","message":"exists"},
                {"errorCode":"TIMEOUT_WRITING_DATA","message":"slow"},
                {"errorCode":"SHRED_BAD_FIELD_NAME","message":"bad name AstraCS:secret-value"}]}"#,
        );
        let mut outcomes = vec![None; 5];
        let mut last_errors = vec![None; 5];
        let still = client
            .apply_insert_reply(&answer, "c", &chunk, &[0, 1, 2, 3, 4], &mut outcomes, &mut last_errors)
            .ok()
            .unwrap();
        assert_eq!(still, [2, 4]);
        assert_eq!(outcomes[0], Some(DocumentOutcome::Written));
        assert_eq!(outcomes[1], Some(DocumentOutcome::AlreadyPresent));
        assert_eq!(outcomes[2], None);
        assert_eq!(last_errors[2], Some(("TIMEOUT_WRITING_DATA".to_owned(), "slow".to_owned())));
        assert_eq!(
            outcomes[3],
            Some(DocumentOutcome::Failed {
                code: "SHRED_BAD_FIELD_NAME".into(),
                message: "bad name <redacted>".into()
            })
        );

        // The retry carries only the pending documents; one the lost attempt wrote is
        // already there, and counts once.
        let retry = reply(
            r#"{"status":{"documentResponses":[{"_id":"c","status":"ERROR","errorsIdx":0},{"_id":"e","status":"OK"}]},
              "errors":[{"errorCode":"DOCUMENT_ALREADY_EXISTS","message":"exists"}]}"#,
        );
        let still = client.apply_insert_reply(&retry, "c", &chunk, &[2, 4], &mut outcomes, &mut last_errors).ok().unwrap();
        assert!(still.is_empty());
        assert_eq!(outcomes[2], Some(DocumentOutcome::AlreadyPresent));
        assert_eq!(outcomes[4], Some(DocumentOutcome::Written));
    }

    #[test]
    fn mismatched_or_missing_responses_are_refused() {
        let client = client();
        let chunk = pending(&["a", "b"]);
        let swapped = reply(r#"{"status":{"documentResponses":[{"_id":"b","status":"OK"},{"_id":"a","status":"OK"}]}}"#);
        let short = reply(r#"{"status":{"documentResponses":[{"_id":"a","status":"OK"}]}}"#);
        for answer in [swapped, short] {
            let result = client.apply_insert_reply(&answer, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
            assert!(matches!(result, Err(AttemptFailure::Fatal(DataApiError::InvalidResponse { .. }))));
        }
        let unknown = reply(r#"{"errors":[{"errorCode":"UNKNOWN_COLLECTION_OR_TABLE","message":"no"}]}"#);
        let result = client.apply_insert_reply(&unknown, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
        assert!(matches!(
            result,
            Err(AttemptFailure::Fatal(DataApiError::UnknownCollection { ref collection, .. })) if collection == "c"
        ));
        let busy = reply(r#"{"errors":[{"errorCode":"UNAVAILABLE_DATABASE","message":"busy"}]}"#);
        let result = client.apply_insert_reply(&busy, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
        assert!(matches!(result, Err(AttemptFailure::Transient { .. })));
    }

    #[test]
    fn futures_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let client = DataApiClient::new(DataApiConfig::new("http://127.0.0.1:1", "ks", Token::new("t0k3n"))).unwrap();
        assert_send(&client.insert_many("c", Vec::new()));
        assert_send(&client.insert_chunks("c", Vec::new()));
        assert_send(&client.find_pages("c", FindQuery::default()));
        assert_send(&client.create_collection("c", &CollectionOptions::default()));
        assert_send(&client.count_documents("c", None));
    }

    #[test]
    fn urls_are_built_per_segment() {
        let config = DataApiConfig::new("http://127.0.0.1:8181/", "ks", Token::new("t0k3n"));
        let client = DataApiClient::new(config).unwrap();
        assert_eq!(client.keyspace_url.as_str(), "http://127.0.0.1:8181/api/json/v1/ks");
        assert_eq!(join_segments(&client.keyspace_url, &["c"]).as_str(), "http://127.0.0.1:8181/api/json/v1/ks/c");
    }
}
