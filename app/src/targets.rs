//! Server functions for Astra targets: the local sandbox (astra-local, when the server runs
//! one) and the Data API or Document API v2 databases people add. Tokens are stored on the
//! server ([`crate::state`]) and never shown again; the browser sees endpoints and keyspaces.

use crate::{error::AppError, views::TargetView};
use engine::wire::TargetKind;
use leptos::prelude::*;

#[server(endpoint = "list_targets")]
pub async fn list_targets() -> Result<Vec<TargetView>, AppError> {
    Ok(crate::state::state()?.targets.list().await)
}

/// Checks the endpoint, token and keyspace, then stores the target.
#[server(endpoint = "add_target")]
pub async fn add_target(name: String, kind: TargetKind, endpoint: String, keyspace: String, token: String) -> Result<TargetView, AppError> {
    crate::state::state()?.targets.add(name, kind, endpoint, keyspace, token).await
}

/// "Test connection": says what works or exactly what failed.
#[server(endpoint = "test_target")]
pub async fn test_target(id: String) -> Result<String, AppError> {
    crate::state::state()?.targets.test(&id).await
}
