//! Splitting a collection into `_id` ranges that can be read in parallel and resumed.
//!
//! A range is `[lower, upper)` in MongoDB's `_id` sort order. MongoDB's query operators
//! compare within one *type bracket* only (`{$gte: 5}` never matches a string), while the
//! sort order runs across brackets (numbers < strings < objects < ... < dates). So a range
//! whose bounds lie in different brackets is queried as a union: the values of the lower
//! bound's bracket from the bound up, every bracket strictly between (by `$type`), and the
//! values of the upper bound's bracket below the bound. Every document of the collection
//! then falls in exactly one range, whatever mix of `_id` types it has.

use bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use futures::TryStreamExt;
use mongodb::Collection;
use std::time::Duration;

/// `[lower, upper)` over `_id`; `None` is an open end.
#[derive(Debug, Clone, PartialEq)]
pub struct IdRange {
    pub lower: Option<Bson>,
    pub upper: Option<Bson>,
}

impl IdRange {
    pub fn whole() -> Self {
        Self { lower: None, upper: None }
    }

    /// The `_id` condition of this range, resuming after `checkpoint` (the last `_id`
    /// already accounted for) when there is one. `None` when every `_id` matches.
    pub fn condition(&self, checkpoint: Option<&Bson>) -> Option<Document> {
        let lower = match (checkpoint, &self.lower) {
            (Some(after), _) => Some(Bound { value: after, inclusive: false }),
            (None, Some(lower)) => Some(Bound { value: lower, inclusive: true }),
            (None, None) => None,
        };
        id_condition(lower, self.upper.as_ref())
    }

    /// The full query of this range: the user's filter and the `_id` condition.
    pub fn filter(&self, user_filter: &Document, checkpoint: Option<&Bson>) -> Document {
        match (self.condition(checkpoint), user_filter.is_empty()) {
            (None, _) => user_filter.clone(),
            (Some(condition), true) => condition,
            (Some(condition), false) => doc! { "$and": [user_filter.clone(), condition] },
        }
    }
}

struct Bound<'a> {
    value: &'a Bson,
    inclusive: bool,
}

/// MongoDB's canonical type order (`canonicalizeBSONType`): brackets compare across types.
const BRACKETS: [&[&str]; 16] = [
    &["minKey"],
    &["null", "undefined"],
    &["double", "int", "long", "decimal"],
    &["string", "symbol"],
    &["object"],
    &["array"],
    &["binData"],
    &["objectId"],
    &["bool"],
    &["date"],
    &["timestamp"],
    &["regex"],
    &["dbPointer"],
    &["javascript"],
    &["javascriptWithScope"],
    &["maxKey"],
];

const MIN_KEY: usize = 0;
const MAX_KEY: usize = 15;

/// The sort bracket of a value.
pub fn bracket(value: &Bson) -> usize {
    match value {
        Bson::MinKey => MIN_KEY,
        Bson::Null | Bson::Undefined => 1,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => 2,
        Bson::String(_) | Bson::Symbol(_) => 3,
        Bson::Document(_) => 4,
        Bson::Array(_) => 5,
        Bson::Binary(_) => 6,
        Bson::ObjectId(_) => 7,
        Bson::Boolean(_) => 8,
        Bson::DateTime(_) => 9,
        Bson::Timestamp(_) => 10,
        Bson::RegularExpression(_) => 11,
        Bson::DbPointer(_) => 12,
        Bson::JavaScriptCode(_) => 13,
        Bson::JavaScriptCodeWithScope(_) => 14,
        Bson::MaxKey => MAX_KEY,
    }
}

/// Whether a bracket holds a single value, so comparison operators don't apply to it.
fn is_singleton(bracket: usize) -> bool {
    bracket == MIN_KEY || bracket == MAX_KEY
}

fn types_between(from: usize, to: usize) -> Vec<Bson> {
    (from..to).flat_map(|b| BRACKETS[b].iter().map(|t| Bson::from(*t))).collect()
}

