//! Issue 13's crash test: a `docshift migrate --online` while a writer keeps inserting,
//! updating, replacing and deleting; the process is killed with SIGKILL at random points twice
//! during the copy and twice while it follows the changes, each time restarted with `docshift
//! resume ID`; then `docshift cutover ID` from another process ends it. The target then holds
//! exactly the source's documents with the same content, none missing, none extra, and the
//! report says complete and verified.

use crate::common::cli::{astra, docshift, jobs, migrate_args, progress, spawn, text, wait_until, MongoServer, TOKEN};
use engine::{
    job::JobManager,
    testing::changes::{assert_same, SourceWriter},
    wire::{JobProgress, JobStatus, OnlinePhase},
};
use rand::Rng;
use std::time::{Duration, Instant};

const DOCUMENTS: u64 = 12_000;

fn phase(progress: &JobProgress) -> Option<OnlinePhase> {
    progress.online.as_ref().map(|o| o.phase)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_migration_killed_at_random_points_resumes_and_cuts_over_to_an_exact_copy() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let server = MongoServer::start();
    server.load_sample("shop", "orders", DOCUMENTS).await;
    let state = tempfile::tempdir()?;
    let astra = astra().await;
    let manager = JobManager::open(state.path())?;
    let log = state.path().join("docshift.log");
    let state_dir = state.path().display().to_string();
    let mut rng = rand::thread_rng();

    let writer = SourceWriter::start(&server.uri(), "shop", "orders", 150, 2).await;
    let mut args = migrate_args(&server, &astra.endpoint(), state.path(), "shop");
    args.extend(["--collection", "orders", "--online", "--json", "--in-flight", "8"].map(String::from));
    let mut child = spawn(&args, &log);
    let resume = |id: &str| -> Vec<String> { ["resume", id, "--state-dir", &state_dir, "--json"].map(String::from).to_vec() };

    // Twice while copying.
    let mut at: Vec<f64> = (0..2).map(|_| rng.gen_range(0.1..0.8)).collect();
    at.sort_by(f64::total_cmp);
    let mut kills = Vec::new();
    for fraction in at {
        let threshold = (fraction * DOCUMENTS as f64) as u64;
        // Before its anchor is taken a job has no phase yet: that is not past the copy.
        let copying = wait_until(&mut child, &manager, |p| match phase(p) {
            Some(OnlinePhase::Copying) => p.totals().accounted() >= threshold,
            Some(_) => true,
            None => false,
        })
        .await;
        assert!(copying, "docshift ended while copying: {}", text(&std::fs::read(&log)?));
        child.start_kill()?;
        child.wait().await?;
        let p = progress(&manager).ok_or("no job after a kill")?;
        eprintln!("killed at {} documents accounted for, {:?} ({:.1?} in)", p.totals().accounted(), phase(&p), started.elapsed());
        kills.push(p.clone());
        let id = jobs(state.path()).await.first().ok_or("docshift jobs lists no job")?.id.clone();
        child = spawn(&resume(&id), &log);
    }
    assert!(kills.iter().any(|p| phase(p) == Some(OnlinePhase::Copying)), "a kill hit the copy");

    // Twice while following the changes.
    for _ in 0..2 {
        let following = wait_until(&mut child, &manager, |p| phase(p) == Some(OnlinePhase::Following)).await;
        assert!(following, "docshift ended while following: {}", text(&std::fs::read(&log)?));
        tokio::time::sleep(Duration::from_millis(rng.gen_range(300..2_500))).await;
        child.start_kill()?;
        child.wait().await?;
        let p = progress(&manager).ok_or("no job")?;
        eprintln!("killed while following, {:?} applied ({:.1?} in)", p.online.as_ref().map(|o| o.applied.total()), started.elapsed());
        child = spawn(&resume(&p.id), &log);
    }

    // The writer stops; docshift catches up; another process cuts over.
    let written = writer.stop().await;
    let caught_up = wait_until(&mut child, &manager, |p| {
        p.online.as_ref().is_some_and(|o| o.phase == OnlinePhase::Following && o.lag_seconds == Some(0.0) && o.waiting == 0)
    })
    .await;
    assert!(caught_up, "docshift ended before catching up: {}", text(&std::fs::read(&log)?));
    let id = progress(&manager).ok_or("no job")?.id;
    let cutover = tokio::process::Command::from(docshift(&["cutover", &id, "--state-dir", &state_dir, "--by", "Ada"])).output().await?;
    assert!(cutover.status.success(), "cutover failed: {}", text(&cutover.stderr));
    assert!(text(&cutover.stderr).contains("asked by Ada"), "{}", text(&cutover.stderr));

    let output = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output()).await??;
    let log_text = text(&std::fs::read(&log)?);
    assert!(output.status.success(), "the last run failed ({:?}): {}{log_text}", output.status, text(&output.stdout));
    let report: JobProgress = serde_json::from_slice(&output.stdout)?;
    assert_eq!(report.status, JobStatus::Complete, "{:?}", report.message);
    let message = report.message.clone().unwrap_or_default();
    assert!(message.contains("Cut over by Ada") && message.contains("the target equals the source as of"), "{message}");
    let online = report.online.as_ref().ok_or("no sync in the report")?;
    assert_eq!((online.phase, online.after_barrier), (OnlinePhase::Complete, 0));
    let verification = report.collections[0].verification.as_ref().ok_or("no verification")?;
    assert!(verification.passed(), "{verification:?}");
    eprintln!("writer: {written:?}; applied: {:?}", online.applied);

    let count = assert_same(&server.uri(), "shop", "orders", &astra.endpoint(), TOKEN, "orders").await;
    eprintln!("{count} documents equal in source and target; whole test {:.1?}", started.elapsed());
    Ok(())
}
