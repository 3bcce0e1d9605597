//! The update clause of `updateOne`, `updateMany` and `findOneAndUpdate`, parsed, checked and
//! applied as stargate/data-api's `UpdateClauseDeserializer`, `UpdateClause.buildOperations` and
//! the `*Operation` classes of `api/model/command/clause/update` do it:
//!
//! `$set $setOnInsert $unset $inc $mul $min $max $push (with $each, $position) $pop
//! $addToSet (with $each) $rename $currentDate`; `$pullAll` is refused for collections
//! (`UNSUPPORTED_UPDATE_OPERATION`), as the real `UpdateOperator.PULL_ALL` is table-only.
//! Operators apply in the real enum order, each one's paths in name order; two operators on the
//! same path, or on a path and its parent, are refused. Paths are `&`-escaped; a numeric segment
//! addresses an array element (missing ones are padded with `null`). `_id` may only be set by
//! `$setOnInsert`. Numbers are computed as Java's `BigInteger`/`BigDecimal` do
//! ([`crate::decimal::JavaDecimal`]).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::errors::{ApiError, UpdateProblem};
use super::filter::compare_values;
use super::locator::{equals_ordered, find_if_exists, find_or_create, Locator};
use super::path;
use crate::decimal::JavaDecimal;
use crate::json::{JsonStr, Node};

/// The update operators, in the order the real service applies them (`UpdateOperator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Operator {
    AddToSet,
    CurrentDate,
    Inc,
    Max,
    Min,
    Mul,
    Pop,
    Push,
    Rename,
    Set,
    SetOnInsert,
    Unset,
    PullAll,
}

