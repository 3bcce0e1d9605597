//! Runs one job: each collection is read under its read plan ([`super::plan`]), converted,
//! written through the target's limiter with several batches in flight, and committed batch
//! by batch in order ([`super::copy`]); then the accounting is checked and the copy verified.
//! An online job then follows the changes until cut over ([`super::online`]). Channels and
//! the batches in flight are bounded, so memory stays flat whatever the size.

use super::{
    control::Control,
    copy::{slots, RangeCopy, Slots, Starved},
    error::RunError,
    plan::{choose, split_point, Decision, RangeSample, Replanner, PARALLEL_GAIN},
    progress::Publisher,
    reader::{Frontier, NaturalPosition, ReadOrder, ORDER_CHANGED, SOURCE_PATIENCE, SOURCE_TIMEOUT},
    online::OnlineRun,
    recall,
    spec::{CollectionSpec, JobMode, JobSpec, TargetSpec, VerifyMode},
    targets::{TargetDirectory, SANDBOX},
    store::RangeBounds,
    verify,
};
use crate::{
    astra::{Limiter, RetryPolicy, Writer},
    source::{
        mongo::{MongoSource, SourceUri},
        probe::{count, parallel_speedup},
        ranges::{decode_id, encode_id, IdRange},
    },
    wire::{JobStatus, ReadPlan, ReadPlanKind},
};
use bson::{Bson, Document};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

/// How often the target's throttling is sampled for progress reports.
const THROTTLE_EVERY: Duration = Duration::from_secs(1);

/// One run of a job, from its checkpoints to its end (or a pause that stops the process).
pub(crate) struct JobRun {
    pub id: String,
    pub spec: JobSpec,
    pub publisher: Arc<Publisher>,
    pub control: watch::Receiver<Control>,
    /// Where the server's targets are now, when this process is a server.
    pub targets: Option<Arc<dyn TargetDirectory>>,
}

impl JobRun {
    /// Runs the job to its end (or until cancelled) and records the outcome.
    pub async fn run(mut self) {
        let status = match self.copy_and_verify().await {
            // The manager recorded the cancellation, with who asked and when.
            Ok((JobStatus::Cancelled, _)) => return self.publisher.publish_progress(&self.id),
            Ok(status) => status,
            // The process is stopping: whoever stops it has recorded why (a pause), or a
            // resume finds the job interrupted.
            Err(RunError::Interrupted) => {
                tracing::info!(job = %self.id, "the run stopped with its process");
                return;
            }
            Err(err) => {
                // An outage of the target, or of an online job's source: paused, to resume.
                let outage = match &err {
                    RunError::Target(e) if e.is_transient() => Some("the target"),
                    RunError::Changes(e) if e.is_transient() => Some("the source"),
                    _ => None,
                };
                let waiting = matches!(err, RunError::TargetUnavailable(_));
                let transient = waiting || outage.is_some();
                let message = if waiting {
                    err.to_string()
                } else if let Some(which) = outage {
                    format!("{err}. The job is paused: resume it when {which} is back; it continues from its checkpoints.")
                } else {
                    err.to_string()
                };
                tracing::warn!(job = %self.id, error = %message, "job stopped");
                let status = if transient { JobStatus::Paused } else { JobStatus::Failed };
                self.publisher.set_status(&self.id, status, Some(&message));
                return;
            }
        };
        self.publisher.set_status(&self.id, status.0, status.1.as_deref());
    }

