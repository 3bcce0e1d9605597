//! A server restart resumes every job, through the path `make run` users take: a job started
//! with the `start_migration` server function, the server killed with SIGKILL mid-copy or
//! mid-verification, the server started again with the same flags. The sandbox comes back on
//! another port with another token, and a stored target may come back at another address with
//! a rotated token: the job finds its target where it is now, completes and verifies, and the
//! target holds exactly the source's documents. A job whose target was removed waits, paused,
//! and says what to do.

use super::common::{cli, Docshift, MongoServer};
use astra_local::testing::TestAstra;
use engine::wire::{JobProgress, JobStatus};
use std::{
    path::Path,
    time::{Duration, Instant},
};

const DOCS: u64 = 20_000;

/// SecantusDB with `shop.orders`, and the directories a server keeps across restarts.
struct Stack {
    mongo: MongoServer,
    state: tempfile::TempDir,
    sandbox: tempfile::TempDir,
}

impl Stack {
    async fn start() -> Self {
        let mongo = MongoServer::start();
        mongo.load_sample("shop", "orders", DOCS).await;
        Self { mongo, state: tempfile::tempdir().unwrap(), sandbox: tempfile::tempdir().unwrap() }
    }

    /// `docshift serve` with the sandbox, as `make run` starts it.
    fn serve(&self) -> Docshift {
        let sandbox = self.sandbox.path().display().to_string();
        Docshift::serve_in(self.state.path(), "127.0.0.1:0", &self.mongo.uri(), &["--sandbox-dir", &sandbox], &[])
    }
}

/// Starts a migration of `shop.orders` into `collection` of `target`, as the New migration page does.
async fn start(docshift: &Docshift, target: &str, collection: &str) -> String {
    let request = app::views::MigrationRequest {
        source: "default".into(),
        database: "shop".into(),
        collections: vec![app::views::CollectionRequest { source: "orders".into(), target: collection.into(), filter: String::new(), deny: vec![], vector: None }],
        target: target.into(),
        policy: Default::default(),
        parallel_ranges: 4,
        batch_size: 500,
        who: "restart test".into(),
        online: false,
    };
    let response = reqwest::Client::new()
        .post(format!("{}/api/start_migration", docshift.base))
        .json(&serde_json::json!({ "request": request }))
        .send()
        .await
        .unwrap();
    let (status, body) = (response.status(), response.text().await.unwrap());
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap()
}

async fn job(docshift: &Docshift, id: &str) -> JobProgress {
    let (status, body) = docshift.call("list_jobs", &[]).await;
    assert_eq!(status, 200, "{body}");
    let jobs: Vec<JobProgress> = serde_json::from_str(&body).unwrap();
    jobs.into_iter().find(|j| j.id == id).unwrap()
}

