//! One collection of a job: its progress bar, counters, documents per second with a chart
//! and the ETA while it copies, how the source is read (the read plan and why), retries and throttling when the target pushed back, and the
//! verification's verdict (with vector search's recall, for a vector collection).

use crate::{
    components::{
        progress::{eta, CounterRow, ProgressBar, Sparkline},
        status::thousands,
        vectors::recall_text,
    },
    live::use_live_state,
};
use engine::wire::{CollectionProgress, JobProgress};
use leptos::prelude::*;

#[component]
pub fn CollectionCard(#[prop(into)] job: Signal<JobProgress>, source: String) -> impl IntoView {
    let live = use_live_state();
    let name = StoredValue::new(source);
    // Read in place (`with`): a `get` cloned every collection of the job, for every card.
    let progress = Memo::new(move |_| -> Option<CollectionProgress> {
        job.with(|j| name.with_value(|name| j.collections.iter().find(|c| &c.source == name).cloned()))
    });
    let counters = Signal::derive(move || progress.get().map(|p| p.counters).unwrap_or_default());
    let rate = move || progress.get().map(|p| p.rate).unwrap_or_default();
    let ended = move || job.with(|j| j.status.is_final());
    let samples = Signal::derive(move || {
        let key = (job.with(|j| j.id.clone()), name.get_value());
        live.rate_history.with(|history| history.get(&key).map(|s| s.iter().cloned().collect()).unwrap_or_default())
    });
    let pushed_back = move || progress.get().filter(|p| p.retries > 0).map(|p| (p.retries, p.throttled));
    view! {
        <article class="collection-card" data-collection=name.get_value()>
            <h2>{name.get_value()} " → " <code>{move || progress.get().map(|p| p.target)}</code></h2>
            <ProgressBar done=Signal::derive(move || counters.get().accounted()) total=Signal::derive(move || counters.get().matched)/>
            <div class="stats">
                <CounterRow counters/>
                <Show when=move || !ended() && !counters.get().is_complete()
                    fallback=move || view! {
                        <span class="hint" data-testid="accounted">
                            {move || {
                                let c = counters.get();
                                match c.matched {
                                    Some(m) if c.is_complete() => format!("All {} documents accounted for", thousands(m)),
                                    Some(m) => format!("{} of {} documents accounted for", thousands(c.accounted()), thousands(m)),
                                    None => format!("{} documents accounted for so far", thousands(c.accounted())),
                                }
                            }}
                        </span>
                    }>
                    <div class="rate">
                        <span data-testid="rate">{move || format!("{} docs/s", thousands(rate().round() as u64))}</span>
                        <Sparkline samples/>
                        <span class="hint" data-testid="eta">"ETA " {move || eta(&counters.get(), rate())}</span>
                    </div>
                </Show>
            </div>
            {move || progress.get().and_then(|p| p.plan).map(|plan| view! {
                <p class="hint wrap" data-testid="read-plan">
                    "Read with " <strong>{plan.kind.label()}</strong>
                    {(plan.ranges > 1).then(|| format!(" ({} ranges)", plan.ranges))} ": " {plan.reason.clone()}
                    {plan.changes.last().map(|last| format!(" Since: {last}"))}
                </p>
            })}
            {move || pushed_back().map(|(retries, throttled)| view! {
                <p class="hint" data-testid="retries">
                    {format!("The target made docshift retry {} requests", thousands(retries))}
                    {(throttled > 0).then(|| format!(" ({} throttled: HTTP 429)", thousands(throttled)))}
                    "."
                </p>
            })}
            {move || progress.get().and_then(|p| p.verification).map(|v| {
                let passed = v.passed();
                view! {
                    <div class=if passed { "verification ok" } else { "verification error" } data-testid="verification">
                        {if passed {
                            format!("Verified: all {} documents read back from Astra match the source.", thousands(v.checked))
                        } else {
                            format!("Verification found {} of {} documents that differ.", thousands(v.checked - v.matching), thousands(v.checked))
                        }}
                        {(!v.missing.is_empty()).then(|| view! { <p class="wrap">"Missing: " <code>{v.missing.join(", ")}</code></p> })}
                        {(!v.different.is_empty()).then(|| view! { <p class="wrap">"Different: " <code>{v.different.join(", ")}</code></p> })}
                        {v.recall.as_ref().map(|r| view! { <p data-testid="recall">{recall_text(r)}</p> })}
                    </div>
                }
            })}
        </article>
    }
}
