//! When to try an Astra request again, and how long to wait first.
//!
//! Astra rate-limits (429), its gateways answer 502/503/504 under load, connections drop and
//! requests time out; the official Python client does not retry at all, so a migration of
//! millions of documents would stop at the first hiccup. Both clients share this policy:
//! exponential backoff with full jitter (a random wait between zero and the capped
//! exponential step, so that 20 requests in flight do not retry in lockstep), bounded both in
//! attempts and in total time. A server's `Retry-After` is honoured, within `max_backoff`.

use rand::Rng;
use std::time::{Duration, Instant};

/// How often and how patiently a failed request is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 means never retry).
    pub max_attempts: u32,
    /// Upper bound of the first wait.
    pub initial_backoff: Duration,
    /// Upper bound of any single wait (also caps a server's `Retry-After`).
    pub max_backoff: Duration,
    /// Growth of the upper bound per attempt.
    pub multiplier: f64,
    /// No new attempt starts after this much time since the first failure (time spent
    /// waiting for the target's pace before that is not failing).
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    /// 8 attempts, waits from up to 100 ms growing ×2 to at most 10 s, within 2 minutes.
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }

    /// The upper bound of the wait after failed attempt number `attempt` (1-based).
    pub fn backoff_ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let factor = self.multiplier.max(1.0).powi(exponent);
        let ceiling = self.initial_backoff.as_secs_f64() * factor;
        if !ceiling.is_finite() || ceiling >= self.max_backoff.as_secs_f64() {
            self.max_backoff
        } else {
            Duration::from_secs_f64(ceiling)
        }
    }

    /// Starts counting attempts for one request.
    pub(crate) fn start(&self) -> Attempts {
        Attempts { policy: *self, first_failure: std::sync::OnceLock::new(), made: 0 }
    }
}

/// The attempts made so far for one logical request.
#[derive(Debug)]
pub(crate) struct Attempts {
    policy: RetryPolicy,
    first_failure: std::sync::OnceLock<Instant>,
    made: u32,
}

impl Attempts {
    /// Records one attempt about to be made.
    pub(crate) fn begin(&mut self) {
        self.made += 1;
    }

    /// Attempts made so far.
    pub(crate) fn made(&self) -> u32 {
        self.made
    }

    /// Time since the first failure.
    pub(crate) fn elapsed(&self) -> Duration {
        self.first_failure.get().map_or(Duration::ZERO, Instant::elapsed)
    }

    /// How long to wait before the next attempt after a transient failure, or `None` when the
    /// policy's attempts or time are used up. `retry_after` is the server's hint, if any.
    pub(crate) fn next_delay(&self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.made >= self.policy.max_attempts {
            return None;
        }
        let ceiling = self.policy.backoff_ceiling(self.made);
        let jittered = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
        };
        let delay = match retry_after {
            Some(hint) => hint.min(self.policy.max_backoff).max(jittered),
            None => jittered,
        };
        let since = self.first_failure.get_or_init(Instant::now).elapsed();
        if since + delay > self.policy.max_elapsed {
            return None;
        }
        Some(delay)
    }
}

/// Reads a `Retry-After` header given in seconds (the form Astra's gateway uses).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_grows_then_caps() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            multiplier: 2.0,
            ..RetryPolicy::default()
        };
        assert_eq!(policy.backoff_ceiling(1), Duration::from_millis(100));
        assert_eq!(policy.backoff_ceiling(2), Duration::from_millis(200));
        assert_eq!(policy.backoff_ceiling(4), Duration::from_millis(800));
        assert_eq!(policy.backoff_ceiling(5), Duration::from_secs(1));
        assert_eq!(policy.backoff_ceiling(500), Duration::from_secs(1));
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
        let mut attempts = policy.start();
        for _ in 0..2 {
            attempts.begin();
            let delay = attempts.next_delay(None).unwrap();
            assert!(delay <= policy.max_backoff);
        }
        attempts.begin();
        assert_eq!(attempts.next_delay(None), None);
        let mut never = RetryPolicy::never().start();
        never.begin();
        assert_eq!(never.next_delay(None), None);
    }

    #[test]
    fn retry_after_is_honoured_within_the_cap() {
        let policy = RetryPolicy { max_backoff: Duration::from_secs(2), ..RetryPolicy::default() };
        let mut attempts = policy.start();
        attempts.begin();
        assert!(attempts.next_delay(Some(Duration::from_secs(1))).unwrap() >= Duration::from_secs(1));
        assert!(attempts.next_delay(Some(Duration::from_secs(60))).unwrap() <= Duration::from_secs(2));
    }

    #[test]
    fn total_time_is_bounded() {
        let policy = RetryPolicy { max_elapsed: Duration::ZERO, ..RetryPolicy::default() };
        let mut attempts = policy.start();
        attempts.begin();
        assert_eq!(attempts.next_delay(Some(Duration::from_millis(10))), None);
    }
}
