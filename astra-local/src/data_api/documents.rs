//! Stored documents as commands see them: parsed, matched against a filter (on their indexed
//! part where the collection does not index everything) and written through a projection. A
//! leaf that [`super::find`], [`super::vsearch`] and the writes share.

use super::filter::Filter;
use super::projection::Projection;
use crate::json::{self, Node};

/// A stored body parsed (astra-local stored it as JSON, so this fails only if it was damaged).
pub(crate) fn parse_doc(body: &str) -> Option<Node<'_>> {
    json::parse(body, usize::MAX).ok()
}

/// Whether a stored document matches `filter`; with `view` (see
/// [`Projection::for_indexing`]) only its indexed part is looked at.
pub(crate) fn matches(filter: &Filter<'_>, view: Option<&Projection>, body: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let Some(doc) = parse_doc(body) else { return false };
    match view {
        None => filter.matches(&doc),
        Some(view) => {
            let mut indexed = String::with_capacity(body.len());
            view.write(&doc, &mut indexed);
            parse_doc(&indexed).is_some_and(|d| filter.matches(&d))
        }
    }
}

/// `body` through `projection` into `out` (as it is when the projection keeps it whole).
pub(crate) fn write_document(body: &str, projection: &Projection, out: &mut String) {
    if projection.keeps_unchanged(body) {
        out.push_str(body);
        return;
    }
    match parse_doc(body) {
        Some(doc) => projection.write(&doc, out),
        None => out.push_str(body),
    }
}

