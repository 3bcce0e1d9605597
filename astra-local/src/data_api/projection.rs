//! Projections of read commands, built and applied as stargate/data-api's `DocumentProjector`
//! and `ProjectionLayer` do:
//!
//! - no projection or `{}`: everything but `$vector`, `$vectorize` and `$lexical`;
//! - `{"*": 1}`: everything; `{"*": 0}`: `{}`;
//! - inclusions (`1`/`true`) or exclusions (`0`/`false`) of `&`-escaped paths, never both
//!   (`_id` and the `$` pseudo-fields aside); `_id` is included unless excluded, and `{"_id": 1}`
//!   alone is an exclusion projection that excludes nothing (the whole document);
//! - nested definitions (`{"a": {"b": 1}}` is `a.b`) and `{"$slice": n | [skip, n]}` on arrays;
//! - arrays are stepped through (the rule applies to each element); a scalar where the rule
//!   expects sub-fields is kept as it is.

use std::collections::HashMap;

use super::errors::ApiError;
use super::path;
use crate::json::Node;
use crate::shred::Indexing;

/// What `$slice` keeps of an array.
#[derive(Debug, Clone, Copy)]
enum Slice {
    /// First `n` (`n >= 0`) or last `-n`.
    Count(i64),
    /// Skip `skip` (from the end when negative), then at most `count`.
    Range { skip: i64, count: i64 },
}

/// One level of the projection tree (`ProjectionLayer`).
#[derive(Debug, Default, Clone)]
pub struct Layer {
    terminal: bool,
    slice: Option<Slice>,
    /// The full path that made this layer (for conflict messages).
    full_path: String,
    next: HashMap<String, Layer>,
}

/// A parsed projection.
#[derive(Debug, Clone)]
pub enum Projection {
    /// Everything (`{"*": 1}`).
    All,
    /// Nothing (`{"*": 0}`).
    Nothing,
    /// Keep only what the layers name.
    Include(Layer),
    /// Drop what the layers name.
    Exclude(Layer),
}

fn param(message: String) -> ApiError {
    ApiError::unsupported_projection_param(&message)
}

/// Collects the paths of a definition (`PathCollector`).
#[derive(Default)]
struct Collector {
    paths: Vec<String>,
    slices: Vec<(String, Slice)>,
    inclusions: usize,
    exclusions: usize,
    id: Option<bool>,
    pseudo: HashMap<&'static str, bool>,
}

fn number_is_zero(literal: &str) -> bool {
    literal.trim_start_matches('-') == "0"
}

impl Collector {
    fn collect(&mut self, entries: &[(crate::json::JsonStr<'_>, Node<'_>)], parent: Option<&str>) -> Result<(), ApiError> {
        for (key, value) in entries {
            let name = key.value.as_ref();
            if name.is_empty() {
                return Err(param("empty paths (and path segments) not allowed".into()));
            }
            if name.starts_with('$') && !matches!(name, "$vector" | "$vectorize" | "$lexical") {
                let Some(parent) = parent else {
                    return Err(param(format!(
                        "'$lexical'/'$vector'/'$vectorize' are only allowed paths that can start with '$' (path: '{name}')"
                    )));
                };
                if name != "$slice" {
                    return Err(param(format!("unsupported projection operator '{name}' (only '$slice' supported)")));
                }
                self.slices.push((parent.to_owned(), slice(parent, value)?));
                continue;
            }
            if name == "*" {
                return Err(param("wildcard ('*') only allowed as the only root-level path".into()));
            }
            let path = match parent {
                Some(parent) => format!("{parent}.{name}"),
                None => name.to_owned(),
            };
            match value {
                Node::Number(n) => self.add(path, !number_is_zero(n))?,
                Node::Bool(b) => self.add(path, *b)?,
                Node::Object(inner) => self.collect(inner, Some(&path))?,
                other => return Err(param(format!("path ('{path}') value must be Number, Boolean or Object, was {}", other.type_name()))),
            }
        }
        Ok(())
    }

