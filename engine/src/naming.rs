//! Names in Astra: Data API collection and keyspace names match `\\w{1,48}`, so MongoDB
//! names with `-`, `.` or other characters are mapped. Compiled for the browser too, so
//! the UI proposes the same names the job will use.

/// The Data API name for a MongoDB collection name: letters, digits and `_` kept, every
/// other character (`-`, `.`, spaces, accents, ...) turned into `_`, cut to 48 characters.
pub fn target_name(source: &str) -> String {
    let mapped: String = source
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
        .take(48)
        .collect();
    if mapped.is_empty() {
        "collection".into()
    } else {
        mapped
    }
}

/// Why `name` can't be a Data API keyspace or collection name (1 to 48 word characters,
/// `\w{1,48}`: see `docs/data-api.md`, "Documents"), in words; `None` when it can.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a target name is needed".into())
    } else if name.len() > 48 {
        Some(format!("\"{name}\" is longer than 48 characters"))
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Some(format!("\"{name}\" may hold only letters, digits and _"))
    } else {
        None
    }
}

/// Whether `name` is a valid keyspace or collection name (see [`name_problem`]).
pub fn is_valid_schema_name(name: &str) -> bool {
    name_problem(name).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_astra_would() {
        assert_eq!(name_problem("orders_2024"), None);
        assert!(name_problem("sensor-readings").is_some());
        assert!(name_problem("").is_some());
        assert!(name_problem(&"x".repeat(49)).is_some());
    }
}
