//! Shared by the conversion property tests: random BSON documents, an independent oracle of
//! what the default policy must reject, and value equivalence modulo the documented mapping.

use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp};
use engine::convert::{normalize_number, ViolationCode};
use engine::policy::{
    BinarySubtypePolicy, ConversionPolicy, DocumentIdPolicy, FieldNamePolicy, NonFinitePolicy,
    UnsupportedValuePolicy,
};
use proptest::prelude::*;

pub fn permissive_policy() -> ConversionPolicy {
    ConversionPolicy {
        unsupported_values: UnsupportedValuePolicy::AsTaggedObject,
        non_finite_numbers: NonFinitePolicy::AsTaggedObject,
        document_ids: DocumentIdPolicy::CanonicalString,
        field_names: FieldNamePolicy::Rename,
        binary_subtypes: BinarySubtypePolicy::AsTaggedObject,
        ..Default::default()
    }
}

// ----- strategies -----

fn decimal() -> impl Strategy<Value = Bson> {
    (any::<bool>(), "[0-9]{1,34}", -6176i32..=6111).prop_filter_map("out of range", |(neg, digits, exp)| {
        let text = format!("{}{}E{}", if neg { "-" } else { "" }, digits, exp);
        text.parse::<Decimal128>().ok().map(Bson::Decimal128)
    })
}

fn binary_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 16..=16),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

fn binary() -> impl Strategy<Value = Bson> {
    let subtype = prop_oneof![
        Just(BinarySubtype::Generic),
        Just(BinarySubtype::BinaryOld),
        Just(BinarySubtype::Uuid),
        Just(BinarySubtype::UuidOld),
    ];
    (subtype, binary_bytes()).prop_map(|(subtype, bytes)| Bson::Binary(Binary { subtype, bytes }))
}

/// Binaries whose subtype the Data API cannot keep: refused by default.
fn special_binary() -> impl Strategy<Value = Bson> {
    let subtype = prop_oneof![
        Just(BinarySubtype::Md5),
        Just(BinarySubtype::Encrypted),
        Just(BinarySubtype::Sensitive),
        Just(BinarySubtype::Vector),
        Just(BinarySubtype::UserDefined(0x80)),
        (0x80u8..=0xff).prop_map(BinarySubtype::from),
    ];
    (subtype, binary_bytes()).prop_map(|(subtype, bytes)| Bson::Binary(Binary { subtype, bytes }))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
        Just("quote\"back\\slash\nnew\u{0}line\u{1f}".to_owned()),
    ]
}

fn clean_leaf() -> impl Strategy<Value = Bson> {
    prop_oneof![
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<f64>().prop_filter("finite", |d| d.is_finite()).prop_map(Bson::Double),
        prop_oneof![Just(0.0), Just(-0.0), Just(f64::MAX), Just(f64::MIN_POSITIVE), Just(5e-324), Just(0.1)].prop_map(Bson::Double),
        decimal(),
        text().prop_map(Bson::String),
        any::<bool>().prop_map(Bson::Boolean),
        Just(Bson::Null),
        any::<i64>().prop_map(|ms| Bson::DateTime(DateTime::from_millis(ms))),
        any::<[u8; 12]>().prop_map(|b| Bson::ObjectId(ObjectId::from_bytes(b))),
        binary(),
    ]
}

fn unsupported_leaf() -> impl Strategy<Value = Bson> {
    prop_oneof![
        (any::<u32>(), any::<u32>()).prop_map(|(time, increment)| Bson::Timestamp(Timestamp { time, increment })),
        (text(), "[imsux]{0,3}").prop_map(|(pattern, options)| Bson::RegularExpression(Regex { pattern, options })),
        text().prop_map(Bson::JavaScriptCode),
        (text(), any::<i32>()).prop_map(|(code, x)| Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope {
            code,
            scope: bson::doc! { "x": x },
        })),
        text().prop_map(Bson::Symbol),
        any::<[u8; 12]>().prop_map(|b| {
            let oid = ObjectId::from_bytes(b).to_hex();
            Bson::try_from(serde_json::json!({"$dbPointer": {"$ref": "db.c", "$id": {"$oid": oid}}})).unwrap()
        }),
        Just(Bson::MinKey),
        Just(Bson::MaxKey),
        Just(Bson::Undefined),
        special_binary(),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)].prop_map(Bson::Double),
        prop_oneof![Just("NaN"), Just("Infinity"), Just("-Infinity")].prop_map(|s| Bson::Decimal128(s.parse().unwrap())),
    ]
}

