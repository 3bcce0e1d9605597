//! How fast to send to one target: one [`Limiter`] per job's target, shared by every range,
//! collection and the verification, in front of every request both clients send.
//!
//! Two controls, because a target can say "slower" in two ways:
//! - **Concurrency**, adaptive (after Vector's adaptive request concurrency and the gradient
//!   of Netflix's concurrency-limits): requests in flight grow while the median round trip
//!   of a window stays near the lowest seen (slow start doubles, then one more per window),
//!   and shrink in proportion when it rises — the target is queueing — or when most answers
//!   of a window are gateway errors. The median, so that a rare slow answer is not taken for
//!   queueing. The user's in-flight setting is the ceiling.
//! - **Rate**, for quotas: a target that answers fast (a local one, or a quota far below what
//!   the connection could carry) is never slowed by concurrency alone, so when 429s are more
//!   than a few percent of the last second's answers the limiter paces request starts at a
//!   little under the rate the target accepted in that second, then probes upward by 1 % a
//!   second. A few seconds after slowing down it checks that the share of 429s fell; if it
//!   did not, those 429s were not about the rate (a few, whatever the pace): the pace goes
//!   back, and that share counts as noise from then on, so it cannot spiral the pace down.
//!   A `Retry-After` holds the throttled request back at least that long.
//!
//! A 429 is the target asking for a slower pace, not a failure: the clients wait and send the
//! request again without spending an attempt of their retry policy ([`super::http`]). Only when
//! the target has accepted nothing at all for [`STARVED`] does a throttled request give up.
//!
//! An optional documents-per-second ceiling (`--max-rate`) paces writes and read-back too.

use crate::wire::Throttle;
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::{sync::Notify, time::Instant};

/// A throttled request gives up when the target has accepted no request for this long.
pub const STARVED: Duration = Duration::from_secs(600);
/// How far back the accepted rate and "throttling now" look, in seconds.
const RECENT: u64 = 5;
/// Seconds of history kept (for the best accepted second).
const HISTORY: usize = 64;
/// 429s must be at least this share of a second's answers (and two) to slow the pace.
const THROTTLED_SHARE: f64 = 0.05;
/// After a 429, the pace is set to this share of the rate the target accepted.
const BACK_OFF: f64 = 0.95;
/// Growth of the pace per second without a 429.
const PROBE_PER_SECOND: f64 = 0.01;
/// Round trips this much slower than the lowest seen mean that the target is queueing.
const TOLERANCE: f64 = 1.5;
/// Share of gateway errors in a window that counts as overload.
const OVERLOAD_SHARE: f64 = 0.5;
/// Shortest measurement window.
const MIN_WINDOW: Duration = Duration::from_millis(20);
/// The concurrency limit a limiter starts with (or the ceiling, if lower).
const INITIAL_LIMIT: f64 = 4.0;

/// How one request ended, as the limiter counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The target answered (whatever the answer, unless below).
    Answered,
    /// HTTP 429.
    Throttled,
    /// A gateway error, a timeout or a lost connection: maybe overload.
    Overloaded,
}

/// The limiter of one target. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Limiter {
    state: Mutex<State>,
    changed: Notify,
    ceiling: usize,
    max_documents_per_second: Option<f64>,
}

#[derive(Debug)]
struct State {
    /// The adaptive concurrency limit.
    limit: f64,
    /// Permits handed out (pacing waits included).
    held: usize,
    /// Requests on the wire now.
    sending: usize,
    /// Requests per second to hold to, after a 429.
    pace: Option<f64>,
    /// When the pace was last set or grown.
    pace_changed: Instant,
    next_request: Instant,
    next_documents: Instant,
    slow_start: bool,
    /// The lowest window mean round trip seen (drifting up slowly, so it can follow a change).
    baseline: Option<f64>,
    window: Window,
    last_decrease: Option<Instant>,
    /// Answers per second, accepted and throttled, for the last [`HISTORY`] seconds.
    seconds: Seconds,
    /// A slow-down to check: when, the pace before it, and the share of 429s that caused it.
    check: Option<(Instant, Option<f64>, f64)>,
    /// The share of 429s that slowing down did not remove.
    noise: f64,
    last_accepted: Instant,
    requests: u64,
    throttled: u64,
}

/// Counts per whole second since the limiter started, in a ring.
#[derive(Debug)]
struct Seconds {
    epoch: Instant,
    ring: VecDeque<(u64, u32, u32)>,
}

impl Seconds {
    fn now(&self, now: Instant) -> u64 {
        now.duration_since(self.epoch).as_secs()
    }

