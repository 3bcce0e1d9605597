//! Every Data API limit (`docs/data-api.md`, "Documents"): one document just under, one just
//! over, at the default limits wherever a BSON document can reach them.

use bson::{doc, Bson, DateTime, Document};
use engine::convert::{Converter, Rejection, ViolationCode, ViolationKind};
use engine::policy::{ConversionPolicy, DocumentLimits, Indexing};

fn converter() -> Converter {
    Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap()
}

fn with_indexing(allow: Option<&[&str]>, deny: Option<&[&str]>) -> Converter {
    let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
    let indexing = Indexing { allow: allow.map(list), deny: deny.map(list) };
    Converter::new(ConversionPolicy::default(), &indexing).unwrap()
}

/// The one violation, of the limit `kind`; the census and the `indexing.deny` suggestion go by it.
fn limit_violation(r: &Rejection, kind: ViolationKind) -> &engine::convert::Violation {
    assert_eq!(r.violations.len(), 1, "{r}");
    assert_eq!(r.violations[0].code(), ViolationCode::ShredDocLimitViolation, "{r}");
    assert_eq!(r.violations[0].kind, kind, "{r}");
    &r.violations[0]
}

/// `{_id: 1, a: {a: {... value}}}` with the value at depth `depth` (the document is depth 1).
fn nested(depth: usize, leaf: Bson) -> Document {
    let mut value = leaf;
    for _ in 2..depth {
        value = Bson::Document(doc! { "a": value });
    }
    doc! { "_id": 1, "a": value }
}

#[test]
fn depth_16_accepted_17_rejected() {
    // Depth counts containers: the document is 1, each nested object or array one more.
    converter().convert(&nested(16, Bson::Document(doc! {}))).unwrap();
    let r = converter().convert(&nested(17, Bson::Document(doc! {}))).unwrap_err();
    let v = limit_violation(&r, ViolationKind::NestedTooDeep);
    assert!(v.message.contains("17"), "{}", v.message);
    assert_eq!(v.path.split('.').count(), 16);
    // Arrays count as levels too.
    converter().convert(&nested(16, Bson::Array(vec![Bson::Int32(1)]))).unwrap();
    converter().convert(&nested(17, Bson::Array(vec![]))).unwrap_err();
    // So do the `$date`/`$objectId` wrapper objects, as in the Data API.
    converter().convert(&nested(17, Bson::Int32(1))).unwrap();
    converter().convert(&nested(17, Bson::DateTime(DateTime::from_millis(0)))).unwrap_err();
    converter().convert(&nested(16, Bson::DateTime(DateTime::from_millis(0)))).unwrap();
}

#[test]
fn deep_nesting_reports_once_per_branch() {
    let r = converter().convert(&nested(40, Bson::Int32(1))).unwrap_err();
    assert_eq!(r.violations.len(), 1, "{r}");
}

#[test]
fn path_1000_chars_accepted_1001_rejected() {
    // "aaaa....": 10 segments joined by dots.
    let path_doc = |total: usize| {
        let seg = (total - 9) / 10;
        let last = total - 9 - seg * 9;
        let mut value = Bson::Int32(1);
        value = Bson::Document({
            let mut d = Document::new();
            d.insert("z".repeat(last), value);
            d
        });
        for _ in 0..8 {
            let mut d = Document::new();
            d.insert("y".repeat(seg), value);
            value = Bson::Document(d);
        }
        let mut top = doc! { "_id": 1 };
        top.insert("x".repeat(seg), value);
        top
    };
    converter().convert(&path_doc(1000)).unwrap();
    let r = converter().convert(&path_doc(1001)).unwrap_err();
    let v = limit_violation(&r, ViolationKind::FieldPathTooLong);
    assert!(v.message.contains("1001"), "{}", v.message);
    // A single long top-level name.
    let mut d = doc! { "_id": 1 };
    d.insert("k".repeat(1000), 1);
    converter().convert(&d).unwrap();
    let mut d = doc! { "_id": 1 };
    d.insert("k".repeat(1001), 1);
    converter().convert(&d).unwrap_err();
    // Characters, not bytes: 1000 two-byte characters are fine.
    let mut d = doc! { "_id": 1 };
    d.insert("é".repeat(1000), 1);
    converter().convert(&d).unwrap();
}

