//! The compatibility census against SecantusDB: every refused document counted under the rule
//! it breaks, with an example, and an `indexing.deny` suggestion only for the limits that
//! deny lifts.

use bson::{doc, Bson, Document};
use engine::{census::census, testing::MongoServer, wire::Census};

fn reason<'c>(census: &'c Census, reason: &str) -> &'c engine::wire::CensusReason {
    census.reasons.iter().find(|r| r.reason == reason).unwrap_or_else(|| panic!("no {reason:?} in {:#?}", census.reasons))
}

#[tokio::test]
async fn refused_documents_are_counted_by_the_rule_they_break() {
    let server = MongoServer::start();
    // Documents 999, 1999, 2999 and 3999 are refused: a `$` field name, NaN, a regex, and
    // nesting 20 deep (engine::sample).
    server.load_sample("analytics", "events", 4_000).await;
    let client = mongodb::Client::with_uri_str(server.uri()).await.unwrap();
    let events = client.database("analytics").collection::<Document>("events");

    let found = census(&events, 100_000).await.unwrap();
    assert_eq!((found.scanned, found.convertible), (4_000, 3_996), "{found:#?}");
    for (name, code, path) in [
        ("field name starting with $ (or empty)", "SHRED_BAD_FIELD_NAME", "$weird"),
        ("NaN or Infinity", "UNSUPPORTED_BSON_VALUE", "ratio"),
        ("BSON type with no JSON form (regex, timestamp, ...)", "UNSUPPORTED_BSON_VALUE", "pattern"),
        ("nested too deep", "SHRED_DOC_LIMIT_VIOLATION", "nested"),
    ] {
        let r = reason(&found, name);
        assert_eq!((r.documents, r.code.as_str()), (1, code), "{r:?}");
        assert!(r.example_path.starts_with(path), "{r:?}");
    }
    assert_eq!(found.reasons.len(), 4, "{:#?}", found.reasons);
    assert!(found.suggested_deny.is_empty(), "deny lifts none of these: {:?}", found.suggested_deny);

    // Limits on indexed values: denying the paths lets those documents in.
    let wide = client.database("analytics").collection::<Document>("wide");
    wide.insert_many([
        doc! { "_id": 1, "notes": { "text": "x".repeat(9_000) } },
        doc! { "_id": 2, "tags": (0..1_500).map(Bson::Int32).collect::<Vec<_>>() },
        doc! { "_id": 3, "notes": { "text": "short" }, "tags": [1, 2] },
        doc! { "_id": 4, "ratio": f64::INFINITY, "notes": { "text": "y".repeat(9_000) } },
    ])
    .await
    .unwrap();
    let found = census(&wide, 100_000).await.unwrap();
    assert_eq!((found.scanned, found.convertible), (4, 1));
    assert_eq!(reason(&found, "string over the indexed limit").documents, 2);
    assert_eq!(reason(&found, "array over the indexed limit").documents, 1);
    assert_eq!(reason(&found, "NaN or Infinity").documents, 1);
    assert_eq!(found.suggested_deny, ["notes.text", "tags"]);
    assert_eq!(found.fixed_by_deny, 2, "document 4 also holds Infinity, which no deny lets in");
}
