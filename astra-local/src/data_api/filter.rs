//! Filters of the Data API's collection commands, parsed and validated the way stargate/data-api's
//! `FilterClauseBuilder` / `CollectionFilterClauseBuilder` do it, then evaluated against stored
//! documents.
//!
//! Operators: `$eq $ne $in $nin $gt $gte $lt $lte $exists $all $size`, logical `$and`/`$or`
//! (no `$not`). Paths are `&`-escaped (see [`super::path`]). The refusals follow the real
//! service: a `$`-path (`{"$gt": ..}` at the top) or an operator inside a sub-document value is
//! `FILTER_INVALID_EXPRESSION`; more than 64 comparisons is `FILTER_FIELDS_LIMIT_VIOLATION`; more
//! than one `_id` comparison is `FILTER_MULTIPLE_ID_FILTER`; `$in`/`$nin` take at most 100
//! values; paths the collection does not index are `FILTER_PATH_UNINDEXED` (`_id` with anything
//! but `$eq`/`$in` there: `FILTER_ID_NOT_INDEXED`). Inside a `$or`, every field of every element
//! is one alternative, as the real builder adds them all to the `$or`.

use std::cmp::Ordering;

use super::errors::ApiError;
use super::path;
use super::sort::{compare_json, sort_value, SortValue};
use crate::doc_id::{date_millis, decode_base64, invalid_extension_message, normalize_object_id, normalize_uuid, DocId, ExtensionType};
use crate::json::{Decimal, Node};
use crate::shred::Indexing;

/// Most comparisons a filter may hold (`OperationsConfig.maxFilterObjectProperties`).
pub const MAX_FILTER_FIELDS: usize = 64;
/// Most values of one `$in`/`$nin` (`OperationsConfig.maxInOperatorValueSize`).
pub const MAX_IN_VALUES: usize = 100;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Nin,
    Gt,
    Gte,
    Lt,
    Lte,
    Exists,
    All,
    Size,
}

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "$eq" => Op::Eq,
            "$ne" => Op::Ne,
            "$in" => Op::In,
            "$nin" => Op::Nin,
            "$gt" => Op::Gt,
            "$gte" => Op::Gte,
            "$lt" => Op::Lt,
            "$lte" => Op::Lte,
            "$exists" => Op::Exists,
            "$all" => Op::All,
            "$size" => Op::Size,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "$eq",
            Op::Ne => "$ne",
            Op::In => "$in",
            Op::Nin => "$nin",
            Op::Gt => "$gt",
            Op::Gte => "$gte",
            Op::Lt => "$lt",
            Op::Lte => "$lte",
            Op::Exists => "$exists",
            Op::All => "$all",
            Op::Size => "$size",
        }
    }
}

/// A path of a filter: as written (escaped) and as segments (`None` when it cannot be decoded,
/// e.g. `foo..bar`: such a path matches no field).
#[derive(Debug, Clone)]
pub struct FieldPath {
    pub encoded: String,
    segments: Option<Vec<String>>,
}

impl FieldPath {
    fn new(encoded: &str) -> FieldPath {
        FieldPath { encoded: encoded.to_owned(), segments: path::decode(encoded).ok() }
    }

    /// The value at this path in `doc`.
    pub fn lookup<'d>(&self, doc: &'d Node<'d>) -> Option<&'d Node<'d>> {
        doc.get_segments(self.segments.as_deref()?)
    }

    fn is_id(&self) -> bool {
        self.encoded == "_id"
    }
}

/// One comparison: `path op value`. For `_id`, `ids` holds the parsed operand(s).
#[derive(Debug)]
pub struct Cmp<'a> {
    pub path: FieldPath,
    pub op: Op,
    pub value: &'a Node<'a>,
    pub ids: Vec<DocId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    And,
    Or,
}

/// A logical expression: its comparisons and nested expressions, joined by `$and` or `$or`.
#[derive(Debug)]
pub struct Filter<'a> {
    relation: Relation,
    nested: Vec<Filter<'a>>,
    cmps: Vec<Cmp<'a>>,
}

