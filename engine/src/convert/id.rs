//! Document ids as later stages need them: the `_id` JSON text (to match the Data API's
//! `documentResponses`) and a stable string key (the Document API v2 document id, dead-letter
//! and checkpoint keys). The key is computed from the JSON form, so the same function gives
//! the same key for a converted `_id` and for an `_id` Astra sends back.

use super::canonical::normalize_number;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// Why an `_id` JSON text has no stable key.
#[derive(Debug, thiserror::Error)]
pub enum IdKeyError {
    /// Not JSON.
    #[error("the _id is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not a form the Data API accepts as an id.
    #[error("the _id {0} is not a Data API document id")]
    NotAnId(String),
}

/// The stable string key of an `_id` given as Data API JSON:
/// `{"$objectId":"<hex>"}` → the hex; `{"$uuid":"<uuid>"}` → the UUID; a string → itself;
/// a number → its normalized decimal text (`5`, `5.0` → `5`); `{"$date":ms}` → the epoch
/// milliseconds as text; `true`, `false`, `null` → that word. Never random. Ids of
/// different types can share a key (the string `"5"` and the number `5`), as they share a
/// storage key in the Data API itself.
pub fn id_key_from_json(id_json: &str) -> Result<String, IdKeyError> {
    let text = id_json.trim();
    // Fast paths for what the converter writes.
    if let Some(rest) = text.strip_prefix("{\"$objectId\":\"") {
        if let Some(hex) = rest.strip_suffix("\"}") {
            if hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(hex.to_ascii_lowercase());
            }
        }
    }
    match text.as_bytes().first() {
        Some(b'"') => Ok(serde_json::from_str::<String>(text)?),
        Some(b'{') => {
            let map: BTreeMap<String, &RawValue> = serde_json::from_str(text)?;
            let mut entries = map.into_iter();
            match (entries.next(), entries.next()) {
                (Some((key, value)), None) => {
                    let inner = value.get().trim();
                    match key.as_str() {
                        "$objectId" | "$uuid" => {
                            Ok(serde_json::from_str::<String>(inner)?.to_ascii_lowercase())
                        }
                        "$date" => normalize_number(inner)
                            .ok_or_else(|| IdKeyError::NotAnId(text.to_owned())),
                        _ => Err(IdKeyError::NotAnId(text.to_owned())),
                    }
                }
                _ => Err(IdKeyError::NotAnId(text.to_owned())),
            }
        }
        Some(b't' | b'f' | b'n') => {
            let value: serde_json::Value = serde_json::from_str(text)?;
            Ok(value.to_string())
        }
        _ => normalize_number(text).ok_or_else(|| IdKeyError::NotAnId(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            id_key_from_json(r#"{"$objectId":"65A1b2c3d4e5f6a7b8c9d0e1"}"#).unwrap(),
            "65a1b2c3d4e5f6a7b8c9d0e1"
        );
        assert_eq!(id_key_from_json(r#"{ "$objectId" : "65a1b2c3d4e5f6a7b8c9d0e1" }"#).unwrap(), "65a1b2c3d4e5f6a7b8c9d0e1");
        assert_eq!(id_key_from_json(r#""a\"b""#).unwrap(), "a\"b");
        assert_eq!(id_key_from_json("5.0").unwrap(), "5");
        assert_eq!(id_key_from_json(r#"{"$date":-1}"#).unwrap(), "-1");
        assert_eq!(id_key_from_json("null").unwrap(), "null");
        assert!(id_key_from_json(r#"{"a":1}"#).is_err());
        assert!(id_key_from_json(r#"[1]"#).is_err());
    }
}
