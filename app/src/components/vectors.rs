//! Embeddings on screen: the census's candidate fields with the mapping it proposes, a
//! mapping in words (dry run, job settings), and the recall a job measured after copying
//! into a vector collection.

use crate::components::status::thousands;
use engine::{
    policy::{InvalidVectorPolicy, VectorMapping},
    wire::{Census, NeighbourRecall, VectorSource},
};
use leptos::prelude::*;

/// A mapping as a sentence: `embedding` → `$vector`, its dimension, metric and what happens
/// to a document whose vector is invalid.
pub fn mapping_text(mapping: &VectorMapping) -> String {
    let dimension = match mapping.dimension {
        0 => "the length of the first source vector".to_owned(),
        n => format!("{} dimensions", thousands(n as u64)),
    };
    let field = if mapping.keep_field { ", the field kept too" } else { "" };
    let invalid = match mapping.on_invalid {
        InvalidVectorPolicy::DeadLetter => "invalid vectors dead-lettered",
        InvalidVectorPolicy::WithoutVector => "invalid vectors left out (the document is written without $vector)",
    };
    format!("{} → $vector: {dimension}, {}{field}, {invalid}", mapping.field, mapping.metric.as_str())
}

/// recall@k as the job page and the CLI report say it.
pub fn recall_text(recall: &NeighbourRecall) -> String {
    format!(
        "Vector search: recall@{} {:.3} — Astra found {} of the {} exact nearest neighbours of {} sampled documents.",
        recall.k,
        recall.recall(),
        thousands(recall.found),
        thousands(recall.expected),
        thousands(recall.queries)
    )
}

fn source_text(source: VectorSource) -> &'static str {
    match source {
        VectorSource::Array => "array of numbers",
        VectorSource::Float32 => "BSON vector (float32)",
        VectorSource::Int8 => "BSON vector (int8)",
        VectorSource::PackedBit => "BSON vector (packed bits)",
        VectorSource::Mixed => "arrays and BSON vectors",
    }
}

/// The census's embedding candidates, and its proposal. `on_use`, where given, offers a
/// button that puts the proposed field into the New migration form.
#[component]
pub fn VectorCandidates(census: Census, #[prop(optional)] on_use: Option<Callback<VectorMapping>>) -> impl IntoView {
    let proposed = census.proposed_vector_mapping();
    let scanned = census.scanned;
    (!census.vector_candidates.is_empty()).then(|| {
        view! {
            <div class="vector-candidates" data-testid="vector-candidates">
                <p>"Fields that look like embeddings (they can go into the collection's " <code>"$vector"</code> " for vector search):"</p>
                <div class="table-scroll">
                    <table class="stack">
                        <thead><tr><th>"Field"</th><th>"Stored as"</th><th>"Dimension"</th><th>"Documents"</th></tr></thead>
                        <tbody>
                            {census.vector_candidates.iter().map(|c| view! {
                                <tr data-field=c.field.clone()>
                                    <td data-label="Field" class="wrap"><code>{c.field.clone()}</code></td>
                                    <td data-label="Stored as">{source_text(c.source)}</td>
                                    <td data-label="Dimension" class="num">{thousands(c.dimension as u64)}{(!c.same_dimension).then_some(" (most; others differ)")}</td>
                                    <td data-label="Documents" class="num">{thousands(c.documents)} " of " {thousands(scanned)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                {match proposed {
                    Some(mapping) => {
                        let text = mapping_text(&mapping);
                        let button = on_use.map(|on_use| {
                            let mapping = mapping.clone();
                            view! { <button class="secondary" data-testid="use-vector" on:click=move |_| on_use.run(mapping.clone())>"Map it"</button> }
                        });
                        view! { <p data-testid="proposed-vector">"Suggested: " <code class="wrap">{text}</code> " " {button}</p> }.into_any()
                    }
                    None => view! {
                        <p class="hint" data-testid="proposed-vector">"No field is in every document with one length: map one by hand if you want vector search; documents without a valid vector are dead-lettered."</p>
                    }
                    .into_any(),
                }}
            </div>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::policy::VectorMetric;

    #[test]
    fn a_mapping_reads_as_a_sentence() {
        let mut mapping = VectorMapping::new("meta.embedding", 768);
        assert_eq!(mapping_text(&mapping), "meta.embedding → $vector: 768 dimensions, cosine, invalid vectors dead-lettered");
        mapping.dimension = 0;
        mapping.metric = VectorMetric::DotProduct;
        mapping.keep_field = true;
        assert_eq!(
            mapping_text(&mapping),
            "meta.embedding → $vector: the length of the first source vector, dot_product, the field kept too, invalid vectors dead-lettered"
        );
    }

    #[test]
    fn recall_says_what_was_found_of_what() {
        let recall = NeighbourRecall { queries: 100, k: 10, found: 995, expected: 1_000 };
        assert_eq!(recall_text(&recall), "Vector search: recall@10 0.995 — Astra found 995 of the 1,000 exact nearest neighbours of 100 sampled documents.");
    }
}
