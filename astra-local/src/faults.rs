//! Fault injection: the misbehaviour of a real Astra endpoint under load (latency spikes, 429s,
//! gateway 5xx, dropped connections, a requests-per-second quota), switched on at start or at
//! run time through `POST /admin/faults`, so that clients' retry logic can be tested for real.
//!
//! Faults apply to every API route (Data API and Document API), never to `/admin`. The layer
//! counts the API requests it sees and the 429s it answers ([`FaultCounts`]), so that a test
//! or a benchmark can say how often a client was throttled.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::AppState;

/// Which faults to inject. All zero (the default) means none.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Milliseconds added to the delayed requests.
    pub latency_ms: u64,
    /// Fraction (0..=1) of requests delayed by `latency_ms`; 0 means every request when
    /// `latency_ms` is set.
    pub latency_spike_rate: f64,
    /// Spread of the added latency, as a path far away has it: each delayed request waits
    /// `latency_ms` × e^(`latency_jitter` · Z), Z standard normal (a log-normal round trip
    /// whose median is `latency_ms`; 0.6 puts one in twenty past 2.7 times the median). 0:
    /// exactly `latency_ms`.
    pub latency_jitter: f64,
    /// Fraction of requests answered `429 Too Many Requests`.
    pub rate_429: f64,
    /// Fraction of requests answered with a gateway error (502, 503 or 504).
    pub rate_5xx: f64,
    /// Fraction of requests whose connection is closed without any answer.
    pub drop_rate: f64,
    /// Requests per second above which requests are answered 429.
    pub rps_quota: Option<u32>,
}

impl Faults {
    /// Checks that every rate is a fraction.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("latency_spike_rate", self.latency_spike_rate),
            ("rate_429", self.rate_429),
            ("rate_5xx", self.rate_5xx),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if !(0.0..=3.0).contains(&self.latency_jitter) {
            return Err(format!("latency_jitter must be between 0 and 3, got {}", self.latency_jitter));
        }
        Ok(())
    }
}

/// Marker on a response asking the connection layer to close the connection instead of
/// answering (see `server.rs`). Through [`crate::router`] alone it is a bare 503.
#[derive(Clone, Copy, Debug)]
pub struct DropConnection;

/// API requests seen by the fault layer since start, and how many it answered 429.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultCounts {
    pub requests: u64,
    pub throttled: u64,
}

/// Live fault settings, the quota's window and the counts.
#[derive(Debug, Default)]
pub struct FaultState {
    faults: RwLock<Faults>,
    window: Mutex<QuotaWindow>,
    requests: AtomicU64,
    throttled: AtomicU64,
}

#[derive(Debug)]
struct QuotaWindow {
    started: Instant,
    requests: u32,
}

impl Default for QuotaWindow {
    fn default() -> Self {
        QuotaWindow { started: Instant::now(), requests: 0 }
    }
}

/// What to do with one request.
#[derive(Debug, PartialEq)]
enum Outcome {
    Proceed,
    Drop,
    Status(StatusCode),
}

impl FaultState {
    pub fn new(faults: Faults) -> FaultState {
        FaultState { faults: RwLock::new(faults), window: Mutex::new(QuotaWindow::default()), ..FaultState::default() }
    }

    /// The requests and 429s so far.
    pub fn counts(&self) -> FaultCounts {
        FaultCounts { requests: self.requests.load(Ordering::Relaxed), throttled: self.throttled.load(Ordering::Relaxed) }
    }

    pub fn get(&self) -> Faults {
        self.faults.read().map(|f| f.clone()).unwrap_or_default()
    }

    pub fn set(&self, faults: Faults) {
        if let Ok(mut current) = self.faults.write() {
            *current = faults;
        }
    }

    fn over_quota(&self, quota: u32) -> bool {
        let Ok(mut window) = self.window.lock() else { return false };
        if window.started.elapsed() >= Duration::from_secs(1) {
            window.started = Instant::now();
            window.requests = 0;
        }
        window.requests += 1;
        window.requests > quota
    }

