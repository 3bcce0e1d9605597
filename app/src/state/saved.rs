//! How the registries keep what people add: under readable ids, in files only the server's
//! user can read ([`crate::private_file`]).

pub(super) use crate::private_file::write_private;

/// A URL-friendly id for something named `name` (lowercase ASCII words joined by `-`, at
/// most 40 characters; `fallback` when nothing is left), suffixed `-2`, `-3`… until `taken`
/// says it is free. Reserved ids (the default source, the sandbox target) count as taken.
pub(super) fn unique_id(name: &str, fallback: &str, taken: impl Fn(&str) -> bool) -> String {
    let words: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let slug: String = words.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-").chars().take(40).collect();
    let base = match slug.trim_end_matches('-') {
        "" => fallback.to_owned(),
        slug => slug.to_owned(),
    };
    (1..).map(|n| if n == 1 { base.clone() } else { format!("{base}-{n}") }).find(|id| !taken(id)).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::unique_id;

    #[test]
    fn ids_are_readable_free_and_never_reserved() {
        let none = |_: &str| false;
        assert_eq!(unique_id("Prod cluster (EU)", "source", none), "prod-cluster-eu");
        assert_eq!(unique_id("  ***  ", "target", none), "target");
        assert_eq!(unique_id(&"x".repeat(60), "target", none).len(), 40);
        assert_eq!(unique_id("a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u", "t", none), "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t");
        let taken = ["sandbox", "sandbox-2", "prod"];
        assert_eq!(unique_id("Sandbox", "target", |id| taken.contains(&id)), "sandbox-3");
        assert_eq!(unique_id("prod", "source", |id| taken.contains(&id)), "prod-2");
    }
}
