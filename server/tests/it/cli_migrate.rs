//! `docshift migrate`, `jobs` and `dead-letters` as a script would run them, against
//! SecantusDB and astra-local: the exit status, the JSON report and its accounting, the
//! dead letters as JSON Lines, and bad input refused before any write without a secret shown.

use bson::{doc, Document};
use crate::common::cli::{astra, jobs, migrate_args, replace, run, target_ids, text, MongoServer, TOKEN};
use engine::{sample::refused_count, wire::JobStatus};

#[derive(serde::Deserialize)]
struct Report {
    #[serde(flatten)]
    progress: engine::wire::JobProgress,
    dead_letters: usize,
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_migration_reports_json_exits_zero_and_is_listed() -> Result<(), Box<dyn std::error::Error>> {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 4_000).await;
    server.load_sample("shop", "customers", 2_000).await;
    let client = mongodb::Client::with_uri_str(server.uri()).await?;
    let shipped = client.database("shop").collection::<Document>("orders").count_documents(doc! { "status": "shipped" }).await?;
    assert!(shipped > 0);
    let state = tempfile::tempdir()?;
    let astra = astra().await;

    let mut args = migrate_args(&server, &astra.endpoint(), state.path(), "shop");
    args.extend(
        ["--collection", "orders", "--filter", r#"{"status": "shipped"}"#, "--target-collection", "shipped_orders", "--collection", "customers", "--json"]
            .map(String::from),
    );
    let output = run(&strs(&args)).await;
    assert!(output.status.success(), "migrate failed: {}", text(&output.stderr));
    let report: Report = serde_json::from_slice(&output.stdout)?;
    let job = &report.progress;
    assert_eq!(job.status, JobStatus::Complete);
    assert_eq!(report.dead_letters, 0);
    let expected = [("orders", "shipped_orders", shipped), ("customers", "customers", 2_000)];
    for (collection, (source, target, matched)) in job.collections.iter().zip(expected) {
        assert_eq!((collection.source.as_str(), collection.target.as_str()), (source, target));
        let c = collection.counters;
        assert_eq!(c.matched, Some(matched), "{source}");
        assert_eq!(c.written + c.already_present + c.dead_lettered, matched, "{source}");
        let verification = collection.verification.as_ref().ok_or("no verification")?;
        assert_eq!((verification.checked, verification.matching), (matched, matched), "{source}");
    }
    assert_eq!(target_ids(&astra.endpoint(), "shipped_orders").await.0.len() as u64, shipped);

    let listed = jobs(state.path()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].status), (job.id.as_str(), JobStatus::Complete));
    let table = run(&["jobs", "--state-dir", &state.path().display().to_string()]).await;
    let table = text(&table.stdout);
    assert!(table.contains(&job.id) && table.contains("complete") && table.contains("orders → shipped_orders"), "{table}");
    Ok(())
}

#[tokio::test]
async fn refused_documents_come_out_of_dead_letters_one_json_line_each() -> Result<(), Box<dyn std::error::Error>> {
    let server = MongoServer::start();
    server.load_sample("analytics", "events", 3_000).await;
    server.load_sample("analytics", "sensor-readings", 1_000).await;
    let state = tempfile::tempdir()?;
    let astra = astra().await;

    let mut args = migrate_args(&server, &astra.endpoint(), state.path(), "analytics");
    args.extend(["--collection", "events", "--collection", "sensor-readings"].map(String::from));
    let output = run(&strs(&args)).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "migrate failed: {stdout}{stderr}");
    assert!(stderr.contains("sensor-readings is written to the Astra collection sensor_readings"), "{stderr}");
    assert!(stdout.contains("complete: every document is accounted for and verification passed"), "{stdout}");
    let refused = refused_count("events", 3_000) + refused_count("sensor-readings", 1_000);
    assert!(refused > 0);
    assert!(stdout.contains(&format!("{refused} documents were set aside")), "{stdout}");

    let id = jobs(state.path()).await.first().ok_or("no job listed")?.id.clone();
    let output = run(&["dead-letters", &id, "--state-dir", &state.path().display().to_string()]).await;
    assert!(output.status.success(), "dead-letters failed: {}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout).lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(lines.len() as u64, refused);
    for (collection, count) in [("events", 3_000), ("sensor-readings", 1_000)] {
        assert_eq!(lines.iter().filter(|l| l["collection"] == collection).count() as u64, refused_count(collection, count), "{collection}");
    }
    for line in &lines {
        assert!(line["id"].is_string() && line["code"].is_string() && !line["reason"].as_str().unwrap_or("").is_empty(), "{line}");
        assert!(line["document"]["_id"].is_object() || line["document"]["_id"].is_string(), "{line}");
    }
    Ok(())
}

