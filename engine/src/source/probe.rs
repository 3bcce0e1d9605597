//! Timing what a source does fast, before choosing how to read it: a point lookup on `_id`,
//! whether lookups sent in parallel finish sooner than one after another, and, only where
//! they do, an `_id` range in exactly the shape the range readers send (bounded by
//! `maxTimeMS`, so a server that answers it with a collection scan stops early). The cheap
//! probes go first: on a server that reads one query at a time, ranges can't pay whatever
//! they cost, and a range probe there can cost a collection scan (SecantusDB checks
//! `maxTimeMS` between documents of its scan, not during its sort: an empty range bounded by
//! 20 ms took 0.7 s on 100,000 documents). `explain` is not used: a server may report an
//! index scan for a query it runs as a collection scan.
//!
//! The count a job starts with is asked the same way, within [`COUNT_BUDGET`]: MongoDB
//! answers `estimatedDocumentCount` from the collection's metadata in a millisecond or two,
//! but a server may count by reading every document (SecantusDB does, for a count and for
//! `collStats` alike: 0.65 s for 100,000 documents, a seventh of its whole plain read), and
//! a filtered count is a read of its own on every server that has no index for the filter.
//! Such a count is not waited for: the job starts, and counts beside its copy, or, on a
//! server that reads one query at a time ([`parallel_speedup`]), as it reads.

use super::ranges::{is_time_limit, IdRange};
use bson::{doc, oid::ObjectId, Bson, Document};
use futures::{StreamExt, TryStreamExt};
use mongodb::{action::Action, Collection};
use std::time::{Duration, Instant};

/// Server time a job's first count may take before the job starts without it.
pub const COUNT_BUDGET: Duration = Duration::from_millis(100);

/// Lookups per leg of the parallel test.
const LOOKUPS: usize = 32;
/// Lookups in flight in its parallel leg.
const PARALLEL: usize = 8;

/// What the probes measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// The fastest of a few point lookups on a missing `_id`.
    pub point: Duration,
    /// Sequential lookups' time over parallel ones' (1.0: no gain).
    pub parallel_speedup: f64,
    /// What an empty `_id` range cost; measured only where parallel reads gain.
    pub empty_range: RangeCost,
    /// The `maxTimeMS` the range probe had.
    pub range_budget: Duration,
}

/// What an empty `_id` range cost the server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeCost {
    /// Not asked: parallel reads don't gain, so ranges can't pay whatever they cost.
    NotMeasured,
    Took(Duration),
    /// Still running at the probe's `maxTimeMS`.
    OverBudget,
}

impl Probe {
    /// Whether an `_id` range costs about what a point lookup costs: the server reads it
    /// from an index.
    pub fn ranges_are_index_scans(&self) -> bool {
        matches!(self.empty_range, RangeCost::Took(t) if t <= self.point * 5 + Duration::from_millis(5))
    }
}

/// An `_id` no document has (the zero ObjectId is never generated).
fn missing_id(n: u8) -> Bson {
    let mut bytes = [0u8; 12];
    bytes[11] = n;
    Bson::ObjectId(ObjectId::from_bytes(bytes))
}

/// Probes `collection` as the readers would query it under `user_filter`; the range only
/// when parallel lookups gain at least `parallel_gain`. A speedup measured already on this
/// server (`known_speedup`) is not measured again.
pub async fn probe(collection: &Collection<Document>, user_filter: &Document, parallel_gain: f64, known_speedup: Option<f64>) -> mongodb::error::Result<Probe> {
    let mut point = Duration::MAX;
    for n in 0..3 {
        let started = Instant::now();
        collection.find_one(doc! { "_id": missing_id(n) }).await?;
        point = point.min(started.elapsed());
    }
    let range_budget = (point * 20).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let parallel_speedup = match known_speedup {
        Some(speedup) => speedup,
        None => parallel_speedup(collection).await?,
    };
    let empty_range = if parallel_speedup >= parallel_gain { empty_range(collection, user_filter, range_budget).await? } else { RangeCost::NotMeasured };
    Ok(Probe { point, parallel_speedup, empty_range, range_budget })
}

