//! What happened to a job and what it was asked to do: the summary of a finished job, its
//! timeline (created, started, paused and resumed by whom, verification, the end) in the
//! user's time zone, and the settings it runs with.

use crate::{
    components::{
        dry_run::SettingsList,
        status::{LocalTime, Loading},
        vectors::mapping_text,
    },
    jobs::job_timeline,
    views::JobSettings,
};
use engine::wire::{JobProgress, JobStatus, TimelineEntry};
use leptos::prelude::*;

/// "Completed in 2.1 s, 5,700 docs/s on average — 2,994 written, 6 refused, verified."
#[component]
pub fn JobSummary(#[prop(into)] job: Signal<JobProgress>) -> impl IntoView {
    move || {
        let job = job.get();
        job.summary().map(|summary| {
            let class = match job.status {
                JobStatus::Complete if job.totals().dead_lettered == 0 => "summary ok",
                JobStatus::Complete => "summary notice",
                _ => "summary error",
            };
            view! {
                <p class=class data-testid="job-summary">
                    {summary}
                    {job.finished_at_ms.map(|at| view! { " Ended " <LocalTime at_ms=at/> "." })}
                </p>
            }
        })
    }
}

/// Timeline entries as sentences, oldest first.
#[component]
pub fn Timeline(#[prop(into)] job: Signal<JobProgress>) -> impl IntoView {
    // Read again whenever the job's status or message changes: that is when entries are added.
    let key = move || job.with(|j| (j.id.clone(), j.status, j.message.clone(), j.collections.iter().filter(|c| c.verification.is_some()).count()));
    let timeline = Resource::new(key, |(id, ..)| job_timeline(id));
    view! {
        <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <Transition fallback=Loading>
                {move || timeline.get().map(|entries| match entries {
                    Ok(entries) => view! {
                        <ol class="timeline" data-testid="job-timeline">
                            {sentences(&entries).into_iter().map(|(at, text)| view! {
                                <li><LocalTime at_ms=at/> <span>{text}</span></li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                    Err(error) => view! { <crate::components::status::ErrorBox error/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// Each entry as (when, what happened).
pub fn sentences(entries: &[TimelineEntry]) -> Vec<(i64, String)> {
    let mut started = false;
    let mut verifying = false;
    entries
        .iter()
        .map(|entry| {
            let who = entry.who.as_deref().filter(|w| !w.is_empty());
            let by = |verb: &str| match who {
                Some(who) => format!("{verb} by {who}"),
                None => verb.to_owned(),
            };
            let with_detail = |text: &str| match &entry.detail {
                Some(detail) => format!("{text}: {detail}"),
                None => text.to_owned(),
            };
            let text = match entry.kind.as_str() {
                "created" => by("Created"),
                "running" if started => "Copying again".to_owned(),
                "running" => {
                    started = true;
                    "Started copying".to_owned()
                }
                "paused" if who.is_some() => by("Paused"),
                "paused" => with_detail("Paused"),
                "resumed" => by("Resumed"),
                "pending" => "Waiting to start again".to_owned(),
                "verifying" if verifying => "Verification continued".to_owned(),
                "verifying" => {
                    verifying = true;
                    "Verification started".to_owned()
                }
                "verified" => entry.detail.as_ref().map_or_else(|| "Verified".to_owned(), |d| format!("Verified {d}")),
                "verification_failed" => {
                    entry.detail.as_ref().map_or_else(|| "Verification found differences".to_owned(), |d| format!("Verification found differences in {d}"))
                }
                "complete" => "Completed".to_owned(),
                "failed" => with_detail("Failed"),
                "cancelled" => by("Cancelled"),
                other => with_detail(other),
            };
            (entry.at_ms, text)
        })
        .collect()
}

/// The source, the collections with their filters and unindexed paths, and the settings.
#[component]
pub fn JobSettingsView(settings: JobSettings, source: String, database: String, target: String) -> impl IntoView {
    let collections = settings.collections.clone();
    view! {
        <section aria-labelledby="settings-title" data-testid="job-settings">
            <h2 id="settings-title">"Settings"</h2>
            <dl class="settings">
                <div><dt>"Source"</dt><dd><code class="wrap">{source}</code> " · database " <code>{database}</code></dd></div>
                <div><dt>"Target"</dt><dd><code class="wrap">{target}</code></dd></div>
            </dl>
            <div class="table-scroll">
                <table class="stack">
                    <thead><tr><th>"Collection"</th><th>"Into"</th><th>"Filter"</th><th>"Not indexed"</th><th>"Embeddings"</th></tr></thead>
                    <tbody>
                        {collections.into_iter().map(|c| view! {
                            <tr>
                                <td data-label="Collection">{c.source}</td>
                                <td data-label="Into"><code>{c.target}</code></td>
                                <td data-label="Filter" class="wrap">{c.filter.map(|f| view! { <code>{f}</code> }.into_any()).unwrap_or_else(|| "every document".into_any())}</td>
                                <td data-label="Not indexed" class="wrap">{if c.deny.is_empty() { "—".into_any() } else { view! { <code>{c.deny.join(", ")}</code> }.into_any() }}</td>
                                <td data-label="Embeddings" class="wrap" data-testid="settings-vector">{match &c.vector { Some(m) => view! { <code>{mapping_text(m)}</code> }.into_any(), None => "—".into_any() }}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <SettingsList settings/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, who: Option<&str>, detail: Option<&str>) -> TimelineEntry {
        TimelineEntry { at_ms: 0, kind: kind.into(), who: who.map(Into::into), detail: detail.map(Into::into) }
    }

    #[test]
    fn the_timeline_reads_as_sentences() {
        let entries = [
            entry("created", Some("Ada"), None),
            entry("running", None, None),
            entry("paused", Some("Grace"), None),
            entry("resumed", Some("Ada"), None),
            entry("running", None, None),
            entry("paused", None, Some("the target is unreachable")),
            entry("verifying", None, None),
            entry("verified", None, Some("orders: 5 of 5 documents match")),
            entry("complete", None, None),
        ];
        let texts: Vec<String> = sentences(&entries).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            texts,
            [
                "Created by Ada",
                "Started copying",
                "Paused by Grace",
                "Resumed by Ada",
                "Copying again",
                "Paused: the target is unreachable",
                "Verification started",
                "Verified orders: 5 of 5 documents match",
                "Completed"
            ]
        );
    }
}