#[tokio::test]
async fn bad_input_stops_before_any_write_and_never_shows_the_token() -> Result<(), Box<dyn std::error::Error>> {
    let server = MongoServer::start();
    server.load_sample("shop", "orders", 100).await;
    let state = tempfile::tempdir()?;
    let astra = astra().await;
    let endpoint = astra.endpoint();
    let unreachable = format!("http://127.0.0.1:{}", engine::testing::free_port());
    let base = |endpoint: &str| migrate_args(&server, endpoint, state.path(), "shop");
    let with = |mut args: Vec<String>, extra: &[&str]| {
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };

    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        ("unknown database", with(migrate_args(&server, &endpoint, state.path(), "nope"), &["--collection", "orders"]), "no database named \"nope\""),
        ("unknown collection", with(base(&endpoint), &["--collection", "ghosts"]), "no collection named \"ghosts\""),
        ("invalid filter", with(base(&endpoint), &["--collection", "orders", "--filter", "{not json"]), "filter of orders"),
        ("unreachable target", with(base(&unreachable), &["--collection", "orders"]), "127.0.0.1"),
        ("unknown keyspace", with(base(&endpoint), &["--collection", "orders", "--keyspace", "missing_ks"]), "missing_ks"),
        ("invalid target name", with(base(&endpoint), &["--collection", "orders", "--target-collection", "bad-name"]), "bad-name"),
        ("missing token variable", with(replace(base(&endpoint), "--token-env", "DOCSHIFT_CLI_TEST_UNSET"), &["--collection", "orders"]), "DOCSHIFT_CLI_TEST_UNSET"),
    ];
    for (case, args, expected) in cases {
        let output = run(&strs(&args)).await;
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(2), "{case}: {all}");
        assert!(all.contains(expected), "{case}: expected {expected:?} in {all}");
        assert!(!all.contains(TOKEN), "{case} printed the token: {all}");
    }

    let mut wrong = crate::common::cli::docshift(&strs(&with(replace(base(&endpoint), "--token-env", "WRONG_TOKEN"), &["--collection", "orders"])));
    wrong.env("WRONG_TOKEN", "AstraCS:wrong-token-secret");
    let wrong = tokio::process::Command::from(wrong).output().await?;
    let all = format!("{}{}", text(&wrong.stdout), text(&wrong.stderr));
    assert_eq!(wrong.status.code(), Some(2), "wrong token: {all}");
    assert!(all.contains("token") && !all.contains("wrong-token-secret"), "wrong token: {all}");

    let secret_uri = format!("mongodb://user:pw-secret@127.0.0.1:{}/?authSource=admin", server.port);
    let args = with(replace(base(&endpoint), "--source-uri", &secret_uri), &["--collection", "orders"]);
    let output = run(&strs(&args)).await;
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert!(!all.contains("pw-secret"), "the source password was printed: {all}");

    if output.status.success() {
        // This SecantusDB ignored the credentials, so that job ran: the others did not.
        assert_eq!(jobs(state.path()).await.len(), 1);
    } else {
        assert!(jobs(state.path()).await.is_empty(), "no job was created");
    }
    Ok(())
}
