//! MongoDB as a source: parsing and redacting connection strings, connecting with a bounded
//! server-selection timeout, and the read-only calls the browse pages and jobs need.
//!
//! Every error this module returns is safe to show a user: the password of the connection
//! string is scrubbed from any text that came from the driver.

use crate::wire::{CollectionSummary, DatabaseSummary};
use bson::{doc, Bson, Document};
use futures::TryStreamExt;
use mongodb::{
    error::ErrorKind,
    options::{ClientOptions, ConnectionString, HostInfo},
    Client,
};
use std::time::Duration;

/// What went wrong talking to a MongoDB source, phrased for the person who configured it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("The MongoDB connection string is not valid: {0}. Expected something like mongodb://user:password@host:27017.")]
    InvalidUri(String),
    #[error("Could not reach MongoDB at {hosts} within {seconds} s. Check the host and port, and that the server is running and reachable from the docshift server.")]
    Unreachable { hosts: String, seconds: u64 },
    #[error("MongoDB refused the credentials for {hosts}: check the user name, the password and the authSource.")]
    Authentication { hosts: String },
    #[error("There is no database named \"{0}\" on this server.")]
    NoSuchDatabase(String),
    #[error("There is no collection named \"{collection}\" in database \"{database}\".")]
    NoSuchCollection { database: String, collection: String },
    #[error("MongoDB answered with an error: {0}")]
    Driver(String),
}

/// A parsed connection string, kept with what is needed to redact it.
#[derive(Clone)]
pub struct SourceUri {
    raw: String,
    parsed: ConnectionString,
}

impl std::fmt::Debug for SourceUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SourceUri").field(&self.redacted()).finish()
    }
}

impl SourceUri {
    /// Parses a connection string without touching the network (SRV records are resolved
    /// only when connecting).
    pub fn parse(raw: &str) -> Result<Self, SourceError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(SourceError::InvalidUri("it is empty".into()));
        }
        if !raw.starts_with("mongodb://") && !raw.starts_with("mongodb+srv://") {
            return Err(SourceError::InvalidUri("it must start with mongodb:// or mongodb+srv://".into()));
        }
        match ConnectionString::parse(raw) {
            Ok(parsed) => Ok(Self { raw: raw.to_owned(), parsed }),
            Err(err) => {
                let message = scrub(&err.kind.to_string(), &raw_password(raw).into_iter().collect::<Vec<_>>());
                Err(SourceError::InvalidUri(trim_driver_prefix(&message)))
            }
        }
    }

    /// The connection string with its password replaced by `****`, built from the parsed
    /// parts, so no unparsed text of the original can leak into it.
    pub fn redacted(&self) -> String {
        let scheme = match self.parsed.host_info {
            HostInfo::DnsRecord(_) => "mongodb+srv",
            _ => "mongodb",
        };
        let user = match self.parsed.credential.as_ref().and_then(|c| c.username.as_deref()) {
            Some(user) if self.has_password() => format!("{user}:****@"),
            Some(user) => format!("{user}@"),
            None => String::new(),
        };
        let database = self.parsed.default_database.as_deref().map(|d| format!("/{d}")).unwrap_or_default();
        format!("{scheme}://{user}{}{database}", self.hosts())
    }

    /// The connection string as given, password included: for server-side use only.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The hosts, as `host:port,host:port` (or the SRV name).
    pub fn hosts(&self) -> String {
        match &self.parsed.host_info {
            HostInfo::HostIdentifiers(hosts) => hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(","),
            HostInfo::DnsRecord(name) => name.clone(),
            _ => "the configured hosts".into(),
        }
    }

    fn has_password(&self) -> bool {
        self.parsed.credential.as_ref().is_some_and(|c| c.password.is_some())
    }

    /// Every form of the password that might show up in a message.
    fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = raw_password(&self.raw).into_iter().collect();
        if let Some(password) = self.parsed.credential.as_ref().and_then(|c| c.password.clone()) {
            secrets.push(password);
        }
        secrets.retain(|s| !s.is_empty());
        secrets
    }

    /// Turns a driver error into a [`SourceError`] with no secret in it.
    pub fn explain(&self, err: &mongodb::error::Error, timeout: Duration) -> SourceError {
        match err.kind.as_ref() {
            ErrorKind::ServerSelection { .. } => {
                // The driver reports failed authentication during selection as a
                // selection failure whose message names the auth error.
                let message = err.to_string();
                if message.contains("Authentication failed") || message.contains("auth error") {
                    SourceError::Authentication { hosts: self.hosts() }
                } else {
                    SourceError::Unreachable { hosts: self.hosts(), seconds: timeout.as_secs().max(1) }
                }
            }
            ErrorKind::Authentication { .. } => SourceError::Authentication { hosts: self.hosts() },
            ErrorKind::Command(command) if command.code == 18 => SourceError::Authentication { hosts: self.hosts() },
            _ => SourceError::Driver(trim_driver_prefix(&scrub(&err.to_string(), &self.secrets()))),
        }
    }
}

