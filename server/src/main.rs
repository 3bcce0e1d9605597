//! `docshift`: the web server, and the commands that share its engine.

mod config;
mod hub;
mod routes;
mod sample_data;
mod serve;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve::run(args).await,
        Command::SampleData(args) => sample_data::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("docshift: {message}");
            ExitCode::FAILURE
        }
    }
}
