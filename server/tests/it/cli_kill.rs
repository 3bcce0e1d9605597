//! Issue 5's crash test: a 100,000-document `docshift migrate` is killed with SIGKILL at
//! random points (three times while copying, once more while verifying if it gets the
//! chance), each time restarted with `docshift resume ID`, until it exits 0. Then the target
//! holds exactly the source's documents, none twice, and the final report says verified and
//! names the read plan. The plan the engine picks for this source runs at full size; every
//! other plan (`--read-plan`), which checkpoints its own way, at a smaller size.
//!
//! And Ctrl-C (SIGINT): the job is paused, `docshift migrate` exits 130 saying how to go on,
//! and `docshift resume ID` finishes it. A pause from another process on the same state
//! directory (a `docshift serve`) ends `docshift migrate` too, and that process finishes it.
//!
//! astra-local runs inside the test process, so it outlives every `docshift` it serves.

use crate::common::cli::{astra, jobs, migrate_args, progress, spawn, target_ids, text, wait_until, MongoServer};
use astra_local::testing::TestAstra;
use engine::{
    job::JobManager,
    tuning::DOCUMENTS_IN_FLIGHT,
    wire::{JobProgress, JobStatus, PlanChoice, ReadPlanKind},
};
use rand::Rng;
use std::time::{Duration, Instant};
use tokio::process::Child;

