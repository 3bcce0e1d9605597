//! The one-pass walk: writes a BSON document as Data API JSON text and checks every limit and
//! naming rule on the way, applying the job's policies where a value has no Data API form.
//! Binaries (`binary.rs`), values with no JSON form (`tagged.rs`) and the mapped vector
//! (`vector.rs`) are written by the same walk, in their own modules.

use super::decimal;
use super::indexing::{IndexPaths, IndexState};
use super::json;
use super::violation::{Adjustment, AdjustmentKind, Violation, ViolationKind};
use crate::policy::{ConversionPolicy, DocumentIdPolicy, DocumentLimits, FieldNamePolicy};
use bson::{oid::ObjectId, Bson, Decimal128, Document};
use std::fmt::Write as _;

/// Keep at most this many violations per document: enough to explain it, bounded in memory.
const MAX_VIOLATIONS: usize = 100;

/// The key of the tag in tagged objects (`AsTaggedObject` policies).
pub(crate) const TYPE_TAG: &str = "__bson_type";

/// One step of a path, borrowed from the document being walked.
#[derive(Clone, Copy)]
pub(super) enum Segment<'d> {
    Key(&'d str),
    Renamed(&'d str),
    Index(usize),
    Fixed(&'static str),
}

/// The output of a walk.
pub(crate) struct Encoded {
    pub json: Vec<u8>,
    /// Byte range of the `_id` value inside `json`.
    pub id_end: usize,
    pub violations: Vec<Violation>,
    pub adjustments: Vec<Adjustment>,
}

/// What a field's value changes of the walk, restored after it.
pub(super) struct FieldScope<'c> {
    prefix_chars: usize,
    vector_skip: Option<&'c [String]>,
}

/// Where the `_id` value sits: `{"_id":` is 7 bytes.
pub(crate) const ID_START: usize = 7;

pub(crate) struct Walk<'c, 'd> {
    pub(super) policy: &'c ConversionPolicy,
    pub(super) limits: &'c DocumentLimits,
    pub(super) out: Vec<u8>,
    pub(super) path: Vec<Segment<'d>>,
    /// Characters of the dotted path of the current container, with its trailing dot.
    pub(super) prefix_chars: usize,
    pub(super) depth: usize,
    indexed_properties: usize,
    violations: Vec<Violation>,
    adjustments: Vec<Adjustment>,
    /// The mapped vector to write as `$vector` (see `vector.rs`).
    pub(super) vector: Option<Vec<f32>>,
    /// The rest of the mapped vector field's path below the current object, while the walk
    /// is on that path and the field is moved into `$vector` (so it is not written here).
    pub(super) vector_skip: Option<&'c [String]>,
    /// The keys of the objects being written, for the raw walk's check for repeats (`raw.rs`).
    pub(super) keys: Vec<&'d str>,
}

impl<'c, 'd> Walk<'c, 'd> {
    pub(crate) fn new(
        policy: &'c ConversionPolicy,
        limits: &'c DocumentLimits,
        capacity: usize,
    ) -> Self {
        Self {
            policy,
            limits,
            out: Vec::with_capacity(capacity),
            path: Vec::with_capacity(16),
            prefix_chars: 0,
            depth: 0,
            indexed_properties: 0,
            violations: Vec::new(),
            adjustments: Vec::new(),
            vector: None,
            vector_skip: None,
            keys: Vec::new(),
        }
    }

    /// Writes the whole document, `_id` first.
    pub(crate) fn document(mut self, doc: &'d Document, paths: &'c IndexPaths) -> Encoded {
        let root = paths.root();
        self.open_document();
        self.id_value(doc.get("_id"));
        let (id_end, mut count) = self.close_id();
        for (key, value) in doc {
            if key == "_id" || self.skips(key) {
                continue;
            }
            count += self.next_property(false, key, root);
            self.field(doc, key, value, root);
        }
        self.finish(id_end, count, root)
    }

    /// `{"_id":`, with the walk at the document's top level, on the `_id` path.
    pub(super) fn open_document(&mut self) {
        self.depth = 1;
        self.out.extend_from_slice(b"{\"_id\":");
        self.path.push(Segment::Fixed("_id"));
    }

    /// After the `_id` value: where it ends in the JSON, and the indexed properties so far
    /// (`_id` is always indexed; so is a mapped `$vector`, written right after it per
    /// stargate/data-api's `IndexingProjector`).
    pub(super) fn close_id(&mut self) -> (usize, usize) {
        self.path.pop();
        let id_end = self.out.len();
        let mut count = 1;
        if let Some(values) = self.vector.take() {
            count += 1;
            self.write_vector(&values);
        }
        (id_end, count)
    }

    /// Closes the document and checks the limits on the whole of it.
    pub(super) fn finish(mut self, id_end: usize, count: usize, root: IndexState<'c>) -> Encoded {
        self.out.push(b'}');
        self.count_object(count, root);

        if self.indexed_properties > self.limits.max_document_properties {
            let message = format!(
                "the document has {} indexed properties, more than the {} allowed; \
                 add paths to the collection's indexing.deny",
                self.indexed_properties, self.limits.max_document_properties
            );
            self.violation_at(String::new(), ViolationKind::TooManyIndexedProperties, message);
        }
        if self.out.len() > self.limits.max_document_chars {
            let chars = json::utf16_len_bytes(&self.out);
            if chars > self.limits.max_document_chars {
                let message = format!(
                    "the document is {chars} characters as JSON, more than the {} allowed",
                    self.limits.max_document_chars
                );
                self.violation_at(String::new(), ViolationKind::DocumentTooLarge, message);
            }
        }
        Encoded {
            json: self.out,
            id_end,
            violations: self.violations,
            adjustments: self.adjustments,
        }
    }

    // ----- _id -----

    fn id_value(&mut self, id: Option<&'d Bson>) {
        let Some(id) = id else {
            self.out.extend_from_slice(b"null");
            self.violation(
                ViolationKind::MissingDocumentId,
                "the document has no _id; the Data API would invent a random one and a re-run \
                 would copy it twice"
                    .to_owned(),
            );
            return;
        };
        let all = IndexState::All;
        match id {
            Bson::String(s) if !s.is_empty() => self.string(s, all),
            Bson::Int32(_)
            | Bson::Int64(_)
            | Bson::Boolean(_)
            | Bson::Null
            | Bson::ObjectId(_)
            | Bson::DateTime(_) => self.value(id, all),
            Bson::Double(d) if d.is_finite() => self.value(id, all),
            Bson::Decimal128(d) if decimal::is_finite(d) => self.value(id, all),
            Bson::Binary(b) if self.uuid_bytes(b.subtype, &b.bytes).is_some() => self.value(id, all),
            _ => {
                let (kind, what) = match id {
                    Bson::String(_) => (ViolationKind::EmptyDocumentId, "an empty string"),
                    other => (ViolationKind::DocumentIdType, bson_type_name(other)),
                };
                match self.policy.document_ids {
                    DocumentIdPolicy::Reject => {
                        self.out.extend_from_slice(b"null");
                        self.violation(
                            kind,
                            format!(
                                "the _id is {what}, which the Data API does not accept as a \
                                 document id (choose the canonical-string _id policy to keep it \
                                 as text)"
                            ),
                        );
                    }
                    DocumentIdPolicy::CanonicalString => {
                        let text = canonical_extjson(id);
                        json::write_str(&mut self.out, &text);
                        self.adjust(AdjustmentKind::IdAsCanonicalString);
                    }
                }
            }
        }
    }

    // ----- fields and containers -----

    fn field(&mut self, parent: &Document, key: &'d str, value: &'d Bson, state: IndexState<'c>) {
        let (child, scope) = self.enter_field(key, state, |renamed| parent.contains_key(renamed));
        self.value(value, child);
        self.leave_field(scope);
    }

    /// Writes a field's key as the field-name policy says (`renamed_taken`: whether its
    /// renamed form is a key of the same object) and steps onto its path: the state of its
    /// value, and what [`Walk::leave_field`] restores.
    pub(super) fn enter_field(
        &mut self,
        key: &'d str,
        state: IndexState<'c>,
        renamed_taken: impl FnOnce(&str) -> bool,
    ) -> (IndexState<'c>, FieldScope<'c>) {
        let bad_name = key.is_empty() || key == "*" || key.starts_with('$');
        let child = state.child(key);
        let mut segment = Segment::Key(key);
        let mut key_chars = json::utf16_len(key);
        let mut renamed_key = None;
        if bad_name {
            match self.policy.field_names {
                FieldNamePolicy::Reject => {
                    self.path.push(segment);
                    let why = if key.is_empty() {
                        "is empty"
                    } else if key == "*" {
                        "is '*'"
                    } else {
                        "starts with '$'"
                    };
                    self.violation(
                        ViolationKind::BadFieldName,
                        format!("the field name {why}, which the Data API does not accept"),
                    );
                    self.path.pop();
                }
                FieldNamePolicy::Rename => {
                    self.path.push(segment);
                    let renamed = format!("_{key}");
                    if renamed_taken(&renamed) {
                        self.violation(
                            ViolationKind::BadFieldName,
                            format!(
                                "the field name is not accepted by the Data API and its renamed \
                                 form '{renamed}' already exists in the same object"
                            ),
                        );
                    } else {
                        self.adjust(AdjustmentKind::FieldRenamed);
                    }
                    self.path.pop();
                    segment = Segment::Renamed(key);
                    key_chars += 1;
                    renamed_key = Some(renamed);
                }
            }
        }
        json::write_key(&mut self.out, renamed_key.as_deref().unwrap_or(key));
        self.path.push(segment);
        let path_chars = self.prefix_chars + key_chars;
        if path_chars > self.limits.max_path_chars {
            let message = format!(
                "the field path is {path_chars} characters long, more than the {} allowed",
                self.limits.max_path_chars
            );
            self.violation(ViolationKind::FieldPathTooLong, message);
        }
        let scope = FieldScope { prefix_chars: self.prefix_chars, vector_skip: self.vector_skip };
        self.prefix_chars = path_chars + 1;
        self.vector_skip = match self.vector_skip {
            Some([first, rest @ ..]) if first == key && !rest.is_empty() => Some(rest),
            _ => None,
        };
        (child, scope)
    }

    /// Steps back from a field's path to its object's.
    pub(super) fn leave_field(&mut self, scope: FieldScope<'c>) {
        self.vector_skip = scope.vector_skip;
        self.prefix_chars = scope.prefix_chars;
        self.path.pop();
    }

    /// Whether `key`, in the object being written, is the vector field moved into `$vector`.
    pub(super) fn skips(&self, key: &str) -> bool {
        matches!(self.vector_skip, Some([last]) if last == key)
    }

    pub(super) fn subdocument(&mut self, doc: &'d Document, state: IndexState<'c>) {
        self.open_object();
        let (mut indexed, mut first) = (0, true);
        for (key, value) in doc {
            if self.skips(key) {
                continue;
            }
            indexed += self.next_property(first, key, state);
            first = false;
            self.field(doc, key, value, state);
        }
        self.close_object(indexed, state);
    }

    /// `{`, one level deeper.
    pub(super) fn open_object(&mut self) {
        self.enter();
        self.out.push(b'{');
    }

    /// Before a property of an object: the comma unless it is the `first`; 1 when the
    /// property counts toward the indexed ones.
    pub(super) fn next_property(&mut self, first: bool, key: &str, state: IndexState<'c>) -> usize {
        if !first {
            self.out.push(b',');
        }
        usize::from(state.child(key).is_indexed_or_partial())
    }

    /// `}`, one level up, with the object's `indexed` properties counted.
    pub(super) fn close_object(&mut self, indexed: usize, state: IndexState<'c>) {
        self.out.push(b'}');
        self.count_object(indexed, state);
        self.depth -= 1;
    }

    fn array(&mut self, items: &'d [Bson], state: IndexState<'c>) {
        let saved_skip = self.open_array(|| items.len(), state);
        for (i, item) in items.iter().enumerate() {
            self.next_element(i);
            self.value(item, state);
            self.path.pop();
        }
        self.close_array(saved_skip);
    }

    /// `[`, one level deeper, with the limit on indexed arrays checked (`len` is asked only
    /// where it applies). Returns what [`Walk::close_array`] restores.
    pub(super) fn open_array(&mut self, len: impl FnOnce() -> usize, state: IndexState<'c>) -> Option<&'c [String]> {
        // Array elements are never the vector field.
        let saved_skip = self.vector_skip.take();
        self.enter();
        if state.is_indexed() {
            let len = len();
            if len > self.limits.max_array_elements {
                let message = format!(
                    "the indexed array has {len} elements, more than the {} allowed; add its path \
                     to the collection's indexing.deny",
                    self.limits.max_array_elements
                );
                self.violation(ViolationKind::IndexedArrayTooLong, message);
            }
        }
        self.out.push(b'[');
        saved_skip
    }

    /// Before element `i` of an array: the comma, and its path (popped after the value).
    pub(super) fn next_element(&mut self, i: usize) {
        if i > 0 {
            self.out.push(b',');
        }
        self.path.push(Segment::Index(i));
    }

    pub(super) fn close_array(&mut self, saved_skip: Option<&'c [String]>) {
        self.out.push(b']');
        self.depth -= 1;
        self.vector_skip = saved_skip;
    }

    /// Enters an object or array: one level deeper.
    pub(super) fn enter(&mut self) {
        self.depth += 1;
        if self.depth == self.limits.max_depth + 1 {
            let message = format!(
                "the value is nested {} levels deep, more than the {} allowed",
                self.depth, self.limits.max_depth
            );
            self.violation(ViolationKind::NestedTooDeep, message);
        }
    }

    pub(super) fn count_object(&mut self, properties: usize, state: IndexState<'c>) {
        if !state.is_indexed_or_partial() {
            return;
        }
        self.indexed_properties += properties;
        if properties > self.limits.max_object_properties {
            let message = format!(
                "the indexed object has {properties} properties, more than the {} allowed; add \
                 its path to the collection's indexing.deny",
                self.limits.max_object_properties
            );
            self.violation(ViolationKind::TooManyIndexedProperties, message);
        }
    }

    /// `{"<key>":` of a one-key wrapper (`$date`, `$objectId`, ...), counted like the Data API
    /// counts it: an object one level deeper with one property.
    pub(super) fn open_wrapper(&mut self, key: &'static [u8], state: IndexState<'c>) {
        self.enter();
        self.count_object(1, state);
        self.out.extend_from_slice(key);
    }

    pub(super) fn close_wrapper(&mut self) {
        self.out.push(b'}');
        self.depth -= 1;
    }

    // ----- values -----

    pub(super) fn value(&mut self, value: &'d Bson, state: IndexState<'c>) {
        match value {
            Bson::String(s) => self.string(s, state),
            Bson::Int32(i) => self.integer(i64::from(*i)),
            Bson::Int64(i) => self.integer(*i),
            Bson::Double(d) => self.double(*d, state),
            Bson::Decimal128(d) => self.decimal(d, state),
            Bson::Boolean(b) => self.boolean(*b),
            Bson::Null => self.out.extend_from_slice(b"null"),
            Bson::Document(doc) => self.subdocument(doc, state),
            Bson::Array(items) => self.array(items, state),
            Bson::ObjectId(oid) => self.object_id(oid, state),
            Bson::DateTime(dt) => self.date(dt.timestamp_millis(), state),
            Bson::Binary(bin) => self.binary(bin.subtype, &bin.bytes, state),
            Bson::Timestamp(_)
            | Bson::RegularExpression(_)
            | Bson::JavaScriptCode(_)
            | Bson::JavaScriptCodeWithScope(_)
            | Bson::Symbol(_)
            | Bson::DbPointer(_)
            | Bson::MinKey
            | Bson::MaxKey
            | Bson::Undefined => self.unsupported(value, state),
        }
    }

    pub(super) fn integer(&mut self, i: i64) {
        let len = json::write_i64(&mut self.out, i);
        self.check_number_len(len);
    }

    pub(super) fn double(&mut self, d: f64, state: IndexState<'c>) {
        if d.is_finite() {
            let len = json::write_f64(&mut self.out, d);
            self.check_number_len(len);
        } else {
            self.non_finite(non_finite_text(d), "double", state);
        }
    }

    pub(super) fn decimal(&mut self, d: &Decimal128, state: IndexState<'c>) {
        match decimal::write(&mut self.out, d) {
            Ok(len) => self.check_number_len(len),
            Err(text) => self.non_finite(text, "decimal128", state),
        }
    }

    pub(super) fn boolean(&mut self, b: bool) {
        self.out.extend_from_slice(if b { b"true" } else { b"false" });
    }

    pub(super) fn object_id(&mut self, oid: &ObjectId, state: IndexState<'c>) {
        self.open_wrapper(b"{\"$objectId\":\"", state);
        json::write_hex(&mut self.out, &oid.bytes());
        self.out.push(b'"');
        self.close_wrapper();
    }

    pub(super) fn date(&mut self, millis: i64, state: IndexState<'c>) {
        self.open_wrapper(b"{\"$date\":", state);
        json::write_i64(&mut self.out, millis);
        self.close_wrapper();
    }

    pub(super) fn string(&mut self, s: &str, state: IndexState<'c>) {
        self.check_string_bytes(s.len(), state);
        json::write_str(&mut self.out, s);
    }

    /// The limit on indexed strings, for a string of `len` UTF-8 bytes.
    pub(super) fn check_string_bytes(&mut self, len: usize, state: IndexState<'c>) {
        if state.is_indexed() && len > self.limits.max_string_bytes {
            let message = format!(
                "the indexed string is {len} bytes of UTF-8, more than the {} allowed; add its \
                 path to the collection's indexing.deny",
                self.limits.max_string_bytes
            );
            self.violation(ViolationKind::IndexedStringTooLong, message);
        }
    }

    fn check_number_len(&mut self, len: usize) {
        if len > self.limits.max_number_chars {
            let message = format!(
                "the number is {len} characters long, more than the {} allowed",
                self.limits.max_number_chars
            );
            self.violation(ViolationKind::NumberTooLong, message);
        }
    }

    // ----- reporting -----

    pub(super) fn violation(&mut self, kind: ViolationKind, message: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            let path = self.path_string();
            self.violation_at(path, kind, message);
        }
    }

    pub(super) fn violation_at(&mut self, path: String, kind: ViolationKind, message: String) {
        if self.violations.len() < MAX_VIOLATIONS {
            self.violations.push(Violation::new(path, kind, message));
        }
    }

    pub(super) fn adjust(&mut self, kind: AdjustmentKind) {
        let path = self.path_string();
        self.adjust_at(path, kind, None);
    }

    pub(super) fn adjust_at(&mut self, path: String, kind: AdjustmentKind, detail: Option<String>) {
        self.adjustments.push(Adjustment { path, kind, detail });
    }

    fn path_string(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.path.iter().enumerate() {
            if i > 0 {
                s.push('.');
            }
            match seg {
                Segment::Key(k) => push_escaped(&mut s, k),
                Segment::Renamed(k) => {
                    s.push('_');
                    push_escaped(&mut s, k);
                }
                Segment::Index(n) => {
                    let _ = write!(s, "{n}");
                }
                Segment::Fixed(k) => s.push_str(k),
            }
        }
        s
    }
}

/// Escapes a field name as a Data API path segment: `&` → `&&`, `.` → `&.`.
fn push_escaped(s: &mut String, key: &str) {
    for c in key.chars() {
        if c == '&' || c == '.' {
            s.push('&');
        }
        s.push(c);
    }
}

fn non_finite_text(d: f64) -> &'static str {
    if d.is_nan() {
        "NaN"
    } else if d > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// The canonical Extended JSON v2 text of one value (stable: key order is the source's).
pub(crate) fn canonical_extjson(value: &Bson) -> String {
    value.clone().into_canonical_extjson().to_string()
}

/// A short name of a BSON value's type, for messages.
pub(crate) fn bson_type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Array(_) => "array",
        Bson::Document(_) => "object",
        Bson::Boolean(_) => "boolean",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regular expression",
        Bson::JavaScriptCode(_) => "JavaScript code",
        Bson::JavaScriptCodeWithScope(_) => "JavaScript code with scope",
        Bson::Int32(_) => "int32",
        Bson::Int64(_) => "int64",
        Bson::Timestamp(_) => "timestamp",
        Bson::Binary(_) => "binary (not a UUID)",
        Bson::ObjectId(_) => "ObjectId",
        Bson::DateTime(_) => "date",
        Bson::Symbol(_) => "symbol",
        Bson::Decimal128(_) => "decimal128 (not finite)",
        Bson::Undefined => "undefined",
        Bson::MaxKey => "MaxKey",
        Bson::MinKey => "MinKey",
        Bson::DbPointer(_) => "DBPointer",
    }
}
