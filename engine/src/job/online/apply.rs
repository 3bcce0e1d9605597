//! Applying the source's changes to the target, many documents at once and each document's
//! changes in order: every change goes to one of `n` lanes chosen by a hash of its `_id`, and
//! each lane applies its changes one after the other. A lane that finds several changes of
//! one document waiting applies only the last (each carries the whole document, so the last
//! one is the document's state), and counts the others with it.
//!
//! A change alone becomes one idempotent request: an insert, update or replace a
//! `findOneAndReplace({_id}, converted document, {upsert: true})`, a delete a
//! `deleteOne({_id})`; an update whose document was deleted before the source looked it up is
//! skipped (its delete follows). The last changes of several documents that a lane finds
//! waiting go together, in a few requests whatever their number: a `deleteMany` of those to
//! replace or delete, then an `insertMany` of the inserts and replacements (see
//! [`Applier::apply_together`]); over a far path, where each request costs a round trip, this
//! is what keeps a lane up with a busy source. A document the converter or Astra refuses is dead-lettered
//! with its reason. When the target's retries run out (an outage), the lane waits and tries
//! again, so the lag grows and recovers and nothing is lost, until the job pauses or stops.

use crate::{
    astra::{
        data_api::{is_transient_code, DataApiClient, DataApiError, FindAndModify},
        DocumentOutcome, TargetError,
    },
    convert::{canonical_extended_json, Converter},
    job::store::DeadLetter,
    source::changes::{Change, ChangeKind},
};
use bson::{doc, Document};
use serde_json::Value;
use std::{
    collections::{hash_map::DefaultHasher, HashMap},
    hash::{Hash, Hasher},
    sync::Arc,
    time::Duration,
};
use tokio::{
    sync::{mpsc, watch},
    task::JoinSet,
};

/// Changes a lane takes at once, to keep only the last of each document.
const LANE_BATCH: usize = 64;
/// Most documents one filtered `deleteMany` deletes (the Data API's `maxDocumentDeleteCount`).
const DELETE_PAGE: usize = 20;
/// Wait before trying a change again after the target's retries ran out.
const OUTAGE_WAIT: Duration = Duration::from_secs(3);

/// How a document's last change in a lane's batch is applied with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Together {
    /// The document's first and last change here is its insert: insert-if-absent.
    Insert,
    /// Deleted, then inserted as the change left it.
    Replace,
    Delete,
}

/// What became of one change.
#[derive(Debug, Clone)]
pub(super) enum Applied {
    /// The target holds the document as the change left it (or deleted it): counted by kind.
    Done(ChangeKind),
    /// An update whose document was gone when the source looked it up.
    Skipped,
    /// The document cannot be written; the target keeps its previous version (or, when it
    /// was replaced with others, none: the reason says so).
    DeadLettered(DeadLetter),
}

/// Why a change was not applied.
#[derive(Debug)]
pub(super) enum NotApplied {
    /// The job is pausing or stopping: the change is applied again after the resume point.
    Interrupted,
    /// The target refused in a way the user must fix (token, keyspace, collection, ...).
    Failed(TargetError),
}

/// One change's result, by the sequence number the follower gave it.
pub(super) type Done = (u64, Result<Applied, NotApplied>);

/// Applies one collection's changes to its target collection.
pub(super) struct Applier {
    pub client: DataApiClient,
    /// The source collection (names dead letters).
    pub source: String,
    /// The Astra collection.
    pub target: String,
    pub converter: Arc<Converter>,
    /// Set when the job pauses or stops: a lane waiting out an outage gives up.
    pub stop: watch::Receiver<bool>,
}

impl Applier {
    /// Applies one change, waiting out outages of the target.
    async fn apply(&self, change: &Change) -> Result<Applied, NotApplied> {
        let mut stop = self.stop.clone();
        loop {
            if *stop.borrow() {
                return Err(NotApplied::Interrupted);
            }
            match self.try_apply(change).await {
                Err(NotApplied::Failed(error)) if error.is_transient() => {
                    tracing::warn!(collection = %self.target, error = %error, "the target keeps failing; trying the change again");
                    tokio::select! {
                        _ = tokio::time::sleep(OUTAGE_WAIT) => {}
                        _ = stop.changed() => {}
                    }
                }
                other => return other,
            }
        }
    }

