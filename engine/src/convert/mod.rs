//! BSON to Data API JSON: conversion, per-job policies and validation against Astra's limits.
//!
//! [`Converter::convert`] writes a `bson::Document` as the JSON text the Data API stores
//! (the table below; `docs/type-mapping.md` gives the reasons), in one pass that also checks
//! every naming rule and limit the Data API enforces (`docs/data-api.md`, "Documents",
//! mirrored from stargate/data-api's `DocumentShredder` and `DocumentLimitsConfig`).
//! A document ends either [`Converted`] — JSON ready for `insertMany`, its `_id` and a stable
//! id key — or a [`Rejection`] listing every [`Violation`] with its path and the Data API error
//! code it mirrors. The copy converts the raw BSON the source sent with
//! [`Converter::convert_raw`] (`raw.rs`: the same walk, without building a `Document`), and
//! turns to [`Converter::convert`] for the documents that walk leaves to it.
//! The per-job [`crate::policy::ConversionPolicy`] decides what happens to
//! values with no Data API form; by default they are rejected, never dropped or altered.
//! [`Converter::with_vector`] makes a field the collection's `$vector`.
//!
//! | BSON | Data API JSON |
//! |---|---|
//! | ObjectId | `{"$objectId":"<24 hex>"}` |
//! | DateTime | `{"$date":<epoch ms>}`, any year |
//! | Binary subtype 4, subtype 3 (16 bytes) | `{"$uuid":"<8-4-4-4-12>"}` (subtype 3 byte order: [`crate::policy::LegacyUuidPolicy`]) |
//! | Binary subtype 0 (generic), 2 (old binary), and 3/4 not written as `$uuid` | `{"$binary":"<base64>"}` |
//! | Binary subtype 1, 5–9, 10–127, 128–255 (function, MD5, encrypted, compressed column, sensitive, vector, reserved, user-defined) | [`crate::policy::BinarySubtypePolicy`]: rejected by default |
//! | the field of the [`VectorMapping`]: array of numbers, or Binary subtype 9 (float32, int8, packed bits) | top-level `"$vector":{"$binary":"<base64 of big-endian float32>"}` (`vector.rs`, `docs/vectors.md`) |
//! | Int32, Int64 | integer literal, exact |
//! | Double | shortest round-trip literal (`5.0`, `1e300`) |
//! | Decimal128 | its decimal string as a literal (`1.23E+5`) |
//! | String, Boolean, Null, Document, Array | the same JSON |
//! | NaN, ±Infinity | [`crate::policy::NonFinitePolicy`] |
//! | Timestamp, Regex, JavaScript, Symbol, DBPointer, MinKey, MaxKey, Undefined | [`crate::policy::UnsupportedValuePolicy`] |
//! | object/array/empty-string/... `_id` | [`crate::policy::DocumentIdPolicy`] |
//! | field named `$...`, empty or `*` | [`crate::policy::FieldNamePolicy`] |
//!
//! Decimal128 values beyond `f64`'s range (up to `9.99…E+6144`) are valid JSON numbers that
//! `serde_json::Value` cannot hold (the workspace must not enable `arbitrary_precision`): keep
//! converted documents, and any reply that echoes `_id`s, as text or `RawValue` — as
//! [`Converted::into_raw_value`], [`id_key_from_json`] and [`content_hash`] do.
//!
//! Known, documented losses even on success: subtype 2 (old binary) reads back as generic
//! binary, the same bytes; a UUID subtype (3/4) whose bytes are not 16 long, or subtype 3
//! under `LegacyUuidPolicy::AsBinary`, reads back as generic binary; under
//! `BinarySubtypePolicy::AsBinary` the subtype of the other binaries (listed in
//! [`Converted::adjustments`]); a mapped vector's numbers are rounded to float32, as Astra
//! stores them (also listed), and a BSON vector's data type (int8, packed bits) is not kept;
//! the sign of a double `-0.0` once Astra has parsed it (the JSON text keeps it); int32 vs
//! int64 vs double (the Data API has one number type).

mod binary;
mod canonical;
mod decimal;
mod decode;
mod encode;
mod extended_json;
mod id;
mod indexing;
mod json;
mod raw;
mod tagged;
mod vector;
mod violation;