    /// [`FaultState::decide`], counted.
    fn decide_counted(&self) -> (Option<Duration>, Outcome) {
        let decided = self.decide();
        self.requests.fetch_add(1, Ordering::Relaxed);
        if decided.1 == Outcome::Status(StatusCode::TOO_MANY_REQUESTS) {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        decided
    }

    fn decide(&self) -> (Option<Duration>, Outcome) {
        let faults = self.get();
        let mut rng = rand::thread_rng();
        let mut roll = |rate: f64| rate > 0.0 && rng.gen::<f64>() < rate;
        if roll(faults.drop_rate) {
            return (None, Outcome::Drop);
        }
        let delay = (faults.latency_ms > 0
            && (faults.latency_spike_rate <= 0.0 || roll(faults.latency_spike_rate)))
        .then(|| {
            let median = faults.latency_ms as f64 / 1000.0;
            if faults.latency_jitter <= 0.0 {
                return Duration::from_secs_f64(median);
            }
            // Box–Muller: a standard normal draw from two uniform ones.
            let mut draw = rand::thread_rng();
            let (u, v): (f64, f64) = (draw.gen::<f64>().max(f64::MIN_POSITIVE), draw.gen());
            let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            Duration::from_secs_f64(median * (faults.latency_jitter * z).exp())
        });
        if faults.rps_quota.is_some_and(|quota| self.over_quota(quota)) {
            return (delay, Outcome::Status(StatusCode::TOO_MANY_REQUESTS));
        }
        if roll(faults.rate_429) {
            return (delay, Outcome::Status(StatusCode::TOO_MANY_REQUESTS));
        }
        if roll(faults.rate_5xx) {
            let status = match rng.gen_range(0..3) {
                0 => StatusCode::BAD_GATEWAY,
                1 => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::GATEWAY_TIMEOUT,
            };
            return (delay, Outcome::Status(status));
        }
        (delay, Outcome::Proceed)
    }
}

/// Middleware applying the current faults to a request.
pub async fn inject(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/admin") {
        return next.run(request).await;
    }
    let (delay, outcome) = state.faults().decide_counted();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match outcome {
        Outcome::Proceed => next.run(request).await,
        Outcome::Drop => {
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response.extensions_mut().insert(DropConnection);
            response
        }
        Outcome::Status(status) => gateway_response(status),
    }
}

/// The plain answer a gateway in front of the Data API gives.
fn gateway_response(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "{{\"message\":\"{reason}\",\"code\":{},\"source\":\"astra-local fault injection\"}}",
        status.as_u16()
    );
    let mut response = (status, Body::from(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_rates_always_fire() {
        let state = FaultState::new(Faults { rate_5xx: 1.0, ..Faults::default() });
        for _ in 0..20 {
            assert!(matches!(state.decide().1, Outcome::Status(s) if s.is_server_error()));
        }
        state.set(Faults { drop_rate: 1.0, ..Faults::default() });
        assert_eq!(state.decide().1, Outcome::Drop);
        state.set(Faults::default());
        assert_eq!(state.decide(), (None, Outcome::Proceed));
    }

    #[test]
    fn quota_counts_per_second() {
        let state = FaultState::new(Faults { rps_quota: Some(3), ..Faults::default() });
        let outcomes: Vec<_> = (0..5).map(|_| state.decide().1).collect();
        assert_eq!(outcomes[..3], [Outcome::Proceed, Outcome::Proceed, Outcome::Proceed]);
        assert_eq!(outcomes[3], Outcome::Status(StatusCode::TOO_MANY_REQUESTS));
    }

    #[test]
    fn requests_and_429s_are_counted() {
        let state = FaultState::new(Faults { rps_quota: Some(2), ..Faults::default() });
        for _ in 0..5 {
            state.decide_counted();
        }
        assert_eq!(state.counts(), FaultCounts { requests: 5, throttled: 3 });
    }

    #[test]
    fn rates_must_be_fractions() {
        assert!(Faults { rate_429: 1.5, ..Faults::default() }.validate().is_err());
        assert!(Faults { rate_429: 0.5, ..Faults::default() }.validate().is_ok());
        assert!(Faults { latency_jitter: f64::NAN, ..Faults::default() }.validate().is_err());
        assert!(Faults { latency_jitter: -0.1, ..Faults::default() }.validate().is_err());
    }

    #[test]
    fn jittered_latency_is_log_normal_about_the_latency() {
        let state = FaultState::new(Faults { latency_ms: 40, latency_jitter: 0.6, ..Faults::default() });
        let mut delays: Vec<f64> = (0..4_000).map(|_| state.decide().0.map_or(0.0, |d| d.as_secs_f64())).collect();
        delays.sort_by(f64::total_cmp);
        let (median, p95) = (delays[2_000], delays[3_800]);
        // e^(0.6 · 1.645) = 2.68 times the median at the 95th percentile.
        assert!((0.036..=0.044).contains(&median), "median {median}");
        assert!((0.090..=0.125).contains(&p95), "95th percentile {p95}");
        let exact = FaultState::new(Faults { latency_ms: 40, ..Faults::default() });
        assert_eq!(exact.decide().0, Some(Duration::from_millis(40)));
    }
}
