//! Property tests: a random BSON document either converts to JSON that decodes back to the
//! same values, or is rejected with a reason, and which of the two happens is predicted by
//! an independent, simple reading of the rules.

use bson::{Bson, Document};
use crate::common::convert::{any_document, clean_document, equivalent_document, expected_rejection, permissive_policy, valid_id};
use engine::convert::{content_hash, document_from_json, id_key_from_json, Converter, ViolationCode};
use engine::policy::{ConversionPolicy, Indexing};
use proptest::prelude::*;

fn converter(policy: ConversionPolicy) -> Converter {
    Converter::new(policy, &Indexing::default()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Documents with only Data API–expressible values always convert, and round-trip.
    #[test]
    fn clean_documents_convert_and_round_trip(doc in clean_document()) {
        let policy = ConversionPolicy::default();
        let c = converter(policy).convert(&doc).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert!(c.adjustments().is_empty());
        let back = document_from_json(c.json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(equivalent_document(&doc, &back, &policy, true), "{}\n{:?}\n{:?}", c.json(), doc, back);
        // Converting the decoded document gives a document with the same content hash.
        let again = converter(policy).convert(&back).map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(again.content_hash(), c.content_hash());
        prop_assert_eq!(content_hash(c.json()).unwrap(), c.content_hash());
        prop_assert_eq!(again.id_key(), c.id_key());
        prop_assert_eq!(id_key_from_json(c.id_json()).unwrap(), c.id_key());
        // And the JSON is JSON.
        let _: Box<serde_json::value::RawValue> = serde_json::from_str(c.json()).unwrap();
    }

    /// Under the default policy a document is rejected exactly when it holds something the
    /// Data API cannot store faithfully; otherwise it round-trips.
    #[test]
    fn default_policy_converts_faithfully_or_rejects_with_reasons(doc in any_document()) {
        let policy = ConversionPolicy::default();
        let expected = expected_rejection(&doc);
        match converter(policy).convert(&doc) {
            Ok(c) => {
                prop_assert!(expected.is_none(), "accepted but expected a rejection for {:?}: {}", expected, c.json());
                let back = document_from_json(c.json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(equivalent_document(&doc, &back, &policy, true), "{}\n{:?}\n{:?}", c.json(), doc, back);
            }
            Err(r) => {
                prop_assert!(expected.is_some(), "rejected without cause: {}", r);
                prop_assert!(!r.violations.is_empty());
                for v in &r.violations {
                    prop_assert!(!v.message.is_empty());
                }
                prop_assert!(r.has(expected.unwrap()), "expected {:?} in {}", expected, r);
            }
        }
    }

    /// Under the permissive policies everything converts except what is too deep or a
    /// colliding rename, and the tagged forms decode back to the original types.
    #[test]
    fn permissive_policy_keeps_values_recoverable(doc in any_document()) {
        let policy = permissive_policy();
        match converter(policy).convert(&doc) {
            Ok(c) => {
                let back = document_from_json(c.json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(equivalent_document(&doc, &back, &policy, true), "{}\n{:?}\n{:?}", c.json(), doc, back);
            }
            Err(r) => {
                for v in &r.violations {
                    prop_assert!(
                        matches!(v.code(), ViolationCode::ShredDocLimitViolation | ViolationCode::ShredBadFieldName | ViolationCode::MissingDocumentId),
                        "{}", r
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The copy's walk over raw BSON writes exactly what the `Document` walk writes, and
    /// leaves a document to that walk only for the reasons `convert/raw.rs` gives: a
    /// rejection, a value with no JSON form, an `_id` the Data API does not take as it is.
    #[test]
    fn raw_bson_converts_as_its_document_does(doc in any_document()) {
        // A regex holding a NUL byte has no BSON form: no server sends one.
        let raw = bson::RawDocumentBuf::from_document(&doc);
        prop_assume!(raw.is_ok());
        let raw = raw.unwrap();
        for policy in [ConversionPolicy::default(), permissive_policy()] {
            let converter = converter(policy);
            let whole = converter.convert(&doc);
            let left = whole.is_err() || has_value_without_json_form(&doc) || !doc.get("_id").is_some_and(valid_id);
            match converter.convert_raw(&raw) {
                Some(fast) => {
                    prop_assert!(!left, "the raw walk took a document it should leave: {:?}", doc);
                    prop_assert_eq!(Ok(fast), whole);
                }
                None => prop_assert!(left, "the raw walk left {:?}, which converts to {:?}", doc, whole),
            }
        }
    }
}

/// Whether a value anywhere in `doc` has no Data API form (the unsupported-value policy).
fn has_value_without_json_form(doc: &Document) -> bool {
    fn has(value: &Bson) -> bool {
        match value {
            Bson::Document(doc) => has_value_without_json_form(doc),
            Bson::Array(items) => items.iter().any(has),
            Bson::Timestamp(_)
            | Bson::RegularExpression(_)
            | Bson::JavaScriptCode(_)
            | Bson::JavaScriptCodeWithScope(_)
            | Bson::Symbol(_)
            | Bson::DbPointer(_)
            | Bson::MinKey
            | Bson::MaxKey
            | Bson::Undefined => true,
            _ => false,
        }
    }
    doc.values().any(has)
}

#[test]
fn oracle_sanity() {
    let doc: Document = bson::doc! { "_id": 1, "a": Bson::MinKey };
    assert_eq!(expected_rejection(&doc), Some(ViolationCode::UnsupportedBsonValue));
}