impl Operator {
    fn from_name(name: &str) -> Option<Operator> {
        Some(match name {
            "$addToSet" => Operator::AddToSet,
            "$currentDate" => Operator::CurrentDate,
            "$inc" => Operator::Inc,
            "$max" => Operator::Max,
            "$min" => Operator::Min,
            "$mul" => Operator::Mul,
            "$pop" => Operator::Pop,
            "$push" => Operator::Push,
            "$rename" => Operator::Rename,
            "$set" => Operator::Set,
            "$setOnInsert" => Operator::SetOnInsert,
            "$unset" => Operator::Unset,
            "$pullAll" => Operator::PullAll,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Operator::AddToSet => "$addToSet",
            Operator::CurrentDate => "$currentDate",
            Operator::Inc => "$inc",
            Operator::Max => "$max",
            Operator::Min => "$min",
            Operator::Mul => "$mul",
            Operator::Pop => "$pop",
            Operator::Push => "$push",
            Operator::Rename => "$rename",
            Operator::Set => "$set",
            Operator::SetOnInsert => "$setOnInsert",
            Operator::Unset => "$unset",
            Operator::PullAll => "$pullAll",
        }
    }
}

#[derive(Debug)]
enum Action<'a> {
    Set(&'a Node<'a>),
    Unset,
    Inc(&'a str),
    Mul(&'a str),
    Min(&'a Node<'a>),
    Max(&'a Node<'a>),
    Push { value: &'a Node<'a>, each: bool, position: Option<i64> },
    Pop { first: bool },
    AddToSet { value: &'a Node<'a>, each: bool },
    Rename(Locator),
    CurrentDate,
}

/// A parsed update clause.
#[derive(Debug)]
pub struct UpdateClause<'a> {
    /// (operator, its actions sorted by path), in operator order.
    operations: Vec<(Operator, Vec<(Locator, Action<'a>)>)>,
}

fn problem(kind: UpdateProblem, message: String) -> ApiError {
    ApiError::unsupported_update(kind, &message)
}

/// `validateUpdatePath`: `_id` and the `$` pseudo-fields take only some operators.
fn check_path(operator: Operator, path: &str) -> Result<(), ApiError> {
    match path {
        "$vector" | "$vectorize" | "$lexical" if !matches!(operator, Operator::Set | Operator::SetOnInsert | Operator::Unset) => {
            Err(ApiError::unsupported_update_operator_for(path, operator.name()))
        }
        "_id" => Err(ApiError::unsupported_update_operator_for("_id", operator.name())),
        _ => Ok(()),
    }
}

fn has_modifier(node: &Node<'_>) -> bool {
    node.as_object().is_some_and(|entries| entries.iter().any(|(k, _)| k.value.starts_with('$')))
}

impl<'a> UpdateClause<'a> {
    /// Parses the `update` of a command.
    pub fn parse(node: Option<&'a Node<'a>>) -> Result<UpdateClause<'a>, ApiError> {
        let entries = match node {
            None | Some(Node::Null) => {
                return Err(ApiError::command_field_value_invalid("command.updateClause", "`null`", "must not be null"))
            }
            Some(Node::Object(entries)) => entries,
            Some(other) => {
                return Err(problem(
                    UpdateProblem::DataType,
                    format!("update data type for UpdateClause must be JSON Object, was: {}", other.type_name()),
                ))
            }
        };
        let mut defs: Vec<(Operator, &'a [(JsonStr<'a>, Node<'a>)])> = Vec::new();
        for (name, arg) in entries {
            if !name.value.starts_with('$') {
                return Err(problem(UpdateProblem::Operation, format!("Invalid update operator '{}' (must start with '$')", name.value)));
            }
            let Some(operator) = Operator::from_name(&name.value) else {
                return Err(problem(UpdateProblem::Operation, format!("Unrecognized update operator '{}'", name.value)));
            };
            let Node::Object(args) = arg else {
                return Err(problem(
                    UpdateProblem::DataType,
                    format!("update data type for Operator '{}' must be JSON Object, was: {}", name.value, arg.type_name()),
                ));
            };
            defs.push((operator, args));
        }
        defs.sort_by_key(|(operator, _)| *operator);
        let mut operations = Vec::with_capacity(defs.len());
        for (operator, args) in defs {
            let mut actions = Vec::with_capacity(args.len());
            for (key, value) in args {
                actions.push(action(operator, &key.value, value)?);
            }
            actions.sort_by(|(a, _), (b, _)| a.path.cmp(&b.path));
            operations.push((operator, actions));
        }
        check_conflicts(&operations)?;
        Ok(UpdateClause { operations })
    }

    /// Applies the clause to `doc` (`inserted`: a new upsert document, so `$setOnInsert` applies);
    /// returns whether anything changed.
    pub fn apply<'x>(&self, doc: &mut Node<'x>, inserted: bool) -> Result<bool, ApiError>
    where
        'a: 'x,
    {
        let mut modified = false;
        for (operator, actions) in &self.operations {
            if *operator == Operator::SetOnInsert && !inserted {
                continue;
            }
            let touches = |name: &str| actions.iter().any(|(l, _)| l.path == name);
            let mut dropped = None;
            for (locator, action) in actions {
                let changed = apply_action(doc, locator, action)?;
                // `SetOperation`: a changed `$vector` drops `$vectorize` unless that is set too;
                // `UnsetOperation`: unsetting one of them drops the other.
                if changed {
                    match (operator, locator.path.as_str()) {
                        (Operator::Set | Operator::SetOnInsert, "$vector") if !touches("$vectorize") => dropped = Some("$vectorize"),
                        (Operator::Unset, "$vector") => dropped = Some("$vectorize"),
                        (Operator::Unset, "$vectorize") => dropped = Some("$vector"),
                        _ => {}
                    }
                }
                modified |= changed;
            }
            if let (Some(name), Node::Object(entries)) = (dropped, &mut *doc) {
                entries.retain(|(key, _)| key.value != name);
            }
            if *operator == Operator::Push && !actions.is_empty() {
                modified = true;
            }
        }
        Ok(modified)
    }
}

fn action<'a>(operator: Operator, path: &str, value: &'a Node<'a>) -> Result<(Locator, Action<'a>), ApiError> {
    let numeric = |value: &'a Node<'a>| -> Result<&'a str, ApiError> {
        match value {
            Node::Number(n) => Ok(n),
            other => {
                Err(problem(UpdateProblem::Param, format!("{} requires numeric parameter, got: {}", operator.name(), other.type_name())))
            }
        }
    };
    let action = match operator {
        Operator::PullAll => {
            return Err(problem(UpdateProblem::Operation, "Unsupported update operator '$pullAll'".into()));
        }
        Operator::Set => {
            check_path(operator, path)?;
            Action::Set(value)
        }
        Operator::SetOnInsert => {
            if path != "_id" {
                check_path(operator, path)?;
            }
            Action::Set(value)
        }
        Operator::Unset => {
            check_path(operator, path)?;
            Action::Unset
        }
        Operator::Inc | Operator::Mul => {
            if path.starts_with('$') {
                return Err(problem(UpdateProblem::Modifier, format!("{} does not support modifiers", operator.name())));
            }
            check_path(operator, path)?;
            let n = numeric(value)?;
            if operator == Operator::Inc {
                Action::Inc(n)
            } else {
                Action::Mul(n)
            }
        }
        Operator::Min | Operator::Max => {
            check_path(operator, path)?;
            if operator == Operator::Min {
                Action::Min(value)
            } else {
                Action::Max(value)
            }
        }
        Operator::Push | Operator::AddToSet => {
            check_path(operator, path)?;
            let name = operator.name();
            if path.starts_with('$') {
                return Err(problem(UpdateProblem::Param, format!("{name} requires field names at main level, found modifier: {path}")));
            }
            if has_modifier(value) {
                let (each, position) = modifiers(operator, value)?;
                if operator == Operator::Push {
                    Action::Push { value: each, each: true, position }
                } else {
                    Action::AddToSet { value: each, each: true }
                }
            } else if operator == Operator::Push {
                Action::Push { value, each: false, position: None }
            } else {
                Action::AddToSet { value, each: false }
            }
        }
        Operator::Pop => {
            check_path(operator, path)?;
            let Node::Number(n) = value else {
                return Err(problem(
                    UpdateProblem::Param,
                    format!("$pop requires Number argument (-1 or 1), instead got: {}", value.type_name()),
                ));
            };
            // Java's `intValue()` truncates: 1.5 pops the last element.
            let int = crate::json::Decimal::parse(n).map(|d| d.to_f64().trunc() as i64).unwrap_or(0);
            match int {
                -1 => Action::Pop { first: true },
                1 => Action::Pop { first: false },
                other => return Err(problem(UpdateProblem::Param, format!("$pop requires argument of -1 or 1, instead got: {other}"))),
            }
        }
        Operator::Rename => {
            check_path(operator, path)?;
            let Node::String(to) = value else {
                return Err(problem(
                    UpdateProblem::Param,
                    format!("$rename requires String parameter for 'to', got: {}", value.type_name()),
                ));
            };
            check_path(operator, &to.value)?;
            if to.value == path {
                return Err(problem(UpdateProblem::Path, format!("$rename requires that 'source' and `destination` differ ('{path}')")));
            }
            Action::Rename(Locator::new(&to.value)?)
        }
        Operator::CurrentDate => {
            check_path(operator, path)?;
            let valid = match value {
                Node::Bool(true) => true,
                Node::Object(entries) => matches!(entries.as_slice(), [(k, Node::String(t))] if k.value == "$type" && t.value == "date"),
                _ => false,
            };
            if !valid {
                return Err(problem(
                    UpdateProblem::Param,
                    format!("$currentDate requires argument of either `true` or `{{\"$type\":\"date\"}}`, got: `{}`", value.to_json()),
                ));
            }
            Action::CurrentDate
        }
    };
    Ok((Locator::new(path)?, action))
}

