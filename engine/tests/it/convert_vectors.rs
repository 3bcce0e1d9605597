//! Embeddings become the Data API's `$vector`, and binaries keep their subtype's meaning
//! (issue #16): arrays and BSON binary vectors (float32, int8, packed bits) are written as
//! `$vector`, invalid ones are refused with their reason or written without a vector, special
//! binary subtypes are refused by default or written by an explicit policy, and the content
//! hash compares vectors as float32.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use bson::binary::{PackedBitVector, Vector};
use bson::spec::BinarySubtype;
use bson::{doc, Binary, Bson, Document};
use engine::convert::{
    content_hash, document_from_json, vector_from_json, AdjustmentKind, Converted, Converter, ConverterError,
    Rejection, ViolationCode, ViolationKind,
};
use engine::policy::{
    BinarySubtypePolicy, ConversionPolicy, Indexing, InvalidVectorPolicy, NonFinitePolicy, VectorMapping,
    VectorMappingError, VectorMetric,
};
use serde_json::Value;

fn converter(policy: ConversionPolicy, mapping: Option<VectorMapping>) -> Converter {
    let c = Converter::new(policy, &Indexing::default()).unwrap();
    match mapping {
        Some(m) => c.with_vector(m).unwrap(),
        None => c,
    }
}

fn mapped(field: &str, dimension: usize) -> Converter {
    converter(ConversionPolicy::default(), Some(VectorMapping::new(field, dimension)))
}

fn ok(c: &Converter, doc: &Document) -> Converted {
    c.convert(doc).unwrap_or_else(|r| panic!("rejected: {r}"))
}

fn refused(c: &Converter, doc: &Document) -> Rejection {
    match c.convert(doc) {
        Ok(converted) => panic!("accepted: {}", converted.json()),
        Err(r) => r,
    }
}

fn parse(c: &Converted) -> Value {
    serde_json::from_str(c.json()).unwrap()
}

/// The `$vector` of a converted document, decoded.
fn vector_of(c: &Converted) -> Vec<f32> {
    let json = parse(c);
    vector_from_json(&json["$vector"].to_string()).unwrap()
}

/// A deterministic float64 embedding of `len` numbers in (-1, 1), not float32-exact.
fn embedding(seed: u64, len: usize) -> Vec<f64> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect()
}

fn as_bson(values: &[f64]) -> Bson {
    Bson::Array(values.iter().copied().map(Bson::Double).collect())
}

