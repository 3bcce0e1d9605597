//! The conversion-policy flags of `docshift migrate`: one flag per choice of
//! `engine::policy::ConversionPolicy`, with the same safe defaults (reject, never lose a
//! value silently). The engine's types stay free of clap (they also compile to WASM), so the
//! flags mirror them here, each value documented for `--help`.

use clap::ValueEnum;
use engine::policy::{
    BinarySubtypePolicy, ConversionPolicy, DocumentIdPolicy, FieldNamePolicy, LegacyUuidPolicy, NonFinitePolicy,
    UnsupportedValuePolicy,
};

/// How values that Astra cannot store as they are get written.
#[derive(clap::Args, Debug, Clone)]
pub struct PolicyArgs {
    /// BSON types with no JSON form (Timestamp, Regex, JavaScript, Symbol, DBPointer,
    /// MinKey, MaxKey, Undefined).
    #[arg(long, value_enum, default_value_t = UnsupportedValues::Reject)]
    pub unsupported_values: UnsupportedValues,
    /// NaN and ±Infinity (Double or Decimal128), which JSON cannot express.
    #[arg(long, value_enum, default_value_t = NonFiniteNumbers::Reject)]
    pub non_finite_numbers: NonFiniteNumbers,
    /// `_id` values Astra refuses as document ids (objects, arrays, empty strings,
    /// non-UUID binary).
    #[arg(long, value_enum, default_value_t = DocumentIds::Reject)]
    pub document_ids: DocumentIds,
    /// Field names Astra refuses (a leading `$`, empty, or exactly `*`).
    #[arg(long, value_enum, default_value_t = FieldNames::Reject)]
    pub field_names: FieldNames,
    /// The byte order of legacy UUIDs (binary subtype 3).
    #[arg(long, value_enum, default_value_t = LegacyUuids::Standard)]
    pub legacy_uuids: LegacyUuids,
    /// Binaries of a special subtype (MD5, encrypted, compressed column, sensitive, a
    /// vector no --vector-field maps, user-defined 0x80–0xFF): plain binaries (subtype 0 or 2)
    /// and UUIDs are always written.
    #[arg(long, value_enum, default_value_t = BinarySubtypes::Reject)]
    pub binary_subtypes: BinarySubtypes,
}

/// See `engine::policy::BinarySubtypePolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinarySubtypes {
    /// Set the document aside as a dead letter, with its reason.
    Reject,
    /// Write a plain `$binary` (the subtype is dropped, and the report says so).
    AsBinary,
    /// Write `{"__bson_type":"binary","subtype":N,"base64":...}`, which keeps the subtype.
    AsTaggedObject,
}

/// See `engine::policy::UnsupportedValuePolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsupportedValues {
    /// Set the document aside as a dead letter, with its reason.
    Reject,
    /// Write the value's canonical Extended JSON text (code and symbols as their text).
    AsString,
    /// Write an object tagged `{"__bson_type": ...}` that keeps the type.
    AsTaggedObject,
}

/// See `engine::policy::NonFinitePolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonFiniteNumbers {
    /// Set the document aside as a dead letter, with its reason.
    Reject,
    /// Write "NaN", "Infinity" or "-Infinity".
    AsString,
    /// Write `{"__bson_type":"double","value":"NaN"}` (or "decimal128").
    AsTaggedObject,
    /// Write null (lossy: only when NaN means "no value").
    AsNull,
}

/// See `engine::policy::DocumentIdPolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentIds {
    /// Set the document aside as a dead letter, with its reason.
    Reject,
    /// Use the id's canonical Extended JSON text as a string id (stable across runs).
    CanonicalString,
}

/// See `engine::policy::FieldNamePolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNames {
    /// Set the document aside as a dead letter, with its reason.
    Reject,
    /// Prefix the name with `_` (`$price` becomes `_$price`).
    Rename,
}

/// See `engine::policy::LegacyUuidPolicy`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyUuids {
    /// The 16 bytes in stored order (pymongo's PYTHON_LEGACY).
    Standard,
    /// The old Java driver's order (JAVA_LEGACY).
    JavaLegacy,
    /// The old C# driver's order (CSHARP_LEGACY).
    CsharpLegacy,
    /// Keep subtype 3 as binary instead of a UUID.
    AsBinary,
}

impl PolicyArgs {
    /// The engine's policy for these flags.
    pub fn policy(&self) -> ConversionPolicy {
        ConversionPolicy {
            unsupported_values: match self.unsupported_values {
                UnsupportedValues::Reject => UnsupportedValuePolicy::Reject,
                UnsupportedValues::AsString => UnsupportedValuePolicy::AsString,
                UnsupportedValues::AsTaggedObject => UnsupportedValuePolicy::AsTaggedObject,
            },
            non_finite_numbers: match self.non_finite_numbers {
                NonFiniteNumbers::Reject => NonFinitePolicy::Reject,
                NonFiniteNumbers::AsString => NonFinitePolicy::AsString,
                NonFiniteNumbers::AsTaggedObject => NonFinitePolicy::AsTaggedObject,
                NonFiniteNumbers::AsNull => NonFinitePolicy::AsNull,
            },
            document_ids: match self.document_ids {
                DocumentIds::Reject => DocumentIdPolicy::Reject,
                DocumentIds::CanonicalString => DocumentIdPolicy::CanonicalString,
            },
            field_names: match self.field_names {
                FieldNames::Reject => FieldNamePolicy::Reject,
                FieldNames::Rename => FieldNamePolicy::Rename,
            },
            legacy_uuids: match self.legacy_uuids {
                LegacyUuids::Standard => LegacyUuidPolicy::Standard,
                LegacyUuids::JavaLegacy => LegacyUuidPolicy::JavaLegacy,
                LegacyUuids::CsharpLegacy => LegacyUuidPolicy::CSharpLegacy,
                LegacyUuids::AsBinary => LegacyUuidPolicy::AsBinary,
            },
            binary_subtypes: match self.binary_subtypes {
                BinarySubtypes::Reject => BinarySubtypePolicy::Reject,
                BinarySubtypes::AsBinary => BinarySubtypePolicy::AsBinary,
                BinarySubtypes::AsTaggedObject => BinarySubtypePolicy::AsTaggedObject,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        policy: PolicyArgs,
    }

    #[test]
    fn the_defaults_are_the_engines_safe_defaults() -> Result<(), clap::Error> {
        let flags = Flags::try_parse_from(["x"])?;
        assert_eq!(flags.policy.policy(), ConversionPolicy::default());
        Ok(())
    }

    #[test]
    fn each_flag_reaches_the_engine() -> Result<(), clap::Error> {
        let flags = Flags::try_parse_from([
            "x",
            "--unsupported-values",
            "as-tagged-object",
            "--non-finite-numbers",
            "as-null",
            "--document-ids",
            "canonical-string",
            "--field-names",
            "rename",
            "--legacy-uuids",
            "csharp-legacy",
            "--binary-subtypes",
            "as-tagged-object",
        ])?;
        let policy = flags.policy.policy();
        assert_eq!(policy.unsupported_values, UnsupportedValuePolicy::AsTaggedObject);
        assert_eq!(policy.non_finite_numbers, NonFinitePolicy::AsNull);
        assert_eq!(policy.document_ids, DocumentIdPolicy::CanonicalString);
        assert_eq!(policy.field_names, FieldNamePolicy::Rename);
        assert_eq!(policy.legacy_uuids, LegacyUuidPolicy::CSharpLegacy);
        assert_eq!(policy.binary_subtypes, BinarySubtypePolicy::AsTaggedObject);
        Ok(())
    }
}
