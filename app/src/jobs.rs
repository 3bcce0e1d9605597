//! Server functions for migrations: the compatibility census, dry runs (what a job would
//! meet in the source and in the target), starting jobs, a job's details (settings,
//! timeline), pausing, resuming, cancelling, cutting over (online jobs) and deleting them.
//! Progress itself arrives over the websocket.

use crate::{
    error::AppError,
    views::{DryRunReport, JobInfo, MigrationRequest, RefusedView},
};
use engine::wire::{Census, JobProgress};
use leptos::{prelude::*, server_fn::codec::Json};

/// Documents the census reads at most per collection.
pub const CENSUS_LIMIT: u64 = 100_000;

/// What a page says for a job id the server does not know.
pub const NO_SUCH_JOB: &str = "No job with this id.";

/// Whether a target collection name is valid in Astra (the engine's rule); the problem in
/// words if not.
pub use engine::naming::name_problem;

/// The compatibility census of a collection, before any copy. Example `_id`s are readable
/// Extended JSON.
#[server(endpoint = "census")]
pub async fn run_census(source: String, database: String, collection: String) -> Result<Census, AppError> {
    let state = crate::state::state()?;
    let source = state.sources.connect(&source).await?;
    let exists = source.collections(&database).await?.iter().any(|c| c.name == collection);
    if !exists {
        return Err(engine::source::mongo::SourceError::NoSuchCollection { database, collection }.into());
    }
    let coll = source.client().database(&database).collection(&collection);
    let mut census = engine::census::census(&coll, CENSUS_LIMIT)
        .await
        .map_err(|e| AppError::Source(source.uri().explain(&e, std::time::Duration::from_secs(5)).to_string()))?;
    for reason in &mut census.reasons {
        reason.example_id = engine::convert::readable_id(&reason.example_id);
    }
    Ok(census)
}

/// What a migration would meet, without writing anything: per collection the census, the
/// name check and whether the target collection exists (and what it holds); the target
/// database's collection budget; the settings the job would run with.
#[server(endpoint = "dry_run", input = Json)]
pub async fn dry_run(request: MigrationRequest) -> Result<DryRunReport, AppError> {
    ssr::dry_run(request).await
}

/// Checks and starts a migration; answers the job id.
#[server(endpoint = "start_migration", input = Json)]
pub async fn start_migration(request: MigrationRequest) -> Result<String, AppError> {
    let state = crate::state::state()?;
    let who = who_or_someone(&request.who);
    let spec = ssr::spec(&state, request).await?;
    let endpoint = spec.target.describe();
    let id = state.jobs.create(spec).await.map_err(|e| ssr::job_problem(&endpoint, e))?;
    if let Err(err) = state.jobs.set_creator(&id, &who) {
        tracing::warn!(job = %id, error = %err, "cannot name who created the job");
    }
    Ok(id)
}

#[server(endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobProgress>, AppError> {
    crate::state::state()?.jobs.jobs().map_err(|e| AppError::Transport(e.to_string()))
}

/// A job's progress, settings and timeline; [`AppError::NotFound`] for an unknown id.
#[server(endpoint = "job_details")]
pub async fn job_details(id: String) -> Result<JobInfo, AppError> {
    ssr::details(&id).await
}

/// What happened to a job, oldest first.
#[server(endpoint = "job_timeline")]
pub async fn job_timeline(id: String) -> Result<Vec<engine::wire::TimelineEntry>, AppError> {
    crate::state::state()?.jobs.timeline(&id).map_err(ssr::control_problem)
}

/// The first refused documents of a job, for pages opened after they were refused.
#[server(endpoint = "job_dead_letters")]
pub async fn job_dead_letters(id: String) -> Result<Vec<RefusedView>, AppError> {
    let letters = crate::state::state()?.jobs.dead_letters(&id, Some(500)).map_err(ssr::control_problem)?;
    Ok(letters
        .into_iter()
        .map(|l| RefusedView {
            reason: ssr::plain_reason(&l.reason, &l.id, &l.code),
            id: engine::convert::readable_id(&l.id),
            collection: l.collection,
            code: l.code,
        })
        .collect())
}

#[server(endpoint = "pause_job")]
pub async fn pause_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.pause(&id, &who_or_someone(&who)).map_err(ssr::control_problem)
}

#[server(endpoint = "resume_job")]
pub async fn resume_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.resume(&id, &who_or_someone(&who)).map_err(ssr::control_problem)
}

