//! Real services for tests (feature `testing`): a SecantusDB process — a MongoDB
//! wire-compatible server from the project's Python venv — on a free port, stopped on drop;
//! and for online jobs ([`changes`]) a writer that keeps changing a collection and the exact
//! comparison of a collection with its copy.

pub mod changes;

use std::{
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The Python venv that holds SecantusDB, made by `make test`: `$DOCSHIFT_VENV`, or `.venv`
/// at the workspace root.
pub fn venv() -> PathBuf {
    std::env::var_os("DOCSHIFT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start listening on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How a test's SecantusDB runs, beyond the defaults (a one-member replica set whose oplog
/// keeps 100,000 entries or an hour).
#[derive(Debug, Clone, Default)]
pub struct MongoOptions {
    /// Present itself as a standalone server, without change streams (`--standalone`).
    pub standalone: bool,
    /// Oplog entries kept (`--oplog-max-entries`; SecantusDB trims every 1,000 writes).
    pub oplog_max_entries: Option<u64>,
    /// Seconds of oplog kept (`--oplog-retention-seconds`).
    pub oplog_retention_seconds: Option<u64>,
    /// Accept `configureFailPoint` (`--enable-test-commands`), to make commands fail.
    pub test_commands: bool,
}

impl MongoOptions {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.standalone {
            args.push("--standalone".to_owned());
        }
        if let Some(entries) = self.oplog_max_entries {
            args.extend(["--oplog-max-entries".to_owned(), entries.to_string()]);
        }
        if let Some(seconds) = self.oplog_retention_seconds {
            args.extend(["--oplog-retention-seconds".to_owned(), seconds.to_string()]);
        }
        if self.test_commands {
            args.push("--enable-test-commands".to_owned());
        }
        args
    }
}

/// A SecantusDB server with its data in a temporary directory.
pub struct MongoServer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl MongoServer {
    /// An empty server without authentication.
    pub fn start() -> Self {
        Self::start_with(&MongoOptions::default())
    }

    /// An empty server without authentication, run with `options`.
    pub fn start_with(options: &MongoOptions) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let port = free_port();
        let child = spawn(port, dir.path(), false, &options.args());
        wait_for_port(port, "SecantusDB");
        Self { child, port, dir }
    }

    /// A server that requires SCRAM authentication, with one root user.
    pub fn start_with_user(user: &str, password: &str) -> Self {
        let mut server = Self::start();
        let status = Command::new(venv().join("bin/python"))
            .args([
                "-c",
                "import sys, pymongo; c = pymongo.MongoClient(sys.argv[1]); \
                 c.admin.command('createUser', sys.argv[2], pwd=sys.argv[3], roles=[{'role': 'root', 'db': 'admin'}])",
                &server.uri(),
                user,
                password,
            ])
            .status()
            .unwrap_or_else(|e| panic!("python: {e}"));
        assert!(status.success(), "createUser failed");
        server.stop();
        // WiredTiger releases its lock only once the old process is gone: retry until the
        // restarted server stays up.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            server.port = free_port();
            server.child = spawn(server.port, server.dir.path(), true, &[]);
            std::thread::sleep(Duration::from_millis(300));
            match server.child.try_wait() {
                Ok(None) => {
                    wait_for_port(server.port, "SecantusDB with --auth");
                    return server;
                }
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(300)),
                other => panic!("SecantusDB with --auth did not stay up: {other:?}"),
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    pub fn uri_with(&self, user: &str, password: &str) -> String {
        format!("mongodb://{user}:{password}@127.0.0.1:{}/?authSource=admin", self.port)
    }

    /// Makes SecantusDB trim its oplog now to what its options keep (it does so by itself only
    /// every 1,000 writes): `secantusAdmin.pruneOplog`.
    pub async fn trim_oplog(&self) {
        let client = mongodb::Client::with_uri_str(self.uri()).await.unwrap_or_else(|e| panic!("SecantusDB: {e}"));
        client
            .database("admin")
            .run_command(bson::doc! { "secantusAdmin.pruneOplog": 1 })
            .await
            .unwrap_or_else(|e| panic!("trimming the oplog: {e}"));
    }

    /// Inserts `count` sample documents of `collection` ([`crate::sample::document`], numbered
    /// from 0) into `database.collection`, 2,000 per `insertMany`.
    pub async fn load_sample(&self, database: &str, collection: &str, count: u64) {
        let client = mongodb::Client::with_uri_str(self.uri()).await.unwrap_or_else(|e| panic!("SecantusDB: {e}"));
        let target = client.database(database).collection::<bson::Document>(collection);
        let mut batch = Vec::with_capacity(2_000);
        for i in 0..count {
            batch.push(crate::sample::document(collection, i));
            if batch.len() == 2_000 || i + 1 == count {
                target.insert_many(std::mem::take(&mut batch)).await.unwrap_or_else(|e| panic!("loading {collection}: {e}"));
            }
        }
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(port: u16, storage: &Path, auth: bool, extra: &[String]) -> Child {
    let binary = venv().join("bin/secantusd-py");
    assert!(binary.exists(), "{} is missing: run `make test`, which creates the venv", binary.display());
    let mut command = Command::new(binary);
    command
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log-level", "WARNING", "--storage-path"])
        .arg(storage)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if auth {
        command.arg("--auth");
    }
    command.args(extra);
    command.spawn().unwrap_or_else(|e| panic!("cannot start secantusd-py: {e}"))
}