/// How the `_id` part of a filter narrows the documents to read.
#[derive(Debug, Default)]
pub struct IdAccess {
    /// Exact keys (from `_id` equality or `$in`), sorted, each once; `None` when not
    /// restricted that way.
    pub keys: Option<Vec<Vec<u8>>>,
    pub lower: Option<(Vec<u8>, bool)>,
    pub upper: Option<(Vec<u8>, bool)>,
}

fn invalid(message: String) -> ApiError {
    ApiError::filter_invalid_expression(&message)
}

impl<'a> Filter<'a> {
    /// The filter that matches every document.
    pub fn everything() -> Filter<'a> {
        Filter { relation: Relation::And, nested: Vec::new(), cmps: Vec::new() }
    }

    /// Parses and validates a filter (`None`, `null` and `{}` match everything) for a collection
    /// with `indexing`.
    pub fn parse(node: Option<&'a Node<'a>>, indexing: &Indexing) -> Result<Filter<'a>, ApiError> {
        let entries = match node {
            None | Some(Node::Null) => return Ok(Filter::everything()),
            Some(Node::Object(entries)) => entries,
            Some(other) => {
                return Err(ApiError::filter_unsupported_data_type(&format!(
                    "filter definition must be JSON Object, command had {}",
                    other.type_name()
                )))
            }
        };
        let mut root = Filter::everything();
        for (key, value) in entries {
            root.populate_entry(&key.value, value)?;
        }
        if root.id_count() > 1 {
            return Err(ApiError::filter_multiple_id_filter());
        }
        root.validate()?;
        let count = root.count();
        if count > MAX_FILTER_FIELDS {
            return Err(ApiError::filter_fields_limit_violation(count, MAX_FILTER_FIELDS));
        }
        if !indexing.is_everything() {
            root.check_indexed(indexing)?;
        }
        Ok(root)
    }

    /// Adds the elements of a `$and`/`$or` array (or the entries of one element object).
    fn populate_node(&mut self, node: &'a Node<'a>) -> Result<(), ApiError> {
        match node {
            Node::Object(entries) => {
                for (key, value) in entries {
                    self.populate_entry(&key.value, value)?;
                }
                Ok(())
            }
            Node::Array(items) => {
                for item in items {
                    if !matches!(item, Node::Object(_)) {
                        let relation = if self.relation == Relation::Or { "or" } else { "and" };
                        return Err(ApiError::filter_unsupported_data_type(&format!(
                            "Unsupported NodeType '{}' for '${relation}' filter",
                            item.type_name()
                        )));
                    }
                    self.populate_node(item)?;
                }
                Ok(())
            }
            // The real builder words this case as if the path were `$vector`.
            _ => Err(invalid("cannot filter on '$vector' field using operator '$eq': only '$exists' is supported".into())),
        }
    }

    fn populate_entry(&mut self, key: &str, value: &'a Node<'a>) -> Result<(), ApiError> {
        match value {
            Node::Object(_) if key == "$not" => {
                Err(ApiError::filter_unsupported_operator("filter operator '$not' (astra-local does not support '$not')"))
            }
            Node::Object(ops) => {
                let cmps = path_entry(key, value, ops)?;
                self.cmps.extend(cmps);
                Ok(())
            }
            Node::Array(items) => {
                let relation = match key {
                    "$and" => Relation::And,
                    "$or" => Relation::Or,
                    "$vector" | "$vectorize" => {
                        return Err(invalid(format!("cannot filter on '{key}' field using operator '$eq': only '$exists' is supported")))
                    }
                    _ => return Err(invalid(format!("cannot filter on '{key}' by array type"))),
                };
                let mut inner = Filter { relation, nested: Vec::new(), cmps: Vec::new() };
                for item in items {
                    inner.populate_node(item)?;
                }
                // An empty `$and`/`$or` is left out, as the real `LogicalExpression` does.
                if !inner.is_empty() {
                    self.nested.push(inner);
                }
                Ok(())
            }
            _ => {
                if matches!(key, "$vector" | "$vectorize") {
                    return Err(invalid(format!("cannot filter on '{key}' field using operator '$eq': only '$exists' is supported")));
                }
                validate_path(key)?;
                self.cmps.push(comparison(key, Op::Eq, value)?);
                Ok(())
            }
        }
    }

    fn id_count(&self) -> usize {
        self.cmps.iter().filter(|c| c.path.is_id()).count() + self.nested.iter().map(Filter::id_count).sum::<usize>()
    }

    fn count(&self) -> usize {
        self.cmps.len() + self.nested.iter().map(Filter::count).sum::<usize>()
    }

    fn validate(&self) -> Result<(), ApiError> {
        for nested in &self.nested {
            if nested.id_count() > 1 {
                return Err(ApiError::filter_multiple_id_filter());
            }
            nested.validate()?;
        }
        for cmp in &self.cmps {
            if cmp.path.is_id() && self.relation == Relation::Or {
                return Err(invalid("cannot filter on '_id' field within '$or', ID field can not be used with '$or' operator".into()));
            }
            match cmp.op {
                Op::In | Op::Nin => match cmp.value {
                    Node::Array(values) if values.len() > MAX_IN_VALUES => {
                        return Err(invalid(format!("'{}' operator must have at most {MAX_IN_VALUES} values", cmp.op.name())))
                    }
                    Node::Array(_) => {}
                    _ => return Err(invalid(format!("'{}' operator must have `Array`", cmp.op.name()))),
                },
                Op::Exists if !matches!(cmp.value, Node::Bool(_)) => return Err(invalid("'$exists' operator must have `Boolean`".into())),
                Op::All => match cmp.value {
                    Node::Array(values) if values.is_empty() => return Err(invalid("'$all' operator must have at least one value".into())),
                    Node::Array(_) => {}
                    _ => return Err(invalid("'$all' operator must have `Array` value".into())),
                },
                Op::Size => match cmp.value {
                    Node::Number(n) => {
                        let size = Decimal::parse(n).map(|d| d.to_f64()).unwrap_or(0.0);
                        if size < 0.0 {
                            return Err(invalid(format!("'$size' operator must have integer value >= 0 (had {})", size as i64)));
                        }
                        if size.fract() != 0.0 {
                            return Err(invalid("'$size' operator must have an integer value".into()));
                        }
                    }
                    _ => return Err(invalid("'$size' operator must have integer".into())),
                },
                _ => {}
            }
        }
        Ok(())
    }

    /// The real `validateWithSchema`: every compared path must be indexed.
    fn check_indexed(&self, indexing: &Indexing) -> Result<(), ApiError> {
        for nested in &self.nested {
            nested.check_indexed(indexing)?;
        }
        for cmp in &self.cmps {
            let path = &cmp.path.encoded;
            if !matches!(indexing, Indexing::Nothing) && path != "_id" {
                path::decode(path).map_err(|problem| {
                    ApiError::unsupported_projection_param(&format!("projection path ('{path}') is not a valid path: {problem}."))
                })?;
            }
            if !indexing.indexes_path(path) {
                if cmp.path.is_id() {
                    if matches!(cmp.op, Op::Eq | Op::In) {
                        continue;
                    }
                    return Err(ApiError::filter_id_not_indexed(cmp.op.name()));
                }
                return Err(ApiError::filter_path_unindexed(path));
            }
            if !cmp.path.is_id() && !matches!(cmp.op, Op::Exists | Op::Size) {
                check_indexed_value(indexing, cmp.value, path)?;
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.cmps.is_empty() && self.nested.is_empty()
    }

    /// What the top-level `_id` comparison allows to read by key.
    pub fn id_access(&self) -> IdAccess {
        let mut access = IdAccess::default();
        if self.relation != Relation::And {
            return access;
        }
        for cmp in self.cmps.iter().filter(|c| c.path.is_id()) {
            match (cmp.op, cmp.ids.as_slice()) {
                (Op::Eq, [id]) => access.keys = Some(vec![id.key.clone()]),
                (Op::In, ids) => {
                    let mut keys: Vec<Vec<u8>> = ids.iter().map(|id| id.key.clone()).collect();
                    keys.sort();
                    keys.dedup();
                    access.keys = Some(keys);
                }
                (Op::Gt | Op::Gte, [id]) => {
                    access.lower = Some((id.key.clone(), cmp.op == Op::Gte));
                    access.upper = Some((vec![id.key[0] + 1], false));
                }
                (Op::Lt | Op::Lte, [id]) => {
                    access.upper = Some((id.key.clone(), cmp.op == Op::Lte));
                    access.lower = Some((vec![id.key[0]], true));
                }
                _ => {}
            }
        }
        access
    }

    /// The top-level `$eq` comparisons: what an upsert's new document starts from.
    pub fn equalities(&self) -> impl Iterator<Item = (&FieldPath, &'a Node<'a>)> + '_ {
        let and = self.relation == Relation::And;
        self.cmps.iter().filter(move |c| and && c.op == Op::Eq).map(|c| (&c.path, c.value))
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Node<'_>) -> bool {
        let mut results = self.cmps.iter().map(|c| c.matches(doc)).chain(self.nested.iter().map(|n| n.matches(doc)));
        match self.relation {
            Relation::And => results.all(|r| r),
            Relation::Or => results.any(|r| r),
        }
    }
}

