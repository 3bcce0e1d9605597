//! The collections of the New migration form: which to copy, each one's target name
//! (checked as you type) with what the target already holds under that name, its filter and
//! unindexed paths, the embedding field that goes into `$vector`; and the target database's
//! collection budget for the selection.

use crate::{
    components::{dry_run::budget_text, policies::parse},
    jobs::name_problem,
    views::{CollectionBudget, CollectionRequest, TargetCollectionState, TargetListing},
};
use engine::{
    policy::{VectorMapping, VectorMetric},
    wire::thousands,
};
use leptos::prelude::*;

/// One collection row of the form.
#[derive(Clone, Copy)]
pub struct Row {
    pub name: StoredValue<String>,
    pub selected: RwSignal<bool>,
    pub target: RwSignal<String>,
    pub filter: RwSignal<String>,
    pub deny: RwSignal<String>,
    /// The embedding field to move into `$vector` ("" for none), and its metric.
    pub vector: RwSignal<String>,
    pub metric: RwSignal<VectorMetric>,
    /// The rest of a mapping the form was filled with (kept field, invalid vectors).
    pub mapping: StoredValue<Option<VectorMapping>>,
}

impl Row {
    pub fn new(name: String, selected: bool, target: String, filter: String, deny: String, vector: Option<VectorMapping>) -> Self {
        Self {
            vector: RwSignal::new(vector.as_ref().map(|m| m.field.clone()).unwrap_or_default()),
            metric: RwSignal::new(vector.as_ref().map(|m| m.metric).unwrap_or_default()),
            mapping: StoredValue::new(vector),
            name: StoredValue::new(name),
            selected: RwSignal::new(selected),
            target: RwSignal::new(target),
            filter: RwSignal::new(filter),
            deny: RwSignal::new(deny),
        }
    }

    /// The row's vector mapping: the field as typed, its dimension taken from the source when
    /// the job is created.
    pub fn vector_mapping(&self) -> Option<VectorMapping> {
        let field = self.vector.get_untracked().trim().to_owned();
        if field.is_empty() {
            return None;
        }
        let base = self.mapping.get_value().unwrap_or_else(|| VectorMapping::new(field.clone(), 0));
        Some(VectorMapping { field, dimension: 0, metric: self.metric.get_untracked(), ..base })
    }

    /// Puts a mapping (the census's proposal) into the row.
    pub fn use_mapping(&self, mapping: VectorMapping) {
        self.vector.set(mapping.field.clone());
        self.metric.set(mapping.metric);
        self.mapping.set_value(Some(mapping));
    }

    /// The row as the request sends it.
    pub fn request(&self) -> CollectionRequest {
        CollectionRequest {
            source: self.name.get_value(),
            target: self.target.get_untracked(),
            filter: self.filter.get_untracked(),
            deny: self.deny.get_untracked().split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
            vector: self.vector_mapping(),
        }
    }
}

/// What the target holds under `name`, from its listing: `None` while unknown.
fn state_of(contents: &TargetListing, name: &str) -> Option<TargetCollectionState> {
    let listed = contents.collections.as_ref()?;
    Some(listed.iter().find(|(n, _)| n == name).map_or(TargetCollectionState::New, |(_, state)| *state))
}

/// The budget of the selection against the target's listing.
pub fn budget(contents: &TargetListing, rows: &[Row]) -> Option<CollectionBudget> {
    let listed = contents.collections.as_ref()?;
    let mut created: Vec<String> = rows
        .iter()
        .filter(|r| r.selected.get())
        .map(|r| r.target.get())
        .filter(|t| !listed.iter().any(|(n, _)| n == t))
        .collect();
    created.sort();
    created.dedup();
    Some(CollectionBudget { existing: listed.len(), created: created.len(), limit: contents.limit })
}