/// What an empty `_id` range costs under `user_filter`, within `range_budget`.
async fn empty_range(collection: &Collection<Document>, user_filter: &Document, range_budget: Duration) -> mongodb::error::Result<RangeCost> {
    let empty = IdRange { lower: Some(missing_id(0)), upper: Some(missing_id(1)) };
    let started = Instant::now();
    let answer = collection.find(empty.filter(user_filter, None)).sort(doc! { "_id": 1 }).max_time(range_budget).batch_size(1);
    // A server that ignores maxTimeMS is given a little longer before the probe gives up on it.
    let waited = tokio::time::timeout(range_budget * 4 + Duration::from_secs(1), async {
        let mut cursor = answer.await?;
        cursor.try_next().await.map(|_| ())
    })
    .await;
    let took = started.elapsed();
    match waited {
        Ok(Ok(())) if took <= range_budget => Ok(RangeCost::Took(took)),
        Ok(Ok(())) => Ok(RangeCost::OverBudget),
        Ok(Err(e)) if is_time_limit(&e) => Ok(RangeCost::OverBudget),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(RangeCost::OverBudget),
    }
}

/// [`LOOKUPS`] point lookups one after another, then [`PARALLEL`] at a time: the ratio of
/// the times. The sequential leg counts as [`LOOKUPS`] times its median lookup: a lookup
/// there takes a fraction of a millisecond on a server next door, so one pause of this
/// process or of a busy machine (a few milliseconds) made a server that reads one query at a
/// time look 1.5 times as fast in parallel. A pause in the parallel leg only errs toward
/// "no gain", the cautious side.
pub async fn parallel_speedup(collection: &Collection<Document>) -> mongodb::error::Result<f64> {
    let lookup = |n: usize| {
        let collection = collection.clone();
        async move { collection.find_one(doc! { "_id": missing_id((n % 200) as u8 + 2) }).await.map(|_| ()) }
    };
    let mut each = Vec::with_capacity(LOOKUPS);
    for n in 0..LOOKUPS {
        let started = Instant::now();
        lookup(n).await?;
        each.push(started.elapsed());
    }
    each.sort_unstable();
    let sequential = each[LOOKUPS / 2] * LOOKUPS as u32;
    let started = Instant::now();
    futures::stream::iter((0..LOOKUPS).map(lookup)).buffer_unordered(PARALLEL).try_collect::<()>().await?;
    let parallel = started.elapsed();
    Ok(sequential.as_secs_f64() / parallel.as_secs_f64().max(1e-6))
}

/// The server's count of `collection`: its estimate when `filter` is `None`, exact under a
/// filter; within `max_time` of server time, where given.
pub async fn count(collection: &Collection<Document>, filter: Option<Document>, max_time: Option<Duration>) -> mongodb::error::Result<u64> {
    match filter {
        None => collection.estimated_document_count().optional(max_time, |count, t| count.max_time(t)).await,
        Some(filter) => collection.count_documents(filter).optional(max_time, |count, t| count.max_time(t)).await,
    }
}

/// [`count`] within `budget`, or `None` when the server takes longer to give it. A filter
/// the server refuses is an error, as it would be for the copy.
pub async fn quick_count(collection: &Collection<Document>, filter: Option<Document>, budget: Duration) -> mongodb::error::Result<Option<u64>> {
    // A server that ignores maxTimeMS is given a little longer before the count is left.
    match tokio::time::timeout(budget * 4 + Duration::from_secs(1), count(collection, filter, Some(budget))).await {
        Ok(Ok(count)) => Ok(Some(count)),
        Ok(Err(e)) if is_time_limit(&e) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(_) => Ok(None),
    }
}

/// The largest `_id` of `range` under `user_filter`, read from the top, or `None` when the
/// server takes longer than `budget` to say (it reads the whole range first) or the range is
/// empty.
pub async fn last_id(collection: &Collection<Document>, range: &IdRange, user_filter: &Document, budget: Duration) -> Option<Bson> {
    let read = async {
        let mut cursor = collection
            .find(range.filter(user_filter, None))
            .sort(doc! { "_id": -1 })
            .projection(doc! { "_id": 1 })
            .batch_size(1)
            .max_time(budget)
            .await?;
        cursor.try_next().await
    };
    match tokio::time::timeout(budget * 2, read).await {
        Ok(Ok(Some(mut document))) => document.remove("_id"),
        _ => None,
    }
}