    fn add(&mut self, path: String, include: bool) -> Result<(), ApiError> {
        match path.as_str() {
            "_id" => self.id = Some(include),
            "$vector" => _ = self.pseudo.insert("$vector", include),
            "$vectorize" => _ = self.pseudo.insert("$vectorize", include),
            "$lexical" => _ = self.pseudo.insert("$lexical", include),
            _ if include => {
                if self.exclusions > 0 {
                    return Err(param(format!("cannot include '{path}' on exclusion projection")));
                }
                self.inclusions += 1;
                self.paths.push(path);
            }
            _ => {
                if self.inclusions > 0 {
                    return Err(param(format!("cannot exclude '{path}' on inclusion projection")));
                }
                self.exclusions += 1;
                self.paths.push(path);
            }
        }
        Ok(())
    }

    fn build(self) -> Result<Projection, ApiError> {
        let inclusion = self.inclusions > 0;
        let mut root = Layer::default();
        for path in &self.paths {
            let segments =
                path::decode(path).map_err(|problem| param(format!("projection path ('{path}') is not a valid path: {problem}.")))?;
            root.add(path, &segments, None)?;
        }
        for (path, slice) in &self.slices {
            let segments =
                path::decode(path).map_err(|problem| param(format!("projection path ('{path}') is not a valid path: {problem}")))?;
            root.add(path, &segments, Some(*slice))?;
        }
        let pseudo = |name| self.pseudo.get(name).copied();
        let extra = [
            ("_id", if inclusion { self.id != Some(false) } else { self.id == Some(false) }),
            ("$vector", if inclusion { pseudo("$vector") == Some(true) } else { pseudo("$vector") != Some(true) }),
            ("$vectorize", if inclusion { pseudo("$vectorize") == Some(true) } else { pseudo("$vectorize") != Some(true) }),
            ("$lexical", if inclusion { pseudo("$lexical") == Some(true) } else { pseudo("$lexical") != Some(true) }),
        ];
        for (name, add) in extra {
            if add {
                root.add(name, &[name.to_owned()], None)?;
            }
        }
        Ok(if inclusion { Projection::Include(root) } else { Projection::Exclude(root) })
    }
}

fn slice(path: &str, value: &Node<'_>) -> Result<Slice, ApiError> {
    let integer = |node: &Node<'_>| match node {
        Node::Number(n) if !n.contains(['.', 'e', 'E']) => n.parse::<i64>().ok(),
        _ => None,
    };
    match value {
        Node::Array(items) => {
            if let [skip, count] = items.as_slice() {
                if let (Some(skip), Some(count)) = (integer(skip), integer(count)) {
                    if count < 0 {
                        return Err(param(format!(
                            "path ('{path}') has unsupported parameter for '$slice' (Array): second Number (entries to return) MUST be positive"
                        )));
                    }
                    return Ok(Slice::Range { skip, count });
                }
            }
        }
        other => {
            if let Some(count) = integer(other) {
                return Ok(Slice::Count(count));
            }
        }
    }
    Err(param(format!(
        "path ('{path}') has unsupported parameter for '$slice' ({}): only Number or Array with 2 Numbers accepted",
        value.type_name()
    )))
}

fn conflict(a: &str, b: &str) -> ApiError {
    param(format!("projection path conflict between '{a}' and '{b}'"))
}

impl Layer {
    fn add(&mut self, full_path: &str, segments: &[String], slice: Option<Slice>) -> Result<(), ApiError> {
        self.add_path(full_path, segments, slice, true)
    }

    /// Adds a path; without `fail_on_overlap` (indexing rules) a shorter path simply wins.
    fn add_path(&mut self, full_path: &str, segments: &[String], slice: Option<Slice>, fail_on_overlap: bool) -> Result<(), ApiError> {
        let Some((last, branches)) = segments.split_last() else { return Ok(()) };
        let mut layer = self;
        for segment in branches {
            if layer.terminal {
                if !fail_on_overlap {
                    return Ok(());
                }
                return Err(conflict(&layer.full_path, full_path));
            }
            layer = layer.next.entry(segment.clone()).or_insert_with(|| Layer { full_path: full_path.to_owned(), ..Layer::default() });
        }
        if layer.terminal {
            if !fail_on_overlap {
                return Ok(());
            }
            return Err(conflict(&layer.full_path, full_path));
        }
        if let Some(existing) = layer.next.get(last) {
            if fail_on_overlap {
                return Err(conflict(full_path, &existing.full_path));
            }
        }
        layer.next.insert(last.clone(), Layer { terminal: true, slice, full_path: full_path.to_owned(), next: HashMap::new() });
        Ok(())
    }
}

