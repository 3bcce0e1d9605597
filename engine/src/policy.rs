//! What a migration job does with source values that the Data API cannot store as they are.
//!
//! Every option here is chosen per job, shown in the UI (this module compiles to WASM: it has
//! no BSON dependency) and applied by `convert::Converter`. The defaults never lose or silently
//! change a value: whatever cannot be written faithfully is rejected, with its reason, and the
//! document goes to the dead-letter store. The other options are explicit, documented
//! trade-offs a user opts into.
//!
//! The rules mirror the open-source Data API (stargate/data-api, `DocumentShredder`,
//! `DocumentId`, `DocumentLimitsConfig`); `docs/type-mapping.md` lists each choice and
//! `docs/data-api.md` the limits, with their sources.
//!
//! A [`VectorMapping`] names the field of a collection that holds each document's embedding:
//! the converter writes it as the Data API's `$vector` and the job creates the target
//! collection with [`VectorMapping::collection_options`]. See `docs/vectors.md`.

use serde::{Deserialize, Serialize};

/// All per-job conversion choices. `ConversionPolicy::default()` is the safe choice: reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ConversionPolicy {
    /// BSON types with no JSON form: Timestamp, Regex, JavaScript (with or without scope),
    /// Symbol, DBPointer, MinKey, MaxKey, Undefined.
    pub unsupported_values: UnsupportedValuePolicy,
    /// Doubles and Decimal128 values that are NaN or ±Infinity.
    pub non_finite_numbers: NonFinitePolicy,
    /// `_id` values the Data API refuses as document ids (objects, arrays, empty strings,
    /// non-UUID binary, and the types above).
    pub document_ids: DocumentIdPolicy,
    /// Field names the Data API refuses (leading `$`), plus empty names and `*`.
    pub field_names: FieldNamePolicy,
    /// How the 16 bytes of a legacy UUID (binary subtype 3) are read.
    pub legacy_uuids: LegacyUuidPolicy,
    /// Binaries whose subtype the Data API cannot keep: function (1), MD5 (5), encrypted (6),
    /// compressed column (7), sensitive (8), vector (9) outside the mapped vector field,
    /// reserved (10–127) and user-defined (128–255).
    pub binary_subtypes: BinarySubtypePolicy,
}

/// What to do with a BSON value that has no Data API form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UnsupportedValuePolicy {
    /// Reject the document (`UNSUPPORTED_BSON_VALUE`). Nothing is lost: the document goes to
    /// the dead-letter store with its reason and its original Extended JSON.
    #[default]
    Reject,
    /// Write a string. Symbol and JavaScript code become their text; every other type becomes
    /// its canonical Extended JSON v2 text, e.g. `{"$regularExpression":{"pattern":"^a","options":"i"}}`,
    /// which any Extended JSON parser reads back. The type is lost to Data API queries.
    AsString,
    /// Write a tagged object whose keys the Data API accepts (no `$`):
    /// `{"__bson_type":"regex","pattern":"^a","options":"i"}`,
    /// `{"__bson_type":"timestamp","t":1700000000,"i":1}`,
    /// `{"__bson_type":"javascript","code":"..."}`,
    /// `{"__bson_type":"javascriptWithScope","code":"...","scope":{...}}`,
    /// `{"__bson_type":"symbol","value":"..."}`,
    /// `{"__bson_type":"dbPointer","ref":"db.coll","id":{"$objectId":"..."}}`,
    /// `{"__bson_type":"minKey"}`, `{"__bson_type":"maxKey"}`, `{"__bson_type":"undefined"}`.
    AsTaggedObject,
}

/// What to do with NaN and ±Infinity (Double or Decimal128), which JSON cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NonFinitePolicy {
    /// Reject the document (`UNSUPPORTED_BSON_VALUE`).
    #[default]
    Reject,
    /// Write the strings `"NaN"`, `"Infinity"` or `"-Infinity"`.
    AsString,
    /// Write `{"__bson_type":"double","value":"NaN"}` (or `"decimal128"`), keeping the type.
    AsTaggedObject,
    /// Write `null`. Lossy: the value is gone; choose it only when NaN means "no value".
    AsNull,
}

/// What to do with an `_id` the Data API refuses (`SHRED_BAD_DOCID_TYPE`): an object, an
/// array, an empty string, a non-UUID binary, or a type with no JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DocumentIdPolicy {
    /// Reject the document.
    #[default]
    Reject,
    /// Use the value's canonical Extended JSON v2 text as a string `_id`, e.g. the id
    /// `{a: 1}` becomes `"{\"a\":{\"$numberInt\":\"1\"}}"`. Stable across runs (a re-run
    /// finds the same id) but no longer the same type as the source.
    CanonicalString,
}

