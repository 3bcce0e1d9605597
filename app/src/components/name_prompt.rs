//! Who is acting: everyone watching sees "Paused by Ada", so the first time someone without
//! a name starts, pauses, resumes, cancels or deletes something, docshift offers to set one
//! before doing it. Asked once per browser; "Continue without a name" acts as "someone".

use crate::live::{use_live_state, who};
use leptos::prelude::*;

/// Whether this browser was already offered to set a name (kept in local storage).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const ASKED_KEY: &str = "docshift-name-asked";

/// The action waiting for the name, if any; provided once by the app.
#[derive(Clone, Copy)]
pub struct NamePrompt {
    pending: RwSignal<Option<Callback<()>>>,
}

impl NamePrompt {
    /// Runs `action` now, or after the offer to set a name when this browser has none and
    /// has not been asked yet.
    pub fn act(&self, action: impl Fn() + Send + Sync + 'static) {
        if who().trim().is_empty() && !asked() {
            self.pending.set(Some(Callback::new(move |_| action())));
        } else {
            action();
        }
    }
}

/// Makes the prompt available to every page; the app calls it once, above them.
pub fn provide_name_prompt() {
    provide_context(NamePrompt { pending: RwSignal::new(None) });
}

/// The prompt of the app, for the components that act.
pub fn use_name_prompt() -> NamePrompt {
    use_context::<NamePrompt>().unwrap_or(NamePrompt { pending: RwSignal::new(None) })
}

fn asked() -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().local_storage().ok().flatten().and_then(|s| s.get_item(ASKED_KEY).ok().flatten()).is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        true
    }
}

fn remember_asked() {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(ASKED_KEY, "1");
    }
}

/// The offer itself, shown over the bottom of the page while an action waits for it.
#[component]
pub fn NamePromptPanel() -> impl IntoView {
    let prompt = use_name_prompt();
    let live = use_live_state();
    let name = RwSignal::new(String::new());
    let finish = move |save: bool| {
        if save && !name.get_untracked().trim().is_empty() {
            let chosen = name.get_untracked().trim().to_owned();
            live.set_who(chosen);
        }
        remember_asked();
        if let Some(action) = prompt.pending.get_untracked() {
            prompt.pending.set(None);
            action.run(());
        }
    };
    view! {
        <Show when=move || prompt.pending.get().is_some()>
            <form class="name-prompt" role="dialog" aria-labelledby="name-prompt-title" data-testid="name-prompt"
                on:submit=move |ev| { ev.prevent_default(); finish(true); }>
                <p id="name-prompt-title"><strong>"Who is this?"</strong>
                    " Everyone watching sees who starts, pauses, resumes or cancels a job."</p>
                <label>"Your name"
                    <input type="text" autocomplete="nickname" maxlength="40" data-testid="name-input" autofocus
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <div class="actions">
                    <button type="submit" data-testid="name-save">"Save and continue"</button>
                    <button type="button" class="secondary" data-testid="name-skip" on:click=move |_| finish(false)>
                        "Continue without a name"
                    </button>
                </div>
            </form>
        </Show>
    }
}
