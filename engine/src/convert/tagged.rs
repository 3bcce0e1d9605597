//! Values with no Data API form — NaN and ±Infinity, Timestamp, Regex, JavaScript, Symbol,
//! DBPointer, MinKey, MaxKey, Undefined — written as the job's policies say: refused by
//! default, or as a string, `null`, or a `__bson_type` tagged object that decodes back to the
//! same BSON value.

use super::encode::{bson_type_name, canonical_extjson, Segment, Walk, TYPE_TAG};
use super::indexing::IndexState;
use super::json;
use super::violation::{AdjustmentKind, ViolationKind};
use crate::policy::{NonFinitePolicy, UnsupportedValuePolicy};
use bson::Bson;

impl<'c, 'd> Walk<'c, 'd> {
    pub(super) fn non_finite(&mut self, text: &str, type_name: &'static str, state: IndexState<'c>) {
        match self.policy.non_finite_numbers {
            NonFinitePolicy::Reject => {
                self.out.extend_from_slice(b"null");
                self.violation(
                    ViolationKind::NonFiniteNumber,
                    format!(
                        "the {type_name} {text} has no JSON form (choose a non-finite number \
                         policy to write it as a string, a tagged object or null)"
                    ),
                );
            }
            NonFinitePolicy::AsString => {
                json::write_str(&mut self.out, text);
                self.adjust(AdjustmentKind::NonFiniteAsString);
            }
            NonFinitePolicy::AsNull => {
                self.out.extend_from_slice(b"null");
                self.adjust(AdjustmentKind::NonFiniteAsNull);
            }
            NonFinitePolicy::AsTaggedObject => {
                self.tagged(type_name, 2, state);
                self.tagged_str("value", text, state);
                self.close_tagged();
                self.adjust(AdjustmentKind::NonFiniteAsTaggedObject);
            }
        }
    }

    pub(super) fn unsupported(&mut self, value: &'d Bson, state: IndexState<'c>) {
        match self.policy.unsupported_values {
            UnsupportedValuePolicy::Reject => {
                self.out.extend_from_slice(b"null");
                self.violation(
                    ViolationKind::NoJsonForm,
                    format!(
                        "a BSON {} has no Data API form (choose an unsupported-value policy to \
                         write it as a string or a tagged object)",
                        bson_type_name(value)
                    ),
                );
            }
            UnsupportedValuePolicy::AsString => {
                match value {
                    Bson::Symbol(s) | Bson::JavaScriptCode(s) => self.string(s, state),
                    other => {
                        let text = canonical_extjson(other);
                        self.string(&text, state);
                    }
                }
                self.adjust(AdjustmentKind::ValueAsString);
            }
            UnsupportedValuePolicy::AsTaggedObject => {
                self.tagged_value(value, state);
                self.adjust(AdjustmentKind::ValueAsTaggedObject);
            }
        }
    }

    fn tagged_value(&mut self, value: &'d Bson, state: IndexState<'c>) {
        match value {
            Bson::Timestamp(ts) => {
                self.tagged("timestamp", 3, state);
                self.out.extend_from_slice(b",\"t\":");
                json::write_i64(&mut self.out, i64::from(ts.time));
                self.out.extend_from_slice(b",\"i\":");
                json::write_i64(&mut self.out, i64::from(ts.increment));
            }
            Bson::RegularExpression(re) => {
                self.tagged("regex", 3, state);
                self.tagged_str("pattern", &re.pattern, state);
                self.tagged_str("options", &re.options, state);
            }
            Bson::JavaScriptCode(code) => {
                self.tagged("javascript", 2, state);
                self.tagged_str("code", code, state);
            }
            Bson::JavaScriptCodeWithScope(js) => {
                self.tagged("javascriptWithScope", 3, state);
                self.tagged_str("code", &js.code, state);
                self.out.extend_from_slice(b",\"scope\":");
                self.path.push(Segment::Fixed("scope"));
                let saved = self.prefix_chars;
                let saved_skip = self.vector_skip.take();
                self.prefix_chars += "scope.".len();
                self.subdocument(&js.scope, state.child("scope"));
                self.prefix_chars = saved;
                self.vector_skip = saved_skip;
                self.path.pop();
            }
            Bson::Symbol(s) => {
                self.tagged("symbol", 2, state);
                self.tagged_str("value", s, state);
            }
            Bson::DbPointer(_) => {
                self.tagged("dbPointer", 3, state);
                let (namespace, oid) = db_pointer_parts(value);
                self.tagged_str("ref", &namespace, state);
                self.out.extend_from_slice(b",\"id\":");
                self.open_wrapper(b"{\"$objectId\":\"", state);
                self.out.extend_from_slice(oid.as_bytes());
                self.out.push(b'"');
                self.close_wrapper();
            }
            Bson::MinKey => self.tagged("minKey", 1, state),
            Bson::MaxKey => self.tagged("maxKey", 1, state),
            _ => self.tagged("undefined", 1, state),
        }
        self.close_tagged();
    }

    /// Opens `{"__bson_type":"<name>"` for an object of `properties` keys.
    pub(super) fn tagged(&mut self, name: &str, properties: usize, state: IndexState<'c>) {
        self.enter();
        self.count_object(properties, state);
        self.out.extend_from_slice(b"{\"");
        self.out.extend_from_slice(TYPE_TAG.as_bytes());
        self.out.extend_from_slice(b"\":");
        json::write_str(&mut self.out, name);
    }

    fn tagged_str(&mut self, key: &'static str, value: &str, state: IndexState<'c>) {
        self.out.push(b',');
        json::write_key(&mut self.out, key);
        self.path.push(Segment::Fixed(key));
        self.string(value, state);
        self.path.pop();
    }

    pub(super) fn close_tagged(&mut self) {
        self.out.push(b'}');
        self.depth -= 1;
    }
}

/// The namespace and ObjectId hex of a DBPointer, whose fields `bson` keeps private.
fn db_pointer_parts(value: &Bson) -> (String, String) {
    let ext = value.clone().into_canonical_extjson();
    let pointer = &ext["$dbPointer"];
    let namespace = pointer["$ref"].as_str().unwrap_or_default().to_owned();
    let oid = pointer["$id"]["$oid"].as_str().unwrap_or_default().to_owned();
    (namespace, oid)
}
