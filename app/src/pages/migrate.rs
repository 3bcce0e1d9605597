//! New migration: pick the collections (several at once), their target names (checked as
//! you type), filters, the target, the policies and how hard to push; a dry run runs the
//! census and the name checks without writing; Start hands the job to the server.

use crate::{
    components::{
        census::CensusReport,
        online::ModeChoice,
        status::{ErrorBox, Loading},
    },
    jobs::{name_problem, DryRun, StartMigration},
    live::who,
    sources::{list_collections, list_sources},
    targets::list_targets,
    views::{CollectionRequest, MigrationRequest},
};
use engine::{
    naming::target_name,
    policy::ConversionPolicy,
    tuning::{BATCH_SIZE, PARALLEL_RANGES},
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// One collection row of the form.
#[derive(Clone, Copy)]
struct Row {
    name: StoredValue<String>,
    selected: RwSignal<bool>,
    target: RwSignal<String>,
    filter: RwSignal<String>,
    deny: RwSignal<String>,
}

#[component]
pub fn MigratePage() -> impl IntoView {
    let query = use_query_map();
    let source = RwSignal::new(query.read_untracked().get("source").unwrap_or_else(|| "default".into()));
    let database = RwSignal::new(query.read_untracked().get("database").unwrap_or_default());
    let preselected = query.read_untracked().get("collection");
    let target = RwSignal::new("sandbox".to_string());
    let policy = RwSignal::new(ConversionPolicy::default());
    let ranges = RwSignal::new(PARALLEL_RANGES.default);
    let batch = RwSignal::new(BATCH_SIZE.default);
    let online = RwSignal::new(false);

    let sources = Resource::new(|| (), |_| list_sources());
    let targets = Resource::new(|| (), |_| list_targets());
    let collections = Resource::new(move || (source.get(), database.get()), |(s, d)| list_collections(s, d));
    let rows: RwSignal<Vec<Row>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        if let Some(Ok(list)) = collections.get() {
            rows.set(
                list.into_iter()
                    .map(|c| Row {
                        selected: RwSignal::new(preselected.as_deref() == Some(c.name.as_str())),
                        target: RwSignal::new(target_name(&c.name)),
                        filter: RwSignal::new(String::new()),
                        deny: RwSignal::new(String::new()),
                        name: StoredValue::new(c.name),
                    })
                    .collect(),
            );
        }
    });

    let request = move || MigrationRequest {
        source: source.get_untracked(),
        database: database.get_untracked(),
        collections: rows
            .get_untracked()
            .iter()
            .filter(|r| r.selected.get_untracked())
            .map(|r| CollectionRequest {
                source: r.name.get_value(),
                target: r.target.get_untracked(),
                filter: r.filter.get_untracked(),
                deny: r.deny.get_untracked().split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
                vector: None,
            })
            .collect(),
        target: target.get_untracked(),
        policy: policy.get_untracked(),
        parallel_ranges: ranges.get_untracked(),
        batch_size: batch.get_untracked(),
        who: who(),
        online: online.get_untracked(),
    };
    let dry_run = ServerAction::<DryRun>::new();
    let start = ServerAction::<StartMigration>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/jobs/{id}"), Default::default());
        }
    });
    let invalid = move || rows.get().iter().any(|r| r.selected.get() && name_problem(&r.target.get()).is_some()) || !rows.get().iter().any(|r| r.selected.get());

    view! {
        <h1>"New migration"</h1>
        <div class="form wide" data-testid="migrate-form">
            <div class="row">
                <label>"Source"
                    <Suspense fallback=Loading>
                        <select on:change=move |ev| source.set(event_target_value(&ev)) prop:value=move || source.get()>
                            {move || sources.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                                let id = s.id.clone();
                                view! { <option value=id.clone() selected=move || source.get() == id>{s.name}</option> }
                            }).collect_view()}
                        </select>
                    </Suspense>
                </label>
                <label>"Database" <input type="text" prop:value=move || database.get() on:change=move |ev| database.set(event_target_value(&ev)) data-testid="database"/></label>
                <label>"Target"
                    <Suspense fallback=Loading>
                        <select on:change=move |ev| target.set(event_target_value(&ev)) data-testid="target">
                            {move || targets.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| {
                                let id = t.id.clone();
                                view! { <option value=id.clone() selected=move || target.get() == id>{t.name} " — " {t.keyspace}</option> }
                            }).collect_view()}
                        </select>
                    </Suspense>
                </label>
            </div>

            <ModeChoice online/>

            <h2>"Collections"</h2>
            <Suspense fallback=Loading>
                {move || collections.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                    Ok(_) => view! {
                        <table data-testid="collections-picker">
                            <thead><tr><th></th><th>"Collection"</th><th>"Target name"</th><th>"Filter (JSON)"</th><th>"indexing.deny"</th></tr></thead>
                            <tbody>
                                <For each=move || rows.get() key=|r| r.name.get_value() let:row>
                                    <tr data-collection=row.name.get_value()>
                                        <td><input type="checkbox" prop:checked=move || row.selected.get() on:change=move |ev| row.selected.set(event_target_checked(&ev)) aria-label=format!("migrate {}", row.name.get_value())/></td>
                                        <td>{row.name.get_value()}</td>
                                        <td>
                                            <input type="text" prop:value=move || row.target.get() on:input=move |ev| row.target.set(event_target_value(&ev)) data-testid="target-name"/>
                                            {move || name_problem(&row.target.get()).map(|p| view! { <span class="field-error" data-testid="name-problem">{p}</span> })}
                                        </td>
                                        <td><input type="text" placeholder=r#"{"status": "shipped"}"# prop:value=move || row.filter.get() on:input=move |ev| row.filter.set(event_target_value(&ev))/></td>
                                        <td><input type="text" placeholder="payload, history.items" prop:value=move || row.deny.get() on:input=move |ev| row.deny.set(event_target_value(&ev))/></td>
                                    </tr>
                                </For>
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Suspense>

            <h2>"Policies"</h2>
            <p class="hint">"The defaults never lose or change a value: what Astra can't hold as it is goes to the dead letters, with its reason."</p>
            <div class="row">
                <PolicySelect label="Types with no JSON form (regex, timestamp, …)"
                    options=&[("reject", "reject the document"), ("asString", "write as a string"), ("asTaggedObject", "write as a tagged object")]
                    set=move |v| policy.update(|p| p.unsupported_values = parse(v).unwrap_or_default())/>
                <PolicySelect label="NaN and ±Infinity"
                    options=&[("reject", "reject the document"), ("asString", "write as a string"), ("asTaggedObject", "write as a tagged object"), ("asNull", "write null (loses the value)")]
                    set=move |v| policy.update(|p| p.non_finite_numbers = parse(v).unwrap_or_default())/>
                <PolicySelect label="Object or array _id"
                    options=&[("reject", "reject the document"), ("canonicalString", "use its canonical string")]
                    set=move |v| policy.update(|p| p.document_ids = parse(v).unwrap_or_default())/>
                <PolicySelect label="Field names starting with $"
                    options=&[("reject", "reject the document"), ("rename", "rename ($a → _$a)")]
                    set=move |v| policy.update(|p| p.field_names = parse(v).unwrap_or_default())/>
            </div>
            <div class="row">
                <label>"Parallel ranges per collection" <input type="number" min=PARALLEL_RANGES.min.to_string() max=PARALLEL_RANGES.max.to_string() prop:value=move || ranges.get().to_string() on:change=move |ev| ranges.set(event_target_value(&ev).parse().unwrap_or(PARALLEL_RANGES.default))/></label>
                <label>"Batch size" <input type="number" min=BATCH_SIZE.min.to_string() max=BATCH_SIZE.max.to_string() prop:value=move || batch.get().to_string() on:change=move |ev| batch.set(event_target_value(&ev).parse().unwrap_or(BATCH_SIZE.default))/></label>
            </div>
            <div class="actions">
                <button class="secondary" data-testid="dry-run" disabled=move || invalid() || dry_run.pending().get()
                    on:click=move |_| { dry_run.dispatch(DryRun { request: request() }); }>
                    {move || if dry_run.pending().get() { "Checking…" } else { "Dry run" }}
                </button>
                <button data-testid="start" disabled=move || invalid() || start.pending().get()
                    on:click=move |_| { start.dispatch(StartMigration { request: request() }); }>
                    {move || if start.pending().get() { "Starting…" } else { "Start migration" }}
                </button>
            </div>
            {move || match start.value().get() {
                Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
                _ => ().into_any(),
            }}
            {move || match dry_run.value().get() {
                Some(Ok(report)) => view! {
                    <div data-testid="dry-run-report">
                        {report.into_iter().map(|c| view! {
                            <h3>{c.source.clone()} " → " {c.target.clone()}</h3>
                            {c.name_problem.map(|p| view! { <p class="error">{p}</p> })}
                            <CensusReport census=c.census/>
                        }).collect_view()}
                    </div>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}

fn parse<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_str(&format!("\"{value}\"")).ok()
}

#[component]
fn PolicySelect(label: &'static str, options: &'static [(&'static str, &'static str)], set: impl Fn(&str) + 'static) -> impl IntoView {
    view! {
        <label>{label}
            <select on:change=move |ev| set(&event_target_value(&ev))>
                {options.iter().map(|(value, text)| view! { <option value=*value>{*text}</option> }).collect_view()}
            </select>
        </label>
    }
}