fn clean_key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-z][a-z0-9_]{0,7}",
        1 => "[a-z]{1,3}\\.[a-z]{1,3}",
        1 => any::<String>().prop_map(|s| s.chars().take(6).collect::<String>())
            .prop_filter("valid", |s| !s.is_empty() && s != "*" && !s.starts_with('$') && s != "_id"),
    ]
}

fn any_key() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => clean_key(),
        1 => "\\$[a-z]{0,4}",
        1 => Just(String::new()),
        1 => Just("*".to_owned()),
        1 => "_\\$[a-z]{0,1}",
    ]
}

fn tree(
    leaf: BoxedStrategy<Bson>,
    key: BoxedStrategy<String>,
) -> impl Strategy<Value = Bson> {
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Bson::Array),
            proptest::collection::vec((key.clone(), inner), 0..6).prop_map(|fields| {
                Bson::Document(fields.into_iter().collect())
            }),
        ]
    })
}

/// Wraps a value in `levels` one-field documents, to reach the depth limit.
fn deepen(value: Bson, levels: usize) -> Bson {
    (0..levels).fold(value, |v, _| Bson::Document(bson::doc! { "d": v }))
}

fn clean_id() -> impl Strategy<Value = Bson> {
    prop_oneof![
        any::<[u8; 12]>().prop_map(|b| Bson::ObjectId(ObjectId::from_bytes(b))),
        "[a-zA-Z0-9]{1,12}".prop_map(Bson::String),
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<f64>().prop_filter("finite", |d| d.is_finite()).prop_map(Bson::Double),
        decimal(),
        any::<bool>().prop_map(Bson::Boolean),
        Just(Bson::Null),
        any::<i64>().prop_map(|ms| Bson::DateTime(DateTime::from_millis(ms))),
        proptest::collection::vec(any::<u8>(), 16..=16).prop_map(|bytes| Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes })),
    ]
}

fn any_id() -> impl Strategy<Value = Option<Bson>> {
    prop_oneof![
        8 => clean_id().prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Bson::String(String::new()))),
        1 => Just(Some(Bson::Document(bson::doc! { "a": 1 }))),
        1 => Just(Some(Bson::Array(vec![Bson::Int32(1)]))),
        1 => unsupported_leaf().prop_map(Some),
        1 => proptest::collection::vec(any::<u8>(), 0..8).prop_map(|bytes| Some(Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes }))),
    ]
}

fn document(id: BoxedStrategy<Option<Bson>>, value: BoxedStrategy<Bson>, key: BoxedStrategy<String>, max_extra_depth: usize) -> impl Strategy<Value = Document> {
    (id, proptest::collection::vec((key, value, 0..=max_extra_depth), 0..8)).prop_map(|(id, fields)| {
        let mut doc = Document::new();
        if let Some(id) = id {
            doc.insert("_id", id);
        }
        for (k, v, extra) in fields {
            if k != "_id" {
                doc.insert(k, deepen(v, extra));
            }
        }
        doc
    })
}

/// Documents of Data API–expressible values only, within every limit.
pub fn clean_document() -> impl Strategy<Value = Document> {
    let value = tree(clean_leaf().boxed(), clean_key().boxed()).boxed();
    document(clean_id().prop_map(Some).boxed(), value, clean_key().boxed(), 8)
}

/// Documents with anything: unsupported types, bad names and ids, too-deep nesting.
pub fn any_document() -> impl Strategy<Value = Document> {
    let leaf = prop_oneof![6 => clean_leaf(), 1 => unsupported_leaf()].boxed();
    let value = tree(leaf, any_key().boxed()).boxed();
    document(any_id().boxed(), value, any_key().boxed(), 14)
}

// ----- the oracle -----

fn is_bad_name(key: &str) -> bool {
    key.is_empty() || key == "*" || key.starts_with('$')
}

