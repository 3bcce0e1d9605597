//! The admin endpoint: `GET /admin/faults` shows and `POST /admin/faults` replaces the injected
//! faults at run time, guarded by the same token as the APIs. Faults never apply here, so a test
//! can always switch them off again.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::data_api::{check_token, json_response, read_body, Reply};
use crate::{AppState, Faults};

const MAX_ADMIN_BODY: usize = 64 * 1024;

fn faults_response(faults: &Faults) -> Response {
    match serde_json::to_string(faults) {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /admin/faults`: the faults now injected.
pub async fn get_faults(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(error) = check_token(&state, &headers) {
        return Reply::error(error).into_response();
    }
    faults_response(&state.current_faults())
}

/// `POST /admin/faults` with a [`Faults`] JSON body: replaces the injected faults.
pub async fn set_faults(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if let Err(error) = check_token(&state, &headers) {
        return Reply::error(error).into_response();
    }
    let bytes = match read_body(body, MAX_ADMIN_BODY).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let faults: Faults = match serde_json::from_slice(&bytes) {
        Ok(faults) => faults,
        Err(error) => {
            let message = serde_json::json!({ "message": format!("invalid faults: {error}") });
            return json_response(StatusCode::BAD_REQUEST, message.to_string());
        }
    };
    if let Err(problem) = faults.validate() {
        let message = serde_json::json!({ "message": format!("invalid faults: {problem}") });
        return json_response(StatusCode::BAD_REQUEST, message.to_string());
    }
    tracing::info!(?faults, "faults replaced");
    state.set_faults(faults.clone());
    faults_response(&faults)
}