#[test]
fn document_size_4_000_000_chars() {
    // Overhead: {"_id":1,"s":""} = 16 chars; the string is unindexed so only the size counts.
    let sized = |chars: usize| doc! { "_id": 1, "s": "x".repeat(chars - 16) };
    let c = with_indexing(None, Some(&["s"]));
    let ok = c.convert(&sized(4_000_000)).unwrap();
    assert_eq!(ok.json().len(), 4_000_000);
    let r = c.convert(&sized(4_000_001)).unwrap_err();
    let v = limit_violation(&r, ViolationKind::DocumentTooLarge);
    assert_eq!(v.path, "");
    assert!(v.message.contains("4000001"), "{}", v.message);
    // Counted in UTF-16 units like Java: 2,000,000 "é" (4 MB of UTF-8) are 2,000,000 chars.
    let wide = doc! { "_id": 1, "s": "é".repeat(2_000_000) };
    c.convert(&wide).unwrap();
}

#[test]
fn number_length_100_chars() {
    // No BSON number reaches 100 characters (Decimal128 is at most 42), so check the rule
    // with a lower limit.
    let limits = DocumentLimits { max_number_chars: 7, ..Default::default() };
    let c = converter().with_limits(limits);
    c.convert(&doc! { "_id": 1, "n": 1234567 }).unwrap();
    let r = c.convert(&doc! { "_id": 1, "n": 12345678 }).unwrap_err();
    assert_eq!(limit_violation(&r, ViolationKind::NumberTooLong).path, "n");
    c.convert(&doc! { "_id": 1, "d": 1.25e20 }).unwrap(); // "1.25e20"
    c.convert(&doc! { "_id": 1, "d": 1.255e20 }).unwrap_err();
    let longest = "-9.999999999999999999999999999999999E+6144".parse::<bson::Decimal128>().unwrap();
    converter().convert(&doc! { "_id": 1, "d": longest }).unwrap();
}

#[test]
fn indexed_array_1000_elements() {
    let arr = |n: usize| doc! { "_id": 1, "a": (0..n as i32).collect::<Vec<_>>() };
    converter().convert(&arr(1000)).unwrap();
    let r = converter().convert(&arr(1001)).unwrap_err();
    assert_eq!(limit_violation(&r, ViolationKind::IndexedArrayTooLong).path, "a");
    // Not indexed: no limit.
    with_indexing(None, Some(&["a"])).convert(&arr(5000)).unwrap();
    with_indexing(Some(&["b"]), None).convert(&arr(5000)).unwrap();
    with_indexing(Some(&["a"]), None).convert(&arr(1001)).unwrap_err();
}

