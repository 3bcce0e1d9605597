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
