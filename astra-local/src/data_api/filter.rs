//! Filters, projections and sorts of read commands: what astra-local understands of the Data
//! API's query language. Filters: equality on any (dotted) field, `$eq`, `$ne`, `$in`, `$nin`,
//! `$exists`, `$gt`, `$gte`, `$lt`, `$lte`, and `$and`/`$or`; an `_id` equality or `$in` is
//! answered by key lookups, `_id` ranges by a key range. Sort: by `_id` (key order) or by
//! other fields (in memory). Projection:
//! inclusion or exclusion of (dotted) fields, `*`.

use std::cmp::Ordering;

use super::errors::ApiError;
use crate::doc_id::{DocId, ExtensionType};
use crate::json::{Decimal, Node};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A parsed filter clause.
#[derive(Debug)]
pub enum Filter<'a> {
    And(Vec<Filter<'a>>),
    Or(Vec<Filter<'a>>),
    Compare { path: String, op: Op, value: &'a Node<'a> },
    In { path: String, values: &'a [Node<'a>], negated: bool },
    Exists { path: String, exists: bool },
}

/// How the `_id` part of a filter narrows the documents to read.
#[derive(Debug, Default)]
pub struct IdAccess {
    /// Exact keys (from `_id` equality or `$in`); `None` when not restricted that way.
    pub keys: Option<Vec<Vec<u8>>>,
    pub lower: Option<(Vec<u8>, bool)>,
    pub upper: Option<(Vec<u8>, bool)>,
}

/// Whether an object is an extended-type literal (`{"$date": ...}`) rather than operators.
fn is_literal_object(node: &Node<'_>) -> bool {
    match node {
        Node::Object(entries) => {
            if let [(key, _)] = entries.as_slice() {
                if ExtensionType::from_key(&key.value).is_some() {
                    return true;
                }
            }
            !entries.first().is_some_and(|(key, _)| key.value.starts_with('$'))
        }
        _ => true,
    }
}

impl<'a> Filter<'a> {
    /// Parses a filter object (`None` or `{}` match everything).
    pub fn parse(node: Option<&'a Node<'a>>) -> Result<Filter<'a>, ApiError> {
        match node {
            None | Some(Node::Null) => Ok(Filter::And(Vec::new())),
            Some(Node::Object(entries)) => {
                let mut clauses = Vec::new();
                for (key, value) in entries {
                    clauses.push(Filter::clause(&key.value, value)?);
                }
                Ok(Filter::And(clauses))
            }
            Some(other) => Err(ApiError::filter_invalid_expression(&format!(
                "filter clause must be a JSON Object, not {}",
                other.type_name()
            ))),
        }
    }

    fn clause(key: &str, value: &'a Node<'a>) -> Result<Filter<'a>, ApiError> {
        match key {
            "$and" | "$or" => {
                let Node::Array(items) = value else {
                    return Err(ApiError::filter_invalid_expression(&format!("'{key}' operator must have an Array value")));
                };
                let parts = items.iter().map(|item| Filter::parse(Some(item))).collect::<Result<Vec<_>, _>>()?;
                Ok(if key == "$and" { Filter::And(parts) } else { Filter::Or(parts) })
            }
            k if k.starts_with('$') => {
                Err(ApiError::filter_unsupported_operator(&format!("filter operator '{k}'")))
            }
            path => match value {
                Node::Object(ops) if !is_literal_object(value) => {
                    let mut parts = Vec::new();
                    for (op, operand) in ops {
                        parts.push(Filter::operator(path, &op.value, operand)?);
                    }
                    Ok(if parts.len() == 1 { parts.remove(0) } else { Filter::And(parts) })
                }
                _ => Ok(Filter::Compare { path: path.to_owned(), op: Op::Eq, value }),
            },
        }
    }

    fn operator(path: &str, op: &str, operand: &'a Node<'a>) -> Result<Filter<'a>, ApiError> {
        let path = path.to_owned();
        let compare = |op| Ok(Filter::Compare { path: path.clone(), op, value: operand });
        match op {
            "$eq" => compare(Op::Eq),
            "$ne" => compare(Op::Ne),
            "$gt" => compare(Op::Gt),
            "$gte" => compare(Op::Gte),
            "$lt" => compare(Op::Lt),
            "$lte" => compare(Op::Lte),
            "$in" | "$nin" => match operand {
                Node::Array(values) => Ok(Filter::In { path: path.clone(), values, negated: op == "$nin" }),
                _ => Err(ApiError::filter_invalid_expression(&format!("'{op}' operator must have an Array value"))),
            },
            "$exists" => match operand {
                Node::Bool(exists) => Ok(Filter::Exists { path: path.clone(), exists: *exists }),
                _ => Err(ApiError::filter_invalid_expression("'$exists' operator must have a Boolean value")),
            },
            other => Err(ApiError::filter_unsupported_operator(&format!("filter operator '{other}'"))),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Filter::And(parts) if parts.is_empty())
    }

    /// What the top-level `_id` clauses allow to read by key.
    pub fn id_access(&self) -> Result<IdAccess, ApiError> {
        let mut access = IdAccess::default();
        let Filter::And(parts) = self else { return Ok(access) };
        for part in parts {
            match part {
                Filter::Compare { path, op, value } if path == "_id" => {
                    let key = DocId::from_node(value).map_err(|_| {
                        ApiError::filter_invalid_expression(&format!("invalid '_id' value {}", value.to_json()))
                    })?;
                    let tag = key.key[0];
                    match op {
                        Op::Eq => access.keys = Some(vec![key.key]),
                        Op::Gt | Op::Gte => {
                            access.lower = Some((key.key, *op == Op::Gte));
                            access.upper.get_or_insert((vec![tag + 1], false));
                        }
                        Op::Lt | Op::Lte => {
                            access.upper = Some((key.key, *op == Op::Lte));
                            access.lower.get_or_insert((vec![tag], true));
                        }
                        Op::Ne => {}
                    }
                }
                Filter::In { path, values, negated: false } if path == "_id" => {
                    let keys = values
                        .iter()
                        .map(|v| DocId::from_node(v).map(|id| id.key))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| ApiError::filter_invalid_expression("invalid '_id' value in '$in'"))?;
                    access.keys = Some(keys);
                }
                _ => {}
            }
        }
        Ok(access)
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Node<'_>) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.matches(doc)),
            Filter::Or(parts) => parts.iter().any(|p| p.matches(doc)),
            Filter::Exists { path, exists } => doc.get_path(path).is_some() == *exists,
            Filter::In { path, values, negated } => {
                let found = doc.get_path(path).is_some_and(|field| values.iter().any(|v| field_equals(path, field, v)));
                found != *negated
            }
            Filter::Compare { path, op, value } => {
                let field = doc.get_path(path);
                match op {
                    Op::Eq => field.is_some_and(|f| field_equals(path, f, value)),
                    Op::Ne => !field.is_some_and(|f| field_equals(path, f, value)),
                    _ => field.is_some_and(|f| {
                        let ordering = compare(f, value);
                        match op {
                            Op::Gt => ordering == Some(Ordering::Greater),
                            Op::Gte => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
                            Op::Lt => ordering == Some(Ordering::Less),
                            Op::Lte => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
                            _ => false,
                        }
                    }),
                }
            }
        }
    }
}

