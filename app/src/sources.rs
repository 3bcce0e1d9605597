//! Server functions for browsing MongoDB: the configured sources, their databases (without
//! MongoDB's own `admin`, `config` and `local`), collections and documents. Every answer
//! carries redacted URIs only.

use crate::{error::AppError, views::SourceView};
use engine::wire::{CollectionSummary, DatabaseSummary};
use leptos::prelude::*;

/// How many documents the collection page shows.
#[cfg(feature = "ssr")]
const FIRST_DOCUMENTS: i64 = 20;

#[server(endpoint = "list_sources")]
pub async fn list_sources() -> Result<Vec<SourceView>, AppError> {
    Ok(crate::state::state()?.sources.list().await)
}

/// Checks the URI at once, then that the server answers, and only then stores it.
#[server(endpoint = "add_source")]
pub async fn add_source(name: String, uri: String) -> Result<SourceView, AppError> {
    crate::state::state()?.sources.add(&name, &uri).await
}

/// MongoDB's own databases: they hold the server's users, sharding metadata and oplog,
/// not data to migrate.
pub const INTERNAL_DATABASES: [&str; 3] = ["admin", "config", "local"];

/// The source's databases of data (see [`INTERNAL_DATABASES`]).
#[server(endpoint = "list_databases")]
pub async fn list_databases(source: String) -> Result<Vec<DatabaseSummary>, AppError> {
    let source = crate::state::state()?.sources.connect(&source).await?;
    let mut databases = source.databases().await?;
    databases.retain(|d| !INTERNAL_DATABASES.contains(&d.name.as_str()));
    Ok(databases)
}

/// The source's name, as the Sources page lists it.
#[server(endpoint = "source_name")]
pub async fn source_name(source: String) -> Result<String, AppError> {
    crate::state::state()?.sources.name_of(&source).await
}

/// The document whose `_id` is `id` — a key as the census and dead letters give it (an
/// ObjectId's hex, a number, a string) or an `_id` as Extended JSON — as indented relaxed
/// Extended JSON; `None` when there is none.
#[server(endpoint = "find_document")]
pub async fn find_document(source: String, database: String, collection: String, id: String) -> Result<Option<String>, AppError> {
    let source = crate::state::state()?.sources.connect(&source).await?;
    let document = source.find_by_id_key(&database, &collection, &id).await?;
    Ok(document.as_ref().map(engine::source::mongo::to_extended_json))
}

#[server(endpoint = "list_collections")]
pub async fn list_collections(source: String, database: String) -> Result<Vec<CollectionSummary>, AppError> {
    let source = crate::state::state()?.sources.connect(&source).await?;
    Ok(source.collections(&database).await?)
}

/// The first documents of a collection in `_id` order, as indented relaxed Extended JSON.
#[server(endpoint = "first_documents")]
pub async fn first_documents(source: String, database: String, collection: String) -> Result<Vec<String>, AppError> {
    let source = crate::state::state()?.sources.connect(&source).await?;
    let documents = source.first_documents(&database, &collection, FIRST_DOCUMENTS).await?;
    Ok(documents.iter().map(engine::source::mongo::to_extended_json).collect())
}

/// The exact document count, which the server must scan for: asked for, not shown by default.
#[server(endpoint = "exact_count")]
pub async fn exact_count(source: String, database: String, collection: String) -> Result<u64, AppError> {
    let source = crate::state::state()?.sources.connect(&source).await?;
    Ok(source.exact_count(&database, &collection).await?)
}
