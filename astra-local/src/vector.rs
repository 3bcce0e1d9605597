//! Vector values of vector collections, as stargate/data-api reads them and as the database
//! (Cassandra's SAI vector index, via jvector) compares them:
//!
//! - a document's `$vector` is an Array of Numbers or `{"$binary": base64}` of packed big-endian
//!   float32s (`DocumentShredder.traverseVector`, `WritableShreddedDocument.shredVector`,
//!   `CqlVectorUtil.bytesToFloats`); each number becomes a float32 (`JsonNode.floatValue()`);
//! - a `sort: {"$vector": ..}` takes the same two forms (`CollectionSortClauseBuilder`,
//!   `SortClauseBuilder.tryDecodeBinaryVector`, `JsonUtil.arrayNodeToVector`);
//! - the database refuses non-finite components, components beyond ±1e17 and, for cosine,
//!   all-(near-)zero vectors (`VectorValidation.validateIndexable`);
//! - similarities are jvector's `VectorSimilarityFunction.compare`: cosine `(1 + cos) / 2`, dot
//!   product `(1 + a·b) / 2`, euclidean `1 / (1 + |a - b|²)`; astra-local sums in f64 and rounds
//!   the result to f32 (jvector sums in f32, in SIMD lanes: results may differ in the last bit).
//!
//! Floats the API prints (`$similarity`, `status.sortVector`) are written as Java's
//! `Float.toString` writes them (Jackson's fast float writer), see [`write_java_float`].

use crate::data_api::errors::ApiError;
use crate::json::Node;

/// Largest `dimension` (`DocumentLimitsConfig.DEFAULT_MAX_VECTOR_EMBEDDING_LENGTH`).
pub const MAX_DIMENSION: usize = 4_096;
/// Most documents a vector sort returns, and the largest `limit` it takes
/// (`OperationsConfig.maxVectorSearchLimit`).
pub const MAX_VECTOR_SEARCH_LIMIT: usize = 1_000;
/// Largest component magnitude the database indexes (`VectorValidation.MAX_FLOAT32_COMPONENT`).
pub const MAX_COMPONENT: f32 = 1e17;

/// A collection's similarity function (`SimilarityFunction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Cosine,
    DotProduct,
    Euclidean,
}

impl Metric {
    /// The `metric` names `createCollection` accepts (its `@Pattern` is case-sensitive).
    pub fn from_api_name(name: &str) -> Option<Metric> {
        match name {
            "cosine" => Some(Metric::Cosine),
            "dot_product" => Some(Metric::DotProduct),
            "euclidean" => Some(Metric::Euclidean),
            _ => None,
        }
    }

    pub fn api_name(self) -> &'static str {
        match self {
            Metric::Cosine => "cosine",
            Metric::DotProduct => "dot_product",
            Metric::Euclidean => "euclidean",
        }
    }

    /// The similarity of `stored` to `query`; `*_norm2` are their squared lengths (see [`norm2`]).
    pub fn similarity(self, query: &[f32], query_norm2: f64, stored: &[f32], stored_norm2: f64) -> f32 {
        let score = match self {
            Metric::Cosine => {
                let cos = dot(query, stored) / (query_norm2 * stored_norm2).sqrt();
                (1.0 + cos) / 2.0
            }
            Metric::DotProduct => (1.0 + dot(query, stored)) / 2.0,
            Metric::Euclidean => 1.0 / (1.0 + squared_distance(query, stored)),
        };
        score as f32
    }
}

/// The `sourceModel` names and the metric each implies when none is given
/// (`EmbeddingSourceModel`).
pub const SOURCE_MODELS: &[(&str, Metric)] = &[
    ("ada002", Metric::DotProduct),
    ("bert", Metric::DotProduct),
    ("cohere-v3", Metric::DotProduct),
    ("gecko", Metric::DotProduct),
    ("nv-qa-4", Metric::DotProduct),
    ("openai-v3-large", Metric::DotProduct),
    ("openai-v3-small", Metric::DotProduct),
    ("other", Metric::Cosine),
];

const LANES: usize = 8;

/// `a · b`, summed in f64 over independent lanes (vectorizes well).
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    let (a_chunks, a_rest) = a.as_chunks::<LANES>();
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    let mut acc = [0f64; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..LANES {
            acc[lane] += f64::from(x[lane]) * f64::from(y[lane]);
        }
    }
    let tail: f64 = a_rest.iter().zip(b_rest).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    acc.iter().sum::<f64>() + tail
}

/// `|a|²`.
pub fn norm2(a: &[f32]) -> f64 {
    dot(a, a)
}