/// The comparisons of one `path: {...}` entry (the real `buildFromPathEntryCommon`).
fn path_entry<'a>(key: &str, value: &'a Node<'a>, ops: &'a [(crate::json::JsonStr<'a>, Node<'a>)]) -> Result<Vec<Cmp<'a>>, ApiError> {
    let mut cmps = Vec::new();
    for (name, operand) in ops {
        let Some(op) = Op::from_name(&name.value) else {
            let ext = ExtensionType::from_key(&name.value);
            if ext.is_none() && name.value.starts_with('$') {
                if name.value == "$match" {
                    return Err(invalid(format!("'$match' operator can only be used with the '$lexical' field, not '{key}'")));
                }
                return Err(ApiError::filter_unsupported_operator(&format!("filter operator '{}'", name.value)));
            }
            validate_path(key)?;
            if let (Some(ext), false) = (ext, key == "_id") {
                check_extension(ext, operand)?;
            }
            // A whole sub-document (or extended value) to match: the comparison is on it all.
            cmps.push(comparison(key, Op::Eq, value)?);
            return Ok(cmps);
        };
        validate_path(key)?;
        let cmp = comparison(key, op, operand)?;
        if matches!(op, Op::Gt | Op::Gte | Op::Lt | Op::Lte) && !is_range_operand(&cmp) {
            return Err(invalid(format!("'{}' operator must have `Date` or `Number` or `String` or `Boolean` value", op.name())));
        }
        cmps.push(cmp);
    }
    Ok(cmps)
}

