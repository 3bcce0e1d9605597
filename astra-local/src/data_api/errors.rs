//! The Data API's error objects: the codes, families, scopes, titles and message templates of
//! stargate/data-api's `errors.yaml`, so clients see what the real service would send.
//!
//! Each error is serialized as `{id, family, scope, errorCode, title, message, documentIds?}`
//! inside the response's `errors` array; most travel with HTTP 200, the security and
//! content-type errors carry their own status.

use serde::Serialize;
use serde_json::value::RawValue;

/// What is fixed about an error code: family, scope, code, title and HTTP status.
#[derive(Debug, PartialEq, Eq)]
pub struct ErrorKind {
    pub family: &'static str,
    pub scope: &'static str,
    pub code: &'static str,
    pub title: &'static str,
    /// The HTTP status the response takes when this error is the first non-200 one.
    pub http_status: u16,
}

/// One entry of a response's `errors` array.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub id: uuid::Uuid,
    pub kind: &'static ErrorKind,
    pub message: String,
    /// `_id`s (as JSON) of the documents the error concerns.
    pub document_ids: Vec<Box<RawValue>>,
}

impl Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("family", self.kind.family)?;
        map.serialize_entry("scope", self.kind.scope)?;
        map.serialize_entry("errorCode", self.kind.code)?;
        map.serialize_entry("title", self.kind.title)?;
        map.serialize_entry("message", &self.message)?;
        if !self.document_ids.is_empty() {
            map.serialize_entry("documentIds", &self.document_ids)?;
        }
        map.end()
    }
}

const REQUEST: &str = "REQUEST";

/// Which `UNSUPPORTED_UPDATE_*` error an update clause problem gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateProblem {
    DataType,
    Operation,
    Modifier,
    Param,
    Path,
    Target,
}

const fn update_kind(code: &'static str, title: &'static str) -> ErrorKind {
    ErrorKind { family: "REQUEST", scope: "UPDATE", code, title, http_status: 200 }
}

static UPDATE_DATA_TYPE: ErrorKind = update_kind("UNSUPPORTED_UPDATE_DATA_TYPE", "Unsupported update data type");
static UPDATE_OPERATION: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATION", "Unsupported update operation");
static UPDATE_MODIFIER: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATION_MODIFIER", "Unsupported update operation modifier");
static UPDATE_PARAM: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATION_PARAM", "Unsupported update operation parameter");
static UPDATE_PATH: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATION_PATH", "Unsupported update operation path");
static UPDATE_TARGET: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATION_TARGET", "Unsupported update operation target");
static FOR_DOC_ID: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATOR_FOR_DOC_ID", "Update operators cannot be used on _id field");
static FOR_VECTOR: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATOR_FOR_VECTOR", "Update operator cannot be used on $vector field");
static FOR_VECTORIZE: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATOR_FOR_VECTORIZE", "Update operator cannot be used on $vectorize field");
static FOR_LEXICAL: ErrorKind = update_kind("UNSUPPORTED_UPDATE_OPERATOR_FOR_LEXICAL", "Update operator cannot be used on $lexical field");
const SERVER: &str = "SERVER";

impl ApiError {
    fn new(kind: &'static ErrorKind, message: String) -> ApiError {
        ApiError { id: uuid::Uuid::new_v4(), kind, message, document_ids: Vec::new() }
    }

