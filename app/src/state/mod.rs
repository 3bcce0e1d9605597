//! Server-side state that server functions reach through Leptos context: the registries of
//! sources and targets, the jobs and the access rule, behind the one accessor [`state`].

mod saved;
mod sources;
mod targets;

pub use sources::SourceRegistry;
pub use targets::{collection_state, writer_for, TargetRegistry, COLLECTION_LIMIT};

use crate::{auth::ssr::Access, error::AppError};
use leptos::{config::LeptosOptions, prelude::use_context};
use std::sync::Arc;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone, axum::extract::FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub sources: Arc<SourceRegistry>,
    /// The migration jobs of this server's state directory.
    pub jobs: engine::job::JobManager,
    /// The Astra targets: the sandbox and those added in the UI.
    pub targets: Arc<TargetRegistry>,
    /// Who may use the server: open on loopback, else an access token and sessions.
    pub access: Arc<Access>,
}

impl AppState {
    /// Puts the state in the context of a request's server functions: the whole of it, for
    /// [`state`], and the access rule on its own, for the sign-in functions (`auth`), which
    /// need nothing else.
    pub fn provide_context(&self) {
        leptos::prelude::provide_context(self.clone());
        leptos::prelude::provide_context(self.access.clone());
    }
}

/// The server's state, from the request's context.
pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| AppError::Transport("the server's state is missing from this request".into()))
}
