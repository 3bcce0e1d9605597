//! A client for the Astra Data API: the commands a migration needs, with retries.
//!
//! Every command is one `POST` of a JSON object to `{endpoint}/api/json/v1/{keyspace}` (keyspace
//! commands) or `.../{keyspace}/{collection}` (collection commands), with the token in the
//! `Token` header. Command errors come back with HTTP 200 in an `errors` array (stargate/data-api
//! `CommandResult`; see `docs/data-api.md`); gateway statuses (401, 413, 415, 429, 5xx) are
//! handled too.
//!
//! ```no_run
//! # async fn demo(docs: Vec<engine::convert::Converted>) -> Result<(), engine::astra::DataApiError> {
//! use engine::astra::{DataApiClient, DataApiConfig, Token};
//! use engine::astra::data_api::CollectionOptions;
//! let client = DataApiClient::new(DataApiConfig::new(
//!     "https://<db>-<region>.apps.astra.datastax.com",
//!     "default_keyspace",
//!     Token::new("AstraCS:..."),
//! ))?;
//! client.create_collection("customers", &CollectionOptions::default()).await?;
//! let outcomes = client.insert_many("customers", docs).await?;
//! # Ok(()) }
//! ```
//!
//! ## Writes
//! [`DataApiClient::insert_many`] splits the documents into chunks (at most 100 documents,
//! default 50, and under the 20 MB body limit), sends up to `concurrency` chunks at once
//! (default 20, as the official clients do) with `ordered: false` and
//! `returnDocumentResponses: true`, and maps the `documentResponses` back to the input by
//! position, checking each `_id`. Every input document gets exactly one [`DocumentOutcome`],
//! in input order. [`DataApiClient::insert_chunks`] gives the same results chunk by chunk as
//! they complete, for progress and checkpoints. Documents travel as the converter's JSON text, embedded as
//! [`RawValue`]s: never parsed into values and written again.
//!
//! ## Retries
//! A whole request is retried ([`RetryPolicy`]) on HTTP 408, 429, 500, 502, 503, 504,
//! timeouts, connection errors, and the Data API's transient error codes
//! ([`TRANSIENT_ERROR_CODES`]). Inside an `insertMany`, only the documents that failed with a
//! transient code (or were skipped) are sent again. Inserts are insert-if-not-exists, so a
//! retry cannot duplicate: a document that an attempt wrote although its answer was lost
//! comes back `DOCUMENT_ALREADY_EXISTS` and is reported [`DocumentOutcome::AlreadyPresent`],
//! counted once. When the attempts run out on a whole-request failure the call fails with
//! [`DataApiError::RetriesExhausted`] (no document is blamed for an outage: the job pauses and
//! a re-run finds the written ones already present); when they run out on per-document
//! transient errors, those documents are reported `Failed` with the last code.
//!
//! ## Writes for sync
//! `findOneAndReplace`, `findOneAndUpdate`, `updateOne`, `updateMany`, `findOneAndDelete`,
//! `deleteOne` and `deleteMany` (`write`): the same retries, `FAILED_CONCURRENT_OPERATIONS`
//! among the transient codes; `updateMany` follows `nextPageState` and `deleteMany` follows
//! `moreData`; [`UpdateResult::outcome`] tells an upsert that inserted from one that matched.
//!
//! ## Reads
//! [`DataApiClient::find_page`] and [`DataApiClient::find_pages`] follow `nextPageState`;
//! without a sort the Data API pages through the whole collection (with a sort it sorts in
//! memory, at most a few thousand documents), so the verifier reads without one. Documents
//! come back as the server's JSON text ([`RawValue`]), ready for `convert::content_hash`.
//!
//! ## Layout
//! `config` (settings and limits), `error`, `wire` (the JSON this client writes and reads),
//! `client` (the one command loop), then one file per family of commands: `collections`
//! (keyspace commands), `insert`, `read`, `write`. HTTP set-up and the attempt loop are shared with
//! the Document API client (`astra::http`, `astra::retry`).

#[cfg(doc)]
use super::{DocumentOutcome, RetryPolicy};
#[cfg(doc)]
use serde_json::value::RawValue;

mod client;
mod collections;
mod config;
mod error;
mod insert;
mod read;
mod wire;
mod write;

pub use client::DataApiClient;
pub use config::{DataApiConfig, DEFAULT_CHUNK_SIZE, DEFAULT_CONCURRENCY, MAX_BODY_BYTES, MAX_CHUNK_SIZE};
pub use error::{is_transient_code, DataApiError, DOCUMENT_ALREADY_EXISTS, TRANSIENT_ERROR_CODES};
pub use wire::{ChunkOutcomes, CollectionDescriptor, CollectionOptions, DefaultIdType, DocumentCount, FindPage, FindQuery};
pub use write::{DeletedCount, FindAndModify, Modified, ReturnDocument, UpdateResult, WriteOutcome};
