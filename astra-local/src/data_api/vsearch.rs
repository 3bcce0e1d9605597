//! Vector collections' reads and writes: `sort: {"$vector": ..}` on `find`, `findOne`,
//! `findOneAndUpdate`/`Replace`/`Delete`, `updateOne` and `deleteOne`, and the checks a written
//! `$vector` gets.
//!
//! As stargate/data-api runs them (`FindCommandResolver`, `FindCollectionOperation.vsearch`,
//! `InsertCollectionOperation`, `CollectionDriverExceptionHandler`):
//! - a vector sort on a collection created without `vector` is `VECTOR_SEARCH_NOT_SUPPORTED`, as
//!   is inserting a document with a `$vector` there (the whole command fails); an update may
//!   write a `$vector` there, which is then only part of the document;
//! - a sort or written vector of another length than the collection's `dimension` is
//!   `INVALID_VECTOR_LENGTH`; one the database refuses (non-finite, beyond ±1e17, all near-zero
//!   for cosine) is `INVALID_DATABASE_QUERY`;
//! - a vector sort returns at most `min(limit, 1000)` documents in one page, without
//!   `nextPageState` (the database's top-k queries are not paged), most similar first; only
//!   documents with a `$vector` take part; filters narrow them down.
//!
//! The neighbours are exact (every vector is compared), where Astra's index is approximate.

use super::options::store_failure;
use super::collections::VectorOptions;
use super::errors::ApiError;
use super::filter::Filter;
use super::documents::{matches, write_document};
use super::projection::Projection;
use crate::store::StoredDoc;
use crate::vector::{self, check_indexable};
use crate::{AppState, Collection};

/// Checks a written document's `$vector` against its collection; returns what to store: the
/// vector for a vector collection, nothing for another one.
pub(crate) fn written_vector(coll: &Collection, vector: Option<Vec<f32>>) -> Result<Option<Vec<f32>>, ApiError> {
    let (Some(options), Some(vector)) = (&coll.settings.vector, vector) else { return Ok(None) };
    check_vector(coll, options, &vector)?;
    Ok(Some(vector))
}

/// A vector written or searched with: of the collection's dimension, and one its metric can
/// index.
fn check_vector(coll: &Collection, options: &VectorOptions, vector: &[f32]) -> Result<(), ApiError> {
    if vector.len() != options.dimension {
        return Err(ApiError::invalid_vector_length(&coll.keyspace, &coll.name, options.dimension));
    }
    check_indexable(vector, options.metric).map_err(|problem| ApiError::invalid_database_query(&coll.keyspace, &coll.name, &problem))
}

/// The `want` documents matching `filter` whose `$vector` is most similar to `query`, with their
/// similarity, best first (equal similarities in `_id` order).
pub(crate) async fn vector_window(
    state: &AppState,
    coll: &Collection,
    filter: &Filter<'_>,
    query: &[f32],
    want: usize,
) -> Result<Vec<(StoredDoc, f32)>, ApiError> {
    let Some(options) = &coll.settings.vector else {
        return Err(ApiError::vector_search_not_supported(&coll.keyspace, &coll.name));
    };
    check_vector(coll, options, query)?;
    let keys = filter.id_access().keys;
    // Without a filter the best `want` are the answer; with one, candidates are checked in
    // order of similarity until `want` match.
    let top = filter.is_empty().then_some(want);
    let ranked =
        state.store().vector_search(coll.id, query.to_vec(), options.metric, keys, top).await.map_err(store_failure)?;
    let view = Projection::for_indexing(&coll.settings.indexing);
    let mut found = Vec::with_capacity(want.min(ranked.len()));
    let batch = want.clamp(16, 256);
    for chunk in ranked.chunks(batch) {
        let keys: Vec<Vec<u8>> = chunk.iter().map(|(key, _)| key.clone()).collect();
        let docs = state.store().get_many(coll.id, keys).await.map_err(store_failure)?;
        let mut scores = chunk.iter();
        for doc in docs {
            // `get_many` keeps the order of the keys and leaves out the ones gone meanwhile.
            let Some(&(_, score)) = scores.find(|(key, _)| *key == doc.key) else { continue };
            if matches(filter, view.as_ref(), &doc.body) {
                found.push((doc, score));
                if found.len() == want {
                    return Ok(found);
                }
            }
        }
    }
    Ok(found)
}

/// Writes a document projected, with `"$similarity"` added last when given
/// (`DocumentProjector.applyProjection(document, similarityScore)`).
pub(crate) fn write_scored(body: &str, projection: &Projection, similarity: Option<f32>, out: &mut String) {
    let start = out.len();
    write_document(body, projection, out);
    let Some(similarity) = similarity else { return };
    if out.ends_with('}') {
        out.pop();
        if out.len() > start + 1 {
            out.push(',');
        }
        out.push_str("\"$similarity\":");
        vector::write_java_float(similarity, out);
        out.push('}');
    }
}

/// `status.sortVector` (`ReadOperationPage`): the sort vector, or `null` without a vector sort.
pub(crate) fn sort_vector_status(vector: Option<&[f32]>) -> String {
    let mut out = String::new();
    match vector {
        Some(vector) => vector::write_java_floats(vector, &mut out),
        None => out.push_str("null"),
    }
    out
}