/// What to do with a field name the Data API refuses (`SHRED_BAD_FIELD_NAME`): one starting
/// with `$` or empty (current stargate/data-api `FieldNamingRule`), or exactly `*` (the
/// projection wildcard, refused by docshift as a precaution: see `docs/data-api.md`). Names
/// containing `.` or `&` are accepted as they are: current Data API versions escape them in
/// paths (`a&.b`, `a&&b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldNamePolicy {
    /// Reject the document.
    #[default]
    Reject,
    /// Prefix the name with `_`: `$price` → `_$price`, `` → `_`, `*` → `_*`. The result is
    /// always a valid name. If the new name already exists in the same object the document
    /// is rejected rather than merging two fields.
    Rename,
}

/// The byte order of legacy UUIDs (binary subtype 3), whose layout depended on the driver
/// that wrote them. Subtype 4 is always read in the standard (RFC 4122) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LegacyUuidPolicy {
    /// The 16 bytes as stored, in order (what pymongo's `PYTHON_LEGACY` wrote).
    #[default]
    Standard,
    /// The old Java driver's order: each 8-byte half reversed (`JAVA_LEGACY`).
    JavaLegacy,
    /// The old C# driver's order: the first 4, next 2 and next 2 bytes reversed
    /// (`CSHARP_LEGACY`).
    CSharpLegacy,
    /// Keep subtype 3 as `{"$binary": base64}` instead of a UUID.
    AsBinary,
}

/// What to do with a binary whose subtype has meaning the Data API's `{"$binary": base64}`
/// cannot carry (it has no subtype). Generic binaries (0) and the old binary subtype (2, the
/// deprecated spelling of generic binary: the same bytes behind an extra length prefix, which
/// the BSON reader removes) are always written as `$binary`; UUIDs (4, and 3) follow
/// [`LegacyUuidPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BinarySubtypePolicy {
    /// Reject the document (`UNSUPPORTED_BSON_VALUE`, reason "binary subtype 0x80
    /// (user-defined)"): an encrypted or MD5 value must not silently become plain bytes.
    #[default]
    Reject,
    /// Write `{"$binary": base64}`: the bytes are kept, the subtype is dropped (each such value
    /// is listed in the document's adjustments as `binarySubtypeDropped`).
    AsBinary,
    /// Write `{"__bson_type":"binary","subtype":128,"base64":"..."}`, which keeps the subtype
    /// and decodes back to the same BSON binary. The base64 text is an ordinary string to the
    /// Data API: on an indexed path it counts against the 8,000-byte string limit.
    AsTaggedObject,
}

/// The largest vector the Data API accepts: `DocumentLimitsConfig.maxVectorEmbeddingLength`
/// (`DEFAULT_MAX_VECTOR_EMBEDDING_LENGTH = 4096` in stargate/data-api), checked on
/// `createCollection` and on every `$vector` array.
pub const MAX_VECTOR_DIMENSION: usize = 4096;

/// "Field F is the embedding": each document's F becomes the Data API's top-level `$vector`,
/// and the target collection is created with [`VectorMapping::collection_options`].
///
/// F holds an array of numbers or a BSON binary vector (subtype 9: float32, int8 or packed
/// bits). Astra stores float32: a float64 embedding is rounded to the nearest float32, which
/// the document's adjustments say (`vectorRoundedToFloat32`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VectorMapping {
    /// The source field, as a Data API path: `embedding`, or `meta.embedding` inside an
    /// object (a literal `.` in a name is written `&.`, a literal `&` is `&&`). Array
    /// elements are not addressed.
    pub field: String,
    /// The number of elements every vector must have (1 to [`MAX_VECTOR_DIMENSION`]). In a
    /// job's spec, 0 means "the length of the first source vector", found when the job is
    /// created.
    pub dimension: usize,
    /// How the collection compares vectors.
    #[serde(default)]
    pub metric: VectorMetric,
    /// Also keep F as an ordinary field (then it is subject to the ordinary rules: an indexed
    /// array over 1,000 elements needs F in `indexing.deny`, a BSON vector follows
    /// [`BinarySubtypePolicy`]). By default F is moved into `$vector`.
    #[serde(default)]
    pub keep_field: bool,
    /// What happens to a document whose F is missing, not a vector, of another length,
    /// or holds NaN or ±Infinity.
    #[serde(default)]
    pub on_invalid: InvalidVectorPolicy,
}

impl VectorMapping {
    /// A mapping with the default metric (cosine), F moved, invalid vectors dead-lettered.
    pub fn new(field: impl Into<String>, dimension: usize) -> Self {
        Self {
            field: field.into(),
            dimension,
            metric: VectorMetric::default(),
            keep_field: false,
            on_invalid: InvalidVectorPolicy::default(),
        }
    }

