//! One job, live: per collection a progress bar, documents per second with a chart, the
//! ETA and the counters; the ids as they land; refused documents with their reasons;
//! pause, resume and cancel for everyone to see; the verification report at the end.

use super::param;
use crate::{
    components::{
        online::OnlinePanel,
        progress::{eta, CounterRow, ProgressBar, Sparkline, StatusTag},
        status::{thousands, ErrorBox},
    },
    jobs::{job_dead_letters, CancelJob, PauseJob, ResumeJob},
    live::{use_live_state, who},
};
use engine::wire::{CollectionProgress, JobStatus};
use leptos::prelude::*;

#[component]
pub fn JobPage() -> impl IntoView {
    let id = param("id");
    let live = use_live_state();
    let job = Memo::new(move |_| live.jobs.get().into_iter().find(|j| j.id == id()));
    let status = Signal::derive(move || job.get().map(|j| j.status).unwrap_or(JobStatus::Pending));
    let dead_lettered = Memo::new(move |_| job.get().map(|j| j.totals().dead_lettered).unwrap_or_default());
    let stored_refusals = Resource::new(move || (id(), dead_lettered.get()), |(id, _)| job_dead_letters(id));
    let pause = ServerAction::<PauseJob>::new();
    let resume = ServerAction::<ResumeJob>::new();
    let cancel = ServerAction::<CancelJob>::new();
    let error = move || {
        [pause.value().get().and_then(Result::err), resume.value().get().and_then(Result::err), cancel.value().get().and_then(Result::err)]
            .into_iter()
            .flatten()
            .next()
    };

    view! {
        <Show when=move || job.get().is_some() fallback=move || view! { <p class="loading">"Waiting for job " {id} "…"</p> }>
            <header class="job-head">
                <h1>"Job " <code>{id}</code></h1>
                <StatusTag status/>
                <span class="hint">{move || job.get().map(|j| format!("{} → {}", j.database, j.target))}</span>
            </header>
            <p class="message" data-testid="job-message">{move || job.get().and_then(|j| j.message)}</p>
            <div class="actions">
                <Show when=move || matches!(status.get(), JobStatus::Running | JobStatus::Verifying)>
                    <button data-testid="pause" on:click=move |_| { pause.dispatch(PauseJob { id: id(), who: who() }); }>"Pause"</button>
                </Show>
                <Show when=move || status.get() == JobStatus::Paused>
                    <button data-testid="resume" on:click=move |_| { resume.dispatch(ResumeJob { id: id(), who: who() }); }>"Resume"</button>
                </Show>
                <Show when=move || !status.get().is_final()>
                    <button class="danger" data-testid="cancel" on:click=move |_| { cancel.dispatch(CancelJob { id: id(), who: who() }); }>"Cancel"</button>
                </Show>
                <a class="button secondary" href=move || format!("/jobs/{}/dead-letters.jsonl", id()) download data-testid="download-dead-letters" rel="external">
                    "Download dead letters (JSON Lines)"
                </a>
            </div>
            {move || error().map(|error| view! { <ErrorBox error/> })}
            <OnlinePanel job/>

            <For each=move || job.get().map(|j| j.collections).unwrap_or_default() key=|c| c.source.clone() let:collection>
                <CollectionCard job=id() source=collection.source.clone()/>
            </For>

            <section class="feeds">
                <div>
                    <h2>"Just landed"</h2>
                    <ol class="feed" data-testid="landed">
                        {move || live.landed.get().into_iter().filter(|l| l.job == id()).take(20).map(|l| view! {
                            <li><code>{l.id}</code> <span class="hint">{l.collection}</span></li>
                        }).collect_view()}
                    </ol>
                </div>
                <div>
                    <h2>"Refused documents"</h2>
                    <table data-testid="refused">
                        <thead><tr><th>"_id"</th><th>"Collection"</th><th>"Code"</th><th>"Reason"</th></tr></thead>
                        <tbody>
                            <Transition>
                                {move || stored_refusals.get().and_then(Result::ok).unwrap_or_default().into_iter().take(200).map(|r| view! {
                                    <tr><td><code>{r.id}</code></td><td>{r.collection}</td><td><code>{r.code}</code></td><td>{r.reason}</td></tr>
                                }).collect_view()}
                            </Transition>
                        </tbody>
                    </table>
                </div>
            </section>
        </Show>
    }
}

/// One collection of the job.
#[component]
fn CollectionCard(job: String, source: String) -> impl IntoView {
    let live = use_live_state();
    let (job_id, name) = (StoredValue::new(job), StoredValue::new(source));
    let progress = Memo::new(move |_| -> Option<CollectionProgress> {
        live.jobs.get().into_iter().find(|j| j.id == job_id.get_value())?.collections.into_iter().find(|c| c.source == name.get_value())
    });
    let counters = Signal::derive(move || progress.get().map(|p| p.counters).unwrap_or_default());
    let rate = move || progress.get().map(|p| p.rate).unwrap_or_default();
    let samples = Signal::derive(move || {
        live.rate_history.get().get(&(job_id.get_value(), name.get_value())).map(|s| s.iter().cloned().collect()).unwrap_or_default()
    });
    view! {
        <article class="collection-card" data-collection=name.get_value()>
            <h2>{name.get_value()} " → " <code>{move || progress.get().map(|p| p.target)}</code></h2>
            <ProgressBar done=Signal::derive(move || counters.get().accounted()) total=Signal::derive(move || counters.get().matched)/>
            <div class="stats">
                <CounterRow counters/>
                <div class="rate">
                    <span data-testid="rate">{move || format!("{} docs/s", thousands(rate().round() as u64))}</span>
                    <Sparkline samples/>
                    <span class="hint" data-testid="eta">"ETA " {move || eta(&counters.get(), rate())}</span>
                </div>
            </div>
            {move || progress.get().and_then(|p| p.verification).map(|v| {
                let passed = v.passed();
                view! {
                    <div class=if passed { "verification ok" } else { "verification error" } data-testid="verification">
                        {if passed {
                            format!("Verified: all {} documents read back from Astra match the source.", thousands(v.checked))
                        } else {
                            format!("Verification found {} of {} documents that differ.", thousands(v.checked - v.matching), thousands(v.checked))
                        }}
                        {(!v.missing.is_empty()).then(|| view! { <p>"Missing: " <code>{v.missing.join(", ")}</code></p> })}
                        {(!v.different.is_empty()).then(|| view! { <p>"Different: " <code>{v.different.join(", ")}</code></p> })}
                    </div>
                }
            })}
        </article>
    }
}
