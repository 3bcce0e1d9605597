//! One module per page.

pub mod collection;
pub mod database;
pub mod home;
pub mod job;
pub mod jobs;
pub mod migrate;
pub mod not_found;
pub mod sign_in;
pub mod source;
pub mod sources;
pub mod targets;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// A path parameter of the current route, empty when absent.
pub(crate) fn param(name: &'static str) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}