    /// Whether the mapping can be used: a field other than `_id`, a dimension the Data API
    /// accepts.
    pub fn check(&self) -> Result<(), VectorMappingError> {
        if self.field.is_empty() {
            return Err(VectorMappingError::EmptyField);
        }
        if self.field == "_id" || self.field.starts_with("_id.") {
            return Err(VectorMappingError::DocumentId);
        }
        if self.dimension == 0 || self.dimension > MAX_VECTOR_DIMENSION {
            return Err(VectorMappingError::Dimension(self.dimension));
        }
        Ok(())
    }

    /// The `createCollection` options that make the target a vector collection:
    /// `{"vector":{"dimension":768,"metric":"cosine"}}` (stargate/data-api
    /// `CreateCollectionCommand.Options.VectorSearchDesc`: `dimension`, `metric`). Merge it
    /// with any `indexing` options into the command's `options`.
    pub fn collection_options(&self) -> serde_json::Value {
        serde_json::json!({
            "vector": { "dimension": self.dimension, "metric": self.metric.as_str() }
        })
    }
}

/// A [`VectorMapping`] that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorMappingError {
    /// No field named.
    EmptyField,
    /// The field is `_id` (or inside it), which must stay the document id.
    DocumentId,
    /// The dimension is 0 or over [`MAX_VECTOR_DIMENSION`].
    Dimension(usize),
}

impl std::fmt::Display for VectorMappingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmptyField => f.write_str("the vector field is not named"),
            Self::DocumentId => f.write_str("the vector field cannot be _id"),
            Self::Dimension(d) => write!(
                f,
                "a vector dimension of {d} is outside what Astra accepts (1 to {MAX_VECTOR_DIMENSION})"
            ),
        }
    }
}

impl std::error::Error for VectorMappingError {}

/// The similarity function of a vector collection, named as the Data API names it
/// (stargate/data-api `SimilarityFunction`: `cosine`, the default, `dot_product`, `euclidean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VectorMetric {
    /// The cosine of the angle between two vectors: ignores their lengths.
    #[default]
    Cosine,
    /// The dot product: for vectors normalized to length 1 (it then ranks like cosine).
    DotProduct,
    /// The straight-line distance.
    Euclidean,
}

impl VectorMetric {
    /// The name in `createCollection`'s `options.vector.metric`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::DotProduct => "dot_product",
            Self::Euclidean => "euclidean",
        }
    }
}

/// What to do with a document whose mapped field is not a usable vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InvalidVectorPolicy {
    /// Reject the document with the reason; it goes to the dead-letter store.
    #[default]
    DeadLetter,
    /// Write the document without `$vector` (it cannot be found by vector search). The field
    /// stays as an ordinary field, under the ordinary rules, so nothing is lost; the
    /// document's adjustments say why (`vectorOmitted`).
    WithoutVector,
}

/// The collection's `createCollection` `options.indexing`: which paths Astra indexes. The
/// indexed-only limits (array length, string bytes, properties per object and per document)
/// apply only to indexed paths. Paths use the Data API's escaping: `&.` is a literal dot in a
/// field name and `&&` a literal ampersand; `"*"` means every path.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Indexing {
    /// Index only these paths (and everything under them). At most one of `allow`, `deny`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
    /// Index everything except these paths (and everything under them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny: Option<Vec<String>>,
}

/// The Data API's document limits (`docs/data-api.md`, "Documents"; stargate/data-api
/// `DocumentLimitsConfig`). Configurable only so that tests and
/// self-hosted Data API deployments with other settings can change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DocumentLimits {
    /// Whole document, serialized, in characters (UTF-16 code units, as Java counts).
    pub max_document_chars: usize,
    /// Nesting depth: the document is depth 1, each object or array one more.
    pub max_depth: usize,
    /// A dotted field path (array indices not counted), in characters.
    pub max_path_chars: usize,
    /// A number literal, in characters.
    pub max_number_chars: usize,
    /// Elements of an indexed array.
    pub max_array_elements: usize,
    /// UTF-8 bytes of an indexed string.
    pub max_string_bytes: usize,
    /// Properties of one indexed object.
    pub max_object_properties: usize,
    /// Indexed properties of the whole document (objects' properties, summed).
    pub max_document_properties: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_document_chars: 4_000_000,
            max_depth: 16,
            max_path_chars: 1_000,
            max_number_chars: 100,
            max_array_elements: 1_000,
            max_string_bytes: 8_000,
            max_object_properties: 1_000,
            max_document_properties: 2_000,
        }
    }
}
