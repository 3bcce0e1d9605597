//! The limiter against simulated targets, in paused time.

use super::*;

/// `rounds` rounds of as many requests as the limit lets into flight, all answered after
/// `round_trip(requests in flight)`.
async fn in_rounds(limiter: &Arc<Limiter>, rounds: usize, round_trip: impl Fn(u32) -> Duration) {
    for _ in 0..rounds {
        let n = limiter.snapshot().limit;
        let permits: Vec<Permit> = futures::future::join_all((0..n).map(|_| limiter.acquire(0))).await;
        tokio::time::advance(round_trip(n)).await;
        for permit in permits {
            permit.finish(Outcome::Answered);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn flat_round_trips_grow_the_limit_to_the_ceiling() {
    let limiter = Limiter::new(32, None);
    in_rounds(&limiter, 200, |_| Duration::from_millis(10)).await;
    assert_eq!(limiter.snapshot().limit, 32);
}

#[tokio::test(start_paused = true)]
async fn rising_round_trips_shrink_the_limit() {
    let limiter = Limiter::new(64, None);
    // The target answers in 10 ms per request in flight: it serves one at a time.
    in_rounds(&limiter, 300, |n| Duration::from_millis(10 * u64::from(n))).await;
    assert!(limiter.snapshot().limit <= 8, "{:?}", limiter.snapshot());
}

#[tokio::test(start_paused = true)]
async fn a_nearby_target_that_gains_from_parallel_requests_is_not_taken_for_queueing() {
    let limiter = Limiter::new(64, None);
    // A target next door: 0.3 ms, and 0.06 ms more per request in flight (it serves many at
    // once, so more in flight is more done: 64 in flight carry 15,000 a second, one 3,000).
    in_rounds(&limiter, 300, |n| Duration::from_micros(300 + 60 * u64::from(n))).await;
    assert!(limiter.snapshot().limit >= 48, "{:?}", limiter.snapshot());
}

#[tokio::test(start_paused = true)]
async fn a_429_paces_below_the_accepted_rate_then_probes_upward_slowly_past_the_quota() {
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
    // Without 429s the pace grows, about 1 % a second, to a little under the quota the
    // bunched 429s showed (40 a second)...
    tokio::time::advance(Duration::from_secs(10)).await;
    limiter.acquire(0).await.finish(Outcome::Answered);
    let held = limiter.snapshot().rate_cap.unwrap();
    assert!(held > pace * 1.02 && (38.8..=39.6).contains(&held), "{held}");
    // ...and then past it, ten times slower.
    for _ in 0..10 {
        tokio::time::advance(Duration::from_secs(10)).await;
        limiter.acquire(0).await.finish(Outcome::Answered);
    }
    let probed = limiter.snapshot().rate_cap.unwrap();
    assert!((held * 1.08..=held * 1.12).contains(&probed), "{probed}");
}

#[tokio::test(start_paused = true)]
async fn a_few_429s_whatever_the_rate_do_not_spiral_the_pace_down() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    // 200 answers a second, 5 % of them 429s at random, for 30 seconds: chance clusters
    // set off slow-downs, which must not add up. The same fifty draws on every run, so
    // that chance cannot make this pass one day and fail the next.
    for seed in 0..50 {
        let mut rng = StdRng::seed_from_u64(seed);
        let limiter = Limiter::new(64, None);
        for _ in 0..30 * 200 {
            let permit = limiter.acquire(0).await;
            tokio::time::advance(Duration::from_millis(5)).await;
            permit.finish(if rng.gen::<f64>() < 0.05 { Outcome::Throttled } else { Outcome::Answered });
        }
        let throttle = limiter.snapshot();
        assert!(throttle.accepted_per_second > 165.0, "draw {seed}: {throttle:?}");
    }
}

/// A target that answers in 5 ms under a quota of 40 requests a second (counted per whole
/// second, as astra-local's), for `length`, and answers 429 besides to the requests under the
/// quota that `noise` picks. What share of the requests after `settle` went over the quota,
/// and how many a second it accepted then.
async fn under_a_quota(length: Duration, settle: Duration, mut noise: impl FnMut() -> bool) -> (f64, f64) {
    let limiter = Limiter::new(20, None);
    let epoch = Instant::now();
    let (mut second, mut used) = (0, 0);
    let (mut settled, mut over_quota, mut accepted) = (0u32, 0u32, 0u32);
    while epoch.elapsed() < length {
        let permit = limiter.acquire(0).await;
        tokio::time::advance(Duration::from_millis(5)).await;
        if epoch.elapsed().as_secs() != second {
            (second, used) = (epoch.elapsed().as_secs(), 0);
        }
        used += 1;
        let throttled = used > 40;
        let noise = !throttled && noise();
        if epoch.elapsed() >= settle {
            settled += 1;
            over_quota += u32::from(throttled);
            accepted += u32::from(!throttled && !noise);
        }
        permit.finish(if throttled || noise { Outcome::Throttled } else { Outcome::Answered });
    }
    (f64::from(over_quota) / f64::from(settled), f64::from(accepted) / (length - settle).as_secs_f64())
}

#[tokio::test(start_paused = true)]
async fn a_quota_is_found_at_once_and_then_held_with_few_429s() {
    let (share, rate) = under_a_quota(Duration::from_secs(20), Duration::from_secs(2), || false).await;
    assert!(share <= 0.05, "{:.1} % of the requests after the first 2 s were 429s", share * 100.0);
    assert!(rate >= 36.0, "{rate:.1} accepted a second against a quota of 40");
}

#[tokio::test(start_paused = true)]
async fn a_quota_is_found_through_noise() {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    // The same quota, and 3 % of the other answers 429s at random too.
    for seed in 0..20 {
        let mut rng = StdRng::seed_from_u64(seed);
        let (share, rate) = under_a_quota(Duration::from_secs(30), Duration::from_secs(5), || rng.gen::<f64>() < 0.03).await;
        assert!(share <= 0.05, "draw {seed}: {:.1} % of the requests after the first 5 s went over the quota", share * 100.0);
        assert!(rate >= 36.0, "draw {seed}: {rate:.1} accepted a second against a quota of 40");
    }
}

/// The same quota met as a copy meets it: `writers` requests in flight (each 5 ms), every
/// 429 sent again after its `Retry-After: 1`, as the client does. What share of the answers
/// after `settle` were 429s, the most 429s in one of those seconds, and how many a second
/// were accepted then.
async fn under_a_quota_in_parallel(quota: u32, writers: usize, length: Duration, settle: Duration) -> (f64, u32, f64) {
    under_a_changing_quota(move |_| quota, writers, length, settle, || TRAVEL, || Duration::ZERO).await
}

/// How long a request takes to reach the target, and a 429 to come back.
const TRAVEL: Duration = Duration::from_millis(5);

/// [`under_a_quota_in_parallel`] with a quota that is `quota(time since the start)`,
/// requests that take `travel()` to reach the target, and requests under the quota that take
/// `work()` longer to answer than the 429s past it.
async fn under_a_changing_quota(
    quota: impl Fn(Duration) -> u32 + Clone + Send + 'static,
    writers: usize,
    length: Duration,
    settle: Duration,
    travel: impl Fn() -> Duration + Clone + Send + 'static,
    work: impl Fn() -> Duration + Clone + Send + 'static,
) -> (f64, u32, f64) {
    let limiter = Limiter::new(64, None);
    // A job makes its limiter before its first write, which waits for the first batch read:
    // seconds in which nothing is counted (counted, they made a first slow-down read 28 a
    // second off a quota of 40, and the pace stayed about 34 for good).
    tokio::time::advance(Duration::from_secs(2)).await;
    let epoch = Instant::now();
    // The quota's window, as astra-local counts it: a second from its first request.
    let window = Arc::new(Mutex::new((epoch, 0u32)));
    let tallies = Arc::new(Mutex::new((0u32, 0u32, 0u32)));
    let by_second = Arc::new(Mutex::new(vec![0u32; length.as_secs() as usize + 2]));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (limiter, window, tallies, by_second, quota, travel, work) = (limiter.clone(), window.clone(), tallies.clone(), by_second.clone(), quota.clone(), travel.clone(), work.clone());
        tasks.spawn(async move {
            while epoch.elapsed() < length {
                let permit = limiter.acquire(50).await;
                tokio::time::sleep(travel()).await;
                let throttled = {
                    let mut window = window.lock().unwrap();
                    if window.0.elapsed() >= Duration::from_secs(1) {
                        *window = (Instant::now(), 0);
                    }
                    window.1 += 1;
                    window.1 > quota(epoch.elapsed())
                };
                if !throttled {
                    tokio::time::sleep(work()).await;
                }
                if epoch.elapsed() >= settle {
                    let mut tallies = tallies.lock().unwrap();
                    tallies.0 += 1;
                    tallies.1 += u32::from(throttled);
                    tallies.2 += u32::from(!throttled);
                    if let Some(second) = by_second.lock().unwrap().get_mut(epoch.elapsed().as_secs() as usize) {
                        *second += u32::from(throttled);
                    }
                }
                permit.finish(if throttled { Outcome::Throttled } else { Outcome::Answered });
                if throttled {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let (answers, throttled, accepted) = *tallies.lock().unwrap();
    let worst = by_second.lock().unwrap().iter().copied().max().unwrap_or(0);
    (f64::from(throttled) / f64::from(answers.max(1)), worst, f64::from(accepted) / (epoch.elapsed() - settle).as_secs_f64())
}

/// Asserts that a quota of `quota` was held from `settle` on: at most 1 % of the answers 429s
/// and `most` in one second (where counted), at least 90 % of the quota accepted.
fn assert_held(what: &str, (share, worst, rate): (f64, u32, f64), quota: u32, most: Option<u32>) {
    assert!(share <= 0.01, "{what}: {:.1} % of the answers once settled were 429s", share * 100.0);
    assert!(most.is_none_or(|most| worst <= most), "{what}: {worst} 429s in one second");
    assert!(rate >= 0.9 * f64::from(quota), "{what}: {rate:.1} accepted a second");
}

#[tokio::test(start_paused = true)]
async fn a_quota_met_with_many_requests_in_flight_is_held_with_few_429s() {
    // The requests already on the wire when the pace fell answer 429 after it: they are the
    // 429s before the slow-down, not a sign that it failed (taken for one, the pace went back
    // to none, and a second storm of 429s followed). And once the quota is found, probing
    // past it is slow: one or two 429s a second at most, not a few percent of the quota.
    for quota in [40, 200] {
        let held = under_a_quota_in_parallel(quota, 64, Duration::from_secs(40), Duration::from_secs(10)).await;
        assert_held(&format!("quota {quota}, after the first 10 s"), held, quota, Some(quota / 20));
    }
}

#[tokio::test(start_paused = true)]
async fn a_quota_that_falls_is_followed_down() {
    // The quota the limiter found falls a little (another client of the database takes its
    // share, or a second that straddled two of the quota's own counted one more): probing
    // past the old figure, the pace stayed a little over the new one, and every second one
    // or two requests were refused for good. Or it falls a lot: most of every second's
    // requests past it were refused. A small fall is followed at once; after a large one the
    // pace climbs back to the new quota at 1 % a second, from under it.
    for (before, after, settle) in [(42, 40, 10), (44, 40, 10), (210, 200, 10), (60, 40, 30)] {
        let quota = move |t: Duration| if t < Duration::from_secs(20) { before } else { after };
        let held = under_a_changing_quota(quota, 64, Duration::from_secs(20 + settle + 30), Duration::from_secs(20 + settle), || TRAVEL, || Duration::ZERO).await;
        assert_held(&format!("quota {before} then {after}, {settle} s after the fall"), held, after, Some(after / 20));
    }
}

#[tokio::test(start_paused = true)]
async fn a_quota_whose_429s_come_back_sooner_than_its_answers_is_found_whole() {
    // A 429 costs the target nothing, a write some time: the first requests past the quota
    // answer before some of the ones under it, and what was accepted by then is short of
    // the quota (about 34 of 40 in a bench run, whose pace then stayed at 34 a second).
    for (quota, work) in [(40, 60), (40, 200), (200, 60)] {
        let held = under_a_changing_quota(move |_| quota, 64, Duration::from_secs(40), Duration::from_secs(10), || TRAVEL, move || Duration::from_millis(work)).await;
        assert_held(&format!("quota {quota}, writes {work} ms, after the first 10 s"), held, quota, None);
    }
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

/// A target far away, under an optional request quota counted per second, that answers
/// each request after `round_trip(requests in flight)`. `writers` loop for `length`; what
/// was accepted a second after `settle`, and the most requests in flight then.
async fn far_away(writers: usize, quota: Option<u32>, length: Duration, settle: Duration, round_trip: impl Fn(u32) -> Duration + Send + Sync + 'static) -> (f64, u32) {
    use std::sync::atomic::{AtomicU32, Ordering};
    let limiter = Limiter::new(writers, None);
    let epoch = Instant::now();
    let round_trip = Arc::new(round_trip);
    let window = Arc::new(Mutex::new((epoch, 0u32)));
    let (accepted, in_flight, most) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let (limiter, window, round_trip) = (limiter.clone(), window.clone(), round_trip.clone());
        let (accepted, in_flight, most) = (accepted.clone(), in_flight.clone(), most.clone());
        tasks.spawn(async move {
            while epoch.elapsed() < length {
                let permit = limiter.acquire(20).await;
                let n = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                if epoch.elapsed() >= settle {
                    most.fetch_max(n, Ordering::SeqCst);
                }
                tokio::time::sleep(round_trip(n)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                let throttled = quota.is_some_and(|quota| {
                    let mut window = window.lock().unwrap();
                    if window.0.elapsed() >= Duration::from_secs(1) {
                        *window = (Instant::now(), 0);
                    }
                    window.1 += 1;
                    window.1 > quota
                });
                if epoch.elapsed() >= settle && !throttled {
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
                permit.finish(if throttled { Outcome::Throttled } else { Outcome::Answered });
                if throttled {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (f64::from(accepted.load(Ordering::SeqCst)) / (length - settle).as_secs_f64(), most.load(Ordering::SeqCst))
}

/// Log-normal jitter: e^(sigma·Z), Z standard normal (Box–Muller), the same draws for a seed.
fn log_normal(seed: u64, sigma: f64) -> impl Fn() -> f64 + Send + Sync + 'static {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let rng = Mutex::new(StdRng::seed_from_u64(seed));
    move || {
        let mut rng = rng.lock().unwrap();
        let (u, v): (f64, f64) = (rng.gen::<f64>().max(f64::MIN_POSITIVE), rng.gen());
        (sigma * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()).exp()
    }
}

/// What a target far away over a jittery path looks like: round trips of 40 ms at the median,
/// and e^(0.6·Z) about it (one in twenty over 107 ms, one in a hundred over 160 ms).
const FAR: f64 = 0.040;
const JITTER: f64 = 0.6;

#[tokio::test(start_paused = true)]
async fn jittery_round_trips_from_a_target_that_serves_in_parallel_keep_the_limit_high() {
    // Taken for queueing, the jitter brought the limit down to one request in flight: 26
    // answers a second of the 1,336 the target could give 64 writers.
    let mean = FAR * (JITTER * JITTER / 2.0).exp();
    let ideal = 64.0 / mean;
    for seed in 0..4 {
        let jitter = log_normal(seed, JITTER);
        let (rate, most) = far_away(64, None, Duration::from_secs(60), Duration::from_secs(20), move |_| Duration::from_secs_f64(FAR * jitter())).await;
        assert!(rate >= 0.9 * ideal && most == 64, "draw {seed}: {rate:.0} accepted a second of {ideal:.0}, at most {most} in flight");
    }
}

#[tokio::test(start_paused = true)]
async fn jittery_round_trips_under_a_quota_hold_the_quota() {
    // A quota of 200 a second needs about 10 requests in flight at 48 ms each, more when one
    // takes long: with the limit at one, 26 a second were accepted.
    for seed in 0..4 {
        let jitter = log_normal(seed, JITTER);
        let (rate, _) = far_away(64, Some(200), Duration::from_secs(60), Duration::from_secs(20), move |_| Duration::from_secs_f64(FAR * jitter())).await;
        assert!(rate >= 0.9 * 200.0, "draw {seed}: {rate:.1} accepted a second against a quota of 200");
    }
}

#[tokio::test(start_paused = true)]
async fn a_jittery_target_that_serves_one_at_a_time_still_holds_the_limit_down() {
    // 10 ms per request in flight, times the jitter: more in flight is only more waiting.
    for seed in 0..4 {
        let jitter = log_normal(seed, JITTER);
        let (_, most) = far_away(64, None, Duration::from_secs(60), Duration::from_secs(20), move |n| Duration::from_secs_f64(0.010 * f64::from(n) * jitter())).await;
        assert!(most <= 16, "draw {seed}: {most} requests in flight of the 64 allowed");
    }
}

#[tokio::test(start_paused = true)]
async fn a_path_that_gets_slower_is_followed() {
    // A target next door for 20 s, then 100 ms away (jittery): the baseline learnt next door
    // made every later window look like queueing, and the limit stayed at one for minutes.
    for seed in 0..4 {
        let jitter = log_normal(seed, JITTER);
        let epoch = Instant::now();
        let far = Duration::from_secs(20);
        let (rate, _) = far_away(64, None, Duration::from_secs(60), far + Duration::from_secs(10), move |_| {
            if epoch.elapsed() < far {
                Duration::from_micros(300)
            } else {
                Duration::from_secs_f64(0.100 * jitter())
            }
        })
        .await;
        let ideal = 64.0 / (0.100 * (JITTER * JITTER / 2.0).exp());
        assert!(rate >= 0.8 * ideal, "draw {seed}: {rate:.0} accepted a second of {ideal:.0}, from 10 s after the path got slower");
    }
}

#[tokio::test(start_paused = true)]
async fn a_quota_whose_first_429s_come_between_its_answers_is_found_and_held() {
    // Writes under the quota take varying times (30 ms at the median, jittery), so its first
    // 429s come back between answers accepted before it was spent. Counted as noise, they
    // and the late answers of its next second put the figure up to 12 over a quota of 40,
    // and the pace sat past it: 6 of every 46 requests refused to the end. And where the
    // recount of late answers put the figure a request or two high, a slow-down's check
    // took the 429s that stayed for noise: 4-5 % refused for good in two of these draws.
    for seed in 0..8 {
        let jitter = Arc::new(log_normal(seed, JITTER));
        let work = move || Duration::from_secs_f64(0.030 * jitter());
        let (share, worst, rate) = under_a_changing_quota(|_| 40, 64, Duration::from_secs(40), Duration::from_secs(10), || TRAVEL, work).await;
        assert!(share <= 0.02 && worst <= 2, "draw {seed}: {:.1} % of the answers once settled were 429s, {worst} in one second", share * 100.0);
        assert!(rate >= 36.0, "draw {seed}: {rate:.1} accepted a second against a quota of 40");
    }
}

#[tokio::test(start_paused = true)]
async fn a_quota_met_by_requests_that_overtake_each_other_is_found_in_its_first_second() {
    // Requests reach the target in another order than they were sent (a client's connection
    // pool, the network: here 5 ms at the median, log-normal with σ 1.5), so a request sent
    // just after the quota's first 429 can be accepted. Taken for noise, the 429s of a young
    // limiter had it spread what was accepted over a tenth of a second (370 a second against
    // a quota of 40 in a bench run), and 429s came for two or three seconds before bunched
    // ones set the figure: 8.0 and 9.5 % of all the answers in two of these draws, as in the
    // bench (9.6 %). Counted from the start this time.
    for seed in 0..16 {
        let (travel, work) = (Arc::new(log_normal(seed, 1.5)), Arc::new(log_normal(seed + 100, JITTER)));
        let travel = move || TRAVEL.mul_f64(travel());
        let work = move || Duration::from_secs_f64(0.030 * work());
        let (share, _, rate) = under_a_changing_quota(|_| 40, 64, Duration::from_secs(40), Duration::ZERO, travel, work).await;
        assert!(share <= 0.06, "draw {seed}: {:.1} % of all the answers were 429s", share * 100.0);
        assert!(rate >= 36.0, "draw {seed}: {rate:.1} accepted a second against a quota of 40");
    }
}
