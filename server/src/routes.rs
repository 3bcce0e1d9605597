//! The HTTP surface: the Leptos app and its server functions, the websocket, static files.

use crate::{config::ServeConfig, hub::Hub};
use app::{
    shell,
    state::{AppState, SourceRegistry, TargetRegistry},
    App,
};
use axum::{
    extract::{FromRef, Path, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use engine::job::JobManager;
use crate::security::CspNonce;
use axum::http::request::Parts;
use leptos::{
    config::LeptosOptions,
    nonce::Nonce,
    prelude::{provide_context, use_context},
};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;

/// Everything the router's handlers share.
#[derive(Clone)]
pub struct ServerState {
    pub app: AppState,
    pub hub: Arc<Hub>,
    /// Where the access token came from, for the start-up message.
    pub token_source: crate::auth::TokenSource,
    /// What keeps other sites out (see [`crate::security`]).
    pub guard: Arc<crate::security::Guard>,
}

impl FromRef<ServerState> for LeptosOptions {
    fn from_ref(state: &ServerState) -> Self {
        state.app.leptos_options.clone()
    }
}

impl FromRef<ServerState> for Arc<Hub> {
    fn from_ref(state: &ServerState) -> Self {
        state.hub.clone()
    }
}

impl ServerState {
    /// `sandbox` is the local astra-local's (endpoint, token), when this server runs one.
    pub fn new(config: &ServeConfig, sandbox: Option<(String, String)>) -> Result<Self, String> {
        let leptos_options = LeptosOptions::builder()
            .output_name("docshift")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.listen)
            .build();
        let sources = SourceRegistry::load(config.source_uri.as_deref(), &config.state_dir, config.server_selection_timeout)?;
        let jobs = JobManager::open(&config.state_dir).map_err(|e| e.to_string())?;
        let hub = Arc::new(Hub::new(jobs.clone()));
        let targets = Arc::new(TargetRegistry::load(&config.state_dir, sandbox)?);
        // Jobs started here find their target in the registry each time they run.
        jobs.set_target_directory(targets.clone());
        let (access, token_source) =
            crate::auth::access_for(config.listen, config.access_token.clone(), &config.state_dir, config.served_over_https())?;
        let guard = Arc::new(crate::security::Guard::new(&config.allowed_hosts, config.public_url.as_ref(), app::endpoints::input_content_types()));
        Ok(Self { app: AppState { leptos_options, sources: Arc::new(sources), jobs, targets, access: Arc::new(access) }, hub, token_source, guard })
    }
}

pub fn router(state: ServerState) -> Router {
    let routes = generate_route_list(App);
    let app_state = state.app.clone();
    let options = state.app.leptos_options.clone();
    let access = state.app.access.clone();
    let guard = state.guard.clone();
    // Every page and server function gets the server's state, and the nonce that this
    // request's Content-Security-Policy allows inline scripts with.
    let context = move || {
        app_state.provide_context();
        let nonce = use_context::<Parts>().and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
        if let Some(CspNonce(nonce)) = nonce {
            provide_context(Nonce::from_value(nonce));
        }
    };
    Router::new()
        .route("/ws", get(crate::hub::upgrade))
        .route("/jobs/{id}/dead-letters.jsonl", get(dead_letters))
        .leptos_routes_with_context(&state, routes, context.clone(), move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<ServerState, _>(context, shell))
        .with_state(state)
        // In front of everything, the fallback's static files included: first the checks
        // against other sites, then the session.
        .layer(axum::middleware::from_fn_with_state(access, crate::auth::require_session))
        .layer(axum::middleware::from_fn_with_state(guard, crate::security::guard))
}

/// `GET /jobs/{id}/dead-letters.jsonl`: the job's refused documents, one JSON object a line
/// (collection, id, code, reason, document as canonical Extended JSON).
async fn dead_letters(State(state): State<ServerState>, Path(id): Path<String>) -> Response {
    match state.app.jobs.dead_letters(&id, None) {
        Ok(letters) => {
            let mut body = String::new();
            for letter in letters {
                if let Ok(line) = serde_json::to_string(&letter) {
                    body.push_str(&line);
                    body.push('\n');
                }
            }
            let disposition = format!("attachment; filename=\"docshift-{id}-dead-letters.jsonl\"");
            ([(header::CONTENT_TYPE, "application/x-ndjson".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
        }
        Err(err) => (StatusCode::NOT_FOUND, err.to_string()).into_response(),
    }
}
