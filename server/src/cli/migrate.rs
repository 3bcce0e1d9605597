//! `docshift migrate`: turns flags into a job spec, lets the engine check it (source,
//! database, collections, filters, target, token, keyspace) before anything is written,
//! runs the job with a progress bar and ends with the report and the exit status.

use super::{
    policy::PolicyArgs,
    progress::{self, Display},
    report, CliError, StateArgs,
};
use clap::{
    builder::{PossibleValue, PossibleValuesParser, TypedValueParser},
    ArgMatches,
};
use engine::{
    job::{target_name, CollectionSpec, JobMode, JobSpec, TargetSpec, VerifyMode},
    policy::{Indexing, InvalidVectorPolicy, VectorMapping, VectorMetric},
    tuning::{Setting, BATCH_SIZE, CHUNK_SIZE, IN_FLIGHT, MAX_RATE, PARALLEL_RANGES},
    wire::{PlanChoice, TargetKind},
};

/// Copy MongoDB collections into Astra DB, then verify the copy.
#[derive(clap::Args, Debug)]
#[command(after_long_help = "\
Per-collection options: --filter, --target-collection and --vector-field apply to the
--collection they follow:
  docshift migrate --database shop \\
      --collection orders --filter '{\"status\": \"shipped\"}' --target-collection shipped_orders \\
      --collection customers

With --online the job copies, then follows the source's changes until someone cuts over
(`docshift cutover ID` from another shell, or the web app), then verifies; the command runs
until then.

Exit status: 0 only when the job is complete (every document written, already present or
dead-lettered, and verification passed); 1 when it ran but did not complete (the report says
why: a failure, or someone paused or cancelled it in a `docshift serve` on the same state
directory; `docshift resume ID` continues a paused or interrupted job); 2 when the input was refused
before anything was written; 130 when interrupted by Ctrl-C (the job is paused).")]
pub struct MigrateArgs {
    /// The MongoDB source, e.g. mongodb://user:password@host:27017 or an Atlas
    /// mongodb+srv:// URI. Never printed.
    #[arg(long, env = "DOCSHIFT_SOURCE_URI", hide_env_values = true, value_name = "URI")]
    source_uri: String,
    /// The MongoDB database that holds the collections.
    #[arg(long, value_name = "DB")]
    database: String,
    /// A collection to migrate; repeat the flag for more. Its Astra name is the same with
    /// every character other than letters, digits and `_` replaced by `_` (the report shows
    /// each name that changed), unless --target-collection follows it.
    #[arg(long = "collection", value_name = "NAME", required = true)]
    collections: Vec<String>,
    /// A MongoDB filter, as (relaxed or canonical) Extended JSON, for the --collection it
    /// follows: only matching documents are copied, e.g. '{"status": "shipped"}'.
    #[arg(long = "filter", value_name = "JSON")]
    filters: Vec<String>,
    /// The Astra collection name for the --collection it follows (1 to 48 letters, digits
    /// or `_`).
    #[arg(long = "target-collection", value_name = "NAME")]
    target_collections: Vec<String>,
    /// Which Astra API to write through.
    #[arg(long, value_parser = target_kind(), default_value_t = TargetKind::DataApi)]
    target: TargetKind,
    /// The Astra database's API endpoint, e.g. https://<id>-<region>.apps.astra.datastax.com
    /// (or astra-local's address).
    #[arg(long, env = "ASTRA_DB_API_ENDPOINT", value_name = "URL")]
    endpoint: String,
    /// The keyspace to write into (the namespace, for the Document API).
    #[arg(long, visible_alias = "namespace", value_name = "KS", default_value = "default_keyspace")]
    keyspace: String,
    /// The name of the environment variable that holds the Astra application token
    /// (AstraCS:...). The token is read only from there, so it stays out of the command line
    /// and the process list, and is never printed.
    #[arg(long, value_name = "VAR", default_value = "ASTRA_DB_APPLICATION_TOKEN")]
    token_env: String,
    /// A document path Astra should not index, for every collection; repeat for more. This
    /// lifts the indexed-only limits (long arrays and strings, many properties) on it.
    #[arg(long = "unindexed", value_name = "PATH")]
    unindexed: Vec<String>,
    /// The field that holds the embedding of the --collection it follows (e.g. `embedding`,
    /// or `meta.embedding` inside an object): the Astra collection is created as a vector
    /// collection and the field becomes each document's `$vector` (an array of numbers or a
    /// BSON vector, subtype 9). After the copy, the report gives recall@10 of Astra's vector
    /// search against the exact neighbours.
    #[arg(long = "vector-field", value_name = "PATH")]
    vector_fields: Vec<String>,
    /// How the vector collections compare vectors.
    #[arg(long, value_enum, default_value_t = Metric::Cosine)]
    metric: Metric,
    /// The number of elements of every vector (default: the length of the first source
    /// vector).
    #[arg(long, value_name = "N")]
    vector_dimension: Option<usize>,
    /// Keep the vector field as an ordinary field too (unindexed above 1,000 elements).
    #[arg(long)]
    keep_vector_field: bool,
    /// What happens to a document whose vector is missing, of another length or holds NaN.
    #[arg(long, value_enum, default_value_t = InvalidVectors::DeadLetter)]
    invalid_vectors: InvalidVectors,
    #[arg(long, value_name = "N", default_value_t = PARALLEL_RANGES.default, help = bounded("Most `_id` ranges read in parallel per collection, when the source is read in ranges", PARALLEL_RANGES))]
    parallel_ranges: usize,
    /// How to read the source: `auto` measures it and chooses (parallel `_id` ranges where
    /// they are index scans and parallel reads gain, else one plain cursor in natural order);
    /// `ranges`, `ordered` (one `_id`-ordered cursor) or `natural` force a plan.
    #[arg(long, value_name = "PLAN", default_value = "auto", value_parser = parse_plan)]
    read_plan: PlanChoice,
    /// The most documents a second to copy and to read back, to leave a production database
    /// its headroom (default: as fast as the source and Astra allow).
    #[arg(long, value_name = "DOCS", value_parser = parse_rate)]
    max_rate: Option<u64>,
    #[arg(long, value_name = "N", default_value_t = BATCH_SIZE.default, help = bounded("Documents read and checkpointed per batch", BATCH_SIZE))]
    batch_size: usize,
    #[arg(long, value_name = "N", default_value_t = CHUNK_SIZE.default, help = bounded("Documents per insertMany request", CHUNK_SIZE))]
    chunk_size: usize,
    #[arg(long, value_name = "N", default_value_t = IN_FLIGHT.default, help = bounded("Most write requests in flight for the job; docshift adapts below it to Astra's answers", IN_FLIGHT))]
    in_flight: usize,
    /// What verification reads back from the target and compares with the source: `all`,
    /// `none` (counts only), or `sample:N` (about N documents per collection).
    #[arg(long, value_name = "MODE", default_value = "all", value_parser = parse_verify)]
    verify: VerifyMode,
    /// Copy, then keep applying the source's changes (its change streams: it must be a
    /// replica set) until `docshift cutover ID` or Cut over in the web app; then verify. The
    /// command runs until then.
    #[arg(long)]
    online: bool,
    #[command(flatten)]
    policy: PolicyArgs,
    #[command(flatten)]
    state: StateArgs,
    /// Print the final report as JSON on stdout (and no progress bar).
    #[arg(long)]
    json: bool,
}

