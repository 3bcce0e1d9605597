//! Every row of the BSON → Data API table (`docs/type-mapping.md`), every policy option, and
//! the extremes.

use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{doc, Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp};
use engine::convert::{
    canonical_extended_json, content_hash, document_from_extended_json, document_from_json,
    id_key_from_json, relaxed_extended_json, AdjustmentKind, Converted, Converter, Rejection,
    ViolationCode,
};
use engine::policy::{
    BinarySubtypePolicy, ConversionPolicy, DocumentIdPolicy, FieldNamePolicy, Indexing,
    LegacyUuidPolicy, NonFinitePolicy, UnsupportedValuePolicy,
};

const OID: &str = "65a1b2c3d4e5f6a7b8c9d0e1";
const UUID_BYTES: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];

fn oid() -> ObjectId {
    ObjectId::parse_str(OID).unwrap()
}

fn converter(policy: ConversionPolicy) -> Converter {
    Converter::new(policy, &Indexing::default()).unwrap()
}

fn ok(doc: &Document) -> Converted {
    converter(ConversionPolicy::default())
        .convert(doc)
        .unwrap_or_else(|r| panic!("rejected: {r}"))
}

fn rejected(doc: &Document) -> Rejection {
    match converter(ConversionPolicy::default()).convert(doc) {
        Ok(c) => panic!("accepted: {}", c.json()),
        Err(r) => r,
    }
}

/// The JSON of `{_id: 1, v: value}` under `policy`, just the `v` part.
fn value_json(policy: ConversionPolicy, value: Bson) -> String {
    let doc = doc! { "_id": 1, "v": value };
    let converted = converter(policy).convert(&doc).unwrap_or_else(|r| panic!("rejected: {r}"));
    let json = converted.json();
    let prefix = "{\"_id\":1,\"v\":";
    assert!(json.starts_with(prefix), "{json}");
    json[prefix.len()..json.len() - 1].to_owned()
}

fn v(value: Bson) -> String {
    value_json(ConversionPolicy::default(), value)
}

