//! Following one collection's change stream: a reader task takes the changes off the stream,
//! the follower numbers them and hands each to its document's lane ([`super::apply`]), and
//! every half second it commits the resume point — the token of the last change such that it
//! and every change before it are applied — with the counters, the dead letters and the live
//! lag. A crash replays the changes after the stored point (applying a change twice ends the
//! same), never skips one.
//!
//! Once a cutover's barrier is known, changes after it are not applied: they are counted, and
//! their documents left out of the verification. The follower is past the barrier when a
//! change after it arrives, or when the stream runs dry in a read that began after the
//! barrier was taken; it then tells the job and goes on reading (to count what still comes)
//! until the job says until when.

use super::{
    apply::{Applied, Applier, Done, Lanes, NotApplied},
    lag::{lag_ms, Pace},
    store::{OnlineStore, SyncCommit},
};
use crate::{
    astra::data_api::DataApiClient,
    convert::Converter,
    job::{
        control::{wait_while_paused, Control},
        error::RunError,
        progress::Publisher,
    },
    source::{
        changes::{Change, ChangeError, ChangeFeed, ChangeKind, ClusterTime, StreamPoint},
        mongo::SourceUri,
    },
    wire::ChangeCounters,
};
use bson::{doc, Document};
use std::{
    cmp::Ordering,
    collections::{HashSet, VecDeque},
    sync::{
        atomic::{AtomicU64, Ordering as AtomicOrdering},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};
use tokio::sync::{mpsc, watch};

/// How often the resume point is committed and the live figures published.
const COMMIT_EVERY: Duration = Duration::from_millis(500);
/// Changes read but not yet applied, at most; the reader waits beyond.
const MAX_IN_FLIGHT: usize = 10_000;
/// Changes read ahead of the follower.
const READ_AHEAD: usize = 1_024;
/// Times the stream is reopened after transient failures in a row before the job stops.
const REOPEN_RETRIES: u32 = 8;

/// A point of the source's history and the moment this process learned of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    pub time: ClusterTime,
    pub noted: Instant,
}

/// The changes of one collection made after the barrier: how many, and which documents.
#[derive(Debug, Default)]
pub(super) struct AfterBarrier {
    changes: AtomicU64,
    ids: Mutex<HashSet<String>>,
}

impl AfterBarrier {
    pub fn record(&self, id_key: String) {
        self.changes.fetch_add(1, AtomicOrdering::Relaxed);
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).insert(id_key);
    }

    pub fn changes(&self) -> u64 {
        self.changes.load(AtomicOrdering::Relaxed)
    }

    /// Whether the document with this id key changed after the barrier.
    pub fn contains(&self, id_key: &str) -> bool {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).contains(id_key)
    }
}

/// How a follower ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// Past the barrier and past the point the job asked it to read to.
    Finished,
    Cancelled,
}

/// What a follower tells the job as it goes.
#[derive(Debug)]
pub(super) struct PastBarrier {
    pub collection: String,
    /// The newest change applied (the barrier at most).
    pub applied_to: ClusterTime,
}

/// Everything one collection's sync needs.
pub(super) struct Follower {
    pub job: String,
    /// The source collection's name.
    pub source: String,
    pub target: String,
    pub collection: mongodb::Collection<Document>,
    pub uri: SourceUri,
    pub client: DataApiClient,
    pub converter: Arc<Converter>,
    pub lanes: usize,
    pub online: OnlineStore,
    pub publisher: Arc<Publisher>,
    pub control: watch::Receiver<Control>,
    pub barrier: watch::Receiver<Option<Mark>>,
    /// Once past the barrier: keep reading until past this point, then end.
    pub drain_until: watch::Receiver<Option<Mark>>,
    pub source_now: watch::Receiver<Option<ClusterTime>>,
    pub after: Arc<AfterBarrier>,
    pub reports: mpsc::UnboundedSender<PastBarrier>,
}

/// Why one pass over an open stream stopped.
enum Stop {
    Paused,
    Cancelled,
    Finished,
    /// A transient failure of the stream: reopen it from the resume point.
    Reopen(ChangeError),
}

