//! Server functions for Astra targets: the local sandbox (astra-local, when the server runs
//! one) and the Data API or Document API v2 databases people add, change and remove. Tokens
//! are stored on the server ([`crate::state`]) and never shown again; the browser sees
//! endpoints and keyspaces.

use crate::{
    error::AppError,
    views::{TargetListing, TargetEdit, TargetView},
};
use engine::wire::TargetKind;
use leptos::{prelude::*, server_fn::codec::Json};

#[server(endpoint = "list_targets")]
pub async fn list_targets() -> Result<Vec<TargetView>, AppError> {
    Ok(crate::state::state()?.targets.list().await)
}

/// Checks the endpoint, token and keyspace, then stores the target.
#[server(endpoint = "add_target")]
pub async fn add_target(name: String, kind: TargetKind, endpoint: String, keyspace: String, token: String) -> Result<TargetView, AppError> {
    crate::state::state()?.targets.add(name, kind, endpoint, keyspace, token).await
}

/// Checks the new settings, then changes the target (an empty token keeps the stored one).
#[server(endpoint = "edit_target", input = Json)]
pub async fn edit_target(edit: TargetEdit) -> Result<TargetView, AppError> {
    crate::state::state()?.targets.edit(edit).await
}

/// Forgets a target; what it holds stays in Astra.
#[server(endpoint = "remove_target")]
pub async fn remove_target(id: String) -> Result<(), AppError> {
    crate::state::state()?.targets.remove(&id).await
}

/// "Test connection": says what works or exactly what failed.
#[server(endpoint = "test_target")]
pub async fn test_target(id: String) -> Result<String, AppError> {
    crate::state::state()?.targets.test(&id).await
}

/// The target's collections and what each holds, and how many the database may hold.
#[server(endpoint = "target_contents")]
pub async fn target_contents(id: String) -> Result<TargetListing, AppError> {
    crate::state::state()?.targets.contents(&id).await
}

/// A warning for an endpoint reached over plain `http://` on another machine: the token
/// would cross the network unencrypted. `None` for `https://` and for this machine.
pub fn plain_http_warning(endpoint: &str) -> Option<String> {
    let rest = endpoint.trim().strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host == "::1"
        || host.starts_with("127.");
    (!loopback && !host.is_empty()).then(|| {
        format!("{host} is reached over plain http://: the token and every document would cross the network unencrypted. Use https:// unless this network is private.")
    })
}

#[cfg(test)]
mod tests {
    use super::plain_http_warning;

    #[test]
    fn plain_http_is_flagged_off_this_machine_only() {
        assert!(plain_http_warning("http://10.0.0.5:8181").is_some());
        assert!(plain_http_warning("http://astra.internal/api/json/v1").is_some());
        for fine in ["https://db-eu.apps.astra.datastax.com", "http://127.0.0.1:8181", "http://localhost:9", "http://[::1]:8181", ""] {
            assert_eq!(plain_http_warning(fine), None, "{fine}");
        }
    }
}
