//! The document checks the Data API's "shredder" applies before it stores a document, in the
//! same order and with the same messages as stargate/data-api's `DocumentShredder`:
//!
//! 1. the document is an Object; its `_id` is valid (or one is generated per `defaultId`);
//! 2. on the whole document: nesting depth ≤ 16, field names non-empty and not starting with
//!    `$`, dotted paths ≤ 1,000 chars, extended-type wrappers hold a string or integer;
//! 3. the serialized document (with `_id` moved first) is ≤ 4,000,000 chars;
//! 4. on indexed paths only (per the collection's `indexing.allow`/`deny`): arrays ≤ 1,000
//!    elements, objects ≤ 1,000 properties, strings ≤ 8,000 UTF-8 bytes, ≤ 2,000 indexed
//!    properties in the document, and well-formed `$date`/`$objectId`/`$uuid`/`$binary` values.
//!
//! Number literals longer than 100 chars are refused earlier, by the request parser, as the real
//! service does (see [`crate::json::parse`]).

use crate::data_api::errors::ApiError;
use crate::data_api::path::{self, encode_segment};
use crate::doc_id::{
    date_millis, decode_base64, normalize_object_id, normalize_uuid,
    DefaultIdType, DocId, ExtensionType,
};
use crate::json::Node;

/// The Data API's document limits (its `DocumentLimitsConfig` defaults).
pub mod limits {
    pub const MAX_DOCUMENT_SIZE: usize = 4_000_000;
    pub const MAX_DEPTH: usize = 16;
    pub const MAX_PATH_LENGTH: usize = 1_000;
    pub const MAX_NUMBER_LENGTH: usize = 100;
    pub const MAX_ARRAY_LENGTH: usize = 1_000;
    pub const MAX_OBJECT_PROPERTIES: usize = 1_000;
    pub const MAX_DOCUMENT_PROPERTIES: usize = 2_000;
    pub const MAX_STRING_BYTES: usize = 8_000;
    pub const MAX_VECTOR_LENGTH: usize = 4_096;
}

/// Which paths of a collection's documents are indexed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Indexing {
    /// Everything is indexed (no `indexing` option, `allow: ["*"]` or `deny: []`).
    #[default]
    All,
    /// Only these paths and their sub-paths are indexed.
    Allow(Vec<String>),
    /// Everything except these paths and their sub-paths is indexed.
    Deny(Vec<String>),
    /// Nothing but `_id` is indexed (`deny: ["*"]`).
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inclusion {
    Full,
    Partial,
    Excluded,
}

impl Indexing {
    /// Whether the collection indexes every path.
    pub fn is_everything(&self) -> bool {
        *self == Indexing::All
    }

    /// Whether filters and sorts may use encoded path `path` (the Data API's
    /// `IndexingProjector.isPathIncluded`; with `deny: ["*"]` nothing is, not even `_id`).
    /// `$vector`, `$vectorize` and `$lexical` count as allowed in an `allow` list.
    pub fn indexes_path(&self, path: &str) -> bool {
        match (self, self.inclusion(path)) {
            (Indexing::Nothing, _) => false,
            (Indexing::Allow(_), _) if matches!(path, "$vector" | "$vectorize" | "$lexical") => true,
            (_, Inclusion::Full) => true,
            (Indexing::Deny(_), Inclusion::Partial) => true,
            _ => false,
        }
    }

    /// Whether a document's `$vector` reaches the index (`IndexingProjector` always keeps it,
    /// `deny: ["*"]` too, unless `deny` names it), so that it is stored, validated and sortable
    /// by (`SortClause.validate`). Filters use [`Indexing::indexes_path`], by which `deny: ["*"]`
    /// indexes no `$vector`.
    pub fn keeps_vector(&self) -> bool {
        *self == Indexing::Nothing || self.indexes_path("$vector")
    }

