//! What the browser sees and sends: the shapes of server-function answers and requests.
//! Compiled on both sides; none of them holds a secret (no password, no token).

use engine::{
    policy::ConversionPolicy,
    wire::{Census, TargetKind},
};
use serde::{Deserialize, Serialize};

/// A MongoDB source as the browser sees it: the password is never part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub id: String,
    pub name: String,
    /// The connection string with its password replaced by `****`.
    pub uri: String,
    /// The source given at start-up (`--source-uri`), as opposed to one added in the UI.
    pub is_default: bool,
}

/// A target as the browser sees it: no token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub id: String,
    pub name: String,
    pub kind: TargetKind,
    pub endpoint: String,
    /// The keyspace (Data API) or namespace (Document API).
    pub keyspace: String,
    /// The local astra-local sandbox that `make run` starts.
    pub is_sandbox: bool,
}

/// One collection of a migration request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionRequest {
    pub source: String,
    pub target: String,
    /// A MongoDB filter as JSON; empty for every document.
    pub filter: String,
    /// Paths to leave unindexed in the target collection (lifts the indexed-only limits).
    pub deny: Vec<String>,
    /// The field that holds the embedding: the target becomes a vector collection.
    #[serde(default)]
    pub vector: Option<engine::policy::VectorMapping>,
}

/// What the New migration form sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationRequest {
    pub source: String,
    pub database: String,
    pub collections: Vec<CollectionRequest>,
    pub target: String,
    pub policy: ConversionPolicy,
    pub parallel_ranges: usize,
    pub batch_size: usize,
    /// Who asks, as shown to everyone.
    pub who: String,
    /// Copy, then follow the source's changes until someone cuts over.
    #[serde(default)]
    pub online: bool,
}

/// What a dry run found for one collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunCollection {
    pub source: String,
    pub target: String,
    /// Why the target name can't be used, if it can't.
    pub name_problem: Option<String>,
    pub census: Census,
}

/// A refused document as the job page lists it (the full document is in the download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedView {
    pub collection: String,
    pub id: String,
    pub code: String,
    pub reason: String,
}
