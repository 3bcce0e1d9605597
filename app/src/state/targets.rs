//! The Astra targets of this server: the local sandbox (not stored) and those added in the
//! UI, kept with their tokens in `targets.json` under the state directory.

use super::saved::{unique_id, write_private};
use crate::{error::AppError, views::TargetView};
use engine::{
    astra::{RetryPolicy, TargetSpec, Writer},
    job::{targets::BoxFuture, TargetDirectory},
    tuning,
    wire::TargetKind,
};

use serde::{Deserialize, Serialize};
use std::{path::PathBuf, time::Duration};
use tokio::sync::RwLock;

/// A target as stored on the server, token included.
#[derive(Clone, Serialize, Deserialize)]
struct StoredTarget {
    id: String,
    name: String,
    kind: TargetKind,
    endpoint: String,
    keyspace: String,
    token: String,
}

/// The targets of this server: the sandbox (not stored) and those added in the UI,
/// kept in `targets.json` under the state directory, readable by the server's user only.
pub struct TargetRegistry {
    sandbox: Option<StoredTarget>,
    added: RwLock<Vec<StoredTarget>>,
    file: PathBuf,
}

impl TargetRegistry {
    /// Loads the stored targets; `sandbox` is the local astra-local (endpoint, token).
    pub fn load(state_dir: &std::path::Path, sandbox: Option<(String, String)>) -> Result<Self, String> {
        let file = state_dir.join("targets.json");
        let added = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{} is not readable: {e}", file.display()))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(format!("{} is not readable: {err}", file.display())),
        };
        let sandbox = sandbox.map(|(endpoint, token)| StoredTarget {
            id: "sandbox".into(),
            name: "Local sandbox (astra-local)".into(),
            kind: TargetKind::DataApi,
            endpoint,
            keyspace: "default_keyspace".into(),
            token,
        });
        Ok(Self { sandbox, added: RwLock::new(added), file })
    }

    pub async fn list(&self) -> Vec<TargetView> {
        let added = self.added.read().await;
        self.sandbox.iter().map(|t| view(t, true)).chain(added.iter().map(|t| view(t, false))).collect()
    }

    pub async fn add(&self, name: String, kind: TargetKind, endpoint: String, keyspace: String, token: String) -> Result<TargetView, AppError> {
        let name = name.trim().to_owned();
        let (endpoint, keyspace, token) = (endpoint.trim().to_owned(), keyspace.trim().to_owned(), token.trim().to_owned());
        if endpoint.is_empty() || keyspace.is_empty() || token.is_empty() {
            return Err(AppError::InvalidInput("Give the API endpoint, the keyspace and the token.".into()));
        }
        let stored = StoredTarget { id: String::new(), name: if name.is_empty() { endpoint.clone() } else { name }, kind, endpoint, keyspace, token };
        check(&stored).await?;
        let mut added = self.added.write().await;
        let id = unique_id(&stored.name, "target", |id| id == "sandbox" || added.iter().any(|t| t.id == id));
        added.push(StoredTarget { id, ..stored });
        write_private(&self.file, &serde_json::to_string_pretty(&*added).map_err(|e| AppError::Transport(e.to_string()))?)
            .map_err(|e| AppError::Transport(format!("the target could not be saved on the server: {e}")))?;
        added.last().map(|t| view(t, false)).ok_or_else(|| AppError::Transport("the target was not stored".into()))
    }

    pub async fn test(&self, id: &str) -> Result<String, AppError> {
        let target = self.stored(id).await?;
        check(&target).await?;
        Ok(format!("Connected to {} — the token and the keyspace \"{}\" work.", target.endpoint, target.keyspace))
    }

    /// The job-level description of a target, token included (server-side only).
    pub async fn spec(&self, id: &str) -> Result<TargetSpec, AppError> {
        Ok(spec_of(&self.stored(id).await?))
    }

    async fn stored(&self, id: &str) -> Result<StoredTarget, AppError> {
        if let Some(sandbox) = self.sandbox.as_ref().filter(|t| t.id == id) {
            return Ok(sandbox.clone());
        }
        self.added
            .read()
            .await
            .iter()
            .find(|t| t.id == id)
            .cloned()
            .ok_or_else(|| AppError::InvalidInput(format!("There is no target \"{id}\". Add it on the Targets page.")))
    }
}

/// Where a job that names its target finds it now: the sandbox wherever this run of the
/// server started it, a stored target with its current endpoint and token.
impl TargetDirectory for TargetRegistry {
    fn lookup<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<TargetSpec>> {
        Box::pin(async move { self.stored(id).await.ok().map(|t| spec_of(&t)) })
    }
}

fn spec_of(target: &StoredTarget) -> TargetSpec {
    TargetSpec::new(target.kind, target.endpoint.clone(), target.keyspace.clone(), target.token.clone())
}

async fn check(target: &StoredTarget) -> Result<(), AppError> {
    let quick = RetryPolicy { max_attempts: 2, max_elapsed: Duration::from_secs(8), ..RetryPolicy::default() };
    // A check sends one request at a time: a few in flight are plenty.
    let writer = Writer::new(&spec_of(target), tuning::CHUNK_SIZE.default, 4, quick).map_err(|e| AppError::InvalidInput(e.to_string()))?;
    writer.check().await.map_err(|e| AppError::Source(e.to_string()))
}

fn view(target: &StoredTarget, is_sandbox: bool) -> TargetView {
    TargetView {
        id: target.id.clone(),
        name: target.name.clone(),
        kind: target.kind,
        endpoint: target.endpoint.clone(),
        keyspace: target.keyspace.clone(),
        is_sandbox,
    }
}
