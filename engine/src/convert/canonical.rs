//! A content hash of Data API JSON that is the same for a converted document and for the
//! same document read back from Astra: keys are sorted, strings compared by their value, and
//! numbers by their exact decimal value (`5`, `5.0` and `5E+0` hash alike; nothing passes
//! through `f64`). Verification hashes both sides and compares.
//!
//! The one exception is a document's top-level `$vector`: Astra keeps float32 numbers, so it
//! is hashed as the float32 values it holds, whether written as an array of numbers (each read
//! as the nearest float32) or as `{"$binary": ...}`. A document read back from Astra, with
//! its vector's numbers printed from float32, hashes like the converted one, whose vector was
//! rounded to float32 by the converter. Read it back with a projection that includes
//! `$vector` (`{"*": 1}`): the Data API's default projection leaves it out.

use super::vector::vector_from_json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

/// A SHA-256 over a document's canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(Self(bytes))
    }
}

/// Hashes any JSON text (a whole document or one value) in its canonical form.
pub fn content_hash(json: &str) -> Result<ContentHash, serde_json::Error> {
    let mut hasher = Sha256::new();
    feed(&mut hasher, json, true)?;
    Ok(ContentHash(hasher.finalize().into()))
}

fn feed(h: &mut Sha256, raw: &str, top: bool) -> Result<(), serde_json::Error> {
    let raw = raw.trim();
    match raw.as_bytes().first() {
        Some(b'{') => {
            let map: BTreeMap<String, &RawValue> = serde_json::from_str(raw)?;
            h.update(b"{");
            h.update((map.len() as u64).to_le_bytes());
            for (key, value) in map {
                h.update((key.len() as u64).to_le_bytes());
                h.update(key.as_bytes());
                let vector = (top && key == "$vector").then(|| vector_from_json(value.get()).ok()).flatten();
                match vector {
                    Some(vector) => feed_vector(h, &vector),
                    None => feed(h, value.get(), false)?,
                }
            }
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            h.update(b"[");
            h.update((items.len() as u64).to_le_bytes());
            for item in items {
                feed(h, item.get(), false)?;
            }
        }
        Some(b'"') => {
            let s: String = serde_json::from_str(raw)?;
            h.update(b"s");
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        Some(b't') => h.update(b"t"),
        Some(b'f') => h.update(b"f"),
        Some(b'n') => h.update(b"z"),
        _ => {
            // Validate it is a number, then hash its normalized text.
            let _: serde::de::IgnoredAny = serde_json::from_str(raw)?;
            let text = normalize_number(raw).unwrap_or_else(|| raw.to_owned());
            h.update(b"n");
            h.update((text.len() as u64).to_le_bytes());
            h.update(text.as_bytes());
        }
    }
    Ok(())
}

/// A vector as its float32 values (`-0` as `0`: they compare equal).
fn feed_vector(h: &mut Sha256, vector: &[f32]) {
    h.update(b"v");
    h.update((vector.len() as u64).to_le_bytes());
    for &v in vector {
        let v = if v == 0.0 { 0.0f32 } else { v };
        h.update(v.to_bits().to_le_bytes());
    }
}

/// The canonical text of a JSON number literal: the same for every spelling of the same
/// decimal value (`150`, `150.0`, `1.5E+2`, `1.50e2` → `150`; `-0.0` → `0`). Plain notation for
/// moderate magnitudes, `d.dddE±x` otherwise. `None` if `text` is not a JSON number or its
/// exponent is absurdly large.
pub fn normalize_number(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &text[int_start..i];
    if int_digits.is_empty() {
        return None;
    }
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &text[start..i];
        if frac_digits.is_empty() {
            return None;
        }
    }
    let mut exponent: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let exp_text = &text[i..];
        let digits = exp_text.trim_start_matches(['+', '-']);
        if digits.is_empty() || digits.len() > 18 || exp_text.len() - digits.len() > 1 {
            return None;
        }
        exponent = exp_text.parse().ok()?;
        i = bytes.len();
    }
    if i != bytes.len() {
        return None;
    }

    let mut digits: String = int_digits.chars().chain(frac_digits.chars()).collect();
    exponent -= frac_digits.len() as i64;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    if digits.is_empty() {
        return Some("0".to_owned());
    }
    let trailing = digits.len() - digits.trim_end_matches('0').len();
    digits.truncate(digits.len() - trailing);
    exponent += trailing as i64;

    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let n = digits.len() as i64;
    let point = n + exponent; // value = 0.<digits> × 10^point
    if exponent >= 0 && point <= 40 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', exponent as usize));
    } else if exponent < 0 && point > 0 {
        let (whole, frac) = digits.split_at(point as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(frac);
    } else if exponent < 0 && point > -10 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let adjusted = point - 1;
        out.push('E');
        if adjusted >= 0 {
            out.push('+');
        }
        out.push_str(&adjusted.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalize_by_value() {
        for (a, b) in [
            ("150", "150"),
            ("150.0", "150"),
            ("1.5E+2", "150"),
            ("1.50e2", "150"),
            ("-0.0", "0"),
            ("0", "0"),
            ("0.001", "0.001"),
            ("1.5", "1.5"),
            ("-12.340", "-12.34"),
            ("1e300", "1E+300"),
            ("1.23E-40", "1.23E-40"),
            ("9223372036854775807", "9223372036854775807"),
            ("-9223372036854775808", "-9223372036854775808"),
        ] {
            assert_eq!(normalize_number(a).as_deref(), Some(b), "{a}");
        }
        for bad in ["", "-", "1.", ".5", "1e", "01x", "1e+-2", "NaN"] {
            assert_eq!(normalize_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn hash_ignores_key_order_and_number_spelling() {
        let a = content_hash(r#"{"_id":{"$objectId":"ab"},"x":1.0,"y":[1,"s\u0041"]}"#).unwrap();
        let b = content_hash(r#"{ "y": [1E0, "sA"], "x": 1, "_id": {"$objectId": "ab"} }"#).unwrap();
        assert_eq!(a, b);
        let c = content_hash(r#"{"_id":{"$objectId":"ab"},"x":1.5,"y":[1,"sA"]}"#).unwrap();
        assert_ne!(a, c);
        // A string "1" is not the number 1.
        assert_ne!(content_hash(r#"{"a":"1"}"#).unwrap(), content_hash(r#"{"a":1}"#).unwrap());
    }
}