/// Waits until `until` holds for the job, and returns it then.
async fn wait(docshift: &Docshift, id: &str, what: &str, until: impl Fn(&JobProgress) -> bool) -> JobProgress {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let job = job(docshift, id).await;
        if until(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "job {id} never got {what}: {job:?}\n{}", docshift.output());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn copying(job: &JobProgress) -> bool {
    let written = job.totals().accounted();
    job.status == JobStatus::Running && (2_000..DOCS).contains(&written)
}

fn verifying(job: &JobProgress) -> bool {
    job.status == JobStatus::Verifying
}

fn ended(job: &JobProgress) -> bool {
    job.status.is_final()
}

/// The job completed and verified every document, each counted once.
fn assert_complete_and_verified(job: &JobProgress) {
    assert_eq!(job.status, JobStatus::Complete, "{:?}", job.message);
    let orders = &job.collections[0];
    assert_eq!(orders.counters.matched, Some(DOCS));
    assert_eq!(orders.counters.written + orders.counters.already_present, DOCS, "{:?}", orders.counters);
    assert_eq!(orders.counters.dead_lettered, 0);
    let verification = orders.verification.as_ref().unwrap();
    assert_eq!((verification.checked, verification.matching), (DOCS, DOCS), "{verification:?}");
}

/// The collection of the astra-local whose data is in `dir` holds each source document once.
async fn assert_target_equals_source(dir: &Path, collections: &[&str]) {
    let astra = astra_local::testing::start_in(dir, cli::TOKEN, Default::default()).await;
    for collection in collections {
        let (ids, read) = cli::target_ids(&astra.endpoint(), collection).await;
        assert_eq!((ids.len() as u64, read as u64), (DOCS, DOCS), "{collection}");
    }
    astra.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_job_survives_sigkill_mid_copy_and_mid_verification() {
    let stack = Stack::start().await;
    let docshift = stack.serve();
    let first = start(&docshift, "sandbox", "orders").await;
    wait(&docshift, &first, "a thousand documents in", copying).await;
    drop(docshift); // SIGKILL

    // The sandbox comes back on another port, with another token.
    let docshift = stack.serve();
    assert_complete_and_verified(&wait(&docshift, &first, "to its end", ended).await);

    let second = start(&docshift, "sandbox", "orders_again").await;
    wait(&docshift, &second, "to verification", verifying).await;
    drop(docshift);
    let docshift = stack.serve();
    assert_complete_and_verified(&wait(&docshift, &second, "to its end", ended).await);
    drop(docshift);

    assert_target_equals_source(stack.sandbox.path(), &["orders", "orders_again"]).await;
}

/// `targets.json` with `change` applied to the stored target `id`.
fn edit_target(state: &Path, id: &str, change: impl Fn(&mut serde_json::Map<String, serde_json::Value>) -> bool) {
    let file = state.join("targets.json");
    let mut targets: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    targets.retain_mut(|t| t["id"] != id || change(t.as_object_mut().unwrap()));
    std::fs::write(&file, serde_json::to_string(&targets).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_target_job_resumes_at_its_new_address_with_its_new_token() {
    let stack = Stack::start().await;
    let astra = TestAstra::start(cli::TOKEN).await;
    let docshift = stack.serve();
    let endpoint = astra.endpoint();
    let added = [("name", "external"), ("kind", "data-api"), ("endpoint", endpoint.as_str()), ("keyspace", "default_keyspace"), ("token", cli::TOKEN)];
    let (status, body) = docshift.call("add_target", &added).await;
    assert_eq!(status, 200, "{body}");

    let id = start(&docshift, "external", "orders").await;
    wait(&docshift, &id, "a thousand documents in", copying).await;
    drop(docshift);

    // The database moves and its token is rotated; the Targets page holds the new ones.
    let rotated = "AstraCS:rotated-token-after-the-kill";
    let astra = TestAstra::reopen(astra.stop().await, rotated, Default::default()).await;
    let moved = astra.endpoint();
    edit_target(stack.state.path(), "external", |t| {
        t.insert("endpoint".into(), moved.clone().into());
        t.insert("token".into(), rotated.into());
        true
    });
    let docshift = stack.serve();
    wait(&docshift, &id, "to verification", verifying).await;
    drop(docshift);
    let docshift = stack.serve();
    let done = wait(&docshift, &id, "to its end", ended).await;
    assert_complete_and_verified(&done);
    assert!(done.target.contains(&moved), "{}", done.target);

    // A job whose target is removed meanwhile waits, paused, and says what to do.
    let orphan = start(&docshift, "external", "orders_orphan").await;
    wait(&docshift, &orphan, "a thousand documents in", copying).await;
    drop(docshift);
    edit_target(stack.state.path(), "external", |_| false);
    let docshift = stack.serve();
    let paused = wait(&docshift, &orphan, "paused", |j| j.status == JobStatus::Paused).await;
    let message = paused.message.unwrap_or_default();
    assert!(message.contains("no longer on the Targets page") && message.contains("resume"), "{message}");
    drop(docshift);

    let dir = astra.stop().await;
    assert_target_equals_source(dir.path(), &["orders"]).await;
}