    fn count(&mut self, now: Instant, accepted: bool) {
        let second = self.now(now);
        if self.ring.back().is_none_or(|(s, _, _)| *s != second) {
            self.ring.push_back((second, 0, 0));
            while self.ring.len() > HISTORY {
                self.ring.pop_front();
            }
        }
        if let Some((_, a, t)) = self.ring.back_mut() {
            if accepted {
                *a += 1;
            } else {
                *t += 1;
            }
        }
    }

    /// (accepted, throttled) over the last second — this one so far, and the part of the one
    /// before that it does not cover — and the span they are taken to cover: a whole second,
    /// even when the limiter is younger. A quota counts requests per second: when it first
    /// answers 429, what it accepted so far is what it accepts in a second; spreading that
    /// over a younger limiter's age overestimated the quota up to four times, and the pace
    /// set from it kept the 429s coming for another second.
    fn last_second(&self, now: Instant) -> (f64, f64, f64) {
        let second = self.now(now);
        let age = now.duration_since(self.epoch).as_secs_f64();
        let into = age.fract();
        let mut total = (0.0, 0.0);
        for (s, a, t) in self.ring.iter().rev().take(2) {
            let weight = if *s == second { 1.0 } else if *s + 1 == second { 1.0 - into } else { 0.0 };
            total.0 += f64::from(*a) * weight;
            total.1 += f64::from(*t) * weight;
        }
        (total.0, total.1, 1.0)
    }

    /// Accepted a second over the last `seconds` whole seconds.
    fn accepted_rate(&self, now: Instant, seconds: u64) -> f64 {
        let second = self.now(now);
        let from = second.saturating_sub(seconds);
        let accepted: u32 = self.ring.iter().filter(|(s, _, _)| *s >= from && *s < second).map(|(_, a, _)| *a).sum();
        f64::from(accepted) / seconds.min(second).max(1) as f64
    }

    /// Whether any 429 came within the last `seconds`.
    fn throttled_within(&self, now: Instant, seconds: u64) -> bool {
        let from = self.now(now).saturating_sub(seconds);
        self.ring.iter().any(|(s, _, t)| *s >= from && *t > 0)
    }

    /// The share of 429s in the answers of seconds `from..to`.
    fn throttled_share(&self, from: u64, to: u64) -> f64 {
        let (a, t) = self.ring.iter().filter(|(s, _, _)| *s >= from && *s < to).fold((0u32, 0u32), |(a, t), (_, x, y)| (a + x, t + y));
        if a + t == 0 {
            0.0
        } else {
            f64::from(t) / f64::from(a + t)
        }
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    rtts: Vec<f64>,
    overloaded: u32,
    saturated: bool,
}

impl Window {
    fn new(now: Instant) -> Self {
        Self { started: now, rtts: Vec::new(), overloaded: 0, saturated: false }
    }
}

impl Limiter {
    /// A limiter allowing at most `ceiling` requests in flight and, when given, at most
    /// `max_documents_per_second` documents a second.
    pub fn new(ceiling: usize, max_documents_per_second: Option<u64>) -> Arc<Self> {
        let now = Instant::now();
        let ceiling = ceiling.max(1);
        Arc::new(Self {
            state: Mutex::new(State {
                limit: INITIAL_LIMIT.min(ceiling as f64),
                held: 0,
                sending: 0,
                pace: None,
                pace_changed: now,
                next_request: now,
                next_documents: now,
                slow_start: true,
                baseline: None,
                window: Window::new(now),
                last_decrease: None,
                seconds: Seconds { epoch: now, ring: VecDeque::new() },
                check: None,
                noise: 0.0,
                last_accepted: now,
                requests: 0,
                throttled: 0,
            }),
            changed: Notify::new(),
            ceiling,
            max_documents_per_second: max_documents_per_second.filter(|&n| n > 0).map(|n| n as f64),
        })
    }

