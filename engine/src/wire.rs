//! The types both ends share: the messages the server pushes to browsers over the
//! websocket, the summaries the browse pages show, the kind of an Astra target, how a
//! count is written, and an online job's sync (`online`).
//! Shared by the server (which serializes them) and the WASM front end (which reads them).

use crate::policy::{VectorMapping, MAX_VECTOR_DIMENSION};
use serde::{Deserialize, Serialize};
use std::fmt;

mod online;
pub use online::{ChangeCounters, Cutover, JobMode, OnlinePhase, OnlineProgress};

/// Which Astra API a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// The Data API of current Astra databases (and of astra-local).
    DataApi,
    /// The Stargate Document API v2 (deprecated on Astra).
    DocumentApi,
}

impl TargetKind {
    /// Every kind, in the order the UI and the CLI offer them.
    pub const ALL: [TargetKind; 2] = [TargetKind::DataApi, TargetKind::DocumentApi];

    /// Its name in stored targets, forms and on the command line: `data-api`, `document-api`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::DataApi => "data-api",
            TargetKind::DocumentApi => "document-api",
        }
    }

    /// The kind named `text` (see [`TargetKind::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Its name for people: `Data API`, `Document API v2`.
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::DataApi => "Data API",
            TargetKind::DocumentApi => "Document API v2",
        }
    }

    /// What it is, in a sentence's words.
    pub fn description(self) -> &'static str {
        match self {
            TargetKind::DataApi => "The Data API of current Astra databases.",
            TargetKind::DocumentApi => "The Stargate Document API v2 (deprecated on Astra).",
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One frame on the `/ws` socket, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Job progress is most of the frames; each is built once and serialized, so its size costs
// nothing that boxing would save (and a box would change every match in app and server).
#[allow(clippy::large_enum_variant)]
pub enum ServerEvent {
    /// How many browsers are connected right now.
    Presence { watching: usize },
    /// A job's state and counters: sent on every change and as the snapshot for newcomers.
    Job(JobProgress),
    /// Documents just accounted for (written or already present), by source `_id` key.
    Landed { job: String, collection: String, ids: Vec<String> },
    /// A document set aside, with the reason.
    Refused { job: String, collection: String, id: String, code: String, reason: String },
    /// A job that ended was deleted: it is no longer listed.
    JobDeleted { id: String },
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Created, or interrupted by a restart: the runner picks it up.
    Pending,
    Running,
    Paused,
    Verifying,
    /// Every document accounted for and verification passed.
    Complete,
    /// The accounting or the verification found a problem, or the job could not go on.
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Paused => "paused",
            JobStatus::Verifying => "verifying",
            JobStatus::Complete => "complete",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => JobStatus::Pending,
            "running" => JobStatus::Running,
            "paused" => JobStatus::Paused,
            "verifying" => JobStatus::Verifying,
            "complete" => JobStatus::Complete,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            _ => return None,
        })
    }

    /// Whether the job will not move again by itself.
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Complete | JobStatus::Failed | JobStatus::Cancelled)
    }
}

/// Per-collection counters. `written + already_present + dead_lettered` is how many of the
/// `matched` source documents are accounted for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// The source documents the job is to copy: the server's count or estimate when the job
    /// was created, what the copy read once it has read the collection whole. `None` until
    /// then where the server could not count quickly (a count that is a scan of its own).
    pub matched: Option<u64>,
    pub written: u64,
    pub already_present: u64,
    pub dead_lettered: u64,
}

impl Counters {
    pub fn accounted(&self) -> u64 {
        self.written + self.already_present + self.dead_lettered
    }

    pub fn is_complete(&self) -> bool {
        self.matched == Some(self.accounted())
    }

    /// Source documents not yet accounted for, where the total is known.
    pub fn left(&self) -> Option<u64> {
        self.matched.map(|m| m.saturating_sub(self.accounted()))
    }
}

/// One collection of a job as progress reports show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionProgress {
    pub source: String,
    pub target: String,
    pub counters: Counters,
    /// Documents accounted for per second, over the last few seconds.
    pub rate: f64,
    /// The verification's verdict, once it has run.
    pub verification: Option<Verification>,
    /// Requests to the target tried again after a transient failure, by the process that
    /// runs the job, since it started the job.
    #[serde(default)]
    pub retries: u64,
    /// Of those, the ones the target throttled (HTTP 429).
    #[serde(default)]
    pub throttled: u64,
    /// How the source is read, and why; `None` until the copy of the collection starts.
    #[serde(default)]
    pub plan: Option<ReadPlan>,
}

