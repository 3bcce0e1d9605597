//! What a page says for something that does not exist, answered with HTTP 404 when the
//! server renders it.

use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the server's answer to 404 (nothing in the browser).
pub fn respond_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}

/// A heading, the sentence, and what to do instead.
#[component]
pub fn NotFoundView(title: &'static str, message: String, testid: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="not-found" data-testid=testid>
            <h1>{title}</h1>
            <p class="lead">{message}</p>
            {children()}
        </section>
    }
}

/// The router's answer for a path no page has.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    respond_not_found();
    view! {
        <Title text="No such page · docshift"/>
        <NotFoundView title="No such page" message="There is nothing at this address.".to_owned() testid="no-such-page">
            <a class="button" href="/">"Go to the start"</a>
        </NotFoundView>
    }
}
