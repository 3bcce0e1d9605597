//! The SQLite tables of the job store ([`super::store`]) and of its ledger
//! ([`super::ledger`]), created when a state database is opened. The timeline's tables and
//! their upgrade of older databases are in [`super::history`]; an online job's in
//! `online/store.rs`.

use rusqlite::Connection;
use std::collections::HashSet;

/// Jobs, their collections' counters, ranges with checkpoints, verifications, control
/// requests from other processes, and dead letters.
pub(super) const JOBS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    message TEXT
);
CREATE TABLE IF NOT EXISTS collections (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    name TEXT NOT NULL,
    matched INTEGER NOT NULL DEFAULT 0,
    written INTEGER NOT NULL DEFAULT 0,
    already_present INTEGER NOT NULL DEFAULT 0,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, name)
);
CREATE TABLE IF NOT EXISTS ranges (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    idx INTEGER NOT NULL,
    lower BLOB,
    upper BLOB,
    checkpoint BLOB,
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, collection, idx)
);
CREATE TABLE IF NOT EXISTS verifications (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (job_id, collection)
);
CREATE TABLE IF NOT EXISTS requests (
    job_id TEXT PRIMARY KEY,
    action TEXT NOT NULL,
    who TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (job_id, collection, id)
);
";

/// Columns added to `collections` after its first release. `counted` is 0 while `matched`
/// is not yet known: the server could not count quickly, and the job counts beside its copy
/// or as it reads.
pub(super) const ADDED_COLLECTION_COLUMNS: &[(&str, &str)] = &[("counted", "INTEGER NOT NULL DEFAULT 1")];

/// The tables of [`super::ledger`]: read plans, copied documents, throttling records.
pub(super) const LEDGER: &str = "
CREATE TABLE IF NOT EXISTS read_plans (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    plan TEXT NOT NULL,
    PRIMARY KEY (job_id, collection)
);
CREATE TABLE IF NOT EXISTS copied (
    job_id TEXT NOT NULL,
    collection TEXT NOT NULL,
    id_key TEXT NOT NULL,
    id_json TEXT NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (job_id, collection, id_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttles (
    job_id TEXT PRIMARY KEY,
    throttle TEXT NOT NULL
);
";

/// Adds the `columns` that `table` lacks, in one immediate transaction, so that two
/// processes opening an older database at once don't both add them.
pub(super) fn add_missing_columns(conn: &mut Connection, table: &str, columns: &[(&str, &str)]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let present: HashSet<String> = {
        let mut statement = tx.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let names = statement.query_map([table], |r| r.get(0))?;
        names.collect::<Result<_, _>>()?
    };
    for (name, definition) in columns {
        if !present.contains(*name) {
            tx.execute(&format!("ALTER TABLE {table} ADD COLUMN {name} {definition}"), [])?;
        }
    }
    tx.commit()
}
