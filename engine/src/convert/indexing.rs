//! Which paths of a document Astra indexes, from the collection's `indexing.allow`/`deny`:
//! the indexed-only limits apply only there. Paths are matched segment by segment as the walk
//! descends, through a small tree built once per job; array elements share their array's path.

use crate::policy::Indexing;
use std::collections::HashMap;

/// The collection's indexing options, compiled for matching.
#[derive(Debug, Clone, Default)]
pub(crate) struct IndexPaths {
    mode: Mode,
    tree: PathNode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Mode {
    #[default]
    All,
    Nothing,
    Allow,
    Deny,
}

/// A node of the path tree: a path ends here (`terminal`) or continues in `children`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathNode {
    terminal: bool,
    children: HashMap<String, PathNode>,
}

/// Whether a value at some path is indexed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum IndexState<'a> {
    /// Indexed, and everything under it.
    All,
    /// Not indexed, nor anything under it.
    Nothing,
    /// Indexed, except the listed sub-paths.
    Except(&'a PathNode),
    /// Not indexed itself, but some sub-paths are (an ancestor of `allow` paths).
    Only(&'a PathNode),
}

/// `indexing` names both `allow` and `deny`, which the Data API refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BothAllowAndDeny;

impl IndexPaths {
    pub(crate) fn new(indexing: &Indexing) -> Result<Self, BothAllowAndDeny> {
        let (mode, paths) = match (&indexing.allow, &indexing.deny) {
            (Some(_), Some(_)) => return Err(BothAllowAndDeny),
            (Some(allow), None) if allow.iter().any(|p| p == "*") => (Mode::All, &[][..]),
            (Some(allow), None) => (Mode::Allow, allow.as_slice()),
            (None, Some(deny)) if deny.iter().any(|p| p == "*") => (Mode::Nothing, &[][..]),
            (None, Some(deny)) => (Mode::Deny, deny.as_slice()),
            (None, None) => (Mode::All, &[][..]),
        };
        let mut tree = PathNode::default();
        for path in paths {
            let mut node = &mut tree;
            for segment in split_path(path) {
                node = node.children.entry(segment).or_default();
            }
            node.terminal = true;
        }
        Ok(Self { mode, tree })
    }

    /// The state of the document itself.
    pub(crate) fn root(&self) -> IndexState<'_> {
        match self.mode {
            Mode::All => IndexState::All,
            Mode::Nothing => IndexState::Nothing,
            Mode::Allow => IndexState::Only(&self.tree),
            Mode::Deny => IndexState::Except(&self.tree),
        }
    }
}

impl<'a> IndexState<'a> {
    /// The state of the field `key` of an object in this state.
    pub(crate) fn child(self, key: &str) -> IndexState<'a> {
        match self {
            Self::All => Self::All,
            Self::Nothing => Self::Nothing,
            Self::Except(node) => match node.children.get(key) {
                Some(c) if c.terminal => Self::Nothing,
                Some(c) => Self::Except(c),
                None => Self::All,
            },
            Self::Only(node) => match node.children.get(key) {
                Some(c) if c.terminal => Self::All,
                Some(c) => Self::Only(c),
                None => Self::Nothing,
            },
        }
    }

    /// Whether a value here is indexed (so the string, array and object limits apply).
    pub(crate) fn is_indexed(self) -> bool {
        matches!(self, Self::All | Self::Except(_))
    }

    /// Whether anything here is indexed (the value, or something under it).
    pub(crate) fn is_indexed_or_partial(self) -> bool {
        !matches!(self, Self::Nothing)
    }
}

/// Splits a Data API path at unescaped dots: `a&.b.c` → `["a.b", "c"]`, `&&` → `&`.
pub(crate) fn split_path(path: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '&' => match chars.next() {
                Some(next) => current.push(next),
                None => current.push('&'),
            },
            '.' => segments.push(std::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    segments.push(current);
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_escaped_paths() {
        assert_eq!(split_path("a.b"), vec!["a", "b"]);
        assert_eq!(split_path("a&.b.c"), vec!["a.b", "c"]);
        assert_eq!(split_path("x&&y"), vec!["x&y"]);
    }

    #[test]
    fn deny_and_allow_states() {
        let deny = IndexPaths::new(&Indexing {
            allow: None,
            deny: Some(vec!["a.b".into()]),
        })
        .unwrap();
        let root = deny.root();
        assert!(root.child("a").is_indexed());
        assert!(!root.child("a").child("b").is_indexed_or_partial());
        assert!(root.child("a").child("c").is_indexed());
        assert!(root.child("z").is_indexed());

        let allow = IndexPaths::new(&Indexing {
            allow: Some(vec!["a.b".into()]),
            deny: None,
        })
        .unwrap();
        let root = allow.root();
        assert!(!root.child("a").is_indexed());
        assert!(root.child("a").is_indexed_or_partial());
        assert!(root.child("a").child("b").child("x").is_indexed());
        assert!(!root.child("z").is_indexed_or_partial());
    }
}
