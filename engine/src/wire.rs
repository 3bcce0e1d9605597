//! Messages the server pushes to browsers over the websocket. Shared by the server
//! (which serializes them) and the WASM front end (which reads them).

use serde::{Deserialize, Serialize};

/// One frame on the `/ws` socket, as JSON tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// How many browsers are connected right now.
    Presence { watching: usize },
}

/// A database as the browse pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSummary {
    pub name: String,
    pub size_on_disk: u64,
    pub collections: u64,
}

/// A collection as the browse pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionSummary {
    pub name: String,
    /// From collection metadata: fast, may lag behind the truth.
    pub estimated_count: u64,
}