    /// The most requests it lets into flight.
    pub fn ceiling(&self) -> usize {
        self.ceiling
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for a place in flight and for the request's turn under the pace; `documents` is
    /// what the request carries (or reads back), for the documents-per-second ceiling.
    pub async fn acquire(self: &Arc<Self>, documents: usize) -> Permit {
        let start = loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                let now = Instant::now();
                state.grow_pace(now);
                if (state.held as f64) < state.limit.floor().max(1.0) {
                    state.held += 1;
                    if state.held as f64 >= state.limit.floor() {
                        state.window.saturated = true;
                    }
                    let mut start = now;
                    if let Some(pace) = state.pace {
                        let slot = state.next_request.max(now);
                        start = start.max(slot);
                        state.next_request = slot + Duration::from_secs_f64(1.0 / pace);
                    }
                    if let (Some(max), true) = (self.max_documents_per_second, documents > 0) {
                        let slot = state.next_documents.max(now);
                        start = start.max(slot);
                        state.next_documents = slot + Duration::from_secs_f64(documents as f64 / max);
                    }
                    break start;
                }
            }
            notified.await;
        };
        tokio::time::sleep_until(start).await;
        let mut state = self.lock();
        state.sending += 1;
        state.requests += 1;
        drop(state);
        Permit { limiter: self.clone(), sent: Instant::now(), finished: false }
    }

    /// Holds back reading `documents` documents under the documents-per-second ceiling (for
    /// reads that are not one request each).
    pub async fn pace_documents(&self, documents: usize) {
        let Some(max) = self.max_documents_per_second else { return };
        let start = {
            let mut state = self.lock();
            let now = Instant::now();
            let slot = state.next_documents.max(now);
            state.next_documents = slot + Duration::from_secs_f64(documents as f64 / max);
            slot
        };
        tokio::time::sleep_until(start).await;
    }

    /// Whether the target has accepted nothing for [`STARVED`]: a throttled request then
    /// stops waiting.
    pub fn starved(&self) -> bool {
        self.lock().last_accepted.elapsed() >= STARVED
    }

    /// What the limiter sees now, for progress reports.
    pub fn snapshot(&self) -> Throttle {
        let state = self.lock();
        let now = Instant::now();
        Throttle {
            accepted_per_second: state.seconds.accepted_rate(now, RECENT),
            in_flight: state.sending as u32,
            limit: state.limit.floor() as u32,
            rate_cap: state.pace,
            throttling: state.seconds.throttled_within(now, RECENT),
            requests: state.requests,
            throttled: state.throttled,
        }
    }

    fn finish(&self, sent: Instant, outcome: Outcome) {
        let now = Instant::now();
        let mut state = self.lock();
        state.held = state.held.saturating_sub(1);
        state.sending = state.sending.saturating_sub(1);
        match outcome {
            Outcome::Answered => {
                state.seconds.count(now, true);
                state.last_accepted = now;
                state.window.rtts.push(now.duration_since(sent).as_secs_f64());
            }
            Outcome::Throttled => {
                state.throttled += 1;
                state.seconds.count(now, false);
                state.on_throttled(now);
            }
            Outcome::Overloaded => state.window.overloaded += 1,
        }
        state.end_window(now, self.ceiling as f64);
        drop(state);
        self.changed.notify_waiters();
    }
}

impl State {
    /// A 429: when 429s are more than a few of the last second's answers, pace at a little
    /// under what the target accepted in that second (never below half its best second),
    /// at most once a second (the answers to requests sent before a change come after it).
    fn on_throttled(&mut self, now: Instant) {
        if self.last_decrease.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        let (accepted, throttled, span) = self.seconds.last_second(now);
        let share = throttled / (accepted + throttled).max(1.0);
        // Evidence: a few 429s among enough answers, above what slowing down cannot remove.
        if throttled < 3.0 || accepted + throttled < 20.0 || share < self.noise + THROTTLED_SHARE {
            return;
        }
        let accepted = accepted / span;
        // The share before, over a few seconds: the second that set this off is a high one.
        let second = self.seconds.now(now);
        let before = self.seconds.throttled_share(second.saturating_sub(2), second + 1).max(share * 0.5);
        // A slow-down during another's check is checked with it (at the same time), against
        // the pace before both.
        self.check = Some(match self.check {
            Some((at, pace, share)) => (at, pace, share.max(before)),
            None => (now, self.pace, before),
        });
        let pace = (accepted * BACK_OFF).max(1.0);
        self.pace = Some(self.pace.map_or(pace, |p| p.min(pace)).max(1.0));
        self.pace_changed = now;
        self.next_request = self.next_request.max(now);
        self.limit = (self.limit * 0.9).max(1.0);
        self.slow_start = false;
        self.last_decrease = Some(now);
    }

