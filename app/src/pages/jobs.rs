//! The jobs dashboard: every job, live, for everyone watching; the newest first.

use crate::{
    components::online::LagBadge,
    components::progress::{ProgressBar, StatusTag},
    components::status::thousands,
    live::use_live_state,
};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn JobsPage() -> impl IntoView {
    let live = use_live_state();
    view! {
        <h1>"Jobs"</h1>
        <p><A href="/migrate" attr:class="button">"New migration"</A></p>
        <Show when=move || !live.jobs.get().is_empty() fallback=|| view! { <p class="hint" data-testid="no-jobs">"No job yet."</p> }>
            <ul class="cards jobs" data-testid="jobs">
                <For each=move || live.jobs.get() key=|job| (job.id.clone(), job.updated_at_ms, job.status.as_str(), job.totals().accounted()) let:job>
                    {
                        let totals = job.totals();
                        let status = job.status;
                        let (id, label, href) = (job.id.clone(), job.id.clone(), format!("/jobs/{}", job.id));
                        let collections = job.collections.iter().map(|c| c.source.clone()).collect::<Vec<_>>().join(", ");
                        view! {
                            <li data-job=id>
                                <A href=href>{label}</A>
                                <StatusTag status=Signal::derive(move || status)/>
                                <span>{job.database.clone()} ": " {collections}</span>
                                <span class="hint">{job.target.clone()} <LagBadge job=job.clone()/></span>
                                <ProgressBar done=Signal::derive(move || totals.accounted()) total=Signal::derive(move || totals.matched)/>
                                <span class="num">{thousands(totals.accounted())} " / " {thousands(totals.matched)}</span>
                            </li>
                        }
                    }
                </For>
            </ul>
        </Show>
    }
}
