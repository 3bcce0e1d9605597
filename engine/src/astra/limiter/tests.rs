//! The limiter against simulated targets, in paused time.

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
async fn a_nearby_target_that_gains_from_parallel_requests_is_not_taken_for_queueing() {
    let limiter = Limiter::new(64, None);
    // A target next door: 0.3 ms, and 0.06 ms more per request in flight (it serves many at
    // once, so more in flight is more done: 64 in flight carry 15,000 a second, one 3,000).
    for _ in 0..300 {
        let n = limiter.snapshot().limit;
        let permits: Vec<Permit> = futures::future::join_all((0..n).map(|_| limiter.acquire(0))).await;
        tokio::time::advance(Duration::from_micros(300 + 60 * u64::from(n))).await;
        for permit in permits {
            permit.finish(Outcome::Answered);
        }
    }
    assert!(limiter.snapshot().limit >= 48, "{:?}", limiter.snapshot());
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
        assert!(share <= 0.1, "draw {seed}: {:.1} % of the requests after the first 5 s went over the quota", share * 100.0);
        assert!(rate >= 36.0, "draw {seed}: {rate:.1} accepted a second against a quota of 40");
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