/// Equality as the Data API sees it: `_id` by normalized key; an array field also matches a
/// value it contains.
fn field_equals(path: &str, field: &Node<'_>, value: &Node<'_>) -> bool {
    if path == "_id" {
        return match (DocId::from_node(field), DocId::from_node(value)) {
            (Ok(a), Ok(b)) => a.key == b.key,
            _ => false,
        };
    }
    if values_equal(field, value) {
        return true;
    }
    match field {
        Node::Array(items) if !matches!(value, Node::Array(_)) => items.iter().any(|item| values_equal(item, value)),
        _ => false,
    }
}

/// Deep equality; numbers by value.
pub fn values_equal(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Number(x), Node::Number(y)) => x == y || Decimal::parse(x) == Decimal::parse(y),
        (Node::String(x), Node::String(y)) => x.value == y.value,
        (Node::Array(x), Node::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b)),
        (Node::Object(x), Node::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka.value == kb.value && values_equal(va, vb))
        }
        _ => false,
    }
}

/// Ordering between comparable values (numbers, strings, booleans, dates); `None` otherwise.
fn compare(a: &Node<'_>, b: &Node<'_>) -> Option<Ordering> {
    match (a, b) {
        (Node::Number(x), Node::Number(y)) => Some(Decimal::parse(x)?.cmp(&Decimal::parse(y)?)),
        (Node::String(x), Node::String(y)) => Some(x.value.cmp(&y.value)),
        (Node::Bool(x), Node::Bool(y)) => Some(x.cmp(y)),
        (Node::Object(_), Node::Object(_)) => {
            let date = |n: &Node<'_>| n.get("$date").and_then(crate::doc_id::date_millis);
            Some(date(a)?.cmp(&date(b)?))
        }
        _ => None,
    }
}

/// Sort order of a read: by `_id` (served from the key order), or by other fields (sorted in
/// memory over at most 10,000 matching documents, as the Data API does).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Unsorted,
    IdAscending,
    IdDescending,
    /// (dotted path, ascending) in priority order.
    Fields(Vec<(String, bool)>),
}

