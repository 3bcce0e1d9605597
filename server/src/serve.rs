//! `docshift serve`: the web server, until Ctrl-C or SIGTERM.

pub async fn run(args: crate::config::ServeArgs) -> Result<(), String> {
    let config = args.into_config()?;
    // The sandbox lives as long as the server: dropping it stops it.
    let sandbox = match &config.sandbox_dir {
        Some(dir) => Some(start_sandbox(dir).await?),
        None => None,
    };
    let sandbox_target = sandbox.as_ref().map(|s| (s.endpoint(), s.token().to_owned()));
    let state = crate::routes::ServerState::new(&config, sandbox_target)?;
    match state.app.jobs.resume_unfinished() {
        Ok(resumed) if !resumed.is_empty() => tracing::info!(jobs = ?resumed, "resumed unfinished jobs from their checkpoints"),
        Ok(_) => {}
        Err(err) => tracing::error!(error = %err, "cannot resume unfinished jobs"),
    }
    // Jobs a `docshift migrate` runs on the same state directory move in the browsers too.
    let _follower = state.app.jobs.follow_other_processes(std::time::Duration::from_secs(1));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, source = config.source_display().as_str(), state_dir = %config.state_dir.display(), "serving");
    println!("docshift is serving at http://{address}");
    crate::auth::announce(&state.app.access, &state.token_source, address);
    // The client's address reaches the handlers: sign-in attempts are counted per client.
    let app = crate::routes::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("the server stopped: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Starts astra-local on a free loopback port with its data in `dir`, and a token made
/// for this run (the server hands it to jobs; nobody types it).
async fn start_sandbox(dir: &std::path::Path) -> Result<astra_local::LocalAstra, String> {
    let token = format!("AstraCS:sandbox:{}", uuid::Uuid::new_v4().simple());
    let config = astra_local::Config { data_dir: dir.to_path_buf(), token, faults: Default::default() };
    let sandbox = astra_local::spawn(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .map_err(|e| format!("cannot start the local Astra sandbox in {}: {e}", dir.display()))?;
    tracing::info!(endpoint = %sandbox.endpoint(), "local Astra sandbox (astra-local) running");
    Ok(sandbox)
}