#[test]
fn a_768_dimension_array_becomes_vector_as_float32() {
    let source = embedding(1, 768);
    let doc = doc! { "_id": 1, "title": "a", "embedding": as_bson(&source), "after": true };
    let c = ok(&mapped("embedding", 768), &doc);
    let json = parse(&c);
    // Binary float32, big-endian: 4 bytes per element.
    let b64 = json["$vector"]["$binary"].as_str().unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(b64).unwrap().len(), 768 * 4);
    let expected: Vec<f32> = source.iter().map(|&d| d as f32).collect();
    assert_eq!(vector_of(&c), expected);
    // Moved: the field is gone, the others are kept, in order, `_id` and `$vector` first.
    assert!(json.get("embedding").is_none());
    assert!(c.json().starts_with(r#"{"_id":1,"$vector":{"$binary":""#), "{}", &c.json()[..40]);
    assert!(c.json().ends_with(r#""},"title":"a","after":true}"#));
    // Float64 numbers lost precision: said so, once, at the source field.
    let rounded: Vec<_> = c.adjustments().iter().filter(|a| a.kind == AdjustmentKind::VectorRoundedToFloat32).collect();
    assert_eq!(rounded.len(), 1);
    assert_eq!(rounded[0].path, "embedding");
    // The helper the job uses gives the same numbers.
    assert_eq!(mapped("embedding", 768).source_vector(&doc).unwrap().unwrap(), expected);
}

#[test]
fn embeddings_over_the_indexed_array_limit_pass_as_vector() {
    // The Data API exempts `$vector` from the 1,000-element limit on indexed arrays
    // (stargate/data-api DocumentShredder: maxVectorEmbeddingLength instead).
    let doc = doc! { "_id": 1, "e": as_bson(&embedding(2, 1536)) };
    assert_eq!(vector_of(&ok(&mapped("e", 1536), &doc)).len(), 1536);
    let at_max = doc! { "_id": 1, "e": as_bson(&embedding(3, 4096)) };
    assert_eq!(vector_of(&ok(&mapped("e", 4096), &at_max)).len(), 4096);
    // Kept as well, the copy is an ordinary indexed array and meets the ordinary limit.
    let keep = VectorMapping { keep_field: true, ..VectorMapping::new("e", 1536) };
    let r = refused(&converter(ConversionPolicy::default(), Some(keep.clone())), &doc);
    assert_eq!(r.violations[0].kind, ViolationKind::IndexedArrayTooLong);
    let deny = Indexing { allow: None, deny: Some(vec!["e".into()]) };
    let c = Converter::new(ConversionPolicy::default(), &deny).unwrap().with_vector(keep).unwrap();
    let json = parse(&ok(&c, &doc));
    assert_eq!(json["e"].as_array().unwrap().len(), 1536);
}

#[test]
fn a_float32_bson_vector_becomes_vector_exactly() {
    let values: Vec<f32> = embedding(4, 384).iter().map(|&d| d as f32).collect();
    let doc = doc! { "_id": "v", "emb": Binary::from(Vector::Float32(values.clone())) };
    let c = ok(&mapped("emb", 384), &doc);
    assert_eq!(vector_of(&c), values);
    assert!(c.adjustments().is_empty(), "float32 in, float32 out: {:?}", c.adjustments());
}

#[test]
fn int8_and_packed_bit_vectors_decode() {
    let int8 = doc! { "_id": 1, "v": Binary::from(Vector::Int8(vec![-128, -1, 0, 1, 127])) };
    assert_eq!(vector_of(&ok(&mapped("v", 5), &int8)), [-128.0, -1.0, 0.0, 1.0, 127.0]);
    // 0xee 0xe0 with 4 bits of padding: 1110 1110 1110 (the spec's example).
    let bits = doc! { "_id": 2, "v": Binary::from(Vector::PackedBit(PackedBitVector::new(vec![0xee, 0xe0], 4).unwrap())) };
    assert_eq!(vector_of(&ok(&mapped("v", 12), &bits)), [1., 1., 1., 0., 1., 1., 1., 0., 1., 1., 1., 0.]);
    // The padding counts: 16 bits is another dimension.
    let r = refused(&mapped("v", 16), &bits);
    assert_eq!(r.violations[0].kind, ViolationKind::VectorDimensionMismatch);
    // Set padding bits mean a wrong padding: malformed.
    let bad = doc! { "_id": 3, "v": Binary { subtype: BinarySubtype::Vector, bytes: vec![0x10, 0x04, 0xe1] } };
    let r = refused(&mapped("v", 4), &bad);
    assert_eq!((r.violations[0].kind, r.violations[0].code()), (ViolationKind::BadBsonVector, ViolationCode::ShredBadBinaryVectorValue));
    assert!(r.violations[0].message.contains("unused bits"), "{r}");
}

#[test]
fn wrong_length_and_nan_embeddings_are_refused_with_their_reasons() {
    let c = mapped("embedding", 768);
    let short = doc! { "_id": 1, "embedding": as_bson(&embedding(5, 767)) };
    let r = refused(&c, &short);
    assert_eq!(r.violations.len(), 1);
    let v = &r.violations[0];
    assert_eq!((v.path.as_str(), v.kind, v.code()), ("embedding", ViolationKind::VectorDimensionMismatch, ViolationCode::InvalidVectorLength));
    assert!(v.message.contains("767 elements, not the collection's dimension of 768"), "{v}");

    let mut values = embedding(6, 768);
    values[10] = f64::NAN;
    let nan = doc! { "_id": 2, "embedding": as_bson(&values) };
    let r = refused(&c, &nan);
    let v = &r.violations[0];
    assert_eq!((v.kind, v.code()), (ViolationKind::VectorNotFinite, ViolationCode::ShredBadVectorValue));
    assert!(v.message.contains("element 10 of the vector is NaN"), "{v}");

    let too_long = doc! { "_id": 3, "embedding": as_bson(&embedding(7, 5000)) };
    assert_eq!(refused(&c, &too_long).violations[0].kind, ViolationKind::VectorTooLong);
    let beyond = doc! { "_id": 4, "embedding": [1e300, 0.5] };
    assert_eq!(refused(&mapped("embedding", 2), &beyond).violations[0].kind, ViolationKind::VectorNotFinite);
    let strings = doc! { "_id": 5, "embedding": [1.0, "x"] };
    assert_eq!(refused(&mapped("embedding", 2), &strings).violations[0].kind, ViolationKind::VectorNotNumeric);
    let text = doc! { "_id": 6, "embedding": "0.1,0.2" };
    assert_eq!(refused(&mapped("embedding", 2), &text).violations[0].kind, ViolationKind::VectorNotNumeric);
    for missing in [doc! { "_id": 7 }, doc! { "_id": 8, "embedding": Bson::Null }] {
        let r = refused(&c, &missing);
        assert_eq!((r.violations[0].kind, r.violations[0].code()), (ViolationKind::VectorMissing, ViolationCode::MissingVector));
    }
}

#[test]
fn without_vector_writes_the_document_and_keeps_the_field() {
    let mapping = VectorMapping { on_invalid: InvalidVectorPolicy::WithoutVector, ..VectorMapping::new("embedding", 3) };
    let c = converter(ConversionPolicy::default(), Some(mapping.clone()));
    let short = doc! { "_id": 1, "embedding": [0.5, 0.25] };
    let converted = ok(&c, &short);
    assert_eq!(converted.json(), r#"{"_id":1,"embedding":[0.5,0.25]}"#);
    let omitted = &converted.adjustments()[0];
    assert_eq!((omitted.kind, omitted.path.as_str()), (AdjustmentKind::VectorOmitted, "embedding"));
    assert!(omitted.detail.as_deref().unwrap().contains("2 elements"), "{omitted:?}");
    assert_eq!(ok(&c, &doc! { "_id": 2 }).json(), r#"{"_id":2}"#);
    // A kept NaN still meets the non-finite policy: rejected by default, or as it says.
    let nan = doc! { "_id": 3, "embedding": [0.5, f64::NAN, 1.0] };
    assert_eq!(refused(&c, &nan).violations[0].kind, ViolationKind::NonFiniteNumber);
    let lenient = converter(ConversionPolicy { non_finite_numbers: NonFinitePolicy::AsString, ..Default::default() }, Some(mapping));
    assert_eq!(ok(&lenient, &nan).json(), r#"{"_id":3,"embedding":[0.5,"NaN",1.0]}"#);
}

#[test]
fn nested_fields_map_and_kept_fields_stay() {
    let doc = doc! { "_id": 1, "meta": { "model": "m", "emb": [0.5, 1.5] }, "x": 1 };
    let c = ok(&mapped("meta.emb", 2), &doc);
    assert_eq!(c.json(), r#"{"_id":1,"$vector":{"$binary":"PwAAAD/AAAA="},"meta":{"model":"m"},"x":1}"#);
    let keep = VectorMapping { keep_field: true, ..VectorMapping::new("meta.emb", 2) };
    let c = ok(&converter(ConversionPolicy::default(), Some(keep)), &doc);
    assert_eq!(c.json(), r#"{"_id":1,"$vector":{"$binary":"PwAAAD/AAAA="},"meta":{"model":"m","emb":[0.5,1.5]},"x":1}"#);
    // Only the object path is the vector: the same name in an array element is not.
    let in_array = doc! { "_id": 2, "meta": [{ "emb": [0.5, 1.5] }] };
    assert_eq!(refused(&mapped("meta.emb", 2), &in_array).violations[0].kind, ViolationKind::VectorMissing);
    // A dotted name is addressed with the Data API's escape.
    let dotted = doc! { "_id": 3, "a.b": [0.5, 1.5] };
    assert_eq!(ok(&mapped("a&.b", 2), &dotted).json(), r#"{"_id":3,"$vector":{"$binary":"PwAAAD/AAAA="}}"#);
}

#[test]
fn content_hash_compares_vectors_as_float32() {
    let source = embedding(8, 768);
    let doc = doc! { "_id": 1, "title": "a", "embedding": as_bson(&source) };
    let c = ok(&mapped("embedding", 768), &doc);
    // Read back from Astra: other key order, the vector as numbers printed from float32.
    let printed: Vec<String> = source.iter().map(|&d| (d as f32).to_string()).collect();
    let back = format!(r#"{{"title":"a","$vector":[{}],"_id":1}}"#, printed.join(","));
    assert_eq!(content_hash(&back).unwrap(), c.content_hash());
    // Or widened to double, as a Java float may be printed.
    let widened: Vec<String> = source.iter().map(|&d| f64::from(d as f32).to_string()).collect();
    let back = format!(r#"{{"_id":1,"title":"a","$vector":[{}]}}"#, widened.join(","));
    assert_eq!(content_hash(&back).unwrap(), c.content_hash());
    // One float32 step off is a different vector.
    let mut off: Vec<f32> = source.iter().map(|&d| d as f32).collect();
    off[0] = f32::from_bits(off[0].to_bits() + 1);
    let printed: Vec<String> = off.iter().map(|f| f.to_string()).collect();
    let back = format!(r#"{{"_id":1,"title":"a","$vector":[{}]}}"#, printed.join(","));
    assert_ne!(content_hash(&back).unwrap(), c.content_hash());
    // Without `$vector` (the Data API's default projection) it does not match.
    assert_ne!(content_hash(r#"{"_id":1,"title":"a"}"#).unwrap(), c.content_hash());
    // Hashes of documents without a vector are unchanged: a nested `$vector` key is plain data.
    assert_ne!(content_hash(r#"{"a":{"$vector":[1]}}"#).unwrap(), content_hash(r#"{"a":{"$vector":[1.0000001]}}"#).unwrap());
}

fn bin(subtype: u8, bytes: &[u8]) -> Bson {
    Bson::Binary(Binary { subtype: BinarySubtype::from(subtype), bytes: bytes.to_vec() })
}

fn with_binaries(binary_subtypes: BinarySubtypePolicy) -> Converter {
    converter(ConversionPolicy { binary_subtypes, ..Default::default() }, None)
}

#[test]
fn a_user_defined_binary_is_refused_by_default() {
    let doc = doc! { "_id": 1, "b": bin(0x80, &[1, 2, 3]) };
    let r = refused(&with_binaries(BinarySubtypePolicy::Reject), &doc);
    let v = &r.violations[0];
    assert_eq!((v.path.as_str(), v.kind, v.code()), ("b", ViolationKind::BinarySubtype(0x80), ViolationCode::UnsupportedBsonValue));
    assert_eq!(v.kind.reason(), "binary subtype 0x80 (user-defined)");
    assert!(v.message.contains("binary subtype 0x80 (user-defined)"), "{v}");
}

#[test]
fn a_user_defined_binary_keeps_its_subtype_as_a_tagged_object() {
    let doc = doc! { "_id": 1, "b": bin(0x80, &[1, 2, 3]) };
    let c = ok(&with_binaries(BinarySubtypePolicy::AsTaggedObject), &doc);
    assert_eq!(c.json(), r#"{"_id":1,"b":{"__bson_type":"binary","subtype":128,"base64":"AQID"}}"#);
    assert_eq!(c.adjustments()[0].kind, AdjustmentKind::BinaryAsTaggedObject);
    assert_eq!(document_from_json(c.json()).unwrap(), doc, "decodes back to the same binary");
    // The base64 is an ordinary string to the Data API: the indexed-string limit applies.
    let big = doc! { "_id": 2, "b": bin(0x80, &[0; 6_001]) };
    let r = refused(&with_binaries(BinarySubtypePolicy::AsTaggedObject), &big);
    assert_eq!((r.violations[0].kind, r.violations[0].path.as_str()), (ViolationKind::IndexedStringTooLong, "b.base64"));
}

#[test]
fn a_user_defined_binary_loses_only_its_subtype_as_binary() {
    let doc = doc! { "_id": 1, "b": bin(0x80, &[1, 2, 3]) };
    let c = ok(&with_binaries(BinarySubtypePolicy::AsBinary), &doc);
    assert_eq!(c.json(), r#"{"_id":1,"b":{"$binary":"AQID"}}"#);
    let a = &c.adjustments()[0];
    assert_eq!((a.kind, a.path.as_str()), (AdjustmentKind::BinarySubtypeDropped, "b"));
}

#[test]
fn md5_encrypted_sensitive_and_others_behave_like_user_defined() {
    for (subtype, name) in [
        (0x01, "function"),
        (0x05, "MD5"),
        (0x06, "encrypted"),
        (0x07, "compressed column"),
        (0x08, "sensitive"),
        (0x09, "vector"),
        (0x2a, "reserved"),
        (0xff, "user-defined"),
    ] {
        let doc = doc! { "_id": 1, "b": bin(subtype, &[0xff; 16]) };
        let r = refused(&with_binaries(BinarySubtypePolicy::Reject), &doc);
        assert_eq!(r.violations[0].kind.reason(), format!("binary subtype 0x{subtype:02x} ({name})"));
        assert_eq!(r.violations[0].code(), ViolationCode::UnsupportedBsonValue);
        let tagged = ok(&with_binaries(BinarySubtypePolicy::AsTaggedObject), &doc);
        assert_eq!(
            tagged.json(),
            format!(r#"{{"_id":1,"b":{{"__bson_type":"binary","subtype":{subtype},"base64":"/////////////////////w=="}}}}"#)
        );
        let plain = ok(&with_binaries(BinarySubtypePolicy::AsBinary), &doc);
        assert_eq!(plain.json(), r#"{"_id":1,"b":{"$binary":"/////////////////////w=="}}"#);
    }
    // An unmapped vector says how to map it.
    let r = refused(&with_binaries(BinarySubtypePolicy::Reject), &doc! { "_id": 1, "v": bin(0x09, &[0x03, 0, 1]) });
    assert!(r.violations[0].message.contains("map this field as the collection's vector"), "{r}");
}

#[test]
fn generic_and_old_binaries_are_written_as_binary() {
    let c = with_binaries(BinarySubtypePolicy::Reject);
    for subtype in [0x00, 0x02] {
        let converted = ok(&c, &doc! { "_id": 1, "b": bin(subtype, b"hello") });
        assert_eq!(converted.json(), r#"{"_id":1,"b":{"$binary":"aGVsbG8="}}"#);
        assert!(converted.adjustments().is_empty());
    }
}

#[test]
fn the_mapping_serializes_for_the_ui_and_creates_the_collection() {
    let mapping = VectorMapping {
        field: "embedding".into(),
        dimension: 768,
        metric: VectorMetric::DotProduct,
        keep_field: true,
        on_invalid: InvalidVectorPolicy::WithoutVector,
    };
    let json = serde_json::to_string(&mapping).unwrap();
    assert_eq!(json, r#"{"field":"embedding","dimension":768,"metric":"dot_product","keepField":true,"onInvalid":"withoutVector"}"#);
    assert_eq!(serde_json::from_str::<VectorMapping>(&json).unwrap(), mapping);
    let minimal: VectorMapping = serde_json::from_str(r#"{"field":"e","dimension":3}"#).unwrap();
    assert_eq!(minimal, VectorMapping::new("e", 3));
    assert!(serde_json::from_str::<VectorMapping>(r#"{"field":"e","dimension":3,"size":3}"#).is_err());
    assert_eq!(
        mapping.collection_options(),
        serde_json::json!({"vector": {"dimension": 768, "metric": "dot_product"}})
    );
    assert_eq!(VectorMapping::new("e", 3).collection_options().to_string(), r#"{"vector":{"dimension":3,"metric":"cosine"}}"#);
    let policy: ConversionPolicy = serde_json::from_str(r#"{"binarySubtypes":"asBinary"}"#).unwrap();
    assert_eq!(policy.binary_subtypes, BinarySubtypePolicy::AsBinary);
    assert_eq!(ConversionPolicy::default().binary_subtypes, BinarySubtypePolicy::Reject);
}

#[test]
fn unusable_mappings_are_refused() {
    let with = |mapping| Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap().with_vector(mapping).err();
    assert_eq!(with(VectorMapping::new("e", 0)), Some(ConverterError::Vector(VectorMappingError::Dimension(0))));
    assert_eq!(with(VectorMapping::new("e", 4097)), Some(ConverterError::Vector(VectorMappingError::Dimension(4097))));
    assert_eq!(with(VectorMapping::new("_id", 3)), Some(ConverterError::Vector(VectorMappingError::DocumentId)));
    assert_eq!(with(VectorMapping::new("", 3)), Some(ConverterError::Vector(VectorMappingError::EmptyField)));
    assert_eq!(with(VectorMapping::new("e", 4096)), None);
}

#[test]
fn without_a_mapping_nothing_changes() {
    let doc = doc! { "_id": 1, "embedding": [0.1, 0.2], "b": bin(0, &[1]) };
    let plain = converter(ConversionPolicy::default(), None);
    assert_eq!(ok(&plain, &doc).json(), r#"{"_id":1,"embedding":[0.1,0.2],"b":{"$binary":"AQ=="}}"#);
    assert!(plain.source_vector(&doc).is_none());
}
