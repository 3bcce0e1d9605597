//! The Data API commands astra-local serves, with the response shapes of stargate/data-api:
//!
//! - keyspace: `createCollection` (`options.indexing.allow|deny`, `options.defaultId`),
//!   `findCollections` (`options.explain`), `deleteCollection`;
//! - collection: `insertOne`, `insertMany` (≤ 100 documents, `ordered` default false,
//!   `returnDocumentResponses`, insert-if-not-exists), `find` (pages of 20 with
//!   `pageState`/`nextPageState`), `findOne`, `countDocuments` (stops at 1,000 with `moreData`),
//!   `estimatedDocumentCount`, `deleteMany` (20 per call with `moreData`; all at once with an
//!   empty filter, `deletedCount: -1`), `deleteOne`.

use std::sync::Arc;

use base64::Engine as _;

use super::errors::ApiError;
use super::filter::{Filter, Projection, Sort};
use super::{Reply, Target};
use crate::doc_id::{DefaultIdType, DocId};
use crate::json::{self, Node};
use crate::shred::{self, Indexing, ShreddedDocument};
use crate::store::{KeyRange, StoreError};
use crate::{AppState, Collection};

/// Documents per `find` page (what Astra returns).
pub const PAGE_SIZE: usize = 20;
/// Most documents in one `insertMany`.
pub const MAX_INSERT_MANY: usize = 100;
/// Where `countDocuments` stops counting.
pub const MAX_COUNT: usize = 1_000;
/// Most documents one filtered `deleteMany` call deletes.
pub const MAX_DELETE: usize = 20;

const KEYSPACE_COMMANDS: &[&str] = &["createCollection", "deleteCollection", "findCollections"];
const COLLECTION_COMMANDS: &[&str] = &[
    "countDocuments",
    "deleteMany",
    "deleteOne",
    "estimatedDocumentCount",
    "find",
    "findOne",
    "insertMany",
    "insertOne",
];

/// A collection's settings from `createCollection`.
#[derive(Debug, Clone, Default)]
pub struct CollectionSettings {
    pub indexing: Indexing,
    pub default_id: DefaultIdType,
    /// The options as `findCollections` explains them (canonical JSON).
    pub options_json: String,
}

impl CollectionSettings {
    /// Reads settings stored by [`CollectionSettings::from_command`].
    pub fn from_stored(options: &str) -> CollectionSettings {
        match json::parse(options, usize::MAX) {
            Ok(node) => CollectionSettings::from_command(Some(&node)).unwrap_or_default(),
            Err(_) => CollectionSettings::default(),
        }
    }

