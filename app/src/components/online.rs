//! Online jobs in the browser: the sync panel of the job page (phase, lag in seconds, changes
//! waiting, changes applied per second with a chart, inserts / updates / replaces / deletes
//! applied, who cut over and when) with its **Cut over** button and the confirmation that says
//! what it does; the lag badge of the jobs list; the copy / online choice of New migration.

use crate::{
    components::{
        progress::Sparkline,
        status::{thousands, ErrorBox},
    },
    jobs::CutoverJob,
    live::who,
};
use engine::wire::{JobProgress, JobStatus, OnlinePhase, OnlineProgress};
use leptos::prelude::*;
use std::collections::VecDeque;

/// Rate samples the chart keeps (about one a second).
const SAMPLES: usize = 60;

/// "0.4 s", or "—" when there is no lag to show (copying, paused, ended).
fn lag_text(online: &OnlineProgress) -> String {
    match online.lag_seconds {
        Some(lag) => format!("{lag:.1} s"),
        None => "—".into(),
    }
}

/// The time of day, UTC, of a moment in ms since the epoch: `12:00:01 UTC`.
fn clock(ms: i64) -> String {
    let seconds = ms.div_euclid(1_000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02} UTC", seconds / 3_600, seconds % 3_600 / 60, seconds % 60)
}

/// Milliseconds since the page loaded (0 on the server).
fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        window().performance().map(|p| p.now()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// The sync of an online job, for the job page; nothing for a copy. Its view is type-erased,
/// so the job page's view type stays as shallow as the compiler needs.
#[component]
pub fn OnlinePanel(#[prop(into)] job: Signal<Option<JobProgress>>) -> impl IntoView {
    let online = Memo::new(move |_| job.get().and_then(|j| j.online));
    let status = Memo::new(move |_| job.get().map(|j| j.status).unwrap_or(JobStatus::Pending));
    let history = RwSignal::new(VecDeque::<f64>::new());
    let last_sample = StoredValue::new(-1_000.0f64);
    Effect::new(move |_| {
        if let Some(online) = online.get() {
            let now = now_ms();
            if now - last_sample.get_value() >= 1_000.0 {
                last_sample.set_value(now);
                history.update(|h| {
                    h.push_back(online.rate);
                    while h.len() > SAMPLES {
                        h.pop_front();
                    }
                });
            }
        }
    });
    let samples = Signal::derive(move || history.get().into_iter().collect::<Vec<_>>());
    let field = move |get: fn(&OnlineProgress) -> String| move || online.get().map(|o| get(&o)).unwrap_or_default();

    view! {
        <Show when=move || online.get().is_some()>
            <section class="online-panel" data-testid="online">
                <h2>"Sync " <span class="phase" data-testid="phase">{field(|o| o.phase.label().to_owned())}</span></h2>
                <dl class="counters">
                    <div><dt>"lag"</dt><dd data-testid="lag">{field(lag_text)}</dd></div>
                    <div><dt>"changes waiting"</dt><dd data-testid="waiting">{field(|o| thousands(o.waiting))}</dd></div>
                    <div><dt>"inserts"</dt><dd data-testid="inserts">{field(|o| thousands(o.applied.inserts))}</dd></div>
                    <div><dt>"updates"</dt><dd data-testid="updates">{field(|o| thousands(o.applied.updates))}</dd></div>
                    <div><dt>"replaces"</dt><dd data-testid="replaces">{field(|o| thousands(o.applied.replaces))}</dd></div>
                    <div><dt>"deletes"</dt><dd data-testid="deletes">{field(|o| thousands(o.applied.deletes))}</dd></div>
                    <div><dt>"dead-lettered"</dt><dd data-testid="changes-dead-lettered">{field(|o| thousands(o.applied.dead_lettered))}</dd></div>
                </dl>
                <div class="rate">
                    <span data-testid="change-rate">{field(|o| format!("{} changes/s", thousands(o.rate.round() as u64)))}</span>
                    <Sparkline samples/>
                </div>
                {move || online.get().and_then(|o| o.cutover.map(|c| (c, o.after_barrier))).map(|(cutover, after)| view! {
                    <p class="cutover-note" data-testid="cutover-by">
                        {format!("Cut over by {} at {}; barrier {} (source time {}).", cutover.by, clock(cutover.at_ms), cutover.barrier, clock(cutover.barrier_ms))}
                        {match after {
                            0 => String::new(),
                            1 => " 1 change came after the barrier and is not copied.".to_owned(),
                            n => format!(" {} changes came after the barrier and are not copied.", thousands(n)),
                        }}
                    </p>
                })}
                <Show when=move || {
                    online.get().is_some_and(|o| o.cutover.is_none() && matches!(o.phase, OnlinePhase::Copying | OnlinePhase::Following))
                        && !status.get().is_final()
                }>
                    <CutoverButton id=Signal::derive(move || job.get().map(|j| j.id).unwrap_or_default())/>
                </Show>
            </section>
        </Show>
    }
    .into_any()
}

/// **Cut over**, then a confirmation that says what it does.
#[component]
fn CutoverButton(#[prop(into)] id: Signal<String>) -> impl IntoView {
    let asking = RwSignal::new(false);
    let cutover = ServerAction::<CutoverJob>::new();
    view! {
        <Show when=move || asking.get() fallback=move || view! {
            <button data-testid="cutover" on:click=move |_| asking.set(true)>"Cut over"</button>
        }>
            <div class="confirm" role="alertdialog" aria-label="Cut over" data-testid="cutover-dialog">
                <p>
                    "Cut over now? docshift takes the source's current time as the barrier, applies every change up to it and none after, stops following, verifies, and reports that the target equals the source as of that time. "
                    <strong>"Stop your application's writes to MongoDB first:"</strong>
                    " changes made after the barrier are counted but not copied."
                </p>
                <div class="actions">
                    <button data-testid="cutover-confirm" disabled=move || cutover.pending().get()
                        on:click=move |_| { cutover.dispatch(CutoverJob { id: id.get_untracked(), who: who() }); }>
                        {move || if cutover.pending().get() { "Cutting over…" } else { "Cut over now" }}
                    </button>
                    <button class="secondary" data-testid="cutover-cancel" on:click=move |_| asking.set(false)>"Keep following"</button>
                </div>
            </div>
        </Show>
        {move || cutover.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error/> })}
    }
    .into_any()
}