    /// The `errorCode`.
    pub fn code(&self) -> &'static str {
        self.kind.code
    }

    /// Attaches the `_id` (as JSON text) of the document the error concerns.
    pub fn for_document(mut self, id_json: Option<&str>) -> ApiError {
        if let Some(id) = id_json.and_then(|text| RawValue::from_string(text.to_owned()).ok()) {
            self.document_ids = vec![id];
        }
        self
    }

    /// Attaches the `_id`s (as JSON texts) of the documents the error concerns.
    pub fn for_documents<'i>(mut self, ids: impl IntoIterator<Item = &'i str>) -> ApiError {
        self.document_ids = ids.into_iter().filter_map(|text| RawValue::from_string(text.to_owned()).ok()).collect();
        self
    }

    // ---- REQUEST, no scope ----

    pub fn command_unknown(command: &str, command_type: &str, known: &[&str]) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "COMMAND_UNKNOWN", title: "Command is not recognized by Data API", http_status: 200 },
            format!(
                "Command '{command}' is not a {command_type} recognized by Data API.\n\nData API supports following {command_type}s: [{}].\n\nResend using one of the supported commands.",
                known.join(", ")
            ),
        )
    }

    pub fn command_field_value_invalid(field: &str, value: &str, message: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "COMMAND_FIELD_VALUE_INVALID", title: "Command field value invalid", http_status: 200 },
            format!(
                "Command field '{field}' value {value} not valid: {message}.\n\nResend command with valid value."
            ),
        )
    }

    pub fn command_accepts_no_options(command: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "COMMAND_ACCEPTS_NO_OPTIONS", title: "Command accepts no options", http_status: 200 },
            format!("Command '{command}' does not accept options but some were included.\n\nResend command without options."),
        )
    }

    pub fn command_field_unknown(field: &str, message: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "COMMAND_FIELD_UNKNOWN", title: "Command field unknown", http_status: 200 },
            format!("Command field '{field}' not recognized: {message}.\n\nResend command with valid command fields."),
        )
    }

    pub fn invalid_create_collection_field(message: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "INVALID_CREATE_COLLECTION_FIELD", title: "Invalid field(s) for createCollection", http_status: 200 },
            format!("'createCollection' command referenced unrecognized field(s): {message}\n\nResend 'createCollection' with only valid fields."),
        )
    }

    pub fn request_not_json(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "REQUEST_NOT_JSON", title: "Request not valid JSON", http_status: 200 },
            format!("Request not valid JSON, problem: {problem}.\n\nResend request as valid JSON."),
        )
    }

    pub fn request_structure_mismatch(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "REQUEST_STRUCTURE_MISMATCH", title: "Request structure not valid", http_status: 200 },
            format!(
                "Request is valid JSON but has a structural mismatch: {problem}.\n\nResend request with valid structure."
            ),
        )
    }

    pub fn unsupported_content_type() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "", code: "UNSUPPORTED_CONTENT_TYPE", title: "Unsupported Content-Type", http_status: 415 },
            "Request sent with unsupported 'Content-Type' header value.\n\nThe API only supports content type: application/json\n\nResend with supported 'Content-Type' header.".to_owned(),
        )
    }

    // ---- REQUEST / SECURITY ----

    pub fn missing_authentication_token() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SECURITY", code: "MISSING_AUTHENTICATION_TOKEN", title: "Missing authorization token", http_status: 401 },
            "The command did not include an authorization token in the request headers.\n\nThe authorization header is: Token.\n\nResend the command using the correct authentication details.".to_owned(),
        )
    }

    pub fn unauthenticated_request() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SECURITY", code: "UNAUTHENTICATED_REQUEST", title: "Authentication failed", http_status: 401 },
            "Authentication failed for request due to invalid token.\n\nResend with valid authentication token.".to_owned(),
        )
    }

    // ---- REQUEST / DOCUMENT ----

    pub fn document_already_exists(id_display: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "DOCUMENT_ALREADY_EXISTS", title: "Document the given _id already exists", http_status: 200 },
            format!(
                "Cannot insert the document: a document already exists with given '_id' ({id_display}). \n\nEither resend the command with distinct '_id', or use an update command instead."
            ),
        )
    }

    pub fn document_replace_different_docid(replace_id: &str, matched_id: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "DOCUMENT_REPLACE_DIFFERENT_DOCID", title: "Document the given _id already exists", http_status: 200 },
            format!(
                "The replace document and document resolved using filter have different '_id's: {replace_id} (replace document) vs. {matched_id} (document that filter matches). \n\nResend the update command with a document that has same '_id' as document being replaced."
            ),
        )
    }

    pub fn shred_bad_docid_type(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_DOCID_TYPE", title: "Bad type for '_id' field", http_status: 200 },
            format!("Bad type for '_id' field: {problem}."),
        )
    }

    pub fn shred_bad_docid_value(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_DOCID_VALUE", title: "Bad value for '_id' field", http_status: 200 },
            format!("Bad value for '_id' field: {problem}."),
        )
    }

    pub fn shred_bad_document_type(json_type: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_DOCUMENT_TYPE", title: "Bad document type to shred", http_status: 200 },
            format!(
                "Bad document type to shred: document must be a JSON Object, instead got a JSON {json_type}."
            ),
        )
    }

    pub fn shred_bad_ejson_value(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_EJSON_VALUE", title: "Bad JSON Extension value to shred", http_status: 200 },
            format!("Bad JSON Extension value to shred: {problem}."),
        )
    }

    pub fn shred_bad_field_name(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_FIELD_NAME", title: "Document field name not valid", http_status: 200 },
            format!("Document field name not valid: {problem}."),
        )
    }

    pub fn shred_doc_limit_violation(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_DOC_LIMIT_VIOLATION", title: "Document size limitation violated", http_status: 200 },
            format!("Document size limitation violated: {problem}."),
        )
    }

    // ---- REQUEST / SCHEMA ----

    pub fn too_many_collections(name: &str, count: usize, max: usize) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "TOO_MANY_COLLECTIONS", title: "Too many collections", http_status: 200 },
            format!(
                "Cannot create collection '{name}': the maximum number of collections per database is {max}, database already has {count}."
            ),
        )
    }

    pub fn unknown_keyspace(keyspace: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "UNKNOWN_KEYSPACE", title: "Keyspace does not exist in the Database", http_status: 200 },
            format!(
                "The command tried to use a Keyspace that does not exist in the Database.\n\nThe keyspace used by the command: {keyspace}.\n\nResend the command using a Keyspace that exists."
            ),
        )
    }

    pub fn unknown_collection(keyspace: &str, collection: &str, existing: &[String]) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "UNKNOWN_COLLECTION_OR_TABLE", title: "Collection or Table does not exist in the Keyspace", http_status: 200 },
            format!(
                "The command tried to get a Collection or Table {collection} that does not exist in the Keyspace {keyspace}.\n\nThe keyspace has the existing collections or tables: [{}].\n\nResend the command using a Collection or Table that exists.",
                existing.join(", ")
            ),
        )
    }

    pub fn existing_collection_different_settings(name: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "EXISTING_COLLECTION_DIFFERENT_SETTINGS", title: "Collection already exists with different settings", http_status: 200 },
            format!(
                "Collection '{name}' already exists but with settings different from ones passed with 'createCollection' command.\n\nIf you need to change collection settings you will need to 'deleteCollection', then re-create with new settings."
            ),
        )
    }

    pub fn invalid_indexing_definition(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "INVALID_INDEXING_DEFINITION", title: "Invalid indexing definition", http_status: 200 },
            format!(
                "'createCollection' indexing definition invalid: {problem}.\n\nResend 'createCollection' with valid indexing definition."
            ),
        )
    }

    pub fn invalid_create_collection_options(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "INVALID_CREATE_COLLECTION_OPTIONS", title: "Invalid options for createCollection", http_status: 200 },
            format!(
                "'createCollection' command option(s) invalid: {problem}\n\nResend 'createCollection' with valid options."
            ),
        )
    }

    pub fn unsupported_schema_name(schema_type: &str, name: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "UNSUPPORTED_SCHEMA_NAME", title: "The used schema name is not supported", http_status: 200 },
            format!(
                "The command attempted to create a {schema_type} with a name that is not supported.\n\nThe supported {schema_type} names must not be empty, more than 48 characters long, or contain non-alphanumeric-underscore characters.\nThe command used the unsupported {schema_type} name: '{name}'.\n\nResend the command using a supported {schema_type} name."
            ),
        )
    }

    // ---- REQUEST / FILTER, SORT, PROJECTION ----

    pub fn filter_invalid_expression(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_INVALID_EXPRESSION", title: "Unsupported filter clause", http_status: 200 },
            format!(
                "Unsupported filter clause: {problem}.\n\nResend the command using only supported filter expressions and paths."
            ),
        )
    }

    pub fn filter_fields_limit_violation(count: usize, max: usize) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_FIELDS_LIMIT_VIOLATION", title: "Filter fields size limitation violated", http_status: 200 },
            format!("Filter has {count} fields, exceeds maximum allowed ({max}).\n\nResend the command with filter that does not exceed maximum field count."),
        )
    }

    pub fn filter_id_not_indexed(operator: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_ID_NOT_INDEXED", title: "Collection field '_id' not indexed can only filter with '$eq' or '$in'", http_status: 200 },
            format!("Collection field '_id' is never indexed so filtering can only be done using operators '$eq' or '$in', not '{operator}'.\n\nResend the command with proper filter."),
        )
    }

    pub fn filter_multiple_id_filter() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_MULTIPLE_ID_FILTER", title: "Can only have one '_id' equals filter clause", http_status: 200 },
            "Command included more than one '_id' equals filter clauses, which is not supported: use '$in' operator instead.\n\nResend the command using supported filters.".to_owned(),
        )
    }

    pub fn filter_path_unindexed(path: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_PATH_UNINDEXED", title: "Collection path used in filter clause not indexed", http_status: 200 },
            format!("Collection path '{path}' is not indexed: cannot filter on that path.\n\nResend the command with filter clause without such paths."),
        )
    }

    pub fn filter_unsupported_data_type(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_UNSUPPORTED_DATA_TYPE", title: "Unsupported filter data type", http_status: 200 },
            format!("Unsupported filter data type: {problem}.\n\nResend the command using supported filter data types."),
        )
    }

    pub fn filter_unsupported_operator(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "FILTER", code: "FILTER_UNSUPPORTED_OPERATOR", title: "Unsupported filter operator", http_status: 200 },
            format!("Unsupported {problem}.\n\nResend the command using only supported operators."),
        )
    }

    pub fn sort_clause_invalid(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SORT", code: "SORT_CLAUSE_INVALID", title: "Sort clause used by command not valid", http_status: 200 },
            format!(
                "Sort clause used by command not valid.\nProblem: {problem}.\n\nResend the command with a valid sort clause."
            ),
        )
    }

    pub fn unsupported_projection_param(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "PROJECTION", code: "UNSUPPORTED_PROJECTION_PARAM", title: "Unsupported projection parameter", http_status: 200 },
            format!(
                "Unsupported projection parameter: {problem}.\n\nResend the command with valid projection definition."
            ),
        )
    }

    pub fn overloaded_sort_row_limit(max: usize) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SORT", code: "OVERLOADED_SORT_ROW_LIMIT", title: "Sort aborted due to in-memory sort restriction", http_status: 200 },
            format!(
                "The command used in-memory sorting which has a limit of {max} documents. \n\nConsult any warnings included in the response for how to improve the sort performance.\n\nResend the command using a more specific filter to reduce the number of documents sorted."
            ),
        )
    }

    pub fn sort_clause_path_invalid(path: &str, problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SORT", code: "SORT_CLAUSE_PATH_INVALID", title: "Path used in sort clause not valid", http_status: 200 },
            format!("Path '{path}' used in sort clause not valid: {problem}.\n\nResend the command with valid sort clause."),
        )
    }

    pub fn sort_clause_path_unindexed(path: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SORT", code: "SORT_CLAUSE_PATH_UNINDEXED", title: "Collection field used in sort clause not indexed", http_status: 200 },
            format!("Collection field '{path}' is not indexed: cannot sort using it. \n\nResend the command with sort on an indexed field."),
        )
    }

    pub fn sort_clause_value_invalid(path: &str, problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SORT", code: "SORT_CLAUSE_VALUE_INVALID", title: "Value used for sort expression not valid", http_status: 200 },
            format!("Value used for sort expression on path '{path}' not valid: {problem}.\n\nResend the command with valid sort expression value."),
        )
    }

    pub fn unsupported_projection_definition(json_type: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "PROJECTION", code: "UNSUPPORTED_PROJECTION_DEFINITION", title: "Unsupported projection definition", http_status: 200 },
            format!("Unsupported projection definition JSON value: must be Object, was {json_type}.\n\nResend the command with valid projection definition."),
        )
    }

    // ---- REQUEST / UPDATE ----

    /// The `UNSUPPORTED_UPDATE_*` errors that carry one message.
    pub fn unsupported_update(problem: UpdateProblem, message: &str) -> ApiError {
        let (kind, lead): (&'static ErrorKind, &str) = match problem {
            UpdateProblem::DataType => (&UPDATE_DATA_TYPE, "Unsupported update data type"),
            UpdateProblem::Operation => (&UPDATE_OPERATION, "Unsupported update operation"),
            UpdateProblem::Modifier => (&UPDATE_MODIFIER, "Unsupported update operation modifier"),
            UpdateProblem::Param => (&UPDATE_PARAM, "Unsupported update operation parameter"),
            UpdateProblem::Path => (&UPDATE_PATH, "Unsupported update operation path"),
            UpdateProblem::Target => (&UPDATE_TARGET, "Unsupported target JSON value for update operation"),
        };
        ApiError::new(kind, format!("{lead}: {message}."))
    }

    /// `$vector`, `$vectorize`, `$lexical` or `_id` updated with an operator that may not touch it.
    pub fn unsupported_update_operator_for(field: &str, operator: &str) -> ApiError {
        let (kind, body): (&'static ErrorKind, &str) = match field {
            "_id" => (&FOR_DOC_ID, "_id field cannot be updated using update operators.\n\nResend the command without trying to update _id field."),
            "$vector" => (&FOR_VECTOR, "Supported operators for $vector field are: $set, $setOnInsert, $unset.\n\nResend the command using only supported update operators."),
            "$vectorize" => (&FOR_VECTORIZE, "Supported operators for $vectorize field are: $set, $setOnInsert, $unset.\n\nResend the command using only supported update operators."),
            _ => (&FOR_LEXICAL, "Supported operators for $lexical field are: $set, $setOnInsert, $unset.\n\nResend the command using only supported update operators."),
        };
        ApiError::new(kind, format!("The command used the update operator: {operator}.\n{body}"))
    }

    // ---- SERVER: concurrency ----

    /// A write kept losing its conditional update to concurrent writers.
    pub fn failed_concurrent_operations(keyspace: &str, collection: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: SERVER, scope: "DATABASE", code: "FAILED_CONCURRENT_OPERATIONS", title: "Failed to complete concurrent operations on the database", http_status: 200 },
            format!(
                "The Data API command was unable to complete an operation on a document or row due to concurrent modifications from other requests.\n\nThis should be a rare error, it occurs when multiple requests attempt to modify the same document or row at the same time. The Data API has retried the operation multiple times, but was unable to complete it before another request modified the same document or row. This may indicate a \"hot row\" in your database, or low resources slowing down the database.\n\nNOTE: If the request updated multiple documents or rows, some of the updates may have completed successfully. Check the response for partial success information.\n\nThe command used the keyspace and table or collection: {keyspace}.{collection}.\n\nIt is safe to retry this request."
            ),
        )
    }

    // ---- vectors (REQUEST / DOCUMENT and SCHEMA, SERVER / DATABASE) ----

    pub fn shred_bad_vector_size() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_VECTOR_SIZE", title: "Bad $vector value", http_status: 200 },
            "Bad $vector value: cannot be empty Array.".to_owned(),
        )
    }

    pub fn shred_bad_vector_value(node_type: &str, node_value: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_VECTOR_VALUE", title: "Bad $vector value", http_status: 200 },
            format!("Bad $vector value: needs to be an array containing only Numbers but has a {node_type} value ({node_value})."),
        )
    }

    pub fn shred_bad_document_vector_type(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_DOCUMENT_VECTOR_TYPE", title: "Bad $vector value to shred", http_status: 200 },
            format!("Bad $vector value to shred: {problem}."),
        )
    }

    pub fn shred_bad_binary_vector_value(problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "SHRED_BAD_BINARY_VECTOR_VALUE", title: "Bad binary vector value to shred", http_status: 200 },
            format!("Bad binary vector value to shred: {problem}."),
        )
    }

    /// A `$vector` (written or sorted by) of another length than the collection's `dimension`.
    pub fn invalid_vector_length(keyspace: &str, collection: &str, dimension: usize) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "DOCUMENT", code: "INVALID_VECTOR_LENGTH", title: "Vector values in documents are not valid", http_status: 200 },
            format!(
                "The command attempted to update or find using `$vector`, using a vector that has a length different to the declared '$vector' dimension for the Collection.\n\nThe collection was: {keyspace}.{collection}.\nThe configured vector dimension is: {dimension}.\n\nResend the command using a vector of the correct length."
            ),
        )
    }

    pub fn vector_search_not_supported(keyspace: &str, collection: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "VECTOR_SEARCH_NOT_SUPPORTED", title: "Vector search not enabled for collection", http_status: 200 },
            format!("Vector search is not enabled for collection: {keyspace}.{collection}."),
        )
    }

    pub fn vector_search_too_big_value(length: i64, max: usize) -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "VECTOR_SEARCH_TOO_BIG_VALUE", title: "Vector embedding property too big", http_status: 200 },
            format!("Vector embedding property '$vector' length too big: {length} (max {max})."),
        )
    }

    pub fn vectorize_feature_not_available() -> ApiError {
        ApiError::new(
            &ErrorKind { family: REQUEST, scope: "SCHEMA", code: "VECTORIZE_FEATURE_NOT_AVAILABLE", title: "Vectorize feature not available", http_status: 200 },
            "Vectorize feature is not available in the environment.".to_owned(),
        )
    }

    /// The database refused a vector (non-finite, out of bounds, zero for cosine). astra-local
    /// runs no CQL, so the query and values are not shown.
    pub fn invalid_database_query(keyspace: &str, collection: &str, problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: SERVER, scope: "DATABASE", code: "INVALID_DATABASE_QUERY", title: "Invalid database query", http_status: 200 },
            format!(
                "The Data API command generated a database query that while syntactically correct, was rejected as invalid by the database.  \n\nThe Data API should have generated a valid query, or returned an error before sending the query to the database. \n\nThe command used the keyspace and table or collection: {keyspace}.{collection}.\nThe command generated the CQL query: (not available: astra-local runs no CQL).\nThe command generated the CQL values: (not available).\nThe database error: {problem}.\n\nRetrying the command will likely result in the same error."
            ),
        )
    }

    // ---- SERVER ----

    /// An internal failure (storage). The detail is logged by the caller, not sent.
    pub fn unexpected_server_error(error_class: &str, problem: &str) -> ApiError {
        ApiError::new(
            &ErrorKind { family: SERVER, scope: "", code: "UNEXPECTED_SERVER_ERROR", title: "Unexpected server error", http_status: 200 },
            format!(
                "An unexpected server error occurred while processing the request. \n\nError Class: {error_class}\nError Message: {problem}\n\nReview the Error Message before retrying this request."
            ),
        )
    }
}
