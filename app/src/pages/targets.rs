//! The Targets page: the local sandbox and the Astra databases added here. Tokens are
//! kept on the server and never shown again.

use crate::{
    components::status::{ErrorBox, Loading},
    targets::{list_targets, AddTarget, TestTarget},
};
use engine::wire::TargetKind;
use leptos::prelude::*;

#[component]
pub fn TargetsPage() -> impl IntoView {
    let add = ServerAction::<AddTarget>::new();
    let test = ServerAction::<TestTarget>::new();
    let targets = Resource::new(move || add.version().get(), |_| list_targets());

    view! {
        <h1>"Targets"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match targets.await {
                    Ok(list) if list.is_empty() => view! { <p>"No target yet: add an Astra database below."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="cards" data-testid="targets">
                            {list.into_iter().map(|t| {
                                let id = t.id.clone();
                                view! {
                                    <li>
                                        <strong>{t.name.clone()}</strong>
                                        <code class="uri">{t.endpoint.clone()} " · " {t.keyspace.clone()}</code>
                                        <span class="tag">{t.kind.label()}</span>
                                        {t.is_sandbox.then(|| view! { <span class="tag">"sandbox"</span> })}
                                        <button class="secondary" on:click=move |_| { test.dispatch(TestTarget { id: id.clone() }); }>"Test connection"</button>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
        {move || match test.value().get() {
            Some(Ok(message)) => view! { <p class="ok" data-testid="test-result">{message}</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}

        <h2>"Add an Astra database"</h2>
        <ActionForm action=add attr:class="form" attr:data-testid="add-target">
            <label>"Name" <input type="text" name="name" placeholder="production"/></label>
            <label>"API"
                <select name="kind">
                    <option value=TargetKind::DataApi.as_str() selected>"Data API (current Astra databases)"</option>
                    <option value=TargetKind::DocumentApi.as_str()>"Document API v2 (deprecated)"</option>
                </select>
            </label>
            <label>"API endpoint" <input type="text" name="endpoint" required placeholder="https://<db-id>-<region>.apps.astra.datastax.com"/></label>
            <label>"Keyspace" <input type="text" name="keyspace" required value="default_keyspace"/></label>
            <label>"Application token" <input type="password" name="token" required placeholder="AstraCS:…" autocomplete="off"/></label>
            <button type="submit" disabled=move || add.pending().get()>
                {move || if add.pending().get() { "Checking…" } else { "Add target" }}
            </button>
        </ActionForm>
        {move || match add.value().get() {
            Some(Ok(target)) => view! { <p class="ok">"Added " {target.name} "."</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
    }
}
