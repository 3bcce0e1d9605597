//! New migration: pick the source's database from a list, the collections (several at once),
//! their target names (checked as you type, with what the target already holds under each),
//! filters, the target, the policies and how hard to push. A dry run says what Start would
//! do without writing; Start hands the job to the server.
//!
//! `?from=<job>` fills the form with a job's settings ("New job with the same settings");
//! after Start the form's address becomes `?from=<new job>&started=1`, so that Back from
//! the job shows what was started instead of a blank form that invites a second Start.

use crate::{
    components::{
        collection_picker::{CollectionPicker, Row},
        dry_run::DryRunView,
        name_prompt::use_name_prompt,
        online::ModeChoice,
        policies::{parse, selected, PolicySelect, DOCUMENT_IDS, FIELD_NAMES, NON_FINITE_NUMBERS, UNSUPPORTED_VALUES},
        status::{Empty, ErrorBox, Loading},
    },
    jobs::{job_details, name_problem, DryRun, StartMigration},
    live::who,
    sources::{list_collections, list_databases, list_sources},
    targets::{list_targets, target_contents},
    views::{CollectionRequest, MigrationRequest},
};
use engine::{
    naming::target_name,
    policy::ConversionPolicy,
    tuning::{BATCH_SIZE, PARALLEL_RANGES},
};
use leptos::{html, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn MigratePage() -> impl IntoView {
    let query = use_query_map();
    let query_value = move |name: &str| query.read_untracked().get(name).filter(|v| !v.is_empty());
    let from = query_value("from");
    let started = query_value("started").is_some();
    let source = RwSignal::new(query_value("source").unwrap_or_else(|| "default".into()));
    let database = RwSignal::new(query_value("database").unwrap_or_default());
    let preselected = query_value("collection");
    let target = RwSignal::new("sandbox".to_string());
    let policy = RwSignal::new(ConversionPolicy::default());
    let ranges = RwSignal::new(PARALLEL_RANGES.default);
    let batch = RwSignal::new(BATCH_SIZE.default);
    // The collections of the job the form was filled from, applied once its rows exist.
    let wanted: RwSignal<Option<Vec<CollectionRequest>>> = RwSignal::new(None);
    let online = RwSignal::new(false);

    let sources = Resource::new(|| (), |_| list_sources());
    let targets = Resource::new(|| (), |_| list_targets());
    let databases = Resource::new(move || source.get(), list_databases);
    let collections = Resource::new(
        move || (source.get(), database.get()),
        |(s, d)| async move { if d.is_empty() { Ok(Vec::new()) } else { list_collections(s, d).await } },
    );
    let contents = Resource::new(move || target.get(), target_contents);
    let from_job = from.clone();
    let prefill = Resource::new(move || from_job.clone(), |from| async move {
        match from {
            Some(id) => job_details(id).await.map(Some),
            None => Ok(None),
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(Some(details))) = prefill.get() {
            if let Some(request) = details.request {
                source.set(request.source);
                database.set(request.database);
                target.set(request.target);
                policy.set(request.policy);
                ranges.set(request.parallel_ranges);
                batch.set(request.batch_size);
                online.set(request.online);
                wanted.set(Some(request.collections));
            }
        }
    });
    // A target list without the sandbox: the first target is the default.
    Effect::new(move |_| {
        if let Some(Ok(list)) = targets.get() {
            if !list.iter().any(|t| t.id == target.get_untracked()) {
                if let Some(first) = list.first() {
                    target.set(first.id.clone());
                }
            }
        }
    });
    let rows: RwSignal<Vec<Row>> = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        let Some(Ok(list)) = collections.get() else { return };
        let wanted = wanted.get();
        rows.set(
            list.into_iter()
                .map(|c| {
                    let chosen = wanted.as_ref().and_then(|w| w.iter().find(|r| r.source == c.name));
                    match chosen {
                        Some(r) => Row::new(c.name.clone(), true, r.target.clone(), r.filter.clone(), r.deny.join(", "), r.vector.clone()),
                        None => Row::new(c.name.clone(), wanted.is_none() && preselected.as_deref() == Some(c.name.as_str()), target_name(&c.name), String::new(), String::new(), None),
                    }
                })
                .collect(),
        );
    });
    // "Map it" beside the dry run's proposal fills that collection's embedding field.
    let on_use_vector = Callback::new(move |(collection, mapping): (String, engine::policy::VectorMapping)| {
        if let Some(row) = rows.get_untracked().into_iter().find(|r| r.name.get_value() == collection) {
            row.use_mapping(mapping);
        }
    });

    let request = move || MigrationRequest {
        source: source.get_untracked(),
        database: database.get_untracked(),
        collections: rows.get_untracked().iter().filter(|r| r.selected.get_untracked()).map(Row::request).collect(),
        target: target.get_untracked(),
        policy: policy.get_untracked(),
        parallel_ranges: ranges.get_untracked(),
        batch_size: batch.get_untracked(),
        who: who(),
        online: online.get_untracked(),
    };
    let dry_run = ServerAction::<DryRun>::new();
    let start = ServerAction::<StartMigration>::new();
    let prompt = use_name_prompt();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            remember_started(&id);
            navigate(&format!("/jobs/{id}"), Default::default());
        }
    });
    let report = NodeRef::<html::Div>::new();
    Effect::new(move |_| {
        if dry_run.value().get().is_some() {
            scroll_to(report);
        }
    });
    let invalid = move || {
        let rows = rows.get();
        rows.iter().any(|r| r.selected.get() && name_problem(&r.target.get()).is_some()) || !rows.iter().any(|r| r.selected.get())
    };

    view! {
        <Title text=move || match database.get().as_str() {
            "" => "New migration · docshift".to_owned(),
            database => format!("New migration from {database} · docshift"),
        }/>
        <h1>"New migration"</h1>
        {from.clone().map(|id| {
            let href = format!("/jobs/{id}");
            if started {
                view! {
                    <p class="notice" data-testid="started-notice">
                        "You started " <a href=href>"job " <code>{id.clone()}</code></a> " from this form. "
                        "Starting again makes a second job into the same collections: the documents already there are kept, not overwritten, and count as already present."
                    </p>
                }.into_any()
            } else {
                view! {
                    <p class="notice" data-testid="from-notice">
                        "The settings of " <a href=href>"job " <code>{id.clone()}</code></a> ". Check them, then run a dry run or start."
                    </p>
                }.into_any()
            }
        })}
        <Transition>
            {move || match prefill.get() {
                Some(Err(error)) => Some(view! { <ErrorBox error/> }.into_any()),
                Some(Ok(Some(details))) if details.request.is_none() => Some(view! {
                    <p class="error">"The source or the target of that job is no longer configured here: choose them again."</p>
                }.into_any()),
                _ => None,
            }}
        </Transition>
        <div class="form wide" data-testid="migrate-form">
            <div class="row">
                <label>"Source"
                    <Suspense fallback=Loading>
                        <select on:change=move |ev| { source.set(event_target_value(&ev)); database.set(String::new()); } prop:value=move || source.get() data-testid="source">
                            {move || sources.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|s| {
                                let id = s.id.clone();
                                view! { <option value=id.clone() selected=move || source.get() == id>{s.name}</option> }
                            }).collect_view()}
                        </select>
                    </Suspense>
                </label>
                <label>"Database"
                    <Suspense fallback=Loading>
                        <select prop:value=move || database.get() on:change=move |ev| { wanted.set(None); database.set(event_target_value(&ev)); } data-testid="database">
                            <option value="" selected=move || database.get().is_empty()>"Choose a database…"</option>
                            {move || {
                                let mut names: Vec<String> = databases.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|d| d.name).collect();
                                let current = database.get();
                                if !current.is_empty() && !names.contains(&current) {
                                    names.push(current);
                                }
                                names.into_iter().map(|name| {
                                    let value = name.clone();
                                    view! { <option value=value.clone() selected=move || database.get() == value>{name}</option> }
                                }).collect_view()
                            }}
                        </select>
                    </Suspense>
                </label>
                <label>"Target"
                    <Suspense fallback=Loading>
                        <select on:change=move |ev| target.set(event_target_value(&ev)) prop:value=move || target.get() data-testid="target">
                            {move || targets.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|t| {
                                let id = t.id.clone();
                                view! { <option value=id.clone() selected=move || target.get() == id>{t.name} " · " {t.keyspace}</option> }
                            }).collect_view()}
                        </select>
                    </Suspense>
                </label>
            </div>
            <Transition>
                {move || databases.get().and_then(Result::err).map(|error| view! { <ErrorBox error/> })}
                {move || contents.get().and_then(Result::err).map(|error| view! { <ErrorBox error/> })}
            </Transition>

            <ModeChoice online/>

            <h2>"Collections"</h2>
            <Suspense fallback=Loading>
                {move || collections.get().map(|result| match result {
                    Err(error) => view! { <ErrorBox error/> }.into_any(),
                    Ok(_) if database.get().is_empty() => view! { <Empty testid="choose-database" text="Choose a database to see its collections."/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <Empty text="This database has no collections."/> }.into_any(),
                    Ok(_) => view! { <CollectionPicker rows contents=Signal::derive(move || contents.get().and_then(Result::ok))/> }.into_any(),
                })}
            </Suspense>

            <h2>"Policies"</h2>
            <p class="hint">"The defaults never lose or change a value: what Astra can't hold as it is goes to the dead letters, with its reason."</p>
            <div class="row">
                <PolicySelect choice=UNSUPPORTED_VALUES value=Signal::derive(move || selected(&policy.get().unsupported_values))
                    set=move |v| policy.update(|p| p.unsupported_values = parse(v).unwrap_or_default())/>
                <PolicySelect choice=NON_FINITE_NUMBERS value=Signal::derive(move || selected(&policy.get().non_finite_numbers))
                    set=move |v| policy.update(|p| p.non_finite_numbers = parse(v).unwrap_or_default())/>
                <PolicySelect choice=DOCUMENT_IDS value=Signal::derive(move || selected(&policy.get().document_ids))
                    set=move |v| policy.update(|p| p.document_ids = parse(v).unwrap_or_default())/>
                <PolicySelect choice=FIELD_NAMES value=Signal::derive(move || selected(&policy.get().field_names))
                    set=move |v| policy.update(|p| p.field_names = parse(v).unwrap_or_default())/>
            </div>
            <div class="row">
                <label>"Parallel ranges per collection"
                    <input type="number" min=PARALLEL_RANGES.min.to_string() max=PARALLEL_RANGES.max.to_string() prop:value=move || ranges.get().to_string()
                        on:change=move |ev| ranges.set(event_target_value(&ev).parse().unwrap_or(PARALLEL_RANGES.default))/>
                </label>
                <label>"Batch size"
                    <input type="number" min=BATCH_SIZE.min.to_string() max=BATCH_SIZE.max.to_string() prop:value=move || batch.get().to_string()
                        on:change=move |ev| batch.set(event_target_value(&ev).parse().unwrap_or(BATCH_SIZE.default))/>
                </label>
            </div>
            <div class="actions">
                <button class="secondary" data-testid="dry-run" disabled=move || invalid() || dry_run.pending().get()
                    on:click=move |_| { dry_run.dispatch(DryRun { request: request() }); }>
                    {move || if dry_run.pending().get() { "Checking…" } else { "Dry run" }}
                </button>
                <button data-testid="start" disabled=move || invalid() || start.pending().get()
                    on:click=move |_| prompt.act(move || { start.dispatch(StartMigration { request: request() }); })>
                    {move || if start.pending().get() { "Starting…" } else { "Start migration" }}
                </button>
            </div>
            <p class="visually-hidden" aria-live="polite">
                {move || match dry_run.value().get() {
                    Some(Ok(_)) => "The dry run is done: its report follows the buttons.",
                    Some(Err(_)) => "The dry run failed.",
                    None if dry_run.pending().get() => "Running the dry run…",
                    None => "",
                }}
            </p>
            {move || start.value().get().and_then(Result::err).map(|error| view! { <ErrorBox error/> })}
            <div node_ref=report class="scroll-anchor">
                {move || match dry_run.value().get() {
                    Some(Ok(report)) => view! { <DryRunView report source=source.get_untracked() database=database.get_untracked() on_use_vector/> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox error/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </div>
    }
}

/// Makes this form's entry in the history say which job it started (see the module header).
fn remember_started(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("/migrate?from={id}&started=1")));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Brings the dry run's report into view once it has rendered.
fn scroll_to(target: NodeRef<html::Div>) {
    request_animation_frame(move || {
        if let Some(element) = target.get_untracked() {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_behavior(web_sys::ScrollBehavior::Smooth);
            options.set_block(web_sys::ScrollLogicalPosition::Start);
            element.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
}