impl Projection {
    /// The part of a document a collection indexes (the Data API's `IndexingProjector`, applied
    /// before a document is shredded, so filters only ever see it); `_id` is always kept here, as
    /// the real service matches it by primary key. `None` when everything is indexed.
    pub fn for_indexing(indexing: &Indexing) -> Option<Projection> {
        let (paths, include): (&[String], bool) = match indexing {
            Indexing::All => return None,
            Indexing::Nothing => (&[], true),
            Indexing::Allow(paths) => (paths, true),
            Indexing::Deny(paths) => (paths, false),
        };
        let mut root = Layer::default();
        for path in paths {
            if let Ok(segments) = path::decode(path) {
                let _ = root.add_path(path, &segments, None, false);
            }
        }
        if include {
            for name in ["_id", "$vector", "$vectorize", "$lexical"] {
                let _ = root.add_path(name, &[name.to_owned()], None, false);
            }
            Some(Projection::Include(root))
        } else {
            root.next.remove("_id");
            Some(Projection::Exclude(root))
        }
    }

    /// Parses a projection definition.
    pub fn parse(node: Option<&Node<'_>>) -> Result<Projection, ApiError> {
        let entries = match node {
            None | Some(Node::Null) => return Collector::default().build(),
            Some(Node::Object(entries)) if entries.is_empty() => return Collector::default().build(),
            Some(Node::Object(entries)) => entries,
            Some(other) => return Err(ApiError::unsupported_projection_definition(other.type_name())),
        };
        if let [(key, value)] = entries.as_slice() {
            if key.value == "*" {
                let include = match value {
                    Node::Number(n) => !number_is_zero(n),
                    Node::Bool(b) => *b,
                    other => return Err(param(format!("path ('*') value must be Number or Boolean, was {}", other.type_name()))),
                };
                return Ok(if include { Projection::All } else { Projection::Nothing });
            }
        }
        let mut collector = Collector::default();
        collector.collect(entries, None)?;
        collector.build()
    }

    /// Whether a stored document comes out unchanged (then its text is sent as it is).
    pub fn keeps_unchanged(&self, body: &str) -> bool {
        match self {
            Projection::All => true,
            Projection::Exclude(root) if root.next.keys().all(|k| k.starts_with('$')) => {
                !(body.contains("\"$vector") || body.contains("\"$lexical"))
            }
            _ => false,
        }
    }

    /// Writes `doc` projected.
    pub fn write(&self, doc: &Node<'_>, out: &mut String) {
        match self {
            Projection::All => doc.write(out),
            Projection::Nothing => out.push_str("{}"),
            Projection::Include(root) => write_included(doc, root, out),
            Projection::Exclude(root) => write_excluded(doc, root, out),
        }
    }
}

fn write_key(key: &crate::json::JsonStr<'_>, first: &mut bool, out: &mut String) {
    if !std::mem::replace(first, false) {
        out.push(',');
    }
    out.push('"');
    out.push_str(&key.raw);
    out.push_str("\":");
}

fn write_included(node: &Node<'_>, layer: &Layer, out: &mut String) {
    match node {
        Node::Object(entries) => {
            out.push('{');
            let mut first = true;
            for (key, value) in entries {
                let Some(next) = layer.next.get(key.value.as_ref()) else { continue };
                write_key(key, &mut first, out);
                if next.terminal {
                    write_sliced(value, next.slice, out);
                } else {
                    write_included(value, next, out);
                }
            }
            out.push('}');
        }
        Node::Array(items) => write_items(items, out, |item, out| write_included(item, layer, out)),
        other => other.write(out),
    }
}

fn write_excluded(node: &Node<'_>, layer: &Layer, out: &mut String) {
    match node {
        Node::Object(entries) => {
            out.push('{');
            let mut first = true;
            for (key, value) in entries {
                match layer.next.get(key.value.as_ref()) {
                    None => {
                        write_key(key, &mut first, out);
                        value.write(out);
                    }
                    Some(next) if next.terminal => {
                        if next.slice.is_some() {
                            write_key(key, &mut first, out);
                            write_sliced(value, next.slice, out);
                        }
                    }
                    Some(next) => {
                        write_key(key, &mut first, out);
                        write_excluded(value, next, out);
                    }
                }
            }
            out.push('}');
        }
        Node::Array(items) => write_items(items, out, |item, out| write_excluded(item, layer, out)),
        other => other.write(out),
    }
}

