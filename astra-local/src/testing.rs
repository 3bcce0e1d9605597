//! astra-local for tests and benchmarks (feature `testing`), started the same way wherever
//! one is needed: on a free loopback port, with its data in a temporary directory that lives
//! as long as the instance, and with the token and faults the caller gives.
//!
//! ```no_run
//! # async fn demo() {
//! use astra_local::testing::TestAstra;
//! let astra = TestAstra::start("AstraCS:test-token").await;
//! println!("Data API at {}/api/json/v1/default_keyspace", astra.endpoint());
//! # }
//! ```

use crate::{spawn, Config, Faults, LocalAstra};
use std::{net::SocketAddr, ops::Deref, path::Path};

/// A running astra-local and the temporary directory that holds its data. Dereferences to
/// the [`LocalAstra`]; its data goes when it is dropped.
pub struct TestAstra {
    astra: LocalAstra,
    dir: tempfile::TempDir,
}

impl TestAstra {
    /// An empty instance that accepts `token`, without faults.
    pub async fn start(token: &str) -> Self {
        Self::with_faults(token, Faults::default()).await
    }

    /// An empty instance that accepts `token` and injects `faults` from the first request.
    pub async fn with_faults(token: &str, faults: Faults) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory for astra-local: {e}"));
        Self::reopen(dir, token, faults).await
    }

    /// An instance on the data of `dir`, as a previous one left it.
    pub async fn reopen(dir: tempfile::TempDir, token: &str, faults: Faults) -> Self {
        let astra = start_in(dir.path(), token, faults).await;
        Self { astra, dir }
    }

    /// Stops the instance and hands back its data, for [`TestAstra::reopen`].
    pub async fn stop(self) -> tempfile::TempDir {
        self.astra.shutdown().await;
        self.dir
    }
}

impl Deref for TestAstra {
    type Target = LocalAstra;

    fn deref(&self) -> &LocalAstra {
        &self.astra
    }
}

/// An instance on a free loopback port with its data in `dir` (kept when it stops).
pub async fn start_in(dir: &Path, token: &str, faults: Faults) -> LocalAstra {
    let config = Config { data_dir: dir.to_path_buf(), token: token.to_owned(), faults };
    spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .unwrap_or_else(|e| panic!("astra-local did not start in {}: {e}", dir.display()))
}
