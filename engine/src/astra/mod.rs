//! The Astra side: clients for the Data API and the Stargate Document API v2, and the one
//! interface over both that jobs use ([`writer::Writer`]).
//!
//! - [`data_api::DataApiClient`] speaks the Data API of current Astra databases (and of
//!   astra-local): `createCollection`, `deleteCollection`, `findCollections`, `insertMany` in
//!   concurrent chunks, `find` page by page, `findOne`, `countDocuments`,
//!   `estimatedDocumentCount`, and the writes online sync needs (`findOneAndReplace`,
//!   `findOneAndUpdate`, `updateOne`, `updateMany`, `findOneAndDelete`, `deleteOne`,
//!   `deleteMany`).
//! - [`document_api::DocumentApiClient`] speaks the Document API v2 the original migrator
//!   used: create-or-replace by a stable document id, single or batched.
//!
//! Each keeps its own settings, requests, answers and errors. Below them they share one
//! layer: the HTTP set-up, the attempt loop and the failure descriptions (`http`), and the
//! backoff policy ([`retry::RetryPolicy`]), and the pace of one target
//! ([`limiter::Limiter`]: adaptive concurrency, a request rate after 429s, an optional
//! documents-per-second ceiling). Both report writes the same way: one [`DocumentOutcome`]
//! per input document, in input order, so the job runner can account for every source
//! document exactly once: written, already present or dead-lettered.
//! The API facts they rely on, with their upstream sources, are in `docs/data-api.md`.
//!
//! The application token travels only in request headers, marked sensitive. [`Token`]
//! has no `Display` and a redacting `Debug`, and error messages built from a server's
//! answer are scrubbed of it, so it never reaches a log line or a user-facing error.

pub mod data_api;
pub mod document_api;
mod http;
pub mod limiter;
pub mod retry;
pub mod stats;
pub mod writer;

pub use data_api::{DataApiClient, DataApiConfig, DataApiError};
pub use document_api::{DocumentApiClient, DocumentApiConfig, DocumentApiError};
pub use limiter::Limiter;
pub use retry::RetryPolicy;
pub use stats::{RequestCounts, RequestStats};
pub use writer::{DocumentTally, TargetError, TargetSpec, Writer};

use std::fmt;

/// An Astra application token (`AstraCS:...`). Its value is only ever put in a request
/// header: it has no `Display`, and `Debug` prints `Token(<redacted>)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Whether the token is empty (a configuration mistake).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value, as an HTTP header value marked sensitive (so that `reqwest` and `http`
    /// never print it). `None` when the token holds characters a header cannot carry.
    fn header_value(&self) -> Option<reqwest::header::HeaderValue> {
        let mut value = reqwest::header::HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// `text` with every occurrence of the token replaced by `<redacted>`: applied to
    /// anything a server sends back before it goes into an error message.
    fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 || !text.contains(&self.0) {
            return text.to_owned();
        }
        text.replace(&self.0, "<redacted>")
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl From<String> for Token {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// What became of one document sent to Astra.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentOutcome {
    /// This call wrote the document.
    Written,
    /// A document with the same `_id` was already in the collection (`DOCUMENT_ALREADY_EXISTS`),
    /// so the document is there but this call did not write it. That covers both a document
    /// copied by an earlier run and one written by an attempt of this call whose answer was
    /// lost (a timeout, a dropped connection, a gateway error after the write): the Data API
    /// cannot tell them apart, and either way the document is in Astra exactly once. The job
    /// layer counts it as copied, never twice.
    AlreadyPresent,
    /// Astra refused the document; retrying the same content would fail again.
    Failed {
        /// The Data API `errorCode` (e.g. `SHRED_DOC_LIMIT_VIOLATION`), or for the Document
        /// API `HTTP_<status>`.
        code: String,
        /// The server's message.
        message: String,
    },
}

impl DocumentOutcome {
    /// Whether the document is in Astra after the call (written now or before).
    pub fn is_stored(&self) -> bool {
        matches!(self, Self::Written | Self::AlreadyPresent)
    }
}