/// The `_id` values a key may stand for (see [`MongoSource::find_by_id_key`]).
fn id_candidates(key: &str) -> Vec<Bson> {
    let mut candidates = Vec::new();
    if key.starts_with(['{', '[']) {
        if let Some(id) = serde_json::from_str::<serde_json::Value>(key).ok().and_then(|v| Bson::try_from(v).ok()) {
            // Relaxed Extended JSON reads small integers as Int32: the Int64 form too.
            candidates.push(widened(&id));
            candidates.push(id);
        }
        return candidates;
    }
    if let Ok(oid) = bson::oid::ObjectId::parse_str(key) {
        candidates.push(Bson::ObjectId(oid));
    }
    if let Ok(n) = key.parse::<i64>() {
        candidates.push(Bson::Int64(n));
        if let Ok(n) = i32::try_from(n) {
            candidates.push(Bson::Int32(n));
        }
    } else if let Ok(x) = key.parse::<f64>() {
        candidates.push(Bson::Double(x));
    }
    match key {
        "true" => candidates.push(Bson::Boolean(true)),
        "false" => candidates.push(Bson::Boolean(false)),
        "null" => candidates.push(Bson::Null),
        _ => {}
    }
    candidates.push(Bson::String(key.to_owned()));
    candidates
}

/// `value` with every Int32 inside it as an Int64.
fn widened(value: &Bson) -> Bson {
    match value {
        Bson::Int32(n) => Bson::Int64(i64::from(*n)),
        Bson::Document(d) => Bson::Document(d.iter().map(|(k, v)| (k.clone(), widened(v))).collect()),
        Bson::Array(a) => Bson::Array(a.iter().map(widened).collect()),
        other => other.clone(),
    }
}

/// Replaces every secret in `text` with `****`.
pub fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| s.len() >= 3)
        .fold(text.to_owned(), |acc, secret| acc.replace(secret.as_str(), "****"))
}

