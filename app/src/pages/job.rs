//! One job, live: a summary once it has ended; per collection a progress bar, documents per
//! second with a chart, the ETA and the counters; the ids as they land; refused documents
//! with their reasons; its controls; its timeline and the settings it runs with. An unknown
//! id answers 404 (the route renders after its data, so the status can still be set).

use super::{not_found::NotFoundView, param};
use crate::{
    components::{
        collection_card::CollectionCard,
        job_controls::JobControls,
        online::OnlinePanel,
        job_story::{JobSettingsView, JobSummary, Timeline},
        progress::{percent, StatusTag},
        status::{Empty, ErrorBox, Loading},
    },
    error::AppError,
    jobs::{job_dead_letters, job_details, NO_SUCH_JOB},
    live::use_live_state,
    views::JobInfo,
};
use engine::wire::{JobProgress, JobStatus};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn JobPage() -> impl IntoView {
    let id = param("id");
    let details = Resource::new(id, job_details);
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match details.await {
                    Ok(details) => view! { <JobView details/> }.into_any(),
                    Err(AppError::NotFound(_)) => {
                        super::not_found::respond_not_found();
                        view! {
                            <Title text="No such job · docshift"/>
                            <NotFoundView title="No such job" message=NO_SUCH_JOB.to_owned() testid="no-such-job">
                                <p>"It may have been deleted, or the link is mistyped: " <code>{id()}</code></p>
                                <a class="button" href="/jobs" data-testid="to-jobs">"See all jobs"</a>
                            </NotFoundView>
                        }.into_any()
                    }
                    Err(error) => view! { <Title text="Job · docshift"/><ErrorBox error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn JobView(details: JobInfo) -> impl IntoView {
    let live = use_live_state();
    let JobInfo { progress, settings, source, request, .. } = details;
    let id = StoredValue::new(progress.id.clone());
    let first = StoredValue::new(progress.clone());
    // The live state once the socket has said something of this job, the server's answer until then.
    let job: Memo<JobProgress> =
        Memo::new(move |_| live.jobs.get().into_iter().find(|j| j.id == id.get_value()).unwrap_or_else(|| first.get_value()));
    let status = Signal::derive(move || job.get().status);
    let refused = Signal::derive(move || job.get().totals().dead_lettered);
    let title = move || format!("Job {} — {} · docshift", id.get_value(), job.get().status_label());
    let same_settings = request.map(|_| format!("/migrate?from={}", id.get_value()));
    let (database, target) = (progress.database.clone(), progress.target.clone());

    view! {
        <Title text=title/>
        <header class="job-head">
            <h1>"Job " <code>{id.get_value()}</code></h1>
            <StatusTag status refused/>
        </header>
        <p class="subtitle wrap">{database.clone()} " → " {target.clone()}</p>
        <JobSummary job/>
        {move || job.get().message.map(|message| view! { <p class="message wrap" data-testid="job-message">{message}</p> })}
        <p class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="live-status">{move || announcement(&job.get())}</p>
        <JobControls job same_settings/>
        <OnlinePanel job=Signal::derive(move || Some(job.get()))/>
        {move || {
            let job = job.get();
            let throttling = job.throttle.filter(|t| t.throttling && !job.status.is_final()).map(|t| t.line());
            let ceiling = job.max_rate.map(|rate| format!("Kept under {} documents a second (--max-rate).", engine::wire::thousands(rate)));
            (throttling.is_some() || ceiling.is_some()).then(|| view! {
                <p class="notice" data-testid="throttling">{throttling.map(|line| format!("{line}. "))}{ceiling}</p>
            })
        }}

        <For each=move || job.get().collections key=|c| c.source.clone() let:collection>
            <CollectionCard job source=collection.source.clone()/>
        </For>

        <Feeds job/>
        <Timeline job/>
        <JobSettingsView settings source database target/>
    }
}

/// What the live region says: the status, and progress in steps of ten per cent, so that a
/// screen reader hears changes without a running count.
fn announcement(job: &JobProgress) -> String {
    if let Some(summary) = job.summary() {
        return summary;
    }
    let totals = job.totals();
    let Some(matched) = totals.matched else {
        // No total yet, so no per cent: the status alone.
        return match job.status {
            JobStatus::Running => "Running: the source's documents are counted as they are copied.".into(),
            status => format!("{}.", status.as_str()),
        };
    };
    let step = percent(totals.accounted(), matched) / 10 * 10;
    match job.status {
        JobStatus::Running => format!("Running: {step}% of the documents accounted for."),
        JobStatus::Verifying => "Verifying: reading the documents back from Astra.".into(),
        JobStatus::Paused => format!("Paused at {step}%."),
        status => format!("{}.", status.as_str()),
    }
}

/// The ids as they land, and the refused documents with their reasons.
#[component]
fn Feeds(#[prop(into)] job: Signal<JobProgress>) -> impl IntoView {
    let live = use_live_state();
    // Read in place (`with`): a `get` cloned the whole job, once per landed id, on every update.
    let id = Memo::new(move |_| job.with(|j| j.id.clone()));
    let dead_lettered = Memo::new(move |_| job.with(|j| j.totals().dead_lettered));
    let stored_refusals = Resource::new(move || (id.get(), dead_lettered.get()), |(id, _)| job_dead_letters(id));
    let landed = Memo::new(move |_| live.landed.get().into_iter().filter(|l| id.with(|id| &l.job == id)).take(20).collect::<Vec<_>>());
    let ended = move || job.with(|j| j.status.is_final());
    let some_were_present = move || job.with(|j| j.totals().already_present > 0);
    view! {
        <section class="feeds">
            <div>
                <h2>"Just landed"</h2>
                <Show when=some_were_present>
                    <p class="hint" data-testid="landed-includes-present">"Including documents already in the target: they are kept as they are, not written again."</p>
                </Show>
                <Show when=move || !landed.get().is_empty()
                    fallback=move || view! {
                        <Empty testid="landed-empty" text=Signal::derive(move || if ended() {
                            "Nothing landed while this page was open: the job had already ended or stopped.".to_owned()
                        } else {
                            "Documents appear here as the target acknowledges them.".to_owned()
                        })/>
                    }>
                    <ol class="feed" data-testid="landed">
                        {move || landed.get().into_iter().map(|l| view! {
                            <li><code>{l.id}</code> <span class="hint">{l.collection}</span></li>
                        }).collect_view()}
                    </ol>
                </Show>
            </div>
            <div>
                <h2>"Refused documents"</h2>
                <Transition fallback=Loading>
                    {move || stored_refusals.get().map(|result| match result {
                        Ok(list) if list.is_empty() => view! {
                            <Empty testid="refused-empty" text=Signal::derive(move || if ended() {
                                "None: Astra took every document.".to_owned()
                            } else {
                                "None so far.".to_owned()
                            })/>
                        }.into_any(),
                        Ok(list) => view! {
                            <div class="table-scroll">
                                <table data-testid="refused" class="stack">
                                    <thead><tr><th>"_id"</th><th>"Why"</th><th>"Collection"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().take(200).map(|r| view! {
                                            <tr>
                                                <td data-label="_id" class="wrap id"><code>{r.id}</code></td>
                                                <td data-label="Why" class="wrap"><code class="code">{r.code}</code> <span>{r.reason}</span></td>
                                                <td data-label="Collection">{r.collection}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(error) => view! { <ErrorBox error/> }.into_any(),
                    })}
                </Transition>
            </div>
        </section>
    }
}