pub use canonical::{content_hash, normalize_number, ContentHash};
pub use decode::{document_from_json, value_from_json, DecodeError};
pub use extended_json::{
    canonical_extended_json, document_from_extended_json, readable_id, relaxed_extended_json,
    ExtendedJsonError,
};
pub use id::{id_key_from_json, IdKeyError};
pub use vector::{vector_from_json, vector_length, FLOAT32_RELATIVE_TOLERANCE};
pub(crate) use decimal::is_finite as is_finite_decimal128;
pub(crate) use vector::from_bson_vector;
pub use violation::{Adjustment, AdjustmentKind, Violation, ViolationCode, ViolationKind};

use crate::policy::{ConversionPolicy, DocumentLimits, Indexing, VectorMapping, VectorMappingError};
use bson::{Document, RawDocument};
use indexing::IndexPaths;
use vector::VectorField;
use serde_json::value::RawValue;
use std::fmt;

/// A job's conversion settings that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConverterError {
    /// `indexing` has both `allow` and `deny`.
    #[error("the collection's indexing options name both allow and deny; the Data API accepts only one")]
    BothAllowAndDeny,
    /// The vector mapping names no field, `_id`, or a dimension Astra refuses.
    #[error("the vector mapping cannot be used: {0}")]
    Vector(#[from] VectorMappingError),
}

/// Converts one job's documents: holds its policies, the target collection's indexing options
/// and the limits. Cheap to share across threads (`&self` only).
#[derive(Debug, Clone)]
pub struct Converter {
    policy: ConversionPolicy,
    limits: DocumentLimits,
    paths: IndexPaths,
    vector: Option<VectorField>,
}

impl Converter {
    /// A converter for a collection created with `indexing` (use `Indexing::default()` when
    /// the collection indexes everything), with the Data API's default limits.
    pub fn new(policy: ConversionPolicy, indexing: &Indexing) -> Result<Self, ConverterError> {
        let paths = IndexPaths::new(indexing).map_err(|_| ConverterError::BothAllowAndDeny)?;
        Ok(Self {
            policy,
            limits: DocumentLimits::default(),
            paths,
            vector: None,
        })
    }

    /// The same converter for a vector collection: each document's mapped field becomes its
    /// `$vector` (see [`VectorMapping`] and `docs/vectors.md`).
    pub fn with_vector(mut self, mapping: VectorMapping) -> Result<Self, ConverterError> {
        self.vector = Some(VectorField::new(mapping)?);
        Ok(self)
    }

    /// The vector mapping in force, if any.
    pub fn vector_mapping(&self) -> Option<&VectorMapping> {
        self.vector.as_ref().map(|v| &v.mapping)
    }

    /// The document's source vector as the float32 numbers Astra will store (each source
    /// number rounded to the nearest float32), checked against the mapping: what the job keeps
    /// to compute exact nearest neighbours from the source. `None` without a vector mapping;
    /// the violation is the one [`Converter::convert`] reports under `DeadLetter`.
    pub fn source_vector(&self, doc: &Document) -> Option<Result<Vec<f32>, Violation>> {
        self.vector.as_ref().map(|v| v.source_vector(doc))
    }