/// `--metric`: see `engine::policy::VectorMetric`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Cosine,
    DotProduct,
    Euclidean,
}

/// `--invalid-vectors`: see `engine::policy::InvalidVectorPolicy`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum InvalidVectors {
    /// Set the document aside as a dead letter, with the reason.
    DeadLetter,
    /// Write the document without a vector (the field stays an ordinary field).
    WithoutVector,
}

impl MigrateArgs {
    /// The vector mapping of a collection whose --vector-field is `field`.
    fn vector_mapping(&self, field: String) -> VectorMapping {
        VectorMapping {
            field,
            dimension: self.vector_dimension.unwrap_or(0),
            metric: match self.metric {
                Metric::Cosine => VectorMetric::Cosine,
                Metric::DotProduct => VectorMetric::DotProduct,
                Metric::Euclidean => VectorMetric::Euclidean,
            },
            keep_field: self.keep_vector_field,
            on_invalid: match self.invalid_vectors {
                InvalidVectors::DeadLetter => InvalidVectorPolicy::DeadLetter,
                InvalidVectors::WithoutVector => InvalidVectorPolicy::WithoutVector,
            },
        }
    }
}

/// The help of a tuning flag: what it sets, and its bounds from the engine.
fn bounded(what: &str, setting: Setting) -> String {
    format!("{what} ({})", setting.range())
}

/// `--target`: one of the engine's target kinds, by name, each with its description.
fn target_kind() -> impl TypedValueParser<Value = TargetKind> {
    PossibleValuesParser::new(TargetKind::ALL.map(|kind| PossibleValue::new(kind.as_str()).help(kind.description())))
        .try_map(|name| TargetKind::parse(&name).ok_or(format!("unknown target kind {name}")))
}

