//! The jobs' recorded state and everyone watching it: the [`Publisher`] writes each change
//! of status to the job store and sends the job's progress (counters, rates, verification),
//! the documents that landed and those refused as [`ServerEvent`]s to every subscriber.
//! The manager, the runner and the verifier all report through it. It also holds the
//! retries and throttling each running job's target met ([`Publisher::track_requests`]),
//! which progress reports and `/metrics` show per collection.

use super::{
    error::JobError,
    online::store::OnlineStore,
    spec::{JobMode, JobSpec},
    store::{Act, DeadLetter, JobRecord, JobStore},
};
use crate::{
    astra::RequestStats,
    wire::{CollectionProgress, JobProgress, JobStatus, ServerEvent, Throttle},
};
use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};
use tokio::sync::broadcast;

/// Events kept for subscribers that fall behind before they miss some.
const EVENT_BACKLOG: usize = 4_096;
/// How far back the documents-per-second rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// (when, documents accounted for) of one collection, over the last few seconds.
type RateSamples = VecDeque<(Instant, u64)>;

/// The job store, and the channel every change of it is announced on.
pub(crate) struct Publisher {
    pub store: JobStore,
    events: broadcast::Sender<ServerEvent>,
    rates: Mutex<HashMap<(String, String), RateSamples>>,
    /// The retries and throttling of the target of each job this process runs or ran.
    requests: Mutex<HashMap<String, Arc<RequestStats>>>,
    /// The latest throttling sample of each job this process runs.
    throttles: Mutex<HashMap<String, Throttle>>,
}

impl Publisher {
    pub(crate) fn new(store: JobStore) -> Self {
        Self {
            store,
            events: broadcast::channel(EVENT_BACKLOG).0,
            rates: Mutex::new(HashMap::new()),
            requests: Mutex::new(HashMap::new()),
            throttles: Mutex::new(HashMap::new()),
        }
    }

