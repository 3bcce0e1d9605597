//! The collection's embedding as the Data API's `$vector`: finds the mapped field
//! ([`crate::policy::VectorMapping`]), reads an array of numbers or a BSON binary vector
//! (subtype 9: float32, int8, packed bits) as float32 numbers, checks it, and writes it as
//! `"$vector": {"$binary": "<base64>"}`, the Data API's binary form: 4 bytes per element,
//! big-endian IEEE 754 float32 (stargate/data-api `CqlVectorUtil.bytesToFloats`; astrapy
//! writes the same by default). That form is exact — the stored float32 is the one computed
//! here, whatever the server's number parser does — and about half the size of the decimal
//! array. See `docs/vectors.md` for the sources.

use super::decode::DecodeError;
use super::encode::{Segment, Walk};
use super::indexing::{split_path, IndexState};
use super::json;
use super::violation::{AdjustmentKind, Violation, ViolationKind};
use crate::policy::{InvalidVectorPolicy, VectorMapping, VectorMappingError, MAX_VECTOR_DIMENSION};
use base64::Engine as _;
use bson::spec::BinarySubtype;
use bson::{Bson, Document};
use serde_json::value::RawValue;

/// The largest relative difference between a float64 and the float32 Astra stores for it:
/// half a unit in the last place of float32's 24-bit significand, 2⁻²⁴. Vectors are compared
/// after rounding to float32, so within this tolerance of the source's float64 numbers.
pub const FLOAT32_RELATIVE_TOLERANCE: f64 = 5.960_464_477_539_063e-8;

/// BSON binary-vector data types (mongodb/specifications `bson-binary-vector.md`).
const INT8: u8 = 0x03;
const FLOAT32: u8 = 0x27;
const PACKED_BIT: u8 = 0x10;

/// A [`VectorMapping`] with its path split, as the converter uses it.
#[derive(Debug, Clone)]
pub(crate) struct VectorField {
    pub(crate) mapping: VectorMapping,
    segments: Vec<String>,
}

/// Why a document's vector cannot be used.
pub(crate) struct Problem {
    kind: ViolationKind,
    message: String,
}

/// A vector read from the source.
struct Extracted {
    values: Vec<f32>,
    /// Whether some number was not a float32 and was rounded.
    rounded: bool,
}

impl VectorField {
    pub(crate) fn new(mapping: VectorMapping) -> Result<Self, VectorMappingError> {
        mapping.check()?;
        let segments = split_path(&mapping.field);
        Ok(Self { mapping, segments })
    }

    /// The value at the mapped path, through nested documents.
    fn lookup<'d>(&self, doc: &'d Document) -> Option<&'d Bson> {
        let (last, parents) = self.segments.split_last()?;
        let mut current = doc;
        for segment in parents {
            match current.get(segment) {
                Some(Bson::Document(inner)) => current = inner,
                _ => return None,
            }
        }
        current.get(last)
    }

    /// The document's vector as float32 numbers, checked against the mapping.
    pub(crate) fn source_vector(&self, doc: &Document) -> Result<Vec<f32>, Violation> {
        self.extract(doc)
            .map(|e| e.values)
            .map_err(|p| Violation::new(self.mapping.field.clone(), p.kind, p.message))
    }

    fn extract(&self, doc: &Document) -> Result<Extracted, Problem> {
        let field = &self.mapping.field;
        let extracted = match self.lookup(doc) {
            None => return Err(problem(ViolationKind::VectorMissing, format!("the document has no field '{field}' to use as its vector"))),
            Some(Bson::Null) => return Err(problem(ViolationKind::VectorMissing, format!("the vector field '{field}' is null"))),
            Some(Bson::Array(items)) => from_numbers(items, self.mapping.dimension)?,
            Some(Bson::Binary(bin)) if bin.subtype == BinarySubtype::Vector => {
                let values = from_bson_vector(&bin.bytes)
                    .map_err(|why| problem(ViolationKind::BadBsonVector, format!("the BSON vector is malformed: {why}")))?;
                Extracted { values, rounded: false }
            }
            Some(other) => {
                return Err(problem(
                    ViolationKind::VectorNotNumeric,
                    format!(
                        "the vector field is {}, not an array of numbers or a BSON vector",
                        super::encode::bson_type_name(other)
                    ),
                ))
            }
        };
        check_length(extracted.values.len(), self.mapping.dimension)?;
        if let Some(i) = extracted.values.iter().position(|v| !v.is_finite()) {
            return Err(problem(
                ViolationKind::VectorNotFinite,
                format!("element {i} of the vector is {}, which a vector cannot hold", extracted.values[i]),
            ));
        }
        Ok(extracted)
    }
}