#[component]
pub fn CollectionPicker(rows: RwSignal<Vec<Row>>, #[prop(into)] contents: Signal<Option<TargetListing>>) -> impl IntoView {
    let target_note = move |name: String| {
        let contents = contents.get()?;
        Some(match state_of(&contents, &name)? {
            TargetCollectionState::New => ("new", "new collection".to_owned()),
            TargetCollectionState::Exists { documents, exact } => {
                ("exists", format!("exists, holds {}{} documents — they are kept", if exact { "" } else { "about " }, thousands(documents)))
            }
            TargetCollectionState::Unknown => ("unknown", String::new()),
        })
    };
    view! {
        <div class="table-scroll">
            <table data-testid="collections-picker" class="stack picker">
                <thead><tr><th><span class="visually-hidden">"Migrate"</span></th><th>"Collection"</th><th>"Target name"</th><th>"Filter (JSON)"</th><th>"indexing.deny"</th><th>"Embeddings → $vector"</th></tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|r| r.name.get_value() let:row>
                        <tr data-collection=row.name.get_value()>
                            <td class="pick">
                                <input type="checkbox" id=format!("pick-{}", row.name.get_value()) prop:checked=move || row.selected.get()
                                    on:change=move |ev| row.selected.set(event_target_checked(&ev))
                                    aria-label=format!("migrate {}", row.name.get_value())/>
                            </td>
                            <td class="name"><label for=format!("pick-{}", row.name.get_value())><strong>{row.name.get_value()}</strong></label></td>
                            <td data-label="Target name">
                                <input type="text" prop:value=move || row.target.get() on:input=move |ev| row.target.set(event_target_value(&ev))
                                    data-testid="target-name" aria-label=format!("Target name for {}", row.name.get_value()) spellcheck="false"/>
                                {move || name_problem(&row.target.get()).map(|p| view! { <span class="field-error" data-testid="name-problem">{p}</span> })}
                                {move || target_note(row.target.get()).filter(|(_, text)| !text.is_empty()).map(|(kind, text)| view! {
                                    <span class=format!("field-note {kind}") data-testid="target-note">{text}</span>
                                })}
                            </td>
                            <td data-label="Filter (JSON)">
                                <input type="text" placeholder=r#"{"status": "shipped"}"# prop:value=move || row.filter.get()
                                    on:input=move |ev| row.filter.set(event_target_value(&ev)) aria-label=format!("Filter for {}", row.name.get_value()) spellcheck="false"/>
                            </td>
                            <td data-label="indexing.deny">
                                <input type="text" placeholder="payload, history.items" prop:value=move || row.deny.get()
                                    on:input=move |ev| row.deny.set(event_target_value(&ev)) aria-label=format!("Paths not to index in {}", row.name.get_value()) spellcheck="false"/>
                            </td>
                            <td data-label="Embeddings → $vector" class="vector-cell">
                                <input type="text" placeholder="embedding" prop:value=move || row.vector.get()
                                    on:input=move |ev| row.vector.set(event_target_value(&ev)) data-testid="vector-field"
                                    aria-label=format!("Embedding field of {} to map into $vector", row.name.get_value()) spellcheck="false"/>
                                <Show when=move || !row.vector.get().trim().is_empty()>
                                    <select data-testid="vector-metric" aria-label=format!("Similarity metric for {}", row.name.get_value())
                                        prop:value=move || row.metric.get().as_str()
                                        on:change=move |ev| row.metric.set(parse::<VectorMetric>(&event_target_value(&ev)).unwrap_or_default())>
                                        {[VectorMetric::Cosine, VectorMetric::DotProduct, VectorMetric::Euclidean].map(|m| view! { <option value=m.as_str()>{m.as_str()}</option> })}
                                    </select>
                                </Show>
                            </td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
        {move || contents.get().and_then(|c| budget(&c, &rows.get())).filter(|b| b.created > 0 || b.exceeded()).map(|b| view! {
            <p class=if b.exceeded() { "error" } else { "hint" } data-testid="form-budget">{budget_text(&b)}</p>
        })}
    }
}
