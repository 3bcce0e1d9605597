//! Sort clauses of collection commands (`{"field": 1, "other": -1}`), checked as
//! stargate/data-api's `CollectionSortClauseBuilder` and `SortClause.validate` check them, and the
//! orderings the real service uses: sort values are the indexed atomic values of a path
//! (missing < null < number < string < boolean < date, with `$uuid`/`$objectId` as strings),
//! ties go to `_id` ascending (`ChainedComparator`), and whole JSON values compare as
//! `JsonNodeComparator` does (`$min`/`$max`).
//!
//! Every non-vector sort, `_id` included, is done in memory over the matching documents (see
//! `find.rs`). A `$vector` sort (the only expression then) holds the query vector; see
//! `vsearch.rs`. No lexical (`$lexical`) or vectorize (`$vectorize`) sorts here.

use std::cmp::Ordering;

use super::errors::ApiError;
use super::path;
use crate::doc_id::{date_millis, normalize_object_id, normalize_uuid, ExtensionType};
use crate::json::{Decimal, Node};
use crate::shred::Indexing;

/// One sort expression: encoded path, its segments (`None` if undecodable), ascending.
#[derive(Debug, Clone)]
struct SortField {
    path: String,
    segments: Option<Vec<String>>,
    ascending: bool,
}

/// A parsed sort clause; empty when there is none (or it is `{}`).
#[derive(Debug, Clone, Default)]
pub struct Sort {
    fields: Vec<SortField>,
    /// The query vector of a `$vector` sort.
    vector: Option<Vec<f32>>,
}

impl Sort {
    /// Parses and validates `sort` for a collection with `indexing`.
    pub fn parse(node: Option<&Node<'_>>, indexing: &Indexing) -> Result<Sort, ApiError> {
        let entries = match node {
            None | Some(Node::Null) => return Ok(Sort::default()),
            Some(Node::Object(entries)) => entries,
            Some(other) => {
                return Err(ApiError::sort_clause_invalid(&format!(
                    "sort clause must be submitted as JSON Object, not {}",
                    other.type_name()
                )))
            }
        };
        let unsupported = |special: &str| {
            ApiError::sort_clause_invalid(&format!("astra-local does not support '{special}' (lexical or vectorize) sorting"))
        };
        if entries.iter().any(|(key, _)| key.value == "$lexical") {
            return Err(unsupported("$lexical"));
        }
        // `CollectionSortClauseBuilder`: a vector sort is the only expression; then
        // `SortClause.validate` wants `$vector` indexed.
        if let Some((_, value)) = entries.iter().find(|(key, _)| key.value == "$vector") {
            if entries.len() > 1 {
                return Err(ApiError::sort_clause_invalid("vector search cannot be used with other sort expressions"));
            }
            let vector = crate::vector::sort_vector(value)?;
            if !indexing.keeps_vector() {
                return Err(ApiError::sort_clause_path_unindexed("$vector"));
            }
            return Ok(Sort { fields: Vec::new(), vector: Some(vector) });
        }
        if entries.iter().any(|(key, _)| key.value == "$vectorize") {
            return Err(unsupported("$vectorize"));
        }
        for (key, _) in entries {
            let path = key.value.as_ref();
            if path.is_empty() {
                return Err(ApiError::sort_clause_path_invalid("", "path must be represented as a non-empty string"));
            }
            if path.starts_with('$') {
                return Err(ApiError::sort_clause_path_invalid(
                    path,
                    "path cannot start with '$' (except for pseudo-fields '$lexical', '$vector' and '$vectorize')",
                ));
            }
            path::verify_encoded(path).map_err(|problem| ApiError::sort_clause_path_invalid(path, &problem))?;
        }
        let mut fields = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let path = key.value.as_ref();
            let ascending = match value {
                Node::Number(n) if n.as_ref() == "1" => true,
                Node::Number(n) if n.as_ref() == "-1" => false,
                Node::Number(n) if !n.contains(['.', 'e', 'E']) && n.parse::<i32>().is_ok() => {
                    return Err(ApiError::sort_clause_value_invalid(
                        path,
                        &format!("sort ordering value can only be `1` for ascending or `-1` for descending (not `{n}`)"),
                    ))
                }
                Node::Array(_) => {
                    return Err(ApiError::sort_clause_value_invalid(path, "sort ordering value can be Array only for vector search"))
                }
                Node::String(_) => {
                    return Err(ApiError::sort_clause_value_invalid(
                        path,
                        "sort ordering value can be String only for lexical or vectorize search",
                    ))
                }
                other => return Err(ApiError::sort_clause_value_invalid(
                    path,
                    &format!(
                        "sort ordering value should be integer `1` or `-1`; or Array (vector); or String (lexical or vectorize), was: {}",
                        other.type_name()
                    ),
                )),
            };
            fields.push(SortField { path: path.to_owned(), segments: path::decode(path).ok(), ascending });
        }
        if !indexing.is_everything() {
            if let Some(field) = fields.iter().find(|f| !indexing.indexes_path(&f.path)) {
                return Err(ApiError::sort_clause_path_unindexed(&field.path));
            }
        }
        Ok(Sort { fields, vector: None })
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.vector.is_none()
    }

    /// The query vector of a `$vector` sort.
    pub fn vector(&self) -> Option<&[f32]> {
        self.vector.as_deref()
    }

    /// Orders two documents by the sort fields, then by `_id`.
    pub fn compare_documents(&self, a: &Node<'_>, b: &Node<'_>) -> Ordering {
        for field in &self.fields {
            let value = |doc| field.segments.as_deref().and_then(|s| Node::get_segments(doc, s));
            let ordering = sort_value(value(a)).cmp(&sort_value(value(b)));
            let ordering = if field.ascending { ordering } else { ordering.reverse() };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        match (a.get("_id"), b.get("_id")) {
            (Some(x), Some(y)) => compare_json(x, y),
            _ => Ordering::Equal,
        }
    }
}

