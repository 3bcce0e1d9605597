//! Runs one job: reads each collection in parallel `_id` ranges, converts, writes through
//! the target's client, and commits a checkpoint per acknowledged batch; then checks the
//! accounting and verifies. Channels are bounded, so memory stays flat whatever the size.

use super::{
    manager::Shared,
    spec::{CollectionSpec, JobSpec},
    store::{BatchCommit, DeadLetter, RangeState},
    verify,
    writer::{TargetError, Writer},
};
use crate::{
    convert::{canonical_extended_json, document_from_extended_json, Converter},
    source::{
        mongo::{MongoSource, SourceError, SourceUri},
        ranges::{decode_id, encode_id, split, IdRange},
    },
    target::{DocumentOutcome, RetryPolicy},
    wire::{JobStatus, ServerEvent},
};
use bson::{doc, Bson, Document};
use futures::TryStreamExt;
use std::{sync::Arc, time::Duration};
use tokio::sync::{mpsc, watch};

/// What the people watching want the job to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Run,
    Pause,
    Cancel,
}

/// Why a job stopped short.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("reading MongoDB failed: {0}")]
    Read(String),
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Store(#[from] super::store::StoreError),
    #[error("{0}")]
    Spec(String),
}

/// Ranges smaller than this are not split further.
const MIN_DOCUMENTS_PER_RANGE: u64 = 5_000;
/// Batches read ahead of the writer, per range.
const READ_AHEAD: usize = 2;
/// How long the copy waits for the source (server selection, connection, heartbeat answer).
/// More patient than the checks before a job starts: a server under the load of several
/// range scans (SecantusDB sorts each range in memory) can take seconds to answer.
const SOURCE_TIMEOUT: Duration = Duration::from_secs(30);
/// Times a range's read is reopened, after the last `_id` read, when the source fails
/// transiently (pool cleared, network error, cursor lost) before the job stops; the count
/// starts again whenever documents come through.
const READ_RETRIES: u32 = 8;
/// Longest wait before reopening a read.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(10);

pub(crate) struct JobRun {
    pub id: String,
    pub spec: JobSpec,
    pub shared: Arc<Shared>,
    pub control: watch::Receiver<Control>,
}

impl JobRun {
    /// Runs the job to its end (or until cancelled) and records the outcome.
    pub async fn run(mut self) {
        let status = match self.copy_and_verify().await {
            Ok(status) => status,
            Err(err) => {
                let transient = matches!(&err, RunError::Target(e) if e.is_transient());
                let message = if transient {
                    format!("{err}. The job is paused: resume it when the target is back; it continues from its checkpoints.")
                } else {
                    err.to_string()
                };
                tracing::warn!(job = %self.id, error = %message, "job stopped");
                let status = if transient { JobStatus::Paused } else { JobStatus::Failed };
                self.shared.set_status(&self.id, status, Some(&message));
                return;
            }
        };
        self.shared.set_status(&self.id, status.0, status.1.as_deref());
    }

    async fn copy_and_verify(&mut self) -> Result<(JobStatus, Option<String>), RunError> {
        let uri = SourceUri::parse(&self.spec.source_uri)?;
        let source = MongoSource::connect(&uri, SOURCE_TIMEOUT).await?;
        let writer = Writer::new(&self.spec.target, self.spec.chunk_size, self.spec.in_flight, RetryPolicy::default())?;
        self.shared.set_status(&self.id, JobStatus::Running, None);

        for collection in self.spec.collections.clone() {
            if self.copy_collection(&source, &writer, &collection).await? == Control::Cancel {
                return Ok((JobStatus::Cancelled, Some("Cancelled; documents already written stay in the target.".into())));
            }
        }

        let counters = self.shared.store.counters(&self.id)?;
        let unaccounted: Vec<String> = counters
            .iter()
            .filter(|(_, c)| !c.is_complete())
            .map(|(name, c)| format!("{name}: {} of {} documents accounted for", c.accounted(), c.matched))
            .collect();

        self.shared.set_status(&self.id, JobStatus::Verifying, None);
        let mut failures = Vec::new();
        for collection in &self.spec.collections {
            let report = verify::verify_collection(&self.id, &self.spec, collection, &source, &writer, &self.shared.store).await?;
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
            self.shared.store.save_verification(&self.id, &collection.source, &report)?;
            self.shared.publish_progress(&self.id);
        }
        if unaccounted.is_empty() && failures.is_empty() {
            Ok((JobStatus::Complete, None))
        } else {
            let mut problems = unaccounted;
            problems.extend(failures);
            Ok((JobStatus::Failed, Some(problems.join("; "))))
        }
    }

