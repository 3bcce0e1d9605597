//! What a dry run found, before anything is written: per collection whether the target
//! collection will be created or reused (and what it holds), the census and the name check;
//! the target database's collection budget; and the settings the job would run with.

use crate::{
    components::{
        census::{CensusReport, CollectionPath},
        policies::PolicyList,
        status::thousands,
        vectors::mapping_text,
    },
    views::{CollectionBudget, DryRunReport, JobSettings, TargetCollectionState},
};
use engine::policy::VectorMapping;
use leptos::prelude::*;

/// What happens to documents that are already in the target, in one sentence.
pub const EXISTING_KEPT: &str = "Existing documents are kept: docshift only inserts, so a document whose _id is already there is counted as already present and never overwritten.";

/// A target collection's state, in words.
pub fn target_state_text(target: &str, state: TargetCollectionState) -> String {
    match state {
        TargetCollectionState::New => format!("{target} does not exist yet: the job creates it."),
        TargetCollectionState::Exists { documents, exact } => {
            let about = if exact { "" } else { "about " };
            let plural = if documents == 1 { "document" } else { "documents" };
            format!("{target} exists and holds {about}{} {plural}: the job adds to it.", thousands(documents))
        }
        TargetCollectionState::Unknown => format!("The Document API makes {target} on its first write, if it is not there yet."),
    }
}

/// The collection budget, in words: `this job creates 2 more: 5 of the 10 Astra allows`.
pub fn budget_text(budget: &CollectionBudget) -> String {
    let plural = |n: usize| if n == 1 { "collection" } else { "collections" };
    let created = match budget.created {
        0 => "this job creates none".to_owned(),
        n => format!("this job creates {n} more"),
    };
    let verdict = if budget.exceeded() {
        format!(
            ": {} of the {} a database allows. The target would refuse to create them before any document is written: delete collections you no longer need, reuse existing ones, or choose another database.",
            budget.after(),
            budget.limit
        )
    } else {
        format!(": {} of the {} a database allows.", budget.after(), budget.limit)
    };
    format!("The target keyspace holds {} {}; {created}{verdict}", budget.existing, plural(budget.existing))
}

#[component]
pub fn DryRunView(
    report: DryRunReport,
    source: String,
    database: String,
    /// Puts a proposed vector mapping into the form's row of that (source) collection.
    #[prop(optional)]
    on_use_vector: Option<Callback<(String, VectorMapping)>>,
) -> impl IntoView {
    let DryRunReport { collections, budget, settings, target } = report;
    view! {
        <section class="dry-run" data-testid="dry-run-report" aria-labelledby="dry-run-title">
            <h2 id="dry-run-title">"Dry run: what Start would do"</h2>
            <p>"Into " <code class="wrap">{target}</code> ". Nothing has been written."</p>
            {budget.map(|b| view! {
                <p class=if b.exceeded() { "error" } else { "hint" } data-testid="collection-budget">{budget_text(&b)}</p>
            })}
            <p class="hint">{EXISTING_KEPT}</p>
            {collections.into_iter().map(|c| {
                let path = CollectionPath { source: source.clone(), database: database.clone(), collection: c.source.clone() };
                let existing = c.existing;
                view! {
                    <article class="dry-run-collection" data-collection=c.source.clone()>
                        <h3>{c.source.clone()} " → " <code>{c.target.clone()}</code></h3>
                        {c.name_problem.map(|p| view! { <p class="error">{p}</p> })}
                        <p data-testid="target-state" class=if matches!(existing, TargetCollectionState::Exists { .. }) { "notice" } else { "" }>
                            {target_state_text(&c.target, existing)}
                        </p>
                        {(!c.filter.trim().is_empty()).then(|| view! { <p class="wrap">"Only documents matching " <code>{c.filter.clone()}</code></p> })}
                        {(!c.deny.is_empty()).then(|| view! { <p class="wrap">"Not indexed: " <code>{c.deny.join(", ")}</code></p> })}
                        {c.vector.as_ref().map(|m| view! { <p class="wrap" data-testid="dry-run-vector">"Embeddings: " <code>{mapping_text(m)}</code></p> })}
                        {match on_use_vector {
                            Some(on_use) => {
                                let collection = c.source.clone();
                                let on_use = Callback::new(move |mapping| on_use.run((collection.clone(), mapping)));
                                view! { <CensusReport census=c.census path on_use_vector=on_use/> }.into_any()
                            }
                            None => view! { <CensusReport census=c.census path/> }.into_any(),
                        }}
                    </article>
                }
            }).collect_view()}
            <h3>"Settings"</h3>
            <SettingsList settings/>
        </section>
    }
}

/// How hard a job pushes, how it verifies, and its policies.
#[component]
pub fn SettingsList(settings: JobSettings) -> impl IntoView {
    view! {
        <dl class="settings" data-testid="tuning">
            <div><dt>"Parallel ranges per collection"</dt><dd>{settings.parallel_ranges}</dd></div>
            <div><dt>"Batch size (documents read and checkpointed together)"</dt><dd>{thousands(settings.batch_size as u64)}</dd></div>
            <div><dt>"Documents per insertMany"</dt><dd>{settings.chunk_size}</dd></div>
            <div><dt>"Requests in flight per range"</dt><dd>{settings.in_flight}</dd></div>
            <div><dt>"Verification"</dt><dd>{settings.verify.clone()}</dd></div>
        </dl>
        <PolicyList policy=settings.policy/>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_states_and_budgets_read_as_sentences() {
        let exists = TargetCollectionState::Exists { documents: 2_994, exact: false };
        assert_eq!(target_state_text("sensor_readings", exists), "sensor_readings exists and holds about 2,994 documents: the job adds to it.");
        let fits = CollectionBudget { existing: 3, created: 2, limit: 10 };
        assert_eq!(budget_text(&fits), "The target keyspace holds 3 collections; this job creates 2 more: 5 of the 10 a database allows.");
        let over = CollectionBudget { existing: 9, created: 2, limit: 10 };
        assert!(over.exceeded() && budget_text(&over).contains("11 of the 10"));
    }
}