/// Range operands are dates, numbers, strings and booleans (extended values count as the
/// string or date they stand for), and for `_id` any id but `null`.
fn is_range_operand(cmp: &Cmp<'_>) -> bool {
    match cmp.value {
        Node::String(_) | Node::Bool(_) | Node::Number(_) => true,
        Node::Object(_) if cmp.path.is_id() => true,
        node @ Node::Object(_) => is_extension(node),
        _ => false,
    }
}

/// A comparison with its operand checked: `_id` operands must be valid ids, other operands must
/// not hold operators inside sub-documents.
fn comparison<'a>(key: &str, op: Op, value: &'a Node<'a>) -> Result<Cmp<'a>, ApiError> {
    let path = FieldPath::new(key);
    let mut ids = Vec::new();
    if op != Op::Exists {
        if path.is_id() {
            match value {
                Node::Array(items) => {
                    for item in items {
                        ids.push(DocId::from_node(item)?);
                    }
                }
                other => ids.push(DocId::from_node(other)?),
            }
        } else {
            check_operand(value)?;
        }
    }
    Ok(Cmp { path, op, value, ids })
}

/// The real `jsonNodeValue`: a single-field `$`-object inside an operand must be a valid extended
/// value (`{"$date": ms}`, ...); any other is an operator where none may be.
fn check_operand(node: &Node<'_>) -> Result<(), ApiError> {
    match node {
        Node::Array(items) => items.iter().try_for_each(check_operand),
        Node::Object(entries) => {
            if let [(key, value)] = entries.as_slice() {
                if key.value.starts_with('$') {
                    return match ExtensionType::from_key(&key.value) {
                        Some(ExtensionType::Date) if date_millis(value).is_none() => {
                            Err(invalid("$date value has to be sent as epoch time".into()))
                        }
                        Some(ext) => check_extension(ext, value),
                        None => Err(invalid(format!("invalid use of '{}' operator", key.value))),
                    };
                }
            }
            entries.iter().try_for_each(|(_, value)| check_operand(value))
        }
        _ => Ok(()),
    }
}

