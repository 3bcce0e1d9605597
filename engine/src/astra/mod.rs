//! The Astra side: clients for the Data API and the Stargate Document API v2, and the one
//! interface over both that jobs use ([`writer::Writer`]).
//!
//! - [`data_api::DataApiClient`] speaks the Data API of current Astra databases (and of
//!   astra-local): `createCollection`, `deleteCollection`, `findCollections`, `insertMany` in
//!   concurrent chunks, `find` page by page, `findOne`, `countDocuments`,
//!   `estimatedDocumentCount`.
//! - [`document_api::DocumentApiClient`] speaks the Document API v2 the original migrator
//!   used: create-or-replace by a stable document id, single or batched.
//!
//! Both retry transient failures with the same [`retry::RetryPolicy`], and both report
//! writes the same way: one [`DocumentOutcome`] per input document, in input order, so the
//! job runner can account for every source document exactly once (DESIGN.md: written,
//! already present or dead-lettered).
//!
//! The application token travels only in request headers, marked sensitive. [`Token`]
//! has no `Display` and a redacting `Debug`, and error messages built from a server's
//! answer are scrubbed of it, so it never reaches a log line or a user-facing error.

pub mod data_api;
pub mod document_api;
pub mod retry;
pub mod writer;

pub use data_api::{DataApiClient, DataApiConfig, DataApiError};
pub use document_api::{DocumentApiClient, DocumentApiConfig, DocumentApiError};
pub use retry::RetryPolicy;
pub use writer::{TargetError, TargetSpec, Writer};

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

/// The user agent both clients send.
const USER_AGENT: &str = concat!("docshift/", env!("CARGO_PKG_VERSION"));

/// What both clients build from their settings before any request: the endpoint's base URL,
/// the token as a sensitive header value, and the HTTP client.
struct Http {
    base: reqwest::Url,
    token_header: reqwest::header::HeaderValue,
    client: reqwest::Client,
}

/// Why [`Http::new`] failed: settings that cannot work, or an HTTP client that could not be
/// built. Each client maps it onto its own error type.
enum HttpSetupError {
    InvalidConfig(String),
    Client(String),
}

impl Http {
    /// `api_suffix` is the API's path (`/api/json/v1`), accepted at the end of `endpoint`.
    fn new(
        endpoint: &str,
        api_suffix: &str,
        token: &Token,
        request_timeout: std::time::Duration,
        connect_timeout: std::time::Duration,
        concurrency: usize,
    ) -> Result<Self, HttpSetupError> {
        let base = base_url(endpoint, api_suffix).ok_or_else(|| {
            HttpSetupError::InvalidConfig(format!(
                "the endpoint '{}' is not an http(s) URL such as https://<db>-<region>.apps.astra.datastax.com",
                token.redact(endpoint)
            ))
        })?;
        if token.is_empty() {
            return Err(HttpSetupError::InvalidConfig("the token is empty".into()));
        }
        let token_header = token.header_value().ok_or_else(|| {
            HttpSetupError::InvalidConfig("the token holds characters an HTTP header cannot carry".into())
        })?;
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(request_timeout)
            .connect_timeout(connect_timeout)
            .pool_max_idle_per_host(concurrency.max(8))
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))?;
        Ok(Self { base, token_header, client })
    }
}

pub use crate::naming::is_valid_schema_name;

/// The first `max` characters of a server's answer, for an error message.
fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The endpoint's scheme, host and port with any trailing `/` or API path removed.
fn base_url(endpoint: &str, api_suffix: &str) -> Option<reqwest::Url> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(api_suffix).unwrap_or(trimmed);
    let url = reqwest::Url::parse(trimmed).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
        return None;
    }
    Some(url)
}

/// `base` with `segments` appended, each percent-encoded as one path segment.
fn join_segments(base: &reqwest::Url, segments: &[&str]) -> reqwest::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}