    /// Reports, from now on, the retries and throttling that `stats` counts for `job`
    /// (those of the writer its run uses).
    pub(crate) fn track_requests(&self, job: &str, stats: Arc<RequestStats>) {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).insert(job.to_owned(), stats);
    }

    /// Forgets what was kept in memory about a job (its rates, its retries, its throttling).
    pub(crate) fn forget(&self, job: &str) {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).remove(job);
        self.throttles.lock().unwrap_or_else(PoisonError::into_inner).remove(job);
        self.rates.lock().unwrap_or_else(PoisonError::into_inner).retain(|(j, _), _| j != job);
    }

    /// Every event from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.events.subscribe()
    }

    /// Records the job's status (and why, or who asked) and publishes its progress.
    pub(crate) fn set_status(&self, id: &str, status: JobStatus, message: Option<&str>) {
        if let Err(err) = self.store.set_status(id, status, message) {
            tracing::error!(job = id, error = %err, "cannot record the job's status");
        }
        self.publish_progress(id);
    }

    /// Records the status someone set, with their name on the timeline, and publishes it.
    pub(crate) fn set_status_by(&self, id: &str, status: JobStatus, message: Option<&str>, act: Act<'_>) {
        if let Err(err) = self.store.set_status_by(id, status, message, act) {
            tracing::error!(job = id, error = %err, "cannot record the job's status");
        }
        self.publish_progress(id);
    }

    /// Changes the status and keeps the message (who paused or resumed the job, and when).
    pub(crate) fn set_status_keeping_message(&self, id: &str, status: JobStatus) {
        if let Err(err) = self.store.set_status_keeping_message(id, status) {
            tracing::error!(job = id, error = %err, "cannot record the job's status");
        }
        self.publish_progress(id);
    }

    /// Sends `event` to every subscriber.
    pub(crate) fn announce(&self, event: ServerEvent) {
        let _ = self.events.send(event);
    }

    /// Publishes the job's progress as the store has it now.
    pub(crate) fn publish_progress(&self, id: &str) {
        match self.progress(id) {
            Ok(progress) => {
                let _ = self.events.send(ServerEvent::Job(progress));
            }
            Err(err) => tracing::error!(job = id, error = %err, "cannot read the job's progress"),
        }
    }

    /// Publishes the documents of a committed batch: the ids that landed, those refused.
    pub(crate) fn record_landed(&self, job: &str, collection: &str, ids: Vec<String>, refused: &[DeadLetter]) {
        if !ids.is_empty() {
            let _ = self.events.send(ServerEvent::Landed { job: job.to_owned(), collection: collection.to_owned(), ids });
        }
        for letter in refused {
            let _ = self.events.send(refused_event(job, letter));
        }
        self.publish_progress(job);
    }

    /// Keeps the job's latest throttling sample (and records it); says whether the target
    /// started or stopped throttling since the last one.
    pub(crate) fn set_throttle(&self, job: &str, throttle: Throttle) -> bool {
        if let Err(err) = self.store.save_throttle(job, &throttle) {
            tracing::warn!(job, error = %err, "cannot record the target's throttling");
        }
        let mut throttles = self.throttles.lock().unwrap_or_else(PoisonError::into_inner);
        let before = throttles.insert(job.to_owned(), throttle.clone());
        before.is_none_or(|b| b.throttling != throttle.throttling)
    }

    /// Documents accounted for per second over the last [`RATE_WINDOW`].
    fn rate(&self, job: &str, collection: &str, accounted: u64) -> f64 {
        let now = Instant::now();
        let mut rates = self.rates.lock().unwrap_or_else(PoisonError::into_inner);
        let samples = rates.entry((job.to_owned(), collection.to_owned())).or_default();
        if samples.back().is_none_or(|(_, n)| *n != accounted) {
            samples.push_back((now, accounted));
        }
        while samples.len() > 2 && samples.front().is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW) {
            samples.pop_front();
        }
        match (samples.front(), samples.back()) {
            (Some((t0, n0)), Some((_, n1))) if n1 > n0 => {
                let seconds = now.duration_since(*t0).as_secs_f64().max(0.001);
                if now.duration_since(*t0) > RATE_WINDOW * 2 {
                    0.0
                } else {
                    (n1 - n0) as f64 / seconds
                }
            }
            _ => 0.0,
        }
    }

    /// The job's progress as the store has it now.
    pub(crate) fn progress(&self, id: &str) -> Result<JobProgress, JobError> {
        let record = self.store.job(id)?;
        self.progress_of(&record)
    }

    /// The progress of a job record.
    pub(crate) fn progress_of(&self, record: &JobRecord) -> Result<JobProgress, JobError> {
        let spec: JobSpec = serde_json::from_str(&record.spec).map_err(|e| JobError::Invalid(format!("job {} is unreadable: {e}", record.id)))?;
        let counters = self.store.counters(&record.id)?;
        let verifications: HashMap<String, _> = self.store.verifications(&record.id)?.into_iter().collect();
        let plans = self.store.read_plans(&record.id)?;
        let running = record.status == JobStatus::Running;
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner).get(&record.id).cloned();
        let collections = spec
            .collections
            .iter()
            .map(|c| {
                let counters = counters.iter().find(|(name, _)| name == &c.source).map(|(_, k)| *k).unwrap_or_default();
                let met = requests.as_ref().map(|r| r.of(&c.target)).unwrap_or_default();
                Ok(CollectionProgress {
                    source: c.source.clone(),
                    target: c.target.clone(),
                    rate: if running { self.rate(&record.id, &c.source, counters.accounted()) } else { 0.0 },
                    counters,
                    verification: verifications.get(&c.source).cloned(),
                    retries: met.retries,
                    throttled: met.throttled,
                    plan: plans.get(&c.source).cloned(),
                })
            })
            .collect::<Result<_, JobError>>()?;
        let live = self.throttles.lock().unwrap_or_else(PoisonError::into_inner).get(&record.id).cloned();
        let throttle = match live {
            Some(throttle) => Some(throttle),
            None => self.store.throttle(&record.id)?,
        };
        Ok(JobProgress {
            id: record.id.clone(),
            status: record.status,
            database: spec.database.clone(),
            target: spec.target.describe(),
            collections,
            message: record.message.clone(),
            created_at_ms: record.created_at_ms,
            updated_at_ms: record.updated_at_ms,
            started_at_ms: record.started_at_ms,
            finished_at_ms: record.finished_at_ms,
            running_ms: record.running_ms.unsigned_abs(),
            verifying_ms: record.verifying_ms.unsigned_abs(),
            throttle,
            max_rate: spec.max_rate,
            online: match spec.mode {
                JobMode::Online => OnlineStore::attach(&self.store).progress(&record.id, record.status)?,
                JobMode::Copy => None,
            },
        })
    }
}

/// The event that tells subscribers a document was refused.
fn refused_event(job: &str, letter: &DeadLetter) -> ServerEvent {
    ServerEvent::Refused {
        job: job.to_owned(),
        collection: letter.collection.clone(),
        id: letter.id.clone(),
        code: letter.code.clone(),
        reason: letter.reason.clone(),
    }
}
