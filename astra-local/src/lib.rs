//! A local Astra target: serves the Data API and the Document API v2 with Astra's
//! documented semantics, keeps its data on disk, and injects faults on request.
//!
//! Start it in-process (tests, `make run`) with [`spawn`], or as the `astra-local` binary:
//!
//! ```no_run
//! # async fn demo() -> Result<(), astra_local::Error> {
//! use astra_local::{spawn, Config, Faults};
//! let astra = spawn(
//!     "127.0.0.1:0".parse().expect("address"),
//!     Config { data_dir: "/tmp/astra".into(), token: "AstraCS:local".into(), faults: Faults::default() },
//! )
//! .await?;
//! println!("Data API at {}/api/json/v1/default_keyspace", astra.endpoint());
//! astra.set_faults(Faults { rate_5xx: 0.3, ..Faults::default() });
//! astra.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Routes:
//! - `POST /api/json/v1/{keyspace}` and `POST /api/json/v1/{keyspace}/{collection}`: Data API
//!   commands (also under `/v1/...`, the path astrapy uses for non-Astra environments);
//! - `PUT|GET /api/rest/v2/namespaces/{ns}/collections/{coll}/{docId}` and
//!   `POST .../{coll}/batch?id-path=...`: Document API v2;
//! - `GET|POST /admin/faults`: read or replace the injected [`Faults`] (same token).

pub mod admin;
pub mod data_api;
pub mod doc_id;
pub mod document_api;
pub mod faults;
pub mod decimal;
pub mod json;
mod server;
pub mod shred;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vector;
pub mod vector_index;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::routing::{get, post, put};
use axum::Router;

pub use faults::{FaultCounts, Faults};
use faults::FaultState;
use store::{Store, StoreError};

/// The default keyspace of an Astra database.
pub const DEFAULT_KEYSPACE: &str = "default_keyspace";

/// The default number of collections a database may hold (Astra allows few).
pub const DEFAULT_MAX_COLLECTIONS: usize = 10;

/// The default page size of `find`, of a sorted `find` and of `updateMany`: stargate/data-api's
/// `OperationsConfig.DEFAULT_PAGE_SIZE` since v1.0.47 (June 2026; 20 before).
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// What an astra-local instance serves and where it keeps its data.
#[derive(Clone)]
pub struct Config {
    /// Directory holding the SQLite database; created if missing.
    pub data_dir: PathBuf,
    /// The application token clients must send (`Token` / `X-Cassandra-Token`).
    pub token: String,
    /// Faults injected from the start.
    pub faults: Faults,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("token", &"<redacted>")
            .field("faults", &self.faults)
            .finish()
    }
}

/// Settings beyond [`Config`] with sensible defaults.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// The keyspaces that exist (default: `default_keyspace`).
    pub keyspaces: Vec<String>,
    /// Most collections the database may hold across keyspaces (`TOO_MANY_COLLECTIONS` above).
    pub max_collections: usize,
    /// Documents per `find` page, most documents a sorted `find` returns, and documents one
    /// `updateMany` call updates ([`DEFAULT_PAGE_SIZE`]; 20 reproduces services before v1.0.47).
    pub page_size: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            keyspaces: vec![DEFAULT_KEYSPACE.to_owned()],
            max_collections: DEFAULT_MAX_COLLECTIONS,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Failures starting or running astra-local.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// A Data API collection known to the catalog.
#[derive(Debug, Clone)]
pub struct Collection {
    pub id: i64,
    pub keyspace: String,
    pub name: String,
    pub settings: data_api::collections::CollectionSettings,
}

struct Inner {
    token: String,
    options: ServerOptions,
    store: Store,
    faults: FaultState,
    /// (keyspace, collection name) → collection.
    catalog: RwLock<BTreeMap<(String, String), Arc<Collection>>>,
    /// Serializes schema changes (count check + create).
    schema: tokio::sync::Mutex<()>,
}

