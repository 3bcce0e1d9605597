//! The sample dataset that `make run` loads into a local MongoDB-compatible server, and
//! that tests and benchmarks use: two databases, five collections, 50,000 documents that
//! exercise every BSON type docshift converts, plus a few documents Astra would refuse.
//!
//! Generation is deterministic: document `i` of a collection is always the same, so a
//! test can recompute what it expects to find.

use bson::{doc, oid::ObjectId, spec::BinarySubtype, Binary, Bson, DateTime, Decimal128, Document};
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::str::FromStr;

/// One collection of the sample dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleCollection {
    pub database: &'static str,
    pub name: &'static str,
    pub count: u64,
}

/// The collections of the sample dataset, 50,000 documents in all.
pub fn sample_collections() -> Vec<SampleCollection> {
    vec![
        SampleCollection { database: "shop", name: "customers", count: 10_000 },
        SampleCollection { database: "shop", name: "orders", count: 20_000 },
        SampleCollection { database: "shop", name: "products", count: 2_000 },
        SampleCollection { database: "analytics", name: "events", count: 15_000 },
        SampleCollection { database: "analytics", name: "sensor-readings", count: 3_000 },
    ]
}

/// The same dataset scaled to `total` documents, keeping the proportions (at least one
/// document per collection). Tests use a small scale; `make run` uses the full one.
pub fn scaled_collections(total: u64) -> Vec<SampleCollection> {
    let full: u64 = sample_collections().iter().map(|c| c.count).sum();
    sample_collections()
        .into_iter()
        .map(|c| SampleCollection { count: (c.count * total / full).max(1), ..c })
        .collect()
}

/// The documents of one sample collection, in `_id` order of generation.
pub fn documents(spec: &SampleCollection) -> impl Iterator<Item = Document> + '_ {
    (0..spec.count).map(move |i| document(spec.name, i))
}

