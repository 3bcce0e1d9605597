//! A small JSON reader and writer that keeps every number's original text.
//!
//! The Data API must round-trip numbers exactly (Decimal128 values carry 34 digits, number
//! literals may be 100 characters long), and serde_json only keeps number text with its
//! `arbitrary_precision` feature, which the workspace cannot enable. So request bodies and stored
//! documents are parsed here into a borrowed tree ([`Node`]) whose numbers and strings are slices
//! of the input, validated the way Jackson validates them for the real Data API (number length,
//! duplicate keys, nesting), and written back compactly without re-formatting any value.

use std::borrow::Cow;
use std::fmt::Write as _;

pub use crate::decimal::Decimal;

/// Deepest nesting the parser follows before it gives up (Jackson's default is 1000; this keeps
/// recursion well inside a worker thread's stack).
const MAX_PARSE_DEPTH: usize = 500;

/// A parsed JSON value borrowing from the input text.
#[derive(Debug, Clone)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    /// The number literal exactly as written (or as computed by an update operator).
    Number(Cow<'a, str>),
    String(JsonStr<'a>),
    Array(Vec<Node<'a>>),
    Object(Vec<(JsonStr<'a>, Node<'a>)>),
}

/// A JSON string: the escaped text between the quotes and its decoded value.
#[derive(Debug, Clone)]
pub struct JsonStr<'a> {
    /// The text between the quotes, escapes intact (valid JSON string content).
    pub raw: Cow<'a, str>,
    /// The decoded value.
    pub value: Cow<'a, str>,
}

impl<'a> JsonStr<'a> {
    /// A string from a decoded value, escaping it for output.
    pub fn from_value(value: &str) -> JsonStr<'static> {
        let mut raw = String::with_capacity(value.len() + 2);
        escape_into(value, &mut raw);
        JsonStr { raw: Cow::Owned(raw), value: Cow::Owned(value.to_owned()) }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

/// Why a text is not acceptable JSON.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("{message} at position {offset}")]
    Syntax { message: String, offset: usize },
    #[error("Duplicate field '{field}'")]
    DuplicateField { field: String },
    #[error(
        "Number value length ({length}) exceeds the maximum allowed ({max}, from `StreamReadConstraints.getMaxNumberLength()`)"
    )]
    NumberTooLong { length: usize, max: usize },
    #[error("Document nesting depth exceeds the maximum allowed ({MAX_PARSE_DEPTH})")]
    TooDeep,
}

/// Parses `text` as one JSON value; numbers longer than `max_number_len` characters (sign
/// excluded) are refused, as the Data API's parser refuses them.
pub fn parse(text: &str, max_number_len: usize) -> Result<Node<'_>, ParseError> {
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, max_number_len };
    parser.skip_ws();
    let node = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected content after the JSON value"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    max_number_len: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: &str) -> ParseError {
        ParseError::Syntax { message: message.to_owned(), offset: self.pos }
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, ParseError> {
        if depth > MAX_PARSE_DEPTH {
            return Err(ParseError::TooDeep);
        }
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Node::String(self.string()?)),
            Some(b't') => self.literal("true", Node::Bool(true)),
            Some(b'f') => self.literal("false", Node::Bool(false)),
            Some(b'n') => self.literal("null", Node::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Result<Node<'a>, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(node)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.bytes.get(self.pos), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Node<'a>, ParseError> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = self.digits();
        if int_digits == 0 {
            return Err(self.error("invalid number"));
        }
        if int_digits > 1 && self.bytes[int_start] == b'0' {
            return Err(self.error("invalid number: leading zeroes"));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number: no digit after the decimal point"));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number: no digit in the exponent"));
            }
        }
        let literal = &self.text[start..self.pos];
        let length = literal.trim_start_matches('-').len();
        if length > self.max_number_len {
            return Err(ParseError::NumberTooLong { length, max: self.max_number_len });
        }
        Ok(Node::Number(Cow::Borrowed(literal)))
    }

    fn string(&mut self) -> Result<JsonStr<'a>, ParseError> {
        // Caller saw the opening quote.
        self.pos += 1;
        let start = self.pos;
        let mut has_escape = false;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => break,
                Some(b'\\') => {
                    has_escape = true;
                    self.pos += 2;
                }
                Some(&b) if b < 0x20 => return Err(self.error("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
        if self.pos > self.bytes.len() {
            return Err(self.error("unterminated string"));
        }
        let raw = &self.text[start..self.pos];
        self.pos += 1;
        let value = if has_escape {
            Cow::Owned(unescape(raw).map_err(|message| ParseError::Syntax {
                message: message.to_owned(),
                offset: start,
            })?)
        } else {
            Cow::Borrowed(raw)
        };
        Ok(JsonStr { raw: Cow::Borrowed(raw), value })
    }

    fn array(&mut self, depth: usize) -> Result<Node<'a>, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']' in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node<'a>, ParseError> {
        self.pos += 1;
        let mut entries: Vec<(JsonStr<'a>, Node<'a>)> = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a field name"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("expected ':' after a field name"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    check_duplicates(&entries)?;
                    return Ok(Node::Object(entries));
                }
                _ => return Err(self.error("expected ',' or '}' in object")),
            }
        }
    }
}