    /// Applies the last changes of different documents in a few requests instead of one
    /// each (the Data API has no bulk upsert): documents to replace and to delete leave in
    /// `deleteMany`s (`$in` of at most [`DELETE_PAGE`] `_id`s, what one call deletes), then the
    /// inserts and the replacements go in `insertMany`s. An insert of a document with no earlier
    /// change here is insert-if-absent: a document already in the target was written from a
    /// state at least as new as its insert (the copy, or a replay after a restart), and its
    /// later changes follow. Between the two requests a replaced document is absent from the
    /// target; a stop there leaves its change unapplied, so it is applied again after the
    /// resume point. The results of what this settled (applied, or refused), `None` for what
    /// is left to apply one by one: everything, when a request as a whole fails.
    async fn apply_together(&self, changes: &[(Together, &Change)]) -> Vec<Option<Result<Applied, NotApplied>>> {
        let mut results: Vec<Option<Result<Applied, NotApplied>>> = changes.iter().map(|_| None).collect();
        let mut converted = Vec::with_capacity(changes.len());
        let mut positions = Vec::with_capacity(changes.len());
        let (mut doomed, mut deletes) = (Vec::new(), Vec::new());
        for (position, (together, change)) in changes.iter().enumerate() {
            let document = match (together, &change.document) {
                (Together::Delete, _) => {
                    match self.converter.convert(&doc! { "_id": change.id.clone() }) {
                        // An `_id` the converter refuses never reached the target.
                        Err(_) => results[position] = Some(Ok(Applied::Done(ChangeKind::Delete))),
                        Ok(converted) => {
                            // Left to the one-by-one path, which says what is wrong with it.
                            let Ok(id) = id_value(converted.id_json()) else { continue };
                            doomed.push(id);
                            deletes.push(position);
                        }
                    }
                    continue;
                }
                (_, Some(document)) => document,
                (_, None) => continue,
            };
            match self.converter.convert(document) {
                Ok(done) => {
                    if *together == Together::Replace {
                        let Ok(id) = id_value(done.id_json()) else { continue };
                        doomed.push(id);
                    }
                    converted.push(done);
                    positions.push(position);
                }
                Err(rejection) => {
                    let code = rejection.violations.first().map(|v| v.code().to_string()).unwrap_or_else(|| "REJECTED".into());
                    let id = rejection.id_key.clone().unwrap_or_else(|| id_text(change));
                    results[position] = Some(Ok(Applied::DeadLettered(self.letter(change, id, code, rejection.to_string(), Some(document)))));
                }
            }
        }
        if *self.stop.borrow() {
            return results;
        }
        if !doomed.is_empty() {
            let pages: Vec<Value> = doomed.chunks(DELETE_PAGE).map(|ids| serde_json::json!({ "_id": { "$in": ids } })).collect();
            let deleted = futures::future::join_all(pages.iter().map(|filter| self.client.delete_many(&self.target, filter))).await;
            // Some may be gone already: the one-by-one path upserts them again.
            if deleted.iter().any(Result::is_err) {
                return results;
            }
            for position in deletes {
                results[position] = Some(Ok(Applied::Done(ChangeKind::Delete)));
            }
        }
        if converted.is_empty() {
            return results;
        }
        let Ok(outcomes) = self.client.insert_many(&self.target, converted).await else { return results };
        for (outcome, position) in outcomes.into_iter().zip(positions) {
            let (together, change) = changes[position];
            results[position] = match outcome {
                DocumentOutcome::Written | DocumentOutcome::AlreadyPresent => Some(Ok(Applied::Done(change.kind))),
                DocumentOutcome::Failed { code, .. } if is_transient_code(&code) => None,
                DocumentOutcome::Failed { code, message } => {
                    let gone = if together == Together::Replace { "; its earlier version was removed from the target" } else { "" };
                    let reason = format!("Astra refused the document: {message}{gone}");
                    Some(Ok(Applied::DeadLettered(self.letter(change, id_text(change), code, reason, change.document.as_ref()))))
                }
            };
        }
        results
    }