fn parse_plan(text: &str) -> Result<PlanChoice, String> {
    PlanChoice::parse(text).ok_or_else(|| "expected auto, ranges, ordered or natural".into())
}

fn parse_rate(text: &str) -> Result<u64, String> {
    match text.replace(['_', ','], "").parse::<u64>() {
        Ok(n) if MAX_RATE.contains(n as usize) => Ok(n),
        _ => Err(format!("expected documents a second, {}", MAX_RATE.range())),
    }
}

fn parse_verify(text: &str) -> Result<VerifyMode, String> {
    match text {
        "all" => Ok(VerifyMode::All),
        "none" => Ok(VerifyMode::None),
        other => match other.strip_prefix("sample:").map(str::parse::<u64>) {
            Some(Ok(n)) if n > 0 => Ok(VerifyMode::Sample(n)),
            _ => Err("expected all, none or sample:N with N at least 1".into()),
        },
    }
}

impl MigrateArgs {
    /// The job these flags describe. `matches` are the subcommand's, to tell which
    /// --collection each --filter and --target-collection follows.
    fn job_spec(&self, matches: &ArgMatches) -> Result<JobSpec, CliError> {
        let filters = attach(matches, "filters", &self.filters, "--filter", self.collections.len())?;
        let targets = attach(matches, "target_collections", &self.target_collections, "--target-collection", self.collections.len())?;
        let vectors = attach(matches, "vector_fields", &self.vector_fields, "--vector-field", self.collections.len())?;
        let indexing = if self.unindexed.is_empty() { Indexing::default() } else { Indexing { allow: None, deny: Some(self.unindexed.clone()) } };
        let collections = self
            .collections
            .iter()
            .zip(filters.into_iter().zip(targets).zip(vectors))
            .map(|(source, ((filter, target), vector))| CollectionSpec {
                source: source.clone(),
                target: target.unwrap_or_else(|| target_name(source)),
                filter,
                indexing: indexing.clone(),
                vector: vector.map(|field| self.vector_mapping(field)),
            })
            .collect();
        let token = token_from_env(&self.token_env)?;
        let target = TargetSpec::new(self.target, self.endpoint.clone(), self.keyspace.clone(), token);
        Ok(JobSpec {
            source_uri: self.source_uri.clone(),
            database: self.database.clone(),
            collections,
            target,
            target_id: None,
            policy: self.policy.policy(),
            parallel_ranges: self.parallel_ranges,
            batch_size: self.batch_size,
            chunk_size: self.chunk_size,
            in_flight: self.in_flight,
            verify: self.verify,
            read_plan: self.read_plan,
            max_rate: self.max_rate,
            mode: if self.online { JobMode::Online } else { JobMode::Copy },
        })
    }
}

/// Pairs each value of a per-collection flag with the --collection it follows.
fn attach(matches: &ArgMatches, id: &str, values: &[String], flag: &str, collections: usize) -> Result<Vec<Option<String>>, CliError> {
    let mut attached = vec![None; collections];
    if values.is_empty() {
        return Ok(attached);
    }
    let collection_at: Vec<usize> = matches.indices_of("collections").map(Iterator::collect).unwrap_or_default();
    let value_at: Vec<usize> = matches.indices_of(id).map(Iterator::collect).unwrap_or_default();
    for (value, at) in values.iter().zip(value_at) {
        let Some(owner) = collection_at.iter().rposition(|&c| c < at) else {
            return Err(CliError::Input(format!("{flag} {value} comes before any --collection: put it after the --collection it is for")));
        };
        if attached[owner].is_some() {
            return Err(CliError::Input(format!("--collection {} is followed by {flag} twice: give it once", owner_name(matches, owner))));
        }
        attached[owner] = Some(value.clone());
    }
    Ok(attached)
}

fn owner_name(matches: &ArgMatches, index: usize) -> String {
    matches.get_many::<String>("collections").and_then(|mut names| names.nth(index)).cloned().unwrap_or_default()
}

