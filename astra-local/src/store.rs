//! On-disk storage: one SQLite database (WAL mode) under the data directory, owned by a
//! dedicated thread so that the async handlers never block on disk. Each call is a closure run
//! on that thread; an `insertMany` is one transaction.
//!
//! Tables: `collections` (keyspace, name, options), `documents` (the Data API documents, keyed by
//! collection and an order-preserving `_id` key, body kept as the exact JSON text received, and a
//! `tx_id` that changes on every write), `vectors` (the float32 `$vector` of documents of vector
//! collections, written with the document; see [`crate::vector_index`]) and `rest_documents`
//! (the Document API v2 documents).
//!
//! `tx_id` is what the Data API's lightweight transactions compare (`UPDATE ... IF tx_id = ?`):
//! an update or delete reads a document, then writes only if its `tx_id` is still the one read
//! ([`Store::replace_if`], [`Store::delete_if`]). The read and the write are separate jobs on the
//! storage thread, so another request's write can come between them, as on Astra; the caller
//! re-reads and retries.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::vector::Metric;
use crate::vector_index::{self, VectorCache};

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the storage thread has stopped")]
    Stopped,
}

/// What the storage thread owns: the connection and the vectors of the collections searched.
struct Backend {
    conn: Connection,
    vectors: VectorCache,
}

type Job = Box<dyn FnOnce(&mut Backend) + Send>;

/// A document to insert.
#[derive(Debug, Clone)]
pub struct NewDoc {
    /// The order-preserving `_id` key.
    pub key: Vec<u8>,
    /// The document's JSON text.
    pub body: String,
    /// Its `$vector`, for a vector collection's document that has one.
    pub vector: Option<Vec<f32>>,
}

/// A collection row.
#[derive(Debug, Clone)]
pub struct CollectionRow {
    pub id: i64,
    pub keyspace: String,
    pub name: String,
    pub options: String,
}

/// A stored Data API document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// The order-preserving `_id` key.
    pub key: Vec<u8>,
    /// The document's JSON text.
    pub body: String,
    /// Changes on every write of the document (never reused).
    pub tx: i64,
}

/// A range of storage keys to read, in key order.
#[derive(Debug, Clone, Default)]
pub struct KeyRange {
    /// Exclusive lower bound (or inclusive when `lower_inclusive`).
    pub lower: Option<Vec<u8>>,
    pub lower_inclusive: bool,
    /// Exclusive upper bound (or inclusive when `upper_inclusive`).
    pub upper: Option<Vec<u8>>,
    pub upper_inclusive: bool,
    pub descending: bool,
}

