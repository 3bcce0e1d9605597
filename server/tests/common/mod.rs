//! Real services for the server's integration tests: a SecantusDB process (a MongoDB
//! wire-compatible server) and the `docshift` binary, each on a free port, stopped on drop.

#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The Python virtualenv that holds SecantusDB (made by `make test`).
pub fn venv() -> PathBuf {
    std::env::var_os("DOCSHIFT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start listening on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A SecantusDB server.
pub struct MongoServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl MongoServer {
    fn spawn(port: u16, storage: &std::path::Path, auth: bool) -> Child {
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
        let child = command.spawn().expect("start secantusd-py");
        wait_for_port(port, "SecantusDB");
        child
    }

    /// An empty server without authentication.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Self::spawn(port, dir.path(), false);
        Self { child, port, _dir: dir }
    }

    /// A server that requires SCRAM authentication, with one root user.
    pub fn start_with_user(user: &str, password: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut setup = Self::spawn(port, dir.path(), false);
        let status = Command::new(venv().join("bin/python"))
            .args([
                "-c",
                "import sys, pymongo; c = pymongo.MongoClient(sys.argv[1]); \
                 c.admin.command('createUser', sys.argv[2], pwd=sys.argv[3], roles=[{'role': 'root', 'db': 'admin'}])",
                &format!("mongodb://127.0.0.1:{port}"),
                user,
                password,
            ])
            .status()
            .unwrap();
        assert!(status.success(), "createUser failed");
        setup.kill().unwrap();
        setup.wait().unwrap();
        // WiredTiger releases its lock when the process is gone; retry until it can reopen.
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = free_port();
        loop {
            let mut child = Self::spawn_unchecked(port, dir.path());
            std::thread::sleep(Duration::from_millis(300));
            match child.try_wait().unwrap() {
                None => {
                    wait_for_port(port, "SecantusDB with --auth");
                    return Self { child, port, _dir: dir };
                }
                Some(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(300)),
                Some(status) => panic!("SecantusDB with --auth exited: {status}"),
            }
        }
    }

    fn spawn_unchecked(port: u16, storage: &std::path::Path) -> Child {
        Command::new(venv().join("bin/secantusd-py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log-level", "WARNING", "--auth", "--storage-path"])
            .arg(storage)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    pub fn uri_with(&self, user: &str, password: &str) -> String {
        format!("mongodb://{user}:{password}@127.0.0.1:{}/?authSource=admin", self.port)
    }

    /// Loads `documents` sample documents through `docshift sample-data`.
    pub fn load_sample(&self, uri: &str, documents: u64) {
        let output = Command::new(env!("CARGO_BIN_EXE_docshift"))
            .args(["sample-data", "--source-uri", uri, "--documents", &documents.to_string()])
            .output()
            .unwrap();
        assert!(output.status.success(), "sample-data failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `docshift serve`, with everything it printed.
pub struct Docshift {
    child: Child,
    pub base: String,
    output: Arc<Mutex<String>>,
    _state: tempfile::TempDir,
}

impl Docshift {
    pub fn serve(source_uri: &str, extra: &[&str]) -> Self {
        let state = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_docshift"))
            .args(["serve", "--listen", "127.0.0.1:0", "--source-uri", source_uri, "--state-dir"])
            .arg(state.path())
            .args(["--server-selection-timeout-ms", "3000"])
            .args(extra)
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(base.starts_with("http://"), "unexpected first line: {line:?}");
        output.lock().unwrap().push_str(&line);
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        Self { child, base, output, _state: state }
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// Calls a server function with form-encoded arguments; returns (HTTP status, body).
    pub async fn call(&self, function: &str, args: &[(&str, &str)]) -> (u16, String) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/{function}", self.base))
            .form(args)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::get(format!("{}{path}", self.base)).await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }
}

impl Drop for Docshift {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