#[test]
fn object_id() {
    assert_eq!(v(Bson::ObjectId(oid())), format!(r#"{{"$objectId":"{OID}"}}"#));
}

#[test]
fn dates_any_year_as_integer_millis() {
    assert_eq!(v(Bson::DateTime(DateTime::from_millis(0))), r#"{"$date":0}"#);
    assert_eq!(v(Bson::DateTime(DateTime::from_millis(-1))), r#"{"$date":-1}"#); // 1969-12-31T23:59:59.999
    // Year -1 (proleptic Gregorian): -62198755200000 ms.
    assert_eq!(
        v(Bson::DateTime(DateTime::from_millis(-62_198_755_200_000))),
        r#"{"$date":-62198755200000}"#
    );
    // Year 10000 and the extremes of the type.
    assert_eq!(
        v(Bson::DateTime(DateTime::from_millis(253_402_300_800_000))),
        r#"{"$date":253402300800000}"#
    );
    assert_eq!(v(Bson::DateTime(DateTime::MAX)), format!(r#"{{"$date":{}}}"#, i64::MAX));
    assert_eq!(v(Bson::DateTime(DateTime::MIN)), format!(r#"{{"$date":{}}}"#, i64::MIN));
}

#[test]
fn uuid_subtype_4() {
    let b = Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes: UUID_BYTES.to_vec() });
    assert_eq!(v(b), r#"{"$uuid":"00112233-4455-6677-8899-aabbccddeeff"}"#);
}

#[test]
fn uuid_subtype_3_byte_orders() {
    let legacy = Bson::Binary(Binary { subtype: BinarySubtype::UuidOld, bytes: UUID_BYTES.to_vec() });
    let with = |legacy_uuids| value_json(ConversionPolicy { legacy_uuids, ..Default::default() }, legacy.clone());
    assert_eq!(with(LegacyUuidPolicy::Standard), r#"{"$uuid":"00112233-4455-6677-8899-aabbccddeeff"}"#);
    assert_eq!(with(LegacyUuidPolicy::JavaLegacy), r#"{"$uuid":"77665544-3322-1100-ffee-ddccbbaa9988"}"#);
    assert_eq!(with(LegacyUuidPolicy::CSharpLegacy), r#"{"$uuid":"33221100-5544-7766-8899-aabbccddeeff"}"#);
    assert_eq!(with(LegacyUuidPolicy::AsBinary), r#"{"$binary":"ABEiM0RVZneImaq7zN3u/w=="}"#);
}

#[test]
fn other_binary_as_base64() {
    let bin = |subtype, bytes: &[u8]| Bson::Binary(Binary { subtype, bytes: bytes.to_vec() });
    assert_eq!(v(bin(BinarySubtype::Generic, b"hello")), r#"{"$binary":"aGVsbG8="}"#);
    assert_eq!(v(bin(BinarySubtype::Generic, b"")), r#"{"$binary":""}"#);
    // A "UUID" of the wrong length is not a UUID.
    assert_eq!(v(bin(BinarySubtype::Uuid, &[1, 2, 3])), r#"{"$binary":"AQID"}"#);
    // Subtypes with a meaning of their own (MD5, user-defined, ...): engine/tests/convert_vectors.rs.
}

#[test]
fn integers_exact() {
    assert_eq!(v(Bson::Int32(i32::MIN)), "-2147483648");
    assert_eq!(v(Bson::Int32(i32::MAX)), "2147483647");
    assert_eq!(v(Bson::Int64(i64::MIN)), "-9223372036854775808");
    assert_eq!(v(Bson::Int64(i64::MAX)), "9223372036854775807");
    // 2^53 + 1 is not representable in f64: it must survive.
    assert_eq!(v(Bson::Int64(9_007_199_254_740_993)), "9007199254740993");
}

#[test]
fn doubles_shortest_round_trip() {
    assert_eq!(v(Bson::Double(1.5)), "1.5");
    assert_eq!(v(Bson::Double(5.0)), "5.0");
    assert_eq!(v(Bson::Double(0.1)), "0.1");
    assert_eq!(v(Bson::Double(-0.0)), "-0.0");
    assert_eq!(v(Bson::Double(1e300)), "1e300");
    assert_eq!(v(Bson::Double(f64::MAX)), "1.7976931348623157e308");
    assert_eq!(v(Bson::Double(f64::MIN_POSITIVE)), "2.2250738585072014e-308");
    assert_eq!(v(Bson::Double(5e-324)), "5e-324");
    for d in [0.1, 1.0 / 3.0, f64::MAX, 5e-324, 123456.789] {
        let text = v(Bson::Double(d));
        assert_eq!(text.parse::<f64>().unwrap(), d);
    }
}

#[test]
fn decimal128_from_its_string() {
    let dec = |s: &str| Bson::Decimal128(s.parse::<Decimal128>().unwrap());
    assert_eq!(v(dec("1.23E+5")), "1.23E+5");
    assert_eq!(v(dec("0.1")), "0.1");
    assert_eq!(v(dec("-0")), "-0");
    assert_eq!(v(dec("1234567890123456789012345678901234")), "1234567890123456789012345678901234");
    assert_eq!(v(dec("1.234567890123456789012345678901234E+6144")), "1.234567890123456789012345678901234E+6144");
    assert_eq!(v(dec("1E-6176")), "1E-6176");
    assert_eq!(v(dec("0.000001")), "0.000001");
    assert_eq!(v(dec("1E-7")), "1E-7");
    // Every form is a valid JSON number with the exact value.
    for s in ["1.23E+5", "-1.5E-300", "9.999999999999999999999999999999999E+6144", "100", "1.00"] {
        let text = v(dec(s));
        // (RawValue checks the syntax only: these exceed f64, so never parse them into a
        // serde_json::Value without arbitrary_precision.)
        let _: Box<serde_json::value::RawValue> = serde_json::from_str(&text).unwrap();
    }
}

#[test]
fn plain_json_types() {
    assert_eq!(v(Bson::String("a\"\\\n\u{0}é😀".into())), r#""a\"\\\n\u0000é😀""#);
    assert_eq!(v(Bson::Boolean(true)), "true");
    assert_eq!(v(Bson::Null), "null");
    assert_eq!(v(Bson::Document(doc! {})), "{}");
    assert_eq!(v(Bson::Array(vec![])), "[]");
    assert_eq!(v(Bson::Document(doc! {"a": [1, {"b": null}], "c.d": "dots are fine"})), r#"{"a":[1,{"b":null}],"c.d":"dots are fine"}"#);
}

#[test]
fn id_first_and_kept() {
    let doc = doc! { "a": 1, "_id": Bson::ObjectId(oid()), "b": 2 };
    let c = ok(&doc);
    assert_eq!(c.json(), format!(r#"{{"_id":{{"$objectId":"{OID}"}},"a":1,"b":2}}"#));
    assert_eq!(c.id_json(), format!(r#"{{"$objectId":"{OID}"}}"#));
    assert_eq!(c.id_key(), OID);
    assert!(c.adjustments().is_empty());
}

#[test]
fn empty_document_is_only_its_id() {
    let c = ok(&doc! { "_id": "x" });
    assert_eq!(c.json(), r#"{"_id":"x"}"#);
    let r = rejected(&doc! {});
    assert!(r.has(ViolationCode::MissingDocumentId));
    assert_eq!(r.id_key, None);
}

#[test]
fn every_accepted_id_type_and_its_key() {
    let uuid = Bson::Binary(Binary { subtype: BinarySubtype::Uuid, bytes: UUID_BYTES.to_vec() });
    let cases: Vec<(Bson, &str, &str)> = vec![
        (Bson::String("abc".into()), r#""abc""#, "abc"),
        (Bson::Int32(7), "7", "7"),
        (Bson::Int64(i64::MIN), "-9223372036854775808", "-9223372036854775808"),
        (Bson::Double(2.5), "2.5", "2.5"),
        (Bson::Double(3.0), "3.0", "3"),
        (Bson::Decimal128("1.50".parse().unwrap()), "1.50", "1.5"),
        (Bson::Boolean(false), "false", "false"),
        (Bson::Null, "null", "null"),
        (Bson::ObjectId(oid()), r#"{"$objectId":"65a1b2c3d4e5f6a7b8c9d0e1"}"#, OID),
        (Bson::DateTime(DateTime::from_millis(-5)), r#"{"$date":-5}"#, "-5"),
        (uuid, r#"{"$uuid":"00112233-4455-6677-8899-aabbccddeeff"}"#, "00112233-4455-6677-8899-aabbccddeeff"),
    ];
    for (id, json, key) in cases {
        let c = ok(&doc! { "_id": id.clone(), "x": 1 });
        assert_eq!(c.id_json(), json, "{id:?}");
        assert_eq!(c.id_key(), key, "{id:?}");
        assert_eq!(id_key_from_json(c.id_json()).unwrap(), key);
    }
}

#[test]
fn refused_ids_rejected_by_default_with_their_code() {
    let cases: Vec<(Bson, ViolationCode)> = vec![
        (Bson::Document(doc! {"a": 1}), ViolationCode::ShredBadDocidType),
        (Bson::Array(vec![Bson::Int32(1)]), ViolationCode::ShredBadDocidType),
        (Bson::String(String::new()), ViolationCode::ShredBadDocidValue),
        (Bson::Binary(Binary { subtype: BinarySubtype::Generic, bytes: vec![1] }), ViolationCode::ShredBadDocidType),
        (Bson::Double(f64::NAN), ViolationCode::ShredBadDocidType),
        (Bson::Timestamp(Timestamp { time: 1, increment: 2 }), ViolationCode::ShredBadDocidType),
        (Bson::MinKey, ViolationCode::ShredBadDocidType),
    ];
    for (id, code) in cases {
        let r = rejected(&doc! { "_id": id.clone() });
        assert_eq!(r.violations.len(), 1, "{r}");
        assert_eq!(r.violations[0].code(), code);
        assert_eq!(r.violations[0].path, "_id");
        // The dead letter still has a stable key: the canonical Extended JSON of the id.
        assert_eq!(r.id_key.as_deref(), Some(id.into_canonical_extjson().to_string().as_str()));
    }
}

#[test]
fn id_policy_canonical_string() {
    let policy = ConversionPolicy { document_ids: DocumentIdPolicy::CanonicalString, ..Default::default() };
    let c = converter(policy).convert(&doc! { "_id": {"a": 1, "b": "x"}, "v": 1 }).unwrap();
    assert_eq!(c.id_json(), r#""{\"a\":{\"$numberInt\":\"1\"},\"b\":\"x\"}""#);
    assert_eq!(c.id_key(), r#"{"a":{"$numberInt":"1"},"b":"x"}"#);
    assert_eq!(c.adjustments()[0].kind, AdjustmentKind::IdAsCanonicalString);
    // Stable: the same id gives the same text every time.
    let again = converter(policy).convert(&doc! { "_id": {"a": 1, "b": "x"}, "v": 2 }).unwrap();
    assert_eq!(again.id_key(), c.id_key());
    let arr = converter(policy).convert(&doc! { "_id": [1, 2] }).unwrap();
    assert_eq!(arr.id_key(), r#"[{"$numberInt":"1"},{"$numberInt":"2"}]"#);
}

fn unsupported_values() -> Vec<(&'static str, Bson)> {
    let pointer: Bson = Bson::try_from(serde_json::json!({"$dbPointer": {"$ref": "db.things", "$id": {"$oid": OID}}})).unwrap();
    assert!(matches!(pointer, Bson::DbPointer(_)));
    vec![
        ("timestamp", Bson::Timestamp(Timestamp { time: 1_700_000_000, increment: 7 })),
        ("regex", Bson::RegularExpression(Regex { pattern: "^a.*".into(), options: "i".into() })),
        ("javascript", Bson::JavaScriptCode("function(){return 1}".into())),
        (
            "javascriptWithScope",
            Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope { code: "x".into(), scope: doc! {"x": 1} }),
        ),
        ("symbol", Bson::Symbol("sym".into())),
        ("dbPointer", pointer),
        ("minKey", Bson::MinKey),
        ("maxKey", Bson::MaxKey),
        ("undefined", Bson::Undefined),
    ]
}

#[test]
fn unsupported_values_rejected_by_default() {
    for (name, value) in unsupported_values() {
        let r = rejected(&doc! { "_id": 1, "keep": "me", "nested": { "list": [value] } });
        assert_eq!(r.violations.len(), 1, "{name}: {r}");
        assert_eq!(r.violations[0].code(), ViolationCode::UnsupportedBsonValue);
        assert_eq!(r.violations[0].path, "nested.list.0");
        assert_eq!(r.id_key.as_deref(), Some("1"));
    }
}

#[test]
fn unsupported_values_as_tagged_objects() {
    let policy = ConversionPolicy { unsupported_values: UnsupportedValuePolicy::AsTaggedObject, ..Default::default() };
    let expected = [
        r#"{"__bson_type":"timestamp","t":1700000000,"i":7}"#.to_owned(),
        r#"{"__bson_type":"regex","pattern":"^a.*","options":"i"}"#.to_owned(),
        r#"{"__bson_type":"javascript","code":"function(){return 1}"}"#.to_owned(),
        r#"{"__bson_type":"javascriptWithScope","code":"x","scope":{"x":1}}"#.to_owned(),
        r#"{"__bson_type":"symbol","value":"sym"}"#.to_owned(),
        format!(r#"{{"__bson_type":"dbPointer","ref":"db.things","id":{{"$objectId":"{OID}"}}}}"#),
        r#"{"__bson_type":"minKey"}"#.to_owned(),
        r#"{"__bson_type":"maxKey"}"#.to_owned(),
        r#"{"__bson_type":"undefined"}"#.to_owned(),
    ];
    for ((name, value), want) in unsupported_values().into_iter().zip(expected) {
        assert_eq!(value_json(policy, value.clone()), want, "{name}");
        // And it decodes back to the same BSON value.
        let c = converter(policy).convert(&doc! { "_id": 1, "v": value.clone() }).unwrap();
        assert_eq!(c.adjustments()[0].kind, AdjustmentKind::ValueAsTaggedObject);
        let back = document_from_json(c.json()).unwrap();
        assert_eq!(back.get("v"), Some(&value), "{name}");
    }
}

#[test]
fn unsupported_values_as_strings() {
    let policy = ConversionPolicy { unsupported_values: UnsupportedValuePolicy::AsString, ..Default::default() };
    let s = |value| value_json(policy, value);
    assert_eq!(s(Bson::Symbol("sym".into())), r#""sym""#);
    assert_eq!(s(Bson::JavaScriptCode("f()".into())), r#""f()""#);
    assert_eq!(
        s(Bson::RegularExpression(Regex { pattern: "^a".into(), options: "i".into() })),
        r#""{\"$regularExpression\":{\"pattern\":\"^a\",\"options\":\"i\"}}""#
    );
    assert_eq!(s(Bson::Timestamp(Timestamp { time: 5, increment: 6 })), r#""{\"$timestamp\":{\"t\":5,\"i\":6}}""#);
    assert_eq!(s(Bson::MinKey), r#""{\"$minKey\":1}""#);
    assert_eq!(s(Bson::Undefined), r#""{\"$undefined\":true}""#);
    for (name, value) in unsupported_values() {
        let c = converter(policy).convert(&doc! { "_id": 1, "v": value }).unwrap_or_else(|r| panic!("{name}: {r}"));
        assert_eq!(c.adjustments()[0].kind, AdjustmentKind::ValueAsString);
    }
}

#[test]
fn non_finite_numbers_every_policy() {
    let values = [
        (Bson::Double(f64::NAN), "NaN", "double"),
        (Bson::Double(f64::INFINITY), "Infinity", "double"),
        (Bson::Double(f64::NEG_INFINITY), "-Infinity", "double"),
        (Bson::Decimal128("NaN".parse().unwrap()), "NaN", "decimal128"),
        (Bson::Decimal128("Infinity".parse().unwrap()), "Infinity", "decimal128"),
        (Bson::Decimal128("-Infinity".parse().unwrap()), "-Infinity", "decimal128"),
    ];
    for (value, text, type_name) in values {
        let r = rejected(&doc! { "_id": 1, "n": value.clone() });
        assert_eq!(r.violations[0].code(), ViolationCode::UnsupportedBsonValue);
        assert_eq!(r.violations[0].path, "n");
        assert!(r.violations[0].message.contains(text), "{}", r.violations[0].message);

        let with = |non_finite_numbers| value_json(ConversionPolicy { non_finite_numbers, ..Default::default() }, value.clone());
        assert_eq!(with(NonFinitePolicy::AsString), format!("\"{text}\""));
        assert_eq!(with(NonFinitePolicy::AsNull), "null");
        let tagged = with(NonFinitePolicy::AsTaggedObject);
        assert_eq!(tagged, format!(r#"{{"__bson_type":"{type_name}","value":"{text}"}}"#));
        let back = document_from_json(&format!(r#"{{"v":{tagged}}}"#)).unwrap();
        match (back.get("v").unwrap(), &value) {
            (Bson::Double(a), Bson::Double(b)) => assert!(a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())),
            (a, b) => assert_eq!(a, b),
        }
    }
}

#[test]
fn bad_field_names_rejected_by_default() {
    for name in ["$set", "$", "", "*"] {
        let mut inner = Document::new();
        inner.insert(name, 1);
        let r = rejected(&doc! { "_id": 1, "outer": inner.clone() });
        assert_eq!(r.violations.len(), 1, "{name:?}: {r}");
        assert_eq!(r.violations[0].code(), ViolationCode::ShredBadFieldName);
        let mut top = doc! { "_id": 1 };
        top.insert(name, 1);
        let r = rejected(&top);
        assert_eq!(r.violations[0].code(), ViolationCode::ShredBadFieldName);
    }
    // `$` inside the name, dots and `&` are fine.
    ok(&doc! { "_id": 1, "a$b": 1, "a.b": 2, "x&y": 3, " ": 4, "**": 5 });
}

#[test]
fn bad_field_names_renamed() {
    let policy = ConversionPolicy { field_names: FieldNamePolicy::Rename, ..Default::default() };
    let mut doc = doc! { "_id": 1 };
    doc.insert("$price", 1);
    doc.insert("", 2);
    doc.insert("*", 3);
    doc.insert("sub", doc! { "$inc": { "$x": 1 } });
    let c = converter(policy).convert(&doc).unwrap();
    assert_eq!(c.json(), r#"{"_id":1,"_$price":1,"_":2,"_*":3,"sub":{"_$inc":{"_$x":1}}}"#);
    assert_eq!(c.adjustments().len(), 5);
    assert!(c.adjustments().iter().all(|a| a.kind == AdjustmentKind::FieldRenamed));
    // The path of a renamed field names it as it was (its renamed parents as they are).
    assert_eq!(c.adjustments()[4].path, "sub._$inc.$x");

    // A rename that would collide is refused, not merged.
    let mut clash = doc! { "_id": 1, "_$a": 1 };
    clash.insert("$a", 2);
    let r = converter(policy).convert(&clash).unwrap_err();
    assert_eq!(r.violations[0].code(), ViolationCode::ShredBadFieldName);
    assert!(r.violations[0].message.contains("_$a"));
}

#[test]
fn all_violations_reported_with_paths() {
    let mut doc = doc! { "_id": {"x": 1}, "a": { "b": [1, Bson::MinKey] }, "n": f64::NAN };
    doc.insert("$bad", 1);
    let r = rejected(&doc);
    let got: Vec<(&str, ViolationCode)> = r.violations.iter().map(|v| (v.path.as_str(), v.code())).collect();
    assert_eq!(
        got,
        vec![
            ("_id", ViolationCode::ShredBadDocidType),
            ("a.b.1", ViolationCode::UnsupportedBsonValue),
            ("n", ViolationCode::UnsupportedBsonValue),
            ("$bad", ViolationCode::ShredBadFieldName),
        ]
    );
    assert!(r.to_string().contains("SHRED_BAD_DOCID_TYPE at '_id'"), "{r}");
    // Paths escape dots inside names like the Data API does.
    let r = rejected(&doc! { "_id": 1, "a.b": { "c&d": Bson::MaxKey } });
    assert_eq!(r.violations[0].path, "a&.b.c&&d");
}

#[test]
fn policies_serialize_for_the_ui() {
    let policy = ConversionPolicy {
        unsupported_values: UnsupportedValuePolicy::AsTaggedObject,
        non_finite_numbers: NonFinitePolicy::AsNull,
        document_ids: DocumentIdPolicy::CanonicalString,
        field_names: FieldNamePolicy::Rename,
        legacy_uuids: LegacyUuidPolicy::JavaLegacy,
        binary_subtypes: BinarySubtypePolicy::AsTaggedObject,
    };
    let json = serde_json::to_string(&policy).unwrap();
    assert_eq!(
        json,
        r#"{"unsupportedValues":"asTaggedObject","nonFiniteNumbers":"asNull","documentIds":"canonicalString","fieldNames":"rename","legacyUuids":"javaLegacy","binarySubtypes":"asTaggedObject"}"#
    );
    assert_eq!(serde_json::from_str::<ConversionPolicy>(&json).unwrap(), policy);
    assert_eq!(serde_json::from_str::<ConversionPolicy>("{}").unwrap(), ConversionPolicy::default());
    assert_eq!(ConversionPolicy::default().unsupported_values, UnsupportedValuePolicy::Reject);
}

#[test]
fn extended_json_for_dead_letters_is_lossless() {
    let doc = doc! {
        "_id": oid(),
        "n": f64::NAN,
        "l": i64::MAX,
        "d": Bson::Decimal128("1.23E+5".parse().unwrap()),
        "t": Bson::Timestamp(Timestamp { time: 1, increment: 2 }),
        "b": Bson::Binary(Binary { subtype: BinarySubtype::UserDefined(0x80), bytes: vec![1, 2] }),
        "date": DateTime::from_millis(-62_198_755_200_000),
    };
    let canonical = canonical_extended_json(&doc);
    assert!(canonical.contains(r#""$numberLong":"9223372036854775807""#), "{canonical}");
    let back = document_from_extended_json(&canonical).unwrap();
    assert_eq!(back.get("l"), doc.get("l"));
    assert_eq!(back.get("d"), doc.get("d"));
    assert_eq!(back.get("b"), doc.get("b"));
    assert_eq!(back.get("date"), doc.get("date"));
    assert!(matches!(back.get("n"), Some(Bson::Double(d)) if d.is_nan()));
    let relaxed = relaxed_extended_json(&doc);
    assert!(relaxed.contains(r#""l":9223372036854775807"#), "{relaxed}");
}

#[test]
fn content_hash_matches_json_read_back_in_another_form() {
    let doc = doc! {
        "_id": oid(),
        "price": Bson::Decimal128("12.50".parse().unwrap()),
        "qty": 3_i64,
        "ratio": 0.25,
        "tags": ["a", "b"],
        "when": DateTime::from_millis(1_700_000_000_000),
    };
    let c = ok(&doc);
    // What Astra may send back: other key order, whitespace, other number spellings.
    let back = format!(
        r#"{{ "tags": ["a","b"], "when": {{"$date": 1700000000000}}, "ratio": 2.5E-1,
             "qty": 3.0, "price": 12.5, "_id": {{"$objectId": "{OID}"}} }}"#
    );
    assert_eq!(content_hash(&back).unwrap(), c.content_hash());
    let changed = back.replace("12.5", "12.51");
    assert_ne!(content_hash(&changed).unwrap(), c.content_hash());
    assert_eq!(c.content_hash().to_string().len(), 64);
}

#[test]
fn raw_value_for_the_http_client() {
    let c = ok(&doc! { "_id": 1, "a": "b" });
    let raw = c.into_raw_value().unwrap();
    let body = serde_json::json!({ "insertMany": { "documents": [raw] } });
    assert_eq!(body.to_string(), r#"{"insertMany":{"documents":[{"_id":1,"a":"b"}]}}"#);
}

#[test]
fn decimal128_34_digits_and_exponents_round_trip_exactly() {
    for s in [
        "1234567890123456789012345678901234",
        "-9.999999999999999999999999999999999E+6144",
        "1.000000000000000000000000000000000E-6143",
        "0.0000000000000000000000000000000001",
        "1.23E+5",
    ] {
        let d: Decimal128 = s.parse().unwrap();
        let c = ok(&doc! { "_id": 1, "d": Bson::Decimal128(d) });
        let back = document_from_json(c.json()).unwrap();
        let Some(Bson::Decimal128(got)) = back.get("d") else { panic!("{}", c.json()) };
        assert_eq!(got.to_string(), d.to_string(), "{s}");
    }
}