    /// Copies one collection; returns `Cancel` when the job was cancelled meanwhile.
    async fn copy_collection(&mut self, source: &MongoSource, writer: &Writer, spec: &CollectionSpec) -> Result<Control, RunError> {
        let filter = parse_filter(spec)?;
        let collection = source.client().database(&self.spec.database).collection::<Document>(&spec.source);
        let mut ranges = self.shared.store.ranges(&self.id, &spec.source)?;
        if ranges.is_empty() {
            let matched = self.shared.store.counters(&self.id)?.into_iter().find(|(n, _)| n == &spec.source).map(|(_, c)| c.matched).unwrap_or(0);
            let bounds = split(&collection, &filter, matched, self.spec.parallel_ranges.max(1), MIN_DOCUMENTS_PER_RANGE)
                .await
                .map_err(|e| RunError::Read(source.uri().explain(&e, Duration::from_secs(10)).to_string()))?;
            let encoded: Vec<_> = bounds.iter().map(|r| (r.lower.as_ref().map(encode_id), r.upper.as_ref().map(encode_id))).collect();
            self.shared.store.ensure_ranges(&self.id, &spec.source, &encoded)?;
            ranges = self.shared.store.ranges(&self.id, &spec.source)?;
        }
        let converter = Converter::new(self.spec.policy, &spec.indexing).map_err(|e| RunError::Spec(e.to_string()))?;
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
                shared: self.shared.clone(),
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

fn parse_filter(spec: &CollectionSpec) -> Result<Document, RunError> {
    match spec.filter.as_deref().map(str::trim) {
        None | Some("") => Ok(Document::new()),
        Some(text) => document_from_extended_json(text)
            .map_err(|e| RunError::Spec(format!("the filter of {} is not a valid JSON object: {e}", spec.source))),
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
    shared: Arc<Shared>,
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

        let (batches, mut incoming) = mpsc::channel::<Result<Vec<Document>, RunError>>(READ_AHEAD);
        let read = RangeRead { collection: self.collection.clone(), range, filter: self.filter.clone(), after: checkpoint, batch_size: self.batch_size };
        let reader = tokio::spawn(read_batches(read, batches, self.source.clone()));
        let result = async {
            while let Some(batch) = incoming.recv().await {
                let batch = batch?;
                if self.wait_while_paused().await == Control::Cancel {
                    return Ok(Control::Cancel);
                }
                self.write_batch(state.index, batch).await?;
            }
            self.shared.store.finish_range(&self.job, &self.spec.source, state.index)?;
            Ok(Control::Run)
        }
        .await;
        reader.abort();
        result
    }

    /// Returns at once while running; waits while paused; says so when cancelled.
    async fn wait_while_paused(&mut self) -> Control {
        loop {
            let control = *self.control.borrow_and_update();
            match control {
                Control::Pause => {
                    if self.control.changed().await.is_err() {
                        return Control::Cancel;
                    }
                }
                other => return other,
            }
        }
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
                    let code = rejection.violations.first().map(|v| v.code.to_string()).unwrap_or_else(|| "REJECTED".into());
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
        self.shared.store.commit_batch(&commit)?;
        self.shared.record_landed(&self.job, &self.spec.source, landed, &dead_letters);
        Ok(())
    }
}

fn id_text(document: &Document) -> String {
    match document.get("_id") {
        Some(id) => id.clone().into_canonical_extjson().to_string(),
        None => "(no _id)".into(),
    }
}

/// What one range's reader reads.
struct RangeRead {
    collection: mongodb::Collection<Document>,
    range: IdRange,
    filter: Document,
    /// The last `_id` already read (or accounted for): reading resumes after it.
    after: Option<Bson>,
    batch_size: usize,
}

/// Reads a range in `_id` order into batches, until the end or until nobody listens. A
/// transient source failure reopens the read after the last `_id` read (the range is
/// sorted by `_id`, so nothing is skipped or read twice); other failures are sent on.
async fn read_batches(mut read: RangeRead, batches: mpsc::Sender<Result<Vec<Document>, RunError>>, source: MongoSource) {
    let explain = |e: &mongodb::error::Error| RunError::Read(source.uri().explain(e, SOURCE_TIMEOUT).to_string());
    let batch_size = read.batch_size;
    let mut batch = Vec::with_capacity(batch_size);
    let mut failures = 0u32;
    'reopen: loop {
        let query = read.range.filter(&read.filter, read.after.as_ref());
        let opened = read.collection.find(query).sort(doc! { "_id": 1 }).batch_size(batch_size.min(u32::MAX as usize) as u32).await;
        let mut cursor = match opened {
            Ok(cursor) => cursor,
            Err(e) => {
                if retry_read(&e, &mut failures).await {
                    continue 'reopen;
                }
                let _ = batches.send(Err(explain(&e))).await;
                return;
            }
        };
        loop {
            match cursor.try_next().await {
                Ok(Some(document)) => {
                    failures = 0;
                    batch.push(document);
                    if batch.len() == batch_size {
                        read.after = batch.last().and_then(|d| d.get("_id")).cloned();
                        if batches.send(Ok(std::mem::replace(&mut batch, Vec::with_capacity(batch_size)))).await.is_err() {
                            return;
                        }
                    }
                }
                Ok(None) => break 'reopen,
                Err(e) => {
                    // Resume after what this batch holds so far, or after the last batch sent.
                    if let Some(id) = batch.last().and_then(|d| d.get("_id")) {
                        read.after = Some(id.clone());
                    }
                    if retry_read(&e, &mut failures).await {
                        continue 'reopen;
                    }
                    let _ = batches.send(Err(explain(&e))).await;
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = batches.send(Ok(batch)).await;
    }
}

/// Whether a failed read is worth reopening; if so, waits first (1 s, 2 s, 4 s, ... up to
/// [`MAX_READ_BACKOFF`]) and counts the failure.
async fn retry_read(error: &mongodb::error::Error, failures: &mut u32) -> bool {
    if !is_transient_read_error(error) || *failures >= READ_RETRIES {
        return false;
    }
    *failures += 1;
    let wait = Duration::from_secs(1u64 << (*failures - 1).min(6)).min(MAX_READ_BACKOFF);
    tracing::warn!(error = %error, attempt = *failures, wait_ms = wait.as_millis() as u64, "reading the source failed; reopening the range after the last _id read");
    tokio::time::sleep(wait).await;
    true
}

/// Failures of the connection or the server's state, not of the query: the driver's
/// retryable read codes, a lost cursor, network errors, a cleared pool, no server.
fn is_transient_read_error(error: &mongodb::error::Error) -> bool {
    use mongodb::error::ErrorKind;
    /// RETRYABLE_READ_CODES of the driver (error.rs), plus CursorNotFound (43).
    const CODES: [i32; 14] = [11600, 11602, 10107, 13435, 13436, 189, 91, 7, 6, 89, 9001, 134, 262, 43];
    match error.kind.as_ref() {
        ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } | ErrorKind::ServerSelection { .. } => true,
        ErrorKind::Command(command) => CODES.contains(&command.code),
        _ => error.contains_label(mongodb::error::RETRYABLE_ERROR),
    }
}

/// Publishes a refusal (used by the manager to tell browsers).
pub(crate) fn refused_event(job: &str, letter: &DeadLetter) -> ServerEvent {
    ServerEvent::Refused {
        job: job.to_owned(),
        collection: letter.collection.clone(),
        id: letter.id.clone(),
        code: letter.code.clone(),
        reason: letter.reason.clone(),
    }
}
