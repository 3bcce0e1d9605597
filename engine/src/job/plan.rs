//! How to read a collection: chosen from measurement before its copy starts, changed while it
//! runs when that helps, and recorded with the reasons (the job's progress, the CLI report and
//! the job page show them).
//!
//! - **Parallel `_id` ranges** when a bounded `_id` range costs about what a point lookup
//!   costs (the server reads it from an index) and lookups sent in parallel finish sooner
//!   than one after another (the server reads in parallel). While the copy runs, a range is
//!   split in two when the writers are waiting for documents and the target has room, as long
//!   as the last split raised the read rate.
//! - Otherwise **one plain cursor in natural order**: no index walk, no sort, the cheapest
//!   complete read a MongoDB server offers. Its checkpoint is the count of documents read and
//!   the last one's `_id`; a resumed read goes through the collection again up to there and
//!   checks that the same document is at the same place. When it is not (documents were
//!   deleted or moved), the copy of the collection starts over in `_id` order, and what the
//!   first attempt wrote counts as already present — never twice.
//! - **One `_id`-ordered cursor** only when asked for (`--read-plan ordered`), or after such
//!   a fallback.
//!
//! Every plan resumes from checkpoints exactly: written + already present + dead-lettered
//! is the matched count.

use super::reader::Frontier;
use crate::{
    source::{
        probe::{count, last_id, probe, Probe, RangeCost},
        ranges::{midpoint, split, IdRange},
    },
    wire::{PlanChoice, ReadPlan, ReadPlanKind},
};
use bson::{Bson, Document};
use std::time::Duration;

/// Collections smaller than this are read with one cursor; ranges are not split below it.
pub(super) const MIN_DOCUMENTS_PER_RANGE: u64 = 5_000;
/// Parallel lookups must be this much faster than sequential ones for ranges to pay (and for
/// a count beside the copy not to hold it up).
pub(super) const PARALLEL_GAIN: f64 = 1.5;
/// How long one range boundary may take to find before the split stops there. A boundary is
/// looked up once per split, for a copy long enough to gain from ranges (minutes), so a few
/// seconds are cheap; a busy server can take that long for a lookup it usually answers in a
/// fraction of one (2 s made the plan fall back to one cursor on a loaded 2-core machine).
const BOUNDARY_BUDGET: Duration = Duration::from_secs(6);
/// A split must raise the read rate this much for the next one to be tried.
const SPLIT_GAIN: f64 = 1.15;
/// After splitting stopped paying, a read rate below this share of the rate then means the
/// source has changed (slower disks, a busier server, a longer network path): splits are
/// tried again.
const SLOWDOWN: f64 = 0.6;

/// A plan and the ranges to record for it (one open range for a single cursor).
pub(super) struct Chosen {
    pub plan: ReadPlan,
    pub ranges: Vec<IdRange>,
    /// The count taken to place the ranges' boundaries, where the job started without one.
    pub counted: Option<u64>,
}

fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn single(kind: ReadPlanKind, reason: String) -> Chosen {
    Chosen { plan: ReadPlan { kind, ranges: 1, reason, changes: Vec::new() }, ranges: vec![IdRange::whole()], counted: None }
}

/// The count that ranges are placed by: the job's, or one taken now (exact, as long as the
/// server needs) where the job started without one.
async fn count_for_ranges(collection: &mongodb::Collection<Document>, filter: &Document, matched: Option<u64>) -> mongodb::error::Result<(u64, Option<u64>)> {
    match matched {
        Some(matched) => Ok((matched, None)),
        None => {
            let counted = count(collection, Some(filter.clone()), None).await?;
            Ok((counted, Some(counted)))
        }
    }
}

