//! `findOneAndUpdate`, `findOneAndReplace`, `updateOne` and `updateMany`, as stargate/data-api's
//! `ReadAndUpdateCollectionOperation` runs them: read the matching document(s), compute the new
//! document, shred it, and write it only if the stored document is still the one read (the
//! real `UPDATE ... IF tx_id = ?`; [`crate::store::Store::replace_if`]). A lost write re-reads
//! the document (by `_id`, still under the filter) and tries again, [`LWT_RETRIES`] times after
//! the first; then that document gets `FAILED_CONCURRENT_OPERATIONS`. So concurrent updates of
//! one document lose no update.
//!
//! - With `upsert` and no match, a new document is built from the filter's top-level `$eq`
//!   values, the update applied with `$setOnInsert` (or the replacement put in), and inserted
//!   if still absent; `status.upsertedId` names it, `matchedCount`/`modifiedCount` stay 0.
//! - A document the change leaves equal is not written (`modifiedCount` 0).
//! - `returnDocument` (`before` by default) picks the document `data.document` shows, projected;
//!   `before` of an upsert is `null`.
//! - `updateMany` updates one page of matches (the page size, 50; `maxDocumentUpdateCount` is not
//!   what caps it) and answers `moreData` and `nextPageState` when more may match.

use super::options::{return_after, Options};
use super::errors::ApiError;
use super::filter::Filter;
use super::find::{self, decode_page_state, encode_page_state};
use super::projection::Projection;
use super::sort::Sort;
use super::locator::{equals_ordered, set_path};
use super::update_ops::UpdateClause;
use super::vsearch;
use super::Reply;
use crate::doc_id::DocId;
use crate::json::{self, JsonStr, Node};
use crate::shred;
use crate::store::StoredDoc;
use crate::{AppState, Collection};

/// Retries of a lost conditional write (`OperationsConfig.LwtConfig.retries`).
pub const LWT_RETRIES: usize = 3;

/// What a command does to a document.
pub(crate) enum Change<'a> {
    Update(UpdateClause<'a>),
    Replace(&'a Node<'a>),
}

/// Which document a command answers with, and its projection.
#[derive(Clone, Copy)]
struct Returning<'p> {
    after: bool,
    projection: &'p Projection,
}

/// The result of one document's update.
#[derive(Default)]
struct Outcome {
    modified: bool,
    /// The `_id` (JSON) of an inserted upsert document.
    upserted: Option<String>,
    /// The projected document to return.
    document: Option<String>,
    /// A per-document error, with the document's `_id` (JSON).
    failure: Option<(ApiError, String)>,
}

/// The shared arguments of one command's writes.
struct Writer<'r, 'a> {
    state: &'r AppState,
    coll: &'r Collection,
    filter: &'r Filter<'a>,
    change: &'r Change<'a>,
    returning: Option<Returning<'r>>,
}

fn parse_stored(body: &str) -> Result<Node<'_>, ApiError> {
    json::parse(body, usize::MAX).map_err(|e| ApiError::unexpected_server_error("StoredDocument", &e.to_string()))
}

fn projected(node: &Node<'_>, projection: &Projection) -> String {
    let mut out = String::new();
    projection.write(node, &mut out);
    out
}

/// `DocumentUpdater.replace`: keeps the `_id`, puts the replacement's fields in; `false` when
/// the document already equals the replacement.
fn replace<'x>(doc: &mut Node<'x>, replacement: &'x Node<'x>) -> Result<bool, ApiError> {
    let Node::Object(entries) = doc else { return Ok(false) };
    let id = entries.iter().position(|(k, _)| k.value == "_id").map(|i| entries.remove(i).1);
    let replacement_id = replacement.get("_id");
    if let (Some(given), Some(matched)) = (replacement_id, &id) {
        let (given_id, matched_id) = (DocId::from_node(given)?, DocId::from_node(matched)?);
        if given_id.key != matched_id.key || given_id.described() != matched_id.described() {
            return Err(ApiError::document_replace_different_docid(&given_id.described(), &matched_id.described()));
        }
    }
    let rest: Vec<(JsonStr<'x>, Node<'x>)> =
        replacement.as_object().unwrap_or_default().iter().filter(|(k, _)| k.value != "_id").cloned().collect();
    let current = Node::Object(std::mem::take(entries));
    let unchanged = equals_ordered(&current, &Node::Object(rest.clone()));
    let mut fields = Vec::with_capacity(rest.len() + 1);
    if let Some(id) = id.or_else(|| replacement_id.cloned()) {
        fields.push((JsonStr::from_value("_id"), id));
    }
    fields.extend(rest);
    *doc = Node::Object(fields);
    Ok(!unchanged)
}

