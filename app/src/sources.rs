//! Server functions for browsing MongoDB: the configured sources, their databases,
//! collections and documents. Every answer carries redacted URIs only.

use crate::error::AppError;
use engine::wire::{CollectionSummary, DatabaseSummary};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A MongoDB source as the browser sees it: the password is never part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceView {
    pub id: String,
    pub name: String,
    /// The connection string with its password replaced by `****`.
    pub uri: String,
    /// The source given at start-up (`--source-uri`), as opposed to one added in the UI.
    pub is_default: bool,
}

#[server(endpoint = "list_sources")]
pub async fn list_sources() -> Result<Vec<SourceView>, AppError> {
    Ok(ssr::state()?.sources.list().await)
}

/// Checks the URI at once, then that the server answers, and only then stores it.
#[server(endpoint = "add_source")]
pub async fn add_source(name: String, uri: String) -> Result<SourceView, AppError> {
    ssr::state()?.sources.add(&name, &uri).await
}

#[server(endpoint = "list_databases")]
pub async fn list_databases(source: String) -> Result<Vec<DatabaseSummary>, AppError> {
    let source = ssr::state()?.sources.connect(&source).await?;
    Ok(source.databases().await?)
}

#[server(endpoint = "list_collections")]
pub async fn list_collections(source: String, database: String) -> Result<Vec<CollectionSummary>, AppError> {
    let source = ssr::state()?.sources.connect(&source).await?;
    Ok(source.collections(&database).await?)
}

/// The first documents of a collection in `_id` order, as indented relaxed Extended JSON.
#[server(endpoint = "first_documents")]
pub async fn first_documents(source: String, database: String, collection: String) -> Result<Vec<String>, AppError> {
    let source = ssr::state()?.sources.connect(&source).await?;
    let documents = source.first_documents(&database, &collection, ssr::FIRST_DOCUMENTS).await?;
    Ok(documents.iter().map(engine::source::mongo::to_extended_json).collect())
}

/// The exact document count, which the server must scan for: asked for, not shown by default.
#[server(endpoint = "exact_count")]
pub async fn exact_count(source: String, database: String, collection: String) -> Result<u64, AppError> {
    let source = ssr::state()?.sources.connect(&source).await?;
    Ok(source.exact_count(&database, &collection).await?)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::{error::AppError, state::AppState};
    use leptos::prelude::use_context;

    /// How many documents the collection page shows.
    pub const FIRST_DOCUMENTS: i64 = 20;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| AppError::Transport("the server's state is missing from this request".into()))
    }
}
