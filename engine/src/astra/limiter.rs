//! How fast to send to one target: one [`Limiter`] per job's target, shared by every range,
//! collection and the verification, in front of every request both clients send.
//!
//! Two controls, because a target can say "slower" in two ways:
//! - **Concurrency**, adaptive (after Vector's adaptive request concurrency and the gradient
//!   of Netflix's concurrency-limits): requests in flight grow while the median round trip
//!   of a window stays near the lowest seen (within half of it, or a few milliseconds; slow
//!   start doubles, then one more per window),
//!   and shrink in proportion when it rises — the target is queueing — or when most answers
//!   of a window are gateway errors. The median, so that a rare slow answer is not taken for
//!   queueing. A path whose round trips vary (a database in another region) makes the medians
//!   of small windows vary too: each comparison allows for that window's spread, measured
//!   (the standard deviation of the round trips' logarithms, averaged over windows), so that
//!   jitter is not taken for queueing either. The user's in-flight setting is the ceiling.
//! - **Rate**, for quotas: a target that answers fast (a local one, or a quota far below
//!   what the connection could carry) is never slowed by concurrency alone, so when 429s
//!   are more than a few percent of the last second's answers the limiter paces request
//!   starts at a little under the rate the target accepted in that second, then probes
//!   upward by 1 % a second. 429s that come bunched (a quota spent: everything past it
//!   refused) say what the quota is: the pace then grows to 98 % of it at that speed, and
//!   past it ten times slower until a 429 brings it back. A 429 costs the target nothing
//!   and a write some time, so requests sent before those 429s and accepted after them were
//!   within the quota too, and are added to the figure; 429s that stay a slow-down's check
//!   later (a request or two a second past the quota) take that much back off it instead of
//!   counting as noise. A young limiter's seconds count from its first request, not from
//!   when the job made it (a first batch read can take seconds), and before a quota is
//!   known, 429s to every request sent once the first of them had come back are a quota
//!   spent, however their answers interleave with the slower acceptances. A quota found can
//!   fall (another client takes a share; or the second it was read off straddled two of the
//!   quota's own and counted one more): a second sent at the pace, partly refused, that the
//!   target accepted less of than the figure found sets the figure to what it accepted (at
//!   most 10 % lower at a time), so the pace does not sit just past the quota with a
//!   request or two refused every second. Scattered 429s (noise, or a token bucket near its
//!   rate) only step the pace down by that little. A few seconds after slowing down, on
//!   enough answers to requests sent after it had settled (a second later: the quota's
//!   second may still be spent) for the share to mean something, it checks that the share
//!   of 429s fell; if it did not, those 429s were not about the rate (a few, whatever the
//!   pace): the pace goes back, and that share counts as noise from then on, so it cannot
//!   spiral the pace down (a lowered quota figure comes back with it). A `Retry-After`
//!   holds the throttled request back at least that long.
//!
//! A 429 is the target asking for a slower pace, not a failure: the clients wait and send the
//! request again without spending an attempt of their retry policy ([`super::http`]). Only when
//! the target has accepted nothing at all for [`STARVED`] does a throttled request give up.
//!
//! An optional documents-per-second ceiling (`--max-rate`) paces writes and read-back too.

mod seconds;

use crate::wire::Throttle;
use seconds::{Seconds, Tally};
use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};
use tokio::{sync::Notify, time::Instant};