/// How a job reads a collection from MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPlanKind {
    /// `_id` ranges read in parallel, each sorted by `_id`, split while the job runs.
    ParallelRanges,
    /// One cursor sorted by `_id`.
    OrderedCursor,
    /// One plain cursor in the server's natural order (no sort, no `_id` condition).
    NaturalOrder,
}

impl ReadPlanKind {
    /// Every plan, in the order the UI and the CLI offer them.
    pub const ALL: [ReadPlanKind; 3] = [ReadPlanKind::ParallelRanges, ReadPlanKind::OrderedCursor, ReadPlanKind::NaturalOrder];

    /// Its name on the command line and in forms: `ranges`, `ordered`, `natural`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadPlanKind::ParallelRanges => "ranges",
            ReadPlanKind::OrderedCursor => "ordered",
            ReadPlanKind::NaturalOrder => "natural",
        }
    }

    /// What it is, in words.
    pub fn label(self) -> &'static str {
        match self {
            ReadPlanKind::ParallelRanges => "parallel _id ranges",
            ReadPlanKind::OrderedCursor => "one _id-ordered cursor",
            ReadPlanKind::NaturalOrder => "one plain cursor in natural order",
        }
    }
}

/// Which read plan a job asks for: measured (`auto`, the default) or one forced. Written as
/// its name: `auto`, `ranges`, `ordered`, `natural`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PlanChoice {
    /// Probe the source and choose.
    #[default]
    Auto,
    Forced(ReadPlanKind),
}

impl PlanChoice {
    /// `auto`, or a plan's name ([`ReadPlanKind::as_str`]).
    pub fn parse(text: &str) -> Option<Self> {
        if text == "auto" {
            return Some(PlanChoice::Auto);
        }
        ReadPlanKind::ALL.into_iter().find(|kind| kind.as_str() == text).map(PlanChoice::Forced)
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanChoice::Auto => "auto",
            PlanChoice::Forced(kind) => kind.as_str(),
        }
    }
}

impl From<PlanChoice> for String {
    fn from(choice: PlanChoice) -> Self {
        choice.as_str().to_owned()
    }
}

impl TryFrom<String> for PlanChoice {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        PlanChoice::parse(&text).ok_or_else(|| format!("unknown read plan {text:?}: expected auto, ranges, ordered or natural"))
    }
}

/// The read plan of one collection, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadPlan {
    pub kind: ReadPlanKind,
    /// `_id` ranges now (1 for a single cursor).
    pub ranges: u32,
    /// Why this plan, with the measurements it rests on.
    pub reason: String,
    /// What changed while the job ran (ranges split, a fallback), oldest first.
    #[serde(default)]
    pub changes: Vec<String>,
}

/// How the target answers a job's requests, as docshift's limiter sees it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Throttle {
    /// Requests a second the target accepted, over the last few seconds.
    pub accepted_per_second: f64,
    /// Requests on their way now.
    pub in_flight: u32,
    /// The adaptive limit of requests in flight.
    pub limit: u32,
    /// The request rate docshift holds to since the target answered 429; `None`: none.
    pub rate_cap: Option<f64>,
    /// Whether the target answered 429 within the last few seconds.
    pub throttling: bool,
    /// Requests sent so far (throttled ones and retries included).
    pub requests: u64,
    /// Of those, answered 429.
    pub throttled: u64,
}

impl Throttle {
    /// The CLI's and the job page's line while the target throttles.
    pub fn line(&self) -> String {
        format!(
            "Astra is throttling: {:.0} req/s accepted, {} in flight",
            self.accepted_per_second, self.in_flight
        )
    }

    /// The share of requests answered 429, in percent.
    pub fn throttled_percent(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.throttled as f64 * 100.0 / self.requests as f64
        }
    }
}

/// What verification found for one collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Source documents compared with the target.
    pub checked: u64,
    /// Of those, identical in the target.
    pub matching: u64,
    /// `_id` keys missing from the target (the first 100).
    pub missing: Vec<String>,
    /// `_id` keys whose content differs in the target (the first 100).
    pub different: Vec<String>,
    /// For a vector collection: how well Astra's nearest neighbours match the exact ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<NeighbourRecall>,
}

