//! Copying one range (or, in natural order, the whole collection): batches from its reader
//! are converted and written with several in flight at once — the target's limiter decides
//! how many requests actually go — and committed strictly in order, each with its
//! checkpoint, counters, dead letters and the `_id` and content hash of every document that
//! landed (for verification). A batch is committed only once it and every batch before it
//! are acknowledged, so a checkpoint never covers a document whose outcome is unknown.
//!
//! The batches in flight of all ranges of a job share one budget ([`Slots`]), so memory stays
//! bounded whatever the number of ranges.

use super::{
    control::{wait_while_paused, Control},
    error::RunError,
    progress::Publisher,
    reader::{raw_id, Batch, Batches, Frontier, RangeRead, ReadOrder},
    spec::CollectionSpec,
    store::{BatchCommit, CopiedDocument, DeadLetter},
};
use crate::{
    astra::{DocumentOutcome, Writer},
    convert::{canonical_extended_json, Converted, Converter},
    source::{mongo::MongoSource, ranges::encode_id},
    tuning::DOCUMENTS_IN_FLIGHT,
};
use bson::{Document, RawDocument, RawDocumentBuf};
use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};
use tokio::{
    sync::{watch, OwnedSemaphorePermit, Semaphore},
    task::JoinHandle,
};

/// The batches a job may have in flight.
pub(super) type Slots = Arc<Semaphore>;

/// Slots for batches of `batch_size` documents: [`DOCUMENTS_IN_FLIGHT`] of them, at least
/// two batches' worth.
pub(super) fn slots(batch_size: usize) -> Slots {
    Arc::new(Semaphore::new((DOCUMENTS_IN_FLIGHT / batch_size.max(1)).max(2)))
}

/// How long a range's writers waited for its reader, with nothing else to do.
#[derive(Debug, Default)]
pub(super) struct Starved(AtomicU64);