/// Handle to the storage thread.
pub struct Store {
    jobs: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// The last `tx_id` handed out.
    last_tx: Arc<AtomicI64>,
    /// Conditional writes that found the document changed by another request.
    lost_writes: Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Opens (or creates) `astra-local.sqlite3` under `data_dir` and starts the storage thread.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        let conn = Connection::open(data_dir.join("astra-local.sqlite3"))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -64_000)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS collections (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 keyspace TEXT NOT NULL,
                 name TEXT NOT NULL,
                 options TEXT NOT NULL,
                 UNIQUE (keyspace, name));
             CREATE TABLE IF NOT EXISTS documents (
                 collection_id INTEGER NOT NULL,
                 id_key BLOB NOT NULL,
                 body TEXT NOT NULL);
             CREATE UNIQUE INDEX IF NOT EXISTS documents_by_id ON documents (collection_id, id_key);
             CREATE TABLE IF NOT EXISTS vectors (
                 collection_id INTEGER NOT NULL,
                 id_key BLOB NOT NULL,
                 vector BLOB NOT NULL,
                 PRIMARY KEY (collection_id, id_key));
             CREATE TABLE IF NOT EXISTS rest_documents (
                 namespace TEXT NOT NULL,
                 collection TEXT NOT NULL,
                 document_id TEXT NOT NULL,
                 body TEXT NOT NULL,
                 PRIMARY KEY (namespace, collection, document_id));",
        )?;
        let has_tx: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('documents') WHERE name = 'tx_id'")?
            .exists([])?;
        if !has_tx {
            conn.execute_batch("ALTER TABLE documents ADD COLUMN tx_id INTEGER NOT NULL DEFAULT 0")?;
        }
        let last_tx: i64 = conn.query_row("SELECT COALESCE(MAX(tx_id), 0) FROM documents", [], |row| row.get(0))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("astra-local-store".into())
            .spawn(move || {
                let mut backend = Backend { conn, vectors: VectorCache::default() };
                while let Ok(job) = rx.recv() {
                    job(&mut backend);
                }
                // Fold the WAL back into the database on a clean stop.
                let _ = backend.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
            })
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        Ok(Store {
            jobs: std::sync::Mutex::new(Some(tx)),
            thread: std::sync::Mutex::new(Some(thread)),
            last_tx: Arc::new(AtomicI64::new(last_tx)),
            lost_writes: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        })
    }

    /// Runs `f` on the storage thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        self.call_backend(move |backend| f(&mut backend.conn)).await
    }

    /// Runs `f` on the storage thread with the connection and the vector cache.
    async fn call_backend<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Backend) -> Result<T, rusqlite::Error> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |backend| {
            let _ = reply.send(f(backend));
        });
        {
            let guard = self.jobs.lock().map_err(|_| StoreError::Stopped)?;
            let sender = guard.as_ref().ok_or(StoreError::Stopped)?;
            sender.send(job).map_err(|_| StoreError::Stopped)?;
        }
        Ok(answer.await.map_err(|_| StoreError::Stopped)??)
    }

    /// Stops the storage thread after the queued jobs, and waits for it.
    pub async fn close(&self) {
        if let Ok(mut guard) = self.jobs.lock() {
            guard.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut guard| guard.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }

    // ---- collections ----

    pub async fn collections(&self) -> Result<Vec<CollectionRow>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn.prepare("SELECT id, keyspace, name, options FROM collections ORDER BY id")?;
            let rows = stmt.query_map([], |row| {
                Ok(CollectionRow { id: row.get(0)?, keyspace: row.get(1)?, name: row.get(2)?, options: row.get(3)? })
            })?;
            rows.collect()
        })
        .await
    }

    pub async fn create_collection(&self, keyspace: &str, name: &str, options: &str) -> Result<i64, StoreError> {
        let (keyspace, name, options) = (keyspace.to_owned(), name.to_owned(), options.to_owned());
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO collections (keyspace, name, options) VALUES (?1, ?2, ?3)",
                params![keyspace, name, options],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    pub async fn delete_collection(&self, id: i64) -> Result<(), StoreError> {
        self.call_backend(move |backend| {
            let tx = backend.conn.transaction()?;
            tx.execute("DELETE FROM documents WHERE collection_id = ?1", [id])?;
            tx.execute("DELETE FROM vectors WHERE collection_id = ?1", [id])?;
            tx.execute("DELETE FROM collections WHERE id = ?1", [id])?;
            tx.commit()?;
            backend.vectors.forget(id);
            Ok(())
        })
        .await
    }

    // ---- documents ----

    /// Inserts documents if their key is new, in one transaction. Returns, per document, whether
    /// it was written (`false`: a document with that `_id` exists). With `ordered`, stops at the
    /// first existing one and returns only the outcomes up to it.
    pub async fn insert(&self, collection: i64, documents: Vec<NewDoc>, ordered: bool) -> Result<Vec<bool>, StoreError> {
        let last_tx = self.last_tx.clone();
        self.call_backend(move |backend| {
            let tx = backend.conn.transaction()?;
            let mut outcomes = Vec::with_capacity(documents.len());
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO documents (collection_id, id_key, body, tx_id) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for doc in &documents {
                    let tx_id = last_tx.fetch_add(1, Ordering::Relaxed) + 1;
                    let written = stmt.execute(params![collection, doc.key, doc.body, tx_id])? == 1;
                    if written && doc.vector.is_some() {
                        vector_index::write_row(&tx, collection, &doc.key, doc.vector.as_deref())?;
                    }
                    outcomes.push(written);
                    if ordered && !written {
                        break;
                    }
                }
            }
            tx.commit()?;
            for (doc, written) in documents.iter().zip(&outcomes) {
                if *written && doc.vector.is_some() {
                    backend.vectors.written(collection, &doc.key, doc.vector.as_deref());
                }
            }
            Ok(outcomes)
        })
        .await
    }

    /// The document with `key`, if any.
    pub async fn get(&self, collection: i64, key: Vec<u8>) -> Result<Option<StoredDoc>, StoreError> {
        self.call(move |conn| {
            conn.prepare_cached("SELECT body, tx_id FROM documents WHERE collection_id = ?1 AND id_key = ?2")?
                .query_row(params![collection, key], |row| Ok(StoredDoc { key: key.clone(), body: row.get(0)?, tx: row.get(1)? }))
                .optional()
        })
        .await
    }

    /// The documents with these keys that exist, in the order of `keys`.
    pub async fn get_many(&self, collection: i64, keys: Vec<Vec<u8>>) -> Result<Vec<StoredDoc>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached("SELECT body, tx_id FROM documents WHERE collection_id = ?1 AND id_key = ?2")?;
            let mut found = Vec::with_capacity(keys.len());
            for key in keys {
                let row = stmt
                    .query_row(params![collection, key], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
                    .optional()?;
                if let Some((body, tx)) = row {
                    found.push(StoredDoc { key, body, tx });
                }
            }
            Ok(found)
        })
        .await
    }

    /// Up to `limit` documents in `range`, in key order.
    pub async fn scan(&self, collection: i64, range: KeyRange, limit: usize) -> Result<Vec<StoredDoc>, StoreError> {
        self.call(move |conn| {
            let mut sql = String::from("SELECT id_key, body, tx_id FROM documents WHERE collection_id = ?1");
            if range.lower.is_some() {
                sql.push_str(if range.lower_inclusive { " AND id_key >= ?2" } else { " AND id_key > ?2" });
            }
            if range.upper.is_some() {
                sql.push_str(if range.upper_inclusive { " AND id_key <= ?3" } else { " AND id_key < ?3" });
            }
            sql.push_str(if range.descending { " ORDER BY id_key DESC" } else { " ORDER BY id_key" });
            sql.push_str(" LIMIT ?4");
            let mut stmt = conn.prepare_cached(&sql)?;
            // Unused numbered parameters (?2, ?3) stay within the statement's parameter count,
            // so all four can always be bound.
            stmt.raw_bind_parameter(1, collection)?;
            stmt.raw_bind_parameter(2, range.lower.unwrap_or_default())?;
            stmt.raw_bind_parameter(3, range.upper.unwrap_or_default())?;
            stmt.raw_bind_parameter(4, limit as i64)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(StoredDoc { key: row.get(0)?, body: row.get(1)?, tx: row.get(2)? });
            }
            Ok(out)
        })
        .await
    }

    /// Writes `body` (and `vector`, or no vector) as the document with `key` if it is still at
    /// `expected` (`Some(tx)`: the document read, unchanged since; `None`: no document with that
    /// key). Returns whether the write happened — `false` means another request wrote first, as
    /// a failed lightweight transaction does on Astra. `vectors`: whether the collection holds
    /// vectors at all (without, there is no vector row to write or clear).
    pub async fn replace_if(
        &self,
        collection: i64,
        key: Vec<u8>,
        expected: Option<i64>,
        body: String,
        vectors: bool,
        vector: Option<Vec<f32>>,
    ) -> Result<bool, StoreError> {
        let tx_id = self.last_tx.fetch_add(1, Ordering::Relaxed) + 1;
        let lost = self.lost_writes.clone();
        self.call_backend(move |backend| {
            let conn = backend.conn.transaction()?;
            let changed = match expected {
                Some(expected) => conn
                    .prepare_cached(
                        "UPDATE documents SET body = ?3, tx_id = ?4 WHERE collection_id = ?1 AND id_key = ?2 AND tx_id = ?5",
                    )?
                    .execute(params![collection, key, body, tx_id, expected])?,
                None => conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO documents (collection_id, id_key, body, tx_id) VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![collection, key, body, tx_id])?,
            };
            if changed == 0 {
                lost.fetch_add(1, Ordering::Relaxed);
                return Ok(false);
            }
            if vectors {
                vector_index::write_row(&conn, collection, &key, vector.as_deref())?;
            }
            conn.commit()?;
            if vectors {
                backend.vectors.written(collection, &key, vector.as_deref());
            }
            Ok(true)
        })
        .await
    }

    /// Deletes the document with `key` if its `tx_id` is still `expected`; returns whether it did.
    /// `vectors`: whether the collection holds vectors (then its vector row goes too).
    pub async fn delete_if(&self, collection: i64, key: Vec<u8>, expected: i64, vectors: bool) -> Result<bool, StoreError> {
        let lost = self.lost_writes.clone();
        self.call_backend(move |backend| {
            let conn = backend.conn.transaction()?;
            let deleted = conn
                .prepare_cached("DELETE FROM documents WHERE collection_id = ?1 AND id_key = ?2 AND tx_id = ?3")?
                .execute(params![collection, key, expected])?;
            if deleted == 0 {
                lost.fetch_add(1, Ordering::Relaxed);
                return Ok(false);
            }
            if vectors {
                vector_index::write_row(&conn, collection, &key, None)?;
            }
            conn.commit()?;
            if vectors {
                backend.vectors.written(collection, &key, None);
            }
            Ok(true)
        })
        .await
    }

    /// The keys of the collection's vectors most similar to `query`, best first, with their
    /// similarity: the `top` best (all without `top`), among `keys` only when given.
    pub async fn vector_search(
        &self,
        collection: i64,
        query: Vec<f32>,
        metric: Metric,
        keys: Option<Vec<Vec<u8>>>,
        top: Option<usize>,
    ) -> Result<Vec<(Vec<u8>, f32)>, StoreError> {
        self.call_backend(move |backend| {
            let vectors = backend.vectors.collection(&backend.conn, collection)?;
            Ok(vectors.search(&query, metric, keys.as_deref(), top))
        })
        .await
    }

    /// How many conditional writes ([`Store::replace_if`], [`Store::delete_if`]) found their
    /// document changed by another request since the store opened.
    pub fn lost_writes(&self) -> u64 {
        self.lost_writes.load(Ordering::Relaxed)
    }

    /// Number of documents, counting at most `cap` of them when given.
    pub async fn count(&self, collection: i64, cap: Option<usize>) -> Result<u64, StoreError> {
        self.call(move |conn| match cap {
            Some(cap) => conn.query_row(
                "SELECT COUNT(*) FROM (SELECT 1 FROM documents WHERE collection_id = ?1 LIMIT ?2)",
                params![collection, cap as i64],
                |row| row.get(0),
            ),
            None => conn.query_row("SELECT COUNT(*) FROM documents WHERE collection_id = ?1", [collection], |row| row.get(0)),
        })
        .await
    }

    /// Deletes every document of the collection.
    pub async fn truncate(&self, collection: i64) -> Result<(), StoreError> {
        self.call_backend(move |backend| {
            let tx = backend.conn.transaction()?;
            tx.execute("DELETE FROM documents WHERE collection_id = ?1", [collection])?;
            tx.execute("DELETE FROM vectors WHERE collection_id = ?1", [collection])?;
            tx.commit()?;
            backend.vectors.forget(collection);
            Ok(())
        })
        .await
    }

    // ---- Document API v2 ----

    /// Creates or replaces Document API documents, in one transaction.
    pub async fn rest_put(&self, namespace: &str, collection: &str, documents: Vec<(String, String)>) -> Result<(), StoreError> {
        let (namespace, collection) = (namespace.to_owned(), collection.to_owned());
        self.call(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR REPLACE INTO rest_documents (namespace, collection, document_id, body) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (id, body) in &documents {
                    stmt.execute(params![namespace, collection, id, body])?;
                }
            }
            tx.commit()
        })
        .await
    }

    pub async fn rest_get(&self, namespace: &str, collection: &str, id: &str) -> Result<Option<String>, StoreError> {
        let (namespace, collection, id) = (namespace.to_owned(), collection.to_owned(), id.to_owned());
        self.call(move |conn| {
            conn.prepare_cached(
                "SELECT body FROM rest_documents WHERE namespace = ?1 AND collection = ?2 AND document_id = ?3",
            )?
            .query_row(params![namespace, collection, id], |row| row.get(0))
            .optional()
        })
        .await
    }
}