/// The jobs list's word on an online job: its phase and lag.
#[component]
pub fn LagBadge(job: JobProgress) -> impl IntoView {
    job.online.map(|online| {
        let text = match online.lag_seconds {
            Some(_) => format!("online · {} · lag {}", online.phase.label(), lag_text(&online)),
            None => format!("online · {}", online.phase.label()),
        };
        view! { <span class="lag-badge" data-testid="lag">{text}</span> }
    })
}

/// New migration's choice: copy once, or copy and follow the changes until cut over.
#[component]
pub fn ModeChoice(online: RwSignal<bool>) -> impl IntoView {
    view! {
        <fieldset class="mode" data-testid="mode">
            <legend>"Kind of migration"</legend>
            <label>
                <input type="radio" name="mode" value="copy" prop:checked=move || !online.get() on:change=move |_| online.set(false) data-testid="mode-copy"/>
                " Copy — read each collection once; the source should not change meanwhile."
            </label>
            <label>
                <input type="radio" name="mode" value="online" prop:checked=move || online.get() on:change=move |_| online.set(true) data-testid="mode-online"/>
                " Online — copy, then follow the source's changes (it must be a replica set) until you cut over."
            </label>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_lags_read_well() {
        assert_eq!(clock(45_296_789), "12:34:56 UTC");
        let online = OnlineProgress {
            phase: OnlinePhase::Following,
            lag_seconds: Some(0.04),
            waiting: 0,
            rate: 0.0,
            applied: Default::default(),
            cutover: None,
            after_barrier: 0,
        };
        assert_eq!(lag_text(&online), "0.0 s");
        assert_eq!(lag_text(&OnlineProgress { lag_seconds: None, ..online }), "—");
    }
}