    async fn try_apply(&self, change: &Change) -> Result<Applied, NotApplied> {
        match (change.kind, &change.document) {
            (ChangeKind::Delete, _) => self.delete(change).await,
            (ChangeKind::Update, None) => Ok(Applied::Skipped),
            (_, None) => Ok(Applied::Skipped),
            (kind, Some(document)) => self.replace(change, kind, document).await,
        }
    }

    async fn replace(&self, change: &Change, kind: ChangeKind, document: &Document) -> Result<Applied, NotApplied> {
        let converted = match self.converter.convert(document) {
            Ok(converted) => converted,
            Err(rejection) => {
                let code = rejection.violations.first().map(|v| v.code().to_string()).unwrap_or_else(|| "REJECTED".into());
                let id = rejection.id_key.clone().unwrap_or_else(|| id_text(change));
                return Ok(Applied::DeadLettered(self.letter(change, id, code, rejection.to_string(), Some(document))));
            }
        };
        let filter = id_filter(converted.id_json())?;
        let key = converted.id_key().to_owned();
        let replacement = converted.into_raw_value().map_err(|e| {
            NotApplied::Failed(DataApiError::InvalidDocument { id_key: key.clone(), problem: e.to_string() }.into())
        })?;
        let options = FindAndModify { upsert: true, projection: Some(serde_json::json!({ "_id": 1 })), ..Default::default() };
        match self.client.find_one_and_replace(&self.target, &filter, &replacement, &options).await {
            Ok(_) => Ok(Applied::Done(kind)),
            Err(error) => match refused(&error) {
                Some((code, message)) => {
                    Ok(Applied::DeadLettered(self.letter(change, key, code, format!("Astra refused the document: {message}"), Some(document))))
                }
                None => Err(NotApplied::Failed(error.into())),
            },
        }
    }

    async fn delete(&self, change: &Change) -> Result<Applied, NotApplied> {
        // An `_id` the converter refuses never reached the target: nothing to delete.
        let Ok(converted) = self.converter.convert(&doc! { "_id": change.id.clone() }) else {
            return Ok(Applied::Done(ChangeKind::Delete));
        };
        let filter = id_filter(converted.id_json())?;
        match self.client.delete_one(&self.target, &filter, None).await {
            Ok(_) => Ok(Applied::Done(ChangeKind::Delete)),
            Err(error) => Err(NotApplied::Failed(error.into())),
        }
    }

    fn letter(&self, change: &Change, id: String, code: String, reason: String, document: Option<&Document>) -> DeadLetter {
        DeadLetter {
            collection: self.source.clone(),
            id,
            code,
            reason: format!("{} at {}: {reason}", change.kind.as_str(), change.time),
            document: document.map(canonical_extended_json).unwrap_or_else(|| "{}".into()),
        }
    }
}

/// `{"_id": <id>}` from the converter's `_id` JSON.
fn id_filter(id_json: &str) -> Result<Value, NotApplied> {
    Ok(serde_json::json!({ "_id": id_value(id_json)? }))
}

/// The converter's `_id` JSON as a value.
fn id_value(id_json: &str) -> Result<Value, NotApplied> {
    serde_json::from_str(id_json)
        .map_err(|e| NotApplied::Failed(DataApiError::InvalidDocument { id_key: id_json.to_owned(), problem: e.to_string() }.into()))
}

/// The code and message when Astra refused this document (its content), as opposed to the
/// request or the job.
fn refused(error: &DataApiError) -> Option<(String, String)> {
    match error {
        DataApiError::Command { code, message, .. } if code.starts_with("SHRED_") || code.starts_with("DOCUMENT_") => {
            Some((code.clone(), message.clone()))
        }
        DataApiError::PayloadTooLarge { bytes } => {
            Some(("PAYLOAD_TOO_LARGE".into(), format!("a request of {bytes} bytes is more than the Data API takes")))
        }
        _ => None,
    }
}

fn id_text(change: &Change) -> String {
    change.id.clone().into_canonical_extjson().to_string()
}

/// A stable hash of a document's `_id`: which lane its changes take, and which changes are of
/// the same document.
pub(super) fn id_hash(change: &Change) -> u64 {
    let mut hasher = DefaultHasher::new();
    match bson::to_vec(&doc! { "_id": change.id.clone() }) {
        Ok(bytes) => bytes.hash(&mut hasher),
        Err(_) => id_text(change).hash(&mut hasher),
    }
    hasher.finish()
}

