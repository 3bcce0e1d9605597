//! The `astra-local` binary: a local Astra target (Data API and Document API v2) on disk, with
//! optional fault injection, for the demo and development.

use std::net::SocketAddr;
use std::path::PathBuf;

use astra_local::{spawn_with_options, Config, Faults, ServerOptions, DEFAULT_MAX_COLLECTIONS, DEFAULT_PAGE_SIZE};
use clap::Parser;

/// The allocator docshift's binary has (see its `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A local stand-in for Astra DB: the Data API and Document API v2, kept on disk.
#[derive(Parser)]
#[command(name = "astra-local", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8181")]
    listen: SocketAddr,
    /// Directory for the database files (created if missing).
    #[arg(long, env = "ASTRA_LOCAL_DATA_DIR")]
    data_dir: PathBuf,
    /// Application token clients must send in `Token` / `X-Cassandra-Token`.
    #[arg(long, env = "ASTRA_LOCAL_TOKEN", hide_env_values = true)]
    token: String,
    /// A keyspace that exists (repeatable).
    #[arg(long = "keyspace", default_value = astra_local::DEFAULT_KEYSPACE)]
    keyspaces: Vec<String>,
    /// Most collections the database may hold.
    #[arg(long, default_value_t = DEFAULT_MAX_COLLECTIONS)]
    max_collections: usize,
    /// Documents per `find` page, per sorted `find` and per `updateMany` call (20 for Data API
    /// services before v1.0.47).
    #[arg(long, default_value_t = DEFAULT_PAGE_SIZE)]
    page_size: usize,
    /// Added latency in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fraction of requests that get the added latency (0: all of them).
    #[arg(long, default_value_t = 0.0)]
    latency_spike_rate: f64,
    /// Spread of the added latency: log-normal about --latency-ms, e^(jitter·Z) (0: none).
    #[arg(long, default_value_t = 0.0)]
    latency_jitter: f64,
    /// Fraction of requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    rate_429: f64,
    /// Fraction of requests answered 502/503/504.
    #[arg(long, default_value_t = 0.0)]
    rate_5xx: f64,
    /// Fraction of requests whose connection is closed without an answer.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Requests per second above which requests are answered 429.
    #[arg(long)]
    rps_quota: Option<u32>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let faults = Faults {
        latency_ms: args.latency_ms,
        latency_spike_rate: args.latency_spike_rate,
        latency_jitter: args.latency_jitter,
        rate_429: args.rate_429,
        rate_5xx: args.rate_5xx,
        drop_rate: args.drop_rate,
        rps_quota: args.rps_quota,
    };
    let config = Config { data_dir: args.data_dir, token: args.token, faults };
    let options = ServerOptions { keyspaces: args.keyspaces, max_collections: args.max_collections, page_size: args.page_size };
    let astra = match spawn_with_options(args.listen, config, options).await {
        Ok(astra) => astra,
        Err(error) => {
            eprintln!("astra-local: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("astra-local serving {} (Data API at {}/api/json/v1/<keyspace>)", astra.addr(), astra.endpoint());
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("astra-local: cannot wait for Ctrl-C: {error}");
    }
    astra.shutdown().await;
    std::process::ExitCode::SUCCESS
}
