//! The landing page: what docshift does and where to start.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="docshift — move MongoDB collections into Astra DB"/>
        <section class="hero">
            <h1>"Move MongoDB collections into Astra DB"</h1>
            <p>
                "docshift copies every document of a MongoDB collection into DataStax Astra DB, "
                "keeps each one's _id, converts every BSON type faithfully, and accounts for every "
                "document: written, already there, or set aside with the reason."
            </p>
            <A href="/sources" attr:class="button">"Browse sources"</A>
        </section>
    }
}
