//! `insertOne` and `insertMany` (at most 100 documents, `ordered` default false,
//! `returnDocumentResponses`): each document is shredded (see [`crate::shred`]) and written only
//! if no document has its `_id` — an insert never overwrites (`DOCUMENT_ALREADY_EXISTS`), as
//! stargate/data-api's `InsertCollectionOperation` writes with `IF NOT EXISTS`. A `$vector` is
//! checked against the collection (see [`super::vsearch`]) and stored with its document.

use super::options::{store_failure, Options};
use super::errors::ApiError;
use super::vsearch;
use super::Reply;
use crate::doc_id::DocId;
use crate::json::Node;
use crate::shred::{self, Refusal, ShreddedDocument};
use crate::store::NewDoc;
use crate::{AppState, Collection};

/// Most documents in one `insertMany`.
pub const MAX_INSERT_MANY: usize = 100;

/// How the real service shows a too-long list in `COMMAND_FIELD_VALUE_INVALID`: Java's
/// `List.toString()`, cut at 1,000 characters.
fn java_list_value(docs: &[Node<'_>]) -> String {
    const MAX: usize = 1_000;
    let text = format!("[{}]", docs.iter().map(Node::to_json).collect::<Vec<_>>().join(", "));
    let length = text.chars().count();
    if length <= MAX {
        return format!("\"{text}\"");
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("\"{cut}\"...[TRUNCATED from {length} to {MAX} characters]")
}

enum InsertOutcome {
    Written(DocId),
    Failed(ApiError, Option<DocId>),
    Skipped(Option<DocId>),
}

/// Shreds and writes `docs` in order; the outcome of each, by position.
async fn insert_documents(state: &AppState, coll: &Collection, docs: &[Node<'_>], ordered: bool) -> Result<Vec<InsertOutcome>, ApiError> {
    // The real resolver shreds every document before the operation runs; the operation then
    // refuses the whole command if any has a `$vector` and the collection has no vectors.
    let shredded: Vec<Result<ShreddedDocument, Refusal>> =
        docs.iter().map(|doc| shred::shred(doc, &coll.settings.indexing, coll.settings.default_id)).collect();
    if coll.settings.vector.is_none() && shredded.iter().any(|s| s.as_ref().is_ok_and(|d| d.vector.is_some())) {
        return Err(ApiError::vector_search_not_supported(&coll.keyspace, &coll.name));
    }
    let mut outcomes: Vec<Option<InsertOutcome>> = Vec::with_capacity(docs.len());
    let mut to_write: Vec<(usize, DocId, NewDoc)> = Vec::with_capacity(docs.len());
    let mut stopped = false;
    for (doc, result) in docs.iter().zip(shredded) {
        if stopped {
            let id = doc.get("_id").and_then(|id| DocId::from_node(id).ok());
            outcomes.push(Some(InsertOutcome::Skipped(id)));
            continue;
        }
        // The database's checks of the vector come with the write, so after the shredder's.
        let failure = match result {
            Err(refusal) => InsertOutcome::Failed(refusal.error, refusal.id.map(|id| *id)),
            Ok(mut shredded) => match vsearch::written_vector(coll, shredded.vector.take()) {
                Ok(vector) => {
                    let new = NewDoc { key: shredded.id.key.clone(), body: shredded.json, vector };
                    to_write.push((outcomes.len(), shredded.id, new));
                    outcomes.push(None);
                    continue;
                }
                Err(error) => InsertOutcome::Failed(error, Some(shredded.id)),
            },
        };
        outcomes.push(Some(failure));
        stopped = ordered;
    }
    let mut positions = Vec::with_capacity(to_write.len());
    let mut ids = Vec::with_capacity(to_write.len());
    let mut rows = Vec::with_capacity(to_write.len());
    for (position, id, new) in to_write {
        positions.push(position);
        rows.push(new);
        ids.push(id);
    }
    let written = if rows.is_empty() { Vec::new() } else { state.store().insert(coll.id, rows, ordered).await.map_err(store_failure)? };
    for (i, (position, id)) in positions.into_iter().zip(ids).enumerate() {
        outcomes[position] = Some(match written.get(i) {
            Some(true) => InsertOutcome::Written(id),
            Some(false) => {
                let error = ApiError::document_already_exists(&id.display).for_document(Some(&id.json));
                InsertOutcome::Failed(error, Some(id))
            }
            None => InsertOutcome::Skipped(Some(id)),
        });
    }
    Ok(outcomes.into_iter().map(|o| o.unwrap_or(InsertOutcome::Skipped(None))).collect())
}

pub(crate) async fn insert_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let Some(document) = command.get("document").filter(|d| !d.is_null()) else {
        return Err(ApiError::command_field_value_invalid("command.document", "`null`", "must not be null"));
    };
    let outcomes = insert_documents(state, coll, std::slice::from_ref(document), true).await?;
    let mut reply = Reply::default();
    let mut ids = Vec::new();
    for outcome in outcomes {
        match outcome {
            InsertOutcome::Written(id) => ids.push(id.json),
            InsertOutcome::Failed(error, id) => reply.errors.push(error.for_document(id.as_ref().map(|i| i.json.as_str()))),
            InsertOutcome::Skipped(_) => {}
        }
    }
    Ok(reply.with_status("insertedIds", format!("[{}]", ids.join(","))))
}

pub(crate) async fn insert_many(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let docs = match command.get("documents") {
        Some(Node::Array(docs)) => docs,
        None | Some(Node::Null) => return Err(ApiError::command_field_value_invalid("command.documents", "`null`", "must not be null")),
        Some(other) => {
            return Err(ApiError::request_structure_mismatch(&format!(
                "Cannot deserialize value of type `java.util.ArrayList<com.fasterxml.jackson.databind.JsonNode>` from {} value",
                other.type_name()
            )))
        }
    };
    if docs.is_empty() {
        return Err(ApiError::command_field_value_invalid("command.documents", "\"[]\"", "must not be empty"));
    }
    if docs.len() > MAX_INSERT_MANY {
        return Err(ApiError::command_field_value_invalid(
            "command.documents",
            &java_list_value(docs),
            &format!("amount of documents to insert is over the max limit ({} vs {MAX_INSERT_MANY})", docs.len()),
        ));
    }
    let options = Options::of(command);
    let ordered = options.bool("ordered")?;
    let responses = options.bool("returnDocumentResponses")?;
    let outcomes = insert_documents(state, coll, docs, ordered).await?;

    let mut reply = Reply::default();
    if responses {
        let mut out = String::from("[");
        for (i, outcome) in outcomes.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (id, status, error) = match outcome {
                InsertOutcome::Written(id) => (Some(id), "OK", None),
                InsertOutcome::Failed(error, id) => (id, "ERROR", Some(error)),
                InsertOutcome::Skipped(id) => (id, "SKIPPED", None),
            };
            out.push('{');
            if let Some(id) = &id {
                out.push_str("\"_id\":");
                out.push_str(&id.json);
                out.push(',');
            }
            out.push_str("\"status\":\"");
            out.push_str(status);
            out.push('"');
            if let Some(error) = error {
                out.push_str(&format!(",\"errorsIdx\":{}", reply.errors.len()));
                reply.errors.push(error.for_document(id.as_ref().map(|i| i.json.as_str())));
            }
            out.push('}');
        }
        out.push(']');
        Ok(reply.with_status("documentResponses", out))
    } else {
        let mut ids = Vec::new();
        for outcome in outcomes {
            match outcome {
                InsertOutcome::Written(id) => ids.push(id.json),
                InsertOutcome::Failed(error, id) => reply.errors.push(error.for_document(id.as_ref().map(|i| i.json.as_str()))),
                InsertOutcome::Skipped(_) => {}
            }
        }
        Ok(reply.with_status("insertedIds", format!("[{}]", ids.join(","))))
    }
}
