//! The Data API's JSON, as this client writes and reads it: the options and answers callers
//! see, and the envelope and `insertMany` shapes on the wire (see `docs/data-api.md`).

use crate::{astra::DocumentOutcome, policy::Indexing};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
    /// A vector collection's `dimension` and `metric` (see `policy::VectorMapping`).
    pub vector: Option<crate::policy::VectorMapping>,
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

/// The envelope of every Data API answer.
#[derive(Debug, Deserialize)]
pub(super) struct ApiReply {
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
    #[serde(default)]
    pub status: Option<Box<RawValue>>,
    #[serde(default)]
    pub errors: Vec<ApiErrorEntry>,
}

/// One entry of an answer's `errors`.
#[derive(Debug, Deserialize)]
pub(super) struct ApiErrorEntry {
    #[serde(rename = "errorCode", default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ApiErrorEntry {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("UNKNOWN_ERROR")
    }

    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }
}

#[derive(Deserialize)]
pub(super) struct InsertManyStatus {
    #[serde(rename = "documentResponses")]
    pub document_responses: Option<Vec<DocumentResponse>>,
}

#[derive(Deserialize)]
pub(super) struct DocumentResponse {
    #[serde(rename = "_id", default)]
    pub id: Option<Box<RawValue>>,
    pub status: String,
    #[serde(rename = "errorsIdx", default)]
    pub errors_idx: Option<usize>,
}