impl Sort {
    pub fn parse(node: Option<&Node<'_>>) -> Result<Sort, ApiError> {
        let entries = match node {
            None | Some(Node::Null) => return Ok(Sort::Unsorted),
            Some(Node::Object(entries)) => entries,
            Some(other) => {
                return Err(ApiError::sort_clause_invalid(&format!(
                    "sort clause must be a JSON Object, not {}",
                    other.type_name()
                )))
            }
        };
        let mut fields = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if key.value.starts_with('$') {
                return Err(ApiError::sort_clause_invalid(&format!(
                    "astra-local does not support '{}' (vector, lexical or hybrid) sorting",
                    key.value
                )));
            }
            let ascending = match value {
                Node::Number("1") => true,
                Node::Number("-1") => false,
                _ => {
                    return Err(ApiError::sort_clause_invalid(&format!(
                        "sort direction for '{}' must be 1 or -1, not {}",
                        key.value,
                        value.to_json()
                    )))
                }
            };
            fields.push((key.value.to_string(), ascending));
        }
        Ok(match fields.as_slice() {
            [] => Sort::Unsorted,
            [(path, true)] if path == "_id" => Sort::IdAscending,
            [(path, false)] if path == "_id" => Sort::IdDescending,
            _ => Sort::Fields(fields),
        })
    }

    /// Orders two documents by the sort fields (only meaningful for [`Sort::Fields`]).
    pub fn compare_documents(&self, a: &Node<'_>, b: &Node<'_>) -> Ordering {
        let Sort::Fields(fields) = self else { return Ordering::Equal };
        for (path, ascending) in fields {
            let ordering = sort_compare(a.get_path(path), b.get_path(path));
            let ordering = if *ascending { ordering } else { ordering.reverse() };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

/// Rank of a value's type in sort order: missing, null, number, string, object, array,
/// boolean, date.
fn sort_rank(value: Option<&Node<'_>>) -> u8 {
    match value {
        None => 0,
        Some(Node::Null) => 1,
        Some(Node::Number(_)) => 2,
        Some(Node::String(_)) => 3,
        Some(node @ Node::Object(_)) if node.get("$date").is_some() => 7,
        Some(Node::Object(_)) => 4,
        Some(Node::Array(_)) => 5,
        Some(Node::Bool(_)) => 6,
    }
}

fn sort_compare(a: Option<&Node<'_>>, b: Option<&Node<'_>>) -> Ordering {
    let (ra, rb) = (sort_rank(a), sort_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Some(x), Some(y)) => compare(x, y).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    }
}

/// A projection: which fields a read returns.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// Paths and whether each is included (`true`) or excluded.
    rules: Vec<(String, bool)>,
    inclusion: bool,
    include_id: bool,
    /// `{}`, `None`, or `{"*": 1}`: everything.
    everything: bool,
}

impl Projection {
    pub fn parse(node: Option<&Node<'_>>) -> Result<Projection, ApiError> {
        let all = Projection { everything: true, include_id: true, ..Projection::default() };
        let entries = match node {
            None | Some(Node::Null) => return Ok(all),
            Some(Node::Object(entries)) => entries,
            Some(other) => {
                return Err(ApiError::unsupported_projection_param(&format!(
                    "projection must be a JSON Object, not {}",
                    other.type_name()
                )))
            }
        };
        if entries.is_empty() {
            return Ok(all);
        }
        let mut rules = Vec::new();
        let mut include_id = None;
        for (key, value) in entries {
            let included = match value {
                Node::Bool(b) => *b,
                Node::Number(n) => n.trim_start_matches('-') != "0",
                _ => {
                    return Err(ApiError::unsupported_projection_param(&format!(
                        "unsupported projection value for '{}': {}",
                        key.value,
                        value.to_json()
                    )))
                }
            };
            if key.value == "*" {
                if entries.len() > 1 {
                    return Err(ApiError::unsupported_projection_param("'*' must be the only projection entry"));
                }
                return Ok(if included { all } else { Projection { include_id: false, ..Projection::default() } });
            }
            if key.value == "_id" {
                include_id = Some(included);
            } else {
                rules.push((key.value.to_string(), included));
            }
        }
        let inclusion = rules.first().is_none_or(|(_, included)| *included);
        if rules.iter().any(|(_, included)| *included != inclusion) {
            return Err(ApiError::unsupported_projection_param(
                "cannot mix inclusions and exclusions in a projection",
            ));
        }
        if rules.is_empty() {
            // Only `_id` given: `{_id: 0}` excludes it from everything; `{_id: 1}` keeps only it.
            return Ok(match include_id {
                Some(false) => Projection { everything: false, inclusion: false, include_id: false, rules },
                _ => Projection { everything: false, inclusion: true, include_id: true, rules },
            });
        }
        Ok(Projection { rules, inclusion, include_id: include_id.unwrap_or(true), everything: false })
    }

