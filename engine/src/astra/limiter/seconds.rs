//! Answers counted by the whole second since a limiter started, and by the last second: what
//! the rate control of [`super`] reads a quota and its 429s from.

use std::{collections::VecDeque, time::Duration};
use tokio::time::Instant;

/// Seconds of history kept (for the best accepted second).
const HISTORY: usize = 64;

/// Answers, and how many of them were 429s.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tally {
    pub answers: u32,
    pub throttled: u32,
}

impl Tally {
    pub fn add(&mut self, throttled: bool) {
        self.answers += 1;
        self.throttled += u32::from(throttled);
    }

    pub fn plus(self, other: Tally) -> Tally {
        Tally { answers: self.answers + other.answers, throttled: self.throttled + other.throttled }
    }

    pub fn share(&self) -> f64 {
        if self.answers == 0 {
            0.0
        } else {
            f64::from(self.throttled) / f64::from(self.answers)
        }
    }
}

/// Counts per whole second since the limiter started, in a ring.
#[derive(Debug)]
pub(super) struct Seconds {
    epoch: Instant,
    ring: VecDeque<(u64, u32, u32)>,
    /// The answers of the last second, oldest first.
    recent: VecDeque<Answer>,
    /// When the first request answered was sent: a job makes its limiter before its first
    /// write, and the time between is no part of any second's count.
    first_sent: Option<Instant>,
}

/// One answer: when it came, when its request was sent, and whether it was a 429.
#[derive(Debug, Clone, Copy)]
struct Answer {
    at: Instant,
    sent: Instant,
    throttled: bool,
}

impl Seconds {
    pub fn new(epoch: Instant) -> Self {
        Self { epoch, ring: VecDeque::new(), recent: VecDeque::new(), first_sent: None }
    }

    pub fn now(&self, now: Instant) -> u64 {
        now.duration_since(self.epoch).as_secs()
    }

    /// Counts the answer that came `now` to a request sent at `sent`.
    pub fn count(&mut self, sent: Instant, now: Instant, accepted: bool) {
        self.recent.push_back(Answer { at: now, sent, throttled: !accepted });
        self.first_sent = Some(self.first_sent.map_or(sent, |first| first.min(sent)));
        while self.recent.front().is_some_and(|answer| now.duration_since(answer.at) >= Duration::from_secs(1)) {
            self.recent.pop_front();
        }
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

    /// (accepted, throttled) over the last second (as of the latest answer), and how much of
    /// it the limiter has been writing.
    pub fn last_second(&self, now: Instant) -> (f64, f64, f64) {
        let (accepted, throttled) = self
            .recent
            .iter()
            .fold((0u32, 0u32), |(a, t), answer| if answer.throttled { (a, t + 1) } else { (a + 1, t) });
        let age = self.first_sent.map_or(0.0, |first| now.duration_since(first).as_secs_f64());
        (f64::from(accepted), f64::from(throttled), age.min(1.0))
    }

    /// What was accepted in the whole second before this one.
    pub fn accepted_before(&self, now: Instant) -> f64 {
        self.second_before(now).0
    }

    /// The answers of the whole second before this one: (accepted, throttled).
    pub fn second_before(&self, now: Instant) -> (f64, f64) {
        let second = self.now(now);
        self.ring.iter().rev().find(|(s, _, _)| *s + 1 == second).map_or((0.0, 0.0), |(_, a, t)| (f64::from(*a), f64::from(*t)))
    }

    /// Whether the latest `n` answers all were 429s.
    pub fn bunched(&self, n: usize) -> bool {
        self.recent.len() >= n && self.recent.iter().rev().take(n).all(|answer| answer.throttled)
    }

    /// How many of the latest answers in a row were 429s.
    pub fn trailing_throttled(&self) -> usize {
        self.recent.iter().rev().take_while(|answer| answer.throttled).count()
    }

    /// Whether a request sent once the first 429 of the last second had come back was accepted.
    /// Not after it was sent: a client's send order is not the target's arrival order, and a
    /// request sent a moment later may still have reached the target first.
    pub fn accepted_since_first_refused(&self) -> bool {
        let Some(first) = self.recent.iter().filter(|answer| answer.throttled).min_by_key(|answer| answer.sent) else { return false };
        self.recent.iter().any(|answer| !answer.throttled && answer.sent >= first.at)
    }

    /// Accepted a second over the last `seconds` whole seconds.
    pub fn accepted_rate(&self, now: Instant, seconds: u64) -> f64 {
        let second = self.now(now);
        let from = second.saturating_sub(seconds);
        let accepted: u32 = self.ring.iter().filter(|(s, _, _)| *s >= from && *s < second).map(|(_, a, _)| *a).sum();
        f64::from(accepted) / seconds.min(second).max(1) as f64
    }

    /// Whether any 429 came within the last `seconds`.
    pub fn throttled_within(&self, now: Instant, seconds: u64) -> bool {
        let from = self.now(now).saturating_sub(seconds);
        self.ring.iter().any(|(s, _, t)| *s >= from && *t > 0)
    }

    /// The answers of seconds `from..to`.
    pub fn tally(&self, from: u64, to: u64) -> Tally {
        let (answers, throttled) = self.ring.iter().filter(|(s, _, _)| *s >= from && *s < to).fold((0u32, 0u32), |(a, t), (_, x, y)| (a + x + y, t + y));
        Tally { answers, throttled }
    }
}