fn is_finite_number(v: &Bson) -> bool {
    match v {
        Bson::Double(d) => d.is_finite(),
        Bson::Decimal128(d) => {
            let s = d.to_string();
            !(s.contains("NaN") || s.contains("Inf"))
        }
        _ => true,
    }
}

fn is_special_binary(v: &Bson) -> bool {
    matches!(v, Bson::Binary(b) if !matches!(b.subtype, BinarySubtype::Generic | BinarySubtype::BinaryOld | BinarySubtype::Uuid | BinarySubtype::UuidOld))
}

fn is_uuid(v: &Bson) -> bool {
    matches!(v, Bson::Binary(b) if b.bytes.len() == 16 && matches!(b.subtype, BinarySubtype::Uuid | BinarySubtype::UuidOld))
}

/// Whether the Data API takes `v` as a document id as it is.
pub fn valid_id(v: &Bson) -> bool {
    match v {
        Bson::String(s) => !s.is_empty(),
        Bson::Int32(_) | Bson::Int64(_) | Bson::Boolean(_) | Bson::Null | Bson::ObjectId(_) | Bson::DateTime(_) => true,
        Bson::Double(_) | Bson::Decimal128(_) => is_finite_number(v),
        Bson::Binary(_) => is_uuid(v),
        _ => false,
    }
}

/// What the default policy must reject this document for, read straight from the rules
/// (first reason found), or `None` if it must be accepted.
pub fn expected_rejection(doc: &Document) -> Option<ViolationCode> {
    match doc.get("_id") {
        None => return Some(ViolationCode::MissingDocumentId),
        Some(Bson::String(s)) if s.is_empty() => return Some(ViolationCode::ShredBadDocidValue),
        Some(id) if !valid_id(id) => return Some(ViolationCode::ShredBadDocidType),
        Some(id) => {
            if let Some(code) = value_problem(id, 2) {
                return Some(code);
            }
        }
    }
    for (k, v) in doc {
        if k == "_id" {
            continue;
        }
        if is_bad_name(k) {
            return Some(ViolationCode::ShredBadFieldName);
        }
        if let Some(code) = value_problem(v, 2) {
            return Some(code);
        }
    }
    None
}

/// `depth` is the depth this value would have if it is a container.
fn value_problem(v: &Bson, depth: usize) -> Option<ViolationCode> {
    let too_deep = depth > 16;
    match v {
        Bson::Document(d) => {
            if too_deep {
                return Some(ViolationCode::ShredDocLimitViolation);
            }
            for (k, v) in d {
                if is_bad_name(k) {
                    return Some(ViolationCode::ShredBadFieldName);
                }
                if let Some(code) = value_problem(v, depth + 1) {
                    return Some(code);
                }
            }
            None
        }
        Bson::Array(items) => {
            if too_deep {
                return Some(ViolationCode::ShredDocLimitViolation);
            }
            items.iter().find_map(|v| value_problem(v, depth + 1))
        }
        Bson::Binary(_) if is_special_binary(v) => Some(ViolationCode::UnsupportedBsonValue),
        Bson::ObjectId(_) | Bson::DateTime(_) | Bson::Binary(_) if too_deep => Some(ViolationCode::ShredDocLimitViolation),
        Bson::Double(_) | Bson::Decimal128(_) if !is_finite_number(v) => Some(ViolationCode::UnsupportedBsonValue),
        Bson::Timestamp(_)
        | Bson::RegularExpression(_)
        | Bson::JavaScriptCode(_)
        | Bson::JavaScriptCodeWithScope(_)
        | Bson::Symbol(_)
        | Bson::DbPointer(_)
        | Bson::MinKey
        | Bson::MaxKey
        | Bson::Undefined => Some(ViolationCode::UnsupportedBsonValue),
        _ => None,
    }
}

// ----- equivalence -----

fn number_text(v: &Bson) -> Option<String> {
    let raw = match v {
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(d) if d.is_finite() => ryu::Buffer::new().format_finite(*d).to_owned(),
        Bson::Decimal128(d) if is_finite_number(v) => d.to_string(),
        _ => return None,
    };
    normalize_number(&raw)
}