    /// Probes upward: the pace grows by [`PROBE_PER_SECOND`] a second since the last change.
    /// Three seconds after a slow-down, checks that it all but ended the 429s; if not, undoes
    /// it and counts their share as noise.
    fn grow_pace(&mut self, now: Instant) {
        if let Some((at, before, share)) = self.check {
            if now.duration_since(at) >= Duration::from_secs(3) {
                self.check = None;
                let from = self.seconds.now(at) + 1;
                let after = self.seconds.throttled_share(from, from + 2);
                // Under a quota, pacing below it all but ends the 429s.
                if after >= (share * 0.5).min(self.noise + THROTTLED_SHARE / 2.0) {
                    self.noise = self.noise.max(after);
                    self.pace = before;
                    self.pace_changed = now;
                }
            }
        }
        let Some(pace) = self.pace else { return };
        let elapsed = now.duration_since(self.pace_changed).as_secs_f64();
        if elapsed >= 0.1 && self.last_decrease.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
            self.pace = Some(pace * (1.0 + PROBE_PER_SECOND * elapsed));
            self.pace_changed = now;
        }
    }

    /// At the end of a window: adapt the concurrency limit to what the window saw.
    fn end_window(&mut self, now: Instant, ceiling: f64) {
        let window = &mut self.window;
        let elapsed = now.duration_since(window.started);
        let length = self.baseline.map_or(MIN_WINDOW, |b| Duration::from_secs_f64(b).max(MIN_WINDOW));
        let samples = window.rtts.len() as u32 + window.overloaded;
        // A window is one round trip, or a limit's worth of answers.
        if samples < 4 || (elapsed < length && f64::from(samples) < self.limit) {
            return;
        }
        if f64::from(window.overloaded) > f64::from(samples) * OVERLOAD_SHARE {
            self.limit = (self.limit * 0.9).max(1.0);
            self.slow_start = false;
        } else if !window.rtts.is_empty() {
            window.rtts.sort_by(f64::total_cmp);
            let mean = window.rtts[window.rtts.len() / 2];
            // The lowest seen, drifting up 1 % a second, so that a lasting change of the path
            // is followed.
            let drifted = self.baseline.map(|b| b * (1.0 + 0.01 * elapsed.as_secs_f64()));
            let baseline = drifted.map_or(mean, |b| b.min(mean));
            let gradient = (baseline * TOLERANCE / mean).min(1.0);
            if gradient < 1.0 {
                self.limit = (self.limit * gradient.max(0.5)).max(1.0);
                self.slow_start = false;
            } else if window.saturated {
                self.limit = if self.slow_start { self.limit * 2.0 } else { self.limit + 1.0 };
            }
            self.baseline = Some(baseline);
        }
        self.limit = self.limit.min(ceiling);
        self.window = Window::new(now);
    }
}

/// A place in flight; say how the request ended with [`Permit::finish`] (dropping it counts
/// as neither success nor failure).
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    sent: Instant,
    finished: bool,
}

