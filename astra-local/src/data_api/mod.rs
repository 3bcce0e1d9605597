//! The Data API's HTTP surface: token check (401), content type (415), body limit (413), JSON
//! parsing, and the command envelope `{"<command>": {...}}` (an empty body is
//! `COMMAND_FIELD_VALUE_INVALID` for field `command`, as stargate/data-api's
//! `CollectionResourceIntegrationTest.emptyBody` shows); the commands are dispatched by
//! [`commands`]. Command errors travel with HTTP 200 in an `errors` array, as in Astra.

pub mod collections;
pub mod commands;
pub mod delete;
pub mod documents;
pub mod errors;
pub mod filter;
pub mod find;
pub mod insert;
pub mod locator;
pub mod options;
pub mod path;
pub mod projection;
pub mod sort;
pub mod update;
pub mod update_ops;
pub mod vsearch;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::json::{self, Node, ParseError};
use crate::shred::limits;
use crate::AppState;
use errors::ApiError;

/// Largest request body accepted (the Data API's `max-body-size: 20M`).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// The response of one command: `data`, `status` and `errors`, each left out when empty.
#[derive(Debug, Default)]
pub struct Reply {
    /// Raw JSON of the `data` object.
    pub data: Option<String>,
    /// `status` entries: name and raw JSON value.
    pub status: Vec<(&'static str, String)>,
    pub errors: Vec<ApiError>,
}

impl Reply {
    pub fn error(error: ApiError) -> Reply {
        Reply { errors: vec![error], ..Reply::default() }
    }

    pub fn status(name: &'static str, value: impl Into<String>) -> Reply {
        Reply { status: vec![(name, value.into())], ..Reply::default() }
    }

    pub fn with_status(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.status.push((name, value.into()));
        self
    }

    fn into_body(self) -> (StatusCode, String) {
        let mut out = String::with_capacity(self.data.as_ref().map_or(64, |d| d.len() + 64));
        out.push('{');
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !std::mem::replace(&mut first, false) {
                out.push(',');
            }
        };
        if let Some(data) = &self.data {
            sep(&mut out);
            out.push_str("\"data\":");
            out.push_str(data);
        }
        if !self.status.is_empty() {
            sep(&mut out);
            out.push_str("\"status\":{");
            for (i, (name, value)) in self.status.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::write_string(name, &mut out);
                out.push(':');
                out.push_str(value);
            }
            out.push('}');
        }
        if !self.errors.is_empty() {
            sep(&mut out);
            out.push_str("\"errors\":");
            out.push_str(&serde_json::to_string(&self.errors).unwrap_or_else(|_| "[]".into()));
        }
        out.push('}');
        let status = self
            .errors
            .iter()
            .find(|e| e.kind.http_status != 200)
            .and_then(|e| StatusCode::from_u16(e.kind.http_status).ok())
            .unwrap_or(StatusCode::OK);
        (status, out)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (status, body) = self.into_body();
        json_response(status, body)
    }
}

pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Checks the `Token` header (or the legacy `X-Cassandra-Token`).
pub(crate) fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers.get("token").or_else(|| headers.get("x-cassandra-token"));
    match presented {
        None => Err(ApiError::missing_authentication_token()),
        Some(value) if state.token_matches(value.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::unauthenticated_request()),
    }
}

/// Whether the request's content type is JSON (a missing header is taken as JSON).
pub(crate) fn is_json_content(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(value) => {
            let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        }
    }
}

/// Reads the body up to `limit` bytes; `Err` holds the 413 response.
#[allow(clippy::result_large_err)]
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{{\"message\":\"Request body exceeds the limit of {limit} bytes\",\"code\":413}}"),
        )
    })
}

/// The common front half: token, content type, body, JSON, command envelope.
async fn run(state: AppState, headers: HeaderMap, body: Body, target: Target<'_>) -> Response {
    if let Err(error) = check_token(&state, &headers) {
        return Reply::error(error).into_response();
    }
    if !is_json_content(&headers) {
        return Reply::error(ApiError::unsupported_content_type()).into_response();
    }
    let bytes = match read_body(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Reply::error(ApiError::request_not_json("Invalid UTF-8 in request body")).into_response();
    };
    if text.trim().is_empty() {
        return Reply::error(ApiError::command_field_value_invalid("command", "`null`", "must not be null")).into_response();
    }
    let root = match json::parse(text, limits::MAX_NUMBER_LENGTH) {
        Ok(root) => root,
        Err(error @ ParseError::NumberTooLong { .. }) => {
            return Reply::error(ApiError::shred_doc_limit_violation(&error.to_string())).into_response();
        }
        Err(error) => return Reply::error(ApiError::request_not_json(&error.to_string())).into_response(),
    };
    let (name, command) = match &root {
        Node::Object(entries) if entries.len() == 1 => (entries[0].0.as_str(), &entries[0].1),
        Node::Object(entries) if entries.is_empty() => {
            return Reply::error(ApiError::request_structure_mismatch("Request must contain a command")).into_response();
        }
        Node::Object(_) => {
            return Reply::error(ApiError::request_structure_mismatch("Request must contain exactly one command"))
                .into_response();
        }
        Node::Null => {
            return Reply::error(ApiError::command_field_value_invalid("command", "`null`", "must not be null")).into_response();
        }
        other => {
            return Reply::error(ApiError::request_structure_mismatch(&format!(
                "Request must be a JSON Object, got a JSON {}",
                other.type_name()
            )))
            .into_response();
        }
    };
    commands::execute(&state, target, name, command).await.into_response()
}

/// Where a command is addressed.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Keyspace(&'a str),
    Collection(&'a str, &'a str),
}

/// `POST /api/json/v1/{keyspace}`.
pub async fn keyspace_command(
    State(state): State<AppState>,
    Path(keyspace): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run(state, headers, body, Target::Keyspace(&keyspace)).await
}

/// `POST /api/json/v1/{keyspace}/{collection}`.
pub async fn collection_command(
    State(state): State<AppState>,
    Path((keyspace, collection)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    run(state, headers, body, Target::Collection(&keyspace, &collection)).await
}
