//! The Stargate Document API v2 that the original migrator wrote to (deprecated on Astra but
//! still a target): `PUT`/`GET` of one document by id and the batch write, authenticated with
//! `X-Cassandra-Token`, documents nested at most 64 deep. Errors use the v2 shape
//! `{"description": ..., "code": ...}`.

// Early returns carry the finished `Response`, as axum handlers do.
#![allow(clippy::result_large_err)]

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use crate::data_api::{is_json_content, json_response, read_body, MAX_BODY_BYTES};
use crate::json::{self, Node};
use crate::AppState;

/// Deepest nesting the Document API accepts.
pub const MAX_DEPTH: usize = 64;

/// Characters the Document API refuses in field names.
const FORBIDDEN_KEY_CHARS: [char; 6] = ['[', ']', ',', '.', '\'', '*'];

fn error(status: StatusCode, description: &str) -> Response {
    let body = serde_json::json!({ "description": description, "code": status.as_u16() });
    json_response(status, body.to_string())
}

fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    match headers.get("x-cassandra-token") {
        None => Err(error(StatusCode::UNAUTHORIZED, "Role unauthorized for operation: Missing token.")),
        Some(token) if state.token_matches(token.as_bytes()) => Ok(()),
        Some(_) => Err(error(StatusCode::UNAUTHORIZED, "Role unauthorized for operation: Invalid token.")),
    }
}

fn check_namespace(state: &AppState, namespace: &str) -> Result<(), Response> {
    if state.options().keyspaces.iter().any(|k| k == namespace) {
        Ok(())
    } else {
        Err(error(StatusCode::NOT_FOUND, &format!("Unknown namespace {namespace}, you must create it first.")))
    }
}

/// Depth and field-name checks of the Document API.
fn check_document(node: &Node<'_>, depth: usize) -> Result<(), String> {
    if matches!(node, Node::Object(_) | Node::Array(_)) && depth > MAX_DEPTH {
        return Err(format!("Max depth of {MAX_DEPTH} exceeded."));
    }
    match node {
        Node::Object(entries) => {
            for (key, value) in entries {
                if key.value.contains(FORBIDDEN_KEY_CHARS) {
                    return Err(format!(
                        "The characters [`[`, `]`, `,`, `.`, `'`, `*`] are not permitted in JSON field names, invalid field {}.",
                        key.value
                    ));
                }
                check_document(value, depth + 1)?;
            }
            Ok(())
        }
        Node::Array(items) => items.iter().try_for_each(|item| check_document(item, depth + 1)),
        _ => Ok(()),
    }
}

/// Token, content type, body; returns the body text.
async fn read_request(state: &AppState, headers: &HeaderMap, namespace: &str, body: Body) -> Result<String, Response> {
    check_token(state, headers)?;
    if !is_json_content(headers) {
        return Err(error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type: application/json expected."));
    }
    check_namespace(state, namespace)?;
    let bytes = read_body(body, MAX_BODY_BYTES).await?;
    String::from_utf8(bytes.to_vec()).map_err(|_| error(StatusCode::BAD_REQUEST, "Malformed JSON object found during read."))
}

fn parse_document<'t>(text: &'t str) -> Result<Node<'t>, Response> {
    let node = json::parse(text, usize::MAX)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("Malformed JSON object found during read: {e}")))?;
    check_document(&node, 1).map_err(|problem| error(StatusCode::BAD_REQUEST, &problem))?;
    Ok(node)
}

/// `PUT /api/rest/v2/namespaces/{ns}/collections/{coll}/{docId}`: creates or replaces.
pub async fn put_document(
    State(state): State<AppState>,
    Path((namespace, collection, document_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let text = match read_request(&state, &headers, &namespace, body).await {
        Ok(text) => text,
        Err(response) => return response,
    };
    let node = match parse_document(&text) {
        Ok(node) => node,
        Err(response) => return response,
    };
    if !matches!(node, Node::Object(_) | Node::Array(_)) {
        return error(StatusCode::BAD_REQUEST, "A document must be a JSON object or array.");
    }
    let compact = node.to_json();
    match state.store().rest_put(&namespace, &collection, vec![(document_id.clone(), compact)]).await {
        Ok(()) => json_response(StatusCode::OK, serde_json::json!({ "documentId": document_id }).to_string()),
        Err(e) => {
            tracing::error!(error = %e, "storage failure");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Server error: storage failure.")
        }
    }
}

/// `GET /api/rest/v2/namespaces/{ns}/collections/{coll}/{docId}`: `{documentId, data}`.
pub async fn get_document(
    State(state): State<AppState>,
    Path((namespace, collection, document_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = check_token(&state, &headers) {
        return response;
    }
    if let Err(response) = check_namespace(&state, &namespace) {
        return response;
    }
    match state.store().rest_get(&namespace, &collection, &document_id).await {
        Ok(Some(body)) => {
            let mut out = String::from("{\"documentId\":");
            json::write_string(&document_id, &mut out);
            out.push_str(",\"data\":");
            out.push_str(&body);
            out.push('}');
            json_response(StatusCode::OK, out)
        }
        Ok(None) => error(StatusCode::NOT_FOUND, &format!("A document with the id {document_id} does not exist.")),
        Err(e) => {
            tracing::error!(error = %e, "storage failure");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Server error: storage failure.")
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct BatchQuery {
    #[serde(rename = "id-path")]
    id_path: Option<String>,
}

/// `POST /api/rest/v2/namespaces/{ns}/collections/{coll}/batch?id-path=...`: writes an array of
/// documents, each id read at `id-path` (random when absent); 202 `{documentIds}`.
pub async fn batch(
    State(state): State<AppState>,
    Path((namespace, collection)): Path<(String, String)>,
    Query(query): Query<BatchQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let text = match read_request(&state, &headers, &namespace, body).await {
        Ok(text) => text,
        Err(response) => return response,
    };
    let node = match parse_document(&text) {
        Ok(node) => node,
        Err(response) => return response,
    };
    let Node::Array(documents) = &node else {
        return error(StatusCode::BAD_REQUEST, "Batch write requires a JSON array of documents.");
    };
    let mut rows = Vec::with_capacity(documents.len());
    for document in documents {
        let id = match &query.id_path {
            None => uuid::Uuid::new_v4().to_string(),
            Some(path) => match document.get_segments(&path.split('.').collect::<Vec<_>>()) {
                Some(Node::String(s)) => s.value.to_string(),
                found => {
                    let found = found.map_or_else(|| "null".to_owned(), Node::to_json);
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "JSON document {} requires a String value at the path {path}, found {found}. Batch write failed.",
                            document.to_json()
                        ),
                    );
                }
            },
        };
        rows.push((id, document.to_json()));
    }
    let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    match state.store().rest_put(&namespace, &collection, rows).await {
        Ok(()) => json_response(StatusCode::ACCEPTED, serde_json::json!({ "documentIds": ids }).to_string()),
        Err(e) => {
            tracing::error!(error = %e, "storage failure");
            error(StatusCode::INTERNAL_SERVER_ERROR, "Server error: storage failure.")
        }
    }
}
