//! Read commands (`find`, `findOne`, `countDocuments`, `estimatedDocumentCount`) and the reads
//! the write commands start from.
//!
//! As in stargate/data-api's `FindCommandResolver` and `CollectionReadOperation`:
//! - without a sort, `find` pages in `_id` key order: `page_size` documents (50, the
//!   `OperationsConfig.DEFAULT_PAGE_SIZE` of the current service; 20 before v1.0.47) and a
//!   `nextPageState` while more match and `limit` is not reached; `skip` needs a sort;
//! - any non-vector sort (an `_id` sort too) is done in memory: all matching documents are read,
//!   at most 10,000 (`maxDocumentSortCount`; 10,000 or more matching is
//!   `OVERLOADED_SORT_ROW_LIMIT`), sorted, and `min(limit, page_size)` of them returned from
//!   `skip` on, with no `nextPageState`; `pageState` with a sort is `SORT_CLAUSE_INVALID`;
//! - a `$vector` sort is a nearest-neighbour search (see [`super::vsearch`]): `skip` is refused
//!   with it, `limit` is at most 1,000 (and 1,000 without one);
//! - `includeSortVector` adds `status.sortVector` (the sort vector or `null`) and then, as the
//!   real `ReadOperationPage` does, leaves `nextPageState` `null`;
//! - `countDocuments` stops at 1,000 (`maxCountLimit`) with `moreData`.

use base64::Engine as _;

use super::options::{store_failure, Options};
use super::documents::{matches, parse_doc};
use super::errors::ApiError;
use super::filter::Filter;
use super::projection::Projection;
use super::sort::Sort;
use super::vsearch::{self, sort_vector_status, write_scored};
use super::Reply;
use crate::json::{self, Node};
use crate::store::{KeyRange, StoredDoc};
use crate::vector::MAX_VECTOR_SEARCH_LIMIT;
use crate::{AppState, Collection};

/// Where `countDocuments` stops counting.
pub const MAX_COUNT: usize = 1_000;
/// Matching documents at which an in-memory sort gives up (the Data API's
/// `maxDocumentSortCount`: its read stops at this many and fails when it got them all).
pub const MAX_SORTED_DOCUMENTS: usize = 10_000;

/// Matching documents read in key order, and whether more follow.
pub(crate) struct Page {
    pub documents: Vec<StoredDoc>,
    pub more: bool,
}