/// What the reader task hands on.
enum Item {
    Change(Change),
    /// The stream had nothing more, in a read that began at `started`; `token` resumes after
    /// everything it scanned, which is at least as new as `known`.
    Idle { started: Instant, token: Option<Vec<u8>>, known: Option<ClusterTime> },
    Failed(ChangeError),
}

/// A change read and handed to a lane, until its result comes back.
struct Slot {
    seq: u64,
    token: Vec<u8>,
    time: ClusterTime,
    result: Option<Result<Applied, NotApplied>>,
}

/// Aborts the task when dropped.
struct Reader(tokio::task::JoinHandle<()>);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Follower {
    /// Follows the collection from its stored resume point until cancelled, or past the
    /// barrier and the job's last point.
    pub async fn run(mut self) -> Result<Ended, RunError> {
        let mut point = self.online.stream_point(&self.job, &self.source)?;
        let mut failures = 0u32;
        loop {
            if wait_while_paused(&mut self.control).await == Control::Cancel {
                return Ok(Ended::Cancelled);
            }
            let opened = ChangeFeed::open(&self.collection, &self.uri, &point).await;
            let stop = match opened {
                Ok(feed) => self.follow(feed, &mut point, &mut failures).await?,
                Err(error) => Stop::Reopen(error),
            };
            match stop {
                Stop::Reopen(ChangeError::TooLarge { .. }) => self.pass_too_large(&mut point).await?,
                Stop::Paused => continue,
                Stop::Cancelled => return Ok(Ended::Cancelled),
                Stop::Finished => return Ok(Ended::Finished),
                Stop::Reopen(error) if error.is_transient() && failures < REOPEN_RETRIES => {
                    failures += 1;
                    let wait = Duration::from_secs(1u64 << (failures - 1).min(4));
                    tracing::warn!(job = %self.job, collection = %self.source, %error, attempt = failures, "the change stream failed; reopening it from the resume point");
                    tokio::time::sleep(wait).await;
                }
                Stop::Reopen(error) => return Err(error.into()),
            }
        }
    }

