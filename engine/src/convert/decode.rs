//! The inverse of the conversion: Data API JSON back to BSON, for verification tooling and the
//! property tests (convert → decode must give back the source values). Numbers keep their
//! exact text (parsed through `RawValue`, never `f64` unless the text is a double's own
//! shortest form): integers become Int32/Int64, other numbers Double when that is exact, else
//! Decimal128. `$date`, `$objectId`, `$uuid` (binary subtype 4), `$binary` (subtype 0) and the
//! `__bson_type` tagged objects of the `AsTaggedObject` policies are decoded to their types.

use super::encode::TYPE_TAG;
use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp};
use serde_json::value::RawValue;
use base64::Engine as _;

/// Why Data API JSON could not be decoded to BSON.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON.
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but a value that does not decode (e.g. a bad `$uuid`).
    #[error("bad value {0}")]
    BadValue(String),
    /// The top level is not an object.
    #[error("a document must be a JSON object")]
    NotADocument,
}

/// Decodes a Data API JSON document.
pub fn document_from_json(json: &str) -> Result<Document, DecodeError> {
    match value_from_json(json)? {
        Bson::Document(doc) => Ok(doc),
        _ => Err(DecodeError::NotADocument),
    }
}

/// Decodes one Data API JSON value.
pub fn value_from_json(json: &str) -> Result<Bson, DecodeError> {
    let raw = json.trim();
    let bad = || DecodeError::BadValue(raw.chars().take(200).collect());
    Ok(match raw.as_bytes().first() {
        Some(b'{') => {
            let entries: Vec<(String, &RawValue)> = object_entries(raw)?;
            if let [(key, value)] = entries.as_slice() {
                let inner = value.get().trim();
                match key.as_str() {
                    "$date" => {
                        let ms: i64 = inner.parse().map_err(|_| bad())?;
                        return Ok(Bson::DateTime(DateTime::from_millis(ms)));
                    }
                    "$objectId" => {
                        let hex: String = serde_json::from_str(inner)?;
                        return Ok(Bson::ObjectId(ObjectId::parse_str(&hex).map_err(|_| bad())?));
                    }
                    "$uuid" => {
                        let text: String = serde_json::from_str(inner)?;
                        let hex: String = text.chars().filter(|c| *c != '-').collect();
                        let bytes = hex::decode(&hex).map_err(|_| bad())?;
                        if bytes.len() != 16 {
                            return Err(bad());
                        }
                        return Ok(Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes }));
                    }
                    "$binary" => {
                        let text: String = serde_json::from_str(inner)?;
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map_err(|_| bad())?;
                        return Ok(Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes }));
                    }
                    _ => {}
                }
            }
            if let Some((_, tag)) = entries.first().filter(|(k, _)| k == TYPE_TAG) {
                let tag: String = serde_json::from_str(tag.get())?;
                if let Some(value) = tagged(&tag, &entries)? {
                    return Ok(value);
                }
            }
            let mut doc = Document::new();
            for (key, value) in entries {
                doc.insert(key, value_from_json(value.get())?);
            }
            Bson::Document(doc)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            Bson::Array(
                items
                    .into_iter()
                    .map(|item| value_from_json(item.get()))
                    .collect::<Result<_, _>>()?,
            )
        }
        Some(b'"') => Bson::String(serde_json::from_str(raw)?),
        Some(b't' | b'f' | b'n') => match serde_json::from_str::<serde_json::Value>(raw)? {
            serde_json::Value::Bool(b) => Bson::Boolean(b),
            _ => Bson::Null,
        },
        _ => number(raw).ok_or_else(bad)?,
    })
}

/// An object's entries in document order (a `Vec`, so order and duplicates are kept).
fn object_entries(raw: &str) -> Result<Vec<(String, &RawValue)>, DecodeError> {
    struct Entries<'a>(Vec<(String, &'a RawValue)>);
    impl<'de> serde::Deserialize<'de> for Entries<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Entries<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                        entries.push(entry);
                    }
                    Ok(Entries(entries))
                }
            }
            d.deserialize_map(Visit)
        }
    }
    let entries: Entries<'_> = serde_json::from_str(raw)?;
    Ok(entries.0)
}

fn number(text: &str) -> Option<Bson> {
    let is_integer = !text.contains(['.', 'e', 'E']);
    if is_integer {
        if let Ok(i) = text.parse::<i32>() {
            return Some(Bson::Int32(i));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Some(Bson::Int64(i));
        }
    } else if let Ok(d) = text.parse::<f64>() {
        if d.is_finite() && ryu::Buffer::new().format_finite(d) == text {
            return Some(Bson::Double(d));
        }
    }
    text.parse::<Decimal128>()
        .ok()
        .map(Bson::Decimal128)
        .or_else(|| text.parse::<f64>().ok().map(Bson::Double))
}

fn tagged(tag: &str, entries: &[(String, &RawValue)]) -> Result<Option<Bson>, DecodeError> {
    let field = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v.get());
    let string = |name: &str| -> Result<String, DecodeError> {
        let raw = field(name).ok_or_else(|| DecodeError::BadValue(format!("{tag} without {name}")))?;
        Ok(serde_json::from_str(raw)?)
    };
    let uint = |name: &str| -> Result<u32, DecodeError> {
        let raw = field(name).ok_or_else(|| DecodeError::BadValue(format!("{tag} without {name}")))?;
        Ok(serde_json::from_str(raw)?)
    };
    Ok(Some(match tag {
        "timestamp" => Bson::Timestamp(Timestamp { time: uint("t")?, increment: uint("i")? }),
        "regex" => Bson::RegularExpression(Regex {
            pattern: string("pattern")?,
            options: string("options")?,
        }),
        "javascript" => Bson::JavaScriptCode(string("code")?),
        "javascriptWithScope" => {
            let scope = field("scope").ok_or_else(|| DecodeError::BadValue("scope".into()))?;
            Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope {
                code: string("code")?,
                scope: document_from_json(scope)?,
            })
        }
        "symbol" => Bson::Symbol(string("value")?),
        "dbPointer" => {
            let id = field("id").ok_or_else(|| DecodeError::BadValue("dbPointer id".into()))?;
            let Bson::ObjectId(oid) = value_from_json(id)? else {
                return Err(DecodeError::BadValue("dbPointer id".into()));
            };
            let ext = serde_json::json!({"$dbPointer": {"$ref": string("ref")?, "$id": {"$oid": oid.to_hex()}}});
            Bson::try_from(ext).map_err(|e| DecodeError::BadValue(e.to_string()))?
        }
        "binary" => {
            let subtype = u8::try_from(uint("subtype")?).map_err(|_| DecodeError::BadValue("binary subtype".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(string("base64")?)
                .map_err(|_| DecodeError::BadValue("binary base64".into()))?;
            Bson::Binary(Binary { subtype: BinarySubtype::from(subtype), bytes })
        }
        "minKey" => Bson::MinKey,
        "maxKey" => Bson::MaxKey,
        "undefined" => Bson::Undefined,
        "double" => Bson::Double(match string("value")?.as_str() {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            _ => return Ok(None),
        }),
        "decimal128" => match string("value")?.parse::<Decimal128>() {
            Ok(d) => Bson::Decimal128(d),
            Err(_) => return Ok(None),
        },
        _ => return Ok(None),
    }))
}
