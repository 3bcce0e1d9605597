//! `deleteOne` (filter required, optional sort), `deleteMany` and `findOneAndDelete`, as
//! stargate/data-api's `DeleteCollectionOperation` runs them: read the matching documents, then
//! delete each only if it is still the one read (`DELETE ... IF tx_id = ?`;
//! [`crate::store::Store::delete_if`]); a lost delete re-reads the document under the filter and
//! tries again ([`super::update::LWT_RETRIES`] times), so concurrent deletes count each document
//! once. `deleteMany` deletes at most 20 documents a call (`maxDocumentDeleteCount`) and says
//! `moreData` when more matched; with an empty filter it empties the collection and answers
//! `deletedCount: -1`.

use super::options::store_failure;
use super::errors::ApiError;
use super::filter::Filter;
use super::find::{self, document_data};
use super::projection::Projection;
use super::sort::Sort;
use super::update::{group_failures, LWT_RETRIES};
use super::Reply;
use crate::json::{self, Node};
use crate::store::StoredDoc;
use crate::{AppState, Collection};

/// Most documents one filtered `deleteMany` deletes.
pub const MAX_DELETE: usize = 20;

/// What happened to one document.
enum Deleted {
    /// Deleted; the document as it was.
    Yes(StoredDoc),
    /// Gone, or no longer matching, before it could be deleted.
    No,
    /// Lost every attempt; the `_id` (JSON).
    Failed(String),
}

fn id_json(doc: &StoredDoc) -> String {
    json::parse(&doc.body, usize::MAX).ok().and_then(|d| d.get("_id").map(Node::to_json)).unwrap_or_default()
}

async fn delete_document(state: &AppState, coll: &Collection, filter: &Filter<'_>, doc: StoredDoc) -> Result<Deleted, ApiError> {
    let first_id = id_json(&doc);
    let mut current = Some(doc);
    for _attempt in 0..=LWT_RETRIES {
        let Some(doc) = current.take() else { return Ok(Deleted::No) };
        if state.store().delete_if(coll.id, doc.key.clone(), doc.tx, coll.settings.vector.is_some()).await.map_err(store_failure)? {
            return Ok(Deleted::Yes(doc));
        }
        current = find::reread(state, coll, filter, &doc.key).await?;
    }
    Ok(Deleted::Failed(first_id))
}

fn failure(coll: &Collection, id: String) -> (ApiError, String) {
    (ApiError::failed_concurrent_operations(&coll.keyspace, &coll.name), id)
}

pub(crate) async fn delete_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    if command.get("filter").is_none_or(Node::is_null) {
        return Err(ApiError::command_field_value_invalid("command.filterDefinition", "`null`", "must not be null"));
    }
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let sort = Sort::parse(command.get("sort"), &coll.settings.indexing)?;
    let (deleted, failures) = match find::first_match(state, coll, &filter, &sort).await? {
        None => (0, Vec::new()),
        Some(doc) => match delete_document(state, coll, &filter, doc).await? {
            Deleted::Yes(_) => (1, Vec::new()),
            Deleted::No => (0, Vec::new()),
            Deleted::Failed(id) => (0, vec![failure(coll, id)]),
        },
    };
    let mut reply = Reply::status("deletedCount", deleted.to_string());
    reply.errors = group_failures(failures.into_iter());
    Ok(reply)
}

pub(crate) async fn find_one_and_delete(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let sort = Sort::parse(command.get("sort"), &coll.settings.indexing)?;
    let projection = Projection::parse(command.get("projection"))?;
    let mut failures = Vec::new();
    let mut document = None;
    if let Some(doc) = find::first_match(state, coll, &filter, &sort).await? {
        match delete_document(state, coll, &filter, doc).await? {
            Deleted::Yes(doc) => document = Some(doc),
            Deleted::No => {}
            Deleted::Failed(id) => failures.push(failure(coll, id)),
        }
    }
    let data = document_data(document.as_ref().map(|d| d.body.as_str()), &projection);
    let mut reply = Reply { data: Some(data), ..Reply::default() }.with_status("deletedCount", usize::from(document.is_some()).to_string());
    reply.errors = group_failures(failures.into_iter());
    Ok(reply)
}

pub(crate) async fn delete_many(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    if filter.is_empty() {
        state.store().truncate(coll.id).await.map_err(store_failure)?;
        return Ok(Reply::status("deletedCount", "-1"));
    }
    let page = find::read_page(state, coll, &filter, None, MAX_DELETE).await?;
    let mut deleted = 0;
    let mut failures = Vec::new();
    for doc in page.documents {
        match delete_document(state, coll, &filter, doc).await? {
            Deleted::Yes(_) => deleted += 1,
            Deleted::No => {}
            Deleted::Failed(id) => failures.push(failure(coll, id)),
        }
    }
    let mut reply = Reply::status("deletedCount", deleted.to_string());
    if page.more {
        reply = reply.with_status("moreData", "true");
    }
    reply.errors = group_failures(failures.into_iter());
    Ok(reply)
}
