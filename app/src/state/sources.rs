//! The MongoDB sources this server knows: the default one from the configuration plus those
//! added in the UI, kept with their passwords in `sources.json` under the state directory.

use super::saved::{unique_id, write_private};
use crate::{error::AppError, views::SourceView};
use engine::source::mongo::{MongoSource, SourceUri};
use serde::{Deserialize, Serialize};
use std::{collections::HashMap, path::PathBuf, time::Duration};
use tokio::sync::RwLock;

/// A source as stored on the server, with its full URI (password included).
#[derive(Clone, Serialize, Deserialize)]
struct StoredSource {
    id: String,
    name: String,
    uri: String,
}

/// The MongoDB sources this server knows: the default one from the configuration plus
/// those added in the UI, which are kept in `sources.json` under the state directory.
pub struct SourceRegistry {
    default: Option<(StoredSource, SourceUri)>,
    added: RwLock<Vec<(StoredSource, SourceUri)>>,
    clients: RwLock<HashMap<String, MongoSource>>,
    file: PathBuf,
    timeout: Duration,
}

impl SourceRegistry {
    /// Loads the added sources from `state_dir` and puts `default_uri` first.
    pub fn load(default_uri: Option<&str>, state_dir: &std::path::Path, timeout: Duration) -> Result<Self, String> {
        let default = match default_uri {
            Some(uri) => {
                let parsed = SourceUri::parse(uri).map_err(|e| format!("--source-uri: {e}"))?;
                let stored = StoredSource { id: "default".into(), name: "Default source".into(), uri: uri.to_owned() };
                Some((stored, parsed))
            }
            None => None,
        };
        let file = state_dir.join("sources.json");
        let added = match std::fs::read_to_string(&file) {
            Ok(text) => {
                let stored: Vec<StoredSource> =
                    serde_json::from_str(&text).map_err(|e| format!("{} is not readable: {e}", file.display()))?;
                stored
                    .into_iter()
                    .filter_map(|s| SourceUri::parse(&s.uri).ok().map(|p| (s, p)))
                    .collect()
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(err) => return Err(format!("{} is not readable: {err}", file.display())),
        };
        Ok(Self { default, added: RwLock::new(added), clients: RwLock::new(HashMap::new()), file, timeout })
    }

    pub async fn list(&self) -> Vec<SourceView> {
        let added = self.added.read().await;
        self.default.iter().map(|s| view(s, true)).chain(added.iter().map(|s| view(s, false))).collect()
    }

    /// Adds a source after checking that it parses and that the server answers.
    pub async fn add(&self, name: &str, uri: &str) -> Result<SourceView, AppError> {
        let parsed = SourceUri::parse(uri)?;
        let source = MongoSource::connect(&parsed, self.timeout).await?;
        source.ping().await?;
        let name = match name.trim() {
            "" => parsed.hosts(),
            name => name.to_owned(),
        };
        let mut added = self.added.write().await;
        let id = unique_id(&name, "source", |id| id == "default" || added.iter().any(|(s, _)| s.id == id));
        let stored = StoredSource { id: id.clone(), name, uri: uri.trim().to_owned() };
        added.push((stored, parsed));
        self.save(&added)?;
        self.clients.write().await.insert(id, source);
        added.last().map(|s| view(s, false)).ok_or_else(|| AppError::Transport("the source was not stored".into()))
    }

    /// A client for the source with this id, created on first use.
    pub async fn connect(&self, id: &str) -> Result<MongoSource, AppError> {
        if let Some(client) = self.clients.read().await.get(id) {
            return Ok(client.clone());
        }
        let uri = self.uri(id).await?;
        let source = MongoSource::connect(&uri, self.timeout).await?;
        self.clients.write().await.insert(id.to_owned(), source.clone());
        Ok(source)
    }

    /// The id of the source with this connection string (as a job's spec keeps it), when
    /// this server still knows it.
    pub async fn id_of(&self, raw_uri: &str) -> Option<String> {
        let added = self.added.read().await;
        self.default.iter().chain(added.iter()).find(|(_, uri)| uri.raw() == raw_uri).map(|(s, _)| s.id.clone())
    }

    /// The source's name, as the Sources page lists it.
    pub async fn name_of(&self, id: &str) -> Result<String, AppError> {
        let added = self.added.read().await;
        self.default
            .iter()
            .chain(added.iter())
            .find(|(s, _)| s.id == id)
            .map(|(s, _)| s.name.clone())
            .ok_or_else(|| AppError::NotFound(format!("There is no source \"{id}\". Add it on the Sources page.")))
    }

    async fn uri(&self, id: &str) -> Result<SourceUri, AppError> {
        if let Some((_, uri)) = self.default.as_ref().filter(|(s, _)| s.id == id) {
            return Ok(uri.clone());
        }
        let added = self.added.read().await;
        added
            .iter()
            .find(|(s, _)| s.id == id)
            .map(|(_, uri)| uri.clone())
            .ok_or_else(|| AppError::InvalidInput(format!("There is no source \"{id}\". Add it on the Sources page.")))
    }

    fn save(&self, added: &[(StoredSource, SourceUri)]) -> Result<(), AppError> {
        let stored: Vec<&StoredSource> = added.iter().map(|(s, _)| s).collect();
        let text = serde_json::to_string_pretty(&stored).map_err(|e| AppError::Transport(e.to_string()))?;
        write_private(&self.file, &text).map_err(|e| {
            tracing::error!(file = %self.file.display(), error = %e, "could not save sources");
            AppError::Transport(format!("the source could not be saved on the server: {e}"))
        })
    }
}

fn view((stored, uri): &(StoredSource, SourceUri), is_default: bool) -> SourceView {
    SourceView { id: stored.id.clone(), name: stored.name.clone(), uri: uri.redacted(), is_default }
}
