//! Why a document cannot be written as it is, and what a policy changed on the way: the
//! reasons that travel with a dead letter and show up in the UI.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// One reason a document was rejected, at one place in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The dotted path of the offending value (`address.lines.2`; array elements by index;
    /// a `.` or `&` inside a field name escaped as `&.` / `&&`, like the Data API does).
    /// Empty for the document as a whole.
    pub path: String,
    /// Which rule, finer than the code (one code covers every size limit).
    pub kind: ViolationKind,
    /// A sentence a user can act on.
    pub message: String,
}

impl Violation {
    pub fn new(path: String, kind: ViolationKind, message: String) -> Self {
        Self { path, kind, message }
    }

    /// The Data API error code this mirrors, or a docshift code for what JSON cannot express.
    pub fn code(&self) -> ViolationCode {
        self.kind.code()
    }
}

/// The rule a document breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    DocumentTooLarge,
    /// More indexed properties in the document, or in one object, than allowed.
    TooManyIndexedProperties,
    FieldPathTooLong,
    NestedTooDeep,
    NumberTooLong,
    IndexedArrayTooLong,
    IndexedStringTooLong,
    /// An empty field name, `*`, a leading `$`, or a renamed one that collides.
    BadFieldName,
    DocumentIdType,
    EmptyDocumentId,
    MissingDocumentId,
    NonFiniteNumber,
    /// A BSON value with no JSON form (regex, timestamp, ...).
    NoJsonForm,
    /// A binary whose subtype (the number) the Data API cannot keep: MD5, encrypted,
    /// user-defined, ... (see `policy::BinarySubtypePolicy`).
    BinarySubtype(u8),
    /// The mapped vector field is missing or null.
    VectorMissing,
    /// The mapped vector field is not an array of numbers or a BSON vector.
    VectorNotNumeric,
    /// The mapped field is a BSON vector (binary subtype 9) whose bytes break the BSON
    /// binary-vector specification.
    BadBsonVector,
    /// The vector holds NaN or ±Infinity, or a number beyond float32's range.
    VectorNotFinite,
    /// The vector has another number of elements than the mapping's dimension.
    VectorDimensionMismatch,
    /// The vector has more elements than Astra accepts (4,096).
    VectorTooLong,
    /// The converter's own output failed its check: a bug, never the document's fault.
    Internal,
}

impl ViolationKind {
    pub fn code(self) -> ViolationCode {
        match self {
            Self::DocumentTooLarge
            | Self::TooManyIndexedProperties
            | Self::FieldPathTooLong
            | Self::NestedTooDeep
            | Self::NumberTooLong
            | Self::IndexedArrayTooLong
            | Self::IndexedStringTooLong => ViolationCode::ShredDocLimitViolation,
            Self::BadFieldName => ViolationCode::ShredBadFieldName,
            Self::DocumentIdType => ViolationCode::ShredBadDocidType,
            Self::EmptyDocumentId => ViolationCode::ShredBadDocidValue,
            Self::MissingDocumentId => ViolationCode::MissingDocumentId,
            Self::NonFiniteNumber | Self::NoJsonForm | Self::BinarySubtype(_) | Self::Internal => {
                ViolationCode::UnsupportedBsonValue
            }
            Self::VectorMissing => ViolationCode::MissingVector,
            Self::VectorNotNumeric | Self::VectorNotFinite => ViolationCode::ShredBadVectorValue,
            Self::BadBsonVector => ViolationCode::ShredBadBinaryVectorValue,
            Self::VectorDimensionMismatch => ViolationCode::InvalidVectorLength,
            Self::VectorTooLong => ViolationCode::ShredDocLimitViolation,
        }
    }

    /// Limits that apply to indexed paths only: `indexing.deny` on the path lifts them.
    pub fn lifted_by_indexing_deny(self) -> bool {
        matches!(self, Self::TooManyIndexedProperties | Self::IndexedArrayTooLong | Self::IndexedStringTooLong)
    }

    /// A few words for people, as the census lists reasons. Binaries are named by subtype,
    /// e.g. "binary subtype 0x80 (user-defined)".
    pub fn reason(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::DocumentTooLarge => "document too large",
            Self::TooManyIndexedProperties => "too many indexed properties",
            Self::FieldPathTooLong => "field path too long",
            Self::NestedTooDeep => "nested too deep",
            Self::NumberTooLong => "number literal too long",
            Self::IndexedArrayTooLong => "array over the indexed limit",
            Self::IndexedStringTooLong => "string over the indexed limit",
            Self::BadFieldName => "field name starting with $ (or empty)",
            Self::DocumentIdType | Self::EmptyDocumentId => "_id of a type Astra refuses (object, array, ...)",
            Self::MissingDocumentId => "no _id",
            Self::NonFiniteNumber => "NaN or Infinity",
            Self::NoJsonForm => "BSON type with no JSON form (regex, timestamp, ...)",
            Self::BinarySubtype(subtype) => return Cow::Owned(binary_subtype_reason(subtype)),
            Self::VectorMissing => "no vector (mapped field missing or null)",
            Self::VectorNotNumeric => "vector field not an array of numbers",
            Self::BadBsonVector => "malformed BSON vector",
            Self::VectorNotFinite => "vector with NaN, Infinity or a number beyond float32",
            Self::VectorDimensionMismatch => "vector of another dimension",
            Self::VectorTooLong => "vector over 4,096 dimensions",
            Self::Internal => "converter error",
        })
    }
}