fn id_condition(lower: Option<Bound<'_>>, upper: Option<&Bson>) -> Option<Document> {
    // Brackets are [first_whole, end_whole) taken whole; plus partial clauses at the ends.
    let mut clauses: Vec<Document> = Vec::new();
    let lower_bracket = lower.as_ref().map(|b| bracket(b.value));
    let upper_bracket = upper.map(bracket);

    if let (Some(lo), Some(hi), Some(lb), Some(ub)) = (&lower, upper, lower_bracket, upper_bracket) {
        if lb == ub && !is_singleton(lb) {
            let op = if lo.inclusive { "$gte" } else { "$gt" };
            return Some(doc! { "_id": { op: lo.value.clone(), "$lt": hi.clone() } });
        }
    }

    let first_whole = match (&lower, lower_bracket) {
        (None, _) => 0,
        (Some(lo), Some(lb)) if is_singleton(lb) => {
            if lo.inclusive {
                lb
            } else {
                lb + 1
            }
        }
        (Some(lo), Some(lb)) => {
            let op = if lo.inclusive { "$gte" } else { "$gt" };
            clauses.push(doc! { "_id": { op: lo.value.clone() } });
            lb + 1
        }
        (Some(_), None) => 0,
    };
    let end_whole = match (upper, upper_bracket) {
        (None, _) => MAX_KEY + 1,
        (Some(_), Some(ub)) if is_singleton(ub) => ub,
        (Some(hi), Some(ub)) => {
            clauses.push(doc! { "_id": { "$lt": hi.clone() } });
            ub
        }
        (Some(_), None) => MAX_KEY + 1,
    };
    if first_whole == 0 && end_whole == MAX_KEY + 1 && clauses.is_empty() {
        return None;
    }
    if first_whole < end_whole {
        clauses.push(doc! { "_id": { "$type": types_between(first_whole, end_whole) } });
    }
    Some(match clauses.len() {
        0 => doc! { "_id": { "$in": [] } },
        1 => clauses.remove(0),
        _ => doc! { "$or": clauses },
    })
}

/// Splits the documents matching `filter` into at most `parts` ranges of about equal size,
/// none smaller than `min_per_range` documents. Reads one `_id` per boundary; with
/// `max_time`, a boundary the server takes longer to find ends the splitting there (fewer
/// ranges, never a wrong one).
pub async fn split(
    collection: &Collection<Document>,
    filter: &Document,
    matched: u64,
    parts: usize,
    min_per_range: u64,
    max_time: Option<Duration>,
) -> mongodb::error::Result<Vec<IdRange>> {
    let parts = (parts as u64).min(matched / min_per_range.max(1)).max(1);
    let mut boundaries: Vec<Bson> = Vec::new();
    for i in 1..parts {
        let position = matched * i / parts;
        let mut find = collection.find(filter.clone()).sort(doc! { "_id": 1 }).projection(doc! { "_id": 1 }).skip(position).limit(1);
        if let Some(limit) = max_time {
            find = find.max_time(limit);
        }
        let found: Vec<Document> = match find.await {
            Ok(cursor) => cursor.try_collect().await,
            Err(e) => Err(e),
        }
        .or_else(|e| if is_time_limit(&e) { Ok(Vec::new()) } else { Err(e) })?;
        if found.is_empty() && max_time.is_some() {
            break;
        }
        if let Some(id) = found.into_iter().next().and_then(|mut d| d.remove("_id")) {
            // A bound must be comparable: MinKey/MaxKey ids can't split a bracket.
            if !is_singleton(bracket(&id)) && boundaries.last() != Some(&id) {
                boundaries.push(id);
            }
        }
    }
    let mut ranges = Vec::with_capacity(boundaries.len() + 1);
    let mut lower = None;
    for boundary in boundaries {
        ranges.push(IdRange { lower: lower.take(), upper: Some(boundary.clone()) });
        lower = Some(boundary);
    }
    ranges.push(IdRange { lower, upper: None });
    Ok(ranges)
}

/// Whether the server stopped a query at its `maxTimeMS` (MaxTimeMSExpired, code 50).
pub fn is_time_limit(error: &mongodb::error::Error) -> bool {
    matches!(error.kind.as_ref(), mongodb::error::ErrorKind::Command(command) if command.code == 50)
}

/// A value about halfway between `a` and `b` in `_id` order (`a < b`, one bracket), to split
/// a range without asking the server: ObjectIds (as 96-bit numbers), integers, doubles and
/// dates are interpolated; `None` for other types, or when nothing lies between.
pub fn midpoint(a: &Bson, b: &Bson) -> Option<Bson> {
    fn number(value: &Bson) -> Option<f64> {
        match value {
            Bson::Int32(n) => Some(f64::from(*n)),
            Bson::Int64(n) => Some(*n as f64),
            Bson::Double(x) if x.is_finite() => Some(*x),
            _ => None,
        }
    }
    let mid = match (a, b) {
        (Bson::ObjectId(a), Bson::ObjectId(b)) => {
            let (x, y) = (oid_number(a), oid_number(b));
            (y > x + 1).then(|| Bson::ObjectId(oid_from_number(x + (y - x) / 2)))?
        }
        (Bson::DateTime(a), Bson::DateTime(b)) => {
            let (x, y) = (i128::from(a.timestamp_millis()), i128::from(b.timestamp_millis()));
            (y > x + 1).then(|| Bson::DateTime(DateTime::from_millis((x + (y - x) / 2) as i64)))?
        }
        (Bson::Int32(x), Bson::Int32(y)) => (i64::from(*y) > i64::from(*x) + 1).then(|| Bson::Int32(((i64::from(*x) + i64::from(*y)) / 2) as i32))?,
        (Bson::Int32(_) | Bson::Int64(_), Bson::Int32(_) | Bson::Int64(_)) => {
            let as_i128 = |v: &Bson| match v {
                Bson::Int32(n) => i128::from(*n),
                Bson::Int64(n) => i128::from(*n),
                _ => 0,
            };
            let (x, y) = (as_i128(a), as_i128(b));
            (y > x + 1).then(|| Bson::Int64(((x + y) / 2) as i64))?
        }
        _ => {
            let (x, y) = (number(a)?, number(b)?);
            let mid = x + (y - x) / 2.0;
            (mid > x && mid < y).then_some(Bson::Double(mid))?
        }
    };
    Some(mid)
}