    /// One pass over an open stream.
    async fn follow(&mut self, feed: ChangeFeed, point: &mut StreamPoint, failures: &mut u32) -> Result<Stop, RunError> {
        let (stop_lanes, stopped) = watch::channel(false);
        let applier = Arc::new(Applier {
            client: self.client.clone(),
            source: self.source.clone(),
            target: self.target.clone(),
            converter: self.converter.clone(),
            stop: stopped,
        });
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Vec<Done>>();
        let lanes = Lanes::start(self.lanes, applier, done_tx);
        let (items_tx, mut items_rx) = mpsc::channel(READ_AHEAD);
        let mut reader = Some(Reader(tokio::spawn(read(feed, items_tx, self.source_now.clone()))));

        let mut in_flight: VecDeque<Slot> = VecDeque::new();
        let mut next_seq = 0u64;
        let mut pending = SyncCommit::default();
        let mut moved = false;
        let mut caught_up = false;
        let mut newest_read: Option<ClusterTime> = None;
        let mut past = false;
        let mut reported = false;
        let mut finished = false;
        let mut applied_total = 0u64;
        let mut pace = Pace::default();
        let mut stopping: Option<Stop> = None;
        let mut tick = tokio::time::interval(COMMIT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(batch) = done_rx.recv() => {
                    for (seq, result) in batch {
                        let first = in_flight.front().map_or(seq, |s| s.seq);
                        if let Some(slot) = in_flight.get_mut((seq - first) as usize) {
                            slot.result = Some(result);
                        }
                    }
                    while in_flight.front().is_some_and(|s| matches!(s.result, Some(Ok(_)))) {
                        let Some(slot) = in_flight.pop_front() else { break };
                        let Some(Ok(applied)) = slot.result else { break };
                        count(&mut pending.applied, &mut pending.dead_letters, applied);
                        applied_total += 1;
                        *point = StreamPoint { token: Some(slot.token), time: slot.time };
                        moved = true;
                    }
                    if let Some(Some(Err(NotApplied::Failed(_)))) = in_flight.front().map(|s| &s.result) {
                        // Commit what is applied, then stop the job with the target's error.
                        self.commit(point, moved, &mut pending, None, in_flight.len(), 0.0)?;
                        if let Some(Slot { result: Some(Err(NotApplied::Failed(error))), .. }) = in_flight.pop_front() {
                            return Err(error.into());
                        }
                    }
                }
                item = items_rx.recv(), if stopping.is_none() && in_flight.len() < MAX_IN_FLIGHT => match item {
                    Some(Item::Change(change)) => {
                        *failures = 0;
                        newest_read = Some(change.time);
                        let barrier = *self.barrier.borrow();
                        if past || barrier.is_some_and(|b| change.time.cmp_time(&b.time) == Ordering::Greater) {
                            past = true;
                            self.after.record(id_key(&self.converter, &change));
                            if let Some(until) = *self.drain_until.borrow() {
                                if change.time.cmp_time(&until.time) == Ordering::Greater {
                                    finished = true;
                                }
                            }
                            continue;
                        }
                        caught_up = false;
                        let seq = next_seq;
                        next_seq += 1;
                        in_flight.push_back(Slot { seq, token: change.token.clone(), time: change.time, result: None });
                        lanes.dispatch(seq, change);
                    }
                    Some(Item::Idle { started, token, known }) => {
                        caught_up = true;
                        if in_flight.is_empty() && !past {
                            // Everything the stream gave is applied: resume after all it scanned.
                            if let Some(token) = token {
                                let time = match known {
                                    Some(known) if known.cmp_time(&point.time) == Ordering::Greater => known,
                                    _ => point.time,
                                };
                                *point = StreamPoint { token: Some(token), time };
                                moved = true;
                            }
                        }
                        if self.barrier.borrow().is_some_and(|b| started >= b.noted) {
                            past = true;
                        }
                        if past && self.drain_until.borrow().is_some_and(|d| started >= d.noted) {
                            finished = true;
                        }
                    }
                    Some(Item::Failed(error)) => {
                        if !error.is_transient() && !matches!(error, ChangeError::TooLarge { .. }) {
                            self.commit(point, moved, &mut pending, None, in_flight.len(), 0.0)?;
                            return Err(error.into());
                        }
                        stopping = Some(Stop::Reopen(error));
                    }
                    None => stopping = Some(Stop::Reopen(ChangeError::Driver {
                        namespace: self.source.clone(),
                        detail: "the change stream ended".into(),
                        transient: true,
                    })),
                },
                changed = self.control.changed(), if stopping.is_none() => {
                    if changed.is_err() {
                        stopping = Some(Stop::Cancelled);
                    }
                    stopping = stopping.or_else(|| asked_to_stop(&self.control));
                    if stopping.is_some() {
                        let _ = stop_lanes.send(true);
                        reader = None;
                    }
                }
                _ = tick.tick() => {
                    stopping = stopping.or_else(|| asked_to_stop(&self.control));
                    if stopping.is_some() {
                        let _ = stop_lanes.send(true);
                        reader = None;
                    }
                    let lag = if past {
                        Some(0)
                    } else {
                        let now = *self.source_now.borrow();
                        Some(lag_ms(caught_up && in_flight.is_empty(), &point.time, newest_read.as_ref(), now.as_ref()))
                    };
                    let rate = pace.rate(applied_total);
                    self.commit(point, moved, &mut pending, lag, in_flight.len(), rate)?;
                    moved = false;
                    if past && in_flight.is_empty() && !reported {
                        reported = true;
                        let _ = self.reports.send(PastBarrier { collection: self.source.clone(), applied_to: point.time });
                    }
                    if finished && reported {
                        return Ok(Stop::Finished);
                    }
                    if in_flight.iter().all(|s| s.result.is_some()) {
                        if let Some(stop) = stopping.take() {
                            drop(reader);
                            return Ok(stop);
                        }
                    }
                }
            }
        }
    }

    /// Gets past the change that is too large to read: the stream without documents gives its
    /// `_id`, kind and time; it is dead-lettered with that reason (the target keeps the
    /// document's earlier version) and the resume point moves past it.
    async fn pass_too_large(&self, point: &mut StreamPoint) -> Result<(), RunError> {
        let mut feed = ChangeFeed::open_without_documents(&self.collection, &self.uri, point).await?;
        let mut change = None;
        for _ in 0..20 {
            change = feed.next().await?;
            if change.is_some() {
                break;
            }
        }
        let Some(change) = change else { return Ok(()) };
        let key = id_key(&self.converter, &change);
        if self.barrier.borrow().is_some_and(|b| change.time.cmp_time(&b.time) == Ordering::Greater) {
            self.after.record(key);
            return Ok(());
        }
        tracing::warn!(job = %self.job, collection = %self.source, id = %key, time = %change.time, "a change too large to read is dead-lettered");
        let letter = crate::job::store::DeadLetter {
            collection: self.source.clone(),
            id: key,
            code: "CHANGE_EVENT_TOO_LARGE".into(),
            reason: format!(
                "{} at {}: the change event is larger than MongoDB's 16 MB limit for one document, so it cannot be read; a document that large is more than Astra takes (4,000,000 characters), and the target keeps its earlier version",
                change.kind.as_str(),
                change.time
            ),
            document: bson::Bson::Document(doc! { "_id": change.id.clone() }).into_canonical_extjson().to_string(),
        };
        *point = StreamPoint { token: Some(change.token), time: change.time };
        let mut pending = SyncCommit {
            applied: ChangeCounters { dead_lettered: 1, ..Default::default() },
            dead_letters: vec![letter],
            ..Default::default()
        };
        self.commit(point, true, &mut pending, None, 0, 0.0)
    }

    /// Commits what is accounted for since the last commit, with the live figures, and
    /// publishes the job's progress.
    fn commit(&self, point: &StreamPoint, moved: bool, pending: &mut SyncCommit, lag_ms: Option<i64>, waiting: usize, rate: f64) -> Result<(), RunError> {
        let commit = SyncCommit {
            point: moved.then(|| point.clone()),
            applied: std::mem::take(&mut pending.applied),
            dead_letters: std::mem::take(&mut pending.dead_letters),
            lag_ms,
            waiting: waiting as u64,
            rate,
        };
        self.online.commit(&self.job, &self.source, &commit)?;
        self.publisher.record_landed(&self.job, &self.source, Vec::new(), &commit.dead_letters);
        Ok(())
    }
}