/// `|a - b|²`.
pub fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    let (a_chunks, a_rest) = a.as_chunks::<LANES>();
    let (b_chunks, b_rest) = b.as_chunks::<LANES>();
    let mut acc = [0f64; LANES];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for lane in 0..LANES {
            let d = f64::from(x[lane]) - f64::from(y[lane]);
            acc[lane] += d * d;
        }
    }
    let tail: f64 = a_rest
        .iter()
        .zip(b_rest)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum();
    acc.iter().sum::<f64>() + tail
}

/// The database's check of a vector to index or to query with (`VectorValidation`); `Err` holds
/// its message.
pub fn check_indexable(vector: &[f32], metric: Metric) -> Result<(), String> {
    for (i, v) in vector.iter().enumerate() {
        if !v.is_finite() {
            return Err(format!("non-finite value at vector[{i}]={}", java_float(*v)));
        }
        if v.abs() > MAX_COMPONENT {
            return Err(format!("Out-of-bounds value at vector[{i}]={}", java_float(*v)));
        }
    }
    if metric == Metric::Cosine && vector.iter().all(|v| (-1e-6..=1e-6).contains(v)) {
        return Err("Zero and near-zero vectors cannot be indexed or queried with cosine similarity".into());
    }
    Ok(())
}

/// A number literal as float32 (Java's `BigDecimal.floatValue()`: correctly rounded, overflow to
/// infinity).
fn to_f32(literal: &str) -> f32 {
    literal.parse::<f32>().unwrap_or(f32::NAN)
}

/// `JsonUtil.arrayNodeToVector` / `shredVector(ArrayNode)`: every element must be a Number.
fn array_vector(items: &[Node<'_>]) -> Result<Vec<f32>, ApiError> {
    if items.is_empty() {
        return Err(ApiError::shred_bad_vector_size());
    }
    items
        .iter()
        .map(|item| match item {
            Node::Number(n) => Ok(to_f32(n)),
            other => Err(ApiError::shred_bad_vector_value(other.type_name(), &other.to_json())),
        })
        .collect()
}

/// `CqlVectorUtil.bytesToFloats`.
pub fn bytes_to_floats(bytes: &[u8]) -> Result<Vec<f32>, String> {
    let (chunks, rest) = bytes.as_chunks::<4>();
    if !rest.is_empty() {
        return Err(format!("binary value to decode is not a multiple of 4 bytes long ({} bytes)", bytes.len()));
    }
    Ok(chunks.iter().map(|c| f32::from_be_bytes(*c)).collect())
}

/// `CqlVectorUtil.floatsToBytes`.
pub fn floats_to_bytes(floats: &[f32]) -> Vec<u8> {
    floats.iter().flat_map(|f| f.to_be_bytes()).collect()
}

/// Jackson's `TextNode.binaryValue()` (the `MIME-NO-LINEFEEDS` variant: padding required), with
/// its messages.
pub fn jackson_base64(text: &str) -> Result<Vec<u8>, String> {
    fn sextet(c: char) -> Option<u32> {
        Some(match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            _ => return None,
        })
    }
    fn invalid(c: char, index: usize, extra: Option<&str>) -> String {
        let code = format!("{:x}", c as u32);
        let base = if (c as u32) <= 0x20 {
            format!(
                "Illegal white space character (code 0x{code}) as character #{} of 4-char base64 unit: can only used between units",
                index + 1
            )
        } else if c == '=' {
            format!(
                "Unexpected padding character ('=') as character #{} of 4-char base64 unit: padding only legal as 3rd or 4th character",
                index + 1
            )
        } else if c.is_control() {
            format!("Illegal character (code 0x{code}) in base64 content")
        } else {
            format!("Illegal character '{c}' (code 0x{code}) in base64 content")
        };
        let base = match extra {
            Some(extra) => format!("{base}: {extra}"),
            None => base,
        };
        format!("Cannot access contents of TextNode as binary due to broken Base64 encoding: {base}")
    }
    let eof = || {
        "Cannot access contents of TextNode as binary due to broken Base64 encoding: Unexpected end of base64-encoded String: base64 variant 'MIME-NO-LINEFEEDS' expects padding (one or more '=' characters) at the end. This Base64Variant might have been incorrectly configured".to_owned()
    };
    let mut chars = text.trim().chars().peekable();
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    loop {
        let first = loop {
            match chars.next() {
                None => return Ok(out),
                Some(c) if (c as u32) <= 0x20 => continue,
                Some(c) => break c,
            }
        };
        let mut bits = sextet(first).ok_or_else(|| invalid(first, 0, None))?;
        let second = chars.next().ok_or_else(eof)?;
        bits = (bits << 6) | sextet(second).ok_or_else(|| invalid(second, 1, None))?;
        let third = chars.next().ok_or_else(eof)?;
        let Some(value) = sextet(third) else {
            if third != '=' {
                return Err(invalid(third, 2, None));
            }
            match chars.next() {
                Some('=') => {}
                Some(other) => return Err(invalid(other, 3, Some("expected padding character '='"))),
                None => return Err(eof()),
            }
            out.push((bits >> 4) as u8);
            continue;
        };
        bits = (bits << 6) | value;
        let fourth = chars.next().ok_or_else(eof)?;
        match sextet(fourth) {
            Some(value) => {
                bits = (bits << 6) | value;
                out.extend_from_slice(&[(bits >> 16) as u8, (bits >> 8) as u8, bits as u8]);
            }
            None if fourth == '=' => {
                bits >>= 2;
                out.extend_from_slice(&[(bits >> 8) as u8, bits as u8]);
            }
            None => return Err(invalid(fourth, 3, None)),
        }
    }
}

