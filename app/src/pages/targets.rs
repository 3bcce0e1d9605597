//! The Targets page: the local sandbox and the Astra databases added here, each one tested,
//! changed or removed in place. Tokens are kept on the server and never shown again; an
//! endpoint reached over plain `http://` on another machine is flagged.

use crate::{
    components::status::{Empty, ErrorBox, Loading},
    targets::{list_targets, plain_http_warning, AddTarget, EditTarget, RemoveTarget, TestTarget},
    views::{TargetEdit, TargetView},
};
use engine::wire::TargetKind;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn TargetsPage() -> impl IntoView {
    let add = ServerAction::<AddTarget>::new();
    let edit = ServerAction::<EditTarget>::new();
    let remove = ServerAction::<RemoveTarget>::new();
    let test = ServerAction::<TestTarget>::new();
    let targets = Resource::new(move || (add.version().get(), edit.version().get(), remove.version().get()), |_| list_targets());
    let endpoint = RwSignal::new(String::new());

    view! {
        <Title text="Targets · docshift"/>
        <h1>"Targets"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match targets.await {
                    Ok(list) if list.is_empty() => view! { <Empty text="No target yet: add an Astra database below.".to_owned()/> }.into_any(),
                    Ok(list) => view! {
                        <ul class="cards" data-testid="targets">
                            {list.into_iter().map(|target| view! { <TargetCard target test edit remove/> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
        {move || match test.value().get() {
            Some(Ok(message)) => view! { <p class="ok" data-testid="test-result" role="status">{message}</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
        {move || [edit.value().get().and_then(Result::err), remove.value().get().and_then(Result::err)].into_iter().flatten().next().map(|error| view! { <ErrorBox error/> })}

        <h2>"Add an Astra database"</h2>
        <ActionForm action=add attr:class="form" attr:data-testid="add-target">
            <label>"Name" <input type="text" name="name" placeholder="production"/></label>
            <label>"API"
                <select name="kind">
                    <option value=TargetKind::DataApi.as_str() selected>"Data API (current Astra databases)"</option>
                    <option value=TargetKind::DocumentApi.as_str()>"Document API v2 (deprecated)"</option>
                </select>
            </label>
            <label>"API endpoint"
                <input type="text" name="endpoint" required placeholder="https://<db-id>-<region>.apps.astra.datastax.com" spellcheck="false"
                    on:input=move |ev| endpoint.set(event_target_value(&ev))/>
            </label>
            {move || plain_http_warning(&endpoint.get()).map(|warning| view! { <p class="notice" data-testid="http-warning">{warning}</p> })}
            <label>"Keyspace" <input type="text" name="keyspace" required value="default_keyspace" spellcheck="false"/></label>
            <label>"Application token" <input type="password" name="token" required placeholder="AstraCS:…" autocomplete="off"/></label>
            <button type="submit" disabled=move || add.pending().get()>
                {move || if add.pending().get() { "Checking…" } else { "Add target" }}
            </button>
        </ActionForm>
        {move || match add.value().get() {
            Some(Ok(target)) => view! { <p class="ok" role="status">"Added " {target.name} "."</p> }.into_any(),
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            None => ().into_any(),
        }}
    }
}

/// What a target card is doing: showing, being changed, or asking before its removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Show,
    Edit,
    ConfirmRemove,
}

#[component]
fn TargetCard(target: TargetView, test: ServerAction<TestTarget>, edit: ServerAction<EditTarget>, remove: ServerAction<RemoveTarget>) -> impl IntoView {
    let mode = RwSignal::new(Mode::Show);
    let target = StoredValue::new(target);
    let (name, endpoint, keyspace, token) =
        (RwSignal::new(target.get_value().name), RwSignal::new(target.get_value().endpoint), RwSignal::new(target.get_value().keyspace), RwSignal::new(String::new()));
    let id = move || target.get_value().id;
    let warning = plain_http_warning(&target.get_value().endpoint);
    view! {
        <li data-target=id()>
            <div class="card-line">
                <strong>{target.get_value().name}</strong>
                <span class="tag">{target.get_value().kind.label()}</span>
                {target.get_value().is_sandbox.then(|| view! { <span class="tag">"sandbox"</span> })}
            </div>
            <code class="uri wrap">{target.get_value().endpoint} " · " {target.get_value().keyspace}</code>
            {warning.map(|w| view! { <p class="notice" data-testid="http-warning">{w}</p> })}
            <Show when=move || mode.get() == Mode::Show>
                <div class="actions">
                    <button class="secondary" data-testid="test-target" disabled=move || test.pending().get()
                        on:click=move |_| { test.dispatch(TestTarget { id: id() }); }>"Test connection"</button>
                    {(!target.get_value().is_sandbox).then(|| view! {
                        <button class="secondary" data-testid="edit-target" on:click=move |_| mode.set(Mode::Edit)>"Edit"</button>
                        <button class="danger" data-testid="remove-target" on:click=move |_| mode.set(Mode::ConfirmRemove)>"Remove…"</button>
                    })}
                </div>
            </Show>
            <Show when=move || mode.get() == Mode::ConfirmRemove>
                <div class="confirm" role="alertdialog" data-testid="remove-confirmation">
                    <p><strong>"Remove this target?"</strong>
                        " docshift forgets its endpoint and token. Its collections and documents stay in Astra, and jobs that wrote to it keep their records."</p>
                    <div class="actions">
                        <button class="danger" data-testid="confirm-remove"
                            on:click=move |_| { remove.dispatch(RemoveTarget { id: id() }); mode.set(Mode::Show); }>"Yes, remove it"</button>
                        <button class="secondary" on:click=move |_| mode.set(Mode::Show)>"No, keep it"</button>
                    </div>
                </div>
            </Show>
            <Show when=move || mode.get() == Mode::Edit>
                <form class="form" data-testid="edit-target-form" on:submit=move |ev| {
                    ev.prevent_default();
                    let change = TargetEdit { id: id(), name: name.get_untracked(), endpoint: endpoint.get_untracked(), keyspace: keyspace.get_untracked(), token: token.get_untracked() };
                    edit.dispatch(EditTarget { edit: change });
                }>
                    <label>"Name" <input type="text" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
                    <label>"API endpoint"
                        <input type="text" required spellcheck="false" prop:value=move || endpoint.get() on:input=move |ev| endpoint.set(event_target_value(&ev))/>
                    </label>
                    {move || plain_http_warning(&endpoint.get()).map(|w| view! { <p class="notice">{w}</p> })}
                    <label>"Keyspace"
                        <input type="text" required spellcheck="false" prop:value=move || keyspace.get() on:input=move |ev| keyspace.set(event_target_value(&ev))/>
                    </label>
                    <label>"Application token (leave empty to keep the current one)"
                        <input type="password" autocomplete="off" placeholder="AstraCS:…" prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                    </label>
                    <div class="actions">
                        <button type="submit" disabled=move || edit.pending().get()>{move || if edit.pending().get() { "Checking…" } else { "Save" }}</button>
                        <button type="button" class="secondary" on:click=move |_| mode.set(Mode::Show)>"Cancel"</button>
                    </div>
                </form>
            </Show>
        </li>
    }
}