/// Cuts an online job over: the barrier is the source's time now (see `engine::job::JobManager::cutover`).
#[server(endpoint = "cutover_job")]
pub async fn cutover_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.cutover(&id, &who_or_someone(&who)).await.map_err(|e| AppError::InvalidInput(e.to_string()))
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.cancel(&id, &who_or_someone(&who)).map_err(ssr::control_problem)
}

/// Forgets a job that has ended (its documents stay in the target).
#[server(endpoint = "delete_job")]
pub async fn delete_job(id: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.delete(&id).await.map_err(ssr::control_problem)
}

/// The name people give themselves, cut short, or "someone".
pub fn who_or_someone(who: &str) -> String {
    let who: String = who.trim().chars().filter(|c| !c.is_control()).take(40).collect();
    if who.is_empty() {
        "someone".into()
    } else {
        who
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{run_census, NO_SUCH_JOB};
    use crate::{
        error::{target_problem, AppError},
        state::{collection_state, state, writer_for, AppState, COLLECTION_LIMIT},
        views::{
            CollectionBudget, CollectionRequest, CollectionSettings, DryRunCollection, DryRunReport, JobInfo, JobSettings,
            MigrationRequest, TargetCollectionState,
        },
    };
    use engine::{
        job::{store::StoreError, CollectionSpec, JobError, JobMode, JobSpec, VerifyMode},
        naming::name_problem,
        policy::Indexing,
        source::mongo::SourceUri,
        tuning::{BATCH_SIZE, PARALLEL_RANGES},
    };
    use std::collections::HashSet;

    /// The server-side job spec of a request: the source URI and the target token are
    /// looked up here and never travel to the browser.
    pub async fn spec(state: &AppState, request: MigrationRequest) -> Result<JobSpec, AppError> {
        let source = state.sources.connect(&request.source).await?;
        let target = state.targets.spec(&request.target).await?;
        let collections = request
            .collections
            .into_iter()
            .map(|c| CollectionSpec {
                source: c.source,
                target: c.target,
                filter: Some(c.filter).filter(|f| !f.trim().is_empty()),
                indexing: Indexing { allow: None, deny: Some(c.deny).filter(|d| !d.is_empty()) },
                vector: c.vector,
            })
            .collect();
        Ok(JobSpec {
            // The job finds its target by this id each time it runs (a restarted sandbox, a
            // rotated token).
            target_id: Some(request.target.clone()),
            policy: request.policy,
            parallel_ranges: PARALLEL_RANGES.clamp(request.parallel_ranges),
            batch_size: BATCH_SIZE.clamp(request.batch_size),
            mode: if request.online { JobMode::Online } else { JobMode::Copy },
            ..JobSpec::new(source.uri().raw().to_owned(), request.database, collections, target)
        })
    }

    pub async fn dry_run(request: MigrationRequest) -> Result<DryRunReport, AppError> {
        let state = state()?;
        let spec = spec(&state, request.clone()).await?;
        let writer = writer_for(&spec.target)?;
        let endpoint = spec.target.describe();
        let existing = writer.collection_names().await.map_err(|e| target_problem(&endpoint, &e))?;
        let mut collections = Vec::with_capacity(request.collections.len());
        let mut created = HashSet::new();
        for collection in request.collections {
            let census = run_census(request.source.clone(), request.database.clone(), collection.source.clone()).await?;
            let state = match &existing {
                Some(names) if names.contains(&collection.target) => {
                    collection_state(&writer, &collection.target).await.map_err(|e| target_problem(&endpoint, &e))?
                }
                Some(_) => {
                    created.insert(collection.target.clone());
                    TargetCollectionState::New
                }
                None => TargetCollectionState::Unknown,
            };
            collections.push(DryRunCollection {
                name_problem: name_problem(&collection.target),
                source: collection.source,
                target: collection.target,
                census,
                existing: state,
                filter: collection.filter,
                deny: collection.deny,
                vector: collection.vector,
            });
        }
        let budget = existing.map(|names| CollectionBudget { existing: names.len(), created: created.len(), limit: COLLECTION_LIMIT });
        Ok(DryRunReport { collections, budget, settings: settings(&spec), target: endpoint })
    }

    /// A job's page: its progress, settings, timeline, and the form's request for the same job.
    pub async fn details(id: &str) -> Result<JobInfo, AppError> {
        let state = state()?;
        let progress = state.jobs.progress(id).map_err(control_problem)?;
        let spec = state.jobs.spec(id).map_err(control_problem)?;
        let timeline = state.jobs.timeline(id).map_err(control_problem)?;
        let source = SourceUri::parse(&spec.source_uri).map(|uri| uri.redacted()).unwrap_or_else(|_| "(unreadable source)".into());
        let request = match (state.sources.id_of(&spec.source_uri).await, state.targets.id_of(&spec.target).await) {
            (Some(source), Some(target)) => Some(request(&spec, source, target)),
            _ => None,
        };
        Ok(JobInfo { progress, settings: settings(&spec), timeline, source, request })
    }

    /// The settings of a spec, as the job page and the dry run show them.
    pub fn settings(spec: &JobSpec) -> JobSettings {
        JobSettings {
            collections: spec
                .collections
                .iter()
                .map(|c| CollectionSettings {
                    source: c.source.clone(),
                    target: c.target.clone(),
                    filter: c.filter.clone(),
                    deny: c.indexing.deny.clone().unwrap_or_default(),
                    vector: c.vector.clone(),
                })
                .collect(),
            policy: spec.policy,
            parallel_ranges: spec.parallel_ranges,
            batch_size: spec.batch_size,
            chunk_size: spec.chunk_size,
            in_flight: spec.in_flight,
            verify: match spec.verify {
                VerifyMode::All => "every document is read back and compared".into(),
                VerifyMode::Sample(n) => format!("about {} documents per collection are read back and compared", engine::wire::thousands(n)),
                VerifyMode::None => "no read-back (counts are still checked)".into(),
            },
        }
    }

    /// The New migration form's request for the job `spec` describes.
    fn request(spec: &JobSpec, source: String, target: String) -> MigrationRequest {
        MigrationRequest {
            source,
            database: spec.database.clone(),
            collections: spec
                .collections
                .iter()
                .map(|c| CollectionRequest {
                    source: c.source.clone(),
                    target: c.target.clone(),
                    filter: c.filter.clone().unwrap_or_default(),
                    deny: c.indexing.deny.clone().unwrap_or_default(),
                    vector: c.vector.clone(),
                })
                .collect(),
            target,
            policy: spec.policy,
            parallel_ranges: spec.parallel_ranges,
            batch_size: spec.batch_size,
            who: String::new(),
            online: spec.mode == JobMode::Online,
        }
    }

    /// Why a job could not be controlled or found, for the user.
    pub fn control_problem(err: JobError) -> AppError {
        match err {
            JobError::Store(StoreError::NoSuchJob(_)) => AppError::NotFound(NO_SUCH_JOB.into()),
            other => AppError::InvalidInput(other.to_string()),
        }
    }

    /// Why a job could not be created, for the user: plain sentences for the target.
    pub fn job_problem(target: &str, err: JobError) -> AppError {
        match err {
            JobError::Target(e) => target_problem(target, &e),
            JobError::Source(e) => e.into(),
            other => AppError::InvalidInput(other.to_string()),
        }
    }

    /// A dead letter's reason without what its row already shows: the
    /// `document <id> rejected: ` that repeats its `_id`, and its code before the first
    /// violation (`CODE at 'path': message` reads `path: message`).
    pub fn plain_reason(reason: &str, id: &str, code: &str) -> String {
        let reason = reason.strip_prefix(&format!("document {id} rejected: ")).unwrap_or(reason);
        let reason = match reason.strip_prefix(code) {
            Some(rest) => match rest.strip_prefix(" at '").and_then(|r| r.split_once("': ")) {
                Some((path, message)) => format!("{path}: {message}"),
                None => rest.strip_prefix(": ").unwrap_or(rest).to_owned(),
            },
            None => reason.to_owned(),
        };
        let mut chars = reason.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn a_reason_does_not_repeat_the_id_or_the_code() {
            let id = r#"{"a":{"$numberInt":"1"}}"#;
            let reason = format!("document {id} rejected: SHRED_BAD_DOCID_TYPE at '_id': the _id is object");
            assert_eq!(super::plain_reason(&reason, id, "SHRED_BAD_DOCID_TYPE"), "_id: the _id is object");
            let reason = "document 7 rejected: NESTED_TOO_DEEP: too deep; UNSUPPORTED_BSON_VALUE at 'r': a regex";
            assert_eq!(super::plain_reason(reason, "7", "NESTED_TOO_DEEP"), "Too deep; UNSUPPORTED_BSON_VALUE at 'r': a regex");
            assert_eq!(super::plain_reason("astra refused it", "x", "C"), "Astra refused it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_name_is_someone() {
        assert_eq!(who_or_someone("  "), "someone");
    }
}