    async fn copy_and_verify(&mut self) -> Result<(JobStatus, Option<String>), RunError> {
        let uri = SourceUri::parse(&self.spec.source_uri)?;
        let source = MongoSource::connect_patient(&uri, SOURCE_TIMEOUT, SOURCE_PATIENCE).await?;
        let limiter = Limiter::new(self.spec.in_flight, self.spec.max_rate);
        let target = self.current_target().await?;
        let writer = Writer::with_limiter(&target, self.spec.chunk_size, RetryPolicy::default(), limiter.clone())?;
        self.publisher.track_requests(&self.id, writer.stats().clone());
        self.enter(JobStatus::Running);
        let _throttle = ThrottleReports::start(self.id.clone(), limiter, self.publisher.clone());
        let counts = BackgroundCounts::start(&self.id, &self.spec, &source, &self.publisher).await?;

        let slots = slots(self.spec.batch_size);
        for collection in self.spec.collections.clone() {
            if self.copy_collection(&source, &writer, &slots, &collection, counts.speedup).await? == Control::Cancel {
                return Ok((JobStatus::Cancelled, None));
            }
            // Read whole, or never counted: what was accounted for is what matched (see
            // JobManager::create). An exact count taken under a filter stays, to be checked.
            let counted = self.publisher.store.counters(&self.id)?.into_iter().any(|(n, c)| n == collection.source && c.matched.is_some());
            if collection.filter.is_none() || !counted {
                self.publisher.store.settle_matched(&self.id, &collection.source)?;
                self.publisher.publish_progress(&self.id);
            }
        }
        if self.spec.mode == JobMode::Online {
            let online = OnlineRun { id: &self.id, spec: &self.spec, publisher: &self.publisher, control: &self.control };
            return online.run(&source, &writer).await;
        }

        let counters = self.publisher.store.counters(&self.id)?;
        let unaccounted: Vec<String> = counters
            .iter()
            .filter(|(_, c)| !c.is_complete())
            .map(|(name, c)| format!("{name}: {} of {} documents accounted for", c.accounted(), c.matched.unwrap_or_default()))
            .collect();

        self.enter(JobStatus::Verifying);
        let mut failures = Vec::new();
        for collection in &self.spec.collections {
            let Some(mut report) = verify::verify_collection(&self.id, &self.spec, collection, &writer, &self.publisher, &self.control).await? else {
                return Ok((JobStatus::Cancelled, None));
            };
            if collection.vector.is_some() && self.spec.verify != VerifyMode::None {
                let set_aside = self.publisher.store.dead_letter_ids(&self.id, &collection.source)?;
                match recall::neighbour_recall(&self.spec, collection, &source, &writer, &set_aside, &self.control).await? {
                    Some(recall) => report.recall = Some(recall),
                    None => return Ok((JobStatus::Cancelled, None)),
                }
            }
            if !report.passed() {
                failures.push(format!(
                    "{}: {} of {} documents differ ({} missing, {} different)",
                    collection.source,
                    report.checked - report.matching,
                    report.checked,
                    report.missing.len(),
                    report.different.len()
                ));
            }
            self.publisher.store.save_verification(&self.id, &collection.source, &report)?;
            self.publisher.publish_progress(&self.id);
        }
        if unaccounted.is_empty() && failures.is_empty() {
            Ok((JobStatus::Complete, None))
        } else {
            let mut problems = unaccounted;
            problems.extend(failures);
            Ok((JobStatus::Failed, Some(problems.join("; "))))
        }
    }

    /// Records the phase the run enters, unless someone paused or cancelled the job since it
    /// started: their status stands (the manager sets the control before the status, so a
    /// pause that lands between this check and the write still has the last word).
    fn enter(&self, status: JobStatus) {
        if *self.control.borrow() == Control::Run {
            self.publisher.set_status(&self.id, status, None);
        }
    }

    /// The target as it is now: looked up by the job's target id where the server keeps its
    /// targets (and the job's copy refreshed), else the job's copy.
    async fn current_target(&mut self) -> Result<TargetSpec, RunError> {
        let Some(id) = self.spec.target_id.clone() else { return Ok(self.spec.target.clone()) };
        let Some(targets) = self.targets.clone() else {
            if id == SANDBOX {
                return Err(RunError::TargetUnavailable(
                    "This job writes to the local sandbox of `docshift serve`, which runs only inside the server: resume it from the server's Jobs page.".into(),
                ));
            }
            return Ok(self.spec.target.clone());
        };
        let Some(target) = targets.lookup(&id).await else {
            let what = if id == SANDBOX { "the local sandbox, which this server no longer runs (start it with --sandbox-dir)".to_owned() } else { format!("the target \"{id}\", which is no longer on the Targets page") };
            return Err(RunError::TargetUnavailable(format!(
                "The job is paused: it writes to {what}. Add the target again (under the same name) and resume the job, or cancel it."
            )));
        };
        if target != self.spec.target {
            tracing::info!(job = %self.id, target = %target.describe(), "the job's target moved or has a new token since the job last ran");
            self.spec.target = target.clone();
            let text = serde_json::to_string(&self.spec).map_err(|e| RunError::Spec(e.to_string()))?;
            self.publisher.store.update_spec(&self.id, &text)?;
        }
        Ok(target)
    }