    fn inclusion(&self, path: &str) -> Inclusion {
        let covers = |rule: &String| path == rule || path::is_below(path, rule);
        let below = |rule: &String| path::is_below(rule, path);
        match self {
            Indexing::All => Inclusion::Full,
            Indexing::Nothing => Inclusion::Excluded,
            Indexing::Allow(rules) => {
                if rules.iter().any(covers) {
                    Inclusion::Full
                } else if rules.iter().any(below) {
                    Inclusion::Partial
                } else {
                    Inclusion::Excluded
                }
            }
            Indexing::Deny(rules) => {
                if rules.iter().any(covers) {
                    Inclusion::Excluded
                } else if rules.iter().any(below) {
                    Inclusion::Partial
                } else {
                    Inclusion::Full
                }
            }
        }
    }
}

/// A document ready to store.
#[derive(Debug)]
pub struct ShreddedDocument {
    pub id: DocId,
    /// Compact JSON with `_id` first; every number and string exactly as received.
    pub json: String,
    /// The `$vector` as float32s, when the document has one (not `null`) and the collection's
    /// indexing keeps it.
    pub vector: Option<Vec<f32>>,
}

/// A document refused, with the id it had (when known) for `documentResponses`/`documentIds`.
#[derive(Debug)]
pub struct Refusal {
    pub error: ApiError,
    pub id: Option<Box<DocId>>,
}

/// Validates `doc` for a collection with `indexing` and `default_id`, and serializes it.
pub fn shred(doc: &Node<'_>, indexing: &Indexing, default_id: DefaultIdType) -> Result<ShreddedDocument, Refusal> {
    let Node::Object(entries) = doc else {
        return Err(Refusal { error: ApiError::shred_bad_document_type(doc.type_name()), id: None });
    };
    let given_id = doc.get("_id");
    let generated;
    let (id, id_text) = match given_id {
        Some(node) => {
            let id = DocId::from_node(node).map_err(|error| Refusal { error, id: None })?;
            (id, None)
        }
        None => {
            generated = default_id.generate();
            let node = crate::json::parse(&generated, limits::MAX_NUMBER_LENGTH).map_err(|e| Refusal {
                error: ApiError::unexpected_server_error("IdGeneration", &e.to_string()),
                id: None,
            })?;
            let id = DocId::from_node(&node).map_err(|error| Refusal { error, id: None })?;
            (id, Some(generated.as_str()))
        }
    };
    let refuse = |error: ApiError| Refusal { error, id: Some(Box::new(id.clone())) };

    full_document_check(doc, 0, 0, true).map_err(refuse)?;

    let mut json = String::with_capacity(256);
    json.push_str("{\"_id\":");
    match (given_id, id_text) {
        (Some(node), _) => node.write(&mut json),
        (None, Some(text)) => json.push_str(text),
        (None, None) => json.push_str(&id.json),
    }
    for (key, value) in entries.iter().filter(|(key, _)| key.value != "_id") {
        json.push_str(",\"");
        json.push_str(&key.raw);
        json.push_str("\":");
        value.write(&mut json);
    }
    json.push('}');
    if json.len() > limits::MAX_DOCUMENT_SIZE {
        let chars = json.encode_utf16().count();
        if chars > limits::MAX_DOCUMENT_SIZE {
            return Err(refuse(ApiError::shred_doc_limit_violation(&format!(
                "document size ({chars} chars) exceeds maximum allowed ({})",
                limits::MAX_DOCUMENT_SIZE
            ))));
        }
    }

    let mut indexed = IndexedCheck { indexing, total_properties: 0, ejson_error: None, in_vector: false };
    let mut vector = None;
    // The root object: `_id` is always indexed, as is a generated one.
    let mut root_count = usize::from(given_id.is_none());
    for (key, value) in entries {
        let path = encode_segment(&key.value);
        let inclusion = match key.value.as_ref() {
            "_id" => Inclusion::Full,
            "$vector" if indexing.keeps_vector() => Inclusion::Full,
            "$vector" => Inclusion::Excluded,
            _ => indexing.inclusion(&path),
        };
        if inclusion == Inclusion::Excluded {
            continue;
        }
        root_count += 1;
        if key.value == "$vector" {
            // Limits as for any value; then `traverseVector` reads it (its errors come in
            // document order with the extended-value ones).
            indexed.in_vector = true;
            indexed.value(value, &path, Some(&key.value), true).map_err(refuse)?;
            indexed.in_vector = false;
            match crate::vector::document_vector(value) {
                Ok(read) => vector = read,
                Err(error) => _ = indexed.ejson_error.get_or_insert(error),
            }
            continue;
        }
        indexed.value(value, &path, Some(&key.value), inclusion == Inclusion::Full).map_err(refuse)?;
    }
    if root_count > limits::MAX_OBJECT_PROPERTIES {
        return Err(refuse(too_many_object_properties(None, root_count)));
    }
    indexed.total_properties += root_count;
    if indexed.total_properties > limits::MAX_DOCUMENT_PROPERTIES {
        return Err(refuse(ApiError::shred_doc_limit_violation(&format!(
            "total number of indexed properties ({}) in document exceeds maximum allowed ({})",
            indexed.total_properties,
            limits::MAX_DOCUMENT_PROPERTIES
        ))));
    }
    if let Some(error) = indexed.ejson_error {
        return Err(refuse(error));
    }
    Ok(ShreddedDocument { id, json, vector })
}

fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.encode_utf16().count()
    }
}

fn depth_violation() -> ApiError {
    ApiError::shred_doc_limit_violation(&format!(
        "document depth exceeds maximum allowed ({})",
        limits::MAX_DEPTH
    ))
}

/// Step 2: structure checks over the whole document, indexed or not.
fn full_document_check(node: &Node<'_>, depth: usize, parent_path_len: usize, root: bool) -> Result<(), ApiError> {
    match node {
        Node::Array(items) => {
            let depth = depth + 1;
            if depth > limits::MAX_DEPTH {
                return Err(depth_violation());
            }
            for item in items {
                full_document_check(item, depth, parent_path_len, false)?;
            }
            Ok(())
        }
        Node::Object(entries) => {
            let depth = depth + 1;
            if depth > limits::MAX_DEPTH {
                return Err(depth_violation());
            }
            if let [(key, value)] = entries.as_slice() {
                if let Some(ext) = ExtensionType::from_key(&key.value) {
                    let superficially_ok = matches!(value, Node::String(_))
                        || matches!(value, Node::Number(n) if !n.contains(['.', 'e', 'E']));
                    if superficially_ok {
                        return Ok(());
                    }
                    return Err(ApiError::shred_bad_ejson_value(&format!(
                        "type '{}' has invalid JSON value of type {}",
                        ext.key(),
                        value.type_name()
                    )));
                }
            }
            for (key, value) in entries {
                let name = key.value.as_ref();
                if root && name == "_id" {
                    continue;
                }
                if name.is_empty() || name.starts_with('$') {
                    let special = root && matches!(name, "$vector" | "$vectorize" | "$lexical");
                    if !special {
                        let why = if name.is_empty() { "is empty" } else { "starts with '$'" };
                        return Err(ApiError::shred_bad_field_name(&format!("field name '{name}' {why}")));
                    }
                }
                let name_len = utf16_len(name);
                let total = parent_path_len + name_len;
                if total > limits::MAX_PATH_LENGTH {
                    return Err(ApiError::shred_doc_limit_violation(&format!(
                        "field path length ({total}) exceeds maximum allowed ({}) (path ends with '{name}')",
                        limits::MAX_PATH_LENGTH
                    )));
                }
                full_document_check(value, depth, parent_path_len + 1 + name_len, false)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn too_many_object_properties(field: Option<&str>, count: usize) -> ApiError {
    ApiError::shred_doc_limit_violation(&format!(
        "number of properties an indexable Object (field '{}') has ({count}) exceeds maximum allowed ({})",
        field.unwrap_or("null"),
        limits::MAX_OBJECT_PROPERTIES
    ))
}

/// Step 4: limits on the indexed part of the document, and extended-value checks.
struct IndexedCheck<'i> {
    indexing: &'i Indexing,
    total_properties: usize,
    /// The first error of the traversal (extended values, `$vector`), reported after the limits.
    ejson_error: Option<ApiError>,
    /// Inside the root `$vector`, whose `$binary` is not an extended value to check.
    in_vector: bool,
}

impl IndexedCheck<'_> {
    fn value(&mut self, node: &Node<'_>, path: &str, field: Option<&str>, full: bool) -> Result<(), ApiError> {
        match node {
            Node::String(s) => {
                if matches!(field, Some("$vectorize" | "$binary" | "$lexical")) {
                    return Ok(());
                }
                if s.value.len() > limits::MAX_STRING_BYTES {
                    return Err(ApiError::shred_doc_limit_violation(&format!(
                        "indexed String value (field '{}') length ({} bytes) exceeds maximum allowed ({} bytes)",
                        field.unwrap_or("null"),
                        s.value.len(),
                        limits::MAX_STRING_BYTES
                    )));
                }
                Ok(())
            }
            Node::Array(items) => {
                // `$vector` has a limit of its own, above the one of other arrays.
                let (max, what) = if field == Some("$vector") {
                    (limits::MAX_VECTOR_LENGTH, "Vector embedding")
                } else {
                    (limits::MAX_ARRAY_LENGTH, "an indexable Array")
                };
                if items.len() > max {
                    return Err(ApiError::shred_doc_limit_violation(&format!(
                        "number of elements {what} (field '{}') has ({}) exceeds maximum allowed ({max})",
                        field.unwrap_or("null"),
                        items.len(),
                    )));
                }
                for item in items {
                    self.value(item, path, field, full)?;
                }
                Ok(())
            }
            Node::Object(entries) => {
                if let [(key, value)] = entries.as_slice() {
                    if key.value.starts_with('$') && !self.in_vector {
                        self.extension_value(&key.value, value, path);
                    }
                }
                let mut count = 0;
                for (key, value) in entries {
                    let child_path = format!("{path}.{}", encode_segment(&key.value));
                    let inclusion = if full { Inclusion::Full } else { self.indexing.inclusion(&child_path) };
                    if inclusion == Inclusion::Excluded {
                        continue;
                    }
                    count += 1;
                    self.value(value, &child_path, Some(&key.value), inclusion == Inclusion::Full)?;
                }
                if count > limits::MAX_OBJECT_PROPERTIES {
                    return Err(too_many_object_properties(field, count));
                }
                self.total_properties += count;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Records the first malformed extended value (reported after the limit checks, as the real
    /// shredder validates these while building index entries).
    fn extension_value(&mut self, key: &str, value: &Node<'_>, path: &str) {
        if self.ejson_error.is_some() {
            return;
        }
        let error = match ExtensionType::from_key(key) {
            Some(ExtensionType::Date) => match value {
                Node::Number(_) if date_millis(value).is_some() => None,
                _ => Some(ApiError::shred_bad_ejson_value(&format!(
                    "Date ($date) needs to have Number value, had {} (path '{path}')",
                    value.type_name()
                ))),
            },
            Some(ext) => {
                let text = value.as_str();
                let ok = match ext {
                    ExtensionType::ObjectId => text.and_then(normalize_object_id).is_some(),
                    ExtensionType::Uuid => text.and_then(normalize_uuid).is_some(),
                    _ => text.and_then(decode_base64).is_some(),
                };
                (!ok).then(|| {
                    ApiError::shred_bad_ejson_value(&format!(
                        "invalid value ({}) for extended JSON type '{key}' (path '{path}')",
                        value.to_json()
                    ))
                })
            }
            None => Some(ApiError::shred_bad_ejson_value(&format!(
                "unrecognized extended JSON type '{key}' (path '{path}')"
            ))),
        };
        self.ejson_error = error;
    }
}

/// Parses the indexing options of `createCollection` into an [`Indexing`], with the checks and
/// messages of stargate/data-api's `CreateCollectionCommand.Options.IndexingDesc.validate()` and
/// the special cases of `IndexingProjector.createForIndexing` (`allow: []` and `allow: ["*"]`
/// index everything, `deny: ["*"]` nothing).
pub fn indexing_from_options(allow: Option<Vec<String>>, deny: Option<Vec<String>>) -> Result<Indexing, String> {
    match (allow, deny) {
        (Some(_), Some(_)) => Err("'allow' and 'deny' cannot be used together".to_owned()),
        (None, None) => Err("'allow' or 'deny' should be provided".to_owned()),
        (Some(allow), None) => {
            check_paths("allow", &allow)?;
            Ok(match allow.as_slice() {
                [] => Indexing::All,
                [only] if only == "*" => Indexing::All,
                _ => Indexing::Allow(allow),
            })
        }
        (None, Some(deny)) => {
            check_paths("deny", &deny)?;
            Ok(match deny.as_slice() {
                [] => Indexing::All,
                [only] if only == "*" => Indexing::Nothing,
                _ => Indexing::Deny(deny),
            })
        }
    }
}

fn check_paths(name: &str, paths: &[String]) -> Result<(), String> {
    let unique: std::collections::HashSet<&String> = paths.iter().collect();
    if unique.len() != paths.len() {
        return Err(format!("'{name}' cannot contain duplicates"));
    }
    if let [only] = paths {
        if only == "*" {
            return Ok(());
        }
    }
    for path in paths {
        if path.is_empty() {
            return Err("path must be represented as a non-empty string".to_owned());
        }
        if path.starts_with('$') && path != "$vector" {
            return Err(format!("path ('{path}') must not start with '$'"));
        }
        path::verify_encoded(path).map_err(|problem| format!("indexing path ('{path}') is not a valid path: {problem}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn shred_text(text: &str, indexing: &Indexing) -> Result<ShreddedDocument, Refusal> {
        shred(&parse(text, 100).unwrap(), indexing, DefaultIdType::Undefined)
    }

    #[test]
    fn moves_id_first_and_keeps_numbers() {
        let doc = shred_text(r#"{"a":1.000000000000000000000000000000001,"_id":"x"}"#, &Indexing::All).unwrap();
        assert_eq!(doc.json, r#"{"_id":"x","a":1.000000000000000000000000000000001}"#);
    }

    #[test]
    fn denied_paths_lift_indexed_limits() {
        let long = format!(r#"{{"_id":1,"big":{{"text":"{}"}}}}"#, "x".repeat(8001));
        assert_eq!(shred_text(&long, &Indexing::All).unwrap_err().error.code(), "SHRED_DOC_LIMIT_VIOLATION");
        assert!(shred_text(&long, &Indexing::Deny(vec!["big".into()])).is_ok());
        assert!(shred_text(&long, &Indexing::Deny(vec!["big.text".into()])).is_ok());
        assert!(shred_text(&long, &Indexing::Allow(vec!["other".into()])).is_ok());
        assert!(shred_text(&long, &Indexing::Allow(vec!["big.text".into()])).is_err());
    }

    #[test]
    fn unknown_dollar_objects_are_bad_field_names() {
        let err = shred_text(r#"{"a":{"$oid":"x"}}"#, &Indexing::All).unwrap_err();
        assert_eq!(err.error.code(), "SHRED_BAD_FIELD_NAME");
        let err = shred_text(r#"{"a":{"$date":"x"}}"#, &Indexing::All).unwrap_err();
        assert_eq!(err.error.code(), "SHRED_BAD_EJSON_VALUE");
        let err = shred_text(r#"{"a":{"$date":1.5}}"#, &Indexing::All).unwrap_err();
        assert_eq!(err.error.code(), "SHRED_BAD_EJSON_VALUE");
    }
}
