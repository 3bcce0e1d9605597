//! Runs one job: reads each collection in parallel `_id` ranges, converts, writes through
//! the target's client, and commits a checkpoint per acknowledged batch; then checks the
//! accounting and verifies; an online job then follows the changes until cut over
//! ([`super::online`]). Channels are bounded, so memory stays flat whatever the size.

use super::{
    control::{wait_while_paused, Control},
    error::RunError,
    online::OnlineRun,
    progress::Publisher,
    reader::{Batches, RangeRead, SOURCE_TIMEOUT},
    spec::{CollectionSpec, JobMode, JobSpec, TargetSpec},
    store::{BatchCommit, DeadLetter, RangeState},
    recall,
    targets::{TargetDirectory, SANDBOX},
    verify,
};
use crate::{
    astra::{DocumentOutcome, RetryPolicy, Writer},
    convert::{canonical_extended_json, Converter},
    source::{
        mongo::{MongoSource, SourceUri},
        ranges::{decode_id, encode_id, split, IdRange},
    },
    wire::JobStatus,
};
use bson::{Bson, Document};
use std::{sync::Arc, time::Duration};
use tokio::sync::watch;

/// Ranges smaller than this are not split further.
const MIN_DOCUMENTS_PER_RANGE: u64 = 5_000;

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
        let source = MongoSource::connect(&uri, SOURCE_TIMEOUT).await?;
        let target = self.current_target().await?;
        let writer = Writer::new(&target, self.spec.chunk_size, self.spec.in_flight, RetryPolicy::default())?;
        self.publisher.track_requests(&self.id, writer.stats().clone());
        self.enter(JobStatus::Running);

        for collection in self.spec.collections.clone() {
            if self.copy_collection(&source, &writer, &collection).await? == Control::Cancel {
                return Ok((JobStatus::Cancelled, None));
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
            .map(|(name, c)| format!("{name}: {} of {} documents accounted for", c.accounted(), c.matched))
            .collect();

        self.enter(JobStatus::Verifying);
        let mut failures = Vec::new();
        for collection in &self.spec.collections {
            let Some(mut report) = verify::verify_collection(&self.id, &self.spec, collection, &source, &writer, &self.publisher, &self.control).await? else {
                return Ok((JobStatus::Cancelled, None));
            };
            if collection.vector.is_some() && self.spec.verify != super::spec::VerifyMode::None {
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

    /// Copies one collection; returns `Cancel` when the job was cancelled meanwhile.
    async fn copy_collection(&mut self, source: &MongoSource, writer: &Writer, spec: &CollectionSpec) -> Result<Control, RunError> {
        let filter = spec.filter_document().map_err(RunError::Spec)?;
        let collection = source.client().database(&self.spec.database).collection::<Document>(&spec.source);
        let mut ranges = self.publisher.store.ranges(&self.id, &spec.source)?;
        if ranges.is_empty() {
            let matched = self.publisher.store.counters(&self.id)?.into_iter().find(|(n, _)| n == &spec.source).map(|(_, c)| c.matched).unwrap_or(0);
            let bounds = split(&collection, &filter, matched, self.spec.parallel_ranges.max(1), MIN_DOCUMENTS_PER_RANGE)
                .await
                .map_err(|e| RunError::Read(source.uri().explain(&e, Duration::from_secs(10)).to_string()))?;
            let encoded: Vec<_> = bounds.iter().map(|r| (r.lower.as_ref().map(encode_id), r.upper.as_ref().map(encode_id))).collect();
            self.publisher.store.ensure_ranges(&self.id, &spec.source, &encoded)?;
            ranges = self.publisher.store.ranges(&self.id, &spec.source)?;
        }
        let converter = spec.converter(self.spec.policy).map_err(RunError::Spec)?;
        let converter = Arc::new(converter);

        let mut tasks = tokio::task::JoinSet::new();
        for range in ranges.into_iter().filter(|r| !r.done) {
            let task = RangeTask {
                job: self.id.clone(),
                spec: spec.clone(),
                filter: filter.clone(),
                batch_size: self.spec.batch_size.max(1),
                collection: collection.clone(),
                converter: converter.clone(),
                writer: writer.clone(),
                publisher: self.publisher.clone(),
                control: self.control.clone(),
                source: source.clone(),
            };
            tasks.spawn(task.run(range));
        }
        let mut outcome = Ok(Control::Run);
        while let Some(joined) = tasks.join_next().await {
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
        outcome
    }
}

/// Reads one range and writes it, batch by batch.
struct RangeTask {
    job: String,
    spec: CollectionSpec,
    filter: Document,
    batch_size: usize,
    collection: mongodb::Collection<Document>,
    converter: Arc<Converter>,
    writer: Writer,
    publisher: Arc<Publisher>,
    control: watch::Receiver<Control>,
    source: MongoSource,
}

impl RangeTask {
    async fn run(mut self, state: RangeState) -> Result<Control, RunError> {
        let decode = |bytes: &Option<Vec<u8>>| -> Result<Option<Bson>, RunError> {
            bytes.as_deref().map(decode_id).transpose().map_err(|e| RunError::Spec(format!("unreadable checkpoint: {e}")))
        };
        let range = IdRange { lower: decode(&state.lower)?, upper: decode(&state.upper)? };
        let checkpoint = decode(&state.checkpoint)?;

        let read = RangeRead { collection: self.collection.clone(), range, filter: self.filter.clone(), after: checkpoint, batch_size: self.batch_size };
        let mut batches = Batches::start(read, self.source.clone());
        while let Some(batch) = batches.next().await {
            let batch = batch?;
            if wait_while_paused(&mut self.control).await == Control::Cancel {
                return Ok(Control::Cancel);
            }
            self.write_batch(state.index, batch).await?;
        }
        self.publisher.store.finish_range(&self.job, &self.spec.source, state.index)?;
        Ok(Control::Run)
    }

    async fn write_batch(&self, range: u32, batch: Vec<Document>) -> Result<(), RunError> {
        let Some(last_id) = batch.last().and_then(|d| d.get("_id")).cloned() else { return Ok(()) };
        let mut dead_letters = Vec::new();
        let mut to_write = Vec::with_capacity(batch.len());
        let mut originals = Vec::with_capacity(batch.len());
        for document in &batch {
            match self.converter.convert(document) {
                Ok(converted) => {
                    originals.push(document);
                    to_write.push(converted);
                }
                Err(rejection) => {
                    let code = rejection.violations.first().map(|v| v.code().to_string()).unwrap_or_else(|| "REJECTED".into());
                    dead_letters.push(DeadLetter {
                        collection: self.spec.source.clone(),
                        id: rejection.id_key.clone().unwrap_or_else(|| id_text(document)),
                        code,
                        reason: rejection.to_string(),
                        document: canonical_extended_json(document),
                    });
                }
            }
        }
        let keys: Vec<String> = to_write.iter().map(|c| c.id_key().to_owned()).collect();
        let outcomes = if to_write.is_empty() { Vec::new() } else { self.writer.write(&self.spec.target, to_write).await? };
        let (mut written, mut already_present) = (0, 0);
        let mut landed = Vec::with_capacity(outcomes.len());
        for ((outcome, key), original) in outcomes.into_iter().zip(keys).zip(originals) {
            match outcome {
                DocumentOutcome::Written => {
                    written += 1;
                    landed.push(key);
                }
                DocumentOutcome::AlreadyPresent => {
                    already_present += 1;
                    landed.push(key);
                }
                DocumentOutcome::Failed { code, message } => dead_letters.push(DeadLetter {
                    collection: self.spec.source.clone(),
                    id: key,
                    reason: format!("Astra refused the document: {message}"),
                    code,
                    document: canonical_extended_json(original),
                }),
            }
        }
        let commit = BatchCommit {
            job: &self.job,
            collection: &self.spec.source,
            range,
            checkpoint: encode_id(&last_id),
            written,
            already_present,
            dead_letters: dead_letters.clone(),
        };
        self.publisher.store.commit_batch(&commit)?;
        self.publisher.record_landed(&self.job, &self.spec.source, landed, &dead_letters);
        Ok(())
    }
}

fn id_text(document: &Document) -> String {
    match document.get("_id") {
        Some(id) => id.clone().into_canonical_extjson().to_string(),
        None => "(no _id)".into(),
    }
}