impl Permit {
    pub fn finish(mut self, outcome: Outcome) {
        self.finished = true;
        self.limiter.finish(self.sent, outcome);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished {
            let mut state = self.limiter.lock();
            state.held = state.held.saturating_sub(1);
            state.sending = state.sending.saturating_sub(1);
            drop(state);
            self.limiter.changed.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn flat_round_trips_grow_the_limit_to_the_ceiling() {
        let limiter = Limiter::new(32, None);
        for _ in 0..200 {
            let permits: Vec<Permit> = futures::future::join_all((0..limiter.snapshot().limit).map(|_| limiter.acquire(0))).await;
            tokio::time::advance(Duration::from_millis(10)).await;
            for permit in permits {
                permit.finish(Outcome::Answered);
            }
        }
        assert_eq!(limiter.snapshot().limit, 32);
    }

    #[tokio::test(start_paused = true)]
    async fn rising_round_trips_shrink_the_limit() {
        let limiter = Limiter::new(64, None);
        // The target answers in 10 ms per request in flight: it serves one at a time.
        for _ in 0..300 {
            let n = limiter.snapshot().limit;
            let permits: Vec<Permit> = futures::future::join_all((0..n).map(|_| limiter.acquire(0))).await;
            tokio::time::advance(Duration::from_millis(10 * u64::from(n))).await;
            for permit in permits {
                permit.finish(Outcome::Answered);
            }
        }
        assert!(limiter.snapshot().limit <= 8, "{:?}", limiter.snapshot());
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_paces_below_the_accepted_rate_then_probes_upward() {
        let limiter = Limiter::new(20, None);
        tokio::time::advance(Duration::from_secs(2)).await;
        // 40 answers in the last second, then a single 429: not yet a quota.
        for _ in 0..40 {
            limiter.acquire(0).await.finish(Outcome::Answered);
            tokio::time::advance(Duration::from_millis(25)).await;
        }
        limiter.acquire(0).await.finish(Outcome::Throttled);
        assert_eq!(limiter.snapshot().rate_cap, None);
        // Three more: the pace drops below what was accepted.
        for _ in 0..3 {
            limiter.acquire(0).await.finish(Outcome::Throttled);
        }
        let throttle = limiter.snapshot();
        let pace = throttle.rate_cap.unwrap();
        assert!((36.0..=39.0).contains(&pace), "{throttle:?}");
        assert!(throttle.throttling && throttle.throttled == 4 && throttle.requests == 44);
        // Paced: 38 requests take about a second.
        let started = tokio::time::Instant::now();
        for _ in 0..38 {
            limiter.acquire(0).await.finish(Outcome::Answered);
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900) && took <= Duration::from_millis(1100), "{took:?}");
        // Without 429s the pace grows, about 1 % a second.
        tokio::time::advance(Duration::from_secs(10)).await;
        limiter.acquire(0).await.finish(Outcome::Answered);
        assert!(limiter.snapshot().rate_cap.unwrap() > pace * 1.05);
    }

    #[tokio::test(start_paused = true)]
    async fn a_few_429s_whatever_the_rate_do_not_spiral_the_pace_down() {
        let limiter = Limiter::new(64, None);
        // 200 answers a second, 4 % of them 429s (10 % for a start), for 30 seconds.
        for n in 0..30 * 200 {
            let share = if n < 200 { 0.1 } else { 0.04 };
            let permit = limiter.acquire(0).await;
            tokio::time::advance(Duration::from_millis(5)).await;
            permit.finish(if rand::random::<f64>() < share { Outcome::Throttled } else { Outcome::Answered });
        }
        let throttle = limiter.snapshot();
        assert!(throttle.accepted_per_second > 90.0, "{throttle:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quota_is_found_at_once_and_then_held_with_few_429s() {
        // A target that answers in 5 ms under a quota of 40 requests a second (counted per
        // whole second, as astra-local's), for 20 seconds.
        let limiter = Limiter::new(20, None);
        let epoch = Instant::now();
        let (mut second, mut used) = (0, 0);
        let (mut settled, mut settled_throttled, mut settled_accepted) = (0u32, 0u32, 0u32);
        while epoch.elapsed() < Duration::from_secs(20) {
            let permit = limiter.acquire(0).await;
            tokio::time::advance(Duration::from_millis(5)).await;
            if epoch.elapsed().as_secs() != second {
                (second, used) = (epoch.elapsed().as_secs(), 0);
            }
            used += 1;
            let throttled = used > 40;
            if epoch.elapsed() >= Duration::from_secs(2) {
                settled += 1;
                settled_throttled += u32::from(throttled);
                settled_accepted += u32::from(!throttled);
            }
            permit.finish(if throttled { Outcome::Throttled } else { Outcome::Answered });
        }
        let share = f64::from(settled_throttled) / f64::from(settled);
        let rate = f64::from(settled_accepted) / 18.0;
        assert!(share <= 0.05, "{:.1} % of the requests after the first 2 s were 429s", share * 100.0);
        assert!(rate >= 36.0, "{rate:.1} accepted a second against a quota of 40");
    }

    #[tokio::test(start_paused = true)]
    async fn the_documents_ceiling_paces_writes() {
        let limiter = Limiter::new(20, Some(1_000));
        let started = tokio::time::Instant::now();
        for _ in 0..10 {
            limiter.acquire(50).await.finish(Outcome::Answered);
        }
        // 500 documents at 1,000 a second: the last request starts after 450 ms.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(440) && took <= Duration::from_millis(500), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn mostly_gateway_errors_shrink_the_limit_and_a_few_do_not() {
        let limiter = Limiter::new(16, None);
        {
            let mut state = limiter.lock();
            state.limit = 16.0;
            state.slow_start = false;
        }
        let round = |errors: usize| {
            let limiter = limiter.clone();
            async move {
                let n = limiter.snapshot().limit;
                let permits: Vec<Permit> = futures::future::join_all((0..n).map(|_| limiter.acquire(0))).await;
                tokio::time::advance(Duration::from_millis(30)).await;
                for (i, permit) in permits.into_iter().enumerate() {
                    permit.finish(if i < errors { Outcome::Overloaded } else { Outcome::Answered });
                }
            }
        };
        for _ in 0..3 {
            round(1).await;
        }
        assert!(limiter.snapshot().limit >= 15, "{:?}", limiter.snapshot());
        for _ in 0..3 {
            round(14).await;
        }
        assert!(limiter.snapshot().limit <= 12, "{:?}", limiter.snapshot());
    }
}
