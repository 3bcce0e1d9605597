//! Vector collections' writes: the checks a written `$vector` gets.
//!
//! As stargate/data-api runs them (`InsertCollectionOperation`, `CollectionDriverExceptionHandler`):
//! inserting a document with a `$vector` into a collection created without `vector` is
//! `VECTOR_SEARCH_NOT_SUPPORTED` (the whole command fails); an update may write a `$vector`
//! there, which is then only part of the document; a written vector of another length than the
//! collection's `dimension` is `INVALID_VECTOR_LENGTH`, one the database refuses (non-finite,
//! beyond ±1e17, all near-zero for cosine) `INVALID_DATABASE_QUERY`.

use super::errors::ApiError;
use crate::vector::check_indexable;
use crate::Collection;

/// Checks a written document's `$vector` against its collection; returns what to store: the
/// vector for a vector collection, nothing for another one.
pub(crate) fn written_vector(coll: &Collection, vector: Option<Vec<f32>>) -> Result<Option<Vec<f32>>, ApiError> {
    let (Some(options), Some(vector)) = (&coll.settings.vector, vector) else { return Ok(None) };
    if vector.len() != options.dimension {
        return Err(ApiError::invalid_vector_length(&coll.keyspace, &coll.name, options.dimension));
    }
    check_indexable(&vector, options.metric).map_err(|problem| ApiError::invalid_database_query(&coll.keyspace, &coll.name, &problem))?;
    Ok(Some(vector))
}