/// The stop the people watching ask for, if any.
fn asked_to_stop(control: &watch::Receiver<Control>) -> Option<Stop> {
    match *control.borrow() {
        Control::Pause => Some(Stop::Paused),
        Control::Cancel => Some(Stop::Cancelled),
        Control::Run => None,
    }
}

/// Adds one applied change to the counters (and its dead letter to the list).
fn count(counters: &mut ChangeCounters, dead_letters: &mut Vec<crate::job::store::DeadLetter>, applied: Applied) {
    match applied {
        Applied::Done(ChangeKind::Insert) => counters.inserts += 1,
        Applied::Done(ChangeKind::Update) => counters.updates += 1,
        Applied::Done(ChangeKind::Replace) => counters.replaces += 1,
        Applied::Done(ChangeKind::Delete) => counters.deletes += 1,
        Applied::Skipped => counters.skipped += 1,
        Applied::DeadLettered(letter) => {
            counters.dead_lettered += 1;
            dead_letters.push(letter);
        }
    }
}

/// The stable key of a change's document, as verification knows it.
fn id_key(converter: &Converter, change: &Change) -> String {
    match converter.convert(&doc! { "_id": change.id.clone() }) {
        Ok(converted) => converted.id_key().to_owned(),
        Err(rejection) => rejection.id_key.unwrap_or_else(|| change.id.clone().into_canonical_extjson().to_string()),
    }
}

/// Takes the changes off the stream until it fails or nobody listens.
async fn read(mut feed: ChangeFeed, items: mpsc::Sender<Item>, source_now: watch::Receiver<Option<ClusterTime>>) {
    loop {
        let started = Instant::now();
        let known = *source_now.borrow();
        let item = match feed.next().await {
            Ok(Some(change)) => Item::Change(change),
            Ok(None) => Item::Idle { started, token: feed.resume_token(), known },
            Err(error) => {
                let _ = items.send(Item::Failed(error)).await;
                return;
            }
        };
        if items.send(item).await.is_err() {
            return;
        }
    }
}