fn check_extension(ext: ExtensionType, value: &Node<'_>) -> Result<(), ApiError> {
    let text = value.as_str();
    let ok = match ext {
        ExtensionType::Date => date_millis(value).is_some(),
        ExtensionType::ObjectId => text.and_then(normalize_object_id).is_some(),
        ExtensionType::Uuid => text.and_then(normalize_uuid).is_some(),
        ExtensionType::Binary => text.and_then(decode_base64).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::shred_bad_ejson_value(&invalid_extension_message(ext, value)))
    }
}

/// The real `validateFilterClausePath`.
fn validate_path(path: &str) -> Result<(), ApiError> {
    if path.is_empty() {
        return Err(invalid("filter expression path cannot be empty String".into()));
    }
    if path.starts_with('$') {
        if matches!(path, "$vector" | "$vectorize") {
            return Ok(());
        }
        return Err(invalid(format!("filter expression path ('{path}') cannot start with '$'")));
    }
    path::verify_encoded(path).map_err(|problem| invalid(format!("filter expression path ('{path}') is not valid: {problem}")))
}

/// Paths inside a sub-document or array operand must be indexed too (`address.city` of
/// `{"address": {"$eq": {"city": ..}}}`).
fn check_indexed_value(indexing: &Indexing, value: &Node<'_>, path: &str) -> Result<(), ApiError> {
    match value {
        Node::Object(entries) if !is_extension(value) => {
            for (key, child) in entries {
                let child_path = format!("{path}.{}", key.value);
                if !indexing.indexes_path(&child_path) {
                    return Err(ApiError::filter_path_unindexed(&child_path));
                }
                if matches!(child, Node::Object(_) | Node::Array(_)) {
                    check_indexed_value(indexing, child, &child_path)?;
                }
            }
            Ok(())
        }
        Node::Array(items) => {
            for item in items {
                match item {
                    Node::String(_) if !indexing.indexes_path(path) => return Err(ApiError::filter_path_unindexed(path)),
                    Node::Object(_) | Node::Array(_) => check_indexed_value(indexing, item, path)?,
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn is_extension(node: &Node<'_>) -> bool {
    matches!(node, Node::Object(entries) if entries.len() == 1 && entries[0].0.value.starts_with('$'))
}

impl Cmp<'_> {
    fn matches(&self, doc: &Node<'_>) -> bool {
        let field = self.path.lookup(doc);
        if matches!(self.path.encoded.as_str(), "$vector" | "$vectorize") {
            // The shredder indexes only that these exist (`shredVector`, `shredVectorize`: an
            // "exists" key for a non-null value); no other operator finds their values.
            let exists = field.is_some_and(|f| !f.is_null());
            return match self.op {
                Op::Exists => exists == (self.value.as_bool() == Some(true)),
                Op::Ne | Op::Nin => true,
                _ => false,
            };
        }
        if self.path.is_id() && self.op != Op::Exists {
            let id = field.and_then(|f| DocId::from_node(f).ok());
            return match self.op {
                Op::Eq | Op::In => id.is_some_and(|id| self.ids.iter().any(|i| i.key == id.key)),
                Op::Ne | Op::Nin => !id.is_some_and(|id| self.ids.iter().any(|i| i.key == id.key)),
                _ => id.is_some_and(|id| {
                    let Some(bound) = self.ids.first() else { return false };
                    id.key[0] == bound.key[0] && range_holds(self.op, id.key.cmp(&bound.key))
                }),
            };
        }
        match self.op {
            Op::Eq => field.is_some_and(|f| field_equals(f, self.value)),
            Op::Ne => !field.is_some_and(|f| field_equals(f, self.value)),
            Op::In => field.is_some_and(|f| self.value.as_array().unwrap_or_default().iter().any(|v| field_equals(f, v))),
            Op::Nin => !field.is_some_and(|f| self.value.as_array().unwrap_or_default().iter().any(|v| field_equals(f, v))),
            Op::Exists => field.is_some() == (self.value.as_bool() == Some(true)),
            Op::All => field.is_some_and(|f| self.value.as_array().unwrap_or_default().iter().all(|v| field_equals(f, v))),
            Op::Size => match (field, self.value) {
                (Some(Node::Array(items)), Node::Number(n)) => Decimal::parse(n).is_some_and(|d| d.to_f64() == items.len() as f64),
                _ => false,
            },
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => field.is_some_and(|f| {
                let candidates: Vec<&Node<'_>> = match f {
                    Node::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                candidates.into_iter().any(|c| range_compare(c, self.value).is_some_and(|o| range_holds(self.op, o)))
            }),
        }
    }
}

fn range_holds(op: Op, ordering: Ordering) -> bool {
    match op {
        Op::Gt => ordering == Ordering::Greater,
        Op::Gte => ordering != Ordering::Less,
        Op::Lt => ordering == Ordering::Less,
        Op::Lte => ordering != Ordering::Greater,
        _ => false,
    }
}

/// Ordering of a field value against a range operand of the same kind (numbers, strings,
/// booleans, dates); `None` across kinds.
fn range_compare(field: &Node<'_>, operand: &Node<'_>) -> Option<Ordering> {
    match (sort_value(Some(field)), sort_value(Some(operand))) {
        (SortValue::Number(a), SortValue::Number(b)) => Some(a.cmp(&b)),
        (SortValue::String(a), SortValue::String(b)) => Some(a.cmp(&b)),
        (SortValue::Bool(a), SortValue::Bool(b)) => Some(a.cmp(&b)),
        (SortValue::Date(a), SortValue::Date(b)) => Some(a.cmp(&b)),
        _ => None,
    }
}

/// Equality as the Data API's index sees it: the value itself, or (for an array field) one of
/// its elements.
fn field_equals(field: &Node<'_>, value: &Node<'_>) -> bool {
    values_equal(field, value) || matches!(field, Node::Array(items) if items.iter().any(|item| values_equal(item, value)))
}

/// Deep equality; objects in field order; numbers by value; `$uuid`/`$objectId` normalized.
pub fn values_equal(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Number(x), Node::Number(y)) => x == y || Decimal::parse(x) == Decimal::parse(y),
        (Node::String(x), Node::String(y)) => x.value == y.value,
        (Node::Array(x), Node::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b)),
        (Node::Object(x), Node::Object(y)) => {
            if is_extension(a) && is_extension(b) {
                if let (Some(x), Some(y)) = (normalized_extension(a), normalized_extension(b)) {
                    return x == y;
                }
            }
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka.value == kb.value && values_equal(va, vb))
        }
        _ => false,
    }
}

