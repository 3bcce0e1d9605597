//! `docshift`: the web server, and the commands that share its engine.
//!
//! It allocates with mimalloc. A copy makes and frees a tree of small values for every
//! document (the driver's `bson::Document`, its strings and arrays); with glibc's allocator
//! a quarter of the copy's CPU time went to `malloc` and `free` (a `perf` profile of the
//! migrate bench's copy), and with mimalloc the copy took 14-15 µs of CPU a document
//! instead of 19-27 (`cargo bench -p engine --bench migrate`, 100,000 documents).
//! Without transparent huge pages (mimalloc's `no_thp`, set in the workspace): the driver
//! zeroes a fresh buffer for each reply of the source, and on a huge page each first touch
//! zeroed 2 MB, about 7 % of a copy's CPU (perf); a copy of 100,000 documents then took 0.94
//! of the CPU and peaked at 44 MB of memory instead of 51 (paired, 6 runs each).

mod auth;
mod cli;
mod config;
mod hub;
mod metrics;
mod routes;
mod sample_data;
mod security;
mod serve;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "docshift", version, about = "Migrate MongoDB collections into DataStax Astra DB, with live progress.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app.
    Serve(config::ServeArgs),
    /// Load docshift's sample dataset (2 databases, 5 collections) into a MongoDB server.
    SampleData(sample_data::SampleDataArgs),
    /// Copy MongoDB collections into Astra DB, with a progress bar, a report and an exit
    /// status of 0 only when every document is accounted for and verification passed.
    Migrate(cli::migrate::MigrateArgs),
    /// List the jobs of the state directory with their status and counters.
    Jobs(cli::jobs::JobsArgs),
    /// Continue a paused or interrupted job from its checkpoints.
    Resume(cli::jobs::ResumeArgs),
    /// Cut an online job over: apply the changes up to now, verify, and end the job.
    Cutover(cli::online::CutoverArgs),
    /// Print the documents a job set aside, with their reasons, as JSON Lines.
    DeadLetters(cli::jobs::DeadLettersArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let command = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli.command,
        Err(err) => err.exit(),
    };
    // The job commands draw progress on stderr: only errors are logged there unless
    // RUST_LOG asks for more.
    let quiet = !matches!(command, Command::Serve(_) | Command::SampleData(_));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if quiet { "error" } else { "info" })),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match command {
        Command::Serve(args) => serve::run(args).await,
        Command::SampleData(args) => sample_data::run(args).await,
        Command::Migrate(args) => {
            let Some(("migrate", sub)) = matches.subcommand() else { return ExitCode::FAILURE };
            return cli::exit(cli::migrate::run(args, sub).await);
        }
        Command::Jobs(args) => return cli::exit(cli::jobs::list(args)),
        Command::Resume(args) => return cli::exit(cli::jobs::resume(args).await),
        Command::Cutover(args) => return cli::exit(cli::online::cutover(args).await),
        Command::DeadLetters(args) => return cli::exit(cli::jobs::dead_letters(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("docshift: {message}");
            ExitCode::FAILURE
        }
    }
}