    /// Copies one collection under its read plan; returns `Cancel` when the job was
    /// cancelled meanwhile. A natural-order read whose checkpoint no longer matches the
    /// collection starts the collection over in `_id` order (see [`super::plan`]).
    async fn copy_collection(&mut self, source: &MongoSource, writer: &Writer, slots: &Slots, spec: &CollectionSpec, speedup: Option<f64>) -> Result<Control, RunError> {
        let filter = spec.filter_document().map_err(RunError::Spec)?;
        let collection = source.client().database(&self.spec.database).collection::<Document>(&spec.source);
        let store = self.publisher.store.clone();
        if store.ranges(&self.id, &spec.source)?.is_empty() {
            let matched = store.counters(&self.id)?.into_iter().find(|(n, _)| n == &spec.source).and_then(|(_, c)| c.matched);
            let chosen = choose(&collection, &filter, matched, self.spec.read_plan, self.spec.parallel_ranges.max(1), speedup)
                .await
                .map_err(|e| RunError::Read(source.uri().explain(&e, Duration::from_secs(10)).to_string()))?;
            tracing::info!(job = %self.id, collection = %spec.source, plan = chosen.plan.kind.as_str(), reason = %chosen.plan.reason, "read plan");
            store.save_read_plan(&self.id, &spec.source, &chosen.plan)?;
            if let Some(counted) = chosen.counted {
                store.set_matched(&self.id, &spec.source, counted)?;
            }
            store.ensure_ranges(&self.id, &spec.source, &encode(&chosen.ranges))?;
            self.publisher.publish_progress(&self.id);
        }
        let converter = Arc::new(spec.converter(self.spec.policy).map_err(RunError::Spec)?);
        let template = RangeCopy {
            job: self.id.clone(),
            spec: spec.clone(),
            filter: filter.clone(),
            batch_size: self.spec.batch_size.max(1),
            collection: collection.clone(),
            converter,
            writer: writer.clone(),
            publisher: self.publisher.clone(),
            control: self.control.clone(),
            source: source.clone(),
            slots: slots.clone(),
            record: self.spec.verify != VerifyMode::None,
            starved: Arc::new(Starved::default()),
        };
        loop {
            let plan = match store.read_plan(&self.id, &spec.source)? {
                Some(plan) => plan,
                // Recorded before read plans were: ranges in _id order.
                None => ReadPlan { kind: ReadPlanKind::ParallelRanges, ranges: 0, reason: "recorded by an earlier docshift".into(), changes: Vec::new() },
            };
            if plan.kind != ReadPlanKind::NaturalOrder {
                return self.copy_ranges(plan, &collection, &filter, writer, &template).await;
            }
            let Some(range) = store.ranges(&self.id, &spec.source)?.into_iter().next() else { return Ok(Control::Run) };
            if range.done {
                return Ok(Control::Run);
            }
            let resume = range.checkpoint.as_deref().map(NaturalPosition::decode).transpose()?;
            match template.clone().run(range.index, ReadOrder::Natural { resume }, Frontier::new(None)).await {
                Err(RunError::Read(reason)) if reason == ORDER_CHANGED => {
                    let mut plan = plan;
                    plan.kind = ReadPlanKind::OrderedCursor;
                    plan.changes.push(format!("{ORDER_CHANGED}: the copy started over in _id order; what was written before counts as already present"));
                    tracing::warn!(job = %self.id, collection = %spec.source, "{ORDER_CHANGED}; starting the collection over in _id order");
                    store.restart_collection(&self.id, &spec.source, &encode(&[IdRange::whole()]), &plan)?;
                    self.publisher.publish_progress(&self.id);
                }
                other => return other,
            }
        }
    }

