//! Verification: reads the copied documents back from the target and compares each with the
//! source's converted content, by content hash (key order aside, numbers by exact value).
//!
//! The source is not read again: the copy recorded the `_id` and content hash of every
//! document it wrote or found already present, in the same transaction as its checkpoint
//! ([`super::ledger`]). Verification pages through those records and asks the target for
//! them in groups of at most 100 ids (`$in` takes no more), each group read to its last page,
//! many groups at a time: the target's limiter sets the pace, not round trips. Dead-lettered
//! documents were never recorded, so they are not expected in the target. Pause and cancel
//! act between pages of records.

use super::{
    control::{wait_while_paused, Control},
    error::RunError,
    progress::Publisher,
    spec::{CollectionSpec, JobSpec, VerifyMode},
    reader::{Batches, Frontier, RangeRead, ReadOrder},
    store::CopiedDocument,
};
use crate::{
    astra::Writer,
    convert::{content_hash, id_key_from_json, ContentHash},
    source::mongo::MongoSource,
    wire::{JobStatus, Verification},
};
use futures::{stream, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::{collections::HashMap, sync::Arc};
use tokio::sync::watch;

/// Ids read back from the target per request (the Data API's `$in` limit).
const READ_BACK: usize = 100;
/// Copied records read from the state database at a time.
const PAGE: usize = 2_000;
/// Ids listed per kind of mismatch in a report.
const LISTED: usize = 100;

/// Compares a collection's copied documents with the target. `None` when the job was
/// cancelled meanwhile.
pub(crate) async fn verify_collection(
    job: &str,
    spec: &JobSpec,
    collection: &CollectionSpec,
    writer: &Writer,
    publisher: &Arc<Publisher>,
    control: &watch::Receiver<Control>,
) -> Result<Option<Verification>, RunError> {
    let mut report = Verification { checked: 0, matching: 0, missing: Vec::new(), different: Vec::new(), recall: None };
    let store = &publisher.store;
    let step = match spec.verify {
        VerifyMode::None => return Ok(Some(report)),
        VerifyMode::All => 1,
        VerifyMode::Sample(n) => (store.copied_count(job, &collection.source)? / n.max(1)).max(1),
    };

    let state = Pages {
        job: job.to_owned(),
        collection: collection.source.clone(),
        publisher: publisher.clone(),
        control: control.clone(),
        step,
        after: None,
        position: 0,
        done: false,
    };
    let pages = stream::try_unfold(state, Pages::next);
    let records = pages.map_ok(|page| stream::iter(page.into_iter().map(Ok))).try_flatten();
    // Groups are read back many at a time (the limiter decides how many requests go), in
    // order, so the report lists mismatches in key order and memory stays bounded.
    let concurrency = writer.limiter().ceiling().max(1);
    let mut groups = std::pin::pin!(records.try_chunks(READ_BACK).map_err(|e| e.1).map_ok(|group| compare(writer, &collection.target, group)).try_buffered(concurrency));
    while let Some(group) = groups.try_next().await? {
        add(&mut report, group);
    }
    if *control.borrow() == Control::Cancel {
        return Ok(None);
    }
    Ok(Some(report))
}

/// An online job's verification: the source is read again (its documents changed since
/// the copy recorded them), leaving out the documents whose id key `skip` names (changed
/// after the cutover's barrier).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn verify_collection_skipping(
    job: &str,
    spec: &JobSpec,
    collection: &CollectionSpec,
    source: &MongoSource,
    writer: &Writer,
    publisher: &Arc<Publisher>,
    control: &watch::Receiver<Control>,
    skip: &(dyn Fn(&str) -> bool + Send + Sync),
) -> Result<Option<Verification>, RunError> {
    let mut report = Verification { checked: 0, matching: 0, missing: Vec::new(), different: Vec::new(), recall: None };
    let store = &publisher.store;
    let step = match spec.verify {
        VerifyMode::None => return Ok(Some(report)),
        VerifyMode::All => 1,
        VerifyMode::Sample(n) => {
            let matched = store.counters(job)?.into_iter().find(|(name, _)| name == &collection.source).and_then(|(_, c)| c.matched).unwrap_or(0);
            (matched / n.max(1)).max(1)
        }
    };
    let dead = store.dead_letter_ids(job, &collection.source)?;
    let converter = collection.converter(spec.policy).map_err(RunError::Spec)?;
    let read = RangeRead {
        collection: source.client().database(&spec.database).collection(&collection.source),
        order: ReadOrder::Natural { resume: None },
        filter: collection.filter_document().map_err(RunError::Spec)?,
        batch_size: spec.batch_size.max(1),
        frontier: Frontier::new(None),
    };

    // Groups of ids are read back `in_flight` at a time (each is a few sequential `find`
    // pages) while the source is read on; results come in order, so the report lists
    // mismatches in the source's order, and memory stays bounded.
    let in_flight = spec.in_flight.max(1);
    // Pause and cancel act before each batch of the source, so the groups already on their
    // way finish; a cancel ends the reading.
    let state = (Batches::start(read, source.clone()), control.clone(), publisher.clone(), job.to_owned());
    let batches = stream::unfold(state, |(mut batches, mut control, publisher, job)| async move {
        let paused = *control.borrow() == Control::Pause;
        if wait_while_paused(&mut control).await == Control::Cancel {
            return None;
        }
        if paused {
            publisher.set_status_keeping_message(&job, JobStatus::Verifying);
        }
        let batch = batches.next().await?;
        Some((batch, (batches, control, publisher, job)))
    });
    let documents = batches.map_ok(|batch| stream::iter(batch.documents.into_iter().map(Ok))).try_flatten();
    let expected = documents.enumerate().filter_map(|(position, document)| {
        let expected = match document {
            Err(e) => Some(Err(e)),
            Ok(_) if !(position as u64).is_multiple_of(step) => None,
            // A document that does not read was dead-lettered by the copy.
            Ok(raw) => match raw.to_document().map(|document| converter.convert(&document)) {
                Ok(Ok(converted)) if !dead.contains(converted.id_key()) && !skip(converted.id_key()) => Some(Ok(CopiedDocument::of(&converted))),
                _ => None,
            },
        };
        futures::future::ready(expected)
    });
    let mut groups = std::pin::pin!(expected
        .try_chunks(READ_BACK)
        .map_err(|e| e.1)
        .map_ok(|group| compare(writer, &collection.target, group))
        .try_buffered(in_flight));
    while let Some(group) = groups.try_next().await? {
        add(&mut report, group);
    }
    if *control.borrow() == Control::Cancel {
        return Ok(None);
    }
    Ok(Some(report))
}