impl<'a> Change<'a> {
    fn apply<'x>(&'x self, doc: &mut Node<'x>, inserted: bool) -> Result<bool, ApiError>
    where
        'a: 'x,
    {
        match self {
            Change::Update(clause) => clause.apply(doc, inserted),
            Change::Replace(replacement) => replace(doc, replacement),
        }
    }
}

impl Writer<'_, '_> {
    fn failed(&self, id_json: String) -> Outcome {
        let error = ApiError::failed_concurrent_operations(&self.coll.keyspace, &self.coll.name);
        Outcome { failure: Some((error, id_json)), ..Outcome::default() }
    }

    /// Shreds `doc` and writes it if the stored document with its `_id` is still at `expected`
    /// ([`crate::store::Store::replace_if`]): whether it was written, and what was shredded.
    async fn write(&self, doc: &Node<'_>, expected: Option<i64>) -> Result<(bool, shred::ShreddedDocument), ApiError> {
        let mut shredded = shred::shred(doc, &self.coll.settings.indexing, self.coll.settings.default_id).map_err(|r| r.error)?;
        let vector = vsearch::written_vector(self.coll, shredded.vector.take())?;
        let vectors = self.coll.settings.vector.is_some();
        let written = self
            .state
            .store()
            .replace_if(self.coll.id, shredded.id.key.clone(), expected, shredded.json.clone(), vectors, vector)
            .await
            .map_err(super::options::store_failure)?;
        Ok((written, shredded))
    }

    /// Updates `doc`, retrying lost writes on the re-read document.
    async fn update_existing(&self, doc: StoredDoc) -> Result<Outcome, ApiError> {
        let first_id = parse_stored(&doc.body)?.get("_id").map(Node::to_json).unwrap_or_default();
        let mut current = Some(doc);
        for _attempt in 0..=LWT_RETRIES {
            let Some(doc) = current.take() else { return Ok(Outcome::default()) };
            let original = parse_stored(&doc.body)?;
            let mut updated = original.clone();
            if !self.change.apply(&mut updated, false)? {
                let document = self.returning.map(|r| projected(&original, r.projection));
                return Ok(Outcome { document, ..Outcome::default() });
            }
            let (written, shredded) = self.write(&updated, Some(doc.tx)).await?;
            if written {
                let document = match self.returning {
                    Some(r) if r.after => Some(projected(&parse_stored(&shredded.json)?, r.projection)),
                    Some(r) => Some(projected(&original, r.projection)),
                    None => None,
                };
                return Ok(Outcome { modified: true, document, ..Outcome::default() });
            }
            current = find::reread(self.state, self.coll, self.filter, &doc.key).await?;
        }
        Ok(self.failed(first_id))
    }

    /// Inserts the upsert document unless one with its `_id` appeared meanwhile (then updates
    /// that one).
    async fn upsert(&self) -> Result<Outcome, ApiError> {
        let mut doc = Node::Object(Vec::new());
        for (path, value) in self.filter.equalities() {
            set_path(&mut doc, &path.encoded, value.clone())?;
        }
        self.change.apply(&mut doc, true)?;
        let (written, shredded) = self.write(&doc, None).await?;
        if written {
            let document = match self.returning {
                Some(r) if r.after => Some(projected(&parse_stored(&shredded.json)?, r.projection)),
                _ => None,
            };
            return Ok(Outcome { upserted: Some(shredded.id.json), document, ..Outcome::default() });
        }
        match find::reread(self.state, self.coll, self.filter, &shredded.id.key).await? {
            Some(existing) => self.update_existing(existing).await,
            None => Ok(self.failed(shredded.id.json)),
        }
    }
}