fn oid_number(id: &ObjectId) -> u128 {
    id.bytes().iter().fold(0u128, |n, b| (n << 8) | u128::from(*b))
}

fn oid_from_number(n: u128) -> ObjectId {
    let mut bytes = [0u8; 12];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = (n >> (8 * (11 - i))) as u8;
    }
    ObjectId::from_bytes(bytes)
}

/// An `_id` as bytes for the checkpoint store: the BSON document `{v: id}`.
pub fn encode_id(id: &Bson) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing a document into a Vec cannot fail.
    let _ = doc! { "v": id.clone() }.to_writer(&mut bytes);
    bytes
}

/// The inverse of [`encode_id`].
pub fn decode_id(bytes: &[u8]) -> Result<Bson, bson::de::Error> {
    let mut document = Document::from_reader(bytes)?;
    Ok(document.remove("v").unwrap_or(Bson::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_within_one_bracket_is_a_plain_interval() {
        let range = IdRange { lower: Some(Bson::Int32(5)), upper: Some(Bson::Int64(9)) };
        assert_eq!(range.condition(None), Some(doc! { "_id": { "$gte": 5, "$lt": 9_i64 } }));
        assert_eq!(range.condition(Some(&Bson::Int32(6))), Some(doc! { "_id": { "$gt": 6, "$lt": 9_i64 } }));
    }

    #[test]
    fn a_range_across_brackets_takes_the_brackets_between_whole() {
        let range = IdRange { lower: Some(Bson::Int32(5)), upper: Some(Bson::Boolean(true)) };
        let condition = range.condition(None).unwrap();
        let clauses = condition.get_array("$or").unwrap();
        assert_eq!(clauses[0], Bson::Document(doc! { "_id": { "$gte": 5 } }));
        assert_eq!(clauses[1], Bson::Document(doc! { "_id": { "$lt": true } }));
        let types = clauses[2].as_document().unwrap().get_document("_id").unwrap().get_array("$type").unwrap();
        assert!(types.contains(&Bson::from("string")) && types.contains(&Bson::from("objectId")));
        assert!(!types.contains(&Bson::from("double")) && !types.contains(&Bson::from("bool")));
    }

    #[test]
    fn open_ends_cover_every_bracket() {
        assert_eq!(IdRange::whole().condition(None), None);
        let first = IdRange { lower: None, upper: Some(Bson::from("m")) }.condition(None).unwrap();
        let types = first.get_array("$or").unwrap()[1].as_document().unwrap().get_document("_id").unwrap().get_array("$type").unwrap().clone();
        assert!(types.contains(&Bson::from("minKey")) && types.contains(&Bson::from("long")));
        let after_max = IdRange::whole().condition(Some(&Bson::MaxKey)).unwrap();
        assert_eq!(after_max, doc! { "_id": { "$in": [] } });
    }

    #[test]
    fn midpoints_lie_strictly_between() {
        let a = ObjectId::parse_str("650000000000000000000000").unwrap();
        let b = ObjectId::parse_str("650000000000000000001000").unwrap();
        let Some(Bson::ObjectId(mid)) = midpoint(&Bson::ObjectId(a), &Bson::ObjectId(b)) else { panic!("no midpoint") };
        assert!(a < mid && mid < b, "{mid}");
        assert_eq!(midpoint(&Bson::Int32(1), &Bson::Int32(2)), None);
        assert_eq!(midpoint(&Bson::Int32(1), &Bson::Int64(9)), Some(Bson::Int64(5)));
        assert_eq!(midpoint(&Bson::Int32(1), &Bson::Double(2.0)), Some(Bson::Double(1.5)));
        assert_eq!(midpoint(&Bson::DateTime(DateTime::from_millis(0)), &Bson::DateTime(DateTime::from_millis(10))), Some(Bson::DateTime(DateTime::from_millis(5))));
        assert_eq!(midpoint(&Bson::from("a"), &Bson::from("z")), None);
    }

    #[test]
    fn ids_survive_the_checkpoint_encoding() {
        for id in [Bson::Int64(-3), Bson::from("x"), Bson::Document(doc! { "a": 1 }), Bson::ObjectId(bson::oid::ObjectId::new())] {
            assert_eq!(decode_id(&encode_id(&id)).unwrap(), id);
        }
    }
}