/// Shared state of the routes: storage, catalog, token and faults.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// Opens the storage under `config.data_dir` and loads the catalog.
    pub async fn open(config: Config, options: ServerOptions) -> Result<AppState, Error> {
        config.faults.validate().map_err(Error::Config)?;
        if config.token.is_empty() {
            return Err(Error::Config("the token must not be empty".into()));
        }
        if !(1..=500).contains(&options.page_size) {
            return Err(Error::Config(format!("the page size must be 1 to 500, not {}", options.page_size)));
        }
        for keyspace in &options.keyspaces {
            if !data_api::collections::is_valid_schema_name(keyspace) {
                return Err(Error::Config(format!(
                    "keyspace name '{keyspace}' must be 1 to 48 letters, digits or underscores"
                )));
            }
        }
        let store = Store::open(&config.data_dir)?;
        let mut catalog = BTreeMap::new();
        for row in store.collections().await? {
            let settings = data_api::collections::CollectionSettings::from_stored(&row.options);
            catalog.insert(
                (row.keyspace.clone(), row.name.clone()),
                Arc::new(Collection { id: row.id, keyspace: row.keyspace, name: row.name, settings }),
            );
        }
        Ok(AppState {
            inner: Arc::new(Inner {
                token: config.token,
                options,
                store,
                faults: FaultState::new(config.faults),
                catalog: RwLock::new(catalog),
                schema: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn faults(&self) -> &FaultState {
        &self.inner.faults
    }

    pub(crate) fn options(&self) -> &ServerOptions {
        &self.inner.options
    }

    pub(crate) fn schema_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.schema
    }

    /// Whether `presented` is the configured token (compared in constant time).
    pub(crate) fn token_matches(&self, presented: &[u8]) -> bool {
        let expected = self.inner.token.as_bytes();
        if expected.len() != presented.len() {
            return false;
        }
        expected.iter().zip(presented).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    pub(crate) fn collection(&self, keyspace: &str, name: &str) -> Option<Arc<Collection>> {
        let catalog = self.inner.catalog.read().ok()?;
        catalog.get(&(keyspace.to_owned(), name.to_owned())).cloned()
    }

    pub(crate) fn collections_in(&self, keyspace: &str) -> Vec<Arc<Collection>> {
        let Ok(catalog) = self.inner.catalog.read() else { return Vec::new() };
        catalog.values().filter(|c| c.keyspace == keyspace).cloned().collect()
    }

    pub(crate) fn collection_count(&self) -> usize {
        self.inner.catalog.read().map(|c| c.len()).unwrap_or(0)
    }

    pub(crate) fn catalog_insert(&self, collection: Collection) {
        if let Ok(mut catalog) = self.inner.catalog.write() {
            catalog.insert((collection.keyspace.clone(), collection.name.clone()), Arc::new(collection));
        }
    }

    pub(crate) fn catalog_remove(&self, keyspace: &str, name: &str) -> Option<Arc<Collection>> {
        let mut catalog = self.inner.catalog.write().ok()?;
        catalog.remove(&(keyspace.to_owned(), name.to_owned()))
    }

    /// How many conditional writes lost to a concurrent writer (and were retried or gave up)
    /// since start; lets tests see that a race really happened.
    pub fn lost_writes(&self) -> u64 {
        self.inner.store.lost_writes()
    }

    /// The faults currently injected.
    pub fn current_faults(&self) -> Faults {
        self.inner.faults.get()
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.inner.faults.set(faults);
    }

    /// Stops the storage thread (after queued work); later requests fail.
    pub async fn close(&self) {
        self.inner.store.close().await;
    }
}

/// All routes of astra-local over `state`, with fault injection; usable without a socket
/// (`tower::ServiceExt::oneshot`), except that a dropped connection is then a bare 503.
pub fn router(state: AppState) -> Router {
    let data_api_routes = Router::new()
        .route("/{keyspace}", post(data_api::keyspace_command))
        .route("/{keyspace}/{collection}", post(data_api::collection_command));
    Router::new()
        .nest("/api/json/v1", data_api_routes.clone())
        .nest("/v1", data_api_routes)
        .route(
            "/api/rest/v2/namespaces/{namespace}/collections/{collection}/batch",
            post(document_api::batch),
        )
        .route(
            "/api/rest/v2/namespaces/{namespace}/collections/{collection}/{document_id}",
            put(document_api::put_document).get(document_api::get_document),
        )
        .route("/admin/faults", get(admin::get_faults).post(admin::set_faults))
        .layer(axum::middleware::from_fn_with_state(state.clone(), faults::inject))
        .with_state(state)
}

/// A running astra-local.
pub struct LocalAstra {
    addr: SocketAddr,
    state: AppState,
    token: String,
    server: server::ServerHandle,
}

impl std::fmt::Debug for LocalAstra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAstra").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// Binds `listen` (port 0 picks a free port) and serves astra-local in a tokio task, with the
/// default [`ServerOptions`].
pub async fn spawn(listen: SocketAddr, config: Config) -> Result<LocalAstra, Error> {
    spawn_with_options(listen, config, ServerOptions::default()).await
}

/// [`spawn`] with explicit keyspaces and collection limit.
pub async fn spawn_with_options(listen: SocketAddr, config: Config, options: ServerOptions) -> Result<LocalAstra, Error> {
    let token = config.token.clone();
    let state = AppState::open(config, options).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Bind { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind { addr: listen, source })?;
    let server = server::serve(listener, router(state.clone()));
    tracing::info!(%addr, "astra-local listening");
    Ok(LocalAstra { addr, state, token, server })
}

impl LocalAstra {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API endpoint, e.g. `http://127.0.0.1:8181` (the Data API is under `/api/json/v1`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token clients must send.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Replaces the injected faults (takes effect on the next request).
    pub fn set_faults(&self, faults: Faults) {
        self.state.set_faults(faults);
    }

    /// The faults currently injected.
    pub fn faults(&self) -> Faults {
        self.state.current_faults()
    }

    /// The API requests the fault layer has seen since start, and the 429s it answered.
    pub fn fault_counts(&self) -> FaultCounts {
        self.state.faults().counts()
    }

    /// The shared state (e.g. to build another [`router`] over the same data).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting, closes open connections and closes the storage cleanly.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.state.close().await;
    }
}
