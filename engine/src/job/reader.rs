//! Reading the source in `_id` order: one reader per range for the copy, one over the whole
//! collection for verification. Batches travel on a bounded channel, so memory stays flat;
//! a read that fails transiently (pool cleared, network error, cursor lost) is reopened
//! after the last `_id` read.

use super::error::RunError;
use crate::source::{mongo::MongoSource, ranges::IdRange};
use bson::{doc, Bson, Document};
use futures::TryStreamExt;
use std::time::Duration;
use tokio::{sync::mpsc, task::JoinHandle};

/// Batches read ahead of the writer (or the verifier), per reader.
const READ_AHEAD: usize = 2;
/// How long the copy waits for the source (server selection, connection, heartbeat answer).
/// More patient than the checks before a job starts: a server under the load of several
/// range scans (SecantusDB sorts each range in memory) can take seconds to answer.
pub(super) const SOURCE_TIMEOUT: Duration = Duration::from_secs(30);
/// Times a read is reopened, after the last `_id` read, when the source fails transiently
/// before the job stops; the count starts again whenever documents come through.
const READ_RETRIES: u32 = 8;
/// Longest wait before reopening a read.
const MAX_READ_BACKOFF: Duration = Duration::from_secs(10);

/// What to read: a range of a collection, under the user's filter.
pub(super) struct RangeRead {
    pub collection: mongodb::Collection<Document>,
    pub range: IdRange,
    pub filter: Document,
    /// The last `_id` already read (or accounted for): reading resumes after it.
    pub after: Option<Bson>,
    pub batch_size: usize,
}

/// A range's batches, read ahead ([`READ_AHEAD`] of them) by a task of their own, so that
/// reading overlaps with converting and writing. Dropping it stops the task.
pub(super) struct Batches {
    incoming: mpsc::Receiver<Result<Vec<Document>, RunError>>,
    task: JoinHandle<()>,
}

impl Batches {
    pub fn start(read: RangeRead, source: MongoSource) -> Self {
        let (batches, incoming) = mpsc::channel(READ_AHEAD);
        Self { incoming, task: tokio::spawn(read_batches(read, batches, source)) }
    }

    /// The next batch, or `None` at the end of the range; an error ends it too.
    pub async fn next(&mut self) -> Option<Result<Vec<Document>, RunError>> {
        self.incoming.recv().await
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        self.task.abort();
    }
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