    /// Validates the `options` of `createCollection`.
    pub fn from_command(options: Option<&Node<'_>>) -> Result<CollectionSettings, ApiError> {
        let mut settings = CollectionSettings { options_json: "{}".into(), ..CollectionSettings::default() };
        let Some(options) = options.filter(|o| !o.is_null()) else { return Ok(settings) };
        let Node::Object(entries) = options else {
            return Err(ApiError::invalid_create_collection_options("'options' must be a JSON Object"));
        };
        let mut canonical = Vec::new();
        for (key, value) in entries {
            match key.as_str() {
                "defaultId" => {
                    let kind = value.get("type").and_then(Node::as_str).unwrap_or_default();
                    settings.default_id = DefaultIdType::parse(kind).ok_or_else(|| {
                        ApiError::invalid_create_collection_options(&format!(
                            "Invalid definition for 'defaultId': unrecognized 'type' ('{kind}'), valid values are: objectId, uuid, uuidv6, uuidv7"
                        ))
                    })?;
                    if let Some(name) = settings.default_id.name() {
                        canonical.push(("defaultId".to_owned(), format!("{{\"type\":\"{name}\"}}")));
                    }
                }
                "indexing" => {
                    let paths = |name: &str| -> Result<Option<Vec<String>>, ApiError> {
                        match value.get(name) {
                            None | Some(Node::Null) => Ok(None),
                            Some(Node::Array(items)) => items
                                .iter()
                                .map(|i| {
                                    i.as_str().map(str::to_owned).ok_or_else(|| {
                                        ApiError::invalid_indexing_definition(&format!("'{name}' paths must be Strings"))
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>()
                                .map(Some),
                            Some(_) => Err(ApiError::invalid_indexing_definition(&format!("'{name}' must be an Array"))),
                        }
                    };
                    let (allow, deny) = (paths("allow")?, paths("deny")?);
                    settings.indexing = shred::indexing_from_options(allow.clone(), deny.clone())
                        .map_err(|problem| ApiError::invalid_indexing_definition(&problem))?;
                    let (name, list) = match (allow, deny) {
                        (Some(allow), _) => ("allow", allow),
                        (_, Some(deny)) => ("deny", deny),
                        _ => ("deny", Vec::new()),
                    };
                    let list = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
                    canonical.push(("indexing".to_owned(), format!("{{\"{name}\":{list}}}")));
                }
                other => canonical.push((other.to_owned(), value.to_json())),
            }
        }
        canonical.sort();
        let mut out = String::from("{");
        for (i, (key, value)) in canonical.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(key, &mut out);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        settings.options_json = out;
        Ok(settings)
    }
}

/// Whether `name` is a valid keyspace or collection name (`\w{1,48}`).
pub fn is_valid_schema_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 48 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn store_failure(error: StoreError) -> ApiError {
    tracing::error!(%error, "storage failure");
    ApiError::unexpected_server_error("StoreError", &error.to_string())
}

/// Runs command `name` with body `command` against `target`.
pub async fn execute(state: &AppState, target: Target<'_>, name: &str, command: &Node<'_>) -> Reply {
    let result = match target {
        Target::Keyspace(keyspace) => keyspace_command(state, keyspace, name, command).await,
        Target::Collection(keyspace, collection) => collection_command(state, keyspace, collection, name, command).await,
    };
    result.unwrap_or_else(Reply::error)
}

fn check_keyspace(state: &AppState, keyspace: &str) -> Result<(), ApiError> {
    if state.options().keyspaces.iter().any(|k| k == keyspace) {
        Ok(())
    } else {
        Err(ApiError::unknown_keyspace(keyspace))
    }
}

async fn keyspace_command(state: &AppState, keyspace: &str, name: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    if !KEYSPACE_COMMANDS.contains(&name) {
        return Err(ApiError::command_unknown(name, "KeyspaceCommand", KEYSPACE_COMMANDS));
    }
    check_keyspace(state, keyspace)?;
    match name {
        "createCollection" => create_collection(state, keyspace, command).await,
        "deleteCollection" => delete_collection(state, keyspace, command).await,
        _ => find_collections(state, keyspace, command),
    }
}

async fn collection_command(
    state: &AppState,
    keyspace: &str,
    collection: &str,
    name: &str,
    command: &Node<'_>,
) -> Result<Reply, ApiError> {
    if !COLLECTION_COMMANDS.contains(&name) {
        return Err(ApiError::command_unknown(name, "CollectionCommand", COLLECTION_COMMANDS));
    }
    check_keyspace(state, keyspace)?;
    let Some(coll) = state.collection(keyspace, collection) else {
        let existing: Vec<String> = state.collections_in(keyspace).iter().map(|c| c.name.clone()).collect();
        return Err(ApiError::unknown_collection(keyspace, collection, &existing));
    };
    match name {
        "insertOne" => insert_one(state, &coll, command).await,
        "insertMany" => insert_many(state, &coll, command).await,
        "find" => find(state, &coll, command).await,
        "findOne" => find_one(state, &coll, command).await,
        "countDocuments" => count_documents(state, &coll, command).await,
        "estimatedDocumentCount" => {
            let count = state.store().count(coll.id, None).await.map_err(store_failure)?;
            Ok(Reply::status("count", count.to_string()))
        }
        "deleteMany" => delete_many(state, &coll, command).await,
        _ => delete_one(state, &coll, command).await,
    }
}

// ---- keyspace commands ----

fn required_name<'n>(command: &'n Node<'_>) -> Result<&'n str, ApiError> {
    command.get("name").and_then(Node::as_str).ok_or_else(|| {
        ApiError::command_field_value_invalid("name", "`null`", "must not be null")
    })
}

async fn create_collection(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let name = required_name(command)?;
    if !is_valid_schema_name(name) {
        return Err(ApiError::unsupported_schema_name("Collection", name));
    }
    let settings = CollectionSettings::from_command(command.get("options"))?;
    let _guard = state.schema_lock().lock().await;
    if let Some(existing) = state.collection(keyspace, name) {
        return if existing.settings.options_json == settings.options_json {
            Ok(Reply::status("ok", "1"))
        } else {
            Err(ApiError::existing_collection_different_settings(name))
        };
    }
    let count = state.collection_count();
    let max = state.options().max_collections;
    if count >= max {
        return Err(ApiError::too_many_collections(name, count, max));
    }
    let id = state.store().create_collection(keyspace, name, &settings.options_json).await.map_err(store_failure)?;
    state.catalog_insert(Collection { id, keyspace: keyspace.to_owned(), name: name.to_owned(), settings });
    Ok(Reply::status("ok", "1"))
}

async fn delete_collection(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let name = required_name(command)?;
    let _guard = state.schema_lock().lock().await;
    if let Some(collection) = state.catalog_remove(keyspace, name) {
        state.store().delete_collection(collection.id).await.map_err(store_failure)?;
    }
    Ok(Reply::status("ok", "1"))
}

fn find_collections(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let explain = command.get("options").and_then(|o| o.get("explain")).and_then(Node::as_bool).unwrap_or(false);
    let mut out = String::from("[");
    for (i, collection) in state.collections_in(keyspace).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if explain {
            out.push_str("{\"name\":");
            json::write_string(&collection.name, &mut out);
            out.push_str(",\"options\":");
            out.push_str(&collection.settings.options_json);
            out.push('}');
        } else {
            json::write_string(&collection.name, &mut out);
        }
    }
    out.push(']');
    Ok(Reply::status("collections", out))
}

// ---- inserts ----

enum InsertOutcome {
    Written(DocId),
    Failed(ApiError, Option<DocId>),
    Skipped(Option<DocId>),
}

fn bool_option(options: Option<&Node<'_>>, name: &str, default: bool) -> Result<bool, ApiError> {
    match options.and_then(|o| o.get(name)) {
        None | Some(Node::Null) => Ok(default),
        Some(Node::Bool(b)) => Ok(*b),
        Some(other) => Err(ApiError::command_field_value_invalid(
            &format!("options.{name}"),
            &other.to_json(),
            "must be a Boolean",
        )),
    }
}

/// Shreds and writes `docs` in order; the outcome of each, by position.
async fn insert_documents(state: &AppState, coll: &Collection, docs: &[Node<'_>], ordered: bool) -> Result<Vec<InsertOutcome>, ApiError> {
    let mut outcomes: Vec<Option<InsertOutcome>> = Vec::with_capacity(docs.len());
    let mut to_write: Vec<(usize, ShreddedDocument)> = Vec::with_capacity(docs.len());
    let mut stopped = false;
    for doc in docs {
        if stopped {
            let id = doc.get("_id").and_then(|id| DocId::from_node(id).ok());
            outcomes.push(Some(InsertOutcome::Skipped(id)));
            continue;
        }
        match shred::shred(doc, &coll.settings.indexing, coll.settings.default_id) {
            Ok(shredded) => {
                to_write.push((outcomes.len(), shredded));
                outcomes.push(None);
            }
            Err(refusal) => {
                outcomes.push(Some(InsertOutcome::Failed(refusal.error, refusal.id.map(|id| *id))));
                stopped = ordered;
            }
        }
    }
    let mut positions = Vec::with_capacity(to_write.len());
    let mut ids = Vec::with_capacity(to_write.len());
    let mut rows = Vec::with_capacity(to_write.len());
    for (position, shredded) in to_write {
        positions.push(position);
        rows.push((shredded.id.key.clone(), shredded.json));
        ids.push(shredded.id);
    }
    let written = if rows.is_empty() {
        Vec::new()
    } else {
        state.store().insert(coll.id, rows, ordered).await.map_err(store_failure)?
    };
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

async fn insert_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let Some(document) = command.get("document") else {
        return Err(ApiError::command_field_value_invalid("document", "`null`", "must not be null"));
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

async fn insert_many(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let docs = match command.get("documents") {
        Some(Node::Array(docs)) => docs,
        Some(other) => {
            return Err(ApiError::request_structure_mismatch(&format!(
                "'documents' must be a JSON Array, not {}",
                other.type_name()
            )))
        }
        None => return Err(ApiError::command_field_value_invalid("command.documents", "`null`", "must not be null")),
    };
    if docs.len() > MAX_INSERT_MANY {
        return Err(ApiError::command_field_value_invalid(
            "command.documents",
            &format!("<JSON Array of {} documents>", docs.len()),
            &format!("amount of documents to insert is over the max limit ({} vs {MAX_INSERT_MANY})", docs.len()),
        ));
    }
    let options = command.get("options");
    let ordered = bool_option(options, "ordered", false)?;
    let responses = bool_option(options, "returnDocumentResponses", false)?;
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
                InsertOutcome::Failed(error, id) => {
                    reply.errors.push(error.for_document(id.as_ref().map(|i| i.json.as_str())))
                }
                InsertOutcome::Skipped(_) => {}
            }
        }
        Ok(reply.with_status("insertedIds", format!("[{}]", ids.join(","))))
    }
}

// ---- reads ----

/// One page of matching documents: (key, body) pairs and whether more may follow.
struct Page {
    documents: Vec<(Vec<u8>, String)>,
    more: bool,
}

/// Reads up to `want` documents matching `filter` after `after` (a storage key) in `sort` order,
/// skipping the first `skip` matches.
async fn read_page(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    sort: &Sort,
    after: Option<Vec<u8>>,
    skip: usize,
    want: usize,
) -> Result<Page, ApiError> {
    let access = filter.id_access()?;
    let descending = *sort == Sort::IdDescending;
    let mut matched: Vec<(Vec<u8>, String)> = Vec::new();
    let mut skipped = 0;
    let mut accept = |key: Vec<u8>, body: String, matched: &mut Vec<(Vec<u8>, String)>| -> bool {
        let keep = filter.is_empty()
            || json::parse(&body, usize::MAX).map(|doc| filter.matches(&doc)).unwrap_or(false);
        if keep {
            if skipped < skip {
                skipped += 1;
            } else {
                matched.push((key, body));
            }
        }
        matched.len() > want
    };

    if let Some(mut keys) = access.keys {
        keys.sort();
        keys.dedup();
        if descending {
            keys.reverse();
        }
        keys.retain(|key| after.as_ref().is_none_or(|a| if descending { key < a } else { key > a }));
        for (key, body) in state.store().get_many(coll.id, keys).await.map_err(store_failure)? {
            if accept(key, body, &mut matched) {
                break;
            }
        }
    } else {
        let mut range = KeyRange { descending, ..KeyRange::default() };
        if let Some((lower, inclusive)) = access.lower {
            range.lower = Some(lower);
            range.lower_inclusive = inclusive;
        }
        if let Some((upper, inclusive)) = access.upper {
            range.upper = Some(upper);
            range.upper_inclusive = inclusive;
        }
        let mut cursor = after;
        let batch = if filter.is_empty() { want + 1 + skip } else { 500 };
        loop {
            let mut page_range = range.clone();
            if let Some(cursor) = &cursor {
                if descending {
                    if page_range.upper.as_ref().is_none_or(|u| cursor <= u) {
                        page_range.upper = Some(cursor.clone());
                        page_range.upper_inclusive = false;
                    }
                } else if page_range.lower.as_ref().is_none_or(|l| cursor >= l) {
                    page_range.lower = Some(cursor.clone());
                    page_range.lower_inclusive = false;
                }
            }
            let rows = state.store().scan(coll.id, page_range, batch).await.map_err(store_failure)?;
            let exhausted = rows.len() < batch;
            cursor = rows.last().map(|(key, _)| key.clone());
            let mut full = false;
            for (key, body) in rows {
                if accept(key, body, &mut matched) {
                    full = true;
                    break;
                }
            }
            if full || exhausted || cursor.is_none() {
                break;
            }
        }
    }
    let more = matched.len() > want;
    matched.truncate(want);
    Ok(Page { documents: matched, more })
}

/// Most documents a sort on fields other than `_id` orders in memory (the Data API's
/// `maxDocumentSortCount`).
pub const MAX_SORTED_DOCUMENTS: usize = 10_000;

/// Marks an in-memory-sort page state (storage keys never start with this byte).
const OFFSET_PAGE_STATE: u8 = 0xFF;

/// A page of a read sorted on fields: reads the matches (≤ 10,000), orders them in memory and
/// returns `want` of them from `offset`.
async fn sorted_page(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    sort: &Sort,
    offset: usize,
    want: usize,
) -> Result<Page, ApiError> {
    let all = read_page(state, coll, filter, &Sort::Unsorted, None, 0, MAX_SORTED_DOCUMENTS).await?;
    let mut parsed: Vec<(usize, Node<'_>)> = Vec::with_capacity(all.documents.len());
    for (i, (_, body)) in all.documents.iter().enumerate() {
        if let Ok(node) = json::parse(body, usize::MAX) {
            parsed.push((i, node));
        }
    }
    // Stable sort: ties keep `_id` order.
    parsed.sort_by(|(_, a), (_, b)| sort.compare_documents(a, b));
    let order: Vec<usize> = parsed.iter().map(|(i, _)| *i).collect();
    drop(parsed);
    let mut slots: Vec<Option<(Vec<u8>, String)>> = all.documents.into_iter().map(Some).collect();
    let documents: Vec<(Vec<u8>, String)> =
        order.iter().skip(offset).take(want).filter_map(|i| slots.get_mut(*i).and_then(Option::take)).collect();
    let more = order.len() > offset + want;
    Ok(Page { documents, more })
}

fn offset_page_state(offset: usize) -> String {
    let mut bytes = vec![OFFSET_PAGE_STATE];
    bytes.extend_from_slice(&(offset as u64).to_be_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn page_state_offset(state: &[u8]) -> Option<usize> {
    match state {
        [OFFSET_PAGE_STATE, rest @ ..] => rest.try_into().ok().map(|b: [u8; 8]| u64::from_be_bytes(b) as usize),
        _ => None,
    }
}

struct ReadOptions {
    limit: Option<usize>,
    skip: usize,
    page_state: Option<Vec<u8>>,
}

fn read_options(command: &Node<'_>) -> Result<ReadOptions, ApiError> {
    let options = command.get("options");
    let number = |name: &str| -> Result<Option<usize>, ApiError> {
        match options.and_then(|o| o.get(name)) {
            None | Some(Node::Null) => Ok(None),
            Some(value) => value.as_u64().map(|v| Some(v as usize)).ok_or_else(|| {
                ApiError::command_field_value_invalid(&format!("options.{name}"), &value.to_json(), "must be a non-negative Integer")
            }),
        }
    };
    let page_state = match options.and_then(|o| o.get("pageState")) {
        None | Some(Node::Null) => None,
        Some(Node::String(s)) if s.value.is_empty() => None,
        Some(Node::String(s)) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s.value.as_bytes())
                .map_err(|_| ApiError::command_field_value_invalid("options.pageState", &format!("\"{}\"", s.raw), "not a valid page state"))?,
        ),
        Some(other) => {
            return Err(ApiError::command_field_value_invalid("options.pageState", &other.to_json(), "must be a String"))
        }
    };
    Ok(ReadOptions { limit: number("limit")?, skip: number("skip")?.unwrap_or(0), page_state })
}

fn write_documents(page: &[(Vec<u8>, String)], projection: &Projection, out: &mut String) {
    out.push('[');
    for (i, (_, body)) in page.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_document(body, projection, out);
    }
    out.push(']');
}

fn write_document(body: &str, projection: &Projection, out: &mut String) {
    if projection.is_identity() {
        out.push_str(body);
        return;
    }
    match json::parse(body, usize::MAX) {
        Ok(doc) => projection.write(&doc, out),
        Err(_) => out.push_str(body),
    }
}

async fn find(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"))?;
    let sort = Sort::parse(command.get("sort"))?;
    let projection = Projection::parse(command.get("projection"))?;
    let options = read_options(command)?;
    if options.limit == Some(0) {
        return Ok(Reply { data: Some("{\"documents\":[],\"nextPageState\":null}".into()), ..Reply::default() });
    }
    let want = options.limit.map_or(PAGE_SIZE, |l| l.min(PAGE_SIZE));
    let (page, next) = if let Sort::Fields(_) = sort {
        let offset = match &options.page_state {
            Some(state) => page_state_offset(state).ok_or_else(|| {
                ApiError::command_field_value_invalid("options.pageState", "<page state>", "not a page state of this sort")
            })?,
            None => options.skip,
        };
        let page = sorted_page(state, coll, &filter, &sort, offset, want).await?;
        let next = (page.more && options.limit.is_none_or(|l| l > want)).then(|| offset_page_state(offset + want));
        (page, next)
    } else {
        let skip = if options.page_state.is_some() { 0 } else { options.skip };
        let page = read_page(state, coll, &filter, &sort, options.page_state, skip, want).await?;
        let next = if page.more && options.limit.is_none_or(|l| l > want) {
            page.documents.last().map(|(key, _)| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key))
        } else {
            None
        };
        (page, next)
    };
    let mut data = String::with_capacity(page.documents.iter().map(|(_, b)| b.len() + 1).sum::<usize>() + 64);
    data.push_str("{\"documents\":");
    write_documents(&page.documents, &projection, &mut data);
    data.push_str(",\"nextPageState\":");
    match next {
        Some(state) => json::write_string(&state, &mut data),
        None => data.push_str("null"),
    }
    data.push('}');
    Ok(Reply { data: Some(data), ..Reply::default() })
}

async fn find_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"))?;
    let sort = Sort::parse(command.get("sort"))?;
    let projection = Projection::parse(command.get("projection"))?;
    let options = read_options(command)?;
    let page = match sort {
        Sort::Fields(_) => sorted_page(state, coll, &filter, &sort, options.skip, 1).await?,
        _ => read_page(state, coll, &filter, &sort, None, options.skip, 1).await?,
    };
    let mut data = String::from("{\"document\":");
    match page.documents.first() {
        Some((_, body)) => write_document(body, &projection, &mut data),
        None => data.push_str("null"),
    }
    data.push('}');
    Ok(Reply { data: Some(data), ..Reply::default() })
}

async fn count_documents(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"))?;
    let count = if filter.is_empty() {
        state.store().count(coll.id, Some(MAX_COUNT + 1)).await.map_err(store_failure)? as usize
    } else {
        read_page(state, coll, &filter, &Sort::Unsorted, None, 0, MAX_COUNT).await.map(|p| p.documents.len() + usize::from(p.more))?
    };
    if count > MAX_COUNT {
        Ok(Reply::status("count", MAX_COUNT.to_string()).with_status("moreData", "true"))
    } else {
        Ok(Reply::status("count", count.to_string()))
    }
}

async fn delete_many(state: &AppState, coll: &Arc<Collection>, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"))?;
    if filter.is_empty() {
        state.store().truncate(coll.id).await.map_err(store_failure)?;
        return Ok(Reply::status("deletedCount", "-1"));
    }
    let page = read_page(state, coll, &filter, &Sort::Unsorted, None, 0, MAX_DELETE).await?;
    let keys = page.documents.into_iter().map(|(key, _)| key).collect();
    let deleted = state.store().delete(coll.id, keys).await.map_err(store_failure)?;
    let reply = Reply::status("deletedCount", deleted.to_string());
    Ok(if page.more { reply.with_status("moreData", "true") } else { reply })
}

async fn delete_one(state: &AppState, coll: &Arc<Collection>, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"))?;
    let sort = Sort::parse(command.get("sort"))?;
    let page = match sort {
        Sort::Fields(_) => sorted_page(state, coll, &filter, &sort, 0, 1).await?,
        _ => read_page(state, coll, &filter, &sort, None, 0, 1).await?,
    };
    let keys = page.documents.into_iter().map(|(key, _)| key).collect();
    let deleted = state.store().delete(coll.id, keys).await.map_err(store_failure)?;
    Ok(Reply::status("deletedCount", deleted.to_string()))
}
