//! The jobs dashboard: every job, live, for everyone watching; the newest first, each with
//! when it was created, its status (saying how many documents were refused), its progress
//! and, once it has ended, what it did.

use crate::{
    components::{
        online::LagBadge,
        progress::{total_text, ProgressBar, StatusTag},
        status::{thousands, Empty, LocalTime},
    },
    live::use_live_state,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn JobsPage() -> impl IntoView {
    let live = use_live_state();
    view! {
        <Title text="Jobs · docshift"/>
        <div class="page-head">
            <h1>"Jobs"</h1>
            <A href="/migrate" attr:class="button">"New migration"</A>
        </div>
        <Show when=move || !live.jobs.get().is_empty()
            fallback=move || view! {
                <Empty testid="no-jobs" text=Signal::derive(move || {
                    if live.connected.get() { "No job yet: start one from New migration." } else { "Connecting…" }.to_owned()
                })/>
            }>
            <ul class="cards jobs" data-testid="jobs">
                <For each=move || live.jobs.get() key=|job| (job.id.clone(), job.updated_at_ms, job.status.as_str(), job.totals().accounted()) let:job>
                    {
                        let totals = job.totals();
                        let status = job.status;
                        let href = format!("/jobs/{}", job.id);
                        let (id, label) = (job.id.clone(), job.id.clone());
                        let collections = job.collections.iter().map(|c| c.source.clone()).collect::<Vec<_>>().join(", ");
                        view! {
                            <li data-job=id>
                                <div class="job-line">
                                    <A href=href><code>{label}</code></A>
                                    <StatusTag status=Signal::derive(move || status) refused=Signal::derive(move || totals.dead_lettered)/>
                                    <span class="hint">"created " <LocalTime at_ms=job.created_at_ms/></span>
                                </div>
                                <div class="job-what wrap">
                                    <strong>{job.database.clone()}</strong> ": " {collections}
                                    <span class="hint">" → " {job.target.clone()} <LagBadge job=job.clone()/></span>
                                </div>
                                <div class="job-progress">
                                    <ProgressBar done=Signal::derive(move || totals.accounted()) total=Signal::derive(move || totals.matched)/>
                                    <span class="num">{thousands(totals.accounted())} " / " {total_text(totals.matched)}</span>
                                </div>
                                {job.summary().map(|summary| view! { <p class="hint job-outcome" data-testid="job-outcome">{summary}</p> })}
                            </li>
                        }
                    }
                </For>
            </ul>
        </Show>
    }
}
