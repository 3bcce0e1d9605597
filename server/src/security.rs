//! What keeps other websites from driving docshift. Any page a user visits can make the
//! browser send requests to `http://127.0.0.1:3000`, and docshift holds MongoDB sources and
//! Astra tokens, so in front of everything (before routing and before the session check):
//!
//! - **Host**: a request must name a host docshift serves: an IP address, `localhost` (or a
//!   name under `.localhost`, which browsers resolve to loopback), or a name the operator
//!   configured (`--allowed-host`, the host of `--public-url`). A DNS-rebinding page reaches
//!   the server under its own name, never an IP literal, so it gets 421 and can't read any
//!   answer.
//! - **Same origin**: everything except loading a page or a static file — server functions,
//!   the websocket, downloads, and any request that is not a GET — must come from docshift's
//!   own origin. Browsers say where a request comes from in `Origin` (every POST and every
//!   websocket), else in `Sec-Fetch-Site`, else in `Referer`; a request that says it comes
//!   from elsewhere gets 403. A request with none of them is not a browser's (curl, the
//!   tests, scripts) and has nothing to forge.
//! - **Content types**: a server function takes only the content type its codec declares, so
//!   no JSON is read out of a `text/plain` body (which a cross-site form may send without a
//!   preflight): 415.
//! - **Headers** on every answer: a Content-Security-Policy with a fresh nonce for the inline
//!   hydration scripts (`'wasm-unsafe-eval'` for the WebAssembly, `frame-ancestors 'none'` so
//!   no site can frame the Pause, Cancel and Start buttons), `X-Frame-Options: DENY`,
//!   `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`,
//!   `Cross-Origin-Resource-Policy` and `Cross-Origin-Opener-Policy: same-origin`, and
//!   `Cache-Control: no-store` on server functions and downloads.
//!
//! docshift sends no CORS headers at all: no other origin may read its answers.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use std::{collections::HashMap, net::IpAddr, sync::Arc};

/// The nonce of this request's Content-Security-Policy, for the page's inline scripts.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// The hosts and origins docshift answers to, and the content type of each server function.
pub struct Guard {
    /// Host names (lowercase, no port) served beyond IP addresses and `localhost`.
    names: Vec<String>,
    /// Origins (`scheme://host[:port]`) accepted besides the request's own host.
    origins: Vec<Origin>,
    /// Server function path → the content type its input codec declares.
    server_fns: HashMap<&'static str, &'static str>,
}

impl Guard {
    /// `names` are extra host names (`--allowed-host`); `public_url` is where a reverse
    /// proxy serves docshift (`--public-url`), whose host and origin are accepted too.
    pub fn new(names: &[String], public_url: Option<&Uri>, server_fns: HashMap<&'static str, &'static str>) -> Self {
        let mut names: Vec<String> = names.iter().filter_map(|n| host_name(n)).collect();
        let mut origins = Vec::new();
        if let Some(url) = public_url {
            if let Some(origin) = Origin::of_uri(url) {
                names.push(origin.host.clone());
                origins.push(origin);
            }
        }
        Self { names, origins, server_fns }
    }

    /// Whether `host` (a `Host` header's value) is one docshift serves.
    fn serves(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else { return false };
        name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") || self.names.contains(&name)
    }

    /// `Err(why)` when the request comes from another site, as far as the browser says.
    fn same_origin(&self, headers: &HeaderMap, host: &str) -> Result<(), String> {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            return if self.is_own(origin, host) { Ok(()) } else { Err(format!("it comes from {}", shown(origin))) };
        }
        if let Some(site) = headers.get("sec-fetch-site") {
            return match site.to_str().unwrap_or("") {
                "same-origin" | "none" => Ok(()),
                other => Err(format!("the browser says it is {}", shown(other))),
            };
        }
        if let Some(referer) = headers.get(header::REFERER) {
            let referer = referer.to_str().unwrap_or("");
            let origin = referer.parse::<Uri>().ok().and_then(|uri| Origin::of_uri(&uri));
            return match origin {
                Some(origin) if origin.matches_host(host) || self.origins.contains(&origin) => Ok(()),
                _ => Err(format!("it was sent from {}", shown(referer))),
            };
        }
        Ok(())
    }

    /// Whether an `Origin` header names docshift itself: the request's own host, or the
    /// public URL. `null` (sandboxed frames, files) never does.
    fn is_own(&self, origin: &str, host: &str) -> bool {
        match origin.parse::<Uri>().ok().and_then(|uri| Origin::of_uri(&uri)) {
            Some(origin) => origin.matches_host(host) || self.origins.contains(&origin),
            None => false,
        }
    }
}

/// `scheme://host:port` with the port made explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of_uri(uri: &Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = uri.authority()?;
        Some(Self { host: host_name(authority.host())?, port: authority.port_u16().unwrap_or(default), scheme })
    }

    /// Whether this origin is the one a browser gives a page loaded from `host` (the `Host`
    /// header): the same name and port, over HTTP or, through a TLS proxy that keeps the
    /// `Host`, HTTPS.
    fn matches_host(&self, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else { return false };
        let port = authority.port_u16().unwrap_or(if self.scheme == "https" { 443 } else { 80 });
        host_name(authority.host()).is_some_and(|name| name == self.host) && port == self.port
    }
}

/// The host name of a `Host` value or a configured name: lowercase, without port, brackets
/// or a trailing dot; `None` when it is not a host name at all.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split_once(']')?.0
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'));
    valid.then_some(name)
}

/// Untrusted text for a message: short and printable.
fn shown(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).take(100).collect();
    format!("\"{text}\"")
}

