//! The sign-in page: where a browser without a session lands when the server asks for its
//! access token, and the sign-out button of the header.

use crate::{
    auth::{access_required, signed_in, SignIn, SignOut},
    components::status::ErrorBox,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let sign_in = ServerAction::<SignIn>::new();
    // Set once the WASM runs: until then the form is posted as a plain form.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    // Signed in: load the page the user wanted in full, so it renders and connects with
    // the new cookie.
    Effect::new(move |_| {
        if let Some(Ok(destination)) = sign_in.value().get() {
            let _ = window().location().set_href(&destination);
        }
    });
    // A browser that followed a link from another site arrives without its SameSite=Strict
    // cookie; this same-site request carries it, and a valid session goes straight on.
    Effect::new(move |_| {
        let next = next();
        leptos::task::spawn_local(async move {
            if let Ok(true) = signed_in().await {
                let _ = window().location().replace(&next);
            }
        });
    });

    view! {
        <Title text="Sign in · docshift"/>
        <h1>"Sign in"</h1>
        <p>
            "This docshift server is reachable from other machines, so it asks for its access token: "
            "the one it was started with (" <code>"--access-token"</code> " or " <code>"DOCSHIFT_ACCESS_TOKEN"</code>
            "), or the one it printed when it started."
        </p>
        <ActionForm action=sign_in attr:class="form" attr:data-testid="sign-in"
            attr:data-hydrated=move || hydrated.get().to_string()>
            <input type="hidden" name="next" value=next/>
            <label>"Access token"
                <input type="password" name="token" required autocomplete="current-password" spellcheck="false"
                    data-testid="access-token"/>
            </label>
            <button type="submit" disabled=move || sign_in.pending().get()>
                {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
            </button>
        </ActionForm>
        {move || match sign_in.value().get() {
            Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
            _ => ().into_any(),
        }}
    }
}

/// "Sign out" in the header, shown only when the server asks for a token.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let required = LocalResource::new(access_required);
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            let _ = window().location().set_href(crate::auth::SIGN_IN_PATH);
        }
    });
    move || {
        matches!(required.get(), Some(Ok(true))).then(|| {
            view! {
                <ActionForm action=sign_out attr:class="sign-out">
                    <button type="submit" data-testid="sign-out">"Sign out"</button>
                </ActionForm>
            }
        })
    }
}
