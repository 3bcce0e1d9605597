//! The same walk over the raw BSON the source sent, for the copy: no `bson::Document` is
//! built first. Building one (an allocation per key and value, a hash per key, then freeing
//! it all) was about a quarter of a copy's CPU (perf, 100,000 `orders` documents).
//!
//! It writes what [`Walk::document`] writes for the same document, through the same steps
//! (keys and their policy, objects, arrays, scalars, limits). What it does not handle, it
//! leaves to that walk, which then converts the document from the start:
//! - a value with no JSON form, and an `_id` the Data API refuses or that is missing (their
//!   policies and reasons are written from the `Bson` value);
//! - a key written twice in one object (a `Document` keeps the last value in the first
//!   place), and an object of more than [`MAX_KEYS`] keys, where looking for repeats would
//!   cost more than building the `Document`;
//! - BSON that does not read (text that is not UTF-8 goes to the dead letters that way);
//! - a vector mapping (the mapped field is taken out of the `Document`).

use super::{
    encode::{Encoded, Walk},
    indexing::{IndexPaths, IndexState},
};
use bson::{RawArray, RawBsonRef, RawDocument};

/// The most keys an object may have for this walk.
const MAX_KEYS: usize = 64;

/// The document is left to [`Walk::document`].
#[derive(Debug)]
pub(crate) struct Unhandled;

impl<T> From<T> for Unhandled
where
    T: std::error::Error,
{
    fn from(_: T) -> Self {
        Unhandled
    }
}

impl<'c, 'd> Walk<'c, 'd> {
    /// Writes the whole document, `_id` first, as [`Walk::document`] does.
    pub(crate) fn raw_document(mut self, doc: &'d RawDocument, paths: &'c IndexPaths) -> Result<Encoded, Unhandled> {
        let root = paths.root();
        self.open_document();
        self.raw_id_value(doc.get("_id")?)?;
        let (id_end, mut count) = self.close_id();
        for element in doc {
            let (key, value) = element?;
            self.distinct(0, key)?;
            if key == "_id" {
                continue;
            }
            count += self.next_property(false, key, root);
            self.raw_field(doc, key, value, root)?;
        }
        Ok(self.finish(id_end, count, root))
    }

    /// An `_id` the Data API takes as it is; anything else is left to the `Document` walk.
    fn raw_id_value(&mut self, id: Option<RawBsonRef<'d>>) -> Result<(), Unhandled> {
        let taken = match id {
            Some(RawBsonRef::String(s)) => !s.is_empty(),
            Some(RawBsonRef::Int32(_) | RawBsonRef::Int64(_) | RawBsonRef::Boolean(_) | RawBsonRef::Null) => true,
            Some(RawBsonRef::ObjectId(_) | RawBsonRef::DateTime(_)) => true,
            Some(RawBsonRef::Double(d)) => d.is_finite(),
            Some(RawBsonRef::Decimal128(d)) => super::decimal::is_finite(&d),
            Some(RawBsonRef::Binary(b)) => self.uuid_bytes(b.subtype, b.bytes).is_some(),
            _ => false,
        };
        match id {
            Some(id) if taken => self.raw_value(id, IndexState::All),
            _ => Err(Unhandled),
        }
    }

    /// Records `key` among the keys of the object whose keys start at `start`; a repeat, or
    /// one key too many, is left to the `Document` walk.
    fn distinct(&mut self, start: usize, key: &'d str) -> Result<(), Unhandled> {
        let seen = &self.keys[start..];
        if seen.len() >= MAX_KEYS || seen.contains(&key) {
            return Err(Unhandled);
        }
        self.keys.push(key);
        Ok(())
    }

    fn raw_field(&mut self, parent: &'d RawDocument, key: &'d str, value: RawBsonRef<'d>, state: IndexState<'c>) -> Result<(), Unhandled> {
        let (child, scope) = self.enter_field(key, state, |renamed| matches!(parent.get(renamed), Ok(Some(_))));
        let written = self.raw_value(value, child);
        self.leave_field(scope);
        written
    }