/// The `$each` (and for `$push`, `$position`) of a modifier object.
fn modifiers<'a>(operator: Operator, value: &'a Node<'a>) -> Result<(&'a Node<'a>, Option<i64>), ApiError> {
    let name = operator.name();
    let mut each = None;
    let mut position = None;
    for (modifier, arg) in value.as_object().unwrap_or_default() {
        match (modifier.value.as_ref(), operator) {
            ("$each", _) => {
                if !matches!(arg, Node::Array(_)) {
                    return Err(problem(
                        UpdateProblem::Param,
                        format!("{name} modifier $each requires Array argument, found: {}", arg.type_name()),
                    ));
                }
                each = Some(arg);
            }
            ("$position", Operator::Push) => {
                let Node::Number(n) = arg else {
                    return Err(problem(
                        UpdateProblem::Param,
                        format!("$push modifier $position requires (integral) Number argument, found: {}", arg.type_name()),
                    ));
                };
                let int = n.parse::<i64>().map_err(|_| {
                    problem(UpdateProblem::Param, format!("$push modifier $position requires Integer Number argument, instead got: {n}"))
                })?;
                position = Some(int);
            }
            (other, Operator::Push) => {
                return Err(problem(
                    UpdateProblem::Modifier,
                    format!("$push only supports $each and $position currently; trying to use '{other}'"),
                ))
            }
            (other, _) => {
                return Err(problem(UpdateProblem::Modifier, format!("$addToSet only supports $each modifier; trying to use '{other}'")))
            }
        }
    }
    let each =
        each.ok_or_else(|| problem(UpdateProblem::Param, format!("{name} modifiers can only be used with $each modifier; none included")))?;
    Ok((each, position))
}

