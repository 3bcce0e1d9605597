//! Server functions for migrations: the compatibility census, dry runs, starting jobs,
//! and pausing, resuming, cancelling and (online jobs) cutting them over. Progress itself arrives over the websocket.

use crate::{
    error::AppError,
    views::{DryRunCollection, MigrationRequest, RefusedView},
};
use engine::wire::{Census, JobProgress};
use leptos::{prelude::*, server_fn::codec::Json};

/// Documents the census reads at most per collection.
pub const CENSUS_LIMIT: u64 = 100_000;

/// Whether a target collection name is valid in Astra (the engine's rule); the problem in
/// words if not.
pub use engine::naming::name_problem;

/// The compatibility census of a collection, before any copy.
#[server(endpoint = "census")]
pub async fn run_census(source: String, database: String, collection: String) -> Result<Census, AppError> {
    let state = crate::state::state()?;
    let source = state.sources.connect(&source).await?;
    let exists = source.collections(&database).await?.iter().any(|c| c.name == collection);
    if !exists {
        return Err(engine::source::mongo::SourceError::NoSuchCollection { database, collection }.into());
    }
    let coll = source.client().database(&database).collection(&collection);
    engine::census::census(&coll, CENSUS_LIMIT).await.map_err(|e| AppError::Source(source.uri().explain(&e, std::time::Duration::from_secs(5)).to_string()))
}

/// The census and the name checks of a migration, without writing anything.
#[server(endpoint = "dry_run", input = Json)]
pub async fn dry_run(request: MigrationRequest) -> Result<Vec<DryRunCollection>, AppError> {
    let mut report = Vec::new();
    for collection in request.collections {
        let census = run_census(request.source.clone(), request.database.clone(), collection.source.clone()).await?;
        report.push(DryRunCollection { name_problem: name_problem(&collection.target), source: collection.source, target: collection.target, census });
    }
    Ok(report)
}

/// Checks and starts a migration; answers the job id.
#[server(endpoint = "start_migration", input = Json)]
pub async fn start_migration(request: MigrationRequest) -> Result<String, AppError> {
    let state = crate::state::state()?;
    let spec = ssr::spec(&state, request).await?;
    state.jobs.create(spec).await.map_err(|e| AppError::InvalidInput(e.to_string()))
}

#[server(endpoint = "list_jobs")]
pub async fn list_jobs() -> Result<Vec<JobProgress>, AppError> {
    crate::state::state()?.jobs.jobs().map_err(|e| AppError::Transport(e.to_string()))
}

/// The first refused documents of a job, for pages opened after they were refused.
#[server(endpoint = "job_dead_letters")]
pub async fn job_dead_letters(id: String) -> Result<Vec<RefusedView>, AppError> {
    let letters = crate::state::state()?.jobs.dead_letters(&id, Some(500)).map_err(|e| AppError::InvalidInput(e.to_string()))?;
    Ok(letters.into_iter().map(|l| RefusedView { collection: l.collection, id: l.id, code: l.code, reason: l.reason }).collect())
}

#[server(endpoint = "pause_job")]
pub async fn pause_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.pause(&id, &who_or_someone(&who)).map_err(|e| AppError::InvalidInput(e.to_string()))
}

#[server(endpoint = "resume_job")]
pub async fn resume_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.resume(&id, &who_or_someone(&who)).map_err(|e| AppError::InvalidInput(e.to_string()))
}

/// Cuts an online job over: the barrier is the source's time now (see `engine::job::JobManager::cutover`).
#[server(endpoint = "cutover_job")]
pub async fn cutover_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.cutover(&id, &who_or_someone(&who)).await.map_err(|e| AppError::InvalidInput(e.to_string()))
}

#[server(endpoint = "cancel_job")]
pub async fn cancel_job(id: String, who: String) -> Result<(), AppError> {
    crate::state::state()?.jobs.cancel(&id, &who_or_someone(&who)).map_err(|e| AppError::InvalidInput(e.to_string()))
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
    use crate::{error::AppError, state::AppState, views::MigrationRequest};
    use engine::{
        job::{CollectionSpec, JobMode, JobSpec},
        policy::Indexing,
        tuning::{BATCH_SIZE, PARALLEL_RANGES},
    };

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_name_is_someone() {
        assert_eq!(who_or_someone("  "), "someone");
    }
}
