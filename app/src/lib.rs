//! The docshift web app: pages, components and the server functions behind them.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the browser's WASM.
//!
//! - `pages/`, `components/`, `live` (the websocket client): what the browser runs;
//! - `sources`, `targets`, `jobs`, `auth`: the server functions, one module per resource;
//! - `views`: what those functions send and receive, the only types the browser sees;
//! - `state` (server only): the registries and jobs behind the server functions, reached
//!   through the one accessor `state::state()`;
//! - `error`: the error every server function returns.
//!
//! Imports run one way: pages → server functions → {views, state} → error.

pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod endpoints;
pub mod error;
pub mod jobs;
pub mod live;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod private_file;
pub mod sources;
#[cfg(feature = "ssr")]
pub mod state;
pub mod targets;
pub mod views;

use components::{
    name_prompt::{provide_name_prompt, NamePromptPanel},
    presence::PresenceBadge,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: a header with navigation and presence, one route per page, and the offer to
/// set a name the first time someone acts. The job page renders after its data (`Async`),
/// so that an unknown job can answer 404.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::provide_live_state();
    provide_name_prompt();

    view! {
        <Stylesheet id="leptos" href="/pkg/docshift.css"/>
        <Title text="docshift"/>
        <Router>
            <a class="skip" href="#content">"Skip to the page"</a>
            <header class="topbar">
                <A href="/" attr:class="brand">"docshift"</A>
                <nav aria-label="Main">
                    <A href="/sources">"Sources"</A>
                    <A href="/targets">"Targets"</A>
                    <A href="/migrate">"New migration"</A>
                    <A href="/jobs">"Jobs"</A>
                </nav>
                <div class="who-and-presence">
                    <components::presence::NameField/>
                    <PresenceBadge/>
                    <pages::sign_in::SignOutButton/>
                </div>
            </header>
            <main id="content">
                <Routes fallback=pages::not_found::NotFoundPage>
                    <Route path=path!("/") view=pages::home::HomePage/>
                    <Route path=path!("/sign-in") view=pages::sign_in::SignInPage/>
                    <Route path=path!("/sources") view=pages::sources::SourcesPage/>
                    <Route path=path!("/sources/:source") view=pages::source::SourcePage/>
                    <Route path=path!("/sources/:source/:database") view=pages::database::DatabasePage/>
                    <Route path=path!("/sources/:source/:database/:collection") view=pages::collection::CollectionPage/>
                    <Route path=path!("/targets") view=pages::targets::TargetsPage/>
                    <Route path=path!("/migrate") view=pages::migrate::MigratePage/>
                    <Route path=path!("/jobs") view=pages::jobs::JobsPage/>
                    <Route path=path!("/jobs/:id") view=pages::job::JobPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <NamePromptPanel/>
        </Router>
    }
}