fn check_duplicates(entries: &[(JsonStr<'_>, Node<'_>)]) -> Result<(), ParseError> {
    let duplicate = |field: &str| ParseError::DuplicateField { field: field.to_owned() };
    if entries.len() <= 16 {
        for (i, (key, _)) in entries.iter().enumerate() {
            if entries[..i].iter().any(|(other, _)| other.value == key.value) {
                return Err(duplicate(&key.value));
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        for (key, _) in entries {
            if !seen.insert(key.value.as_ref()) {
                return Err(duplicate(&key.value));
            }
        }
    }
    Ok(())
}

fn unescape(raw: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let first = hex4(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if chars.next() != Some('\\') || chars.next() != Some('u') {
                        return Err("unpaired surrogate in string escape");
                    }
                    let second = hex4(&mut chars)?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err("invalid low surrogate in string escape");
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                out.push(char::from_u32(code).ok_or("invalid unicode escape")?);
            }
            _ => return Err("invalid escape in string"),
        }
    }
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, &'static str> {
    let mut code = 0u32;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).ok_or("invalid unicode escape")?;
        code = code * 16 + digit;
    }
    Ok(code)
}

/// The array index a path segment names: `0` or digits without a leading zero.
pub fn array_index(segment: &str) -> Option<usize> {
    let bytes = segment.as_bytes();
    let valid = !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) && (bytes[0] != b'0' || bytes.len() == 1);
    if valid {
        segment.parse().ok()
    } else {
        None
    }
}

/// Appends `value` as JSON string content (without quotes) to `out`.
pub fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Appends `value` as a quoted JSON string to `out`.
pub fn write_string(value: &str, out: &mut String) {
    out.push('"');
    escape_into(value, out);
    out.push('"');
}

impl<'a> Node<'a> {
    /// Writes the value compactly, numbers and strings exactly as they were read.
    pub fn write(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(true) => out.push_str("true"),
            Node::Bool(false) => out.push_str("false"),
            Node::Number(n) => out.push_str(n),
            Node::String(s) => {
                out.push('"');
                out.push_str(&s.raw);
                out.push('"');
            }
            Node::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Node::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('"');
                    out.push_str(&key.raw);
                    out.push_str("\":");
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The compact JSON text of this value.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// The value of field `name` if this is an object that has it.
    pub fn get(&self, name: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(entries) => {
                entries.iter().find(|(key, _)| key.value == name).map(|(_, value)| value)
            }
            _ => None,
        }
    }

    /// The value at a path given as decoded segments (see [`crate::data_api::path`]): an object
    /// is entered by field name, an array by a segment that is an index (`0`, `12`; not `01`).
    pub fn get_segments<S: AsRef<str>>(&self, segments: &[S]) -> Option<&Node<'a>> {
        let mut node = self;
        for segment in segments {
            let segment = segment.as_ref();
            node = match node {
                Node::Object(_) => node.get(segment)?,
                Node::Array(items) => items.get(array_index(segment)?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(&s.value),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as a non-negative integer, if it is one written without fraction or exponent.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Node::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(JsonStr<'a>, Node<'a>)]> {
        match self {
            Node::Object(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node<'a>]> {
        match self {
            Node::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// The JSON type name the Data API uses in its messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "Null",
            Node::Bool(_) => "Boolean",
            Node::Number(_) => "Number",
            Node::String(_) => "String",
            Node::Array(_) => "Array",
            Node::Object(_) => "Object",
        }
    }

    /// Converts to a `serde_json::Value` (numbers may lose precision); for small option objects.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_number_text_exactly() {
        let text = r#"{"a":1234567890123456789012345678901234,"b":-0.000000000000000000000000000000001,"c":1E+400}"#;
        let node = parse(text, 100).unwrap();
        assert_eq!(node.to_json(), text);
    }

    #[test]
    fn refuses_long_numbers_and_duplicates() {
        let long = format!("[{}]", "1".repeat(101));
        assert_eq!(parse(&long, 100).unwrap_err(), ParseError::NumberTooLong { length: 101, max: 100 });
        assert!(parse(&format!("[-{}]", "1".repeat(100)), 100).is_ok());
        assert!(matches!(parse(r#"{"a":1,"a":2}"#, 100), Err(ParseError::DuplicateField { .. })));
    }

    #[test]
    fn compacts_and_unescapes() {
        let node = parse("{ \"a\\u0041\" : [ 1 , \"x\\ny\" ] }", 100).unwrap();
        assert_eq!(node.to_json(), "{\"a\\u0041\":[1,\"x\\ny\"]}");
        assert!(node.get("aA").is_some());
    }
}