/// A throttled request gives up when the target has accepted no request for this long.
pub const STARVED: Duration = Duration::from_secs(600);
/// How far back the accepted rate and "throttling now" look, in seconds.
const RECENT: u64 = 5;
/// 429s must be at least this share of a second's answers (and two) to slow the pace.
const THROTTLED_SHARE: f64 = 0.05;
/// After a 429, the pace is set to this share of the rate the target accepted.
const BACK_OFF: f64 = 0.95;
/// Growth of the pace per second without a 429...
const PROBE_PER_SECOND: f64 = 0.01;
/// ...up to this share of a quota the target showed (bunched 429s: what it accepted in that
/// second)...
const QUOTA_HEADROOM: f64 = 0.98;
/// ...and past it, this much a second: a quota found stays the quota until the target says
/// otherwise, but a higher one (another client of the database gone quiet) is still found.
const PROBE_PAST_QUOTA: f64 = 0.001;
/// A 429 while probing just past a quota found lowers the figure by at most this share (see
/// `State::on_throttled`).
const QUOTA_STEP: f64 = 0.1;
/// Round trips this much slower than the lowest seen mean that the target is queueing...
const TOLERANCE: f64 = 1.5;
/// ...when they are also this much slower, in seconds: a rise of a few milliseconds is not
/// worth giving up throughput for. A target next door answers in a fraction of a
/// millisecond and, serving requests in parallel, a little later with more in flight: judged
/// by the ratio alone, its limit fell to one or two, at a twelfth of the rate it could take.
const QUEUE_ALLOWANCE: f64 = 0.005;
/// How many spreads of a window's median the limiter wants to be sure by (about 98 %).
const CONFIDENCE: f64 = 2.0;
/// A baseline is stale when one request alone takes surely this many times as long...
const STALE: f64 = 2.0;
/// ...in this many windows in a row.
const STALE_WINDOWS: u32 = 3;
/// Weight of the latest window in the moving average of the jitter.
const JITTER_WEIGHT: f64 = 0.2;
/// Share of gateway errors in a window that counts as overload.
const OVERLOAD_SHARE: f64 = 0.5;
/// Shortest measurement window.
const MIN_WINDOW: Duration = Duration::from_millis(20);
/// 429s are bunched (a quota's) when the latest this many answers all are.
const BUNCHED: usize = 3;
/// Requests sent this soon after a slow-down count as sent before it: a quota counted per
/// second may be spent for the rest of its second, and a `Retry-After` says as much.
const SETTLING: Duration = Duration::from_secs(1);
/// A slow-down is judged on at least this many answers after it...
const CHECK_ANSWERS: u32 = 300;
/// ...or on what came in this long, if fewer.
const CHECK_LONGEST: Duration = Duration::from_secs(10);
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
    /// Requests per second the target accepted when its 429s came bunched: its quota.
    quota: Option<f64>,
    /// When the pace was last set or grown.
    pace_changed: Instant,
    next_request: Instant,
    next_documents: Instant,
    slow_start: bool,
    /// The lowest window median round trip seen, as far as that window's spread lets it be
    /// sure of (drifting up slowly, so it can follow a change).
    baseline: Option<f64>,
    /// The target's jitter: the spread of one round trip's logarithm (a moving average of each
    /// window's standard deviation), 0 for a target that always takes the same time.
    jitter: Option<f64>,
    /// Windows in a row at one request in flight that found the baseline well under what the
    /// path takes, and the least they were sure of.
    stale: Option<(u32, f64)>,
    window: Window,
    last_decrease: Option<Instant>,
    /// Answers per second, accepted and throttled, for the last [`HISTORY`] seconds.
    seconds: Seconds,
    /// A slow-down to check.
    check: Option<Check>,
    /// The share of 429s that slowing down did not remove.
    noise: f64,
    /// When bunched 429s last set the quota figure: answers accepted after them, to requests
    /// sent before, are added to it (see [`State::recount`]).
    recount: Option<Instant>,
    /// How much the recount added to the quota figure since bunched 429s last set it.
    recounted: f64,
    last_accepted: Instant,
    requests: u64,
    throttled: u64,
}

