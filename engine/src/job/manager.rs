//! The jobs of one state directory: creating them (after checking everything that can be
//! checked before a write), running, pausing, resuming and cancelling them, resuming the
//! unfinished ones after a restart, and publishing their progress to every subscriber.

use super::{
    control::Control,
    error::JobError,
    lock::JobLock,
    online,
    progress::Publisher,
    runner::JobRun,
    spec::{CollectionSpec, JobMode, JobSpec, TargetSpec},
    store::{now_ms, Act, ControlRequest, DeadLetter, JobStore},
    targets::TargetDirectory,
};
use crate::{
    astra::{RetryPolicy, Writer},
    naming::is_valid_schema_name,
    policy::DocumentLimits,
    tuning::{BATCH_SIZE, CHUNK_SIZE, IN_FLIGHT, PARALLEL_RANGES},
    source::{
        mongo::{MongoSource, SourceUri},
        probe::{quick_count, COUNT_BUDGET},
    },
    wire::{JobProgress, JobStatus, ServerEvent, TimelineEntry},
};
use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::sync::{broadcast, watch};

/// How often a process looks for requests other processes left for the jobs it runs.
const REQUEST_POLL: Duration = Duration::from_millis(250);

/// Creates, runs and reports jobs. Cheap to clone.
#[derive(Clone)]
pub struct JobManager {
    shared: Arc<Shared>,
}