const DOCUMENTS: u64 = 100_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_at_random_points_resumes_to_an_exact_verified_copy() -> Result<(), Box<dyn std::error::Error>> {
    killed_and_resumed(PlanChoice::Auto, DOCUMENTS, 3).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_parallel_ranges_it_resumes_to_an_exact_verified_copy() -> Result<(), Box<dyn std::error::Error>> {
    killed_and_resumed(PlanChoice::Forced(ReadPlanKind::ParallelRanges), 30_000, 2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_one_ordered_cursor_it_resumes_to_an_exact_verified_copy() -> Result<(), Box<dyn std::error::Error>> {
    killed_and_resumed(PlanChoice::Forced(ReadPlanKind::OrderedCursor), 30_000, 2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_under_one_natural_cursor_it_resumes_to_an_exact_verified_copy() -> Result<(), Box<dyn std::error::Error>> {
    killed_and_resumed(PlanChoice::Forced(ReadPlanKind::NaturalOrder), 30_000, 2).await
}

/// `documents` orders copied under `plan`, killed `times` times while copying (and once
/// more while verifying, when it can be), resumed each time, until the copy is exact.
async fn killed_and_resumed(plan: PlanChoice, documents: u64, times: usize) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let server = MongoServer::start();
    server.load_sample("shop", "orders", documents).await;
    eprintln!("loaded {documents} documents into SecantusDB in {:.1?}", started.elapsed());
    let state = tempfile::tempdir()?;
    let astra = astra().await;
    let manager = JobManager::open(state.path())?;
    let log = state.path().join("docshift.log");
    let state_dir = state.path().display().to_string();

    let mut rng = rand::thread_rng();
    // Up to 80 %, and far enough from the end for every kill to find the copy running:
    // batches commit in order, so when the oldest batch in flight is slow, the whole window
    // behind it commits at once, and each kill can land up to one window past its aim. Each
    // kill after the first waits for the resumed run to pass the one before, so the kills
    // together can overshoot by `times` windows; one more keeps the last short of the end.
    let windows = (times + 1) as f64 * DOCUMENTS_IN_FLIGHT as f64;
    let last = (0.8_f64).min(1.0 - windows / documents as f64);
    let mut kill_at: Vec<f64> = (0..times).map(|_| rng.gen_range(0.05..last)).collect();
    kill_at.sort_by(f64::total_cmp);

    let copy_started = Instant::now();
    let mut args = migrate_args(&server, &astra.endpoint(), state.path(), "shop");
    args.extend(["--collection", "orders", "--json", "--read-plan", plan.as_str()].map(String::from));
    let mut child = spawn(&args, &log);
    let mut kills: Vec<JobProgress> = Vec::new();
    for fraction in kill_at {
        // The run that was killed left its counts behind; the kill must wait for the resumed
        // run to copy past them, not strike while it is still starting.
        let passed = kills.last().map_or(0, |k| k.totals().accounted() + 1);
        let threshold = ((fraction * documents as f64) as u64).max(passed);
        let copying = |p: &JobProgress| p.status == JobStatus::Running && p.totals().accounted() >= threshold;
        if !wait_until(&mut child, &manager, copying).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..50))).await;
        child.start_kill()?;
        child.wait().await?;
        let at = progress(&manager).ok_or("no job after a kill")?;
        eprintln!("killed at {} of {documents} accounted for ({:.1?} in), status {}", at.totals().accounted(), copy_started.elapsed(), at.status.as_str());
        kills.push(at);
        // The way a user finds the job again.
        let id = jobs(state.path()).await.first().ok_or("docshift jobs lists no job")?.id.clone();
        child = spawn(&["resume".into(), id, "--state-dir".into(), state_dir.clone(), "--json".into()], &log);
    }
    assert_eq!(kills.len(), times, "the job ended before it could be killed {times} times: {}", text(&std::fs::read(&log)?));
    assert!(kills.iter().all(|p| p.status == JobStatus::Running && p.totals().accounted() < documents), "every kill hit a running copy");

    // Once more while it verifies, when the kill comes before the end.
    if wait_until(&mut child, &manager, |p| p.status == JobStatus::Verifying).await {
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..1_500))).await;
        if child.try_wait()?.is_none() {
            child.start_kill()?;
            child.wait().await?;
            let at = progress(&manager).ok_or("no job")?;
            eprintln!("killed while {} ({:.1?} in)", at.status.as_str(), copy_started.elapsed());
            if at.status != JobStatus::Complete {
                child = spawn(&["resume".into(), at.id.clone(), "--state-dir".into(), state_dir.clone(), "--json".into()], &log);
            }
        }
    }

    let output = child.wait_with_output().await?;
    let log_text = text(&std::fs::read(&log)?);
    assert!(output.status.success(), "the last run failed ({:?}): {}{log_text}", output.status, text(&output.stdout));
    eprintln!("copied and verified in {:.1?} with {} kills", copy_started.elapsed(), kills.len());
    let report: JobProgress = serde_json::from_slice(&output.stdout)?;
    assert_eq!(report.status, JobStatus::Complete);
    let orders = report.collections.first().ok_or("no collection in the report")?;
    let c = orders.counters;
    assert_eq!(c.matched, Some(documents));
    assert_eq!(c.dead_lettered, 0);
    assert_eq!(c.written + c.already_present, documents, "every document counted once: {c:?}");
    // The report says how the source was read, and why.
    let chosen = orders.plan.as_ref().ok_or("no read plan in the report")?;
    if let PlanChoice::Forced(kind) = plan {
        assert_eq!(chosen.kind, kind, "the plan asked for: {chosen:?}");
    }
    assert!(!chosen.reason.is_empty(), "{chosen:?}");
    eprintln!("read plan: {} ({})", chosen.kind.as_str(), chosen.reason);
    let verification = orders.verification.as_ref().ok_or("no verification")?;
    assert_eq!((verification.checked, verification.matching), (documents, documents));

    let read_started = Instant::now();
    let (ids, read) = target_ids(&astra.endpoint(), "orders").await;
    eprintln!("read {read} ids back from astra-local in {:.1?}; {} already present after the kills", read_started.elapsed(), c.already_present);
    assert_eq!(read as u64, documents, "the target holds as many documents as the source");
    assert_eq!(ids.len(), read, "no _id twice");
    eprintln!("whole test: {:.1?}", started.elapsed());
    Ok(())
}

/// A 20,000-document `docshift migrate --json`, some 2,000 documents in.
struct Copying {
    _server: MongoServer,
    astra: TestAstra,
    state: tempfile::TempDir,
    /// A manager on the same state directory, as a `docshift serve` would be.
    manager: JobManager,
    /// The child's stderr.
    log: std::path::PathBuf,
    child: Child,
}

