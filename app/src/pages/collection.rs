//! A collection's page: its first documents as readable Extended JSON, and its exact
//! count on request.

use super::param;
use crate::{
    components::{
        census::CensusReport,
        status::{thousands, ErrorBox, Loading},
    },
    jobs::RunCensus,
    sources::{first_documents, ExactCount},
};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn CollectionPage() -> impl IntoView {
    let source = param("source");
    let database = param("database");
    let collection = param("collection");
    let documents = Resource::new(
        move || (source(), database(), collection()),
        |(s, d, c)| first_documents(s, d, c),
    );
    let count = ServerAction::<ExactCount>::new();
    let census = ServerAction::<RunCensus>::new();

    view! {
        <nav class="crumbs">
            <A href="/sources">"Sources"</A> " / "
            <A href=move || format!("/sources/{}", source())>{source}</A> " / "
            <A href=move || format!("/sources/{}/{}", source(), database())>{database}</A> " / " {collection}
        </nav>
        <h1>{collection}</h1>
        <div class="count">
            <button
                data-testid="count-button"
                disabled=move || count.pending().get()
                on:click=move |_| {
                    count.dispatch(ExactCount { source: source(), database: database(), collection: collection() });
                }
            >
                {move || if count.pending().get() { "Counting…" } else { "Count documents exactly" }}
            </button>
            {move || match count.value().get() {
                Some(Ok(n)) => view! { <span data-testid="exact-count">{thousands(n)} " documents"</span> }.into_any(),
                Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
                None => ().into_any(),
            }}
        </div>
        <div class="actions">
            <button
                data-testid="census-button"
                class="secondary"
                disabled=move || census.pending().get()
                on:click=move |_| {
                    census.dispatch(RunCensus { source: source(), database: database(), collection: collection() });
                }
            >
                {move || if census.pending().get() { "Checking every document…" } else { "Check compatibility with Astra" }}
            </button>
            <A href=move || format!("/migrate?source={}&database={}&collection={}", source(), database(), collection()) attr:class="button" attr:data-testid="migrate-link">
                "Migrate this collection"
            </A>
        </div>
        {move || match census.value().get() {
            Some(Ok(result)) => view! { <CensusReport census=result/> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match documents.await {
                    Ok(docs) if docs.is_empty() => view! { <p>"This collection is empty."</p> }.into_any(),
                    Ok(docs) => view! {
                        <p class="hint">"The first " {docs.len()} " documents by _id:"</p>
                        <ol class="documents" data-testid="documents">
                            {docs.into_iter().map(|d| view! { <li><pre>{d}</pre></li> }).collect_view()}
                        </ol>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