/// The password as written in the connection string (still percent-encoded), if any:
/// the text between the first `:` of the user info and its last `@`.
fn raw_password(raw: &str) -> Option<String> {
    let rest = raw.split_once("://")?.1;
    let authority_end = rest.find(['?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    userinfo.split_once(':').map(|(_, password)| password.to_owned())
}

fn trim_driver_prefix(message: &str) -> String {
    message
        .trim_start_matches("An invalid argument was provided: ")
        .trim_start_matches("Kind: ")
        .to_owned()
}

/// A connected source: a driver client plus the URI it came from.
#[derive(Clone, Debug)]
pub struct MongoSource {
    uri: SourceUri,
    client: Client,
    timeout: Duration,
}

impl MongoSource {
    /// Builds a client for `uri` whose operations give up on server selection after
    /// `timeout`. Does not contact the server; call [`MongoSource::ping`] for that.
    pub async fn connect(uri: &SourceUri, timeout: Duration) -> Result<Self, SourceError> {
        Self::connect_patient(uri, timeout, timeout).await
    }

    /// [`MongoSource::connect`], with the driver's server monitor waiting up to `monitor` for
    /// the server's answer to its heartbeat. The monitor's check gives up after the connect
    /// timeout (plus the heartbeat frequency when it streams: the mongodb crate's
    /// `sdam/monitor.rs`, `perform_hello`, in 3.9) and then clears the connection pool,
    /// interrupting every operation in flight ("interrupted due to server monitor timeout");
    /// a server that answers nothing while it reads a large result before its first batch
    /// (SecantusDB runs one command at a time: 1,000,000 documents take it about 40 s) would
    /// so break every read that takes longer. A read of a whole collection waits for it.
    pub async fn connect_patient(uri: &SourceUri, timeout: Duration, monitor: Duration) -> Result<Self, SourceError> {
        let mut options = ClientOptions::parse(uri.parsed.clone())
            .await
            .map_err(|e| SourceError::InvalidUri(trim_driver_prefix(&scrub(&e.to_string(), &uri.secrets()))))?;
        options.server_selection_timeout = Some(timeout);
        options.connect_timeout = Some(options.connect_timeout.unwrap_or(monitor).min(monitor));
        options.app_name.get_or_insert_with(|| "docshift".into());
        let client = Client::with_options(options).map_err(|e| uri.explain(&e, timeout))?;
        Ok(Self { uri: uri.clone(), client, timeout })
    }

    pub fn uri(&self) -> &SourceUri {
        &self.uri
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    fn explain(&self, err: mongodb::error::Error) -> SourceError {
        self.uri.explain(&err, self.timeout)
    }

    /// Checks that the server answers and accepts the credentials.
    pub async fn ping(&self) -> Result<(), SourceError> {
        // `listDatabases` needs authentication where `ping` may not.
        self.client.list_database_names().await.map(|_| ()).map_err(|e| self.explain(e))
    }

    /// Every database with its size on disk and its number of collections.
    pub async fn databases(&self) -> Result<Vec<DatabaseSummary>, SourceError> {
        let specs = self.client.list_databases().await.map_err(|e| self.explain(e))?;
        let mut summaries = Vec::with_capacity(specs.len());
        for spec in specs {
            let collections = self
                .client
                .database(&spec.name)
                .list_collection_names()
                .await
                .map_err(|e| self.explain(e))?
                .len() as u64;
            summaries.push(DatabaseSummary { name: spec.name, size_on_disk: spec.size_on_disk, collections });
        }
        summaries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(summaries)
    }

    /// The collections of a database with their estimated document counts.
    pub async fn collections(&self, database: &str) -> Result<Vec<CollectionSummary>, SourceError> {
        self.require_database(database).await?;
        let db = self.client.database(database);
        let mut names = db.list_collection_names().await.map_err(|e| self.explain(e))?;
        names.sort();
        let mut summaries = Vec::with_capacity(names.len());
        for name in names {
            let estimated_count = db
                .collection::<Document>(&name)
                .estimated_document_count()
                .await
                .map_err(|e| self.explain(e))?;
            summaries.push(CollectionSummary { name, estimated_count });
        }
        Ok(summaries)
    }

    /// The first `limit` documents of a collection in `_id` order.
    pub async fn first_documents(&self, database: &str, collection: &str, limit: i64) -> Result<Vec<Document>, SourceError> {
        let coll = self.require_collection(database, collection).await?;
        let cursor = coll.find(doc! {}).sort(doc! { "_id": 1 }).limit(limit).await.map_err(|e| self.explain(e))?;
        cursor.try_collect().await.map_err(|e| self.explain(e))
    }

    /// The exact number of documents, counted by the server.
    pub async fn exact_count(&self, database: &str, collection: &str) -> Result<u64, SourceError> {
        let coll = self.require_collection(database, collection).await?;
        coll.count_documents(doc! {}).await.map_err(|e| self.explain(e))
    }

    /// The document whose `_id` has this key: an `_id` as Extended JSON (what the census and
    /// dead letters keep for ids the Data API refuses), or a stable key (`id_key`: an
    /// ObjectId's hex, a number's text, a string), which may stand for several types.
    pub async fn find_by_id_key(&self, database: &str, collection: &str, key: &str) -> Result<Option<Document>, SourceError> {
        let coll = self.require_collection(database, collection).await?;
        let candidates = id_candidates(key);
        coll.find_one(doc! { "_id": { "$in": candidates } }).await.map_err(|e| self.explain(e))
    }

    async fn require_database(&self, database: &str) -> Result<(), SourceError> {
        let names = self.client.list_database_names().await.map_err(|e| self.explain(e))?;
        if names.iter().any(|n| n == database) {
            Ok(())
        } else {
            Err(SourceError::NoSuchDatabase(database.to_owned()))
        }
    }

    async fn require_collection(&self, database: &str, collection: &str) -> Result<mongodb::Collection<Document>, SourceError> {
        self.require_collections(database, [collection]).await?;
        Ok(self.client.database(database).collection(collection))
    }

    /// Checks that the database and these collections of it exist, by name only (listing
    /// databases with their sizes, as [`MongoSource::databases`] does for the picker, costs a
    /// walk over every collection on some servers: SecantusDB took 380 ms for a few).
    pub async fn require_collections<'a>(&self, database: &str, collections: impl IntoIterator<Item = &'a str>) -> Result<(), SourceError> {
        self.require_database(database).await?;
        let names = self.client.database(database).list_collection_names().await.map_err(|e| self.explain(e))?;
        match collections.into_iter().find(|wanted| !names.iter().any(|n| n == wanted)) {
            Some(missing) => Err(SourceError::NoSuchCollection { database: database.to_owned(), collection: missing.to_owned() }),
            None => Ok(()),
        }
    }
}

/// Renders a document as indented relaxed Extended JSON, the way people read MongoDB data.
pub fn to_extended_json(document: &Document) -> String {
    let value = bson::Bson::Document(document.clone()).into_relaxed_extjson();
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_the_password_and_keeps_the_rest() {
        let uri = SourceUri::parse("mongodb://alice:s3cr%40t@db1.example.com:27018,db2:27017/admin?authSource=admin").unwrap();
        let shown = uri.redacted();
        assert_eq!(shown, "mongodb://alice:****@db1.example.com:27018,db2:27017/admin");
        assert!(!format!("{uri:?}").contains("s3cr"));
    }

    #[test]
    fn malformed_uris_name_the_problem_without_the_password() {
        let err = SourceUri::parse("mongodb://bob:hunter22@host:notaport").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("not valid"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
        assert!(matches!(SourceUri::parse("http://x"), Err(SourceError::InvalidUri(_))));
        assert!(matches!(SourceUri::parse("  "), Err(SourceError::InvalidUri(_))));
    }

    #[test]
    fn scrub_replaces_every_occurrence() {
        assert_eq!(scrub("a pw123 b pw123", &["pw123".into()]), "a **** b ****");
        assert_eq!(raw_password("mongodb://u:p%40ss@h/db?x=y@z"), Some("p%40ss".into()));
        assert_eq!(raw_password("mongodb://h:27017"), None);
    }
}
