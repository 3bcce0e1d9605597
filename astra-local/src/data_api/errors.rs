//! The Data API's error objects: the codes, families, scopes, titles and message templates of
//! stargate/data-api's `errors.yaml`, so clients see what the real service would send.
//!
//! Each error is serialized as `{id, family, scope, errorCode, title, message, documentIds?}`
//! inside the response's `errors` array; most travel with HTTP 200, the security and
//! content-type errors carry their own status.

use serde::Serialize;
use serde_json::value::RawValue;

/// One entry of a response's `errors` array.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    pub id: String,
    pub family: &'static str,
    pub scope: &'static str,
    #[serde(rename = "errorCode")]
    pub code: &'static str,
    pub title: &'static str,
    pub message: String,
    #[serde(rename = "documentIds", skip_serializing_if = "Vec::is_empty")]
    pub document_ids: Vec<Box<RawValue>>,
    /// The HTTP status the response takes when this error is the first non-200 one.
    #[serde(skip)]
    pub http_status: u16,
}

const REQUEST: &str = "REQUEST";
const SERVER: &str = "SERVER";

impl ApiError {
    fn new(
        family: &'static str,
        scope: &'static str,
        code: &'static str,
        title: &'static str,
        message: String,
    ) -> ApiError {
        ApiError {
            id: uuid::Uuid::new_v4().to_string(),
            family,
            scope,
            code,
            title,
            message,
            document_ids: Vec::new(),
            http_status: 200,
        }
    }

    fn with_status(mut self, status: u16) -> ApiError {
        self.http_status = status;
        self
    }

    /// Attaches the `_id` (as JSON text) of the document the error concerns.
    pub fn for_document(mut self, id_json: Option<&str>) -> ApiError {
        if let Some(id) = id_json.and_then(|text| RawValue::from_string(text.to_owned()).ok()) {
            self.document_ids = vec![id];
        }
        self
    }

    // ---- REQUEST, no scope ----

    pub fn command_unknown(command: &str, command_type: &str, known: &[&str]) -> ApiError {
        ApiError::new(
            REQUEST,
            "",
            "COMMAND_UNKNOWN",
            "Command is not recognized by Data API",
            format!(
                "Command '{command}' is not a {command_type} recognized by Data API.\n\nData API supports following {command_type}s: {}.\n\nResend using one of the supported commands.",
                known.join(", ")
            ),
        )
    }