const SMALL: u64 = 20_000;

async fn copying() -> Result<Copying, Box<dyn std::error::Error>> {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", SMALL).await;
    let state = tempfile::tempdir()?;
    let astra = astra().await;
    let manager = JobManager::open(state.path())?;
    let log = state.path().join("docshift.log");
    let mut args = migrate_args(&server, &astra.endpoint(), state.path(), "shop");
    // At 5,000 documents a second the copy has 3.6 s to go when the test acts at 2,000:
    // unthrottled, it could end between the test seeing 2,000 and its pause landing.
    args.extend(["--collection", "orders", "--json", "--max-rate", "5000"].map(String::from));
    let mut child = spawn(&args, &log);
    assert!(wait_until(&mut child, &manager, |p| p.totals().accounted() >= 2_000).await, "the job ended early: {}", text(&std::fs::read(&log)?));
    Ok(Copying { _server: server, astra, state, manager, log, child })
}

impl Copying {
    fn log(&self) -> String {
        text(&std::fs::read(&self.log).unwrap_or_default())
    }

    /// The job ended complete, every source document counted once and in the target.
    async fn assert_complete(&self, report: &JobProgress) {
        assert_eq!(report.status, JobStatus::Complete, "{:?}", report.message);
        let c = report.totals();
        assert_eq!((c.matched, c.written + c.already_present), (Some(SMALL), SMALL), "{c:?}");
        assert_eq!(target_ids(&self.astra.endpoint(), "orders").await.1 as u64, SMALL);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_pauses_the_job_and_resume_finishes_it() -> Result<(), Box<dyn std::error::Error>> {
    let mut run = copying().await?;
    let pid = run.child.id().ok_or("no pid")?.to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status()?.success());
    let status = run.child.wait().await?;
    let log_text = run.log();
    assert_eq!(status.code(), Some(130), "{log_text}");
    assert!(log_text.contains("is paused") && log_text.contains("docshift resume"), "{log_text}");
    let paused = progress(&run.manager).ok_or("no job")?;
    assert_eq!(paused.status, JobStatus::Paused, "{:?}", paused.message);
    assert!(paused.totals().accounted() < SMALL);

    let output = spawn(&["resume".into(), paused.id.clone(), "--state-dir".into(), run.state.path().display().to_string(), "--json".into()], &run.log)
        .wait_with_output()
        .await?;
    assert!(output.status.success(), "resume failed: {}", run.log());
    run.assert_complete(&serde_json::from_slice(&output.stdout)?).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_from_a_server_the_cli_stops_and_the_server_finishes_the_job() -> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::AsyncReadExt;
    let mut run = copying().await?;
    // What a `docshift serve` on the same state directory does when someone clicks Pause.
    let id = progress(&run.manager).ok_or("no job")?.id;
    run.manager.pause(&id, "Ada")?;

    // The CLI stops: its report, then the end of its output.
    let mut stdout = Vec::new();
    let mut pipe = run.child.stdout.take().ok_or("no stdout")?;
    tokio::time::timeout(Duration::from_secs(60), pipe.read_to_end(&mut stdout)).await??;
    let status = run.child.wait().await?;
    let log_text = run.log();
    assert_eq!(status.code(), Some(1), "{log_text}");
    let report: JobProgress = serde_json::from_slice(&stdout)?;
    assert_eq!(report.status, JobStatus::Paused);
    assert!(report.message.as_deref().is_some_and(|m| m.starts_with("Paused by Ada")), "{:?}", report.message);
    assert!(log_text.contains(&format!("docshift resume {id}")), "{log_text}");

    // It has let go of the job: the server resumes it and runs it to the end.
    run.manager.resume(&id, "Ada")?;
    let done = tokio::time::timeout(Duration::from_secs(120), run.manager.settled(&id)).await??;
    run.assert_complete(&done).await;
    Ok(())
}