    /// The same converter with other limits (tests; self-hosted Data API settings).
    pub fn with_limits(mut self, limits: DocumentLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The policies in force.
    pub fn policy(&self) -> &ConversionPolicy {
        &self.policy
    }

    /// The limits in force.
    pub fn limits(&self) -> &DocumentLimits {
        &self.limits
    }

    /// Converts and validates one document.
    pub fn convert(&self, doc: &Document) -> Result<Converted, Rejection> {
        let mut walk = encode::Walk::new(&self.policy, &self.limits, 1024);
        if let Some(vector) = &self.vector {
            walk.plan_vector(vector, doc);
        }
        let encoded = walk.document(doc, &self.paths);
        if !encoded.violations.is_empty() {
            return Err(self.rejection(doc, encoded.violations));
        }
        self.converted(encoded).map_err(|internal| self.rejection(doc, vec![internal]))
    }

    /// A walk's JSON without violations, with its `_id` key.
    fn converted(&self, encoded: encode::Encoded) -> Result<Converted, Violation> {
        // Unreachable errors: every byte written comes from a `&str` or is ASCII, and the
        // `_id` written is one `id_key_from_json` reads.
        let json = String::from_utf8(encoded.json).map_err(|_| internal_violation())?;
        let id_key = id_key_from_json(&json[encode::ID_START..encoded.id_end]).map_err(|_| internal_violation())?;
        Ok(Converted {
            id_end: encoded.id_end,
            json,
            id_key,
            adjustments: encoded.adjustments,
        })
    }

    /// [`Converter::convert`] of a document as the raw BSON the source sent, without building
    /// a `Document` where it can (see `raw.rs`): the same [`Converted`], or `None` where the
    /// document must go through [`Converter::convert`] (a rejection among them).
    pub fn convert_raw(&self, raw: &RawDocument) -> Option<Converted> {
        if self.vector.is_some() {
            return None;
        }
        let encoded = encode::Walk::new(&self.policy, &self.limits, raw.as_bytes().len() * 2).raw_document(raw, &self.paths).ok()?;
        if !encoded.violations.is_empty() {
            return None;
        }
        self.converted(encoded).ok()
    }

    fn rejection(&self, doc: &Document, violations: Vec<Violation>) -> Rejection {
        let id_rejected = violations.iter().any(|v| v.path == "_id");
        let id_key = doc.get("_id").map(|id| {
            if !id_rejected {
                let walk = encode::Walk::new(&self.policy, &self.limits, 64);
                let single = bson::doc! { "_id": id.clone() };
                let encoded = walk.document(&single, &self.paths);
                if let Ok(json) = std::str::from_utf8(&encoded.json[encode::ID_START..encoded.id_end]) {
                    if let Ok(key) = id_key_from_json(json) {
                        return key;
                    }
                }
            }
            encode::canonical_extjson(id)
        });
        Rejection { id_key, violations }
    }
}

fn internal_violation() -> Violation {
    Violation::new(String::new(), ViolationKind::Internal, "internal error: the converter produced invalid output".to_owned())
}

/// A document ready for the Data API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    json: String,
    id_end: usize,
    id_key: String,
    adjustments: Vec<Adjustment>,
}

impl Converted {
    /// The document as Data API JSON text, `_id` first, no whitespace.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The JSON text, owned.
    pub fn into_json(self) -> String {
        self.json
    }

    /// The JSON as a `RawValue` (which parses it again, to check it).
    pub fn into_raw_value(self) -> Result<Box<RawValue>, serde_json::Error> {
        RawValue::from_string(self.json)
    }

    /// The `_id` value as JSON text (`{"$objectId":"..."}`, `"abc"`, `42`, ...), as it will
    /// appear in the Data API's `documentResponses`.
    pub fn id_json(&self) -> &str {
        &self.json[encode::ID_START..self.id_end]
    }

    /// The `_id`'s stable string key (see [`id_key_from_json`]): the Document API v2 id.
    pub fn id_key(&self) -> &str {
        &self.id_key
    }

    /// What non-default policies changed (empty under the default policy).
    pub fn adjustments(&self) -> &[Adjustment] {
        &self.adjustments
    }

    /// The canonical content hash (see [`content_hash`]), equal to the hash of the same
    /// document read back from Astra.
    pub fn content_hash(&self) -> ContentHash {
        // Our own output is valid JSON; an error here would be a bug, reported as a zero hash
        // that can never match a real document.
        content_hash(&self.json).unwrap_or(ContentHash([0; 32]))
    }

    /// The size of the JSON in bytes.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// Never true: a converted document has at least `_id`.
    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }
}

/// A document that cannot be written, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Rejection {
    /// The `_id`'s stable key: as [`Converted::id_key`] when the `_id` itself converts, else
    /// its canonical Extended JSON text; `None` when the document has no `_id`.
    pub id_key: Option<String>,
    /// Every violation found (at most 100).
    pub violations: Vec<Violation>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id_key {
            Some(id) => write!(f, "document {id} rejected: ")?,
            None => write!(f, "document without _id rejected: ")?,
        }
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl Rejection {
    /// Whether any violation has this code.
    pub fn has(&self, code: ViolationCode) -> bool {
        self.violations.iter().any(|v| v.code() == code)
    }
}