    /// Whether the projection returns documents unchanged.
    pub fn is_identity(&self) -> bool {
        self.everything
    }

    /// Writes `doc` projected.
    pub fn write(&self, doc: &Node<'_>, out: &mut String) {
        if self.everything {
            doc.write(out);
            return;
        }
        let Node::Object(entries) = doc else {
            doc.write(out);
            return;
        };
        out.push('{');
        let mut first = true;
        for (key, value) in entries {
            let keep = if key.value == "_id" {
                if self.include_id { Some(Keep::All) } else { None }
            } else {
                self.keep(&key.value)
            };
            if let Some(keep) = keep {
                if !std::mem::replace(&mut first, false) {
                    out.push(',');
                }
                out.push('"');
                out.push_str(&key.raw);
                out.push_str("\":");
                match keep {
                    Keep::All => value.write(out),
                    Keep::Part => self.write_part(value, &key.value, out),
                }
            }
        }
        out.push('}');
    }

    fn write_part(&self, value: &Node<'_>, path: &str, out: &mut String) {
        match value {
            Node::Object(entries) => {
                out.push('{');
                let mut first = true;
                for (key, child) in entries {
                    let child_path = format!("{path}.{}", key.value);
                    if let Some(keep) = self.keep(&child_path) {
                        if !std::mem::replace(&mut first, false) {
                            out.push(',');
                        }
                        out.push('"');
                        out.push_str(&key.raw);
                        out.push_str("\":");
                        match keep {
                            Keep::All => child.write(out),
                            Keep::Part => self.write_part(child, &child_path, out),
                        }
                    }
                }
                out.push('}');
            }
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.write_part(item, path, out);
                }
                out.push(']');
            }
            other if self.inclusion => {
                // A scalar where the inclusion wanted sub-fields: nothing of it is included.
                let _ = other;
                out.push_str("null");
            }
            other => other.write(out),
        }
    }

    fn keep(&self, path: &str) -> Option<Keep> {
        let covers = |rule: &str| path == rule || (path.starts_with(rule) && path.as_bytes().get(rule.len()) == Some(&b'.'));
        let below = |rule: &str| rule.starts_with(path) && rule.as_bytes().get(path.len()) == Some(&b'.');
        let covered = self.rules.iter().any(|(rule, _)| covers(rule));
        let partial = self.rules.iter().any(|(rule, _)| below(rule));
        match (self.inclusion, covered, partial) {
            (true, true, _) => Some(Keep::All),
            (true, false, true) => Some(Keep::Part),
            (true, false, false) => None,
            (false, true, _) => None,
            (false, false, true) => Some(Keep::Part),
            (false, false, false) => Some(Keep::All),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Keep {
    All,
    Part,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn filters_match_like_the_data_api() {
        let doc = parse(r#"{"_id":{"$uuid":"123E4567-E89B-12D3-A456-426614174000"},"n":10,"tags":["a","b"],"o":{"x":1.0}}"#, 100).unwrap();
        let check = |filter: &str| {
            let f = parse(filter, 100).unwrap();
            Filter::parse(Some(&f)).unwrap().matches(&doc)
        };
        assert!(check(r#"{"_id":{"$uuid":"123e4567-e89b-12d3-a456-426614174000"}}"#));
        assert!(check(r#"{"n":1e1}"#));
        assert!(check(r#"{"tags":"a"}"#));
        assert!(check(r#"{"o.x":1}"#));
        assert!(check(r#"{"n":{"$gt":9,"$lte":10}}"#));
        assert!(check(r#"{"n":{"$in":[1,10]}}"#));
        assert!(!check(r#"{"n":{"$nin":[1,10]}}"#));
        assert!(check(r#"{"missing":{"$exists":false}}"#));
        assert!(check(r#"{"$or":[{"n":1},{"n":10}]}"#));
    }

    #[test]
    fn projections_include_and_exclude() {
        let doc = parse(r#"{"_id":1,"a":1,"b":{"c":2,"d":3}}"#, 100).unwrap();
        let project = |spec: &str| {
            let s = parse(spec, 100).unwrap();
            let mut out = String::new();
            Projection::parse(Some(&s)).unwrap().write(&doc, &mut out);
            out
        };
        assert_eq!(project(r#"{"a":1}"#), r#"{"_id":1,"a":1}"#);
        assert_eq!(project(r#"{"b.c":1,"_id":0}"#), r#"{"b":{"c":2}}"#);
        assert_eq!(project(r#"{"b.d":0}"#), r#"{"_id":1,"a":1,"b":{"c":2}}"#);
    }
}