    fn raw_value(&mut self, value: RawBsonRef<'d>, state: IndexState<'c>) -> Result<(), Unhandled> {
        match value {
            RawBsonRef::String(s) => self.string(s, state),
            RawBsonRef::Int32(i) => self.integer(i64::from(i)),
            RawBsonRef::Int64(i) => self.integer(i),
            RawBsonRef::Double(d) => self.double(d, state),
            RawBsonRef::Decimal128(d) => self.decimal(&d, state),
            RawBsonRef::Boolean(b) => self.boolean(b),
            RawBsonRef::Null => self.out.extend_from_slice(b"null"),
            RawBsonRef::Document(doc) => self.raw_subdocument(doc, state)?,
            RawBsonRef::Array(items) => self.raw_array(items, state)?,
            RawBsonRef::ObjectId(oid) => self.object_id(&oid, state),
            RawBsonRef::DateTime(dt) => self.date(dt.timestamp_millis(), state),
            RawBsonRef::Binary(bin) => self.binary(bin.subtype, bin.bytes, state),
            _ => return Err(Unhandled),
        }
        Ok(())
    }

    fn raw_subdocument(&mut self, doc: &'d RawDocument, state: IndexState<'c>) -> Result<(), Unhandled> {
        self.open_object();
        let start = self.keys.len();
        let mut indexed = 0;
        for (n, element) in doc.into_iter().enumerate() {
            let (key, value) = element?;
            self.distinct(start, key)?;
            indexed += self.next_property(n == 0, key, state);
            self.raw_field(doc, key, value, state)?;
        }
        self.keys.truncate(start);
        self.close_object(indexed, state);
        Ok(())
    }

    fn raw_array(&mut self, items: &'d RawArray, state: IndexState<'c>) -> Result<(), Unhandled> {
        let saved_skip = self.open_array(|| items.into_iter().count(), state);
        for (i, item) in items.into_iter().enumerate() {
            let item = item?;
            self.next_element(i);
            let written = self.raw_value(item, state);
            self.path.pop();
            written?;
        }
        self.close_array(saved_skip);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::convert::Converter;
    use crate::policy::{ConversionPolicy, Indexing};
    use bson::{doc, RawDocumentBuf};

    fn converter() -> Converter {
        Converter::new(ConversionPolicy::default(), &Indexing::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_document_of_common_values_converts_from_raw_bson_as_from_its_document() {
        let doc = doc! {
            "name": "Ada", "_id": bson::oid::ObjectId::from_bytes([7; 12]), "n": 3_i64, "x": 1.5,
            "total": "12.50".parse::<bson::Decimal128>().unwrap_or_else(|e| panic!("{e}")),
            "at": bson::DateTime::from_millis(1_700_000_000_000), "ok": true, "none": null,
            "lines": [{ "sku": "A-1", "qty": 2 }, { "sku": "B-2", "qty": 1 }], "empty": {},
            "id": bson::Binary { subtype: bson::spec::BinarySubtype::Uuid, bytes: vec![1; 16] },
        };
        let raw = RawDocumentBuf::from_document(&doc).unwrap_or_else(|e| panic!("{e}"));
        let converter = converter();
        assert_eq!(converter.convert_raw(&raw), converter.convert(&doc).ok());
        assert!(converter.convert_raw(&raw).is_some());
    }

    #[test]
    fn a_key_written_twice_is_left_to_the_document_walk() {
        // A `Document` keeps the last value in the first place; raw BSON has both.
        let mut raw = RawDocumentBuf::new();
        raw.append("_id", 1);
        raw.append("a", 1);
        raw.append("b", 2);
        raw.append("a", 3);
        assert_eq!(converter().convert_raw(&raw), None);
        let document = raw.to_document().unwrap_or_else(|e| panic!("{e}"));
        let converted = converter().convert(&document).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(converted.json(), r#"{"_id":1,"a":3,"b":2}"#);
    }

    #[test]
    fn text_that_is_not_utf8_is_left_to_the_document_walk() {
        let raw = RawDocumentBuf::from_document(&doc! { "_id": 7, "name": "cafe" }).unwrap_or_else(|e| panic!("{e}"));
        let mut bytes = raw.into_bytes();
        let at = bytes.len() - 3;
        bytes[at] = 0xe9;
        let raw = RawDocumentBuf::from_bytes(bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(converter().convert_raw(&raw), None);
    }
}
