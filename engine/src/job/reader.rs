//! Reading the source for the copy, in one of two orders: an `_id` range sorted by `_id`
//! (resumed after the last `_id` accounted for, and cut short when the range is split while
//! it is read), or the whole collection in the server's natural order (resumed by reading
//! up to the checkpoint again: the document at the recorded position must be the one
//! recorded, else the order changed and the reader says so).
//!
//! Batches travel on a bounded channel, so memory stays flat; a read that fails transiently
//! (pool cleared, network error, cursor lost) is reopened where it stopped.
//!
//! Documents travel as the raw BSON the server sent. The driver asks for the next batch only
//! once the last one is drained, so whatever the reader does per document is time the source
//! waits; building a `bson::Document` (an allocation per key and value) is left to the tasks
//! that convert, which run in parallel.

use super::error::RunError;
use crate::source::{mongo::MongoSource, ranges::IdRange};
use bson::{doc, Bson, Document, RawDocument, RawDocumentBuf};
use futures::TryStreamExt;
use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::{sync::mpsc, task::JoinHandle};

/// Batches read ahead of the writers, per reader.
const READ_AHEAD: usize = 2;
/// How long the copy waits for the source to be selectable. More patient than the checks
/// before a job starts: a server under the load of a full scan (SecantusDB reads a whole
/// query's result before its first batch) can take seconds to answer.
pub(super) const SOURCE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the job's reads wait for a busy source to answer at all: the connection and the
/// heartbeat (see [`MongoSource::connect_patient`]).
pub(super) const SOURCE_PATIENCE: Duration = Duration::from_secs(600);
/// Times a read is reopened where it stopped when the source fails transiently before the
/// job stops; the count starts again whenever documents come through.
const READ_RETRIES: u32 = 8;
/// Longest wait before reopening a read.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(10);

/// Where a natural-order read stands: the documents read so far and the last one's `_id`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct NaturalPosition {
    pub read: u64,
    pub last: Bson,
}

impl NaturalPosition {
    /// As a checkpoint: the BSON document `{v: last, n: read}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let _ = doc! { "v": self.last.clone(), "n": self.read as i64 }.to_writer(&mut bytes);
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, RunError> {
        let unreadable = |e: &dyn std::fmt::Display| RunError::Spec(format!("unreadable natural-order checkpoint: {e}"));
        let mut document = Document::from_reader(bytes).map_err(|e| unreadable(&e))?;
        let read = document.get_i64("n").map_err(|e| unreadable(&e))?;
        Ok(Self { read: read.max(0) as u64, last: document.remove("v").unwrap_or(Bson::Null) })
    }
}

/// What to read.
pub(super) enum ReadOrder {
    /// A range in `_id` order, after `after` (the last `_id` accounted for) when given.
    ById { range: Box<IdRange>, after: Option<Bson> },
    /// The whole collection in natural order, after `resume` when given.
    Natural { resume: Option<NaturalPosition> },
}

/// What a reader shares with whoever splits its range: how far it has read, and where it
/// must stop. The splitter moves `upper` down, never below `position`.
#[derive(Debug, Default)]
pub(super) struct Frontier {
    state: Mutex<FrontierState>,
}

#[derive(Debug, Default)]
pub(super) struct FrontierState {
    /// The last `_id` taken from the cursor, or accounted for before a resume: nothing up
    /// to it is read again, so no split may fall before it.
    pub position: Option<Bson>,
    /// Where the range ends now (exclusive); `None`: open.
    pub upper: Option<Bson>,
    /// Whether the reader has reached the end.
    pub finished: bool,
    /// Documents read.
    pub documents: u64,
}

impl Frontier {
    pub fn new(upper: Option<Bson>) -> Arc<Self> {
        Self::resumed(upper, None)
    }

    /// The frontier of a range resumed after `after`, its checkpoint.
    pub fn resumed(upper: Option<Bson>, after: Option<Bson>) -> Arc<Self> {
        Arc::new(Self { state: Mutex::new(FrontierState { upper, position: after, ..FrontierState::default() }) })
    }