/// The token from the environment variable `name`; a missing or empty one is an error that
/// says how to set it (and never shows a value).
fn token_from_env(name: &str) -> Result<String, CliError> {
    match std::env::var(name) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        Ok(_) => Err(CliError::Input(format!(
            "the environment variable {name} (named by --token-env) is empty: put the Astra application token (AstraCS:...) in it"
        ))),
        Err(std::env::VarError::NotPresent) => Err(CliError::Input(format!(
            "the environment variable {name} (named by --token-env) is not set: export {name}=AstraCS:... with the Astra application token"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(CliError::Input(format!("the environment variable {name} (named by --token-env) is not valid text")))
        }
    }
}

/// Runs `docshift migrate`.
pub async fn run(args: MigrateArgs, matches: &ArgMatches) -> Result<(), CliError> {
    let spec = args.job_spec(matches)?;
    let display = Display::choose(args.json);
    if !args.json {
        for collection in spec.collections.iter().filter(|c| c.target != c.source && c.target == target_name(&c.source)) {
            eprintln!(
                "docshift: {} is written to the Astra collection {} (Astra names allow only letters, digits and _)",
                collection.source, collection.target
            );
        }
    }
    let jobs = args.state.open()?;
    let events = jobs.subscribe();
    let id = jobs.create(spec).await?;
    eprintln!(
        "docshift: job {id} started (state in {}); if it stops, `docshift resume {id}` continues it",
        args.state.state_dir.display()
    );
    if args.online && !args.json {
        eprintln!("docshift: after the copy it follows the source's changes; `docshift cutover {id} --state-dir {}` ends it", args.state.state_dir.display());
    }
    let progress = progress::follow(&jobs, &id, events, display).await?;
    report::finish(&jobs, &progress, &args.state, args.json)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::{CommandFactory, FromArgMatches, Parser};

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        migrate: MigrateArgs,
    }

    fn spec(args: &[&str]) -> Result<JobSpec, CliError> {
        std::env::set_var("DOCSHIFT_TEST_TOKEN", "AstraCS:unit");
        let base = ["docshift", "--source-uri", "mongodb://h", "--database", "shop", "--endpoint", "http://a", "--token-env", "DOCSHIFT_TEST_TOKEN"];
        let matches = Flags::command().try_get_matches_from(base.iter().chain(args)).map_err(|e| CliError::Input(e.to_string()))?;
        let flags = Flags::from_arg_matches(&matches).unwrap();
        flags.migrate.job_spec(&matches)
    }

    #[test]
    fn filters_and_target_names_apply_to_the_collection_they_follow() {
        let spec = spec(&[
            "--collection",
            "orders",
            "--filter",
            r#"{"status":"shipped"}"#,
            "--target-collection",
            "shipped",
            "--collection",
            "sensor-readings",
            "--collection",
            "customers",
            "--filter",
            "{}",
        ])
        .unwrap();
        let got: Vec<_> = spec.collections.iter().map(|c| (c.source.as_str(), c.target.as_str(), c.filter.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("orders", "shipped", Some(r#"{"status":"shipped"}"#)),
                ("sensor-readings", "sensor_readings", None),
                ("customers", "customers", Some("{}")),
            ]
        );
    }

    #[test]
    fn a_per_collection_flag_needs_its_collection_once() {
        let before = spec(&["--filter", "{}", "--collection", "orders"]).unwrap_err().to_string();
        assert!(before.contains("before any --collection"), "{before}");
        let twice = spec(&["--collection", "orders", "--target-collection", "a", "--target-collection", "b"]).unwrap_err().to_string();
        assert!(twice.contains("--collection orders is followed by --target-collection twice"), "{twice}");
    }

    #[test]
    fn read_plans_and_rates_parse() {
        let natural = spec(&["--collection", "orders", "--read-plan", "natural", "--max-rate", "2,000"]).unwrap();
        assert_eq!((natural.read_plan.as_str(), natural.max_rate), ("natural", Some(2_000)));
        assert_eq!(spec(&["--collection", "orders"]).unwrap().read_plan, PlanChoice::Auto);
        assert!(parse_plan("fastest").is_err() && parse_rate("0").is_err() && parse_rate("ten").is_err());
    }

    #[test]
    fn verify_modes_parse() {
        assert_eq!(parse_verify("all"), Ok(VerifyMode::All));
        assert_eq!(parse_verify("none"), Ok(VerifyMode::None));
        assert_eq!(parse_verify("sample:500"), Ok(VerifyMode::Sample(500)));
        assert!(parse_verify("sample:0").is_err() && parse_verify("some").is_err());
    }

    #[test]
    fn a_missing_token_variable_is_named_and_no_value_shown() {
        let message = token_from_env("DOCSHIFT_TEST_NO_SUCH_TOKEN_VAR").unwrap_err().to_string();
        assert!(message.contains("DOCSHIFT_TEST_NO_SUCH_TOKEN_VAR") && message.contains("not set"), "{message}");
    }
}
