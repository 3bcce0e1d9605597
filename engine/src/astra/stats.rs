//! How often the target made a job wait: requests tried again after a transient failure,
//! and of those the ones it throttled (HTTP 429), per target collection. People running a
//! migration read them on the job page and in `/metrics` to tell a slow source from a
//! target that pushes back.
//!
//! Every retry of both clients goes through one place (`http::wait_or_give_up`), which
//! does not know which job or collection it serves: the [`crate::astra::Writer`] runs each
//! of its requests inside [`counted`], which names the [`RequestStats`] and the collection
//! for the task that runs it, and the retry adds itself there through [`record_retry`].
//! Work a request spawns onto other tasks would not be counted.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

/// Retries and throttling met by one collection's requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Requests tried again after a transient failure.
    pub retries: u64,
    /// Of those, the ones the target answered with HTTP 429.
    pub throttled: u64,
}

/// Retries and throttling per target collection, for one writer (one job run).
#[derive(Debug, Default)]
pub struct RequestStats {
    by_collection: Mutex<HashMap<String, RequestCounts>>,
}

impl RequestStats {
    /// The counts of target collection `collection` so far.
    pub fn of(&self, collection: &str) -> RequestCounts {
        self.lock().get(collection).copied().unwrap_or_default()
    }

    fn add(&self, collection: &str, throttled: bool) {
        let mut counts = self.lock();
        let entry = counts.entry(collection.to_owned()).or_default();
        entry.retries += 1;
        entry.throttled += u64::from(throttled);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RequestCounts>> {
        self.by_collection.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

tokio::task_local! {
    /// The stats and the target collection of the request the current task runs.
    static CURRENT: (Arc<RequestStats>, String);
}

/// Runs `request` with its retries counted in `stats` for `collection`.
pub(crate) async fn counted<F: Future>(stats: &Arc<RequestStats>, collection: &str, request: F) -> F::Output {
    CURRENT.scope((stats.clone(), collection.to_owned()), request).await
}

/// Counts one retry of the request the current task runs (nothing outside [`counted`]).
/// `reason` is the transient failure as the clients word it: `HTTP 429: …` when throttled.
pub(crate) fn record_retry(reason: &str) {
    record(reason.starts_with("HTTP 429"));
}

/// Counts one request the target throttled and the limiter sent again (a 429 spends no
/// attempt of the retry policy, but it is a retry to the people watching).
pub(crate) fn record_throttled() {
    record(true);
}

fn record(throttled: bool) {
    let _ = CURRENT.try_with(|(stats, collection)| stats.add(collection, throttled));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn retries_count_where_the_request_runs() {
        let stats = Arc::new(RequestStats::default());
        counted(&stats, "orders", async {
            record_retry("HTTP 503: busy");
            record_retry("HTTP 429: slow down");
        })
        .await;
        record_retry("HTTP 429: outside any request");
        assert_eq!(stats.of("orders"), RequestCounts { retries: 2, throttled: 1 });
        assert_eq!(stats.of("customers"), RequestCounts::default());
    }
}