    /// Copies the unfinished `_id` ranges of a collection in parallel, splitting one when the
    /// writers wait for the readers (parallel ranges only).
    async fn copy_ranges(&self, mut plan: ReadPlan, collection: &mongodb::Collection<Document>, filter: &Document, writer: &Writer, template: &RangeCopy) -> Result<Control, RunError> {
        let store = &self.publisher.store;
        let source = template.spec.source.clone();
        let decode = |bytes: &Option<Vec<u8>>| -> Result<Option<Bson>, RunError> {
            bytes.as_deref().map(decode_id).transpose().map_err(|e| RunError::Spec(format!("unreadable checkpoint: {e}")))
        };
        let mut live: Vec<Live> = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        for range in store.ranges(&self.id, &source)?.into_iter().filter(|r| !r.done) {
            let (lower, upper, after) = (decode(&range.lower)?, decode(&range.upper)?, decode(&range.checkpoint)?);
            live.push(start_range(&mut tasks, template, range.index, lower, upper, after));
        }
        let splitting = plan.kind == ReadPlanKind::ParallelRanges;
        let mut replanner = Replanner::default();
        let interval = Duration::from_secs(2);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        let mut outcome = Ok(Control::Run);
        loop {
            tokio::select! {
                joined = tasks.join_next() => {
                    let Some(joined) = joined else { break };
                    match joined {
                        Ok(Ok(Control::Cancel)) => outcome = outcome.map(|_| Control::Cancel),
                        Ok(Ok(_)) => {}
                        Ok(Err(err)) => {
                            if outcome.is_ok() {
                                outcome = Err(err);
                            }
                            tasks.abort_all();
                        }
                        Err(join) if join.is_cancelled() => {}
                        Err(join) => {
                            if outcome.is_ok() {
                                outcome = Err(RunError::Read(format!("a range reader crashed: {join}")));
                            }
                            tasks.abort_all();
                        }
                    }
                }
                _ = tick.tick(), if splitting && outcome.is_ok() => {
                    let samples: Vec<RangeSample> = live.iter_mut().map(Live::sample).collect();
                    let throttle = writer.limiter().snapshot();
                    let room = !throttle.throttling && throttle.in_flight < throttle.limit;
                    match replanner.decide(&samples, interval, room, self.spec.parallel_ranges.max(1)) {
                        Decision::Keep => {}
                        Decision::Stop(why) => {
                            plan.changes.push(why);
                            store.save_read_plan(&self.id, &source, &plan)?;
                        }
                        Decision::Split { at } => {
                            let (index, lower, frontier) = (live[at].index, live[at].lower.clone(), live[at].frontier.clone());
                            let upper = frontier.lock().upper.clone();
                            let upper = match upper {
                                Some(upper) => Some(upper),
                                None => {
                                    let from = frontier.lock().position.clone().or_else(|| lower.clone());
                                    replanner.max_id(collection, filter, from).await
                                }
                            };
                            let Some(upper) = upper else {
                                replanner.split_not_made();
                                continue;
                            };
                            let mut state = frontier.lock();
                            let Some(at_id) = split_point(state.position.as_ref(), lower.as_ref(), &upper).filter(|_| !state.finished) else {
                                drop(state);
                                replanner.split_not_made();
                                continue;
                            };
                            let old_upper = state.upper.replace(at_id.clone());
                            plan.ranges += 1;
                            plan.changes.push(format!("range {index} split in two: the writers were waiting for documents ({} ranges)", plan.ranges));
                            let new_index = match store.split_range(&self.id, &source, index, &encode_id(&at_id), &plan) {
                                Ok(new_index) => new_index,
                                Err(err) => {
                                    state.upper = old_upper;
                                    return Err(err.into());
                                }
                            };
                            drop(state);
                            tracing::info!(job = %self.id, collection = %source, range = index, new_range = new_index, "range split: the readers were the bottleneck");
                            live.push(start_range(&mut tasks, template, new_index, Some(at_id.clone()), old_upper, None));
                            self.publisher.publish_progress(&self.id);
                        }
                    }
                }
            }
        }
        outcome
    }
}

/// A range being copied, as the replanner follows it.
struct Live {
    index: u32,
    lower: Option<Bson>,
    frontier: Arc<Frontier>,
    starved: Arc<Starved>,
    /// Microseconds starved at the last sample.
    seen: u64,
}

impl Live {
    fn sample(&mut self) -> RangeSample {
        let now = self.starved.micros();
        let sample = RangeSample { frontier: self.frontier.clone(), starved: Duration::from_micros(now.saturating_sub(self.seen)) };
        self.seen = now;
        sample
    }
}

/// Starts copying range `index` (`[lower, upper)`, after `after`) as a task of `tasks`.
fn start_range(
    tasks: &mut tokio::task::JoinSet<Result<Control, RunError>>,
    template: &RangeCopy,
    index: u32,
    lower: Option<Bson>,
    upper: Option<Bson>,
    after: Option<Bson>,
) -> Live {
    // A resumed range stands at its checkpoint before its reader takes a document: a split
    // made before then falls after it, or it would copy and count documents a second time.
    let frontier = Frontier::resumed(upper.clone(), after.clone());
    let starved = Arc::new(Starved::default());
    let copy = RangeCopy { starved: starved.clone(), ..template.clone() };
    tasks.spawn(copy.run(index, ReadOrder::ById { range: Box::new(IdRange { lower: lower.clone(), upper }), after }, frontier.clone()));
    Live { index, lower, frontier, starved, seen: 0 }
}

