//! The compatibility census: converts a collection's documents (without writing them) and
//! counts, by reason, those Astra would refuse as they are, with an example of each, and
//! suggests the `indexing.deny` paths that would let in the documents refused only for
//! limits that apply to indexed paths.

use crate::{
    convert::{Converter, Violation},
    policy::{ConversionPolicy, Indexing},
    wire::{Census, CensusReason},
};
use bson::{doc, Document};
use futures::TryStreamExt;
use std::collections::{BTreeSet, HashMap};

/// Counts, per reason, the documents of `collection` (at most `limit` of them, in `_id`
/// order) that the default policies would refuse.
pub async fn census(collection: &mongodb::Collection<Document>, limit: u64) -> mongodb::error::Result<Census> {
    let total = collection.estimated_document_count().await?;
    let strict = Converter::new(ConversionPolicy::default(), &Indexing::default()).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut cursor = collection.find(doc! {}).sort(doc! { "_id": 1 }).limit(limit as i64).await?;
    let mut tally = Tally::default();
    let mut rejected: Vec<Document> = Vec::new();
    while let Some(document) = cursor.try_next().await? {
        tally.scanned += 1;
        match strict.convert(&document) {
            Ok(_) => tally.convertible += 1,
            Err(rejection) => {
                let id = rejection.id_key.clone().unwrap_or_else(|| "(no _id)".into());
                let mut seen = BTreeSet::new();
                for violation in &rejection.violations {
                    let reason = violation.kind.reason();
                    if seen.insert(reason.clone()) {
                        tally.count(reason.into_owned(), violation, &id);
                    }
                    if violation.kind.lifted_by_indexing_deny() && !violation.path.is_empty() {
                        tally.deny.insert(violation.path.clone());
                    }
                }
                if rejection.violations.iter().all(|v| v.kind.lifted_by_indexing_deny()) && rejected.len() < 10_000 {
                    rejected.push(document);
                }
            }
        }
    }
    let suggested_deny: Vec<String> = minimal_paths(&tally.deny);
    let fixed_by_deny = if suggested_deny.is_empty() {
        0
    } else {
        let indexing = Indexing { allow: None, deny: Some(suggested_deny.clone()) };
        match Converter::new(ConversionPolicy::default(), &indexing) {
            Ok(lenient) => rejected.iter().filter(|d| lenient.convert(d).is_ok()).count() as u64,
            Err(_) => 0,
        }
    };
    let mut reasons: Vec<CensusReason> = tally.reasons.into_values().collect();
    reasons.sort_by(|a, b| b.documents.cmp(&a.documents).then(a.reason.cmp(&b.reason)));
    Ok(Census { scanned: tally.scanned, total, convertible: tally.convertible, reasons, suggested_deny, fixed_by_deny })
}

#[derive(Default)]
struct Tally {
    scanned: u64,
    convertible: u64,
    reasons: HashMap<String, CensusReason>,
    deny: BTreeSet<String>,
}

impl Tally {
    fn count(&mut self, reason: String, violation: &Violation, id: &str) {
        self.reasons
            .entry(reason)
            .or_insert_with_key(|reason| CensusReason {
                reason: reason.clone(),
                code: violation.code().to_string(),
                documents: 0,
                example_id: id.to_owned(),
                example_path: violation.path.clone(),
            })
            .documents += 1;
    }
}

/// The paths with none of their ancestors also in the set (denying `a` covers `a.b`).
fn minimal_paths(paths: &BTreeSet<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for path in paths {
        if !kept.iter().any(|k| path.starts_with(&format!("{k}."))) {
            kept.push(path.clone());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_suggestions_keep_only_the_outermost_paths() {
        let paths: BTreeSet<String> = ["a", "a.b", "c.d", "c.e.f"].into_iter().map(String::from).collect();
        assert_eq!(minimal_paths(&paths), ["a", "c.d", "c.e.f"]);
    }
}
