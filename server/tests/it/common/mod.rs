//! Real services for the server's integration tests: SecantusDB (from the engine's test
//! support) and the `docshift` binary on a free port, stopped on drop; [`cli`] adds
//! astra-local (from its test support) and the job commands.

// Each helper serves some of the test modules.
#![allow(dead_code)]

pub mod cli;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
};

pub use engine::testing::MongoServer;

/// Loads `documents` sample documents into the server at `uri` through `docshift sample-data`.
pub fn load_sample(uri: &str, documents: u64) {
    let output = Command::new(env!("CARGO_BIN_EXE_docshift"))
        .args(["sample-data", "--source-uri", uri, "--documents", &documents.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "sample-data failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// A running `docshift serve`, with everything it printed.
pub struct Docshift {
    child: Child,
    pub base: String,
    output: Arc<Mutex<String>>,
    _state: Option<tempfile::TempDir>,
}

impl Docshift {
    /// On a free loopback port, with a state directory of its own.
    pub fn serve(source_uri: &str, extra: &[&str]) -> Self {
        let state = tempfile::tempdir().unwrap();
        let mut docshift = Self::serve_in(state.path(), "127.0.0.1:0", source_uri, extra, &[]);
        docshift._state = Some(state);
        docshift
    }

    /// On `listen`, with its state in `state_dir` (which outlives it), reached through
    /// 127.0.0.1 when bound to every interface.
    pub fn serve_in(state_dir: &std::path::Path, listen: &str, source_uri: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_docshift"))
            .args(["serve", "--listen", listen, "--source-uri", source_uri, "--state-dir"])
            .arg(state_dir)
            .args(["--server-selection-timeout-ms", "3000"])
            .args(extra)
            .env_remove("DOCSHIFT_ACCESS_TOKEN")
            .envs(env.iter().copied())
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
        let address = line.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(address.starts_with("http://"), "unexpected first line: {line:?}");
        let base = address.replacen("http://0.0.0.0:", "http://127.0.0.1:", 1);
        output.lock().unwrap().push_str(&line);
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        Self { child, base, output, _state: None }
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

/// The token the tests' astra-local accepts.
pub const ASTRA_TOKEN: &str = "AstraCS:server-test-token-6d2a";