/// "binary subtype 0x05 (MD5)": the subtype's number and what it means in the BSON spec.
pub(crate) fn binary_subtype_reason(subtype: u8) -> String {
    format!("binary subtype 0x{subtype:02x} ({})", binary_subtype_name(subtype))
}

/// What a binary subtype means (bsonspec.org; binary vector: mongodb/specifications).
pub(crate) fn binary_subtype_name(subtype: u8) -> &'static str {
    match subtype {
        0x00 => "generic",
        0x01 => "function",
        0x02 => "old binary",
        0x03 => "legacy UUID",
        0x04 => "UUID",
        0x05 => "MD5",
        0x06 => "encrypted",
        0x07 => "compressed column",
        0x08 => "sensitive",
        0x09 => "vector",
        0x0a..=0x7f => "reserved",
        _ => "user-defined",
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.code(), self.message)
        } else {
            write!(f, "{} at '{}': {}", self.code(), self.path, self.message)
        }
    }
}

/// Reason codes. The `SHRED_*` ones are the Data API's own codes for the same refusal (its
/// current `DocumentException.Code` names; older versions said `SHRED_DOC_KEY_NAME_VIOLATION`
/// and `SHRED_BAD_DOCID_EMPTY_STRING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ViolationCode {
    /// A size, depth, path-length, number-length or indexed-only limit is exceeded.
    ShredDocLimitViolation,
    /// A field name the Data API refuses (leading `$`; also empty or `*` here).
    ShredBadFieldName,
    /// An `_id` of a type the Data API refuses (object, array, non-UUID binary, ...).
    ShredBadDocidType,
    /// An empty string `_id`, which the Data API refuses.
    ShredBadDocidValue,
    /// A `$`-wrapped value the Data API would refuse. Not produced by the converter itself
    /// (it only writes valid wrappers); kept for reporting target errors in the same terms.
    ShredBadEjsonValue,
    /// A BSON value with no JSON form (Timestamp, Regex, NaN, ...) under the `Reject` policy.
    UnsupportedBsonValue,
    /// The document has no `_id`: the Data API would invent a random one, so a re-run would
    /// duplicate it.
    MissingDocumentId,
    /// The vector field of the collection's vector mapping is missing or null (a docshift
    /// code: the Data API simply stores such a document without `$vector`).
    MissingVector,
    /// The Data API's code for a `$vector` that is not an array of numbers.
    ShredBadVectorValue,
    /// The Data API's code for a binary `$vector` that does not decode.
    ShredBadBinaryVectorValue,
    /// The Data API's code for a vector whose length is not the collection's dimension.
    InvalidVectorLength,
}

impl ViolationCode {
    /// The code as it appears in reports and in the Data API's `errorCode`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ShredDocLimitViolation => "SHRED_DOC_LIMIT_VIOLATION",
            Self::ShredBadFieldName => "SHRED_BAD_FIELD_NAME",
            Self::ShredBadDocidType => "SHRED_BAD_DOCID_TYPE",
            Self::ShredBadDocidValue => "SHRED_BAD_DOCID_VALUE",
            Self::ShredBadEjsonValue => "SHRED_BAD_EJSON_VALUE",
            Self::UnsupportedBsonValue => "UNSUPPORTED_BSON_VALUE",
            Self::MissingDocumentId => "MISSING_DOCUMENT_ID",
            Self::MissingVector => "MISSING_VECTOR",
            Self::ShredBadVectorValue => "SHRED_BAD_VECTOR_VALUE",
            Self::ShredBadBinaryVectorValue => "SHRED_BAD_BINARY_VECTOR_VALUE",
            Self::InvalidVectorLength => "INVALID_VECTOR_LENGTH",
        }
    }
}

impl fmt::Display for ViolationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change a non-default policy made to a value that is nonetheless written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// The dotted path of the changed value or field (before a rename).
    pub path: String,
    /// What was done.
    pub kind: AdjustmentKind,
    /// Why, where the kind alone does not say (the reason a vector was omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The kinds of [`Adjustment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AdjustmentKind {
    /// An unsupported value written as a string.
    ValueAsString,
    /// An unsupported value written as a `__bson_type` tagged object.
    ValueAsTaggedObject,
    /// NaN/Infinity written as a string.
    NonFiniteAsString,
    /// NaN/Infinity written as a tagged object.
    NonFiniteAsTaggedObject,
    /// NaN/Infinity written as null.
    NonFiniteAsNull,
    /// The `_id` written as its canonical Extended JSON string.
    IdAsCanonicalString,
    /// A field renamed by the `Rename` field-name policy.
    FieldRenamed,
    /// A binary of a special subtype written as `$binary`: the subtype is gone.
    BinarySubtypeDropped,
    /// A binary of a special subtype written as a `__bson_type` tagged object.
    BinaryAsTaggedObject,
    /// The mapped vector became `$vector`, and at least one of its numbers was not a float32
    /// and was rounded to the nearest one (Astra stores float32).
    VectorRoundedToFloat32,
    /// The document is written without `$vector` (`InvalidVectorPolicy::WithoutVector`);
    /// `detail` says why.
    VectorOmitted,
}
