//! What a job is asked to do: the source, the collections (with filters and target names),
//! the target, the conversion policy and how hard to push. Stored as JSON in the state
//! database (server-side only: it holds the source URI and the target token).

pub use crate::astra::TargetSpec;
pub use crate::naming::target_name;
pub use crate::wire::JobMode;
use crate::{
    policy::{ConversionPolicy, Indexing, VectorMapping},
    tuning::{BATCH_SIZE, CHUNK_SIZE, IN_FLIGHT, PARALLEL_RANGES},
};
pub use crate::wire::PlanChoice;
use serde::{Deserialize, Serialize};

/// A migration job's specification.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The MongoDB connection string (password included).
    pub source_uri: String,
    pub database: String,
    pub collections: Vec<CollectionSpec>,
    /// Where the documents go. For a job with a [`JobSpec::target_id`], the copy taken when
    /// the job was created (or last ran): the run looks the target up again.
    pub target: TargetSpec,
    /// The server's id for the target (`sandbox`, or a target of the Targets page), looked
    /// up each time the job runs (see [`super::targets`]); `None` for a job the CLI was given
    /// an endpoint for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    #[serde(default)]
    pub policy: ConversionPolicy,
    /// The most `_id` ranges read in parallel per collection, when the read plan uses
    /// ranges ([`PARALLEL_RANGES`]).
    #[serde(default = "default_ranges")]
    pub parallel_ranges: usize,
    /// Documents read and written per batch, split into insertMany chunks ([`BATCH_SIZE`]).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Documents per `insertMany` ([`CHUNK_SIZE`]).
    #[serde(default = "default_chunk")]
    pub chunk_size: usize,
    /// The most write requests in flight for the job, the ceiling of its adaptive limit
    /// ([`IN_FLIGHT`]).
    #[serde(default = "default_in_flight")]
    pub in_flight: usize,
    #[serde(default)]
    pub verify: VerifyMode,
    /// How to read the source: measured and chosen (`auto`), or forced.
    #[serde(default)]
    pub read_plan: PlanChoice,
    /// The most documents a second to copy (and to read back), to stay within a production
    /// database's headroom; `None`: as fast as the source and the target allow.
    #[serde(default)]
    pub max_rate: Option<u64>,
    /// A copy, or an online job that follows the changes until cut over.
    #[serde(default)]
    pub mode: JobMode,
}

impl std::fmt::Debug for JobSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobSpec")
            .field("database", &self.database)
            .field("collections", &self.collections)
            .field("target", &self.target.describe())
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl JobSpec {
    /// A job that copies `collections` of `database` to `target`, with the default policy,
    /// tuning ([`crate::tuning`]) and full verification.
    pub fn new(source_uri: String, database: String, collections: Vec<CollectionSpec>, target: TargetSpec) -> Self {
        Self {
            source_uri,
            database,
            collections,
            target,
            target_id: None,
            policy: ConversionPolicy::default(),
            parallel_ranges: PARALLEL_RANGES.default,
            batch_size: BATCH_SIZE.default,
            chunk_size: CHUNK_SIZE.default,
            in_flight: IN_FLIGHT.default,
            verify: VerifyMode::All,
            read_plan: PlanChoice::Auto,
            max_rate: None,
            mode: JobMode::Copy,
        }
    }
}

fn default_ranges() -> usize {
    PARALLEL_RANGES.default
}
fn default_batch() -> usize {
    BATCH_SIZE.default
}
fn default_chunk() -> usize {
    CHUNK_SIZE.default
}
fn default_in_flight() -> usize {
    IN_FLIGHT.default
}

/// One collection to copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSpec {
    /// The MongoDB collection.
    pub source: String,
    /// The Astra collection; derived from `source` when not given (see [`target_name`]).
    pub target: String,
    /// A MongoDB filter as (relaxed or canonical) Extended JSON; empty means everything.
    #[serde(default)]
    pub filter: Option<String>,
    /// Paths not indexed in the target collection, which lifts the indexed-only limits on them.
    #[serde(default)]
    pub indexing: Indexing,
    /// The field that holds each document's embedding: the target becomes a vector
    /// collection and the field its `$vector` (see `docs/vectors.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorMapping>,
}

impl CollectionSpec {
    /// The converter for this collection's documents: its indexing and vector mapping, the
    /// job's policy.
    pub fn converter(&self, policy: ConversionPolicy) -> Result<crate::convert::Converter, String> {
        let converter = crate::convert::Converter::new(policy, &self.indexing).map_err(|e| e.to_string())?;
        match &self.vector {
            Some(mapping) => converter.with_vector(mapping.clone()).map_err(|e| e.to_string()),
            None => Ok(converter),
        }
    }

    /// The filter as a BSON document (empty for none), or why it can't be read.
    pub fn filter_document(&self) -> Result<bson::Document, String> {
        match self.filter.as_deref().map(str::trim) {
            None | Some("") => Ok(bson::Document::new()),
            Some(text) => crate::convert::document_from_extended_json(text)
                .map_err(|e| format!("the filter of {} is not a valid JSON object: {e}", self.source)),
        }
    }
}

/// How much of the copy verification reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMode {
    /// Every document.
    #[default]
    All,
    /// About this many documents per collection, spread over the collection.
    Sample(u64),
    /// No read-back (counts are still checked).
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongo_names_map_to_data_api_names() {
        assert_eq!(target_name("sensor-readings"), "sensor_readings");
        assert_eq!(target_name("logs.2024"), "logs_2024");
        assert_eq!(target_name("orders"), "orders");
        assert_eq!(target_name(&"x".repeat(60)).len(), 48);
        assert_eq!(target_name("é"), "_");
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let spec = JobSpec {
            source_uri: "mongodb://u:pw-secret@h".into(),
            database: "d".into(),
            collections: vec![],
            target: TargetSpec::DataApi { endpoint: "http://x".into(), keyspace: "k".into(), token: "AstraCS:tok-secret".into() },
            target_id: None,
            policy: ConversionPolicy::default(),
            parallel_ranges: 4,
            batch_size: 1,
            chunk_size: 1,
            in_flight: 1,
            verify: VerifyMode::All,
            read_plan: PlanChoice::Auto,
            max_rate: None,
            mode: JobMode::Online,
        };
        let text = format!("{spec:?}");
        assert!(!text.contains("secret"), "{text}");
    }
}