/// The answer of an update command: `data.document` for the `findOneAnd*` commands, then
/// `status` (`upsertedId`, `matchedCount`, `modifiedCount`, `moreData`, `nextPageState`) and
/// per-document errors grouped by code, as `UpdateCollectionOperationPage` builds it.
fn reply(data: Option<String>, matched: usize, outcomes: Vec<Outcome>, next_page_state: Option<String>) -> Reply {
    let mut reply = Reply { data, ..Reply::default() };
    let modified = outcomes.iter().filter(|o| o.modified).count();
    if let Some(id) = outcomes.iter().find_map(|o| o.upserted.clone()) {
        reply.status.push(("upsertedId", id));
    }
    reply.status.push(("matchedCount", matched.to_string()));
    reply.status.push(("modifiedCount", modified.to_string()));
    if let Some(state) = next_page_state {
        reply.status.push(("moreData", "true".into()));
        let mut text = String::new();
        json::write_string(&state, &mut text);
        reply.status.push(("nextPageState", text));
    }
    reply.errors = group_failures(outcomes.into_iter().filter_map(|o| o.failure));
    reply
}

/// One error per error code, carrying the `_id`s of every document that got it.
pub(crate) fn group_failures(failures: impl Iterator<Item = (ApiError, String)>) -> Vec<ApiError> {
    let mut groups: Vec<(ApiError, Vec<String>)> = Vec::new();
    for (error, id) in failures {
        match groups.iter_mut().find(|(e, _)| e.code() == error.code()) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((error, vec![id])),
        }
    }
    groups.into_iter().map(|(error, ids)| error.for_documents(ids.iter().map(String::as_str))).collect()
}

/// The single-document commands: `findOneAndUpdate`, `findOneAndReplace`, `updateOne`.
async fn update_single(
    state: &AppState,
    coll: &Collection,
    command: &Node<'_>,
    change: Change<'_>,
    projection: Option<(bool, Projection)>,
) -> Result<Reply, ApiError> {
    let upsert = Options::of(command).bool("upsert")?;
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let sort = Sort::parse(command.get("sort"), &coll.settings.indexing)?;
    let returning = projection.as_ref().map(|(after, projection)| Returning { after: *after, projection });
    let writer = Writer { state, coll, filter: &filter, change: &change, returning };
    let (matched, outcome) = match find::first_match(state, coll, &filter, &sort).await? {
        Some(doc) => (1, Some(writer.update_existing(doc).await?)),
        None if upsert => (0, Some(writer.upsert().await?)),
        None => (0, None),
    };
    let data = returning.map(|_| {
        let document = outcome.as_ref().and_then(|o| o.document.clone());
        format!("{{\"document\":{}}}", document.as_deref().unwrap_or("null"))
    });
    Ok(reply(data, matched, outcome.into_iter().collect(), None))
}

pub(crate) async fn find_one_and_update(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let after = return_after(&Options::of(command))?;
    let clause = UpdateClause::parse(command.get("update"))?;
    let projection = Projection::parse(command.get("projection"))?;
    update_single(state, coll, command, Change::Update(clause), Some((after, projection))).await
}

pub(crate) async fn find_one_and_replace(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let after = return_after(&Options::of(command))?;
    let replacement = match command.get("replacement") {
        None | Some(Node::Null) => {
            return Err(ApiError::command_field_value_invalid("command.replacementDocument", "`null`", "must not be null"))
        }
        Some(node @ Node::Object(_)) => node,
        Some(other) => {
            return Err(ApiError::request_structure_mismatch(&format!(
                "Cannot deserialize value of type `com.fasterxml.jackson.databind.node.ObjectNode` from {} value",
                other.type_name()
            )))
        }
    };
    let projection = Projection::parse(command.get("projection"))?;
    update_single(state, coll, command, Change::Replace(replacement), Some((after, projection))).await
}

pub(crate) async fn update_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let clause = UpdateClause::parse(command.get("update"))?;
    update_single(state, coll, command, Change::Update(clause), None).await
}

pub(crate) async fn update_many(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let clause = UpdateClause::parse(command.get("update"))?;
    let options = Options::of(command);
    let upsert = options.bool("upsert")?;
    let after = match options.string("pageState")?.filter(|s| !s.is_empty()) {
        Some(state) => Some(decode_page_state(state)?.1),
        None => None,
    };
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let change = Change::Update(clause);
    let writer = Writer { state, coll, filter: &filter, change: &change, returning: None };
    let page = find::read_page(state, coll, &filter, after.as_deref(), state.options().page_size).await?;
    let next = if page.more { page.documents.last().map(|doc| encode_page_state(0, &doc.key)) } else { None };
    let matched = page.documents.len();
    let mut outcomes = Vec::with_capacity(matched);
    if matched == 0 && upsert {
        outcomes.push(writer.upsert().await?);
    }
    for doc in page.documents {
        outcomes.push(writer.update_existing(doc).await?);
    }
    Ok(reply(None, matched, outcomes, next))
}