/// Chooses how to read `collection` (`matched` documents under `filter`, where counted;
/// `known_speedup`, the server's parallel lookups against sequential ones, where measured).
pub(super) async fn choose(
    collection: &mongodb::Collection<Document>,
    filter: &Document,
    matched: Option<u64>,
    choice: PlanChoice,
    parallel_ranges: usize,
    known_speedup: Option<f64>,
) -> mongodb::error::Result<Chosen> {
    let kind = match choice {
        PlanChoice::Forced(kind) => kind,
        PlanChoice::Auto => {
            let few = matched.filter(|m| *m < 2 * MIN_DOCUMENTS_PER_RANGE);
            if few.is_some() || parallel_ranges <= 1 {
                let why = few.map_or_else(|| "one range was asked for".to_owned(), |m| format!("{m} documents are too few to split"));
                return Ok(single(ReadPlanKind::NaturalOrder, format!("{why}: one plain cursor in natural order, the cheapest complete read")));
            }
            let measured = probe(collection, filter, PARALLEL_GAIN, known_speedup).await?;
            return ranges_if_they_pay(collection, filter, matched, parallel_ranges, &measured).await;
        }
    };
    Ok(match kind {
        ReadPlanKind::NaturalOrder => single(kind, "asked for (--read-plan natural)".into()),
        ReadPlanKind::OrderedCursor => single(kind, "asked for (--read-plan ordered)".into()),
        ReadPlanKind::ParallelRanges => {
            let (matched, counted) = count_for_ranges(collection, filter, matched).await?;
            let ranges = split(collection, filter, matched, parallel_ranges.max(1), MIN_DOCUMENTS_PER_RANGE, None).await?;
            let plan = ReadPlan { kind, ranges: ranges.len() as u32, reason: "asked for (--read-plan ranges)".into(), changes: Vec::new() };
            Chosen { plan, ranges, counted }
        }
    })
}

/// The measured choice: ranges where they are index scans and parallel reads gain; one
/// plain cursor elsewhere.
async fn ranges_if_they_pay(
    collection: &mongodb::Collection<Document>,
    filter: &Document,
    matched: Option<u64>,
    parallel_ranges: usize,
    measured: &Probe,
) -> mongodb::error::Result<Chosen> {
    let point = format!("a point lookup on _id took {}", ms(measured.point));
    let natural = "one plain cursor in natural order, the cheapest complete read (no index walk, no sort)";
    let speedup = measured.parallel_speedup;
    let scans = |range: String| {
        let why = format!("parallel reads gain ({speedup:.1}× for 8 lookups at a time), but an _id range costs a collection scan on this server ({range}; {point})");
        Ok(single(ReadPlanKind::NaturalOrder, format!("{why}: {natural}")))
    };
    let range = match measured.empty_range {
        RangeCost::NotMeasured => return Ok(single(
            ReadPlanKind::NaturalOrder,
            format!("the server gains nothing from parallel reads (8 lookups at a time were {speedup:.1}× as fast as one at a time; {point}): {natural}"),
        )),
        RangeCost::Took(t) if measured.ranges_are_index_scans() => t,
        RangeCost::Took(t) => return scans(format!("an empty _id range took {}", ms(t))),
        RangeCost::OverBudget => return scans(format!("an empty _id range was still running after {} (stopped)", ms(measured.range_budget))),
    };
    let ranges_fast = format!("_id ranges are index scans (an empty range took {}; {point})", ms(range));
    // Half the ceiling to start with: the rest is room for splits where the readers turn
    // out to be the bottleneck, measured while the copy runs.
    let start = if parallel_ranges < 2 { 1 } else { parallel_ranges.div_ceil(2).max(2) };
    let (matched, counted) = count_for_ranges(collection, filter, matched).await?;
    if matched < 2 * MIN_DOCUMENTS_PER_RANGE {
        return Ok(Chosen { counted, ..single(ReadPlanKind::NaturalOrder, format!("{ranges_fast}, but {matched} documents are too few to split: {natural}")) });
    }
    let ranges = split(collection, filter, matched, start, MIN_DOCUMENTS_PER_RANGE, Some(BOUNDARY_BUDGET)).await?;
    let count = ranges.len();
    if count < 2 {
        // One open range is `find({})` sorted by `_id`: a whole-collection sort where no
        // boundary could be found in time. The plain cursor is cheaper.
        return Ok(Chosen { counted, ..single(
            ReadPlanKind::NaturalOrder,
            format!("{ranges_fast} and parallel reads gain ({speedup:.1}×), but no range boundary was found within {}: {natural}", ms(BOUNDARY_BUDGET)),
        ) });
    }
    let reason = format!(
        "{ranges_fast} and parallel reads gain ({speedup:.1}× for 8 lookups at a time): {count} range{} to start, split up to {parallel_ranges} while the readers are the bottleneck",
        if count == 1 { "" } else { "s" }
    );
    Ok(Chosen { plan: ReadPlan { kind: ReadPlanKind::ParallelRanges, ranges: count as u32, reason, changes: Vec::new() }, ranges, counted })
}