    pub fn command_field_value_invalid(field: &str, value: &str, message: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "",
            "COMMAND_FIELD_VALUE_INVALID",
            "Command field value invalid",
            format!(
                "Command field '{field}' value {value} not valid: {message}.\n\nResend command with valid value."
            ),
        )
    }

    pub fn request_not_json(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "",
            "REQUEST_NOT_JSON",
            "Request not valid JSON",
            format!("Request not valid JSON, problem: {problem}.\n\nResend request as valid JSON."),
        )
    }

    pub fn request_structure_mismatch(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "",
            "REQUEST_STRUCTURE_MISMATCH",
            "Request structure not valid",
            format!(
                "Request is valid JSON but has a structural mismatch: {problem}.\n\nResend request with valid structure."
            ),
        )
    }

    pub fn unsupported_content_type() -> ApiError {
        ApiError::new(
            REQUEST,
            "",
            "UNSUPPORTED_CONTENT_TYPE",
            "Unsupported Content-Type",
            "Request sent with unsupported 'Content-Type' header value.\n\nThe API only supports content type: application/json\n\nResend with supported 'Content-Type' header.".to_owned(),
        )
        .with_status(415)
    }

    // ---- REQUEST / SECURITY ----

    pub fn missing_authentication_token() -> ApiError {
        ApiError::new(
            REQUEST,
            "SECURITY",
            "MISSING_AUTHENTICATION_TOKEN",
            "Missing authorization token",
            "The command did not include an authorization token in the request headers.\n\nThe authorization header is: Token.\n\nResend the command using the correct authentication details.".to_owned(),
        )
        .with_status(401)
    }

    pub fn unauthenticated_request() -> ApiError {
        ApiError::new(
            REQUEST,
            "SECURITY",
            "UNAUTHENTICATED_REQUEST",
            "Authentication failed",
            "Authentication failed for request due to invalid token.\n\nResend with valid authentication token.".to_owned(),
        )
        .with_status(401)
    }

    // ---- REQUEST / DOCUMENT ----

    pub fn document_already_exists(id_display: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "DOCUMENT_ALREADY_EXISTS",
            "Document the given _id already exists",
            format!(
                "Cannot insert the document: a document already exists with given '_id' ({id_display}). \n\nEither resend the command with distinct '_id', or use an update command instead."
            ),
        )
    }

    pub fn shred_bad_docid_type(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_BAD_DOCID_TYPE",
            "Bad type for '_id' field",
            format!("Bad type for '_id' field: {problem}."),
        )
    }

    pub fn shred_bad_docid_value(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_BAD_DOCID_VALUE",
            "Bad value for '_id' field",
            format!("Bad value for '_id' field: {problem}."),
        )
    }

    pub fn shred_bad_document_type(json_type: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_BAD_DOCUMENT_TYPE",
            "Bad document type to shred",
            format!(
                "Bad document type to shred: document must be a JSON Object, instead got a JSON {json_type}."
            ),
        )
    }

    pub fn shred_bad_ejson_value(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_BAD_EJSON_VALUE",
            "Bad JSON Extension value to shred",
            format!("Bad JSON Extension value to shred: {problem}."),
        )
    }

    pub fn shred_bad_field_name(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_BAD_FIELD_NAME",
            "Document field name not valid",
            format!("Document field name not valid: {problem}."),
        )
    }

    pub fn shred_doc_limit_violation(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "DOCUMENT",
            "SHRED_DOC_LIMIT_VIOLATION",
            "Document size limitation violated",
            format!("Document size limitation violated: {problem}."),
        )
    }

    // ---- REQUEST / SCHEMA ----

    pub fn too_many_collections(name: &str, count: usize, max: usize) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "TOO_MANY_COLLECTIONS",
            "Too many collections",
            format!(
                "Cannot create collection '{name}': the maximum number of collections per database is {max}, database already has {count}."
            ),
        )
    }

    pub fn unknown_keyspace(keyspace: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "UNKNOWN_KEYSPACE",
            "Keyspace does not exist in the Database",
            format!(
                "The command tried to use a Keyspace that does not exist in the Database.\n\nThe keyspace used by the command: {keyspace}.\n\nResend the command using a Keyspace that exists."
            ),
        )
    }

    pub fn unknown_collection(keyspace: &str, collection: &str, existing: &[String]) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "UNKNOWN_COLLECTION_OR_TABLE",
            "Collection or Table does not exist in the Keyspace",
            format!(
                "The command tried to get a Collection or Table {collection} that does not exist in the Keyspace {keyspace}.\n\nThe keyspace has the existing collections or tables: [{}].\n\nResend the command using a Collection or Table that exists.",
                existing.join(", ")
            ),
        )
    }

    pub fn existing_collection_different_settings(name: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "EXISTING_COLLECTION_DIFFERENT_SETTINGS",
            "Collection already exists with different settings",
            format!(
                "Collection '{name}' already exists but with settings different from ones passed with 'createCollection' command.\n\nIf you need to change collection settings you will need to 'deleteCollection', then re-create with new settings."
            ),
        )
    }

    pub fn invalid_indexing_definition(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "INVALID_INDEXING_DEFINITION",
            "Invalid indexing definition",
            format!(
                "'createCollection' indexing definition invalid: {problem}.\n\nResend 'createCollection' with valid indexing definition."
            ),
        )
    }

    pub fn invalid_create_collection_options(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "INVALID_CREATE_COLLECTION_OPTIONS",
            "Invalid options for createCollection",
            format!(
                "'createCollection' command option(s) invalid: {problem}\n\nResend 'createCollection' with valid options."
            ),
        )
    }

    pub fn unsupported_schema_name(schema_type: &str, name: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SCHEMA",
            "UNSUPPORTED_SCHEMA_NAME",
            "The used schema name is not supported",
            format!(
                "The command attempted to create a {schema_type} with a name that is not supported.\n\nThe supported {schema_type} names must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters.\nThe command used the unsupported {schema_type} name: '{name}'.\n\nResend the command using a supported {schema_type} name."
            ),
        )
    }

    // ---- REQUEST / FILTER, SORT, PROJECTION ----

    pub fn filter_invalid_expression(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "FILTER",
            "FILTER_INVALID_EXPRESSION",
            "Unsupported filter clause",
            format!(
                "Unsupported filter clause: {problem}.\n\nResend the command using only supported filter expressions and paths."
            ),
        )
    }

    pub fn filter_unsupported_operator(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "FILTER",
            "FILTER_UNSUPPORTED_OPERATOR",
            "Unsupported filter operator",
            format!("Unsupported {problem}.\n\nResend the command using only supported operators."),
        )
    }

    pub fn sort_clause_invalid(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "SORT",
            "SORT_CLAUSE_INVALID",
            "Sort clause used by command not valid",
            format!(
                "Sort clause used by command not valid.\nProblem: {problem}.\n\nResend the command with a valid sort clause."
            ),
        )
    }

    pub fn unsupported_projection_param(problem: &str) -> ApiError {
        ApiError::new(
            REQUEST,
            "PROJECTION",
            "UNSUPPORTED_PROJECTION_PARAM",
            "Unsupported projection parameter",
            format!(
                "Unsupported projection parameter: {problem}.\n\nResend the command with valid projection definition."
            ),
        )
    }

    // ---- SERVER ----

    /// An internal failure (storage). The detail is logged by the caller, not sent.
    pub fn unexpected_server_error(error_class: &str, problem: &str) -> ApiError {
        ApiError::new(
            SERVER,
            "",
            "UNEXPECTED_SERVER_ERROR",
            "Unexpected server error",
            format!(
                "An unexpected server error occurred while processing the request. \n\nError Class: {error_class}\nError Message: {problem}\n\nReview the Error Message before retrying this request."
            ),
        )
    }
}