/// Requests that are docshift's own business: everything but loading a page or a file.
fn needs_same_origin(method: &Method, path: &str) -> bool {
    let reading = matches!(*method, Method::GET | Method::HEAD);
    !reading || path.starts_with("/api/") || path == "/ws" || path.ends_with(".jsonl") || path == "/metrics"
}

/// The middleware (outermost): the checks of the module documentation, then the headers.
pub async fn guard(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()));
    let Some(host) = host.filter(|h| guard.serves(h)) else {
        tracing::warn!(%path, "refused a request for a host docshift does not serve");
        return refuse(StatusCode::MISDIRECTED_REQUEST, "docshift does not answer to this host name. If you reach it through a reverse proxy or another name, start it with --allowed-host NAME (or DOCSHIFT_ALLOWED_HOSTS), or --public-url.".into());
    };
    if needs_same_origin(request.method(), &path) {
        if let Err(why) = guard.same_origin(request.headers(), &host) {
            tracing::warn!(%path, why = %why, "refused a request from another site");
            return refuse(StatusCode::FORBIDDEN, format!("docshift refused this request because {why}: only docshift's own pages may use it."));
        }
    }
    if path.starts_with("/api/") && request.method() == Method::POST {
        if let Some(expected) = guard.server_fns.get(path.as_str()) {
            let given = media_type(request.headers());
            if !given.eq_ignore_ascii_case(expected) {
                return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("{path} takes {expected}, not {}.", shown(&given)));
            }
        }
    }
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    add_headers(response.headers_mut(), &nonce, &path);
    response
}

/// A request's media type, without parameters (`application/json; charset=utf-8` → `application/json`).
fn media_type(headers: &HeaderMap) -> String {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_owned()
}

fn refuse(status: StatusCode, message: String) -> Response {
    let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
    add_headers(response.headers_mut(), "", "/api/");
    response
}

/// The policy for a page whose inline scripts carry `nonce`.
pub fn content_security_policy(nonce: &str) -> String {
    let scripts = if nonce.is_empty() { String::new() } else { format!(" 'nonce-{nonce}'") };
    format!(
        "default-src 'self'; script-src 'self'{scripts} 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

fn add_headers(headers: &mut HeaderMap, nonce: &str, path: &str) {
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_SECURITY_POLICY, &content_security_policy(nonce));
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    if path.starts_with("/api/") || path.ends_with(".jsonl") || path == "/metrics" {
        set(header::CACHE_CONTROL, "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> Guard {
        let public = "https://docshift.example.com".parse::<Uri>().ok();
        Guard::new(&["docs.internal:8080".into()], public.as_ref(), HashMap::new())
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn hosts_are_ip_addresses_loopback_names_or_configured() {
        let guard = guard();
        for host in ["127.0.0.1:3000", "[::1]:3000", "10.1.2.3", "localhost:3000", "app.localhost", "docs.internal", "DocShift.Example.com"] {
            assert!(guard.serves(host), "{host}");
        }
        for host in ["evil.example", "evil.example:3000", "localhost.evil.example", "", "exa mple"] {
            assert!(!guard.serves(host), "{host}");
        }
    }

    #[test]
    fn only_our_own_origin_passes() {
        let guard = guard();
        let host = "127.0.0.1:3000";
        assert!(guard.same_origin(&headers(&[("origin", "http://127.0.0.1:3000")]), host).is_ok());
        assert!(guard.same_origin(&headers(&[("origin", "https://docshift.example.com")]), host).is_ok());
        assert!(guard.same_origin(&headers(&[("origin", "https://docshift.example.com")]), "docshift.example.com").is_ok());
        for origin in ["http://evil.example", "http://127.0.0.1:8000", "http://localhost:3000", "null", "file://"] {
            let headers = HeaderMap::from_iter([(header::ORIGIN, HeaderValue::from_static(origin))]);
            assert!(guard.same_origin(&headers, host).is_err(), "{origin}");
        }
        assert!(guard.same_origin(&headers(&[("sec-fetch-site", "same-origin")]), host).is_ok());
        assert!(guard.same_origin(&headers(&[("sec-fetch-site", "none")]), host).is_ok());
        assert!(guard.same_origin(&headers(&[("sec-fetch-site", "same-site")]), host).is_err());
        assert!(guard.same_origin(&headers(&[("sec-fetch-site", "cross-site")]), host).is_err());
        assert!(guard.same_origin(&headers(&[("referer", "http://127.0.0.1:3000/jobs/1")]), host).is_ok());
        assert!(guard.same_origin(&headers(&[("referer", "http://evil.example/page")]), host).is_err());
        assert!(guard.same_origin(&HeaderMap::new(), host).is_ok(), "not a browser");
    }

    #[test]
    fn pages_are_open_to_links_and_the_rest_is_ours() {
        assert!(!needs_same_origin(&Method::GET, "/jobs/abc"));
        assert!(!needs_same_origin(&Method::GET, "/pkg/docshift.js"));
        assert!(needs_same_origin(&Method::POST, "/jobs/abc"));
        assert!(needs_same_origin(&Method::POST, "/api/add_target"));
        assert!(needs_same_origin(&Method::GET, "/ws"));
        assert!(needs_same_origin(&Method::GET, "/jobs/abc/dead-letters.jsonl"));
    }

    #[test]
    fn the_policy_allows_the_nonce_and_webassembly_and_no_framing() {
        let policy = content_security_policy("abc123");
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        let scripts = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default();
        assert!(!scripts.contains("unsafe-inline") && !scripts.contains("'unsafe-eval'"), "{policy}");
    }
}
