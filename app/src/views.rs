//! What the browser sees and sends: the shapes of server-function answers and requests.
//! Compiled on both sides; none of them holds a secret (no password, no token).

use engine::{
    policy::{ConversionPolicy, VectorMapping},
    wire::{Census, JobProgress, TargetKind, TimelineEntry},
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
    pub vector: Option<VectorMapping>,
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
    /// Whether the target collection exists already, and what it holds.
    pub existing: TargetCollectionState,
    /// The filter and unindexed paths that apply, as given.
    pub filter: String,
    pub deny: Vec<String>,
    /// The embedding field that goes into `$vector`, if one is mapped.
    #[serde(default)]
    pub vector: Option<VectorMapping>,
}

/// What a target collection holds before a job writes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetCollectionState {
    /// It does not exist: the job creates it.
    New,
    /// It exists and holds this many documents (`exact` false: the target's estimate).
    Exists { documents: u64, exact: bool },
    /// The target does not say (the Document API makes collections on the first write).
    Unknown,
}

/// What a dry run found: per collection, and for the whole job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunReport {
    pub collections: Vec<DryRunCollection>,
    /// The target's collections against what the database allows.
    pub budget: Option<CollectionBudget>,
    /// The settings the job would run with (bounded as the server bounds them).
    pub settings: JobSettings,
    /// The target, as people read it.
    pub target: String,
}

/// How many collections the target database holds, would hold after the job, and may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionBudget {
    /// Collections in the target keyspace now.
    pub existing: usize,
    /// Collections the job would create.
    pub created: usize,
    /// Collections the database may hold (Astra: about 10; astra-local's cap).
    pub limit: usize,
}

impl CollectionBudget {
    pub fn after(&self) -> usize {
        self.existing + self.created
    }

    /// Whether the job would take the database past its limit.
    pub fn exceeded(&self) -> bool {
        self.after() > self.limit
    }
}

/// The collections a target holds, for the New migration form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetListing {
    /// Names and what each holds; `None` when the target does not list them (Document API).
    pub collections: Option<Vec<(String, TargetCollectionState)>>,
    /// Collections the database may hold.
    pub limit: usize,
}

/// One collection of a job, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSettings {
    pub source: String,
    pub target: String,
    pub filter: Option<String>,
    pub deny: Vec<String>,
    /// The embedding field that goes into `$vector`, if one is mapped.
    #[serde(default)]
    pub vector: Option<VectorMapping>,
}

/// The settings a job runs with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSettings {
    pub collections: Vec<CollectionSettings>,
    pub policy: ConversionPolicy,
    pub parallel_ranges: usize,
    pub batch_size: usize,
    /// Documents per insertMany, and requests in flight per range.
    pub chunk_size: usize,
    pub in_flight: usize,
    /// What verification reads back, in words.
    pub verify: String,
}

/// Everything the job page shows beyond the live progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub progress: JobProgress,
    pub settings: JobSettings,
    pub timeline: Vec<TimelineEntry>,
    /// The source, redacted.
    pub source: String,
    /// The New migration form's request for the same job, when its source and target are
    /// still known here ("New job with the same settings").
    pub request: Option<MigrationRequest>,
}

/// A refused document as the job page lists it (the full document is in the download).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefusedView {
    pub collection: String,
    /// The `_id`, as readable Extended JSON.
    pub id: String,
    pub code: String,
    /// Why, without repeating the `_id`.
    pub reason: String,
}

/// What the form to change a target sends: an empty token keeps the stored one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetEdit {
    pub id: String,
    pub name: String,
    pub endpoint: String,
    pub keyspace: String,
    pub token: String,
}
