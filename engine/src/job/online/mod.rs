//! Online jobs: copy the collections, then follow their change streams until someone cuts
//! over, then verify and report "the target equals the source as of T".
//!
//! - Before the copy reads anything, each collection's anchor (a resume token, and the
//!   source's cluster time) is stored ([`anchors`], [`record_anchors`]): no change made during
//!   the copy is missed. Changes to documents the copy also read are replayed after it, and
//!   the replay converges: each applied change writes the document as it then is.
//! - Each collection is followed by a [`follow::Follower`]: changes go to lanes by `_id`
//!   ([`apply`]), many documents at once and each document's changes in order; the stored
//!   resume point moves only past changes that are all applied ([`store`]).
//! - The lag and the rate ([`lag`]) are stored with the resume point, so every process that
//!   reads the state directory shows them.
//! - A cutover ([`cutover`]) is recorded in the job database by whichever process is asked;
//!   the run notices it, passes the barrier on to the followers, verifies when all are past
//!   it, and ends the job.
//!
//! The facts about change streams this relies on are in `docs/change-streams.md`.

mod apply;
pub(crate) mod cutover;
mod follow;
mod lag;
pub(crate) mod store;

use self::{
    follow::{AfterBarrier, Ended, Follower, Mark, PastBarrier},
    store::OnlineStore,
};
use super::{
    control::Control,
    error::RunError,
    progress::Publisher,
    spec::{CollectionSpec, JobSpec},
    store::{JobStore, StoreError},
    verify,
};
use crate::{
    astra::{TargetSpec, Writer},
    convert::Converter,
    source::{
        changes::{anchor, source_time, ChangeError, ClusterTime, StreamPoint},
        mongo::MongoSource,
    },
    wire::{JobStatus, OnlinePhase},
};
use bson::Document;
use std::{
    cmp::Ordering,
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
};

/// How often the run looks for a cutover request and records the changes after the barrier.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// What an online job needs that a copy does not: `None` when the spec can be followed.
pub(crate) fn problem(spec: &JobSpec) -> Option<String> {
    if !matches!(spec.target, TargetSpec::DataApi { .. }) {
        return Some("an online migration writes through the Data API (the Document API cannot replace and delete by _id as sync needs): choose a Data API target, or run a copy".into());
    }
    spec.collections.iter().find(|c| c.filter.as_deref().is_some_and(|f| !f.trim().is_empty())).map(|c| {
        format!(
            "an online migration follows whole collections, but {} has a filter: a document changed so that it no longer matches would stay in the target; remove the filter, or run a copy",
            c.source
        )
    })
}

/// Takes each collection's anchor: where its change stream starts. Fails, before anything is
/// copied, when the source has no change streams or the user may not open one.
pub(crate) async fn anchors(spec: &JobSpec, source: &MongoSource) -> Result<Vec<(String, StreamPoint)>, ChangeError> {
    let mut anchors = Vec::with_capacity(spec.collections.len());
    for collection in &spec.collections {
        let handle = source.client().database(&spec.database).collection::<Document>(&collection.source);
        anchors.push((collection.source.clone(), anchor(&handle, source.uri()).await?));
    }
    Ok(anchors)
}

/// Stores a new online job's anchors, before its copy starts.
pub(crate) fn record_anchors(store: &JobStore, id: &str, anchors: &[(String, StreamPoint)]) -> Result<(), StoreError> {
    OnlineStore::open(store)?.create(id, anchors)
}

/// Forgets a deleted job's phase, cutover and resume points (none for a copy).
pub(crate) fn forget(store: &JobStore, id: &str) -> Result<(), StoreError> {
    OnlineStore::open(store)?.delete(id)
}

/// Aborts the task when dropped.
struct Background(tokio::task::JoinHandle<()>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One collection's follower, as the run keeps track of it.
struct Followed {
    spec: CollectionSpec,
    after: Arc<AfterBarrier>,
}

/// The part of a job run after the copy, for an online job.
pub(crate) struct OnlineRun<'a> {
    pub id: &'a str,
    pub spec: &'a JobSpec,
    pub publisher: &'a Arc<Publisher>,
    pub control: &'a watch::Receiver<Control>,
}