/// Recall@k of a vector collection after the copy: for each sampled document, its vector is
/// the query, the exact top k from the source vectors is compared with Astra's top k
/// (`sort: {"$vector": …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighbourRecall {
    /// Documents whose vector was a query.
    pub queries: u64,
    /// Neighbours asked for per query.
    pub k: u64,
    /// Of the `queries × k` exact neighbours (fewer when the collection is small), how many
    /// Astra returned.
    pub found: u64,
    /// The exact neighbours there were to find.
    pub expected: u64,
}

impl NeighbourRecall {
    /// recall@k: the share of exact neighbours Astra found (1 when there was nothing to find).
    pub fn recall(&self) -> f64 {
        if self.expected == 0 {
            1.0
        } else {
            self.found as f64 / self.expected as f64
        }
    }
}

impl Verification {
    pub fn passed(&self) -> bool {
        self.checked == self.matching
    }
}

/// A job, as every browser and the CLI see it. Holds no secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    pub id: String,
    pub status: JobStatus,
    pub database: String,
    /// Where the documents go, e.g. `data-api http://127.0.0.1:8181 default_keyspace`.
    pub target: String,
    pub collections: Vec<CollectionProgress>,
    /// Why the job failed or stopped, or who paused it.
    pub message: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// When it first started copying.
    #[serde(default)]
    pub started_at_ms: Option<i64>,
    /// When it ended (complete, failed or cancelled).
    #[serde(default)]
    pub finished_at_ms: Option<i64>,
    /// Milliseconds spent copying, up to its last change of status.
    #[serde(default)]
    pub running_ms: u64,
    /// Milliseconds spent verifying, up to its last change of status.
    #[serde(default)]
    pub verifying_ms: u64,
    /// How the target has been answering (the latest of the running process, or the last
    /// recorded); `None` before the first write.
    #[serde(default)]
    pub throttle: Option<Throttle>,
    /// The documents-per-second ceiling the job was given, if any.
    #[serde(default)]
    pub max_rate: Option<u64>,
    /// An online job's sync (phase, lag, changes applied, cutover); `None` for a copy.
    #[serde(default)]
    pub online: Option<OnlineProgress>,
}

impl JobProgress {
    pub fn totals(&self) -> Counters {
        let none = Counters { matched: Some(0), ..Counters::default() };
        self.collections.iter().fold(none, |t, c| Counters {
            matched: t.matched.zip(c.counters.matched).map(|(a, b)| a + b),
            written: t.written + c.counters.written,
            already_present: t.already_present + c.counters.already_present,
            dead_lettered: t.dead_lettered + c.counters.dead_lettered,
        })
    }

    /// Its status as a list shows it: `complete, 6 refused` when documents were refused.
    pub fn status_label(&self) -> String {
        let refused = self.totals().dead_lettered;
        if refused > 0 && self.status.is_final() {
            format!("{}, {} refused", self.status.as_str(), thousands(refused))
        } else {
            self.status.as_str().to_owned()
        }
    }

    /// Documents accounted for per second of copying, on average (`None` before any copying).
    pub fn average_rate(&self) -> Option<f64> {
        (self.running_ms > 0).then(|| self.totals().accounted() as f64 * 1_000.0 / self.running_ms as f64)
    }

    /// From its first start to its end (or its last change, while it is not over).
    pub fn elapsed_ms(&self) -> Option<u64> {
        let start = self.started_at_ms?;
        let end = self.finished_at_ms.unwrap_or(self.updated_at_ms);
        u64::try_from(end - start).ok()
    }