impl Starved {
    fn add(&self, since: Instant) {
        self.0.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Microseconds so far.
    pub fn micros(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a range copy needs; one per range, cheap to clone.
#[derive(Clone)]
pub(super) struct RangeCopy {
    pub job: String,
    pub spec: CollectionSpec,
    pub filter: Document,
    pub batch_size: usize,
    pub collection: mongodb::Collection<Document>,
    pub converter: Arc<Converter>,
    pub writer: Writer,
    pub publisher: Arc<Publisher>,
    pub control: watch::Receiver<Control>,
    pub source: MongoSource,
    pub slots: Slots,
    /// Whether to record each landed document for verification.
    pub record: bool,
    pub starved: Arc<Starved>,
}

/// A batch acknowledged by the target, ready to commit.
struct Acknowledged {
    checkpoint: Vec<u8>,
    written: u64,
    already_present: u64,
    dead_letters: Vec<DeadLetter>,
    copied: Vec<CopiedDocument>,
    landed: Vec<String>,
}

/// The writes in flight, oldest first; dropping it stops them.
#[derive(Default)]
struct InFlight(VecDeque<JoinHandle<Result<Option<Acknowledged>, RunError>>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        for handle in &self.0 {
            handle.abort();
        }
    }
}

impl RangeCopy {
    /// Copies range `index` read in `order` until its end, a cancel, or a failure.
    pub async fn run(mut self, index: u32, order: ReadOrder, frontier: Arc<Frontier>) -> Result<Control, RunError> {
        let read = RangeRead { collection: self.collection.clone_with_type(), order, filter: self.filter.clone(), batch_size: self.batch_size, frontier };
        let mut batches = Batches::start(read, self.source.clone());
        let mut in_flight = InFlight::default();
        let mut reading = true;
        let mut outcome = Control::Run;
        while reading || !in_flight.0.is_empty() {
            let waiting = Instant::now();
            tokio::select! {
                biased;
                done = head(&mut in_flight), if !in_flight.0.is_empty() => {
                    self.commit(index, done)?;
                }
                next = batches.next(), if reading => {
                    if in_flight.0.len() < 2 {
                        self.starved.add(waiting);
                    }
                    let Some(batch) = next else {
                        reading = false;
                        continue;
                    };
                    let batch = batch?;
                    if *self.control.borrow() == Control::Pause {
                        // Paused: what is in flight lands and is committed first.
                        while !in_flight.0.is_empty() {
                            let done = head(&mut in_flight).await;
                            self.commit(index, done)?;
                        }
                    }
                    if wait_while_paused(&mut self.control).await == Control::Cancel {
                        // The writes in flight finish and are committed; nothing more starts.
                        reading = false;
                        outcome = Control::Cancel;
                        continue;
                    }
                    let slot = self.slots.clone().acquire_owned().await.map_err(|_| RunError::Spec("the job's batch budget closed".into()))?;
                    in_flight.0.push_back(tokio::spawn(self.write(batch, slot)));
                }
            }
        }
        if outcome == Control::Run {
            self.publisher.store.finish_range(&self.job, &self.spec.source, index)?;
        }
        Ok(outcome)
    }

    /// Converts and writes one batch (on a task of its own, so batches convert in parallel).
    fn write(&self, batch: Batch, slot: OwnedSemaphorePermit) -> impl std::future::Future<Output = Result<Option<Acknowledged>, RunError>> + Send + 'static {
        let (converter, writer, spec, record) = (self.converter.clone(), self.writer.clone(), self.spec.clone(), self.record);
        async move {
            let acknowledged = write_batch(&converter, &writer, &spec, record, batch).await;
            drop(slot);
            acknowledged
        }
    }

    fn commit(&self, index: u32, done: Result<Option<Acknowledged>, RunError>) -> Result<(), RunError> {
        let Some(done) = done? else { return Ok(()) };
        let commit = BatchCommit {
            job: &self.job,
            collection: &self.spec.source,
            range: index,
            checkpoint: done.checkpoint,
            written: done.written,
            already_present: done.already_present,
            dead_letters: done.dead_letters,
            copied: done.copied,
        };
        self.publisher.store.commit_batch(&commit)?;
        self.publisher.record_landed(&self.job, &self.spec.source, done.landed, &commit.dead_letters);
        Ok(())
    }
}

/// The oldest write in flight, once it is done.
async fn head(in_flight: &mut InFlight) -> Result<Option<Acknowledged>, RunError> {
    let Some(handle) = in_flight.0.front_mut() else { return Ok(None) };
    let result = handle.await;
    in_flight.0.pop_front();
    match result {
        Ok(done) => done,
        // Cancelled: the process is stopping, not a failure of the batch (it is not committed,
        // so a resume reads it again).
        Err(join) if join.is_cancelled() => Err(RunError::Interrupted),
        Err(join) => Err(RunError::Read(format!("a batch writer crashed: {join}"))),
    }
}

/// Converts a batch, writes what converts, and sorts every document into written, already
/// present or dead-lettered. `None` for an empty batch.
async fn write_batch(converter: &Converter, writer: &Writer, spec: &CollectionSpec, record: bool, batch: Batch) -> Result<Option<Acknowledged>, RunError> {
    let Some(last) = batch.documents.last() else { return Ok(None) };
    let checkpoint = match (&batch.natural, raw_id(last)) {
        (Some(position), _) => position.encode(),
        (None, Some(last_id)) => encode_id(&last_id),
        (None, None) => return Err(RunError::Read("a document read in _id order has an _id docshift cannot read".into())),
    };
    let mut dead_letters = Vec::new();
    let mut to_write = Vec::with_capacity(batch.documents.len());
    let mut originals = Vec::with_capacity(batch.documents.len());
    let mut copied = Vec::with_capacity(if record { batch.documents.len() } else { 0 });
    for raw in &batch.documents {
        // Most documents convert straight from the raw BSON; the rest (refusals, values with
        // no JSON form, unreadable text) go through a `Document`, which says why.
        let converted = match converter.convert_raw(raw).map_or_else(|| convert_document(converter, spec, raw), Ok) {
            Ok(converted) => converted,
            Err(refused) => {
                dead_letters.push(refused);
                continue;
            }
        };
        // Kept raw, for a refusal: holding the built `Document`s until the write ends raised
        // the peak RSS of a 60,000-document copy from 74 to 120 MB.
        originals.push(raw);
        copied.push(record.then(|| CopiedDocument::of(&converted)));
        to_write.push(converted);
    }
    let keys: Vec<String> = to_write.iter().map(|c| c.id_key().to_owned()).collect();
    let outcomes = if to_write.is_empty() { Vec::new() } else { writer.write(&spec.target, to_write).await? };
    let (mut written, mut already_present) = (0, 0);
    let mut landed = Vec::with_capacity(outcomes.len());
    let mut kept = Vec::with_capacity(copied.len());
    for (((outcome, key), original), copy) in outcomes.into_iter().zip(keys).zip(originals).zip(copied) {
        match outcome {
            DocumentOutcome::Written | DocumentOutcome::AlreadyPresent => {
                if outcome == DocumentOutcome::Written {
                    written += 1;
                } else {
                    already_present += 1;
                }
                landed.push(key);
                kept.extend(copy);
            }
            DocumentOutcome::Failed { code, message } => dead_letters.push(DeadLetter {
                collection: spec.source.clone(),
                id: key,
                reason: format!("Astra refused the document: {message}"),
                code,
                document: original.to_document().map(|document| canonical_extended_json(&document)).unwrap_or_default(),
            }),
        }
    }
    Ok(Some(Acknowledged { checkpoint, written, already_present, dead_letters, copied: kept, landed }))
}

/// A document converted through a `Document`, or refused with its reasons.
fn convert_document(converter: &Converter, spec: &CollectionSpec, raw: &RawDocumentBuf) -> Result<Converted, DeadLetter> {
    let document = raw.to_document().map_err(|error| unreadable(&spec.source, raw, &error))?;
    converter.convert(&document).map_err(|rejection| DeadLetter {
        collection: spec.source.clone(),
        id: rejection.id_key.clone().unwrap_or_else(|| id_text(&document)),
        code: rejection.violations.first().map(|v| v.code().to_string()).unwrap_or_else(|| "REJECTED".into()),
        reason: rejection.to_string(),
        document: canonical_extended_json(&document),
    })
}

/// A document the source sent that does not read as values docshift converts: text that is
/// not UTF-8, which MongoDB can hold in rare cases (strings truncated mid-character,
/// SERVER-24007, cited by the bson crate's `from_slice_utf8_lossy`). It is dead-lettered
/// with what can be read of it.
fn unreadable(collection: &str, raw: &RawDocument, error: &bson::raw::Error) -> DeadLetter {
    let lossy = bson::from_slice_utf8_lossy::<Document>(raw.as_bytes()).ok();
    DeadLetter {
        collection: collection.to_owned(),
        id: lossy.as_ref().map(id_text).unwrap_or_else(|| "(unreadable)".into()),
        code: "UNREADABLE_BSON".into(),
        reason: format!(
            "the source sent a document docshift cannot read ({error}); it is kept here with any \
             text that is not UTF-8 replaced by U+FFFD"
        ),
        document: lossy.map(|document| canonical_extended_json(&document)).unwrap_or_default(),
    }
}

fn id_text(document: &Document) -> String {
    match document.get("_id") {
        Some(id) => id.clone().into_canonical_extjson().to_string(),
        None => "(no _id)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_with_text_that_is_not_utf8_is_dead_lettered_with_what_reads() {
        // {_id: 7, name: "caf\xe9"}: a Latin-1 byte where UTF-8 was due.
        let mut elements = vec![0x10];
        elements.extend_from_slice(b"_id\0");
        elements.extend_from_slice(&7i32.to_le_bytes());
        elements.push(0x02);
        elements.extend_from_slice(b"name\0");
        elements.extend_from_slice(&5i32.to_le_bytes());
        elements.extend_from_slice(b"caf\xe9\0");
        let mut bytes = ((elements.len() + 5) as i32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&elements);
        bytes.push(0);
        let raw = bson::RawDocumentBuf::from_bytes(bytes).unwrap();
        let error = raw.to_document().unwrap_err();

        let letter = unreadable("people", &raw, &error);
        assert_eq!(letter.collection, "people");
        assert_eq!(letter.id, r#"{"$numberInt":"7"}"#);
        assert_eq!(letter.code, "UNREADABLE_BSON");
        assert!(letter.reason.contains("not UTF-8"), "{}", letter.reason);
        assert!(letter.document.contains("caf\u{fffd}"), "{}", letter.document);
    }
}
