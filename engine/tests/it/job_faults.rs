//! A job against an unreliable target: astra-local with its faults on (gateway 5xx, 429s
//! from random refusals and from a requests-per-second quota, 500 ms latency spikes, dropped
//! connections) still completes, with exact accounting, and verifies — verification's reads
//! go through the same faults. The test also checks that the faults really fired: the
//! engine's retries are counted by cause from its tracing events, and a probe measures the
//! latency spikes while the job runs. The counter is this test's own subscriber, set on every
//! thread of the test's runtime only: the other tests of the binary, running at the same
//! time on threads of their own, neither feed it nor see it.

use engine::{
    convert::{id_key_from_json, Converter},
    job::{target_name, CollectionSpec, JobManager, JobSpec, TargetSpec},
    sample::document,
    astra::{data_api::FindQuery, DataApiClient, DataApiConfig, Token},
    testing::MongoServer,
    wire::JobStatus,
};
use astra_local::testing::TestAstra;
use futures::TryStreamExt;
use std::{
    cell::RefCell,
    collections::{BTreeMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tracing::{dispatcher::DefaultGuard, Dispatch};
use tracing_subscriber::{layer::SubscriberExt, Layer};

const TOKEN: &str = "AstraCS:faults-token";
const DOCS: u64 = 20_000;
const SPIKE: Duration = Duration::from_millis(500);

/// What astra-local does wrong, on every API request (the job's writes and reads alike).
fn faults() -> astra_local::Faults {
    astra_local::Faults {
        latency_ms: SPIKE.as_millis() as u64,
        latency_spike_rate: 0.05,
        latency_jitter: 0.0,
        rate_429: 0.03,
        rate_5xx: 0.10,
        drop_rate: 0.03,
        // Bursts of 429s: once 150 requests have come in a second, the rest of it is refused.
        rps_quota: Some(150),
    }
}

/// The engine's retries, counted by cause, from its "retrying Data API request" events (and
/// its "throttled by the target" ones: a 429 is sent again without spending an attempt).
#[derive(Clone, Default)]
struct RetryCounter(Arc<Mutex<BTreeMap<&'static str, u64>>>);

thread_local! {
    /// The test's subscriber, as the default of a thread of its runtime.
    static SUBSCRIBER: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// A runtime like `#[tokio::test(flavor = "multi_thread", worker_threads = 4)]`'s whose
/// threads (workers and blocking pool alike) report to `dispatch` while they live.
fn runtime_reporting_to(dispatch: Dispatch) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .on_thread_start(move || SUBSCRIBER.with(|guard| *guard.borrow_mut() = Some(tracing::dispatcher::set_default(&dispatch))))
        .on_thread_stop(|| SUBSCRIBER.with(|guard| drop(guard.borrow_mut().take())))
        .build()
        .unwrap()
}

impl RetryCounter {
    fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().unwrap().clone()
    }
}

#[derive(Default)]
struct EventFields {
    message: String,
    reason: String,
}

impl tracing::field::Visit for EventFields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "reason" => self.reason = format!("{value:?}"),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.record_debug(field, &format_args!("{value}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for RetryCounter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut fields = EventFields::default();
        event.record(&mut fields);
        // A 429 is waited out by the limiter, not retried as a failure: its own event.
        let throttled = fields.message == "throttled by the target; sending again";
        if fields.message != "retrying Data API request" && !throttled {
            return;
        }
        let cause = if throttled || fields.reason.starts_with("HTTP 429") {
            "429"
        } else if fields.reason.starts_with("HTTP 5") {
            "5xx"
        } else if fields.reason.contains("failed transiently") {
            "per-document"
        } else {
            // No HTTP answer at all: the connection was closed (or a request timed out).
            "no answer"
        };
        *self.0.lock().unwrap().entry(cause).or_default() += 1;
    }
}

/// How the probe's requests fared.
#[derive(Debug, Default)]
struct Probe {
    sent: u64,
    slow: u64,
}

/// Sends `findCollections` requests (one at a time, no retries) until `stop`, counting the
/// answers that took at least the spike's latency.
async fn probe_latency(endpoint: String, stop: Arc<AtomicBool>) -> Probe {
    let http = reqwest::Client::new();
    let url = format!("{endpoint}/api/json/v1/default_keyspace");
    let mut probe = Probe::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let answer = http.post(&url).header("Token", TOKEN).header("Content-Type", "application/json").body(r#"{"findCollections":{}}"#).send().await;
        if let Ok(response) = answer {
            let _ = response.bytes().await;
            probe.sent += 1;
            if started.elapsed() >= SPIKE {
                probe.slow += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    probe
}

/// Every `_id` in the target collection, as stable keys, read page by page.
pub(crate) async fn target_ids(endpoint: &str, collection: &str) -> Vec<String> {
    let client = DataApiClient::new(DataApiConfig::new(endpoint, "default_keyspace", Token::new(TOKEN))).unwrap();
    let query = FindQuery { projection: Some(serde_json::json!({ "_id": 1 })), ..Default::default() };
    let pages: Vec<_> = client.find_pages(collection, query).try_collect().await.unwrap();
    #[derive(serde::Deserialize)]
    struct WithId<'a> {
        #[serde(borrow, rename = "_id")]
        id: &'a serde_json::value::RawValue,
    }
    pages
        .iter()
        .flat_map(|p| p.documents.iter())
        .map(|d| id_key_from_json(serde_json::from_str::<WithId<'_>>(d.get()).unwrap().id.get()).unwrap())
        .collect()
}

#[test]
fn a_job_completes_and_verifies_through_faults() {
    let retries = RetryCounter::default();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(retries.clone()));
    let _test_thread = tracing::dispatcher::set_default(&dispatch);
    runtime_reporting_to(dispatch).block_on(completes_and_verifies_through_faults(retries));
}

async fn completes_and_verifies_through_faults(retries: RetryCounter) {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", DOCS).await;
    let astra = TestAstra::with_faults(TOKEN, faults()).await;
    let state = tempfile::tempdir().unwrap();
    let jobs = JobManager::open(state.path()).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe_latency(astra.endpoint(), stop.clone()));
    let started = Instant::now();
    let spec = JobSpec::new(
        server.uri(),
        "shop".into(),
        vec![CollectionSpec { source: "orders".into(), target: target_name("orders"), filter: None, indexing: Default::default(), vector: None }],
        TargetSpec::DataApi { endpoint: astra.endpoint(), keyspace: "default_keyspace".into(), token: TOKEN.into() },
    );
    let id = jobs.create(spec).await.unwrap();
    let done = jobs.settled(&id).await.unwrap();
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let probe = probe.await.unwrap();
    let retries = retries.counts();
    eprintln!("job {id}: {:?} in {elapsed:.1?}; retries by cause {retries:?}; probe {probe:?}", done.status);

    // The job completed, every document is accounted for, and verification read every one back.
    assert_eq!(done.status, JobStatus::Complete, "{:?}", done.message);
    let orders = &done.collections[0];
    let counters = orders.counters;
    assert_eq!(counters.matched, Some(DOCS));
    assert_eq!(counters.dead_lettered, 0, "{:?}", jobs.dead_letters(&id, Some(1)).unwrap());
    // A write whose answer was lost comes back "already present" when retried: counted once.
    assert_eq!(counters.written + counters.already_present, DOCS, "{counters:?}");
    let verification = orders.verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (DOCS, DOCS), "{verification:?}");
    assert!(verification.missing.is_empty() && verification.different.is_empty(), "{verification:?}");

    // The faults fired, and the engine retried through each kind of them.
    for cause in ["429", "5xx", "no answer"] {
        assert!(retries.get(cause).copied().unwrap_or(0) > 0, "no retry after {cause}: {retries:?}");
    }
    assert!(probe.slow > 0, "no latency spike seen: {probe:?}");

    // The target holds exactly the source's ids: none missing, none extra, none twice.
    astra.set_faults(astra_local::Faults::default());
    let converter = Converter::new(Default::default(), &Default::default()).unwrap();
    let expected: HashSet<String> = (0..DOCS).map(|i| converter.convert(&document("orders", i)).unwrap().id_key().to_owned()).collect();
    let found = target_ids(&astra.endpoint(), &orders.target).await;
    assert_eq!(found.len() as u64, DOCS, "documents in the target");
    assert_eq!(found.into_iter().collect::<HashSet<_>>(), expected);
}