/// How many elements the vector at `field` (a Data API path, as in [`VectorMapping::field`])
/// of `doc` has, when it holds an array or a BSON vector: what a job takes as the collection's
/// dimension when none is given.
pub fn vector_length(doc: &Document, field: &str) -> Option<usize> {
    let segments = split_path(field);
    let (last, parents) = segments.split_last()?;
    let mut current = doc;
    for segment in parents {
        match current.get(segment) {
            Some(Bson::Document(inner)) => current = inner,
            _ => return None,
        }
    }
    match current.get(last)? {
        Bson::Array(items) => Some(items.len()),
        Bson::Binary(bin) if bin.subtype == BinarySubtype::Vector => from_bson_vector(&bin.bytes).ok().map(|v| v.len()),
        _ => None,
    }
}

fn problem(kind: ViolationKind, message: String) -> Problem {
    Problem { kind, message }
}

fn check_length(len: usize, dimension: usize) -> Result<(), Problem> {
    if len > MAX_VECTOR_DIMENSION {
        return Err(problem(
            ViolationKind::VectorTooLong,
            format!("the vector has {len} elements, more than the {MAX_VECTOR_DIMENSION} Astra accepts"),
        ));
    }
    if len != dimension {
        return Err(problem(
            ViolationKind::VectorDimensionMismatch,
            format!("the vector has {len} elements, not the collection's dimension of {dimension}"),
        ));
    }
    Ok(())
}

/// An array of BSON numbers as float32, each rounded to the nearest float32 (the binary-vector
/// spec's rule for doubles, and what the Data API does with every `$vector` number).
fn from_numbers(items: &[Bson], dimension: usize) -> Result<Extracted, Problem> {
    // Checked first, so that a huge array is refused before it is read.
    check_length(items.len(), dimension)?;
    let mut values = Vec::with_capacity(items.len());
    let mut rounded = false;
    for (i, item) in items.iter().enumerate() {
        let (value, exact) = match item {
            Bson::Double(d) => {
                let f = *d as f32;
                if d.is_finite() && !f.is_finite() {
                    return Err(out_of_range(i, &d.to_string()));
                }
                // NaN and ±Infinity stay as they are, for the check after.
                (f, !d.is_finite() || f64::from(f) == *d)
            }
            Bson::Int32(n) => {
                let f = *n as f32;
                (f, f64::from(f) == f64::from(*n))
            }
            Bson::Int64(n) => {
                let f = *n as f32;
                // `as i64` saturates: 2^63 would pass for i64::MAX without the bound.
                (f, f < 9.223_372e18 && f as i64 == *n)
            }
            Bson::Decimal128(d) => {
                if super::decimal::is_finite(d) {
                    let text = d.to_string();
                    let f = text.parse::<f32>().unwrap_or(f32::INFINITY);
                    if !f.is_finite() {
                        return Err(out_of_range(i, &text));
                    }
                    (f, text.parse::<f64>().ok() == Some(f64::from(f)))
                } else {
                    (f32::NAN, true)
                }
            }
            other => {
                return Err(problem(
                    ViolationKind::VectorNotNumeric,
                    format!("element {i} of the vector is {}, not a number", super::encode::bson_type_name(other)),
                ))
            }
        };
        rounded |= !exact;
        values.push(value);
    }
    Ok(Extracted { values, rounded })
}