/// A slow-down to check (or several, one after another, checked together).
#[derive(Debug, Clone, Copy)]
struct Check {
    /// When the first of them came.
    first: Instant,
    /// When the latest came.
    latest: Instant,
    /// The pace before the first.
    previous_pace: Option<f64>,
    /// The quota to go back to if it fails, where the slow-down lowered the quota.
    previous_quota: Option<f64>,
    /// The answers of the few seconds that set the first off, and every answer since to a
    /// request sent before the latest had settled ([`SETTLING`]): the 429s it was to end.
    /// Requests already on the wire when the pace fell, or sent while the quota's second
    /// was still spent, answer 429 after it: those are still the 429s before, not a sign that
    /// slowing down did not work.
    before: Tally,
    /// The answers to requests sent after that.
    after: Tally,
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
                quota: None,
                pace_changed: now,
                next_request: now,
                next_documents: now,
                slow_start: true,
                baseline: None,
                jitter: None,
                stale: None,
                window: Window::new(now),
                last_decrease: None,
                seconds: Seconds::new(now),
                check: None,
                noise: 0.0,
                recount: None,
                recounted: 0.0,
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
        if let (Some(check), true) = (state.check.as_mut(), outcome != Outcome::Overloaded) {
            let tally = if sent > check.latest + SETTLING { &mut check.after } else { &mut check.before };
            tally.add(outcome == Outcome::Throttled);
        }
        match outcome {
            Outcome::Answered => {
                state.seconds.count(sent, now, true);
                state.last_accepted = now;
                state.window.rtts.push(now.duration_since(sent).as_secs_f64());
                state.recount(sent, now);
            }
            Outcome::Throttled => {
                state.throttled += 1;
                state.seconds.count(sent, now, false);
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
    /// under what the target accepts in a second (never less than the whole second before),
    /// at most once a second (the answers to requests sent before a change come after it).
    fn on_throttled(&mut self, now: Instant) {
        if self.last_decrease.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        // Probing past a quota the target showed, a 429 says it is still there: back to a
        // little under it (or under what the whole second before accepted, if more). Scattered
        // 429s a few percent of the answers are too few to slow down by the evidence below,
        // and a pace a little past the quota would keep them coming, one or two a second.
        // Bunched ones say the quota fell (another client of the database took a share): they
        // go to the evidence below, which measures it again.
        if let (Some(quota), Some(pace), false) = (self.quota, self.pace, self.seconds.bunched(BUNCHED)) {
            if pace > quota * QUOTA_HEADROOM {
                let (accepted, throttled) = self.seconds.second_before(now);
                let quota = if accepted > quota {
                    accepted
                } else if self.check.is_none() && self.noise < THROTTLED_SHARE / 4.0 && throttled >= 1.0 && accepted + throttled >= 0.9 * pace {
                    // A whole second sent at the pace, some of it refused, and the target took
                    // less than the figure found: the figure is high, and a pace just past the
                    // true quota would keep a request or two a second refused. What that second
                    // accepted is the quota now, within a step. Checked like any slow-down: if
                    // the 429s stay, they were noise, and the figure comes back.
                    self.check = Some(self.new_check(now, Some(quota)));
                    accepted.clamp(quota * (1.0 - QUOTA_STEP), quota * QUOTA_HEADROOM)
                } else {
                    quota
                };
                self.quota = Some(quota);
                self.pace = Some(quota * QUOTA_HEADROOM);
                self.pace_changed = now;
                self.last_decrease = Some(now);
                return;
            }
        }
        let (accepted, throttled, span) = self.seconds.last_second(now);
        let share = throttled / (accepted + throttled).max(1.0);
        // Evidence: a few 429s among enough answers, above what slowing down cannot remove by
        // more than chance explains (three standard deviations of the noise over this many).
        let answers = accepted + throttled;
        let expected = answers * self.noise;
        if throttled < 3.0
            || answers < 20.0
            || share < self.noise + THROTTLED_SHARE
            || throttled - expected < 3.0 * expected.max(1.0).sqrt()
        {
            return;
        }
        // What the target accepts in a second. A quota counted per second answers 429 to
        // everything past it: when the latest answers all are 429s, what it accepted in
        // the last second is the quota, however young the limiter (spreading that over a
        // younger limiter's age overestimated the quota up to four times, and the 429s kept
        // coming for another second). When 429s come between acceptances, the target is still
        // accepting at the rate it did: a 429 then and again, as a token bucket gives near
        // its rate and noise gives at any rate, slows down by the back-off alone, not to
        // what a young limiter happened to count so far. But a 429 answers sooner than a
        // write: a quota's first 429s come back between the acceptances of requests sent
        // before them. Until a quota is known, 429s to every request sent once the first of
        // them had come back are a quota spent too, however their answers interleave (taken
        // for noise, a young limiter spread 28 accepted over 0.15 s, paced at 350 a second
        // against a quota of 40, and 429s came for two or three seconds in bench runs). Not
        // every request sent after the first 429 was: requests overtake each other on the way.
        let bunched = self.seconds.bunched(BUNCHED) || (self.quota.is_none() && !self.seconds.accepted_since_first_refused());
        // While a slow-down waits for its check, only a quota's bunched 429s slow down more:
        // scattered ones coming on as before are what the check weighs, and each answered by
        // another slow-down, a noisy target's pace fell by half before the first check.
        if self.check.is_some() && !bunched {
            return;
        }
        // And never less than the whole second before accepted: the last second straddles
        // the quota's own seconds, and right after a slow-down it holds the 429s of the
        // quota spent before it — what a young second accepted would be taken for the quota.
        let accepted = if bunched { accepted } else { accepted / span.max(0.1) }.max(self.seconds.accepted_before(now));
        // Scattered 429s under a quota figure found, from a target that accepted less than
        // it: the figure is high (read off a second that straddled two of the quota's, or
        // counting the quota's next second in), and the pace climbed back under it into the
        // same 429s again and again, a few a second. What was accepted is the figure now,
        // within a step; checked with the slow-down, it comes back if the 429s stay.
        let high = self.quota.filter(|&quota| !bunched && accepted < quota);
        // A slow-down during another's check is checked with it, from now (the 429s between
        // them were the first one's falling short), against the pace before both.
        self.check = Some(match self.check {
            Some(check) => Check { latest: now, before: check.before.plus(check.after), after: Tally::default(), ..check },
            None => self.new_check(now, high),
        });
        if let Some(quota) = high {
            self.quota = Some(accepted.max(quota * (1.0 - QUOTA_STEP)));
        }
        // The quota counts requests, the ones it let through and then refused for another
        // reason (noise) too: as many of the 429s before the bunch as the noise measured
        // explains. Not all of them: writes under a quota take varying times, so the quota's
        // own first 429s come back between its acceptances; counted as noise, they put the
        // figure 12 over a quota of 40 in a simulation, the pace past it for good.
        if bunched {
            let before_bunch = (throttled - self.seconds.trailing_throttled() as f64).max(0.0);
            self.quota = Some(accepted + before_bunch.min((accepted * self.noise).ceil()));
            self.recount = Some(now);
            self.recounted = 0.0;
        }
        let pace = (accepted * BACK_OFF).max(1.0);
        self.pace = Some(self.pace.map_or(pace, |p| p.min(pace)).max(1.0));
        tracing::debug!(accepted, throttled, bunched, pace = self.pace, "429s: slowing down");
        self.pace_changed = now;
        self.next_request = self.next_request.max(now);
        self.limit = (self.limit * 0.9).max(1.0);
        self.slow_start = false;
        self.last_decrease = Some(now);
    }

    /// A slow-down to check from `now`, against the pace (and `previous_quota`, where it
    /// lowered the quota figure) before it. The share before is taken over a few seconds:
    /// the second that set it off is a high one.
    fn new_check(&self, now: Instant, previous_quota: Option<f64>) -> Check {
        let second = self.seconds.now(now);
        let before = self.seconds.tally(second.saturating_sub(2), second + 1);
        Check { first: now, latest: now, previous_pace: self.pace, previous_quota, before, after: Tally::default() }
    }

    /// A request sent before the bunched 429s that set the quota figure, accepted after them:
    /// the target took it within that quota too. A 429 costs a target nothing and a write some
    /// time, so the first requests past a quota answer before some under it, and what was
    /// accepted by then fell short of the quota (34 of 40 in a bench run, whose pace stayed
    /// there). Some of them may have been the quota's next second: a check takes back what
    /// that added if 429s stay (see [`State::grow_pace`]).
    fn recount(&mut self, sent: Instant, now: Instant) {
        let Some(at) = self.recount else { return };
        if now.duration_since(at) > SETTLING {
            self.recount = None;
        } else if sent < at {
            self.quota = self.quota.map(|quota| quota + 1.0);
            self.pace = self.pace.map(|pace| pace + BACK_OFF);
            self.recounted += 1.0;
        }
    }

    /// Probes upward: the pace grows by [`PROBE_PER_SECOND`] a second since the last change.
    /// Once a slow-down has enough answers after it (or waited [`CHECK_LONGEST`]), checks that
    /// it all but ended the 429s; if not, undoes it. What stays counts as noise either way.
    fn grow_pace(&mut self, now: Instant) {
        if let Some(Check { first, latest, previous_pace, previous_quota, before, after: since }) = self.check {
            // Enough answers that the share after is not one of chance: at a slowed pace two
            // seconds can hold a hundred answers, and a steady 4 % of 429s then shows as under
            // 2.5 % one time in four. And no later than CHECK_LONGEST after the first, so that
            // noise setting off one slow-down after another cannot put the check off for ever.
            let ready = now.duration_since(latest) >= Duration::from_secs(3) && since.answers >= CHECK_ANSWERS;
            if ready || now.duration_since(first) >= CHECK_LONGEST {
                self.check = None;
                // Under a quota, pacing below it all but ends the 429s: what stays is noise.
                // So the slow-down did not work when 429s still come about as often as before
                // it, give or take two standard deviations of a share over this many answers:
                // a slow-down set off by a chance cluster of noise finds that. No 429 at all
                // after it is the quota's sign, however few the answers. Either way, what
                // stays is noise from then on. Too few answers after it to tell (slow-downs
                // one after another, each a quota's bunched 429s) keep it.
                let (share, after) = (before.share().max(THROTTLED_SHARE), since.share());
                let likely = after.max(self.noise).max(THROTTLED_SHARE / 4.0);
                let spread = (2.0 * (likely / f64::from(since.answers.max(1))).sqrt()).max(THROTTLED_SHARE / 4.0);
                let failed = since.answers >= CHECK_ANSWERS / 10 && after > 0.0 && (share - after < spread || after > share / 2.0);
                // 429s that stay after a quota figure was recounted up are the recount's
                // overshoot as likely as noise: a request or two a second past the quota. So
                // as many a second as came are taken off the figure, up to what the recount
                // added, and they are not noise. Learnt as noise, they kept the pace past a
                // quota of 40 for good in a simulation, 4-5 % of the answers refused.
                let seconds = now.duration_since(latest + SETTLING).as_secs_f64().max(1.0);
                let overshoot = if failed { 0.0 } else { (f64::from(since.throttled) / seconds).ceil().min(self.recounted) };
                self.recounted = 0.0;
                if overshoot > 0.0 {
                    self.quota = self.quota.map(|quota| quota - overshoot);
                    self.pace = self.pace.map(|pace| pace - overshoot);
                } else if since.answers >= CHECK_ANSWERS / 10 {
                    self.noise = self.noise.max(after);
                }
                tracing::debug!(?before, after = ?since, failed, noise = self.noise, pace = self.pace, restored = previous_pace, "checked a slow-down");
                if failed {
                    self.pace = previous_pace;
                    self.quota = previous_quota.or(self.quota);
                    self.pace_changed = now;
                }
            }
        }
        let Some(pace) = self.pace else { return };
        let elapsed = now.duration_since(self.pace_changed).as_secs_f64();
        if elapsed >= 0.1 && self.last_decrease.is_none_or(|t| now.duration_since(t) >= Duration::from_secs(1)) {
            let probe = match self.quota {
                Some(quota) if pace >= quota * QUOTA_HEADROOM => PROBE_PAST_QUOTA,
                _ => PROBE_PER_SECOND,
            };
            let grown = pace * (1.0 + probe * elapsed);
            self.pace = Some(match self.quota {
                // Not past the headroom in one step.
                Some(quota) if pace < quota * QUOTA_HEADROOM => grown.min(quota * QUOTA_HEADROOM),
                _ => grown,
            });
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
            let median = window.rtts[window.rtts.len() / 2];
            // How sure the median of this window is: a target's round trips vary (a network
            // between, a busy node), and the median of a few of them varies too, by about
            // 1.25 σ/√n in their logarithm. The lowest of many such medians is one of chance,
            // far under the typical one: compared with it, every typical window looked like
            // queueing, the limit fell, windows got fewer answers and their medians more
            // spread, down to one request in flight at a fiftieth of the rate the target
            // could take (a target 40 ms away, σ = 0.6). So a window lowers the baseline only
            // by what it is sure of (its median two spreads up), and counts as queueing only
            // by what it is sure of (two spreads down). A target that always takes the same
            // time has no spread: the comparison is the plain one.
            let jitter = spread(&window.rtts).map_or(self.jitter, |sd| Some(self.jitter.map_or(sd, |j| j + JITTER_WEIGHT * (sd - j))));
            self.jitter = jitter;
            let sure = (CONFIDENCE * 1.25 * jitter.unwrap_or(0.0) / (window.rtts.len() as f64).sqrt()).exp();
            // The lowest seen, drifting up 1 % a second, so that a lasting change of the path
            // is followed.
            let drifted = self.baseline.map(|b| b * (1.0 + 0.01 * elapsed.as_secs_f64()));
            let mut baseline = drifted.map_or(median * sure, |b| b.min(median * sure));
            // One request in flight queues behind none of ours: what it takes is what the path
            // takes now. A baseline well under that (half), window after window, is stale
            // (learnt on a faster path: the drift of 1 % a second took ten minutes to follow a
            // path 300 times slower, at one request in flight all that time): it becomes what
            // these windows are sure of, and the limit probes upward again from slow start.
            // Window after window, so that one slow draw of a jittery path does not raise it.
            self.stale = (self.limit < 2.0 && baseline * STALE < median / sure)
                .then(|| self.stale.map_or((1, median / sure), |(windows, least)| (windows + 1, least.min(median / sure))));
            if let Some((STALE_WINDOWS.., least)) = self.stale {
                baseline = least;
                self.slow_start = true;
                self.stale = None;
            }
            let gradient = ((baseline * TOLERANCE).max(baseline + QUEUE_ALLOWANCE) / (median / sure)).min(1.0);
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

/// The standard deviation of the logarithms of `rtts` (seconds), if there are enough of them.
fn spread(rtts: &[f64]) -> Option<f64> {
    if rtts.len() < 4 {
        return None;
    }
    let logs: Vec<f64> = rtts.iter().map(|r| r.max(1e-6).ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let variance = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (logs.len() - 1) as f64;
    Some(variance.sqrt())
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
mod tests;