/// The lanes of one collection: a task each, fed in order.
pub(super) struct Lanes {
    senders: Vec<mpsc::UnboundedSender<(u64, u64, Change)>>,
    _tasks: JoinSet<()>,
}

impl Lanes {
    /// `count` lanes applying through `applier`, reporting every change on `done`.
    pub fn start(count: usize, applier: Arc<Applier>, done: mpsc::UnboundedSender<Vec<Done>>) -> Self {
        let mut tasks = JoinSet::new();
        let senders = (0..count.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::unbounded_channel();
                tasks.spawn(lane(receiver, applier.clone(), done.clone()));
                sender
            })
            .collect();
        Self { senders, _tasks: tasks }
    }

    /// Queues a change (numbered `seq`) on its document's lane.
    pub fn dispatch(&self, seq: u64, change: Change) {
        let hash = id_hash(&change);
        let lane = (hash % self.senders.len() as u64) as usize;
        // A lane ends only when the lanes are dropped.
        let _ = self.senders[lane].send((seq, hash, change));
    }
}

/// One lane: takes what is waiting, applies the last change of each document, reports all.
async fn lane(mut queue: mpsc::UnboundedReceiver<(u64, u64, Change)>, applier: Arc<Applier>, done: mpsc::UnboundedSender<Vec<Done>>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < LANE_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // The position of each document's last change.
        let mut last: HashMap<u64, usize> = HashMap::with_capacity(batch.len());
        for (position, (_, hash, _)) in batch.iter().enumerate() {
            last.insert(*hash, position);
        }
        let mut results: Vec<Option<Result<Applied, NotApplied>>> = (0..batch.len()).map(|_| None).collect();
        let mut first_of: HashMap<u64, usize> = HashMap::with_capacity(batch.len());
        for (position, (_, hash, _)) in batch.iter().enumerate() {
            first_of.entry(*hash).or_insert(position);
        }
        let together: Vec<(usize, Together)> = (0..batch.len())
            .filter_map(|p| {
                let (_, hash, change) = &batch[p];
                if last.get(hash) != Some(&p) {
                    return None;
                }
                match (change.kind, &change.document) {
                    (ChangeKind::Delete, _) => Some((p, Together::Delete)),
                    (ChangeKind::Insert, Some(_)) if first_of.get(hash) == Some(&p) => Some((p, Together::Insert)),
                    (_, Some(_)) => Some((p, Together::Replace)),
                    // An update whose document was gone at the lookup: skipped below.
                    (_, None) => None,
                }
            })
            .collect();
        if together.len() > 1 {
            let changes: Vec<(Together, &Change)> = together.iter().map(|&(p, t)| (t, &batch[p].2)).collect();
            for (&(position, _), result) in together.iter().zip(applier.apply_together(&changes).await) {
                results[position] = result;
            }
        }
        for (position, (_, hash, change)) in batch.iter().enumerate() {
            if last.get(hash) == Some(&position) && results[position].is_none() {
                results[position] = Some(applier.apply(change).await);
            }
        }
        let mut report = Vec::with_capacity(batch.len());
        for (position, (seq, hash, change)) in batch.iter().enumerate() {
            let result = match results[position].take() {
                Some(result) => result,
                None => superseded(change, last.get(hash).and_then(|&at| results.get(at)).and_then(Option::as_ref)),
            };
            report.push((*seq, result));
        }
        if done.send(report).is_err() {
            return;
        }
    }
}

/// The result of a change that a later change of the same document made moot: applied with it
/// (counted by its own kind), or not, as the later one was.
fn superseded(change: &Change, later: Option<&Result<Applied, NotApplied>>) -> Result<Applied, NotApplied> {
    match later {
        Some(Ok(_)) if change.kind == ChangeKind::Update && change.document.is_none() => Ok(Applied::Skipped),
        Some(Ok(_)) => Ok(Applied::Done(change.kind)),
        Some(Err(NotApplied::Failed(_))) | Some(Err(NotApplied::Interrupted)) | None => Err(NotApplied::Interrupted),
    }
}