fn write_items(items: &[Node<'_>], out: &mut String, mut each: impl FnMut(&Node<'_>, &mut String)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(item, out);
    }
    out.push(']');
}

fn write_sliced(value: &Node<'_>, slice: Option<Slice>, out: &mut String) {
    let (Some(slice), Node::Array(items)) = (slice, value) else {
        value.write(out);
        return;
    };
    let len = items.len() as i64;
    let (start, end) = match slice {
        Slice::Count(n) if n >= 0 => (0, n.min(len)),
        Slice::Count(n) => ((len + n).max(0), len),
        Slice::Range { skip, count } => {
            let start = if skip >= 0 { skip.min(len) } else { (len + skip).max(0) };
            (start, (start + count).min(len))
        }
    };
    write_items(&items[start as usize..end as usize], out, |item, out| item.write(out));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn project(spec: &str, doc: &str) -> Result<String, &'static str> {
        let doc = parse(doc, 100).unwrap();
        let spec = parse(spec, 100).unwrap();
        let projection = Projection::parse(Some(&spec)).map_err(|e| e.code())?;
        let mut out = String::new();
        projection.write(&doc, &mut out);
        Ok(out)
    }

    #[test]
    fn projections_include_and_exclude() {
        let doc = r#"{"_id":1,"a":1,"b":{"c":2,"d":3},"price.usd":5,"v":[{"x":1,"y":2},3],"t":[1,2,3,4]}"#;
        assert_eq!(project(r#"{"a":1}"#, doc).unwrap(), r#"{"_id":1,"a":1}"#);
        assert_eq!(project(r#"{"b.c":1,"_id":0}"#, doc).unwrap(), r#"{"b":{"c":2}}"#);
        assert_eq!(
            project(r#"{"b":{"d":0}}"#, doc).unwrap(),
            r#"{"_id":1,"a":1,"b":{"c":2},"price.usd":5,"v":[{"x":1,"y":2},3],"t":[1,2,3,4]}"#
        );
        assert_eq!(project(r#"{"price&.usd":1}"#, doc).unwrap(), r#"{"_id":1,"price.usd":5}"#);
        assert_eq!(project(r#"{"v.y":1,"_id":0}"#, doc).unwrap(), r#"{"v":[{"y":2},3]}"#);
        assert_eq!(project(r#"{"a.z":1,"_id":0}"#, doc).unwrap(), r#"{"a":1}"#);
        assert_eq!(
            project(r#"{"_id":1}"#, doc).unwrap(),
            r#"{"_id":1,"a":1,"b":{"c":2,"d":3},"price.usd":5,"v":[{"x":1,"y":2},3],"t":[1,2,3,4]}"#
        );
        assert_eq!(project(r#"{"*":0}"#, doc).unwrap(), "{}");
        assert_eq!(project(r#"{"t":{"$slice":-2},"_id":0,"a":1}"#, doc).unwrap(), r#"{"a":1,"t":[3,4]}"#);
        assert_eq!(project(r#"{"t":{"$slice":[1,2]}}"#, r#"{"_id":1,"t":[1,2,3,4]}"#).unwrap(), r#"{"_id":1,"t":[2,3]}"#);
    }

    #[test]
    fn malformed_projections_are_refused() {
        for spec in [
            r#"{"price&":1}"#,
            r#"{"price&abc":1}"#,
            r#"{"foo..bar":1}"#,
            r#"{"a":1,"b":0}"#,
            r#"{"a":1,"a.b":1}"#,
            r#"{"$x":1}"#,
            r#"{"a":{"$elemMatch":1}}"#,
            r#"{"*":1,"a":1}"#,
            r#"{"a":"x"}"#,
        ] {
            assert_eq!(project(spec, "{}"), Err("UNSUPPORTED_PROJECTION_PARAM"), "{spec}");
        }
        assert_eq!(project("[1]", "{}"), Err("UNSUPPORTED_PROJECTION_DEFINITION"));
    }
}