/// Samples the target's limiter every [`THROTTLE_EVERY`] for the job's progress, and keeps
/// the last sample in the store for later reports; stops (with a last sample) when dropped.
struct ThrottleReports {
    task: tokio::task::JoinHandle<()>,
    job: String,
    limiter: Arc<Limiter>,
    publisher: Arc<Publisher>,
}

impl ThrottleReports {
    fn start(job: String, limiter: Arc<Limiter>, publisher: Arc<Publisher>) -> Self {
        let (id, sampled, published) = (job.clone(), limiter.clone(), publisher.clone());
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(THROTTLE_EVERY);
            loop {
                tick.tick().await;
                let throttle = sampled.snapshot();
                let changed = published.set_throttle(&id, throttle.clone());
                if changed || throttle.throttling {
                    published.publish_progress(&id);
                }
            }
        });
        Self { task, job, limiter, publisher }
    }
}

/// Counts, beside the copy, the collections the job started without a count (the server
/// could not give one within `COUNT_BUDGET`), so that the progress gets its total and its
/// ETA while the copy runs, and the job never waits for a count to start. The count that
/// lands first stands ([`super::store::JobStore::set_matched`]): this one, the read plan's,
/// or the copy's own once it has read the collection. Stopped with the run.
///
/// Not on a server that reads one query at a time (parallel lookups gain nothing, measured
/// as the read plan measures it): there a count that can't come from metadata is a read of
/// the collection of its own, and the copy's reads wait behind it (SecantusDB: a count of
/// 100,000 documents took 1.2-1.8 s, and a `find` sent just after it answered its first batch
/// 0.8-1.2 s later than alone). The copy's own count then gives the total as it ends. The
/// speedup measured for this is handed to the read plan, which would measure it otherwise.
struct BackgroundCounts {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The server's parallel lookups against sequential ones, where measured.
    speedup: Option<f64>,
}

impl BackgroundCounts {
    async fn start(job: &str, spec: &JobSpec, source: &MongoSource, publisher: &Arc<Publisher>) -> Result<Self, RunError> {
        let counters = publisher.store.counters(job)?;
        let uncounted: Vec<&CollectionSpec> =
            spec.collections.iter().filter(|c| !counters.iter().any(|(name, k)| name == &c.source && k.matched.is_some())).collect();
        let mut tasks = Vec::new();
        let Some(first) = uncounted.first() else { return Ok(Self { tasks, speedup: None }) };
        let database = source.client().database(&spec.database);
        let speedup = match parallel_speedup(&database.collection::<Document>(&first.source)).await {
            Ok(speedup) if speedup < PARALLEL_GAIN => {
                tracing::info!(job, speedup, "not counting beside the copy: the source reads one query at a time, so a count would hold the copy up; the copy counts as it reads");
                return Ok(Self { tasks, speedup: Some(speedup) });
            }
            Ok(speedup) => Some(speedup),
            Err(e) => {
                tracing::info!(job, reason = %source.uri().explain(&e, SOURCE_TIMEOUT), "could not measure the source's parallel reads; counting beside the copy");
                None
            }
        };
        for collection in uncounted {
            let filter = collection.filter.is_some().then(|| collection.filter_document()).transpose().map_err(RunError::Spec)?;
            let documents = database.collection::<Document>(&collection.source);
            let (job, name, publisher, uri) = (job.to_owned(), collection.source.clone(), publisher.clone(), source.uri().clone());
            tasks.push(tokio::spawn(async move {
                match count(&documents, filter, None).await {
                    Ok(count) => match publisher.store.set_matched(&job, &name, count) {
                        Ok(()) => publisher.publish_progress(&job),
                        Err(e) => tracing::warn!(job = %job, collection = %name, error = %e, "the background count could not be recorded"),
                    },
                    Err(e) => {
                        let reason = uri.explain(&e, SOURCE_TIMEOUT);
                        tracing::info!(job = %job, collection = %name, %reason, "the background count failed; the copy counts as it reads");
                    }
                }
            }));
        }
        Ok(Self { tasks, speedup })
    }
}

impl Drop for BackgroundCounts {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

impl Drop for ThrottleReports {
    fn drop(&mut self) {
        self.task.abort();
        let mut last = self.limiter.snapshot();
        last.in_flight = 0;
        last.throttling = false;
        self.publisher.set_throttle(&self.job, last);
    }
}

/// Ranges as the store keeps them.
fn encode(ranges: &[IdRange]) -> Vec<RangeBounds> {
    ranges.iter().map(|r| (r.lower.as_ref().map(encode_id), r.upper.as_ref().map(encode_id))).collect()
}