/// Pages of copied records, every `step`-th kept; pause and cancel act before each page.
struct Pages {
    job: String,
    collection: String,
    publisher: Arc<Publisher>,
    control: watch::Receiver<Control>,
    step: u64,
    after: Option<String>,
    position: u64,
    done: bool,
}

impl Pages {
    async fn next(mut self) -> Result<Option<(Vec<CopiedDocument>, Self)>, RunError> {
        if self.done {
            return Ok(None);
        }
        let paused = *self.control.borrow() == Control::Pause;
        if wait_while_paused(&mut self.control).await == Control::Cancel {
            return Ok(None);
        }
        if paused {
            self.publisher.set_status_keeping_message(&self.job, JobStatus::Verifying);
        }
        let page = self.publisher.store.copied_page(&self.job, &self.collection, self.after.as_deref(), PAGE)?;
        self.done = page.len() < PAGE;
        self.after = page.last().map(|c| c.key.clone());
        let mut kept = Vec::with_capacity(page.len() / self.step as usize + 1);
        for record in page {
            if self.position.is_multiple_of(self.step) {
                kept.push(record);
            }
            self.position += 1;
        }
        Ok(Some((kept, self)))
    }
}

#[derive(Deserialize)]
struct WithId<'a> {
    #[serde(borrow, rename = "_id")]
    id: &'a RawValue,
}

/// Reads one group back and compares it: a report of this group alone.
async fn compare(writer: &Writer, target: &str, expected: Vec<CopiedDocument>) -> Result<Verification, RunError> {
    let mut report = Verification { checked: 0, matching: 0, missing: Vec::new(), different: Vec::new(), recall: None };
    let ids: Vec<(String, String)> = expected.iter().map(|e| (e.id_json.clone(), e.key.clone())).collect();
    let found = writer.read_back(target, &ids).await?;
    let mut actual: HashMap<String, ContentHash> = HashMap::with_capacity(found.len());
    for document in &found {
        let text = document.get();
        let Ok(with_id) = serde_json::from_str::<WithId<'_>>(text) else { continue };
        let Ok(key) = id_key_from_json(with_id.id.get()) else { continue };
        if let Ok(hash) = content_hash(text) {
            actual.insert(key, hash);
        }
    }
    for expected in expected {
        report.checked += 1;
        match actual.get(&expected.key) {
            Some(hash) if *hash == expected.hash => report.matching += 1,
            Some(_) => push_limited(&mut report.different, expected.key),
            None => push_limited(&mut report.missing, expected.key),
        }
    }
    Ok(report)
}

/// Adds one group's report to the collection's.
fn add(report: &mut Verification, group: Verification) {
    report.checked += group.checked;
    report.matching += group.matching;
    for key in group.missing {
        push_limited(&mut report.missing, key);
    }
    for key in group.different {
        push_limited(&mut report.different, key);
    }
}

fn push_limited(list: &mut Vec<String>, key: String) {
    if list.len() < LISTED {
        list.push(key);
    }
}