    /// What a finished job did, in one sentence: `Completed in 2.1 s, 5,700 docs/s on
    /// average — 2,994 written, 6 refused, verified.` `None` while it is not over.
    pub fn summary(&self) -> Option<String> {
        if !self.status.is_final() {
            return None;
        }
        let totals = self.totals();
        let verb = match self.status {
            JobStatus::Complete => "Completed",
            JobStatus::Failed => "Failed",
            _ => "Cancelled",
        };
        let mut sentence = match self.elapsed_ms() {
            Some(elapsed) if self.status == JobStatus::Complete => format!("{verb} in {}", human_duration(elapsed)),
            Some(elapsed) => format!("{verb} after {}", human_duration(elapsed)),
            None => verb.to_owned(),
        };
        if let Some(rate) = self.average_rate().filter(|_| totals.accounted() > 0) {
            sentence.push_str(&format!(", {} docs/s on average", thousands(rate.round() as u64)));
        }
        let paused = self.elapsed_ms().map(|e| e.saturating_sub(self.running_ms + self.verifying_ms)).unwrap_or(0);
        if paused >= 1_000 {
            sentence.push_str(&format!(" (paused for {})", human_duration(paused)));
        }
        let mut parts = vec![format!("{} written", thousands(totals.written))];
        if totals.already_present > 0 {
            parts.push(format!("{} already present", thousands(totals.already_present)));
        }
        parts.push(format!("{} refused", thousands(totals.dead_lettered)));
        let verifications: Vec<&Verification> = self.collections.iter().filter_map(|c| c.verification.as_ref()).collect();
        if !verifications.is_empty() && verifications.len() == self.collections.len() {
            parts.push(if verifications.iter().all(|v| v.passed()) { "verified".into() } else { "verification found differences".into() });
        } else if self.status == JobStatus::Complete {
            parts.push("verified".into());
        } else {
            parts.push("not verified".into());
        }
        Some(format!("{sentence} — {}.", parts.join(", ")))
    }
}

/// An entry of a job's timeline: what happened, when, and who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// `created`, `running`, `paused`, `resumed`, `verifying`, `verified`,
    /// `verification_failed`, `complete`, `failed`, `cancelled`.
    pub kind: String,
    /// The name of whoever did it, when someone did.
    pub who: Option<String>,
    /// Why (a failure, an outage) or what was found (a verification).
    pub detail: Option<String>,
}

/// A length of time as people read it: `850 ms`, `2.1 s`, `3 min 05 s`, `2 h 10 min`.
pub fn human_duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1_000.0),
        60_000..=3_599_999 => format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1_000),
        _ => format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A database as the browse pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    pub name: String,
    pub size_on_disk: u64,
    pub collections: u64,
}

/// A collection as the browse pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSummary {
    pub name: String,
    /// From collection metadata: fast, may lag behind the truth.
    pub estimated_count: u64,
}

/// What a collection's documents would meet in Astra, found before any copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    /// Documents read for this census.
    pub scanned: u64,
    /// Documents in the collection (estimated); more than `scanned` when the census stopped early.
    pub total: u64,
    /// Documents that convert as they are with the default, strict policies.
    pub convertible: u64,
    /// Reasons documents would be refused or need a policy, most frequent first.
    pub reasons: Vec<CensusReason>,
    /// Paths whose values exceed limits that apply to indexed paths only: listing them in
    /// the target collection's `indexing.deny` lets those documents in.
    pub suggested_deny: Vec<String>,
    /// Of the refused documents, how many the suggested deny list alone would let in.
    pub fixed_by_deny: u64,
    /// Fields that look like embeddings, most widespread first: arrays of at least 16
    /// numbers, and BSON binary vectors (subtype 9).
    #[serde(default)]
    pub vector_candidates: Vec<VectorCandidate>,
}

impl Census {
    /// The vector mapping the census suggests: the most widespread candidate that every
    /// scanned document has, always with the same dimension, and a dimension Astra accepts.
    /// Cosine, the field moved into `$vector`, invalid vectors dead-lettered; the user confirms.
    pub fn proposed_vector_mapping(&self) -> Option<VectorMapping> {
        self.vector_candidates
            .iter()
            .find(|c| c.documents == self.scanned && c.same_dimension && (1..=MAX_VECTOR_DIMENSION).contains(&c.dimension))
            .map(|c| VectorMapping::new(c.field.clone(), c.dimension))
    }
}

/// A field that may hold each document's embedding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorCandidate {
    /// Its path, in the Data API's escaping (`meta.embedding`; a literal dot is `&.`).
    pub field: String,
    /// The number of elements, the most common one if they differ.
    pub dimension: usize,
    /// Scanned documents that hold a vector there.
    pub documents: u64,
    /// Whether every one of them had `dimension` elements.
    pub same_dimension: bool,
    /// How the vectors are stored in MongoDB.
    pub source: VectorSource,
}

/// How a candidate's vectors are stored in MongoDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorSource {
    /// Arrays of numbers.
    Array,
    /// BSON binary vectors of float32.
    Float32,
    /// BSON binary vectors of int8.
    Int8,
    /// BSON binary vectors of packed bits.
    PackedBit,
    /// Several of the above in different documents.
    Mixed,
}

