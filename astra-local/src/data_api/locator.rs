//! Where an update path leads in a document (stargate/data-api's `PathMatchLocator` and
//! `PathMatch`): [`Locator`] is a checked `&`-escaped path, [`find_or_create`] walks to its slot
//! creating missing objects (and padding arrays with `null` up to an index), [`find_if_exists`]
//! walks without changing anything. Also the real `JsonUtil.equalsOrdered`, which decides
//! whether an update changed a value.

use super::errors::{ApiError, UpdateProblem};
use super::path;
use crate::decimal::JavaDecimal;
use crate::json::{array_index, JsonStr, Node};

/// A path an action applies to (`PathMatchLocator`).
#[derive(Debug, Clone)]
pub(crate) struct Locator {
    pub(crate) path: String,
    pub(crate) segments: Vec<String>,
}

impl Locator {
    pub(crate) fn new(path: &str) -> Result<Locator, ApiError> {
        let segments = path::decode(path).map_err(|problem| {
            ApiError::unsupported_update(UpdateProblem::Path, &format!("update path ('{path}') is not valid: {problem}"))
        })?;
        Ok(Locator { path: path.to_owned(), segments })
    }
}

/// Where a path ends: the object field or array slot it names (`PathMatch`).
pub(crate) enum Slot<'d, 'x> {
    Field(&'d mut Vec<(JsonStr<'x>, Node<'x>)>, String),
    Element(&'d mut Vec<Node<'x>>, usize),
}

impl<'x> Slot<'_, 'x> {
    pub(crate) fn value(&self) -> Option<&Node<'x>> {
        match self {
            Slot::Field(entries, key) => entries.iter().find(|(k, _)| k.value == key.as_str()).map(|(_, v)| v),
            Slot::Element(items, index) => items.get(*index),
        }
    }

    pub(crate) fn value_mut(&mut self) -> Option<&mut Node<'x>> {
        match self {
            Slot::Field(entries, key) => entries.iter_mut().find(|(k, _)| k.value == key.as_str()).map(|(_, v)| v),
            Slot::Element(items, index) => items.get_mut(*index),
        }
    }

    pub(crate) fn replace(&mut self, value: Node<'x>) {
        match self {
            Slot::Field(entries, key) => match entries.iter_mut().find(|(k, _)| k.value == key.as_str()) {
                Some((_, slot)) => *slot = value,
                None => entries.push((JsonStr::from_value(key), value)),
            },
            Slot::Element(items, index) => {
                while items.len() <= *index {
                    items.push(Node::Null);
                }
                items[*index] = value;
            }
        }
    }

    /// Removes the value (an array element becomes `null`); returns it.
    pub(crate) fn remove(&mut self) -> Option<Node<'x>> {
        match self {
            Slot::Field(entries, key) => {
                let position = entries.iter().position(|(k, _)| k.value == key.as_str())?;
                Some(entries.remove(position).1)
            }
            Slot::Element(items, index) => items.get_mut(*index).map(|slot| std::mem::replace(slot, Node::Null)),
        }
    }

    pub(crate) fn in_array(&self) -> bool {
        matches!(self, Slot::Element(..))
    }
}

fn cannot_create(segment: &str, path: &str, node: &Node<'_>) -> ApiError {
    ApiError::unsupported_update(
        UpdateProblem::Path,
        &format!("cannot create field ('{segment}') in path '{path}'; only Object nodes have properties (got {})", node.type_name()),
    )
}

/// `findOrCreate`: walks to the slot, creating missing objects on the way.
pub(crate) fn find_or_create<'d, 'x>(doc: &'d mut Node<'x>, locator: &Locator) -> Result<Slot<'d, 'x>, ApiError> {
    let Some((last, branches)) = locator.segments.split_last() else {
        return Err(cannot_create("", &locator.path, doc));
    };
    let mut node = doc;
    for segment in branches {
        node = match node {
            Node::Object(entries) => {
                let index = match entries.iter().position(|(k, _)| k.value == segment.as_str()) {
                    Some(index) => index,
                    None => {
                        entries.push((JsonStr::from_value(segment), Node::Object(Vec::new())));
                        entries.len() - 1
                    }
                };
                &mut entries[index].1
            }
            Node::Array(items) => {
                let Some(index) = array_index(segment) else {
                    return Err(cannot_create(segment, &locator.path, &Node::Array(Vec::new())));
                };
                if index >= items.len() {
                    while items.len() < index {
                        items.push(Node::Null);
                    }
                    items.push(Node::Object(Vec::new()));
                }
                &mut items[index]
            }
            other => return Err(cannot_create(segment, &locator.path, other)),
        };
    }
    match node {
        Node::Object(entries) => Ok(Slot::Field(entries, last.clone())),
        Node::Array(items) => match array_index(last) {
            Some(index) => Ok(Slot::Element(items, index)),
            None => Err(cannot_create(last, &locator.path, &Node::Array(Vec::new()))),
        },
        other => Err(cannot_create(last, &locator.path, other)),
    }
}

/// `findIfExists`: the slot if the path leads to one (its value may still be missing).
pub(crate) fn find_if_exists<'d, 'x>(doc: &'d mut Node<'x>, locator: &Locator) -> Option<Slot<'d, 'x>> {
    let (last, branches) = locator.segments.split_last()?;
    let mut node = doc;
    for segment in branches {
        node = match node {
            Node::Object(entries) => entries.iter_mut().find(|(k, _)| k.value == segment.as_str()).map(|(_, v)| v)?,
            Node::Array(items) => items.get_mut(array_index(segment)?)?,
            _ => return None,
        };
    }
    match node {
        Node::Object(entries) => Some(Slot::Field(entries, last.clone())),
        Node::Array(items) => Some(Slot::Element(items, array_index(last)?)),
        _ => None,
    }
}

/// `JsonUtil.equalsOrdered`: deep equality with field order; integers and decimals differ
/// (`1` is not `1.0`), as Jackson's number nodes do.
pub(crate) fn equals_ordered(a: &Node<'_>, b: &Node<'_>) -> bool {
    match (a, b) {
        (Node::Null, Node::Null) => true,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::String(x), Node::String(y)) => x.value == y.value,
        (Node::Number(x), Node::Number(y)) => match (JavaDecimal::parse(x), JavaDecimal::parse(y)) {
            (Some(a), Some(b)) if a.is_floating() && b.is_floating() => a.same_representation(&b),
            (Some(a), Some(b)) if !a.is_floating() && !b.is_floating() => crate::json::Decimal::parse(x) == crate::json::Decimal::parse(y),
            _ => false,
        },
        (Node::Array(x), Node::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equals_ordered(a, b)),
        (Node::Object(x), Node::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka.value == kb.value && equals_ordered(va, vb))
        }
        _ => false,
    }
}

/// Sets `path` to `value` in a new upsert document, as the real `SetOperation` built from an
/// equality filter does (the path is not checked against `_id`).
pub(crate) fn set_path<'x>(doc: &mut Node<'x>, path: &str, value: Node<'x>) -> Result<(), ApiError> {
    let locator = Locator::new(path)?;
    find_or_create(doc, &locator)?.replace(value);
    Ok(())
}