/// Document `i` of the named collection. Unknown names get the `events` shape.
pub fn document(collection: &str, i: u64) -> Document {
    let mut rng = StdRng::seed_from_u64(seed(collection) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    match collection {
        "customers" => customer(i, &mut rng),
        "orders" => order(i, &mut rng),
        "products" => product(i, &mut rng),
        "sensor-readings" => sensor_reading(i, &mut rng),
        _ => event(i, &mut rng),
    }
}

/// How many documents of a collection of `count` documents Astra would refuse as they are
/// (with docshift's default, strict policies). Tests check the dead letters against it.
pub fn refused_count(collection: &str, count: u64) -> u64 {
    (0..count).filter(|&i| is_refused(collection, i)).count() as u64
}

fn is_refused(collection: &str, i: u64) -> bool {
    match collection {
        "events" => i % 1_000 == 999,
        "sensor-readings" => i % 500 == 250,
        _ => false,
    }
}

fn seed(collection: &str) -> u64 {
    collection.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// A stable ObjectId: a timestamp in 2023 plus the collection seed and the index.
fn object_id(collection: &str, i: u64) -> ObjectId {
    let mut bytes = [0u8; 12];
    let ts = 1_672_531_200u32.wrapping_add((i / 8) as u32);
    bytes[..4].copy_from_slice(&ts.to_be_bytes());
    bytes[4..8].copy_from_slice(&(seed(collection) as u32).to_be_bytes());
    bytes[8..].copy_from_slice(&(i as u32).to_be_bytes());
    ObjectId::from_bytes(bytes)
}

fn uuid_binary(rng: &mut StdRng) -> Binary {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Binary { subtype: BinarySubtype::Uuid, bytes: bytes.to_vec() }
}

fn date(rng: &mut StdRng, from_ms: i64, to_ms: i64) -> DateTime {
    DateTime::from_millis(rng.gen_range(from_ms..to_ms))
}

fn money(cents: i64) -> Bson {
    let text = format!("{}.{:02}", cents / 100, cents % 100);
    Decimal128::from_str(&text).map(Bson::Decimal128).unwrap_or(Bson::Int64(cents))
}

const FIRST: [&str; 12] = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Leslie", "Margaret", "Tony"];
const LAST: [&str; 10] = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Lamport"];
const CITIES: [&str; 8] = ["Lisbon", "Nairobi", "Osaka", "Montréal", "Zürich", "São Paulo", "Reykjavík", "Auckland"];
const TAGS: [&str; 8] = ["new", "vip", "wholesale", "returning", "newsletter", "beta", "churn-risk", "partner"];
const EPOCH_2020: i64 = 1_577_836_800_000;
const EPOCH_2026: i64 = 1_767_225_600_000;

fn customer(i: u64, rng: &mut StdRng) -> Document {
    let first = FIRST[rng.gen_range(0..FIRST.len())];
    let last = LAST[rng.gen_range(0..LAST.len())];
    let tags: Vec<Bson> = (0..rng.gen_range(0..4)).map(|_| Bson::from(TAGS[rng.gen_range(0..TAGS.len())])).collect();
    doc! {
        "_id": object_id("customers", i),
        "name": format!("{first} {last}"),
        "email": format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i),
        "customerId": Bson::Int64(1_000_000_000_000 + i as i64),
        "signedUpAt": date(rng, EPOCH_2020, EPOCH_2026),
        // Some customers were born before 1970: negative epoch milliseconds.
        "birthDate": date(rng, -631_152_000_000, 1_104_537_600_000),
        "address": {
            "street": format!("{} Main Street", rng.gen_range(1..500)),
            "city": CITIES[rng.gen_range(0..CITIES.len())],
            "geo": { "lat": rng.gen_range(-90.0..90.0), "lng": rng.gen_range(-180.0..180.0) },
        },
        "tags": tags,
        "loyaltyPoints": rng.gen_range(0..100_000i32),
        "balance": money(rng.gen_range(-50_000..5_000_000)),
        "active": rng.gen_bool(0.8),
        "referrer": if rng.gen_bool(0.3) { Bson::ObjectId(object_id("customers", rng.gen_range(0..i.max(1)))) } else { Bson::Null },
    }
}

fn order(i: u64, rng: &mut StdRng) -> Document {
    let lines: Vec<Bson> = (0..rng.gen_range(1..6))
        .map(|_| {
            let quantity = rng.gen_range(1..10i32);
            Bson::Document(doc! {
                "sku": format!("SKU-{:05}", rng.gen_range(0..2_000)),
                "quantity": quantity,
                "unitPrice": money(rng.gen_range(99..99_999)),
            })
        })
        .collect();
    let placed = date(rng, EPOCH_2020, EPOCH_2026);
    doc! {
        "_id": object_id("orders", i),
        "orderNumber": format!("ORD-{:08}", i),
        "customer": object_id("customers", rng.gen_range(0..10_000)),
        "placedAt": placed,
        "status": (["placed", "paid", "shipped", "delivered", "refunded"][rng.gen_range(0..5)]),
        "lines": lines,
        "total": money(rng.gen_range(99..999_999)),
        "payment": {
            "method": (["card", "transfer", "wallet"][rng.gen_range(0..3)]),
            "transactionId": uuid_binary(rng),
            "fingerprint": Binary { subtype: BinarySubtype::Generic, bytes: (0..16).map(|_| rng.gen()).collect() },
        },
        "shipping": { "priority": rng.gen_bool(0.1), "weightKg": rng.gen_range(0.1..40.0) },
    }
}

fn product(i: u64, rng: &mut StdRng) -> Document {
    doc! {
        "_id": format!("SKU-{:05}", i),
        "title": format!("{} widget no. {}", (["Blue", "Green", "Copper", "Quiet", "Tiny"][rng.gen_range(0..5)]), i),
        "price": money(rng.gen_range(99..99_999)),
        // A Decimal128 with more digits than a double can hold.
        "exactWeight": Decimal128::from_str(&format!("0.{:034}", rng.gen_range(1..u64::MAX))).map(Bson::Decimal128).unwrap_or(Bson::Null),
        "stock": rng.gen_range(0..10_000i32),
        "dimensions": { "w": rng.gen_range(1..100i32), "h": rng.gen_range(1..100i32), "d": rng.gen_range(1..100i32), "unit": "cm" },
        "images": (0..rng.gen_range(0..3)).map(|n| Bson::from(format!("/img/{i}/{n}.jpg"))).collect::<Vec<_>>(),
        "thumbnail": Binary { subtype: BinarySubtype::Generic, bytes: (0..64).map(|_| rng.gen()).collect() },
        "addedAt": date(rng, EPOCH_2020, EPOCH_2026),
        "catalogId": uuid_binary(rng),
    }
}

fn event(i: u64, rng: &mut StdRng) -> Document {
    let mut doc = doc! {
        "_id": object_id("events", i),
        "kind": (["page_view", "click", "purchase", "signup", "logout"][rng.gen_range(0..5)]),
        "at": date(rng, EPOCH_2020, EPOCH_2026),
        "session": uuid_binary(rng),
        "user": if rng.gen_bool(0.7) { Bson::ObjectId(object_id("customers", rng.gen_range(0..10_000))) } else { Bson::Null },
        "durationMs": Bson::Int64(rng.gen_range(0..86_400_000)),
        "context": {
            "ua": "Mozilla/5.0",
            "screen": { "w": 1920, "h": 1080 },
            "path": (["/", "/shop", "/cart", "/checkout"][rng.gen_range(0..4)]),
        },
        "scores": (0..5).map(|_| Bson::Double(rng.gen_range(0.0..1.0))).collect::<Vec<_>>(),
    };
    if is_refused("events", i) {
        // Documents Astra refuses as they are, one reason each, in turn.
        match (i / 1_000) % 4 {
            0 => doc.insert("$weird", "a field name starting with $"),
            1 => doc.insert("ratio", Bson::Double(f64::NAN)),
            2 => doc.insert("pattern", Bson::RegularExpression(bson::Regex { pattern: "^a.*z$".into(), options: "i".into() })),
            _ => doc.insert("nested", deep(20)),
        };
    }
    doc
}

fn sensor_reading(i: u64, rng: &mut StdRng) -> Document {
    let id = if is_refused("sensor-readings", i) {
        // A compound _id: valid in MongoDB, refused by the Data API.
        Bson::Document(doc! { "sensor": (i % 50) as i32, "seq": i as i64 })
    } else {
        Bson::Int64(i as i64)
    };
    doc! {
        "_id": id,
        "sensor": format!("sensor-{:02}", i % 50),
        "takenAt": date(rng, EPOCH_2020, EPOCH_2026),
        "celsius": rng.gen_range(-40.0..60.0),
        "samples": (0..rng.gen_range(1..20)).map(|_| Bson::Int32(rng.gen_range(0..4096))).collect::<Vec<_>>(),
        "battery": { "volts": rng.gen_range(2.5..4.2), "low": rng.gen_bool(0.05) },
    }
}

fn deep(levels: u32) -> Bson {
    (0..levels).fold(Bson::from("bottom"), |inner, _| Bson::Document(doc! { "level": inner }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_dataset_has_fifty_thousand_documents_in_two_databases() {
        let collections = sample_collections();
        assert_eq!(collections.iter().map(|c| c.count).sum::<u64>(), 50_000);
        let mut databases: Vec<_> = collections.iter().map(|c| c.database).collect();
        databases.dedup();
        assert_eq!(databases.len(), 2);
    }

    #[test]
    fn documents_are_deterministic_and_ids_unique() {
        assert_eq!(document("orders", 17), document("orders", 17));
        for spec in scaled_collections(5_000) {
            let ids: std::collections::HashSet<String> =
                documents(&spec).map(|d| format!("{:?}", d.get("_id"))).collect();
            assert_eq!(ids.len() as u64, spec.count, "{}", spec.name);
        }
    }

    #[test]
    fn some_documents_are_refused() {
        assert_eq!(refused_count("events", 15_000), 15);
        assert_eq!(refused_count("sensor-readings", 3_000), 6);
        assert!(document("events", 999).contains_key("$weird"));
    }
}