/// What one range looked like over the last interval.
pub(super) struct RangeSample {
    pub frontier: std::sync::Arc<Frontier>,
    /// Its writers' time waiting for the reader, in this interval.
    pub starved: Duration,
}

/// Decides, interval by interval, whether to split a range: when the writers mostly waited
/// for the readers, the target had room, and the previous split (if any) raised the rate.
#[derive(Debug, Default)]
pub(super) struct Replanner {
    /// Documents read by all ranges at the last look.
    read: u64,
    /// The read rate before the last split, while its effect is measured.
    before_split: Option<f64>,
    /// Intervals since the last split.
    since_split: u32,
    /// Splitting stopped helping: no more, unless the source slows down.
    done: bool,
    /// The read rate when splitting stopped.
    stopped_at: f64,
    /// The largest `_id` of the collection, once looked up (for splitting the open range).
    max_id: Option<Option<Bson>>,
}

/// What the replanner wants.
pub(super) enum Decision {
    Keep,
    /// Split the range of this frontier at this `_id`.
    Split { at: usize },
    /// Stop splitting, and why.
    Stop(String),
}

impl Replanner {
    /// Looks at the ranges after `interval`; `room`: whether the target takes more requests
    /// than it gets; `max_ranges`: the ceiling.
    pub fn decide(&mut self, samples: &[RangeSample], interval: Duration, room: bool, max_ranges: usize) -> Decision {
        let read: u64 = samples.iter().map(|s| s.frontier.lock().documents).sum();
        let rate = read.saturating_sub(self.read) as f64 / interval.as_secs_f64().max(1e-3);
        self.read = read;
        self.since_split += 1;
        if self.done {
            if rate >= self.stopped_at * SLOWDOWN {
                return Decision::Keep;
            }
            // The source got slower since: what did not pay then may pay now.
            self.done = false;
        }
        if let Some(before) = self.before_split {
            // The first interval after a split has the new reader starting up.
            if self.since_split < 3 {
                return Decision::Keep;
            }
            self.before_split = None;
            // Far slower than before the split: the source changed meanwhile (a split that
            // costs this much does not happen where the probe found parallel reads gain), so
            // the comparison says nothing about the split — and a slower source is where more
            // ranges pay. Decide afresh.
            if rate < before * SLOWDOWN {
                tracing::info!(before, rate, "the read rate fell after a split by more than a split explains: deciding afresh");
            } else if rate < before * SPLIT_GAIN {
                self.done = true;
                self.stopped_at = rate.max(before);
                return Decision::Stop(format!("the last split did not raise the read rate ({before:.0} → {rate:.0} docs/s): no more splits"));
            }
        }
        let active: Vec<usize> = (0..samples.len()).filter(|&i| !samples[i].frontier.lock().finished).collect();
        if active.is_empty() || active.len() >= max_ranges || !room {
            return Decision::Keep;
        }
        let starved: Duration = active.iter().map(|&i| samples[i].starved).sum();
        let starved_share = starved.as_secs_f64() / (interval.as_secs_f64() * active.len() as f64);
        if starved_share < 0.5 {
            return Decision::Keep;
        }
        // The range that has read the least goes first: it has the most left, roughly. A
        // bounded one before the open last one, which needs the collection's largest `_id`
        // (a lookup that may not come back in time).
        let Some(&at) = active.iter().min_by_key(|&&i| {
            let state = samples[i].frontier.lock();
            (state.upper.is_none(), state.documents)
        }) else {
            return Decision::Keep;
        };
        self.before_split = Some(rate);
        self.since_split = 0;
        Decision::Split { at }
    }

    /// The largest `_id` of the collection (looked up once, bounded in time), for a split of
    /// a range with no upper bound read up to `from`: asked as an `_id` range from there, the
    /// shape the probe found fast.
    pub async fn max_id(&mut self, collection: &mongodb::Collection<Document>, filter: &Document, from: Option<Bson>) -> Option<Bson> {
        if self.max_id.is_none() {
            let rest = IdRange { lower: from, upper: None };
            self.max_id = Some(last_id(collection, &rest, filter, BOUNDARY_BUDGET).await);
        }
        self.max_id.clone().flatten()
    }

    /// The split it asked for could not be made (no bound to split at): nothing to measure.
    pub fn split_not_made(&mut self) {
        self.before_split = None;
    }
}

