//! How a job's progress looks: bars, counters, a rate sparkline, the ETA.

use crate::components::status::thousands;
use engine::wire::{Counters, JobStatus};
use leptos::prelude::*;

/// A bar filled to `done / total`, exactly as far as its label says; striped, with no
/// per cent, while the total is not yet counted.
#[component]
pub fn ProgressBar(#[prop(into)] done: Signal<u64>, #[prop(into)] total: Signal<Option<u64>>) -> impl IntoView {
    let percent = move || total.get().map(|total| percent(done.get(), total));
    view! {
        <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=move || percent().map(|p| p.to_string())
            aria-label="documents accounted for">
            <div class="fill" class:counting=move || percent().is_none() style:width=move || format!("{}%", percent().unwrap_or(100))></div>
            <span class="label" data-testid="percent">
                {move || percent().map_or_else(|| format!("{} so far", thousands(done.get())), |p| format!("{p}%"))}
            </span>
        </div>
    }
}

/// The total a count is out of, or that it is not known yet.
pub fn total_text(matched: Option<u64>) -> String {
    matched.map_or_else(|| "not yet counted".to_owned(), thousands)
}

/// Whole per cent of `total` that `done` is, rounded down (100 only when all is done).
pub fn percent(done: u64, total: u64) -> u64 {
    if total == 0 {
        100
    } else {
        (u128::from(done.min(total)) * 100 / u128::from(total)) as u64
    }
}

/// Written / already present / dead-lettered of matched.
#[component]
pub fn CounterRow(#[prop(into)] counters: Signal<Counters>) -> impl IntoView {
    view! {
        <dl class="counters" data-testid="counters">
            <div><dt>"written"</dt><dd data-testid="written">{move || thousands(counters.get().written)}</dd></div>
            <div><dt>"already present"</dt><dd data-testid="already-present">{move || thousands(counters.get().already_present)}</dd></div>
            <div><dt>"dead-lettered"</dt><dd data-testid="dead-lettered">{move || thousands(counters.get().dead_lettered)}</dd></div>
            <div><dt>"of"</dt><dd data-testid="matched">{move || total_text(counters.get().matched)}</dd></div>
        </dl>
    }
}

/// A small line chart of the last minute's documents per second.
#[component]
pub fn Sparkline(#[prop(into)] samples: Signal<Vec<f64>>) -> impl IntoView {
    let points = move || {
        let samples = samples.get();
        let max = samples.iter().cloned().fold(1.0_f64, f64::max);
        let step = 120.0 / (samples.len().max(2) - 1) as f64;
        samples
            .iter()
            .enumerate()
            .map(|(i, rate)| format!("{:.1},{:.1}", i as f64 * step, 30.0 - rate / max * 28.0))
            .collect::<Vec<_>>()
            .join(" ")
    };
    view! {
        <svg class="spark" viewBox="0 0 120 30" preserveAspectRatio="none" aria-label="documents per second, last minute">
            <polyline points=points fill="none" stroke="currentColor" stroke-width="1.5"/>
        </svg>
    }
}

/// "1m 20s" left at the current rate.
pub fn eta(counters: &Counters, rate: f64) -> String {
    let Some(left) = counters.left() else {
        return "—".into();
    };
    if left == 0 {
        return "done".into();
    }
    if rate < 0.5 {
        return "—".into();
    }
    let seconds = (left as f64 / rate).ceil() as u64;
    match seconds {
        0..=59 => format!("{seconds}s"),
        60..=3599 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

/// A job status as a coloured tag; `refused` documents make a finished job's tag say so
/// ("complete, 6 refused") and turn it amber.
#[component]
pub fn StatusTag(#[prop(into)] status: Signal<JobStatus>, #[prop(into, optional)] refused: Signal<u64>) -> impl IntoView {
    let noted = move || status.get().is_final() && refused.get() > 0;
    view! {
        <span class=move || format!("status status-{}{}", status.get().as_str(), if noted() { " with-refused" } else { "" })
            data-testid="status">
            {move || if noted() { format!("{}, {} refused", status.get().as_str(), thousands(refused.get())) } else { status.get().as_str().to_owned() }}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_reads_well() {
        let c = Counters { matched: Some(1_000), written: 400, already_present: 0, dead_lettered: 0 };
        assert_eq!(eta(&c, 10.0), "1m 00s");
        assert_eq!(eta(&c, 0.0), "—");
        assert_eq!(eta(&Counters { matched: Some(5), written: 5, ..Default::default() }, 0.0), "done");
        assert_eq!(eta(&Counters { matched: None, written: 5, ..Default::default() }, 10.0), "—", "no total, no ETA");
    }

    #[test]
    fn the_bar_and_its_label_agree() {
        assert_eq!(percent(999, 1_000), 99);
        assert_eq!(percent(1_000, 1_000), 100);
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(5, 3), 100);
    }
}
