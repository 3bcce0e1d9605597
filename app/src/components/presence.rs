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
