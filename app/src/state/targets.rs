//! The Astra targets of this server: the local sandbox (not stored) and those added in the
//! UI, kept with their tokens in `targets.json` under the state directory.

use super::saved::{unique_id, write_private};
use crate::{
    error::{target_problem, AppError},
    views::{TargetCollectionState, TargetListing, TargetEdit, TargetView},
};
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
        self.save(&added)?;
        added.last().map(|t| view(t, false)).ok_or_else(|| AppError::Transport("the target was not stored".into()))
    }

    /// Changes a target added here (not the sandbox) after checking the new settings; an
    /// empty token keeps the stored one. Jobs already created keep the settings they had.
    pub async fn edit(&self, edit: TargetEdit) -> Result<TargetView, AppError> {
        let current = self.added_target(&edit.id).await?;
        let (endpoint, keyspace, token) = (edit.endpoint.trim(), edit.keyspace.trim(), edit.token.trim());
        if endpoint.is_empty() || keyspace.is_empty() {
            return Err(AppError::InvalidInput("Give the API endpoint and the keyspace.".into()));
        }
        let name = match edit.name.trim() {
            "" => endpoint.to_owned(),
            name => name.to_owned(),
        };
        let token = if token.is_empty() { current.token.clone() } else { token.to_owned() };
        let changed = StoredTarget { id: current.id.clone(), name, kind: current.kind, endpoint: endpoint.to_owned(), keyspace: keyspace.to_owned(), token };
        check(&changed).await?;
        let mut added = self.added.write().await;
        let slot = added.iter_mut().find(|t| t.id == edit.id).ok_or_else(|| no_such_target(&edit.id))?;
        *slot = changed.clone();
        self.save(&added)?;
        Ok(view(&changed, false))
    }

    /// Forgets a target added here (not the sandbox). Its collections and documents stay in
    /// Astra, and jobs that wrote to it keep their own copy of its settings.
    pub async fn remove(&self, id: &str) -> Result<(), AppError> {
        if self.sandbox.as_ref().is_some_and(|t| t.id == id) {
            return Err(AppError::InvalidInput("The local sandbox comes with the server and can't be removed.".into()));
        }
        let mut added = self.added.write().await;
        let before = added.len();
        added.retain(|t| t.id != id);
        if added.len() == before {
            return Err(no_such_target(id));
        }
        self.save(&added)
    }

    /// The id of the target a job's spec writes to, when this server still knows it.
    pub async fn id_of(&self, spec: &TargetSpec) -> Option<String> {
        let added = self.added.read().await;
        self.sandbox
            .iter()
            .chain(added.iter())
            .find(|t| t.kind == spec.kind() && t.endpoint == endpoint_of(spec) && t.keyspace == spec.keyspace())
            .map(|t| t.id.clone())
    }

    /// The target's collections and what each holds, and how many it may hold.
    pub async fn contents(&self, id: &str) -> Result<TargetListing, AppError> {
        let target = self.stored(id).await?;
        let writer = writer(&target)?;
        let names = writer.collection_names().await.map_err(|e| target_problem(&target.endpoint, &e))?;
        let Some(names) = names else { return Ok(TargetListing { collections: None, limit: COLLECTION_LIMIT }) };
        let mut collections = Vec::with_capacity(names.len());
        for name in names {
            let state = collection_state(&writer, &name).await.map_err(|e| target_problem(&target.endpoint, &e))?;
            collections.push((name, state));
        }
        Ok(TargetListing { collections: Some(collections), limit: COLLECTION_LIMIT })
    }

    async fn added_target(&self, id: &str) -> Result<StoredTarget, AppError> {
        if self.sandbox.as_ref().is_some_and(|t| t.id == id) {
            return Err(AppError::InvalidInput("The local sandbox comes with the server and can't be changed.".into()));
        }
        self.added.read().await.iter().find(|t| t.id == id).cloned().ok_or_else(|| no_such_target(id))
    }

    fn save(&self, added: &[StoredTarget]) -> Result<(), AppError> {
        let text = serde_json::to_string_pretty(added).map_err(|e| AppError::Transport(e.to_string()))?;
        write_private(&self.file, &text).map_err(|e| {
            tracing::error!(file = %self.file.display(), error = %e, "could not save targets");
            AppError::Transport(format!("the targets could not be saved on the server: {e}"))
        })
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
        self.added.read().await.iter().find(|t| t.id == id).cloned().ok_or_else(|| no_such_target(id))
    }
}

/// Where a job that names its target finds it now: the sandbox wherever this run of the
/// server started it, a stored target with its current endpoint and token.
impl TargetDirectory for TargetRegistry {
    fn lookup<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<TargetSpec>> {
        Box::pin(async move { self.stored(id).await.ok().map(|t| spec_of(&t)) })
    }
}

/// Collections an Astra database holds at most, by default: the Data API's
/// `DatabaseLimitsConfig` (see `docs/data-api.md`), astra-local's cap too.
pub const COLLECTION_LIMIT: usize = 10;

fn no_such_target(id: &str) -> AppError {
    AppError::InvalidInput(format!("There is no target \"{id}\". Add it on the Targets page."))
}

fn endpoint_of(spec: &TargetSpec) -> &str {
    match spec {
        TargetSpec::DataApi { endpoint, .. } | TargetSpec::DocumentApi { endpoint, .. } => endpoint,
    }
}

/// Whether the collection exists in the target, and how many documents it holds.
pub async fn collection_state(writer: &Writer, name: &str) -> Result<TargetCollectionState, engine::astra::TargetError> {
    Ok(match writer.document_count(name).await? {
        Some(tally) => TargetCollectionState::Exists { documents: tally.documents, exact: tally.exact },
        None => TargetCollectionState::Unknown,
    })
}

fn spec_of(target: &StoredTarget) -> TargetSpec {
    TargetSpec::new(target.kind, target.endpoint.clone(), target.keyspace.clone(), target.token.clone())
}

/// A writer for checks and look-ups: few attempts, few requests in flight.
fn writer(target: &StoredTarget) -> Result<Writer, AppError> {
    writer_for(&spec_of(target))
}

/// A writer for checks and look-ups on the target a job spec names (the dry run).
pub fn writer_for(spec: &TargetSpec) -> Result<Writer, AppError> {
    let quick = RetryPolicy { max_attempts: 2, max_elapsed: Duration::from_secs(8), ..RetryPolicy::default() };
    Writer::new(spec, tuning::CHUNK_SIZE.default, 4, quick).map_err(|e| target_problem(endpoint_of(spec), &e))
}

async fn check(target: &StoredTarget) -> Result<(), AppError> {
    writer(target)?.check().await.map_err(|e| target_problem(&target.endpoint, &e))
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
