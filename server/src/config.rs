//! `docshift serve` configuration: flags, each with an environment variable and a default,
//! checked at start-up. Secrets given here are never printed, not even by `--help`.

use app::auth::ssr::AccessToken;
use engine::source::mongo::SourceUri;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to serve on.
    #[arg(long, env = "DOCSHIFT_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// The default MongoDB source, e.g. mongodb://user:password@host:27017 or an Atlas
    /// mongodb+srv:// URI. More sources can be added in the UI.
    #[arg(long, env = "DOCSHIFT_SOURCE_URI", hide_env_values = true)]
    source_uri: Option<String>,
    /// Where docshift keeps its state (added sources, jobs, checkpoints).
    #[arg(long, env = "DOCSHIFT_STATE_DIR", default_value = ".docshift/state")]
    state_dir: PathBuf,
    /// The built site (the WASM, JS and CSS of the app), as produced by `cargo leptos build`.
    #[arg(long, env = "DOCSHIFT_SITE_ROOT", default_value = "target/site")]
    site_root: PathBuf,
    /// Run the local Astra sandbox (astra-local) in this process, with its data here, and
    /// offer it as the default target: migrations can be tried without an Astra account.
    #[arg(long, env = "DOCSHIFT_SANDBOX_DIR")]
    sandbox_dir: Option<PathBuf>,
    /// How long to wait for a MongoDB server to answer before reporting it unreachable.
    #[arg(long, env = "DOCSHIFT_SERVER_SELECTION_TIMEOUT_MS", default_value_t = 4000)]
    server_selection_timeout_ms: u64,
    /// The token browsers must sign in with (at least 16 characters). Required off loopback:
    /// when `--listen` is not a loopback address and no token is given, one is generated and
    /// printed at start-up. Given on loopback, it is asked for there too.
    #[arg(long, env = "DOCSHIFT_ACCESS_TOKEN", hide_env_values = true)]
    access_token: Option<String>,
    /// Where people reach docshift when a reverse proxy serves it, e.g.
    /// https://docshift.example.com: its host name and origin are accepted, and with https
    /// the session cookie is sent over HTTPS only.
    #[arg(long, env = "DOCSHIFT_PUBLIC_URL")]
    public_url: Option<String>,
    /// Another host name browsers use to reach docshift (repeat it, or give a comma-separated
    /// list in the variable). IP addresses and localhost are always served; any other name is
    /// refused, so that a DNS-rebinding page can't talk to docshift.
    #[arg(long = "allowed-host", env = "DOCSHIFT_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
}

/// The checked configuration.
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub source_uri: Option<String>,
    pub state_dir: PathBuf,
    pub site_root: PathBuf,
    pub sandbox_dir: Option<PathBuf>,
    pub server_selection_timeout: Duration,
    /// The operator's access token, if one was given (its `Debug` shows `****`).
    pub access_token: Option<AccessToken>,
    /// Where a reverse proxy serves docshift, if it does.
    pub public_url: Option<axum::http::Uri>,
    /// Host names served besides IP addresses and localhost.
    pub allowed_hosts: Vec<String>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("listen", &self.listen)
            .field("source", &self.source_display())
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl ServeArgs {
    pub fn into_config(self) -> Result<ServeConfig, String> {
        if let Some(uri) = &self.source_uri {
            SourceUri::parse(uri).map_err(|e| format!("--source-uri: {e}"))?;
        }
        if self.server_selection_timeout_ms == 0 {
            return Err("--server-selection-timeout-ms must be at least 1".into());
        }
        let public_url = self.public_url.as_deref().map(parse_public_url).transpose()?;
        let allowed_hosts = self.allowed_hosts.iter().map(|h| h.trim()).filter(|h| !h.is_empty()).map(check_host_name).collect::<Result<_, _>>()?;
        std::fs::create_dir_all(&self.state_dir)
            .map_err(|e| format!("cannot create the state directory {}: {e}", self.state_dir.display()))?;
        Ok(ServeConfig {
            listen: self.listen,
            source_uri: self.source_uri,
            state_dir: self.state_dir,
            site_root: self.site_root,
            sandbox_dir: self.sandbox_dir,
            server_selection_timeout: Duration::from_millis(self.server_selection_timeout_ms),
            // The message never repeats the token.
            access_token: self
                .access_token
                .as_deref()
                .map(AccessToken::parse)
                .transpose()
                .map_err(|e| format!("--access-token: {e}"))?,
            public_url,
            allowed_hosts,
        })
    }
}

/// `--public-url`: an http(s) URL with a host and nothing after it.
fn parse_public_url(text: &str) -> Result<axum::http::Uri, String> {
    let problem = |why: &str| format!("--public-url {text:?} {why}: give the address people open, e.g. https://docshift.example.com");
    let uri: axum::http::Uri = text.trim().trim_end_matches('/').parse().map_err(|_| problem("is not a URL"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none_or(str::is_empty) {
        return Err(problem("is not an http:// or https:// URL with a host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(problem("has a path: docshift must be served at the root of its host"));
    }
    Ok(uri)
}

/// `--allowed-host`: a host name (an optional `:port` is accepted and ignored).
fn check_host_name(name: &str) -> Result<String, String> {
    let bare = name.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit())).map_or(name, |(host, _)| host);
    let valid = !bare.is_empty() && !bare.contains("//") && bare.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
    if valid {
        Ok(bare.to_ascii_lowercase())
    } else {
        Err(format!("--allowed-host {name:?} is not a host name: give a name such as docshift.internal, without scheme or path"))
    }
}

impl ServeConfig {
    /// Whether browsers reach docshift over HTTPS (through a TLS-terminating proxy).
    pub fn served_over_https(&self) -> bool {
        self.public_url.as_ref().and_then(|u| u.scheme_str()) == Some("https")
    }
}

impl ServeConfig {
    /// The default source for logs and messages, password redacted.
    pub fn source_display(&self) -> String {
        match &self.source_uri {
            Some(uri) => SourceUri::parse(uri).map(|u| u.redacted()).unwrap_or_else(|_| "(invalid)".into()),
            None => "(none)".into(),
        }
    }
}