/// Where to split a range read up to `position` (or from `lower`) that ends at `upper`.
pub(super) fn split_point(position: Option<&Bson>, lower: Option<&Bson>, upper: &Bson) -> Option<Bson> {
    let from = position.or(lower)?;
    midpoint(from, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(documents: u64, starved_ms: u64, finished: bool) -> RangeSample {
        let frontier = Frontier::new(None);
        {
            let mut state = frontier.lock();
            state.documents = documents;
            state.finished = finished;
        }
        RangeSample { frontier, starved: Duration::from_millis(starved_ms) }
    }

    #[test]
    fn a_starved_copy_splits_and_stops_when_splitting_does_not_pay() {
        let second = Duration::from_secs(1);
        let mut replanner = Replanner::default();
        // Writers waited 900 ms of each second for documents: split the slowest range.
        let samples = vec![sample(1_000, 900, false), sample(400, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Split { at: 1 }));
        // Two more intervals at about the same rate: the split did not help.
        let samples = vec![sample(2_000, 900, false), sample(800, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Keep));
        let samples = vec![sample(2_800, 900, false), sample(1_300, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Keep));
        let samples = vec![sample(3_600, 900, false), sample(1_800, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Stop(_)));
        // Reading on at that rate: no more splits.
        let samples = vec![sample(4_400, 900, false), sample(2_300, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Keep));
    }

    #[test]
    fn a_source_that_slows_down_after_splits_stopped_is_split_again() {
        let second = Duration::from_secs(1);
        let mut replanner = Replanner { done: true, stopped_at: 1_000.0, read: 10_000, ..Replanner::default() };
        // 900 docs/s: within the noise of the 1,000 it read when splitting stopped.
        assert!(matches!(replanner.decide(&[sample(10_900, 900, false), sample(0, 900, false)], second, true, 4), Decision::Keep));
        // 300 docs/s, the writers waiting: the source changed, splitting is tried again.
        assert!(matches!(replanner.decide(&[sample(11_200, 900, false), sample(0, 900, false)], second, true, 4), Decision::Split { at: 1 }));
    }

    #[test]
    fn a_source_that_slows_down_right_after_a_split_is_split_again() {
        let second = Duration::from_secs(1);
        let mut replanner = Replanner::default();
        let samples = vec![sample(2_000, 900, false), sample(1_000, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Split { at: 1 }));
        // Then the source gets four times slower: 750 docs/s where it read 3,000.
        for read in [3_750, 4_500] {
            let samples = vec![sample(read, 900, false), sample(1_000, 900, false)];
            assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Keep));
        }
        let samples = vec![sample(5_250, 900, false), sample(1_000, 900, false), sample(0, 900, false)];
        assert!(matches!(replanner.decide(&samples, second, true, 4), Decision::Split { at: 2 }), "the fall is the source's, not the split's");
    }

    #[test]
    fn busy_writers_or_a_full_target_keep_the_plan() {
        let second = Duration::from_secs(1);
        let mut replanner = Replanner::default();
        assert!(matches!(replanner.decide(&[sample(1_000, 100, false)], second, true, 4), Decision::Keep));
        assert!(matches!(replanner.decide(&[sample(2_000, 900, false)], second, false, 4), Decision::Keep));
        assert!(matches!(replanner.decide(&[sample(3_000, 900, false)], second, true, 1), Decision::Keep));
        assert!(matches!(replanner.decide(&[sample(3_000, 900, true)], second, true, 4), Decision::Keep));
    }

    #[test]
    fn split_points_lie_after_what_was_read() {
        let at = split_point(Some(&Bson::Int64(10)), Some(&Bson::Int64(0)), &Bson::Int64(30)).unwrap();
        assert_eq!(at, Bson::Int64(20));
        assert_eq!(split_point(None, None, &Bson::Int64(30)), None);
    }

    #[test]
    fn a_resumed_range_splits_after_its_checkpoint_before_its_reader_takes_a_document() {
        // Range [0, 100) resumed after 80: a split made before its reader answers must not
        // hand [50, 80], already copied and counted, to a new range.
        let frontier = Frontier::resumed(Some(Bson::Int64(100)), Some(Bson::Int64(80)));
        let state = frontier.lock();
        let at = split_point(state.position.as_ref(), Some(&Bson::Int64(0)), &Bson::Int64(100)).unwrap();
        assert_eq!(at, Bson::Int64(90));
    }
}