/// Reads a document's `$vector` (`DocumentShredder.traverseVector`): `None` for `null`.
pub fn document_vector(value: &Node<'_>) -> Result<Option<Vec<f32>>, ApiError> {
    match value {
        Node::Null => Ok(None),
        Node::Array(items) => array_vector(items).map(Some),
        Node::Object(entries) => {
            let Some((key, binary)) = entries.first() else {
                // The real code takes the first entry of the Object without checking it has one.
                return Err(ApiError::unexpected_server_error("NoSuchElementException", "empty '$vector' Object"));
            };
            if key.value != "$binary" {
                return Err(ApiError::shred_bad_document_vector_type(&format!(
                    "the key for the $vector Object must be '$binary', not '{}'",
                    key.value
                )));
            }
            let Node::String(text) = binary else {
                return Err(ApiError::shred_bad_binary_vector_value(&format!(
                    "Unsupported JSON value type in EJSON $binary wrapper ({}): only String allowed",
                    binary.type_name()
                )));
            };
            let bytes = jackson_base64(&text.value).map_err(|problem| {
                ApiError::shred_bad_binary_vector_value(&format!(
                    "Invalid content in EJSON $binary wrapper; not valid Base64-encoded String: {problem}"
                ))
            })?;
            bytes_to_floats(&bytes).map(Some).map_err(|problem| ApiError::shred_bad_binary_vector_value(&problem))
        }
        other => Err(ApiError::shred_bad_document_vector_type(&format!(
            "JSON '{}'s not supported: only JSON Arrays and Objects are",
            other.type_name()
        ))),
    }
}

/// Reads the vector of `sort: {"$vector": ..}` (`CollectionSortClauseBuilder`).
pub fn sort_vector(value: &Node<'_>) -> Result<Vec<f32>, ApiError> {
    let path = "$vector";
    match value {
        Node::Object(entries) => {
            let binary = match entries.as_slice() {
                [(key, binary)] if key.value == "$binary" => binary,
                _ => {
                    return Err(ApiError::sort_clause_value_invalid(
                        path,
                        &format!("only binary vector object values are supported for sorting, not value: {}", value.to_json()),
                    ))
                }
            };
            let Node::String(text) = binary else {
                // `JsonNode.binaryValue()` of a non-text node is null, which the real code then
                // dereferences.
                return Err(ApiError::unexpected_server_error("NullPointerException", "'$binary' value is not a String"));
            };
            let problem = |p: String| {
                ApiError::sort_clause_value_invalid(path, &format!("Invalid content in EJSON $binary wrapper, problem: {p}"))
            };
            let bytes = jackson_base64(&text.value).map_err(problem)?;
            bytes_to_floats(&bytes).map_err(problem)
        }
        Node::Array(items) => array_vector(items),
        other => Err(ApiError::sort_clause_value_invalid(
            path,
            &format!("vector sort expression needs to be Array value, not {}", other.type_name()),
        )),
    }
}

/// `value` as Java's `Float.toString` (JDK 19+) and Jackson's fast float writer print it: the
/// shortest decimal that reads back as `value` (when one digit would do, the closest of one or two
/// digits), plain for 10⁻³ ≤ |v| < 10⁷ (`0.5`, `1.0`, `1234567.0`), else `1.0E-4`, `1.5E10`.
pub fn write_java_float(value: f32, out: &mut String) {
    if value.is_nan() {
        out.push_str("NaN");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    let magnitude = value.abs();
    if magnitude == 0.0 {
        out.push_str("0.0");
        return;
    }
    // Rust's `{:e}` of an f32 is its shortest round-trip form, e.g. `1.2345e-1`.
    let sci = format!("{magnitude:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 1 {
        let scale = 10f64.powi(exponent - 1);
        let two = (f64::from(magnitude) / scale).round();
        let first = f64::from(digits.as_bytes()[0] - b'0');
        if (10.0..100.0).contains(&two) && two != first * 10.0 {
            let candidate = format!("{}e{}", two as u32, exponent - 1);
            if candidate.parse::<f32>().ok() == Some(magnitude) {
                digits = (two as u32).to_string();
            }
        }
    }
    if digits.len() > 1 && digits.ends_with('0') {
        let kept = digits.trim_end_matches('0').len().max(1);
        digits.truncate(kept);
    }
    if (-3..7).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push_str(&exponent.to_string());
    }
}

