//! A collection's page: its first documents as readable Extended JSON, its exact count on
//! request, the compatibility census, and (`?id=`) one document by its `_id`, where the
//! census and dead letters link to.

use super::param;
use crate::{
    components::{
        census::{CensusReport, CollectionPath},
        status::{thousands, Empty, ErrorBox, Loading},
    },
    jobs::RunCensus,
    sources::{find_document, first_documents, ExactCount},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

#[component]
pub fn CollectionPage() -> impl IntoView {
    let source = param("source");
    let database = param("database");
    let collection = param("collection");
    let query = use_query_map();
    let wanted_id = move || query.read().get("id").filter(|id| !id.is_empty());
    let documents = Resource::new(
        move || (source(), database(), collection()),
        |(s, d, c)| first_documents(s, d, c),
    );
    let one = Resource::new(
        move || (source(), database(), collection(), wanted_id()),
        |(s, d, c, id)| async move {
            match id {
                Some(id) => find_document(s, d, c, id.clone()).await.map(|doc| Some((id, doc))),
                None => Ok(None),
            }
        },
    );
    let count = ServerAction::<ExactCount>::new();
    let census = ServerAction::<RunCensus>::new();
    let path = move || CollectionPath { source: source(), database: database(), collection: collection() };

    view! {
        <Title text=move || format!("{} · {} · docshift", collection(), database())/>
        <nav class="crumbs">
            <A href="/sources">"Sources"</A> " / "
            <A href=move || format!("/sources/{}", source())>{source}</A> " / "
            <A href=move || format!("/sources/{}/{}", source(), database())>{database}</A> " / " {collection}
        </nav>
        <h1>{collection}</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match one.await {
                    Ok(Some((id, Some(document)))) => view! {
                        <section class="one-document" data-testid="one-document">
                            <h2>"The document with _id " <code class="wrap">{id}</code></h2>
                            <pre class="document">{document}</pre>
                        </section>
                    }.into_any(),
                    Ok(Some((id, None))) => view! { <p class="error" data-testid="one-document">"No document here has the _id " <code>{id}</code> "."</p> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
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
            Some(Ok(result)) => view! { <CensusReport census=result path=path()/> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match documents.await {
                    Ok(docs) if docs.is_empty() => view! { <Empty text="This collection is empty."/> }.into_any(),
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