fn out_of_range(i: usize, text: &str) -> Problem {
    problem(
        ViolationKind::VectorNotFinite,
        format!("element {i} of the vector, {text}, is beyond the range of float32"),
    )
}

/// The elements of a BSON binary vector (subtype 9), by the BSON binary-vector spec: a
/// 2-byte header (data type, padding), then float32 little-endian, int8, or bits packed most
/// significant first, the last `padding` bits of the last byte unused (and zero).
pub(crate) fn from_bson_vector(bytes: &[u8]) -> Result<Vec<f32>, String> {
    let [dtype, padding, data @ ..] = bytes else {
        return Err(format!("{} bytes, shorter than the 2-byte header", bytes.len()));
    };
    let (dtype, padding) = (*dtype, *padding);
    if dtype != PACKED_BIT && padding != 0 {
        return Err(format!("padding {padding} on a vector that is not of packed bits"));
    }
    match dtype {
        FLOAT32 => {
            if data.len() % 4 != 0 {
                return Err(format!("{} bytes of float32 data, not a multiple of 4", data.len()));
            }
            Ok(data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        }
        INT8 => Ok(data.iter().map(|&b| f32::from(b as i8)).collect()),
        PACKED_BIT => {
            if padding > 7 {
                return Err(format!("padding {padding}, more than 7 bits"));
            }
            let Some(&last) = data.last() else {
                return if padding == 0 { Ok(Vec::new()) } else { Err(format!("padding {padding} on an empty vector")) };
            };
            // The spec's SHOULD: set unused bits mean the padding (so the dimension) is wrong.
            if last & ((1u8 << padding) - 1) != 0 {
                return Err(format!("the {padding} unused bits of the last byte are not zero"));
            }
            let len = data.len() * 8 - usize::from(padding);
            Ok((0..len).map(|i| f32::from((data[i / 8] >> (7 - i % 8)) & 1)).collect())
        }
        other => Err(format!("unknown data type 0x{other:02x} (known: 0x03 int8, 0x27 float32, 0x10 packed bits)")),
    }
}

impl<'c, 'd> Walk<'c, 'd> {
    /// Reads the document's mapped vector before the walk: on success the walk writes it as
    /// `$vector` and leaves the field out (unless it is kept); otherwise a violation or, under
    /// `WithoutVector`, an adjustment saying why there is no `$vector`.
    pub(crate) fn plan_vector(&mut self, field: &'c VectorField, doc: &Document) {
        match field.extract(doc) {
            Ok(extracted) => {
                if extracted.rounded {
                    self.adjust_at(field.mapping.field.clone(), AdjustmentKind::VectorRoundedToFloat32, None);
                }
                self.vector = Some(extracted.values);
                if !field.mapping.keep_field {
                    self.vector_skip = Some(&field.segments);
                }
            }
            Err(Problem { kind, message }) => match field.mapping.on_invalid {
                InvalidVectorPolicy::DeadLetter => self.violation_at(field.mapping.field.clone(), kind, message),
                InvalidVectorPolicy::WithoutVector => {
                    self.adjust_at(field.mapping.field.clone(), AdjustmentKind::VectorOmitted, Some(message));
                }
            },
        }
    }

    /// `,"$vector":{"$binary":"<base64 of big-endian float32>"}`, counted like the Data API
    /// counts it: a top-level property holding a one-property object.
    pub(super) fn write_vector(&mut self, values: &[f32]) {
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        self.out.extend_from_slice(b",\"$vector\":");
        self.path.push(Segment::Fixed("$vector"));
        self.open_wrapper(b"{\"$binary\":", IndexState::All);
        json::write_base64(&mut self.out, &bytes);
        self.close_wrapper();
        self.path.pop();
    }
}

/// Reads a `$vector` value of Data API JSON: an array of numbers, each read as the nearest
/// float32, or `{"$binary": "<base64 of big-endian float32>"}`.
pub fn vector_from_json(json: &str) -> Result<Vec<f32>, DecodeError> {
    let raw = json.trim();
    let bad = |why: &str| DecodeError::BadValue(format!("$vector {why}"));
    match raw.as_bytes().first() {
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(raw)?;
            items
                .iter()
                .map(|item| {
                    let text = item.get().trim();
                    if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                        return Err(bad("holds something other than numbers"));
                    }
                    // Parsed straight to float32: the nearest float32 to the decimal value,
                    // which is exactly the stored float32 whatever digits printed it.
                    text.parse::<f32>().ok().filter(|f| f.is_finite()).ok_or_else(|| bad("holds a number beyond float32"))
                })
                .collect()
        }
        Some(b'{') => {
            let map: std::collections::BTreeMap<String, String> =
                serde_json::from_str(raw).map_err(|_| bad("is an object other than {\"$binary\": base64}"))?;
            let (Some(text), 1) = (map.get("$binary"), map.len()) else {
                return Err(bad("is an object other than {\"$binary\": base64}"));
            };
            let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| bad("is not valid base64"))?;
            if bytes.len() % 4 != 0 {
                return Err(bad("binary is not a whole number of float32s"));
            }
            Ok(bytes.chunks_exact(4).map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
        _ => Err(bad("is neither an array nor a $binary object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bson_vectors_decode_by_the_spec_examples() {
        // mongodb/specifications bson-binary-vector.md, "Examples".
        assert_eq!(from_bson_vector(&[0x10, 0x04, 0xee, 0xe0]).unwrap(), [1., 1., 1., 0., 1., 1., 1., 0., 1., 1., 1., 0.]);
        assert_eq!(from_bson_vector(&[0x10, 0x07, 0x80]).unwrap(), [1.]);
        assert_eq!(
            from_bson_vector(&[0x10, 0x00, 0xf0, 0x42]).unwrap(),
            [1., 1., 1., 1., 0., 0., 0., 0., 0., 1., 0., 0., 0., 0., 1., 0.]
        );
        assert_eq!(from_bson_vector(&[0x03, 0x00, 0xff, 0x00, 0x01]).unwrap(), [-1., 0., 1.]);
        let floats = from_bson_vector(&[0x27, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x34, 0x12, 0x80, 0x7f]).unwrap();
        assert_eq!(floats[0], 1.0);
        assert!(floats[1].is_nan());
        assert_eq!(from_bson_vector(&[0x10, 0x00]).unwrap(), Vec::<f32>::new());
    }

    #[test]
    fn malformed_bson_vectors_are_refused() {
        for bad in [
            &[0x27][..],                 // no padding byte
            &[0x27, 0x01, 0, 0, 0, 0],   // padding on float32
            &[0x27, 0x00, 0, 0, 0],      // 3 bytes of float32
            &[0x03, 0x02, 1],            // padding on int8
            &[0x10, 0x01],               // padding on an empty packed vector
            &[0x10, 0x08, 0xff],         // padding over 7
            &[0x10, 0x04, 0xe1],         // unused bits set
            &[0x42, 0x00, 1, 2],         // unknown type
        ] {
            assert!(from_bson_vector(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_vectors_read_both_forms() {
        assert_eq!(vector_from_json("[0.5, -1, 2E0]").unwrap(), [0.5, -1.0, 2.0]);
        // Java may print a float32 widened to double: still the same float32.
        assert_eq!(vector_from_json("[0.10000000149011612]").unwrap(), [0.1f32]);
        let b64 = base64::engine::general_purpose::STANDARD.encode([0x3f, 0x80, 0, 0, 0xbf, 0xc0, 0, 0]);
        assert_eq!(vector_from_json(&format!(r#"{{"$binary":"{b64}"}}"#)).unwrap(), [1.0, -1.5]);
        for bad in [r#"["a"]"#, "[1e39]", r#"{"$binary":"AAA"}"#, r#"{"x":"AAAA"}"#, "3", "[null]"] {
            assert!(vector_from_json(bad).is_err(), "{bad}");
        }
    }
}
