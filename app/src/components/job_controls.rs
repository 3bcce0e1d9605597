//! What can be done with a job, and what each control does in the job's state: Pause and
//! Resume; Cancel, which asks first (in the page: the policy allows no `window.confirm`
//! script); for an ended job, Delete (asks too), "New job with the same settings" for a
//! cancelled or failed one, and the dead letters' download when there are any.

use crate::{
    components::{name_prompt::use_name_prompt, status::ErrorBox},
    jobs::{CancelJob, DeleteJob, PauseJob, ResumeJob},
    live::who,
};
use engine::wire::{JobProgress, JobStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// A step that asks before it acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirming {
    Cancel,
    Delete,
}

#[component]
pub fn JobControls(
    #[prop(into)] job: Signal<JobProgress>,
    /// Where "New job with the same settings" goes, when the job's source and target are still known.
    same_settings: Option<String>,
) -> impl IntoView {
    let prompt = use_name_prompt();
    let pause = ServerAction::<PauseJob>::new();
    let resume = ServerAction::<ResumeJob>::new();
    let cancel = ServerAction::<CancelJob>::new();
    let delete = ServerAction::<DeleteJob>::new();
    let confirming = RwSignal::new(None::<Confirming>);
    let id = move || job.get().id;
    let status = move || job.get().status;
    let dead_lettered = move || job.get().totals().dead_lettered;
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate("/jobs", Default::default());
        }
    });
    // A job that ends while its Cancel is being confirmed has nothing left to cancel.
    Effect::new(move |_| {
        if status().is_final() && confirming.get_untracked() == Some(Confirming::Cancel) {
            confirming.set(None);
        }
    });
    let error = move || {
        [pause.value().get(), resume.value().get(), cancel.value().get(), delete.value().get()].into_iter().flatten().find_map(Result::err)
    };
    let same_settings = StoredValue::new(same_settings);

    view! {
        <div class="actions" data-testid="job-controls">
            <Show when=move || matches!(status(), JobStatus::Running | JobStatus::Verifying | JobStatus::Pending) && confirming.get().is_none()>
                <button data-testid="pause" disabled=move || pause.pending().get()
                    on:click=move |_| prompt.act(move || { pause.dispatch(PauseJob { id: id(), who: who() }); })>"Pause"</button>
            </Show>
            <Show when=move || status() == JobStatus::Paused && confirming.get().is_none()>
                <button data-testid="resume" disabled=move || resume.pending().get()
                    on:click=move |_| prompt.act(move || { resume.dispatch(ResumeJob { id: id(), who: who() }); })>"Resume"</button>
            </Show>
            <Show when=move || !status().is_final() && confirming.get().is_none()>
                <button class="danger" data-testid="cancel" on:click=move |_| confirming.set(Some(Confirming::Cancel))>"Cancel…"</button>
            </Show>
            <Show when=move || status().is_final() && confirming.get().is_none()>
                {move || same_settings.get_value().filter(|_| matches!(status(), JobStatus::Cancelled | JobStatus::Failed)).map(|href| view! {
                    <a class="button" href=href data-testid="same-settings">"New job with the same settings"</a>
                })}
                <button class="danger" data-testid="delete" on:click=move |_| confirming.set(Some(Confirming::Delete))>"Delete job…"</button>
            </Show>
            <Show when=move || (dead_lettered() > 0) && confirming.get().is_none()>
                <a class="button secondary" href=move || format!("/jobs/{}/dead-letters.jsonl", id()) download data-testid="download-dead-letters" rel="external">
                    {move || format!("Download {} dead letters (JSON Lines)", crate::components::status::thousands(dead_lettered()))}
                </a>
            </Show>
        </div>
        <Show when=move || status() == JobStatus::Verifying && confirming.get().is_none()>
            <p class="hint" data-testid="verifying-controls">
                "While verifying, Pause stops reading documents back after the groups in flight and Resume goes on from there; "
                "Cancel ends the job without a verdict. The documents already written stay in the target either way."
            </p>
        </Show>
        {move || (confirming.get() == Some(Confirming::Cancel)).then(|| view! {
            <div class="confirm" role="alertdialog" aria-labelledby="confirm-cancel-text" data-testid="cancel-confirmation">
                <p id="confirm-cancel-text"><strong>"Cancel this job?"</strong>
                    " It stops after the batches in flight and can't be resumed. The documents already written stay in the target, "
                    "unverified; a new job into the same collections would count them as already present."</p>
                <div class="actions">
                    <button class="danger" data-testid="confirm-cancel" disabled=move || cancel.pending().get()
                        on:click=move |_| prompt.act(move || {
                            cancel.dispatch(CancelJob { id: id(), who: who() });
                            confirming.set(None);
                        })>"Yes, cancel the job"</button>
                    <button class="secondary" data-testid="keep-job" on:click=move |_| confirming.set(None)>"No, keep it going"</button>
                </div>
            </div>
        })}
        {move || (confirming.get() == Some(Confirming::Delete)).then(|| view! {
            <div class="confirm" role="alertdialog" aria-labelledby="confirm-delete-text" data-testid="delete-confirmation">
                <p id="confirm-delete-text"><strong>"Delete this job?"</strong>
                    " docshift forgets it: its counters, timeline and dead letters. The documents it wrote stay in the target."</p>
                <div class="actions">
                    <button class="danger" data-testid="confirm-delete" disabled=move || delete.pending().get()
                        on:click=move |_| { delete.dispatch(DeleteJob { id: id() }); }>"Yes, delete the job"</button>
                    <button class="secondary" data-testid="keep-job" on:click=move |_| confirming.set(None)>"No, keep it"</button>
                </div>
            </div>
        })}
        {move || error().map(|error| view! { <ErrorBox error/> })}
    }
}