fn non_finite_text(v: &Bson) -> Option<String> {
    match v {
        Bson::Double(d) if d.is_nan() => Some("NaN".into()),
        Bson::Double(d) if d.is_infinite() => Some(if *d > 0.0 { "Infinity" } else { "-Infinity" }.into()),
        Bson::Decimal128(d) if !is_finite_number(v) => Some(d.to_string()),
        _ => None,
    }
}

/// Whether `back` (decoded from the converted JSON) is what `src` must become under `policy`.
pub fn equivalent_document(src: &Document, back: &Document, policy: &ConversionPolicy, top: bool) -> bool {
    let mut expected: Vec<(String, &Bson)> = Vec::new();
    if top {
        if let Some(id) = src.get("_id") {
            expected.push(("_id".into(), id));
        }
    }
    for (k, v) in src {
        if top && k == "_id" {
            continue;
        }
        let key = if is_bad_name(k) && policy.field_names == FieldNamePolicy::Rename { format!("_{k}") } else { k.clone() };
        expected.push((key, v));
    }
    if expected.len() != back.len() {
        return false;
    }
    expected.iter().zip(back.iter()).all(|((ek, ev), (bk, bv))| {
        ek == bk && if top && ek == "_id" { equivalent_id(ev, bv, policy) } else { equivalent(ev, bv, policy) }
    })
}

fn equivalent_id(src: &Bson, back: &Bson, policy: &ConversionPolicy) -> bool {
    if valid_id(src) {
        equivalent(src, back, policy)
    } else {
        policy.document_ids == DocumentIdPolicy::CanonicalString
            && back == &Bson::String(src.clone().into_canonical_extjson().to_string())
    }
}

pub fn equivalent(src: &Bson, back: &Bson, policy: &ConversionPolicy) -> bool {
    if let Some(text) = number_text(src) {
        return number_text(back).as_deref() == Some(text.as_str());
    }
    if let Some(text) = non_finite_text(src) {
        return match policy.non_finite_numbers {
            NonFinitePolicy::Reject => false,
            NonFinitePolicy::AsString => back == &Bson::String(text),
            NonFinitePolicy::AsNull => back == &Bson::Null,
            NonFinitePolicy::AsTaggedObject => {
                std::mem::discriminant(src) == std::mem::discriminant(back) && non_finite_text(back) == Some(text)
            }
        };
    }
    match (src, back) {
        (Bson::Binary(_), _) if is_special_binary(src) => match policy.binary_subtypes {
            BinarySubtypePolicy::Reject => false,
            BinarySubtypePolicy::AsBinary => matches!(back, Bson::Binary(b) if b.subtype == BinarySubtype::Generic),
            BinarySubtypePolicy::AsTaggedObject => src == back,
        },
        (Bson::Binary(s), Bson::Binary(b)) => {
            if is_uuid(src) {
                b.subtype == BinarySubtype::Uuid && b.bytes == s.bytes
            } else {
                b.subtype == BinarySubtype::Generic && b.bytes == s.bytes
            }
        }
        (Bson::Document(s), Bson::Document(b)) => equivalent_document(s, b, policy, false),
        (Bson::Array(s), Bson::Array(b)) => {
            s.len() == b.len() && s.iter().zip(b).all(|(s, b)| equivalent(s, b, policy))
        }
        (Bson::JavaScriptCodeWithScope(s), Bson::JavaScriptCodeWithScope(b)) => {
            policy.unsupported_values == UnsupportedValuePolicy::AsTaggedObject
                && s.code == b.code
                && equivalent_document(&s.scope, &b.scope, policy, false)
        }
        (
            Bson::Timestamp(_)
            | Bson::RegularExpression(_)
            | Bson::JavaScriptCode(_)
            | Bson::Symbol(_)
            | Bson::DbPointer(_)
            | Bson::MinKey
            | Bson::MaxKey
            | Bson::Undefined,
            _,
        ) => match policy.unsupported_values {
            UnsupportedValuePolicy::Reject => false,
            UnsupportedValuePolicy::AsString => matches!(back, Bson::String(_)),
            UnsupportedValuePolicy::AsTaggedObject => src == back,
        },
        _ => src == back,
    }
}
