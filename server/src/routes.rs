//! The HTTP surface: the Leptos app and its server functions, the websocket, static files.

use crate::{config::ServeConfig, hub::Hub};
use app::{
    shell,
    state::{AppState, SourceRegistry},
    App,
};
use axum::{extract::FromRef, routing::get, Router};
use engine::job::JobManager;
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::sync::Arc;

/// Everything the router's handlers share.
#[derive(Clone)]
pub struct ServerState {
    pub app: AppState,
    pub hub: Arc<Hub>,
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
    pub fn new(config: &ServeConfig) -> Result<Self, String> {
        let leptos_options = LeptosOptions::builder()
            .output_name("docshift")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(config.listen)
            .build();
        let sources = SourceRegistry::load(config.source_uri.as_deref(), &config.state_dir, config.server_selection_timeout)?;
        let jobs = JobManager::open(&config.state_dir).map_err(|e| e.to_string())?;
        let hub = Arc::new(Hub::new(jobs.clone()));
        let access = Arc::new(crate::auth::access_for(config.listen, config.access_token.clone()));
        Ok(Self { app: AppState { leptos_options, sources: Arc::new(sources), jobs, access }, hub })
    }
}

pub fn router(state: ServerState) -> Router {
    let routes = generate_route_list(App);
    let app_state = state.app.clone();
    let options = state.app.leptos_options.clone();
    let access = state.app.access.clone();
    Router::new()
        .route("/ws", get(crate::hub::upgrade))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(app_state.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<ServerState, _>(shell))
        .with_state(state)
        // In front of everything, the fallback's static files included.
        .layer(axum::middleware::from_fn_with_state(access, crate::auth::require_session))
}