/// Reads up to `want` documents matching `filter`, in key order, after key `after`.
pub(crate) async fn read_page(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    after: Option<&[u8]>,
    want: usize,
) -> Result<Page, ApiError> {
    let access = filter.id_access();
    let view = Projection::for_indexing(&coll.settings.indexing);
    let mut matched: Vec<StoredDoc> = Vec::new();
    let accept = |doc: StoredDoc, matched: &mut Vec<StoredDoc>| -> bool {
        if matches(filter, view.as_ref(), &doc.body) {
            matched.push(doc);
        }
        matched.len() > want
    };
    if let Some(mut keys) = access.keys {
        keys.retain(|key| after.is_none_or(|a| key.as_slice() > a));
        for doc in state.store().get_many(coll.id, keys).await.map_err(store_failure)? {
            if accept(doc, &mut matched) {
                break;
            }
        }
    } else {
        let mut range = KeyRange::default();
        if let Some((lower, inclusive)) = access.lower {
            range.lower = Some(lower);
            range.lower_inclusive = inclusive;
        }
        if let Some((upper, inclusive)) = access.upper {
            range.upper = Some(upper);
            range.upper_inclusive = inclusive;
        }
        let mut cursor = after.map(<[u8]>::to_vec);
        let batch = if filter.is_empty() { want + 1 } else { 500 };
        loop {
            let mut page_range = range.clone();
            if let Some(cursor) = &cursor {
                if page_range.lower.as_ref().is_none_or(|l| cursor >= l) {
                    page_range.lower = Some(cursor.clone());
                    page_range.lower_inclusive = false;
                }
            }
            let rows = state.store().scan(coll.id, page_range, batch).await.map_err(store_failure)?;
            let exhausted = rows.len() < batch;
            cursor = rows.last().map(|doc| doc.key.clone());
            let mut full = false;
            for doc in rows {
                if accept(doc, &mut matched) {
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

/// The in-memory sort: `want` documents from `skip` on, of all documents matching `filter`
/// ordered by `sort`.
pub(crate) async fn sorted_window(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    sort: &Sort,
    skip: usize,
    want: usize,
) -> Result<Vec<StoredDoc>, ApiError> {
    let all = read_page(state, coll, filter, None, MAX_SORTED_DOCUMENTS - 1).await?;
    if all.more {
        return Err(ApiError::overloaded_sort_row_limit(MAX_SORTED_DOCUMENTS));
    }
    let mut order: Vec<(usize, Node<'_>)> =
        all.documents.iter().enumerate().filter_map(|(i, doc)| parse_doc(&doc.body).map(|node| (i, node))).collect();
    order.sort_by(|(_, a), (_, b)| sort.compare_documents(a, b));
    let order: Vec<usize> = order.into_iter().map(|(i, _)| i).skip(skip).take(want).collect();
    let mut slots: Vec<Option<StoredDoc>> = all.documents.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect())
}

/// The document a single-document command acts on: the first match in `sort` order (or key
/// order without a sort), with its similarity for a vector sort.
pub(crate) async fn first_scored(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    sort: &Sort,
) -> Result<Option<(StoredDoc, Option<f32>)>, ApiError> {
    if let Some(vector) = sort.vector() {
        Ok(vsearch::vector_window(state, coll, filter, vector, 1).await?.pop().map(|(doc, score)| (doc, Some(score))))
    } else if sort.is_empty() {
        Ok(read_page(state, coll, filter, None, 1).await?.documents.pop().map(|doc| (doc, None)))
    } else {
        Ok(sorted_window(state, coll, filter, sort, 0, 1).await?.pop().map(|doc| (doc, None)))
    }
}

/// [`first_scored`] without the similarity.
pub(crate) async fn first_match(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    sort: &Sort,
) -> Result<Option<StoredDoc>, ApiError> {
    Ok(first_scored(state, coll, filter, sort).await?.map(|(doc, _)| doc))
}

/// The document with `key` if it exists and still matches `filter` (the re-read after a lost
/// conditional write).
pub(crate) async fn reread(state: &AppState, coll: &Collection, filter: &Filter<'_>, key: &[u8]) -> Result<Option<StoredDoc>, ApiError> {
    let doc = state.store().get(coll.id, key.to_vec()).await.map_err(store_failure)?;
    let view = Projection::for_indexing(&coll.settings.indexing);
    Ok(doc.filter(|doc| matches(filter, view.as_ref(), &doc.body)))
}

/// A page state: documents returned so far (for `limit` across pages) and the last key.
pub(crate) fn encode_page_state(returned: usize, key: &[u8]) -> String {
    let mut bytes = (returned as u64).to_be_bytes().to_vec();
    bytes.extend_from_slice(key);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a page state given in `options.pageState`.
pub(crate) fn decode_page_state(state: &str) -> Result<(usize, Vec<u8>), ApiError> {
    let invalid = || ApiError::command_field_value_invalid("command.options.pageState", &format!("\"{state}\""), "not a valid page state");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(state.as_bytes()).map_err(|_| invalid())?;
    if bytes.len() < 9 {
        return Err(invalid());
    }
    let (count, key) = bytes.split_at(8);
    let count: [u8; 8] = count.try_into().map_err(|_| invalid())?;
    Ok((u64::from_be_bytes(count) as usize, key.to_vec()))
}

/// `data.document` of a single-document answer.
pub(crate) fn document_data(body: Option<&str>, projection: &Projection) -> String {
    scored_document_data(body, projection, None)
}

/// [`document_data`] with `$similarity` when given.
fn scored_document_data(body: Option<&str>, projection: &Projection, similarity: Option<f32>) -> String {
    let mut data = String::from("{\"document\":");
    match body {
        Some(body) => write_scored(body, projection, similarity, &mut data),
        None => data.push_str("null"),
    }
    data.push('}');
    data
}

/// `limit` and `skip` with the real constraints (`@Positive`, `@PositiveOrZero`, and
/// `FindOptionsValidation`: `skip` only with a sort and not with a vector sort, `limit` at most
/// 1,000 with a vector sort).
fn window_options(options: &Options<'_, '_>, has_sort: bool, vector_sort: bool) -> Result<(Option<usize>, usize), ApiError> {
    let limit = options.int("limit")?;
    if let Some(limit) = limit.filter(|l| *l <= 0) {
        return Err(ApiError::command_field_value_invalid("command.options.limit", &limit.to_string(), "limit should be greater than `0`"));
    }
    let skip = options.int("skip")?;
    if let Some(skip) = skip {
        if skip < 0 {
            return Err(ApiError::command_field_value_invalid(
                "command.options.skip",
                &skip.to_string(),
                "skip should be greater than or equal to `0`",
            ));
        }
        if !has_sort {
            return Err(ApiError::command_field_value_invalid(
                "command.options.skip",
                "\"FindCommand\"",
                "skip options should be used with sort clause",
            ));
        }
        if vector_sort {
            return Err(ApiError::command_field_value_invalid(
                "command.options.skip",
                "\"FindCommand\"",
                "skip options should not be used with vector search",
            ));
        }
    }
    if vector_sort && limit.is_some_and(|l| l > MAX_VECTOR_SEARCH_LIMIT as i64) {
        return Err(ApiError::command_field_value_invalid(
            "command.options.limit",
            "\"FindCommand\"",
            &format!("limit options should not be greater than {MAX_VECTOR_SEARCH_LIMIT} for vector search"),
        ));
    }
    Ok((limit.map(|l| l as usize), skip.unwrap_or(0) as usize))
}

/// Whether the raw sort clause sorts by `$vector` (`SortDefinition.hasVsearchClause`).
fn has_vector_sort(command: &Node<'_>) -> bool {
    command.get("sort").and_then(|sort| sort.get("$vector")).is_some()
}

pub(crate) async fn find(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let options = Options::of(command);
    let (limit, skip) = window_options(&options, command.get("sort").is_some_and(|s| !s.is_null()), has_vector_sort(command))?;
    let include_similarity = options.bool("includeSimilarity")?;
    let include_sort_vector = options.bool("includeSortVector")?;
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let sort = Sort::parse(command.get("sort"), &coll.settings.indexing)?;
    let page_state = options.string("pageState")?.filter(|s| !s.is_empty());
    if !sort.is_empty() && page_state.is_some() {
        return Err(ApiError::sort_clause_invalid("'pageState' is not supported with non-empty sort clause"));
    }
    let projection = Projection::parse(command.get("projection"))?;
    let page_size = state.options().page_size;

    let (documents, next): (Vec<(StoredDoc, Option<f32>)>, Option<String>) = if let Some(vector) = sort.vector() {
        let want = limit.unwrap_or(MAX_VECTOR_SEARCH_LIMIT).min(MAX_VECTOR_SEARCH_LIMIT);
        let found = vsearch::vector_window(state, coll, &filter, vector, want).await?;
        let scored = found.into_iter().map(|(doc, score)| (doc, include_similarity.then_some(score))).collect();
        (scored, None)
    } else if sort.is_empty() {
        let (returned, after) = match page_state {
            Some(state) => {
                let (returned, key) = decode_page_state(state)?;
                (returned, Some(key))
            }
            None => (0, None),
        };
        let remaining = limit.map_or(usize::MAX, |l| l.saturating_sub(returned));
        let want = remaining.min(page_size);
        let page = read_page(state, coll, &filter, after.as_deref(), want).await?;
        let next = (page.more && remaining > want)
            .then(|| page.documents.last().map(|doc| encode_page_state(returned + page.documents.len(), &doc.key)))
            .flatten();
        (page.documents.into_iter().map(|doc| (doc, None)).collect(), next)
    } else {
        let want = limit.unwrap_or(usize::MAX).min(page_size);
        (sorted_window(state, coll, &filter, &sort, skip, want).await?.into_iter().map(|doc| (doc, None)).collect(), None)
    };
    let next = if include_sort_vector { None } else { next };
    let mut data = String::with_capacity(documents.iter().map(|(d, _)| d.body.len() + 1).sum::<usize>() + 64);
    data.push_str("{\"documents\":[");
    for (i, (doc, similarity)) in documents.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        write_scored(&doc.body, &projection, *similarity, &mut data);
    }
    data.push_str("],\"nextPageState\":");
    match next {
        Some(state) => json::write_string(&state, &mut data),
        None => data.push_str("null"),
    }
    data.push('}');
    let reply = Reply { data: Some(data), ..Reply::default() };
    Ok(if include_sort_vector { reply.with_status("sortVector", sort_vector_status(sort.vector())) } else { reply })
}

pub(crate) async fn find_one(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let options = Options::of(command);
    let include_similarity = options.bool("includeSimilarity")?;
    let include_sort_vector = options.bool("includeSortVector")?;
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let sort = Sort::parse(command.get("sort"), &coll.settings.indexing)?;
    let projection = Projection::parse(command.get("projection"))?;
    let found = first_scored(state, coll, &filter, &sort).await?;
    let similarity = found.as_ref().and_then(|(_, score)| *score).filter(|_| include_similarity);
    let data = scored_document_data(found.as_ref().map(|(d, _)| d.body.as_str()), &projection, similarity);
    let reply = Reply { data: Some(data), ..Reply::default() };
    Ok(if include_sort_vector { reply.with_status("sortVector", sort_vector_status(sort.vector())) } else { reply })
}

pub(crate) async fn count_documents(state: &AppState, coll: &Collection, command: &Node<'_>) -> Result<Reply, ApiError> {
    let filter = Filter::parse(command.get("filter"), &coll.settings.indexing)?;
    let count = if filter.is_empty() {
        state.store().count(coll.id, Some(MAX_COUNT + 1)).await.map_err(store_failure)? as usize
    } else {
        read_page(state, coll, &filter, None, MAX_COUNT).await.map(|p| p.documents.len() + usize::from(p.more))?
    };
    if count > MAX_COUNT {
        Ok(Reply::status("count", MAX_COUNT.to_string()).with_status("moreData", "true"))
    } else {
        Ok(Reply::status("count", count.to_string()))
    }
}

pub(crate) async fn estimated_document_count(state: &AppState, coll: &Collection) -> Result<Reply, ApiError> {
    let count = state.store().count(coll.id, None).await.map_err(store_failure)?;
    Ok(Reply::status("count", count.to_string()))
}