/// One reason of a census, with a document that shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CensusReason {
    /// Short and readable: "field name starting with $", "nested too deep", ...
    pub reason: String,
    /// The Data API error code the document would get.
    pub code: String,
    pub documents: u64,
    /// The `_id` of one such document, as a stable string.
    pub example_id: String,
    /// Where in that document.
    pub example_path: String,
}

/// A count as both ends write it, with a comma between thousands: `50,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn finished(status: JobStatus, written: u64, refused: u64) -> JobProgress {
        let counters = Counters { matched: Some(written + refused), written, already_present: 0, dead_lettered: refused };
        JobProgress {
            id: "j".into(),
            status,
            database: "d".into(),
            target: "t".into(),
            collections: vec![CollectionProgress {
                source: "events".into(),
                target: "events".into(),
                counters,
                rate: 0.0,
                verification: Some(Verification { checked: written, matching: written, missing: vec![], different: vec![], recall: None }),
                retries: 0,
                throttled: 0,
                plan: None,
            }],
            message: None,
            created_at_ms: 0,
            updated_at_ms: 2_400,
            started_at_ms: Some(300),
            finished_at_ms: Some(2_400),
            running_ms: 1_500,
            verifying_ms: 600,
            throttle: None,
            max_rate: None,
            online: None,
        }
    }

    #[test]
    fn a_finished_job_sums_itself_up() {
        let job = finished(JobStatus::Complete, 2_994, 6);
        assert_eq!(job.summary().unwrap(), "Completed in 2.1 s, 2,000 docs/s on average — 2,994 written, 6 refused, verified.");
        assert_eq!(job.status_label(), "complete, 6 refused");
        assert_eq!(finished(JobStatus::Complete, 10, 0).status_label(), "complete");
        let running = JobProgress { status: JobStatus::Running, ..finished(JobStatus::Running, 5, 1) };
        assert_eq!((running.summary(), running.status_label()), (None, "running".to_owned()));
        let cancelled = finished(JobStatus::Cancelled, 10, 0);
        assert!(cancelled.summary().unwrap().starts_with("Cancelled after 2.1 s"), "{:?}", cancelled.summary());
        let nothing = JobProgress { collections: vec![], ..finished(JobStatus::Cancelled, 0, 0) };
        assert_eq!(nothing.summary().unwrap(), "Cancelled after 2.1 s — 0 written, 0 refused, not verified.");
        let old = JobProgress { started_at_ms: None, running_ms: 0, ..finished(JobStatus::Complete, 3, 0) };
        assert_eq!(old.summary().unwrap(), "Completed — 3 written, 0 refused, verified.");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(2_100), "2.1 s");
        assert_eq!(human_duration(185_000), "3 min 05 s");
        assert_eq!(human_duration(7_800_000), "2 h 10 min");
    }

    #[test]
    fn plan_choices_parse_by_name() {
        assert_eq!(PlanChoice::parse("auto"), Some(PlanChoice::Auto));
        for kind in [ReadPlanKind::ParallelRanges, ReadPlanKind::OrderedCursor, ReadPlanKind::NaturalOrder] {
            assert_eq!(PlanChoice::parse(kind.as_str()), Some(PlanChoice::Forced(kind)));
        }
        assert_eq!(PlanChoice::parse("fast"), None);
        let json = serde_json::to_string(&PlanChoice::Forced(ReadPlanKind::NaturalOrder)).unwrap();
        assert_eq!(json, "\"natural\"");
        assert_eq!(serde_json::from_str::<PlanChoice>(&json).unwrap(), PlanChoice::Forced(ReadPlanKind::NaturalOrder));
    }

    #[test]
    fn progress_without_the_newer_fields_still_reads() {
        let json = r#"{"id":"j","status":"running","database":"d","target":"t","collections":[
            {"source":"a","target":"a","counters":{"matched":1,"written":0,"already_present":0,"dead_lettered":0},"rate":0.0,"verification":null}],
            "message":null,"created_at_ms":0,"updated_at_ms":0}"#;
        let progress: JobProgress = serde_json::from_str(json).unwrap();
        assert_eq!((progress.throttle, progress.collections[0].plan.clone()), (None, None));
    }

    #[test]
    fn a_target_kind_has_one_name_in_json_forms_and_flags() {
        for kind in TargetKind::ALL {
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
            assert_eq!(TargetKind::parse(&kind.to_string()), Some(kind));
        }
        assert_eq!(TargetKind::parse("rest"), None);
    }
}
