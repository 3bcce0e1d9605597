//! The original document as MongoDB Extended JSON v2, for dead letters: whatever the Data API
//! could not take is kept exactly (canonical form) or readably (relaxed form), and a user can
//! re-import it with `mongoimport` or any driver.

use bson::{Bson, Document};

/// Canonical Extended JSON: lossless, every type explicit (`{"$numberLong":"1"}`,
/// `{"$date":{"$numberLong":"-1"}}`, `{"$numberDouble":"NaN"}`, binary subtypes kept).
pub fn canonical_extended_json(doc: &Document) -> String {
    Bson::Document(doc.clone())
        .into_canonical_extjson()
        .to_string()
}

/// Relaxed Extended JSON: numbers as JSON numbers and dates as ISO-8601 where exact, easier to
/// read; still parseable back to the same BSON except for the int32/int64/double distinction.
pub fn relaxed_extended_json(doc: &Document) -> String {
    Bson::Document(doc.clone()).into_relaxed_extjson().to_string()
}

/// Parses canonical or relaxed Extended JSON text back to a document.
pub fn document_from_extended_json(text: &str) -> Result<Document, ExtendedJsonError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    match Bson::try_from(value)? {
        Bson::Document(doc) => Ok(doc),
        _ => Err(ExtendedJsonError::NotADocument),
    }
}

/// A document id as dead letters and the census keep it (a stable key, or the canonical
/// Extended JSON of an `_id` the Data API refuses), in the relaxed form people read on the
/// collection page: `{"sensor":0,"seq":250}` rather than `{"sensor":{"$numberInt":"0"},…}`.
/// Keys that are not Extended JSON objects or arrays come back as they are.
pub fn readable_id(key: &str) -> String {
    if !key.starts_with(['{', '[']) {
        return key.to_owned();
    }
    match serde_json::from_str::<serde_json::Value>(key).ok().and_then(|value| Bson::try_from(value).ok()) {
        Some(id) => id.into_relaxed_extjson().to_string(),
        None => key.to_owned(),
    }
}

/// Why Extended JSON text could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ExtendedJsonError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not valid Extended JSON.
    #[error("not Extended JSON: {0}")]
    ExtendedJson(#[from] bson::extjson::de::Error),
    /// A value, not a document.
    #[error("the Extended JSON is not a document")]
    NotADocument,
}

#[cfg(test)]
mod tests {
    use super::readable_id;

    #[test]
    fn refused_ids_read_as_relaxed_extended_json() {
        assert_eq!(readable_id(r#"{"sensor":{"$numberInt":"0"},"seq":{"$numberLong":"250"}}"#), r#"{"sensor":0,"seq":250}"#);
        assert_eq!(readable_id("64b7f0c2a1b2c3d4e5f60718"), "64b7f0c2a1b2c3d4e5f60718");
        assert_eq!(readable_id("{not json"), "{not json");
    }
}
