//! The Sources page: the configured MongoDB servers and a form to add one.

use crate::{
    components::status::{Empty, ErrorBox, Loading},
    sources::{list_sources, AddSource},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn SourcesPage() -> impl IntoView {
    let add = ServerAction::<AddSource>::new();
    let sources = Resource::new(move || add.version().get(), |_| list_sources());

    view! {
        <Title text="Sources · docshift"/>
        <h1>"Sources"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match sources.await {
                    Ok(list) if list.is_empty() => view! { <Empty text="No source yet: add one below."/> }.into_any(),
                    Ok(list) => view! {
                        <ul class="cards" data-testid="sources">
                            {list.into_iter().map(|s| view! {
                                <li>
                                    <A href=format!("/sources/{}", s.id)>{s.name.clone()}</A>
                                    <code class="uri wrap">{s.uri.clone()}</code>
                                    {s.is_default.then(|| view! { <span class="tag">"default"</span> })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>

        <h2>"Add a MongoDB source"</h2>
        <ActionForm action=add attr:class="form" attr:data-testid="add-source">
            <label>"Name" <input type="text" name="name" placeholder="production replica set"/></label>
            <label>"Connection string"
                <input type="text" name="uri" required placeholder="mongodb://user:password@host:27017" autocomplete="off" spellcheck="false"/>
            </label>
            <button type="submit" disabled=move || add.pending().get()>
                {move || if add.pending().get() { "Connecting…" } else { "Add source" }}
            </button>
        </ActionForm>
        {move || match add.value().get() {
            Some(Ok(source)) => view! { <p class="ok" data-testid="added">"Added " {source.name} "."</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
    }
}
