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