impl OnlineRun<'_> {
    /// Follows the changes until cut over, verifies, and says how the job ends.
    pub async fn run(self, source: &MongoSource, writer: &Writer) -> Result<(JobStatus, Option<String>), RunError> {
        let id = self.id;
        let online = OnlineStore::open(&self.publisher.store)?;
        let Writer::DataApi(client) = writer else {
            return Err(RunError::Spec(problem(self.spec).unwrap_or_default()));
        };
        if online.phase(id)? == OnlinePhase::Copying {
            online.settle_copy_counts(id)?;
            let next = if online.cutover(id)?.is_some() { OnlinePhase::CuttingOver } else { OnlinePhase::Following };
            online.set_phase(id, next)?;
            self.publisher.publish_progress(id);
        }

        let (now_tx, source_now) = watch::channel(None);
        let _sampler = Background(tokio::spawn(lag::sample_source_time(source.client().clone(), source.uri().clone(), now_tx)));
        let mut cutover = online.cutover(id)?;
        let (barrier_tx, barrier) = watch::channel(cutover.as_ref().map(|c| Mark { time: c.barrier, noted: Instant::now() }));
        let (drain_tx, drain_until) = watch::channel(None);
        let (reports_tx, mut reports) = mpsc::unbounded_channel::<PastBarrier>();
        let mut followers = JoinSet::new();
        let mut followed = Vec::with_capacity(self.spec.collections.len());
        for collection in &self.spec.collections {
            let converter = Converter::new(self.spec.policy, &collection.indexing).map_err(|e| RunError::Spec(e.to_string()))?;
            let after = Arc::new(AfterBarrier::default());
            followers.spawn(
                Follower {
                    job: id.to_owned(),
                    source: collection.source.clone(),
                    target: collection.target.clone(),
                    collection: source.client().database(&self.spec.database).collection(&collection.source),
                    uri: source.uri().clone(),
                    client: client.clone(),
                    converter: Arc::new(converter),
                    lanes: self.spec.in_flight.max(1),
                    online: online.clone(),
                    publisher: self.publisher.clone(),
                    control: self.control.clone(),
                    barrier: barrier.clone(),
                    drain_until: drain_until.clone(),
                    source_now: source_now.clone(),
                    after: after.clone(),
                    reports: reports_tx.clone(),
                }
                .run(),
            );
            followed.push(Followed { spec: collection.clone(), after });
        }

        // Follow until every collection is past the barrier.
        let mut past: HashMap<String, ClusterTime> = HashMap::new();
        let mut tick = tokio::time::interval(WATCH_EVERY);
        while past.len() < followed.len() {
            tokio::select! {
                Some(report) = reports.recv() => {
                    past.insert(report.collection, report.applied_to);
                }
                joined = followers.join_next() => match joined {
                    Some(Ok(Ok(Ended::Cancelled))) => return Ok((JobStatus::Cancelled, None)),
                    Some(Ok(Ok(Ended::Finished))) => {}
                    Some(Ok(Err(error))) => return Err(error),
                    Some(Err(join)) => return Err(RunError::Read(format!("following the changes crashed: {join}"))),
                    None => return Err(RunError::Read("every collection stopped being followed before the cutover".into())),
                },
                _ = tick.tick() => {
                    if cutover.is_none() {
                        cutover = online.cutover(id)?;
                        if let Some(asked) = &cutover {
                            let _ = barrier_tx.send(Some(Mark { time: asked.barrier, noted: Instant::now() }));
                            self.publisher.publish_progress(id);
                        }
                    }
                    let changes: u64 = followed.iter().map(|f| f.after.changes()).sum();
                    online.set_after_barrier(id, changes)?;
                }
            }
        }
        let Some(cutover) = cutover else {
            return Err(RunError::Read("the changes stopped being followed without a cutover".into()));
        };

        // Verify, leaving out what changed after the barrier.
        online.set_phase(id, OnlinePhase::Verifying)?;
        self.publisher.set_status(id, JobStatus::Verifying, None);
        let mut reports_by_collection = Vec::with_capacity(followed.len());
        for follower in &followed {
            let after = follower.after.clone();
            let skip = move |key: &str| after.contains(key);
            let report = verify::verify_collection_skipping(id, self.spec, &follower.spec, source, writer, self.publisher, self.control, &skip).await?;
            let Some(report) = report else { return Ok((JobStatus::Cancelled, None)) };
            reports_by_collection.push(report);
        }
        // Read the changes up to now, so that a document the verifier saw changed counts as
        // changed after the barrier.
        let end = source_time(source.client(), source.uri()).await?;
        let _ = drain_tx.send(Some(Mark { time: end, noted: Instant::now() }));
        while let Some(joined) = followers.join_next().await {
            match joined {
                Ok(Ok(Ended::Finished)) => {}
                Ok(Ok(Ended::Cancelled)) => return Ok((JobStatus::Cancelled, None)),
                Ok(Err(error)) => return Err(error),
                Err(join) => return Err(RunError::Read(format!("following the changes crashed: {join}"))),
            }
        }

        let mut failures = Vec::new();
        for (follower, mut report) in followed.iter().zip(reports_by_collection) {
            cutover::explain(&mut report, &follower.after);
            if !report.passed() {
                failures.push(format!(
                    "{}: {} of {} documents differ ({} missing, {} different)",
                    follower.spec.source,
                    report.checked - report.matching,
                    report.checked,
                    report.missing.len(),
                    report.different.len()
                ));
            }
            self.publisher.store.save_verification(id, &follower.spec.source, &report)?;
        }
        let after_barrier: u64 = followed.iter().map(|f| f.after.changes()).sum();
        online.set_after_barrier(id, after_barrier)?;
        online.set_phase(id, OnlinePhase::Complete)?;
        // The target equals the source as of the barrier, or of the newest change applied
        // when a follower applied changes just after it before it learned of the barrier.
        let as_of = past.values().fold(cutover.barrier, |newest, t| if t.cmp_time(&newest) == Ordering::Greater { *t } else { newest });
        let verified = self.spec.verify != super::spec::VerifyMode::None;
        let summary = cutover::summary(&cutover, &as_of, verified, after_barrier);
        if failures.is_empty() {
            Ok((JobStatus::Complete, Some(summary)))
        } else {
            Ok((JobStatus::Failed, Some(format!("{}. {summary}", failures.join("; ")))))
        }
    }
}