/// The value a path contributes to a sort: its indexed atomic value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortValue<'n> {
    Missing,
    Null,
    Number(Decimal),
    String(std::borrow::Cow<'n, str>),
    Bool(bool),
    Date(i64),
}

/// The sort value of a field (`None`: missing). Objects and arrays have no atomic value: they
/// sort as missing here (on Astra an array sorts by an internal hash).
pub fn sort_value<'n>(node: Option<&'n Node<'n>>) -> SortValue<'n> {
    match node {
        None => SortValue::Missing,
        Some(Node::Null) => SortValue::Null,
        Some(Node::Number(n)) => Decimal::parse(n).map_or(SortValue::Missing, SortValue::Number),
        Some(Node::String(s)) => SortValue::String(std::borrow::Cow::Borrowed(&s.value)),
        Some(Node::Bool(b)) => SortValue::Bool(*b),
        Some(Node::Object(entries)) => match entries.as_slice() {
            [(key, value)] => match ExtensionType::from_key(&key.value) {
                Some(ExtensionType::Date) => date_millis(value).map_or(SortValue::Missing, SortValue::Date),
                Some(ExtensionType::Uuid) => {
                    value.as_str().and_then(normalize_uuid).map_or(SortValue::Missing, |s| SortValue::String(s.into()))
                }
                Some(ExtensionType::ObjectId) => {
                    value.as_str().and_then(normalize_object_id).map_or(SortValue::Missing, |s| SortValue::String(s.into()))
                }
                _ => SortValue::Missing,
            },
            _ => SortValue::Missing,
        },
        Some(Node::Array(_)) => SortValue::Missing,
    }
}

/// The Data API's `JsonNodeComparator`: by type (null < number < string < object < array <
/// boolean), then by value; objects entry by entry (name, then value), arrays element by element,
/// the longer one last.
pub fn compare_json(a: &Node<'_>, b: &Node<'_>) -> Ordering {
    fn rank(node: &Node<'_>) -> u8 {
        match node {
            Node::Null => 1,
            Node::Number(_) => 2,
            Node::String(_) => 3,
            Node::Object(_) => 4,
            Node::Array(_) => 5,
            Node::Bool(_) => 6,
        }
    }
    match (a, b) {
        (Node::Number(x), Node::Number(y)) => Decimal::parse(x).cmp(&Decimal::parse(y)),
        (Node::String(x), Node::String(y)) => x.value.cmp(&y.value),
        (Node::Bool(x), Node::Bool(y)) => x.cmp(y),
        (Node::Array(x), Node::Array(y)) => {
            x.iter().zip(y).map(|(a, b)| compare_json(a, b)).find(|o| *o != Ordering::Equal).unwrap_or(x.len().cmp(&y.len()))
        }
        (Node::Object(x), Node::Object(y)) => x
            .iter()
            .zip(y)
            .map(|((ka, va), (kb, vb))| ka.value.cmp(&kb.value).then_with(|| compare_json(va, vb)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(x.len().cmp(&y.len())),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn sort_clauses_are_checked_like_the_data_api() {
        let code = |sort: &str| {
            let node = parse(sort, 100).unwrap();
            Sort::parse(Some(&node), &Indexing::All).err().map(|e| e.code())
        };
        assert_eq!(code(r#"{"a":1,"b":-1}"#), None);
        assert_eq!(code(r#"{"a":2}"#), Some("SORT_CLAUSE_VALUE_INVALID"));
        assert_eq!(code(r#"{"a":"x"}"#), Some("SORT_CLAUSE_VALUE_INVALID"));
        assert_eq!(code(r#"{"a":1.0}"#), Some("SORT_CLAUSE_VALUE_INVALID"));
        assert_eq!(code(r#"{"a&b":1}"#), Some("SORT_CLAUSE_PATH_INVALID"));
        assert_eq!(code(r#"{"$x":1}"#), Some("SORT_CLAUSE_PATH_INVALID"));
        assert_eq!(code("[1]"), Some("SORT_CLAUSE_INVALID"));
        let node = parse(r#"{"a":1}"#, 100).unwrap();
        let unindexed = Sort::parse(Some(&node), &Indexing::Allow(vec!["b".into()])).err().map(|e| e.code());
        assert_eq!(unindexed, Some("SORT_CLAUSE_PATH_UNINDEXED"));
    }

    #[test]
    fn values_order_by_type_then_value() {
        fn v(text: &str) -> Node<'_> {
            parse(text, 100).unwrap()
        }
        let (null, one, s, t, d) = (v("null"), v("1"), v(r#""s""#), v("true"), v(r#"{"$date":5}"#));
        let order = [
            sort_value(None),
            sort_value(Some(&null)),
            sort_value(Some(&one)),
            sort_value(Some(&s)),
            sort_value(Some(&t)),
            sort_value(Some(&d)),
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(compare_json(&v(r#"{"a":1}"#), &v(r#"{"a":2}"#)), Ordering::Less);
        assert_eq!(compare_json(&v("[1,2]"), &v("[1]")), Ordering::Greater);
    }
}
