//! Cutting an online job over: someone asks (a browser, or `docshift cutover`), docshift
//! takes the barrier — the source's cluster time at that moment — and records it with who
//! asked and when, so that every process and every browser shows it and a restart keeps it.
//! The followers apply every change up to the barrier and none after; verification then
//! compares the target with the source, leaving out the documents changed after the barrier
//! (counted and reported), and the job ends with "the target equals the source as of T".

use super::{
    follow::AfterBarrier,
    store::{CutoverRequest, OnlineStore},
};
use crate::{
    job::{
        error::JobError,
        spec::JobSpec,
        store::{now_ms, JobStore},
    },
    source::{
        changes::{source_time, ClusterTime},
        mongo::{MongoSource, SourceUri},
    },
    wire::{thousands, Verification},
};
use std::time::Duration;

/// How long taking the barrier may wait for the source.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(10);

/// Takes the barrier now and records the cutover `who` asked for. A second request leaves the
/// first one standing.
pub(crate) async fn request(store: &JobStore, id: &str, spec: &JobSpec, who: &str) -> Result<(), JobError> {
    let uri = SourceUri::parse(&spec.source_uri)?;
    let source = MongoSource::connect(&uri, BARRIER_TIMEOUT).await?;
    let barrier = source_time(source.client(), &uri).await?;
    let request = CutoverRequest { by: who.to_owned(), at_ms: now_ms(), barrier };
    if OnlineStore::open(store)?.request_cutover(id, &request)? {
        tracing::info!(job = id, who, barrier = %barrier, "cutover asked");
    } else {
        tracing::info!(job = id, who, "cutover asked again; the first request stands");
    }
    Ok(())
}

/// Takes out of a failed report the documents that changed after the barrier (their source
/// moved on while the target stays as of the barrier); answers how many it took out. Only a
/// report that lists every mismatch can be explained this way.
pub(super) fn explain(report: &mut Verification, after: &AfterBarrier) -> u64 {
    let mismatches = report.checked - report.matching;
    let listed = (report.missing.len() + report.different.len()) as u64;
    if mismatches == 0 || listed != mismatches {
        return 0;
    }
    let moved = |key: &String| after.contains(key);
    if !report.missing.iter().chain(&report.different).all(moved) {
        return 0;
    }
    report.checked -= mismatches;
    report.missing.clear();
    report.different.clear();
    mismatches
}

/// The time of day, UTC, to the millisecond: `12:00:01.234 UTC`.
fn clock_ms(ms: i64) -> String {
    let day = ms.rem_euclid(86_400_000);
    format!("{:02}:{:02}:{:02}.{:03} UTC", day / 3_600_000, day % 3_600_000 / 60_000, day % 60_000 / 1_000, day % 1_000)
}

/// What the job says at its end: who cut over, as of when the target equals the source, and
/// the changes that came after the barrier.
pub(super) fn summary(cutover: &CutoverRequest, as_of: &ClusterTime, verified: bool, after_barrier: u64) -> String {
    let mut text = format!("Cut over by {} at {}: ", cutover.by, clock_ms(cutover.at_ms));
    if verified {
        text.push_str(&format!("the target equals the source as of {} ({as_of})", clock_ms(as_of.wall_ms)));
    } else {
        text.push_str(&format!("the target holds every change up to {} ({as_of})", clock_ms(as_of.wall_ms)));
    }
    if after_barrier == 0 {
        text.push_str("; no change came after the barrier.");
    } else {
        let changes = if after_barrier == 1 { "1 change came".to_owned() } else { format!("{} changes came", thousands(after_barrier)) };
        text.push_str(&format!(
            "; {changes} after the barrier and {} not in the target: stop the application's writes to MongoDB before cutting over, or start a new online job.",
            if after_barrier == 1 { "is" } else { "are" }
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bson::Timestamp;

    #[test]
    fn mismatches_of_documents_changed_after_the_barrier_are_taken_out() {
        let after = AfterBarrier::default();
        let report = |missing: &[&str], different: &[&str], checked: u64| Verification {
            checked,
            matching: checked - (missing.len() + different.len()) as u64,
            missing: missing.iter().map(|s| s.to_string()).collect(),
            different: different.iter().map(|s| s.to_string()).collect(),
            recall: None,
        };
        let mut clean = report(&[], &[], 10);
        assert_eq!(explain(&mut clean, &after), 0);
        let mut unexplained = report(&["a"], &["b"], 10);
        assert_eq!(explain(&mut unexplained, &after), 0);
        assert!(!unexplained.passed());
        after.record("a".into());
        assert_eq!(explain(&mut unexplained, &after), 0, "b did not change after the barrier");
        after.record("b".into());
        assert_eq!(explain(&mut unexplained, &after), 2);
        assert!(unexplained.passed() && unexplained.checked == 8);
        let mut truncated = Verification { checked: 300, matching: 0, missing: vec!["a".into()], different: vec!["b".into()], recall: None };
        assert_eq!(explain(&mut truncated, &after), 0, "a report that lists only some mismatches is not explained");
    }

    #[test]
    fn the_summary_says_as_of_when_and_what_came_after() {
        let cutover = CutoverRequest { by: "Ada".into(), at_ms: 45_296_789, barrier: ClusterTime::new(Timestamp { time: 45_296, increment: 3 }, Some(45_296_700)) };
        let text = summary(&cutover, &cutover.barrier, true, 0);
        assert_eq!(text, "Cut over by Ada at 12:34:56.789 UTC: the target equals the source as of 12:34:56.700 UTC (Timestamp(45296, 3)); no change came after the barrier.");
        assert!(summary(&cutover, &cutover.barrier, true, 1_200).contains("1,200 changes came after the barrier"));
    }
}