    pub fn lock(&self) -> MutexGuard<'_, FrontierState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What to read: a collection, under the user's filter.
pub(super) struct RangeRead {
    pub collection: mongodb::Collection<RawDocumentBuf>,
    pub order: ReadOrder,
    pub filter: Document,
    pub batch_size: usize,
    pub frontier: Arc<Frontier>,
}

/// One batch, with where the read stands after it (natural order only).
pub(super) struct Batch {
    pub documents: Vec<RawDocumentBuf>,
    pub natural: Option<NaturalPosition>,
}

/// A reader's batches, read ahead ([`READ_AHEAD`] of them) by a task of their own, so that
/// reading overlaps with converting and writing. Dropping it stops the task.
pub(super) struct Batches {
    incoming: mpsc::Receiver<Result<Batch, RunError>>,
    task: JoinHandle<()>,
}

impl Batches {
    pub fn start(read: RangeRead, source: MongoSource) -> Self {
        let (batches, incoming) = mpsc::channel(READ_AHEAD);
        Self { incoming, task: tokio::spawn(read_batches(read, batches, source)) }
    }

    /// The next batch, or `None` at the end of the read; an error ends it too.
    pub async fn next(&mut self) -> Option<Result<Batch, RunError>> {
        self.incoming.recv().await
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The natural order changed under a resumed read: the checkpoint no longer says which
/// documents were copied.
pub(super) const ORDER_CHANGED: &str = "the natural order of the collection changed since the checkpoint";

/// Reads into batches until the end or until nobody listens. A transient source failure
/// reopens the read where it stopped (after the last `_id` read in `_id` order; by reading up
/// to the position again in natural order); other failures are sent on.
async fn read_batches(mut read: RangeRead, batches: mpsc::Sender<Result<Batch, RunError>>, source: MongoSource) {
    let explain = |e: &mongodb::error::Error| RunError::Read(source.uri().explain(e, SOURCE_TIMEOUT).to_string());
    let batch_size = read.batch_size;
    let mut batch = Vec::with_capacity(batch_size);
    let mut failures = 0u32;
    // Natural order: where the last batch sent (or the checkpoint) left the read, and where
    // the read stands now.
    let mut sent: Option<NaturalPosition> = match &read.order {
        ReadOrder::Natural { resume } => resume.clone(),
        ReadOrder::ById { .. } => None,
    };
    let mut natural: Option<NaturalPosition>;
    'reopen: loop {
        let (query, sorted, skip_to) = match &read.order {
            ReadOrder::ById { range, after } => {
                let upper = read.frontier.lock().upper.clone();
                let range = IdRange { lower: range.lower.clone(), upper };

                (range.filter(&read.filter, after.as_ref()), true, None)
            }
            ReadOrder::Natural { .. } => (read.filter.clone(), false, sent.clone()),
        };
        let mut find = read.collection.find(query).batch_size(batch_size.min(u32::MAX as usize) as u32);
        if sorted {
            find = find.sort(doc! { "_id": 1 });
        }
        let asked = std::time::Instant::now();
        let mut cursor = match find.await {
            Ok(cursor) => {
                // A source that reads the whole result before it answers shows here.
                tracing::debug!(seconds = asked.elapsed().as_secs_f64(), "the source answered the read with its first batch");
                cursor
            }
            Err(e) => {
                if retry_read(&e, &mut failures).await {
                    continue 'reopen;
                }
                let _ = batches.send(Err(explain(&e))).await;
                return;
            }
        };
        // Natural order after a stop: documents to pass over before reading on.
        let mut passed = 0u64;
        natural = None;
        loop {
            match cursor.try_next().await {
                Ok(Some(document)) => {
                    failures = 0;
                    let id = raw_id(&document).unwrap_or(Bson::Null);
                    if let Some(target) = &skip_to {
                        if passed < target.read {
                            passed += 1;
                            if passed == target.read {
                                if id != target.last {
                                    let _ = batches.send(Err(RunError::Read(ORDER_CHANGED.into()))).await;
                                    return;
                                }
                                natural = Some(target.clone());
                            }
                            continue;
                        }
                    }
                    {
                        let mut frontier = read.frontier.lock();
                        frontier.documents += 1;
                        if sorted {
                            // Split meanwhile: the rest belongs to another range.
                            if frontier.upper.as_ref().is_some_and(|upper| !id_before(&id, upper)) {
                                break 'reopen;
                            }
                            frontier.position = Some(id.clone());
                        }
                    }
                    if let ReadOrder::Natural { .. } = read.order {
                        let position = natural.get_or_insert(NaturalPosition { read: 0, last: Bson::Null });
                        position.read += 1;
                        position.last = id;
                    }
                    batch.push(document);
                    if batch.len() == batch_size {
                        if let ReadOrder::ById { after, .. } = &mut read.order {
                            *after = batch.last().and_then(|d| raw_id(d));
                        }
                        let full = Batch { documents: std::mem::replace(&mut batch, Vec::with_capacity(batch_size)), natural: natural.clone() };
                        if batches.send(Ok(full)).await.is_err() {
                            return;
                        }
                        if natural.is_some() {
                            sent = natural.clone();
                        }
                    }
                }
                Ok(None) => {
                    if let Some(target) = &skip_to {
                        if passed < target.read {
                            let _ = batches.send(Err(RunError::Read(ORDER_CHANGED.into()))).await;
                            return;
                        }
                    }
                    break 'reopen;
                }
                Err(e) => {
                    // Resume after what this batch holds so far, or after the last batch sent.
                    match &mut read.order {
                        ReadOrder::ById { after, .. } => {
                            if let Some(id) = batch.last().and_then(|d| raw_id(d)) {
                                *after = Some(id);
                            }
                        }
                        // Reading again up to the last batch sent covers the held one: drop it.
                        ReadOrder::Natural { .. } => batch.clear(),
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
    read.frontier.lock().finished = true;
    if !batch.is_empty() {
        let _ = batches.send(Ok(Batch { documents: batch, natural })).await;
    }
}

/// A raw document's `_id`, if it has one the reader can take.
pub(super) fn raw_id(document: &RawDocument) -> Option<Bson> {
    document.get("_id").ok().flatten().and_then(|id| Bson::try_from(id).ok())
}

/// `id < upper` in `_id` order (across brackets by bracket; within one for the types a
/// range is split at).
fn id_before(id: &Bson, upper: &Bson) -> bool {
    use crate::source::ranges::bracket;
    use std::cmp::Ordering;
    match bracket(id).cmp(&bracket(upper)) {
        Ordering::Less => return true,
        Ordering::Greater => return false,
        Ordering::Equal => {}
    }
    let order = match (id, upper) {
        (Bson::ObjectId(a), Bson::ObjectId(b)) => a.cmp(b),
        (Bson::DateTime(a), Bson::DateTime(b)) => a.cmp(b),
        (Bson::String(a), Bson::String(b)) => a.as_bytes().cmp(b.as_bytes()),
        (a, b) => match (number(a), number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            // Types the splitter never splits: the server's own bound decides.
            _ => return true,
        },
    };
    order == Ordering::Less
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Int32(n) => Some(f64::from(*n)),
        Bson::Int64(n) => Some(*n as f64),
        Bson::Double(x) => Some(*x),
        _ => None,
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
    tracing::warn!(error = %error, attempt = *failures, wait_ms = wait.as_millis() as u64, "reading the source failed; reopening the read where it stopped");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_natural_position_survives_the_checkpoint_encoding() {
        let position = NaturalPosition { read: 12_345, last: Bson::ObjectId(bson::oid::ObjectId::new()) };
        assert_eq!(NaturalPosition::decode(&position.encode()).unwrap(), position);
        assert!(NaturalPosition::decode(&crate::source::ranges::encode_id(&Bson::Int32(1))).is_err());
    }

    #[test]
    fn ids_compare_within_a_bracket() {
        assert!(id_before(&Bson::Int32(1), &Bson::Int64(2)));
        assert!(!id_before(&Bson::Double(2.0), &Bson::Int64(2)));
        assert!(id_before(&Bson::from("a"), &Bson::from("b")));
    }
}
