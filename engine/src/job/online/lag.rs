//! How far behind the source an online job is, and how fast it applies: the source's time
//! sampled once a second ([`sample_source_time`]), the lag of a collection's sync
//! ([`lag_ms`]) and its changes applied per second ([`Pace`]).
//!
//! The lag is the source's latest write against the last change applied: the newest of the
//! sampled source time and the newest change read, minus the cluster time of the resume
//! point. When the stream has nothing more to give and every change read is applied, the
//! target is caught up and the lag is 0, also when the source is idle or writes only to other
//! collections (the resume point then moves with the stream's post-batch resume token).

use crate::source::{
    changes::{source_time, ClusterTime},
    mongo::SourceUri,
};
use mongodb::Client;
use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};
use tokio::sync::watch;

/// How often the source's time is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// How far back the rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Samples the source's cluster time into `now` every second, until nobody listens.
pub(super) async fn sample_source_time(client: Client, uri: SourceUri, now: watch::Sender<Option<ClusterTime>>) {
    loop {
        match source_time(&client, &uri).await {
            Ok(time) => {
                if now.send(Some(time)).is_err() {
                    return;
                }
            }
            Err(error) => tracing::debug!(%error, "cannot read the source's time; the lag waits for the next sample"),
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// Milliseconds the target is behind: 0 when caught up, else the newest source time known
/// (sampled, or of the newest change read) against the resume point's.
pub(super) fn lag_ms(caught_up: bool, applied: &ClusterTime, newest_read: Option<&ClusterTime>, source_now: Option<&ClusterTime>) -> i64 {
    if caught_up {
        return 0;
    }
    let newest = [newest_read, source_now].into_iter().flatten().map(|t| t.wall_ms).max().unwrap_or(applied.wall_ms);
    (newest - applied.wall_ms).max(0)
}

/// Changes applied per second over the last few seconds.
#[derive(Debug, Default)]
pub(super) struct Pace {
    samples: VecDeque<(Instant, u64)>,
}

impl Pace {
    /// Records that `total` changes are applied by now, and answers the rate.
    pub fn rate(&mut self, total: u64) -> f64 {
        let now = Instant::now();
        self.samples.push_back((now, total));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
            self.samples.pop_front();
        }
        match (self.samples.front(), self.samples.back()) {
            (Some((t0, n0)), Some((_, n1))) if n1 > n0 => (n1 - n0) as f64 / now.duration_since(*t0).as_secs_f64().max(0.001),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::Timestamp;

    fn at(ms: i64) -> ClusterTime {
        ClusterTime::new(Timestamp { time: (ms / 1_000) as u32, increment: 1 }, Some(ms))
    }

    #[test]
    fn lag_is_zero_when_caught_up_and_the_newest_known_time_otherwise() {
        assert_eq!(lag_ms(true, &at(1_000), Some(&at(9_000)), Some(&at(9_000))), 0);
        assert_eq!(lag_ms(false, &at(1_000), Some(&at(4_000)), Some(&at(3_500))), 3_000);
        assert_eq!(lag_ms(false, &at(1_000), None, Some(&at(3_500))), 2_500);
        assert_eq!(lag_ms(false, &at(5_000), None, Some(&at(3_500))), 0, "a stale sample is not a negative lag");
        assert_eq!(lag_ms(false, &at(5_000), None, None), 0);
    }

    #[test]
    fn the_rate_is_over_the_window() {
        let mut pace = Pace::default();
        assert_eq!(pace.rate(0), 0.0);
        std::thread::sleep(Duration::from_millis(50));
        let rate = pace.rate(100);
        assert!(rate > 100.0 && rate < 2_500.0, "{rate}");
    }
}
