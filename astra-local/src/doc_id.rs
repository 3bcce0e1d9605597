//! Document ids (`_id`) as the Data API understands them: which JSON values may be ids, how
//! extended ids (`$objectId`, `$uuid`, `$date`) are normalized, the error each bad id gets, and
//! an order-preserving storage key so that equal ids collide and `_id` sorts work in SQLite.

use crate::data_api::errors::ApiError;
use crate::json::{self, Decimal, Node};

/// Storage-key type tags, in the order ids of different types sort.
const TAG_NULL: u8 = 0x00;
const TAG_NUMBER: u8 = 0x02;
/// Strings and the string-backed extended ids (`$uuid`, `$objectId`): the real Data API gives
/// them the same key type, so `"x"` and `{"$uuid":"x"}` would collide there too.
const TAG_STRING: u8 = 0x03;
const TAG_BOOLEAN: u8 = 0x04;
const TAG_DATE: u8 = 0x05;

/// A validated document id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocId {
    /// Order-preserving, type-tagged storage key.
    pub key: Vec<u8>,
    /// The id as JSON, as the API reports it (`insertedIds`, `documentResponses`).
    pub json: String,
    /// The id as the real service prints it in messages (`'abc'`, `42`, `null`).
    pub display: String,
}

/// The `defaultId` type of a collection: what id a document without `_id` receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultIdType {
    /// A random UUID as a plain string (the Data API's legacy default).
    #[default]
    Undefined,
    ObjectId,
    Uuid,
    UuidV6,
    UuidV7,
}

impl DefaultIdType {
    pub fn parse(name: &str) -> Option<DefaultIdType> {
        match name {
            "objectId" => Some(DefaultIdType::ObjectId),
            "uuid" => Some(DefaultIdType::Uuid),
            "uuidv6" => Some(DefaultIdType::UuidV6),
            "uuidv7" => Some(DefaultIdType::UuidV7),
            "" => Some(DefaultIdType::Undefined),
            _ => None,
        }
    }

    pub fn name(self) -> Option<&'static str> {
        match self {
            DefaultIdType::Undefined => None,
            DefaultIdType::ObjectId => Some("objectId"),
            DefaultIdType::Uuid => Some("uuid"),
            DefaultIdType::UuidV6 => Some("uuidv6"),
            DefaultIdType::UuidV7 => Some("uuidv7"),
        }
    }

    /// A fresh id as JSON text for a document that has none.
    pub fn generate(self) -> String {
        match self {
            DefaultIdType::Undefined => format!("\"{}\"", uuid::Uuid::new_v4()),
            DefaultIdType::ObjectId => format!("{{\"$objectId\":\"{}\"}}", new_object_id()),
            DefaultIdType::Uuid => format!("{{\"$uuid\":\"{}\"}}", uuid::Uuid::new_v4()),
            DefaultIdType::UuidV6 => {
                let node: [u8; 6] = rand::random();
                format!("{{\"$uuid\":\"{}\"}}", uuid::Uuid::now_v6(&node))
            }
            DefaultIdType::UuidV7 => format!("{{\"$uuid\":\"{}\"}}", uuid::Uuid::now_v7()),
        }
    }
}

/// A new MongoDB-style ObjectId: 4 bytes of seconds, 8 random bytes.
fn new_object_id() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let random: [u8; 8] = rand::random();
    let mut bytes = seconds.to_be_bytes().to_vec();
    bytes.extend_from_slice(&random);
    hex::encode(bytes)
}

/// Which extended JSON type a `$`-key names, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionType {
    Date,
    Binary,
    ObjectId,
    Uuid,
}

impl ExtensionType {
    pub fn from_key(key: &str) -> Option<ExtensionType> {
        match key {
            "$date" => Some(ExtensionType::Date),
            "$binary" => Some(ExtensionType::Binary),
            "$objectId" => Some(ExtensionType::ObjectId),
            "$uuid" => Some(ExtensionType::Uuid),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            ExtensionType::Date => "$date",
            ExtensionType::Binary => "$binary",
            ExtensionType::ObjectId => "$objectId",
            ExtensionType::Uuid => "$uuid",
        }
    }
}

/// The epoch milliseconds of a `$date` value if it is an integral number that fits in an i64.
pub fn date_millis(value: &Node<'_>) -> Option<i64> {
    match value {
        Node::Number(n) if !n.contains(['.', 'e', 'E']) => n.parse().ok(),
        _ => None,
    }
}

