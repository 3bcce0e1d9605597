//! The sample dataset of `make run` converts as its generator promises: exactly the
//! documents it marks as refused are rejected (each with a reason), and every other one
//! becomes Data API JSON that decodes back to its source values, the same from the raw BSON
//! the copy reads as from the document.

use crate::common::convert::equivalent_document;
use engine::convert::{document_from_json, Converter};
use engine::policy::{ConversionPolicy, Indexing};
use engine::sample::{documents, refused_count, scaled_collections};
use std::collections::HashSet;

#[test]
fn sample_documents_convert_or_are_refused_as_promised() {
    let policy = ConversionPolicy::default();
    let converter = Converter::new(policy, &Indexing::default()).unwrap();
    for spec in scaled_collections(10_000) {
        let mut rejected = 0;
        let mut ids = HashSet::new();
        for doc in documents(&spec) {
            let raw = bson::RawDocumentBuf::from_document(&doc).unwrap();
            match converter.convert(&doc) {
                Ok(c) => {
                    // The copy converts the raw BSON, to the same JSON.
                    assert_eq!(converter.convert_raw(&raw).as_ref(), Some(&c));
                    assert!(ids.insert(c.id_key().to_owned()), "duplicate id {}", c.id_key());
                    let back = document_from_json(c.json()).unwrap();
                    assert!(equivalent_document(&doc, &back, &policy, true), "{}", c.json());
                }
                Err(r) => {
                    assert_eq!(converter.convert_raw(&raw), None);
                    assert!(!r.violations.is_empty());
                    assert!(r.id_key.is_some(), "{r}");
                    rejected += 1;
                }
            }
        }
        assert_eq!(rejected, refused_count(spec.name, spec.count), "{}", spec.name);
    }
}
