//! "N people watching": how many browsers have docshift open right now.

use crate::live::use_live_state;
use leptos::prelude::*;

#[component]
pub fn PresenceBadge() -> impl IntoView {
    let live = use_live_state();
    view! {
        <span class="presence" data-testid="presence" data-connected=move || live.connected.get().to_string()>
            {move || match live.watching.get() {
                Some(1) => "1 person watching".to_string(),
                Some(n) => format!("{n} people watching"),
                None => "connecting…".to_string(),
            }}
        </span>
    }
}

/// "Acting as": the name shown to everyone when this browser pauses or resumes a job.
#[component]
pub fn NameField() -> impl IntoView {
    let live = use_live_state();
    let name = live.who;
    view! {
        <label class="who">"You are "
            <input type="text" placeholder="your name" size="10" maxlength="40" autocomplete="nickname" prop:value=move || name.get()
                on:change=move |ev| {
                    live.set_who(event_target_value(&ev));
                }/>
        </label>
    }
}