/// Lowercase 24-hex ObjectId, if `text` is one.
pub fn normalize_object_id(text: &str) -> Option<String> {
    (text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// Canonical lowercase hyphenated UUID, if `text` is one.
pub fn normalize_uuid(text: &str) -> Option<String> {
    uuid::Uuid::parse_str(text).ok().map(|u| u.hyphenated().to_string())
}

/// Decodes standard base64 with or without padding.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
    use base64::Engine as _;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(text).ok()
}

/// Validation message for a malformed extended value, as the real `JsonUtil` words it.
pub fn invalid_extension_message(ext: ExtensionType, value: &Node<'_>) -> String {
    let shown = value.to_json();
    match ext {
        ExtensionType::Date => {
            format!("'$date' value has to be an epoch timestamp, instead got ({shown})")
        }
        ExtensionType::ObjectId => format!(
            "'$objectId' value has to be 24-digit hexadecimal ObjectId, instead got ({shown})"
        ),
        ExtensionType::Uuid => {
            format!("'$uuid' value has to be 36-character UUID String, instead got ({shown})")
        }
        ExtensionType::Binary => format!("'$binary' value has to be Base64-encoded, instead got ({shown})"),
    }
}

impl DocId {
    /// Validates `node` as a document id, with the real service's error for each bad form.
    pub fn from_node(node: &Node<'_>) -> Result<DocId, ApiError> {
        match node {
            Node::Null => Ok(DocId { key: vec![TAG_NULL], json: "null".into(), display: "null".into() }),
            Node::Bool(b) => Ok(DocId {
                key: vec![TAG_BOOLEAN, u8::from(*b)],
                json: b.to_string(),
                display: b.to_string(),
            }),
            Node::Number(literal) => {
                let decimal = Decimal::parse(literal).ok_or_else(|| {
                    ApiError::shred_bad_docid_value(&format!("invalid number {literal}"))
                })?;
                let mut key = vec![TAG_NUMBER];
                decimal.sort_key(&mut key);
                Ok(DocId { key, json: literal.to_string(), display: decimal.canonical() })
            }
            Node::String(s) => {
                if s.value.is_empty() {
                    return Err(ApiError::shred_bad_docid_value("empty String not allowed"));
                }
                Ok(DocId::string_like(&s.value, format!("\"{}\"", s.raw), format!("'{}'", s.value)))
            }
            Node::Object(entries) if entries.len() == 1 && entries[0].0.value.starts_with('$') => {
                let (key, value) = &entries[0];
                match ExtensionType::from_key(&key.value) {
                    Some(ExtensionType::Date) => match date_millis(value) {
                        Some(ms) => {
                            let mut bytes = vec![TAG_DATE];
                            bytes.extend_from_slice(&((ms as u64) ^ (1 << 63)).to_be_bytes());
                            Ok(DocId {
                                key: bytes,
                                json: format!("{{\"$date\":{ms}}}"),
                                display: ms.to_string(),
                            })
                        }
                        None => Err(ApiError::shred_bad_docid_type(&format!(
                            "unrecognized JSON extension type '{}'",
                            key.value
                        ))),
                    },
                    Some(ext) => {
                        let text = value.as_str().unwrap_or_default();
                        let normalized = match ext {
                            ExtensionType::ObjectId => normalize_object_id(text),
                            ExtensionType::Uuid => normalize_uuid(text),
                            _ => decode_base64(text).map(|_| text.to_owned()),
                        };
                        match normalized {
                            Some(n) => {
                                let mut json = format!("{{\"{}\":", ext.key());
                                json::write_string(&n, &mut json);
                                json.push('}');
                                let display = n.clone();
                                Ok(DocId::string_like(&n, json, display))
                            }
                            None => Err(ApiError::shred_bad_docid_type(&format!(
                                "Bad JSON Extension value to shred: {}.",
                                invalid_extension_message(ext, value)
                            ))),
                        }
                    }
                    None => Err(ApiError::shred_bad_docid_type(&format!(
                        "unrecognized JSON extension type '{}'",
                        key.value
                    ))),
                }
            }
            other => Err(ApiError::shred_bad_docid_type(&format!(
                "Document Id must be a JSON String, Number, Boolean, EJSON-Encoded Date Object or null instead got {}: {}",
                other.type_name(),
                other.to_json()
            ))),
        }
    }

    /// The id as the real service's messages name it: its `DocumentId` class and value
    /// (`StringId('doc3')`, `NumberId(3)`).
    pub fn described(&self) -> String {
        let class = match self.key.first() {
            Some(&TAG_NULL) => "NullId",
            Some(&TAG_NUMBER) => "NumberId",
            Some(&TAG_STRING) if self.json.starts_with('"') => "StringId",
            Some(&TAG_STRING) => "ExtensionTypeId",
            Some(&TAG_BOOLEAN) => "BooleanId",
            _ => "DateId",
        };
        format!("{class}({})", self.display)
    }

    fn string_like(value: &str, json: String, display: String) -> DocId {
        let mut key = Vec::with_capacity(value.len() + 1);
        key.push(TAG_STRING);
        key.extend_from_slice(value.as_bytes());
        DocId { key, json, display }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Result<DocId, ApiError> {
        DocId::from_node(&json::parse(text, 100).unwrap())
    }

    #[test]
    fn accepts_the_documented_id_types() {
        for text in ["\"a\"", "1", "true", "null", r#"{"$date":1}"#, r#"{"$objectId":"5F0C6ED1A5F40E1B2C3D4E5F"}"#, r#"{"$uuid":"123e4567-e89b-12d3-a456-426614174000"}"#] {
            assert!(id(text).is_ok(), "{text}");
        }
        assert_eq!(id(r#"{"$objectId":"5F0C6ED1A5F40E1B2C3D4E5F"}"#).unwrap().json, r#"{"$objectId":"5f0c6ed1a5f40e1b2c3d4e5f"}"#);
    }

    #[test]
    fn refuses_objects_arrays_and_empty_strings() {
        assert_eq!(id(r#"{"a":1}"#).unwrap_err().code(), "SHRED_BAD_DOCID_TYPE");
        assert_eq!(id("[1]").unwrap_err().code(), "SHRED_BAD_DOCID_TYPE");
        assert_eq!(id(r#"{"$oid":"x"}"#).unwrap_err().code(), "SHRED_BAD_DOCID_TYPE");
        assert_eq!(id("\"\"").unwrap_err().code(), "SHRED_BAD_DOCID_VALUE");
    }

    #[test]
    fn equal_numbers_share_a_key_and_keys_sort() {
        assert_eq!(id("1.0").unwrap().key, id("1").unwrap().key);
        assert!(id("2").unwrap().key < id("10").unwrap().key);
        assert!(id("\"b\"").unwrap().key > id("\"a\"").unwrap().key);
    }
}
