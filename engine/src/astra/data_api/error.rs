//! How a Data API call fails: [`DataApiError`], each variant a sentence for the user that
//! never holds the token, and the error codes the client treats specially.

use crate::astra::http::api_error;

/// The Data API error codes that mean "the database could not do it just now; the same
/// request may succeed later" (stargate/data-api `errors.yaml` server errors marked
/// `${SNIPPET.RETRY}`, the driver failures of the former `ErrorCodeV1`, and older names of
/// the same; see `docs/data-api.md`).
pub const TRANSIENT_ERROR_CODES: &[&str] = &[
    // errors.yaml, DATABASE scope, "It is safe to retry this request."
    "COUNT_READ_FAILED",
    "FAILED_CONCURRENT_OPERATIONS",
    "FAILED_TO_CONNECT_TO_DATABASE",
    "UNAVAILABLE_DATABASE",
    "FAILED_READ_REQUEST",
    "FAILED_WRITE_REQUEST",
    "TIMEOUT_READING_DATA",
    "TIMEOUT_WRITING_DATA",
    "FAILED_COMPARE_AND_SET",
    // ErrorCodeV1 driver failures.
    "SERVER_CLOSED_CONNECTION",
    "SERVER_COORDINATOR_FAILURE",
    "SERVER_DRIVER_TIMEOUT",
    "SERVER_NO_NODE_AVAILABLE",
    "SERVER_QUERY_CONSISTENCY_FAILURE",
    "SERVER_READ_FAILED",
    // Names used by earlier Data API releases.
    "SERVER_TIMEOUT",
    "SERVER_UNAVAILABLE",
    "CONCURRENCY_FAILURE",
];

/// The error code of a duplicate `_id`: inserts are insert-if-not-exists, so a document
/// already there fails alone with this code (see `docs/data-api.md`, "Writes").
pub const DOCUMENT_ALREADY_EXISTS: &str = "DOCUMENT_ALREADY_EXISTS";

/// Whether a Data API error code is transient (see [`TRANSIENT_ERROR_CODES`]).
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_ERROR_CODES.contains(&code)
}

/// Why a Data API call failed. Messages are sentences for the user; none holds the token.
#[derive(Debug, thiserror::Error)]
pub enum DataApiError {
    /// The settings cannot work (endpoint, chunk size, token characters, ...).
    #[error("invalid Data API settings: {0}")]
    InvalidConfig(String),
    /// A keyspace or collection name the Data API would refuse.
    #[error("'{name}' is not a valid {kind} name: use 1 to 48 letters, digits or underscores")]
    InvalidName {
        /// `keyspace` or `collection`.
        kind: &'static str,
        /// The name given.
        name: String,
    },
    /// HTTP 401 or an authentication error code.
    #[error("the Data API refused the token: check that the application token is correct, not revoked, and belongs to this database")]
    TokenRefused,
    /// HTTP 403 or `UNAUTHORIZED_ACCESS`.
    #[error("the token is not allowed to run {command} on keyspace '{keyspace}': it needs a role with read and write access")]
    Forbidden {
        /// The command refused.
        command: &'static str,
        /// The keyspace addressed.
        keyspace: String,
    },
    /// The keyspace does not exist.
    #[error("keyspace '{keyspace}' does not exist in this database: create it in the Astra console or choose an existing one")]
    UnknownKeyspace {
        /// The keyspace addressed.
        keyspace: String,
    },
    /// The collection does not exist.
    #[error("collection '{collection}' does not exist in keyspace '{keyspace}': create it first")]
    UnknownCollection {
        /// The keyspace addressed.
        keyspace: String,
        /// The collection addressed.
        collection: String,
    },
    /// `createCollection` of a name that exists with other options.
    #[error("collection '{collection}' already exists in keyspace '{keyspace}' with other settings: delete it or choose another name")]
    CollectionExistsWithOtherSettings {
        /// The keyspace addressed.
        keyspace: String,
        /// The collection addressed.
        collection: String,
    },
    /// HTTP 413.
    #[error("the Data API refused a request of {bytes} bytes as too large (HTTP 413): use smaller chunks")]
    PayloadTooLarge {
        /// Size of the refused body.
        bytes: usize,
    },
    /// HTTP 415.
    #[error("the Data API refused the request's content type (HTTP 415); expected application/json")]
    UnsupportedMediaType,
    /// Any other error the Data API reported for a whole command; not retryable.
    #[error("the Data API refused {command}: {code}: {message}")]
    Command {
        /// The command refused.
        command: &'static str,
        /// Its `errorCode`.
        code: String,
        /// Its message.
        message: String,
    },
    /// A transient failure outlasted the retry policy.
    #[error("{command} kept failing after {attempts} attempts in {elapsed_ms} ms; the last failure: {last}")]
    RetriesExhausted {
        /// The command retried.
        command: &'static str,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed_ms: u128,
        /// What the last attempt ran into.
        last: String,
    },
    /// An HTTP status the Data API does not use for command errors (e.g. 404: wrong endpoint).
    #[error("unexpected HTTP {status} from the Data API for {command} (is the endpoint right?): {body}")]
    Http {
        /// The command sent.
        command: &'static str,
        /// The status.
        status: u16,
        /// The start of the answer.
        body: String,
    },
    /// An answer that is not what the Data API sends.
    #[error("the Data API's answer to {command} could not be understood: {problem}")]
    InvalidResponse {
        /// The command sent.
        command: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A converted document whose JSON is not valid (a converter bug, never expected).
    #[error("document {id_key} is not valid JSON and was not sent: {problem}")]
    InvalidDocument {
        /// The document's id key.
        id_key: String,
        /// The parser's complaint.
        problem: String,
    },
    /// The HTTP client could not be built.
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl DataApiError {
    /// Whether trying again later may succeed (an outage outlasted the retries), as opposed
    /// to a problem the user must fix (token, names, settings).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::RetriesExhausted { .. })
    }
}

api_error!(DataApiError, "Data API", command);
