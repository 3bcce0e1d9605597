//! The compatibility census: converts a collection's documents (without writing them) and
//! counts, by reason, those Astra would refuse as they are, with an example of each, and
//! suggests the `indexing.deny` paths that would let in the documents refused only for
//! limits that apply to indexed paths. It also finds the fields that look like embeddings
//! (arrays of numbers, BSON binary vectors), for a vector mapping.
//!
//! [`census`] reads from MongoDB; [`CensusBuilder`] is the same count over documents the
//! caller already has.

use crate::{
    convert::{Converter, Violation},
    policy::{ConversionPolicy, Indexing},
    wire::{Census, CensusReason, VectorCandidate, VectorSource},
};
use bson::{doc, spec::BinarySubtype, Bson, Document};
use futures::TryStreamExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Counts, per reason, the documents of `collection` (at most `limit` of them, in `_id`
/// order) that the default policies would refuse.
pub async fn census(collection: &mongodb::Collection<Document>, limit: u64) -> mongodb::error::Result<Census> {
    let total = collection.estimated_document_count().await?;
    let mut builder = CensusBuilder::new();
    let mut cursor = collection.find(doc! {}).sort(doc! { "_id": 1 }).limit(limit as i64).await?;
    while let Some(document) = cursor.try_next().await? {
        builder.add(document);
    }
    Ok(builder.finish(total))
}

/// The census of documents handed in one by one.
pub struct CensusBuilder {
    strict: Converter,
    tally: Tally,
    /// Refused documents that a deny list might let in (at most 10,000 kept).
    rejected: Vec<Document>,
    vectors: VectorScan,
}

impl Default for CensusBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CensusBuilder {
    /// An empty census, with the default (strict) policies.
    pub fn new() -> Self {
        Self {
            strict: Converter::new(ConversionPolicy::default(), &Indexing::default())
                .unwrap_or_else(|_| unreachable!("the default indexing names neither allow nor deny")),
            tally: Tally::default(),
            rejected: Vec::new(),
            vectors: VectorScan::default(),
        }
    }

    /// Counts one document.
    pub fn add(&mut self, document: Document) {
        let tally = &mut self.tally;
        tally.scanned += 1;
        self.vectors.scan(&document);
        match self.strict.convert(&document) {
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
                if rejection.violations.iter().all(|v| v.kind.lifted_by_indexing_deny()) && self.rejected.len() < 10_000 {
                    self.rejected.push(document);
                }
            }
        }
    }

    /// The census; `total` is the collection's size (more than scanned when it stopped early).
    pub fn finish(self, total: u64) -> Census {
        let tally = self.tally;
        let suggested_deny: Vec<String> = minimal_paths(&tally.deny);
        let fixed_by_deny = if suggested_deny.is_empty() {
            0
        } else {
            let indexing = Indexing { allow: None, deny: Some(suggested_deny.clone()) };
            match Converter::new(ConversionPolicy::default(), &indexing) {
                Ok(lenient) => self.rejected.iter().filter(|d| lenient.convert(d).is_ok()).count() as u64,
                Err(_) => 0,
            }
        };
        let mut reasons: Vec<CensusReason> = tally.reasons.into_values().collect();
        reasons.sort_by(|a, b| b.documents.cmp(&a.documents).then(a.reason.cmp(&b.reason)));
        Census {
            scanned: tally.scanned,
            total,
            convertible: tally.convertible,
            reasons,
            suggested_deny,
            fixed_by_deny,
            vector_candidates: self.vectors.candidates(),
        }
    }
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

/// Arrays of numbers shorter than this are not taken for embeddings (coordinates, RGB
/// colours, small histograms); the smallest common embedding models have 128 or more.
pub const MIN_CANDIDATE_DIMENSION: usize = 16;

/// How deep into nested objects candidates are looked for (1 = top-level fields only).
const CANDIDATE_DEPTH: usize = 3;

/// At most this many candidate paths are tracked, so that odd documents cannot grow the
/// census without bound.
const MAX_CANDIDATE_PATHS: usize = 64;

/// Where vectors were seen, and how long they were.
#[derive(Default)]
struct VectorScan {
    paths: BTreeMap<String, PathVectors>,
}

#[derive(Default)]
struct PathVectors {
    documents: u64,
    /// Documents per vector length.
    lengths: BTreeMap<usize, u64>,
    sources: BTreeSet<VectorSource>,
}

impl VectorScan {
    fn scan(&mut self, doc: &Document) {
        self.object(doc, String::new(), 1);
    }

    fn object(&mut self, doc: &Document, prefix: String, depth: usize) {
        for (key, value) in doc {
            if depth == 1 && key == "_id" {
                continue;
            }
            let mut path = prefix.clone();
            for c in key.chars() {
                // The Data API's path escaping: a literal `.` or `&` gets an `&` before it.
                if c == '.' || c == '&' {
                    path.push('&');
                }
                path.push(c);
            }
            match value {
                Bson::Array(items) if items.len() >= MIN_CANDIDATE_DIMENSION && items.iter().all(is_number) => {
                    self.record(path, VectorSource::Array, items.len());
                }
                Bson::Binary(bin) if bin.subtype == BinarySubtype::Vector => {
                    if let Some((source, len)) = bson_vector_shape(&bin.bytes) {
                        self.record(path, source, len);
                    }
                }
                Bson::Document(inner) if depth < CANDIDATE_DEPTH => {
                    path.push('.');
                    self.object(inner, path, depth + 1);
                }
                _ => {}
            }
        }
    }

    fn record(&mut self, path: String, source: VectorSource, len: usize) {
        if !self.paths.contains_key(&path) && self.paths.len() >= MAX_CANDIDATE_PATHS {
            return;
        }
        let seen = self.paths.entry(path).or_default();
        seen.documents += 1;
        *seen.lengths.entry(len).or_default() += 1;
        seen.sources.insert(source);
    }

    /// The candidates, most widespread first.
    fn candidates(self) -> Vec<VectorCandidate> {
        let mut out: Vec<VectorCandidate> = self
            .paths
            .into_iter()
            .map(|(field, seen)| {
                // The most common length; the longer one on a tie.
                let dimension = seen
                    .lengths
                    .iter()
                    .max_by_key(|(len, count)| (**count, **len))
                    .map(|(len, _)| *len)
                    .unwrap_or_default();
                let source = match (seen.sources.len(), seen.sources.first()) {
                    (1, Some(only)) => *only,
                    _ => VectorSource::Mixed,
                };
                VectorCandidate { field, dimension, documents: seen.documents, same_dimension: seen.lengths.len() == 1, source }
            })
            .collect();
        out.sort_by(|a, b| b.documents.cmp(&a.documents).then(a.field.cmp(&b.field)));
        out
    }
}

fn is_number(value: &Bson) -> bool {
    match value {
        Bson::Double(d) => d.is_finite(),
        Bson::Int32(_) | Bson::Int64(_) => true,
        Bson::Decimal128(d) => crate::convert::is_finite_decimal128(d),
        _ => false,
    }
}

/// The data type and element count of a well-formed BSON binary vector.
fn bson_vector_shape(bytes: &[u8]) -> Option<(VectorSource, usize)> {
    let source = match bytes.first()? {
        0x27 => VectorSource::Float32,
        0x03 => VectorSource::Int8,
        0x10 => VectorSource::PackedBit,
        _ => return None,
    };
    let len = crate::convert::from_bson_vector(bytes).ok()?.len();
    Some((source, len))
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
    use bson::Binary;

    fn census_of(docs: Vec<Document>) -> Census {
        let mut builder = CensusBuilder::new();
        let n = docs.len() as u64;
        docs.into_iter().for_each(|d| builder.add(d));
        builder.finish(n)
    }

    #[test]
    fn embeddings_are_proposed_with_their_dimension() {
        let embedding = |seed: i32, len: usize| (0..len).map(|i| Bson::Double(f64::from(seed) * 0.001 + i as f64 * 0.01)).collect::<Vec<_>>();
        let docs: Vec<Document> = (0..5)
            .map(|i| doc! {
                "_id": i,
                "title": "t",
                "point": [1.0, 2.0],
                "meta": { "emb": embedding(i, 24) },
                "scores": (0..20).map(Bson::Int32).collect::<Vec<_>>(),
                "ragged": embedding(i, 16 + i as usize),
            })
            .collect();
        let found = census_of(docs);
        let by_field = |f: &str| found.vector_candidates.iter().find(|c| c.field == f).cloned();
        let emb = by_field("meta.emb").unwrap();
        assert_eq!((emb.dimension, emb.documents, emb.same_dimension, emb.source), (24, 5, true, VectorSource::Array));
        let ragged = by_field("ragged").unwrap();
        assert!(!ragged.same_dimension);
        assert_eq!(ragged.dimension, 20, "the longest of equally common lengths");
        assert!(by_field("point").is_none(), "two numbers are no embedding");
        let proposed = found.proposed_vector_mapping().unwrap();
        assert_eq!((proposed.field.as_str(), proposed.dimension), ("meta.emb", 24));
    }

    #[test]
    fn bson_vectors_are_candidates_and_refused_unmapped() {
        let vector = |len: usize| Binary::from(bson::binary::Vector::Float32(vec![0.5; len]));
        let docs: Vec<Document> = (0..3).map(|i| doc! { "_id": i, "v": vector(8) }).collect();
        let found = census_of(docs);
        assert_eq!(found.vector_candidates.len(), 1);
        let v = &found.vector_candidates[0];
        assert_eq!((v.field.as_str(), v.dimension, v.documents, v.source), ("v", 8, 3, VectorSource::Float32));
        // Without a mapping a vector binary is a special subtype, refused by default.
        assert_eq!(found.convertible, 0);
        assert_eq!(found.reasons[0].reason, "binary subtype 0x09 (vector)");
        assert_eq!(found.reasons[0].documents, 3);
    }

    #[test]
    fn special_binaries_are_counted_by_subtype() {
        let bin = |subtype: u8| Binary { subtype: subtype.into(), bytes: vec![1, 2, 3] };
        let found = census_of(vec![
            doc! { "_id": 1, "b": bin(0x80) },
            doc! { "_id": 2, "b": bin(0x80), "c": bin(0x05) },
            doc! { "_id": 3, "b": bin(0x00), "c": bin(0x02) },
        ]);
        assert_eq!(found.convertible, 1);
        let reasons: Vec<(&str, u64, &str)> = found.reasons.iter().map(|r| (r.reason.as_str(), r.documents, r.code.as_str())).collect();
        assert_eq!(
            reasons,
            [("binary subtype 0x80 (user-defined)", 2, "UNSUPPORTED_BSON_VALUE"), ("binary subtype 0x05 (MD5)", 1, "UNSUPPORTED_BSON_VALUE")]
        );
    }

    #[test]
    fn deny_suggestions_keep_only_the_outermost_paths() {
        let paths: BTreeSet<String> = ["a", "a.b", "c.d", "c.e.f"].into_iter().map(String::from).collect();
        assert_eq!(minimal_paths(&paths), ["a", "c.d", "c.e.f"]);
    }
}