fn normalized_extension(node: &Node<'_>) -> Option<(String, String)> {
    let Node::Object(entries) = node else { return None };
    let (key, value) = entries.first()?;
    let text = value.as_str()?;
    let normalized = match ExtensionType::from_key(&key.value)? {
        ExtensionType::Uuid => normalize_uuid(text)?,
        ExtensionType::ObjectId => normalize_object_id(text)?,
        _ => return None,
    };
    Some((key.value.to_string(), normalized))
}

/// Orders two whole values as the Data API's `JsonNodeComparator` does (for `$min`/`$max`).
pub fn compare_values(a: &Node<'_>, b: &Node<'_>) -> Ordering {
    compare_json(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn parsed(filter: &str, indexing: &Indexing) -> Result<bool, String> {
        let doc = parse(r#"{"_id":{"$uuid":"123E4567-E89B-12D3-A456-426614174000"},"n":10,"tags":["a","b"],"o":{"x":1.0},"p.q":3}"#, 100)
            .unwrap();
        let f = parse(filter, 100).unwrap();
        Filter::parse(Some(&f), indexing).map(|f| f.matches(&doc)).map_err(|e| e.code().to_owned())
    }

    #[test]
    fn filters_match_like_the_data_api() {
        let all = Indexing::All;
        for filter in [
            r#"{"_id":{"$uuid":"123e4567-e89b-12d3-a456-426614174000"}}"#,
            r#"{"n":1e1}"#,
            r#"{"tags":"a"}"#,
            r#"{"tags":{"$eq":["a","b"]}}"#,
            r#"{"o.x":1}"#,
            r#"{"p&.q":3}"#,
            r#"{"n":{"$gt":9,"$lte":10}}"#,
            r#"{"n":{"$in":[1,10]}}"#,
            r#"{"missing":{"$exists":false}}"#,
            r#"{"$or":[{"n":1},{"n":10}]}"#,
            r#"{"$or":[{"n":1,"tags":"b"}]}"#,
            r#"{"tags":{"$all":["b","a"]},"tags.1":"b"}"#,
            r#"{"tags":{"$size":2}}"#,
        ] {
            assert_eq!(parsed(filter, &all), Ok(true), "{filter}");
        }
        assert_eq!(parsed(r#"{"n":{"$nin":[1,10]}}"#, &all), Ok(false));
        assert_eq!(parsed(r#"{"p.q":3}"#, &all), Ok(false));
    }

    #[test]
    fn filters_are_refused_like_the_data_api() {
        let all = Indexing::All;
        for (filter, code) in [
            (r#"{"$gt":{"n":5}}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"o":{"x":{"$eq":1}}}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"tags":["a"]}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"_id":{"$lte":null}}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"_id":{"$gt":1,"$lt":5}}"#, "FILTER_MULTIPLE_ID_FILTER"),
            (r#"{"$or":[{"_id":1},{"n":1}]}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"_id":{"$uuid":"nope"}}"#, "SHRED_BAD_DOCID_TYPE"),
            (r#"{"_id":{"$objectId":"xyz"}}"#, "SHRED_BAD_DOCID_TYPE"),
            (r#"{"n":{"$regex":"x"}}"#, "FILTER_UNSUPPORTED_OPERATOR"),
            (r#"{"a&b":1}"#, "FILTER_INVALID_EXPRESSION"),
            (r#"{"n":{"$in":5}}"#, "FILTER_INVALID_EXPRESSION"),
            ("5", "FILTER_UNSUPPORTED_DATA_TYPE"),
        ] {
            assert_eq!(parsed(filter, &all), Err(code.to_owned()), "{filter}");
        }
        let deny = Indexing::Deny(vec!["o.x".into()]);
        assert_eq!(parsed(r#"{"o.x":1}"#, &deny), Err("FILTER_PATH_UNINDEXED".into()));
        assert_eq!(parsed(r#"{"o":{"$eq":{"x":1}}}"#, &deny), Err("FILTER_PATH_UNINDEXED".into()));
        assert_eq!(parsed(r#"{"n":10}"#, &deny), Ok(true));
        assert_eq!(parsed(r#"{"_id":{"$nin":[1]}}"#, &Indexing::Nothing), Err("FILTER_ID_NOT_INDEXED".into()));
        assert_eq!(parsed(r#"{"_id":{"$in":[1]}}"#, &Indexing::Nothing), Ok(false));
    }
}