#[test]
fn indexed_string_8000_bytes() {
    let s = |n: usize| doc! { "_id": 1, "o": { "s": "x".repeat(n) } };
    converter().convert(&s(8000)).unwrap();
    let r = converter().convert(&s(8001)).unwrap_err();
    let v = limit_violation(&r, ViolationKind::IndexedStringTooLong);
    assert_eq!(v.path, "o.s");
    assert!(v.message.contains("8001 bytes"), "{}", v.message);
    // Bytes of UTF-8, not characters: 4000 "é" = 8000 bytes; 4001 = 8002.
    converter().convert(&doc! { "_id": 1, "s": "é".repeat(4000) }).unwrap();
    converter().convert(&doc! { "_id": 1, "s": "é".repeat(4001) }).unwrap_err();
    // Strings in arrays too.
    converter().convert(&doc! { "_id": 1, "l": ["x".repeat(8001)] }).unwrap_err();
    // Deny lifts it, for the path and everything under it.
    with_indexing(None, Some(&["o"])).convert(&s(100_000)).unwrap();
    with_indexing(None, Some(&["o.s"])).convert(&s(100_000)).unwrap();
    with_indexing(None, Some(&["o.t"])).convert(&s(8001)).unwrap_err();
    with_indexing(None, Some(&["*"])).convert(&s(100_000)).unwrap();
    // Allow lists index only what they name.
    with_indexing(Some(&["other"]), None).convert(&s(100_000)).unwrap();
    with_indexing(Some(&["o"]), None).convert(&s(8001)).unwrap_err();
    with_indexing(Some(&["*"]), None).convert(&s(8001)).unwrap_err();
    // Binary is exempt, as the Data API exempts `$binary`.
    converter()
        .convert(&doc! { "_id": 1, "b": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![0; 100_000] } })
        .unwrap();
    // The `_id` is always indexed.
    with_indexing(None, Some(&["*"])).convert(&doc! { "_id": "x".repeat(8001) }).unwrap_err();
}

#[test]
fn dotted_names_match_escaped_deny_paths() {
    let mut d = doc! { "_id": 1 };
    d.insert("a.b", "x".repeat(9000));
    converter().convert(&d).unwrap_err();
    with_indexing(None, Some(&["a&.b"])).convert(&d).unwrap();
    with_indexing(None, Some(&["a.b"])).convert(&d).unwrap_err();
}

#[test]
fn indexed_object_1000_properties() {
    let props = |n: usize| {
        let mut o = Document::new();
        for i in 0..n {
            o.insert(format!("k{i}"), 1);
        }
        doc! { "_id": 1, "o": o }
    };
    converter().convert(&props(1000)).unwrap();
    let r = converter().convert(&props(1001)).unwrap_err();
    assert_eq!(limit_violation(&r, ViolationKind::TooManyIndexedProperties).path, "o");
    with_indexing(None, Some(&["o"])).convert(&props(1001)).unwrap();
    // The document itself: `_id` plus 999 fields is 1000 properties.
    let top = |n: usize| {
        let mut d = doc! { "_id": 1 };
        for i in 1..n {
            d.insert(format!("k{i}"), 1);
        }
        d
    };
    converter().convert(&top(1000)).unwrap();
    let r = converter().convert(&top(1001)).unwrap_err();
    assert_eq!(limit_violation(&r, ViolationKind::TooManyIndexedProperties).path, "");
}

#[test]
fn document_2000_indexed_properties() {
    // Properties of every indexed object summed: the root {_id, a, b} is 3, a and b hold
    // n and m each. Wrapper objects ({"$date":..}) count one each, as in the Data API.
    let doc_with = |n: usize, m: usize| {
        let mut a = Document::new();
        for i in 0..n {
            a.insert(format!("k{i}"), 1);
        }
        let mut b = Document::new();
        for i in 0..m {
            b.insert(format!("k{i}"), 1);
        }
        doc! { "_id": 1, "a": a, "b": b }
    };
    converter().convert(&doc_with(1000, 997)).unwrap();
    let r = converter().convert(&doc_with(1000, 998)).unwrap_err();
    let v = limit_violation(&r, ViolationKind::TooManyIndexedProperties);
    assert_eq!(v.path, "");
    assert!(v.message.contains("2001"), "{}", v.message);
    with_indexing(None, Some(&["b"])).convert(&doc_with(1000, 998)).unwrap();
    // A date wrapper is one more property.
    let mut d = doc_with(1000, 996);
    d.insert("when", DateTime::from_millis(0));
    // root 4 + 1000 + 996 + 1 = 2001.
    converter().convert(&d).unwrap_err();
}

#[test]
fn violations_are_capped() {
    let d = doc! { "_id": 1, "many": (0..500).map(|_| Bson::MinKey).collect::<Vec<_>>() };
    let r = converter().convert(&d).unwrap_err();
    assert_eq!(r.violations.len(), 100);
}