/// What the clones of a manager share.
struct Shared {
    /// The store, and everyone watching it.
    publisher: Arc<Publisher>,
    /// The control signal of each job this process runs.
    controls: Mutex<HashMap<String, watch::Sender<Control>>>,
    /// Where the jobs' locks are (`None`: a store of its own, no other process to meet).
    locks: Option<PathBuf>,
    /// Where a server keeps its targets, for jobs that name theirs by id.
    targets: std::sync::OnceLock<Arc<dyn TargetDirectory>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl JobManager {
    /// The jobs kept in `state_dir` (created if needed).
    /// Other processes may use the same directory: each job runs in the one process that
    /// holds its lock (see [`super::lock`]).
    pub fn open(state_dir: &Path) -> Result<Self, JobError> {
        Ok(Self::new(JobStore::open(state_dir)?, Some(state_dir.join("locks"))))
    }

    /// The jobs of `store`, which no other process uses.
    pub fn with_store(store: JobStore) -> Self {
        Self::new(store, None)
    }

    fn new(store: JobStore, locks: Option<PathBuf>) -> Self {
        Self {
            shared: Arc::new(Shared {
                publisher: Arc::new(Publisher::new(store)),
                controls: Mutex::new(HashMap::new()),
                locks,
                targets: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Lets jobs that name their target by id (see [`JobSpec::target_id`]) find it here each
    /// time they run. A server sets it once, before resuming its jobs.
    pub fn set_target_directory(&self, targets: Arc<dyn TargetDirectory>) {
        if self.shared.targets.set(targets).is_err() {
            tracing::warn!("the target directory was already set; the first one stays");
        }
    }

    fn publisher(&self) -> &Publisher {
        &self.shared.publisher
    }

    fn store(&self) -> &JobStore {
        &self.shared.publisher.store
    }

    /// Every event from now on: job progress, documents landed, documents refused.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.publisher().subscribe()
    }

    /// Checks the job (names, filter, source, target, token, keyspace), creates the target
    /// collections, counts the source and starts the copy. Nothing is written to the
    /// target's documents before every check has passed.
    pub async fn create(&self, mut spec: JobSpec) -> Result<String, JobError> {
        check_spec(&spec)?;
        let uri = SourceUri::parse(&spec.source_uri)?;
        let source = MongoSource::connect(&uri, Duration::from_secs(5)).await?;
        source.ping().await?;
        source.require_collections(&spec.database, spec.collections.iter().map(|c| c.source.as_str())).await?;

        find_vector_dimensions(&source, &mut spec).await?;
        spec.collections.iter_mut().for_each(unindex_kept_vector_field);
        // An online job's change streams: refused now when the source has none, and their
        // anchors taken before any copy.
        let anchors = match spec.mode {
            JobMode::Online => Some(online::anchors(&spec, &source).await?),
            JobMode::Copy => None,
        };

        let quick = RetryPolicy { max_attempts: 3, max_elapsed: Duration::from_secs(10), ..RetryPolicy::default() };
        let writer = Writer::new(&spec.target, spec.chunk_size, spec.in_flight, quick)?;
        writer.check().await?;
        for collection in &spec.collections {
            writer.prepare(&collection.target, &collection.indexing, collection.vector.as_ref()).await?;
        }

        // The count the progress starts from, where the server gives it quickly (see
        // `source::probe::quick_count`); otherwise the job counts beside its copy
        // (`runner::BackgroundCounts`), unless the server reads one query at a time. A
        // collection read whole settles its count when its copy ends (`Store::settle_matched`).
        let mut matched = Vec::with_capacity(spec.collections.len());
        for collection in &spec.collections {
            let filter = collection.filter_document().map_err(JobError::Invalid)?;
            let documents = source.client().database(&spec.database).collection::<bson::Document>(&collection.source);
            let count = quick_count(&documents, collection.filter.is_some().then_some(filter), COUNT_BUDGET).await.map_err(|e| {
                // A command error on a filtered count is the server refusing the filter
                // (an unknown operator, a wrong type); anything else is the count itself.
                let reason = uri.explain(&e, Duration::from_secs(5));
                let refused_filter = collection.filter.is_some() && matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(_));
                JobError::Invalid(if refused_filter {
                    format!("MongoDB refused the filter of {}: {reason}", collection.source)
                } else {
                    format!("counting the documents of {} failed: {reason}", collection.source)
                })
            })?;
            matched.push((collection.source.clone(), count));
        }

        let id = new_job_id();
        let text = serde_json::to_string(&spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        let lock = self.lock(&id)?;
        self.store().create_job(&id, &text, &matched)?;
        if let Some(anchors) = &anchors {
            online::record_anchors(self.store(), &id, anchors)?;
        }
        tracing::info!(job = %id, database = %spec.database, target = %spec.target.describe(), "job created");
        self.start(&id, spec, lock);
        Ok(id)
    }

    /// The job's lock, so that no other process runs it meanwhile.
    fn lock(&self, id: &str) -> Result<Option<JobLock>, JobError> {
        self.shared.locks.as_deref().map(|dir| JobLock::acquire(dir, id)).transpose()
    }

    /// Runs the job in a task of its own, which keeps the lock until the run ends. With a
    /// shared state directory, another task applies what other processes ask of the job.
    fn start(&self, id: &str, spec: JobSpec, job_lock: Option<JobLock>) {
        let (control, receiver) = watch::channel(Control::Run);
        lock(&self.shared.controls).insert(id.to_owned(), control);
        if job_lock.is_some() {
            tokio::spawn(self.clone().answer_requests(id.to_owned(), now_ms()));
        }
        let targets = self.shared.targets.get().cloned();
        let run = JobRun { id: id.to_owned(), spec, publisher: self.shared.publisher.clone(), control: receiver, targets };
        let shared = self.shared.clone();
        let id = id.to_owned();
        tokio::spawn(async move {
            run.run().await;
            lock(&shared.controls).remove(&id);
            drop(job_lock);
        });
    }

    /// Applies the pause, resume and cancel requests that other processes leave for a job
    /// this one runs (see [`JobManager::pause`]), until the run ends. Requests from before
    /// `since` were meant for an earlier run and are dropped.
    async fn answer_requests(self, id: String, since: i64) {
        loop {
            tokio::time::sleep(REQUEST_POLL).await;
            if !lock(&self.shared.controls).contains_key(&id) {
                return;
            }
            let pending = match self.store().take_request(&id) {
                Ok(Some(pending)) if pending.at_ms >= since => pending,
                Ok(_) => continue,
                Err(err) => {
                    tracing::warn!(job = %id, error = %err, "cannot read the requests other processes left");
                    continue;
                }
            };
            let who = pending.who.as_str();
            let applied = match pending.request {
                ControlRequest::Pause => self.pause(&id, who),
                ControlRequest::Resume => self.resume(&id, who),
                ControlRequest::Cancel => self.cancel(&id, who),
                ControlRequest::Cutover => self.cutover(&id, who).await,
            };
            match applied {
                Ok(()) => tracing::info!(job = %id, who, request = pending.request.as_str(), "applied a request from another process"),
                Err(err) => tracing::warn!(job = %id, who, request = pending.request.as_str(), error = %err, "a request from another process was refused"),
            }
        }
    }

    /// Leaves `request` for the process that runs the job when another one does, and says
    /// whether it did.
    fn forward(&self, id: &str, request: ControlRequest, who: &str) -> Result<bool, JobError> {
        match self.lock(id) {
            Ok(_) => Ok(false),
            Err(JobError::Busy { .. }) => self.ask_runner(id, request, who).map(|()| true),
            Err(err) => Err(err),
        }
    }

    /// Leaves `request` for the other process that runs the job.
    fn ask_runner(&self, id: &str, request: ControlRequest, who: &str) -> Result<(), JobError> {
        self.store().request(id, request, who)?;
        tracing::info!(job = id, who, request = request.as_str(), "asked the process that runs the job");
        Ok(())
    }

    /// Publishes, every `every`, the progress of the jobs that other processes run on this
    /// state directory (a `docshift migrate` next to a `docshift serve`) when their state has
    /// changed, so that subscribers see those jobs move too (counters and status; the ids of
    /// landed documents stay with the process that writes them). Stops with the manager.
    pub fn follow_other_processes(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let shared = Arc::downgrade(&self.shared);
        tokio::spawn(async move {
            let mut seen: HashMap<String, i64> = HashMap::new();
            let mut since = now_ms();
            loop {
                tokio::time::sleep(every).await;
                let Some(shared) = shared.upgrade() else { return };
                let changed = match shared.publisher.store.changed_since(since) {
                    Ok(changed) => changed,
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read the state of other processes' jobs");
                        continue;
                    }
                };
                // Changes within the last second are read again next time, in case a change
                // lands in the same millisecond as this read; `seen` keeps them from repeating.
                since = changed.iter().map(|(_, at)| *at).max().map_or(since, |latest| latest.max(since) - 1_000);
                for (id, at) in changed {
                    let ours = lock(&shared.controls).contains_key(&id);
                    if !ours && seen.insert(id.clone(), at) != Some(at) {
                        shared.publisher.publish_progress(&id);
                    }
                }
            }
        })
    }

    /// Starts again every job a stop interrupted, from its checkpoints, except those another
    /// process runs. Call once at start-up.
    pub fn resume_unfinished(&self) -> Result<Vec<String>, JobError> {
        let mut resumed = Vec::new();
        for record in self.store().unfinished()? {
            let spec: JobSpec = serde_json::from_str(&record.spec).map_err(|e| JobError::Invalid(format!("job {} is unreadable: {e}", record.id)))?;
            let lock = match self.lock(&record.id) {
                Ok(lock) => lock,
                Err(busy @ JobError::Busy { .. }) => {
                    tracing::info!(job = %record.id, "not resumed here: {busy}");
                    continue;
                }
                Err(err) => return Err(err),
            };
            tracing::info!(job = %record.id, "resuming after a restart");
            self.start(&record.id, spec, lock);
            resumed.push(record.id);
        }
        Ok(resumed)
    }

    /// Pauses a running job after the batches in flight; `who` is shown to everyone. A job
    /// another process runs (on the same state directory) is paused by that process, within
    /// a moment: this leaves it the request. So do [`JobManager::resume`] and
    /// [`JobManager::cancel`].
    pub fn pause(&self, id: &str, who: &str) -> Result<(), JobError> {
        let record = self.store().job(id)?;
        let controls = lock(&self.shared.controls);
        match controls.get(id) {
            Some(control) if matches!(record.status, JobStatus::Running | JobStatus::Pending | JobStatus::Verifying) => {
                control.send_replace(Control::Pause);
                drop(controls);
                let message = format!("Paused by {who} at {}.", clock());
                self.publisher().set_status_by(id, JobStatus::Paused, Some(&message), Act { kind: "paused", who });
                Ok(())
            }
            Some(_) => Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "only a running job can be paused" }),
            None => {
                drop(controls);
                let running = matches!(record.status, JobStatus::Running | JobStatus::Pending | JobStatus::Verifying);
                if running && self.forward(id, ControlRequest::Pause, who)? {
                    return Ok(());
                }
                Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "only a running job can be paused" })
            }
        }
    }

    /// Resumes a paused job (also one paused by a restart or by a target outage), or one
    /// recorded as running or verifying that no process runs: its process was killed. A job
    /// that another process runs is refused with [`JobError::Busy`] unless it is paused there.
    pub fn resume(&self, id: &str, who: &str) -> Result<(), JobError> {
        let record = self.store().job(id)?;
        let ours = lock(&self.shared.controls).contains_key(id);
        let interrupted = matches!(record.status, JobStatus::Running | JobStatus::Verifying) && !ours;
        if record.status != JobStatus::Paused && record.status != JobStatus::Pending && !interrupted {
            return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "only a paused or interrupted job can be resumed" });
        }
        let message = format!("Resumed by {who} at {}.", clock());
        if ours {
            // The status first: a runner that resumes its verification then sets
            // `verifying` after this, not before.
            self.publisher().set_status_by(id, JobStatus::Running, Some(&message), Act { kind: "resumed", who });
            if let Some(control) = lock(&self.shared.controls).get(id) {
                control.send_replace(Control::Run);
            }
            return Ok(());
        }
        let job_lock = match self.lock(id) {
            Ok(job_lock) => job_lock,
            Err(JobError::Busy { .. }) if record.status == JobStatus::Paused => return self.ask_runner(id, ControlRequest::Resume, who),
            Err(err) => return Err(err),
        };
        let spec: JobSpec = serde_json::from_str(&record.spec).map_err(|e| JobError::Invalid(e.to_string()))?;
        self.publisher().set_status_by(id, JobStatus::Pending, Some(&message), Act { kind: "resumed", who });
        self.start(id, spec, job_lock);
        Ok(())
    }

    /// Stops a job for good; documents already written stay in the target.
    pub fn cancel(&self, id: &str, who: &str) -> Result<(), JobError> {
        let record = self.store().job(id)?;
        if record.status.is_final() {
            return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "it has already ended" });
        }
        let live = lock(&self.shared.controls).get(id).map(|c| c.send_replace(Control::Cancel)).is_some();
        if !live && self.forward(id, ControlRequest::Cancel, who)? {
            return Ok(());
        }
        let message = format!("Cancelled by {who} at {}; documents already written stay in the target.", clock());
        if live {
            // The runner stops after the batches in flight and leaves this status as it is.
            tracing::info!(job = id, who, "cancel requested");
        }
        self.publisher().set_status_by(id, JobStatus::Cancelled, Some(&message), Act { kind: "cancelled", who });
        Ok(())
    }

    /// Cuts an online job over: the barrier is the source's cluster time now; the job applies
    /// every change up to it, verifies and ends. `who` is shown to everyone. A job another
    /// process runs is cut over by that process, within a moment (as [`JobManager::pause`]);
    /// a paused or interrupted one when it resumes.
    pub async fn cutover(&self, id: &str, who: &str) -> Result<(), JobError> {
        let record = self.store().job(id)?;
        let spec: JobSpec = serde_json::from_str(&record.spec).map_err(|e| JobError::Invalid(format!("job {id} is unreadable: {e}")))?;
        if spec.mode != JobMode::Online {
            return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "only an online job can be cut over" });
        }
        if record.status.is_final() {
            return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "it has already ended" });
        }
        let ours = lock(&self.shared.controls).contains_key(id);
        if !ours && self.forward(id, ControlRequest::Cutover, who)? {
            return Ok(());
        }
        online::cutover::request(self.store(), id, &spec, who).await?;
        self.publisher().publish_progress(id);
        Ok(())
    }

    /// Forgets a job that has ended: its record, checkpoints, timeline and dead letters (the
    /// documents it wrote stay in the target). Subscribers are told with [`ServerEvent::JobDeleted`].
    /// A cancelled job may still be stopping (its ranges finish the batch they read): this
    /// waits for its run to end, up to half a minute.
    pub async fn delete(&self, id: &str) -> Result<(), JobError> {
        let record = self.store().job(id)?;
        if !record.status.is_final() {
            return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "only a job that has ended can be deleted" });
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while lock(&self.shared.controls).contains_key(id) {
            if tokio::time::Instant::now() >= deadline {
                return Err(JobError::WrongState { id: id.to_owned(), status: record.status.as_str(), what: "it is still stopping: try again in a moment" });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.store().delete_job(id)?;
        // After the job: a failure here leaves rows of a job that is gone, never a job
        // without its resume point.
        online::forget(self.store(), id)?;
        self.publisher().forget(id);
        self.publisher().announce(ServerEvent::JobDeleted { id: id.to_owned() });
        tracing::info!(job = id, "job deleted");
        Ok(())
    }

    /// What happened to the job, oldest first: created, started, paused and resumed by
    /// whom, verification, the end.
    pub fn timeline(&self, id: &str) -> Result<Vec<TimelineEntry>, JobError> {
        Ok(self.store().timeline(id)?)
    }

    /// Names who created the job, on its timeline.
    pub fn set_creator(&self, id: &str, who: &str) -> Result<(), JobError> {
        Ok(self.store().set_creator(id, who)?)
    }

    /// What the job was asked to do (server-side only: it holds the source URI and the token).
    pub fn spec(&self, id: &str) -> Result<JobSpec, JobError> {
        let record = self.store().job(id)?;
        serde_json::from_str(&record.spec).map_err(|e| JobError::Invalid(format!("job {id} is unreadable: {e}")))
    }

    pub fn progress(&self, id: &str) -> Result<JobProgress, JobError> {
        self.publisher().progress(id)
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<JobProgress>, JobError> {
        self.store().jobs()?.iter().map(|r| self.publisher().progress_of(r)).collect()
    }

    /// The job's refused documents in the order they were refused: every one, or the first `limit`.
    pub fn dead_letters(&self, id: &str, limit: Option<usize>) -> Result<Vec<DeadLetter>, JobError> {
        self.store().job(id)?;
        Ok(self.store().dead_letters(id, limit)?)
    }

    pub fn dead_letter_count(&self, id: &str) -> Result<u64, JobError> {
        self.store().job(id)?;
        Ok(self.store().dead_letter_count(id)?)
    }

    /// Waits until the job has ended or is paused, and returns its progress then.
    pub async fn settled(&self, id: &str) -> Result<JobProgress, JobError> {
        loop {
            let progress = self.progress(id)?;
            let live = lock(&self.shared.controls).contains_key(id);
            if !live && (progress.status.is_final() || progress.status == JobStatus::Paused) {
                return Ok(progress);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The time of day, UTC, as `HH:MM:SS UTC`: when someone acted on a job.
fn clock() -> String {
    let seconds = now_ms().div_euclid(1_000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", seconds / 3_600, seconds % 3_600 / 60, seconds % 60)
}

fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A vector mapping without a dimension (0) takes the length of the first source vector at
/// its field.
async fn find_vector_dimensions(source: &MongoSource, spec: &mut JobSpec) -> Result<(), JobError> {
    for collection in &mut spec.collections {
        let Some(vector) = collection.vector.as_mut().filter(|v| v.dimension == 0) else { continue };
        let documents = source.client().database(&spec.database).collection::<bson::Document>(&collection.source);
        // The field as a MongoDB path, when it has no escaped `.` or `&`.
        let exists = if vector.field.contains('&') { bson::Document::new() } else { bson::doc! { vector.field.clone(): { "$exists": true } } };
        let mut cursor = documents.find(exists).batch_size(100).await.map_err(|e| JobError::Source(source.uri().explain(&e, Duration::from_secs(5))))?;
        let mut found = None;
        while let Some(document) = futures::TryStreamExt::try_next(&mut cursor).await.map_err(|e| JobError::Source(source.uri().explain(&e, Duration::from_secs(5))))? {
            if let Some(length) = crate::convert::vector_length(&document, &vector.field) {
                found = Some(length);
                break;
            }
        }
        vector.dimension = found.ok_or_else(|| {
            JobError::Invalid(format!(
                "{}: no document holds a vector (an array of numbers or a BSON vector) at '{}': check the field name, or give the dimension",
                collection.source, vector.field
            ))
        })?;
        vector.check().map_err(|e| JobError::Invalid(format!("{}: {e}", collection.source)))?;
    }
    Ok(())
}

/// A vector field kept as an ordinary field too is an array of `dimension` numbers: over the
/// Data API's 1,000 elements of an indexed array, it must stay unindexed (`indexing.deny`),
/// or every document would be refused.
fn unindex_kept_vector_field(collection: &mut CollectionSpec) {
    let Some(vector) = collection.vector.as_ref().filter(|v| v.keep_field && v.dimension > DocumentLimits::default().max_array_elements) else { return };
    let indexing = &mut collection.indexing;
    match (&mut indexing.allow, &mut indexing.deny) {
        // An allow list leaves the field unindexed unless it names it.
        (Some(allow), _) => allow.retain(|path| path != &vector.field),
        (None, Some(deny)) if !deny.contains(&vector.field) => deny.push(vector.field.clone()),
        (None, Some(_)) => {}
        (None, None) => indexing.deny = Some(vec![vector.field.clone()]),
    }
}

fn check_spec(spec: &JobSpec) -> Result<(), JobError> {
    let invalid = |m: String| Err(JobError::Invalid(m));
    if spec.collections.is_empty() {
        return invalid("name at least one collection to migrate".into());
    }
    let mut targets = HashSet::new();
    for collection in &spec.collections {
        if !is_valid_schema_name(&collection.target) {
            return invalid(format!(
                "the target name \"{}\" (for {}) is not valid in Astra: use 1 to 48 letters, digits or underscores",
                collection.target, collection.source
            ));
        }
        if !targets.insert(collection.target.as_str()) {
            return invalid(format!("two collections would be written to the same target \"{}\"", collection.target));
        }
        collection.filter_document().map_err(JobError::Invalid)?;
        if let Some(vector) = &collection.vector {
            // Without a dimension (0), the first source vector gives it, then it is checked.
            if vector.dimension != 0 {
                vector.check().map_err(|e| JobError::Invalid(format!("{}: {e}", collection.source)))?;
            }
            if matches!(spec.target, TargetSpec::DocumentApi { .. }) {
                return invalid(format!("{}: the Document API has no vector collections; migrate to a Data API target to map a vector field", collection.source));
            }
        }
    }
    if !CHUNK_SIZE.contains(spec.chunk_size) {
        return invalid(format!("the chunk size must be {} documents, not {}", CHUNK_SIZE.range(), spec.chunk_size));
    }
    if !BATCH_SIZE.contains(spec.batch_size) {
        return invalid(format!("the batch size must be {} documents, not {}", BATCH_SIZE.range(), spec.batch_size));
    }
    if !PARALLEL_RANGES.contains(spec.parallel_ranges) || !IN_FLIGHT.contains(spec.in_flight) {
        return invalid(format!(
            "parallel ranges must be {} and requests in flight {}",
            PARALLEL_RANGES.range(),
            IN_FLIGHT.range()
        ));
    }
    if spec.mode == JobMode::Online {
        if let Some(problem) = online::problem(spec) {
            return invalid(problem);
        }
    }
    let keyspace = spec.target.keyspace();
    if !is_valid_schema_name(keyspace) {
        return invalid(format!("\"{keyspace}\" is not a valid keyspace name: use 1 to 48 letters, digits or underscores"));
    }
    Ok(())
}