/// [`write_java_float`] into a new string.
pub fn java_float(value: f32) -> String {
    let mut out = String::new();
    write_java_float(value, &mut out);
    out
}

/// A vector as the API prints a `float[]`: `[0.25,1.0]`.
pub fn write_java_floats(values: &[f32], out: &mut String) {
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_java_float(*v, out);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn floats_print_as_java_does() {
        for (value, text) in [
            (1.0f32, "1.0"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (0.15, "0.15"),
            (-2.5, "-2.5"),
            (0.001, "0.001"),
            (1.0e-4, "1.0E-4"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (0.99999994, "0.99999994"),
            (1.4e-45, "1.4E-45"),
            (3.4028235e38, "3.4028235E38"),
            (100.0, "100.0"),
            (0.0, "0.0"),
        ] {
            assert_eq!(java_float(value), text, "{value:e}");
        }
        assert_eq!(java_float(0.1f64 as f32), "0.1");
        assert_eq!(java_float(0.123456789f64 as f32), "0.12345679");
    }

    #[test]
    fn vectors_are_read_like_the_data_api() {
        let read = |text: &str| document_vector(&parse(text, 100).unwrap()).map_err(|e| e.code());
        assert_eq!(read("[0.25, 1, -1e2]"), Ok(Some(vec![0.25, 1.0, -100.0])));
        assert_eq!(read("null"), Ok(None));
        assert_eq!(read("[]"), Err("SHRED_BAD_VECTOR_SIZE"));
        assert_eq!(read(r#"[0.1,"a"]"#), Err("SHRED_BAD_VECTOR_VALUE"));
        assert_eq!(read(r#""abc""#), Err("SHRED_BAD_DOCUMENT_VECTOR_TYPE"));
        assert_eq!(read(r#"{"binary":"AAAA"}"#), Err("SHRED_BAD_DOCUMENT_VECTOR_TYPE"));
        assert_eq!(read(r#"{"$binary":1234}"#), Err("SHRED_BAD_BINARY_VECTOR_VALUE"));
        assert_eq!(read(r#"{"$binary":"1234"}"#), Err("SHRED_BAD_BINARY_VECTOR_VALUE"));
        assert_eq!(read(r#"{"$binary":"PoAAAA=="}"#), Ok(Some(vec![0.25])));
        let packed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, floats_to_bytes(&[0.25, -1.5]));
        assert_eq!(read(&format!(r#"{{"$binary":"{packed}"}}"#)), Ok(Some(vec![0.25, -1.5])));
    }

    #[test]
    fn base64_errors_read_as_jacksons() {
        let err = jackson_base64("@#$%^&*()").unwrap_err();
        assert!(err.ends_with("Illegal character '@' (code 0x40) in base64 content"), "{err}");
        assert!(jackson_base64("PoAA").is_ok());
        assert!(jackson_base64("PoA").unwrap_err().contains("expects padding"));
        assert_eq!(jackson_base64("PoA=").unwrap(), vec![0x3e, 0x80]);
        assert_eq!(jackson_base64("Pg==").unwrap(), vec![0x3e]);
    }

    #[test]
    fn similarities_follow_jvector() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 1.0];
        let s = |m: Metric, x: &[f32], y: &[f32]| m.similarity(x, norm2(x), y, norm2(y));
        assert_eq!(s(Metric::Cosine, &a, &a), 1.0);
        assert_eq!(s(Metric::Cosine, &a, &b), 0.5);
        assert_eq!(s(Metric::DotProduct, &a, &b), 0.5);
        assert_eq!(s(Metric::Euclidean, &a, &b), 1.0 / 3.0);
        assert_eq!(s(Metric::Euclidean, &a, &a), 1.0);
        assert!(check_indexable(&[0.0, 1e-7], Metric::Cosine).is_err());
        assert!(check_indexable(&[0.0, 1e-7], Metric::DotProduct).is_ok());
        assert!(check_indexable(&[f32::INFINITY], Metric::Euclidean).unwrap_err().contains("vector[0]=Infinity"));
        let long: Vec<f32> = (0..19).map(|i| i as f32).collect();
        assert_eq!(dot(&long, &long), (0..19).map(|i| f64::from(i * i)).sum::<f64>());
    }
}
