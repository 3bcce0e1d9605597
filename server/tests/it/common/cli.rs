//! Real services and the `docshift` binary for the CLI tests: SecantusDB loaded with the
//! engine's sample documents, astra-local in the test process (it outlives any `docshift`
//! child the tests kill), and helpers that run the job commands.

pub use engine::testing::MongoServer;
use astra_local::testing::TestAstra;
use engine::astra::{
    data_api::{DataApiClient, DataApiConfig, FindQuery},
    Token,
};
use engine::{job::JobManager, wire::JobProgress};
use futures::TryStreamExt;
use std::{
    collections::HashSet,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};
use tokio::process::Child;

/// The token astra-local accepts.
pub const TOKEN: &str = "AstraCS:cli-test-token-secret";
/// The environment variable the tests name with --token-env.
pub const TOKEN_ENV: &str = "DOCSHIFT_CLI_TEST_TOKEN";

/// astra-local accepting [`TOKEN`].
pub async fn astra() -> TestAstra {
    TestAstra::start(TOKEN).await
}

/// `docshift` with `args`, the test token in [`TOKEN_ENV`] and no inherited docshift settings.
pub fn docshift(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_docshift"));
    command
        .args(args)
        .env(TOKEN_ENV, TOKEN)
        .env_remove("DOCSHIFT_SOURCE_URI")
        .env_remove("DOCSHIFT_STATE_DIR")
        .env_remove("ASTRA_DB_API_ENDPOINT")
        .env_remove("RUST_LOG");
    command
}

/// Starts `docshift` with `args` in the background: its stdout piped, its stderr appended to `log`.
pub fn spawn(args: &[String], log: &Path) -> Child {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap_or_else(|e| panic!("log: {e}"));
    let mut command = tokio::process::Command::from(docshift(&args));
    command.stdout(Stdio::piped()).stderr(Stdio::from(stderr)).kill_on_drop(true);
    command.spawn().unwrap_or_else(|e| panic!("cannot start docshift: {e}"))
}

/// The only job's progress as the state database says now, if it exists yet.
pub fn progress(manager: &JobManager) -> Option<JobProgress> {
    manager.jobs().ok()?.into_iter().next()
}

/// Waits until `ready` holds for the only job; false if the child exits first. Fails the
/// test after three minutes.
pub async fn wait_until(child: &mut Child, manager: &JobManager, ready: impl Fn(&JobProgress) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if child.try_wait().ok().flatten().is_some() {
            return false;
        }
        if progress(manager).is_some_and(|p| ready(&p)) {
            return true;
        }
        assert!(Instant::now() < deadline, "the job never got there: {:?}", progress(manager));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `docshift` to its end (without blocking the runtime that serves astra-local).
pub async fn run(args: &[&str]) -> Output {
    tokio::process::Command::from(docshift(args)).output().await.unwrap()
}

/// `args` with the value after `flag` replaced by `value`.
pub fn replace(mut args: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    let at = args.iter().position(|a| a == flag).unwrap();
    args[at + 1] = value.to_owned();
    args
}

/// The flags of a `docshift migrate` from `server` to `endpoint`, state in `state`.
pub fn migrate_args(server: &MongoServer, endpoint: &str, state: &Path, database: &str) -> Vec<String> {
    [
        "migrate",
        "--source-uri",
        &server.uri(),
        "--database",
        database,
        "--endpoint",
        endpoint,
        "--token-env",
        TOKEN_ENV,
        "--state-dir",
        &state.display().to_string(),
    ]
    .map(String::from)
    .to_vec()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The jobs of a state directory, through `docshift jobs --json`.
pub async fn jobs(state: &Path) -> Vec<engine::wire::JobProgress> {
    let output = run(&["jobs", "--json", "--state-dir", &state.display().to_string()]).await;
    assert!(output.status.success(), "jobs failed: {}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every `_id` in an astra-local collection, read back page by page, and how many
/// documents were read (more than the set's size if an id came back twice).
pub async fn target_ids(endpoint: &str, collection: &str) -> (HashSet<String>, usize) {
    let client = DataApiClient::new(DataApiConfig::new(endpoint, "default_keyspace", Token::new(TOKEN))).unwrap();
    let query = FindQuery { projection: Some(serde_json::json!({ "_id": 1 })), ..Default::default() };
    let mut ids = HashSet::new();
    let mut read = 0;
    let mut pages = std::pin::pin!(client.find_pages(collection, query));
    while let Some(page) = pages.try_next().await.unwrap() {
        for document in page.documents {
            let value: serde_json::Value = serde_json::from_str(document.get()).unwrap();
            ids.insert(value["_id"].to_string());
            read += 1;
        }
    }
    (ids, read)
}