/// Segment-wise path order (`DocumentPath.compareTo`): a parent sorts right before its children.
fn compare_locators(a: &Locator, b: &Locator) -> Ordering {
    a.segments
        .iter()
        .zip(&b.segments)
        .map(|(x, y)| x.cmp(y))
        .find(|o| *o != Ordering::Equal)
        .unwrap_or(a.segments.len().cmp(&b.segments.len()))
}

fn check_conflicts(operations: &[(Operator, Vec<(Locator, Action<'_>)>)]) -> Result<(), ApiError> {
    let mut all: Vec<(&Locator, Operator)> = Vec::new();
    for (operator, actions) in operations {
        for (locator, _) in actions {
            if let Some((_, previous)) = all.iter().find(|(l, _)| compare_locators(l, locator) == Ordering::Equal) {
                return Err(problem(
                    UpdateProblem::Param,
                    format!(
                        "update operators '{}' and '{}' must not refer to same path: '{}'",
                        previous.name(),
                        operator.name(),
                        locator.path
                    ),
                ));
            }
            all.push((locator, *operator));
        }
    }
    all.sort_by(|(a, _), (b, _)| compare_locators(a, b));
    for pair in all.windows(2) {
        let ((parent, parent_op), (child, child_op)) = (pair[0], pair[1]);
        if path::is_below(&child.path, &parent.path) {
            return Err(problem(
                UpdateProblem::Param,
                format!(
                    "Update operator path conflict due to overlap: '{}' ({}) vs '{}' ({})",
                    parent.path,
                    parent_op.name(),
                    child.path,
                    child_op.name()
                ),
            ));
        }
    }
    Ok(())
}

fn number(text: String) -> Node<'static> {
    Node::Number(Cow::Owned(text))
}

fn target_error(operator: &str, kind: &str, path: &str, node: &Node<'_>) -> ApiError {
    problem(UpdateProblem::Target, format!("{operator} requires target to be {kind}; value at '{path}' of type {}", node.type_name()))
}

fn apply_action<'a: 'x, 'x>(doc: &mut Node<'x>, locator: &Locator, action: &Action<'a>) -> Result<bool, ApiError> {
    let path = locator.path.as_str();
    match action {
        Action::Set(value) => {
            let mut slot = find_or_create(doc, locator)?;
            if slot.value().is_some_and(|old| equals_ordered(old, value)) {
                return Ok(false);
            }
            slot.replace((*value).clone());
            Ok(true)
        }
        Action::Unset => Ok(find_if_exists(doc, locator).and_then(|mut slot| slot.remove()).is_some()),
        Action::Inc(add) => {
            let mut slot = find_or_create(doc, locator)?;
            let Some(old) = slot.value() else {
                slot.replace(number((*add).to_owned()));
                return Ok(true);
            };
            let Node::Number(old_text) = old else { return Err(target_error("$inc", "Number", path, old)) };
            let (Some(old), Some(add)) = (JavaDecimal::parse(old_text), JavaDecimal::parse(add)) else { return Ok(false) };
            if !add.is_floating() && add.is_zero() {
                return Ok(false);
            }
            let sum = old.add(&add);
            let unchanged = sum.is_floating() == old.is_floating() && sum.same_representation(&old);
            slot.replace(number(sum.to_java_string()));
            Ok(!unchanged)
        }
        Action::Mul(factor) => {
            let mut slot = find_or_create(doc, locator)?;
            let Some(old) = slot.value() else {
                slot.replace(number("0".to_owned()));
                return Ok(true);
            };
            let Node::Number(old_text) = old else { return Err(target_error("$mul", "Number", path, old)) };
            let (Some(old), Some(factor)) = (JavaDecimal::parse(old_text), JavaDecimal::parse(factor)) else { return Ok(false) };
            if old.is_plain_zero() {
                return Ok(false);
            }
            let product = old.multiply(&factor);
            if product.same_representation(&old) {
                return Ok(false);
            }
            slot.replace(number(product.to_java_string()));
            Ok(true)
        }
        Action::Min(value) | Action::Max(value) => {
            let mut slot = find_or_create(doc, locator)?;
            let replace = match slot.value() {
                None => true,
                Some(old) => {
                    let ordering = compare_values(old, value);
                    if matches!(action, Action::Max(_)) {
                        ordering == Ordering::Less
                    } else {
                        ordering == Ordering::Greater
                    }
                }
            };
            if replace {
                slot.replace((*value).clone());
            }
            Ok(replace)
        }
        Action::Push { value, each, position } => {
            let mut slot = find_or_create(doc, locator)?;
            if slot.value().is_none() {
                slot.replace(Node::Array(Vec::new()));
            }
            let Some(target) = slot.value_mut() else { return Ok(false) };
            let Node::Array(items) = target else { return Err(target_error("$push", "Array", path, target)) };
            let added: Vec<Node<'x>> = if *each { value.as_array().unwrap_or_default().to_vec() } else { vec![(*value).clone()] };
            match position {
                Some(position) if *each => {
                    let len = items.len() as i64;
                    let at = if *position < 0 { (position + len).max(0) } else { (*position).min(len) } as usize;
                    items.splice(at..at, added);
                }
                _ => items.extend(added),
            }
            Ok(true)
        }
        Action::Pop { first } => {
            let Some(mut slot) = find_if_exists(doc, locator) else { return Ok(false) };
            match slot.value_mut() {
                None => Ok(false),
                Some(Node::Array(items)) if items.is_empty() => Ok(false),
                Some(Node::Array(items)) => {
                    if *first {
                        items.remove(0);
                    } else {
                        items.pop();
                    }
                    Ok(true)
                }
                Some(other) => Err(target_error("$pop", "Array", path, other)),
            }
        }
        Action::AddToSet { value, each } => {
            let mut slot = find_or_create(doc, locator)?;
            if slot.value().is_none() {
                slot.replace(Node::Array(Vec::new()));
            }
            let Some(target) = slot.value_mut() else { return Ok(false) };
            let Node::Array(items) = target else { return Err(target_error("$addToSet", "Array", path, target)) };
            let candidates: Vec<&Node<'a>> = if *each { value.as_array().unwrap_or_default().iter().collect() } else { vec![*value] };
            let mut modified = false;
            for candidate in candidates {
                if !items.iter().any(|item| equals_ordered(item, candidate)) {
                    items.push(candidate.clone());
                    modified = true;
                }
            }
            Ok(modified)
        }
        Action::Rename(to) => {
            let Some(mut source) = find_if_exists(doc, locator) else { return Ok(false) };
            let from_array = source.in_array();
            let Some(value) = source.remove() else { return Ok(false) };
            if from_array {
                return Err(problem(UpdateProblem::Path, format!("$rename does not allow Array field as source ('{path}')")));
            }
            let mut target = find_or_create(doc, to)?;
            if target.in_array() {
                return Err(problem(UpdateProblem::Path, format!("$rename does not allow Array field as destination ('{}')", to.path)));
            }
            target.replace(value);
            Ok(true)
        }
        Action::CurrentDate => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
            let value = Node::Object(vec![(JsonStr::from_value("$date"), number(now.to_string()))]);
            let mut slot = find_or_create(doc, locator)?;
            if slot.value().is_some_and(|old| equals_ordered(old, &value)) {
                return Ok(false);
            }
            slot.replace(value);
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn update(doc: &str, clause: &str) -> Result<(String, bool), String> {
        let clause = parse(clause, 100).unwrap();
        let clause = UpdateClause::parse(Some(&clause)).map_err(|e| e.code().to_owned())?;
        let mut doc = parse(doc, 100).unwrap();
        let modified = clause.apply(&mut doc, false).map_err(|e| e.code().to_owned())?;
        Ok((doc.to_json(), modified))
    }

    #[test]
    fn operators_apply_like_the_data_api() {
        let ok = |doc: &str, clause: &str| update(doc, clause).unwrap();
        assert_eq!(ok(r#"{"a":1}"#, r#"{"$set":{"b.c":2,"a":1}}"#), (r#"{"a":1,"b":{"c":2}}"#.into(), true));
        assert!(!ok(r#"{"a":1}"#, r#"{"$set":{"a":1}}"#).1);
        assert_eq!(ok(r#"{"a":1,"b":2}"#, r#"{"$unset":{"b":1,"x":1}}"#).0, r#"{"a":1}"#);
        assert_eq!(ok(r#"{"n":5,"f":1.5}"#, r#"{"$inc":{"n":2,"f":1,"new":3}}"#).0, r#"{"n":7,"f":2.5,"new":3}"#);
        assert!(!ok(r#"{"n":5}"#, r#"{"$inc":{"n":0}}"#).1);
        assert_eq!(ok(r#"{"n":5,"z":0}"#, r#"{"$mul":{"n":2,"z":7,"m":3}}"#).0, r#"{"n":10,"z":0,"m":0}"#);
        assert_eq!(ok(r#"{"n":5,"s":"b"}"#, r#"{"$min":{"n":3,"s":"c"},"$max":{"x":1}}"#).0, r#"{"n":3,"s":"b","x":1}"#);
        assert_eq!(ok(r#"{"t":[1]}"#, r#"{"$push":{"t":2,"u":{"$each":[1,2],"$position":0}}}"#).0, r#"{"t":[1,2],"u":[1,2]}"#);
        assert_eq!(ok(r#"{"t":[1,4]}"#, r#"{"$push":{"t":{"$each":[2,3],"$position":-1}}}"#).0, r#"{"t":[1,2,3,4]}"#);
        assert_eq!(ok(r#"{"t":[1,2,3]}"#, r#"{"$pop":{"t":-1}}"#).0, r#"{"t":[2,3]}"#);
        assert_eq!(ok(r#"{"t":[1,2]}"#, r#"{"$addToSet":{"t":{"$each":[2,3]}}}"#).0, r#"{"t":[1,2,3]}"#);
        assert!(!ok(r#"{"t":[1]}"#, r#"{"$addToSet":{"t":1}}"#).1);
        assert_eq!(ok(r#"{"a":{"b":1}}"#, r#"{"$rename":{"a.b":"c"}}"#).0, r#"{"a":{},"c":1}"#);
        assert_eq!(ok(r#"{"t":[0]}"#, r#"{"$set":{"t.2":5,"price&.usd":1}}"#).0, r#"{"t":[0,null,5],"price.usd":1}"#);
        assert!(ok("{}", r#"{"$currentDate":{"d":true}}"#).0.starts_with(r#"{"d":{"$date":"#));
    }

    #[test]
    fn bad_clauses_are_refused_like_the_data_api() {
        for (clause, code) in [
            (r#"{"set":{"a":1}}"#, "UNSUPPORTED_UPDATE_OPERATION"),
            (r#"{"$foo":{"a":1}}"#, "UNSUPPORTED_UPDATE_OPERATION"),
            (r#"{"$pullAll":{"a":[1]}}"#, "UNSUPPORTED_UPDATE_OPERATION"),
            (r#"{"$set":5}"#, "UNSUPPORTED_UPDATE_DATA_TYPE"),
            (r#"{"$set":{"_id":1}}"#, "UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID"),
            (r#"{"$inc":{"a":"x"}}"#, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
            (r#"{"$inc":{"$each":1}}"#, "UNSUPPORTED_UPDATE_OPERATION_MODIFIER"),
            (r#"{"$set":{"root.array.1":13},"$unset":{"root.array":1}}"#, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
            (r#"{"$set":{"a":1},"$unset":{"a":1}}"#, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
            (r#"{"$set":{"price&usd":1}}"#, "UNSUPPORTED_UPDATE_OPERATION_PATH"),
            (r#"{"$push":{"a":{"$each":[1],"$slice":1}}}"#, "UNSUPPORTED_UPDATE_OPERATION_MODIFIER"),
            (r#"{"$pop":{"a":2}}"#, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
            (r#"{"$rename":{"a":"a"}}"#, "UNSUPPORTED_UPDATE_OPERATION_PATH"),
            (r#"{"$currentDate":{"a":false}}"#, "UNSUPPORTED_UPDATE_OPERATION_PARAM"),
        ] {
            assert_eq!(update("{}", clause).unwrap_err(), code, "{clause}");
        }
        assert_eq!(update(r#"{"a":"x"}"#, r#"{"$inc":{"a":1}}"#).unwrap_err(), "UNSUPPORTED_UPDATE_OPERATION_TARGET");
        assert_eq!(update(r#"{"a":1}"#, r#"{"$push":{"a":1}}"#).unwrap_err(), "UNSUPPORTED_UPDATE_OPERATION_TARGET");
        assert_eq!(update(r#"{"a":[1]}"#, r#"{"$set":{"a.b":1}}"#).unwrap_err(), "UNSUPPORTED_UPDATE_OPERATION_PATH");
    }
}
