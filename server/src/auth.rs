//! Access control in front of every route. On loopback without a token the server is open,
//! as it is to anyone who can already run programs on this machine. Bound to any other
//! address (or given `--access-token`), every request needs a signed-in session, except
//! what the sign-in page itself is made of: pages without one are sent to `/sign-in`,
//! server functions and the websocket get 401.

use app::auth::{
    is_public,
    ssr::{sign_in_href, Access, AccessToken},
};
use axum::{
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
    Json,
};
use std::{net::SocketAddr, sync::Arc};

/// The access rule for a server listening on `listen`: the configured token, else open on
/// loopback, else a token generated here.
pub fn access_for(listen: SocketAddr, configured: Option<AccessToken>) -> Access {
    match configured {
        Some(token) => Access::with_token(token),
        None if listen.ip().is_loopback() => Access::open(),
        None => Access::with_token(AccessToken::generate()),
    }
}

/// Logs which rule is in force (never the token), and prints a generated token once, on
/// stdout, for the operator: they have no other way to learn it. Call it after the
/// "docshift is serving at" line, which scripts read first.
pub fn announce(access: &Access, configured: bool, address: SocketAddr) {
    match access.token() {
        None => tracing::info!(%address, "no access token required: bound to loopback"),
        Some(_) if configured => tracing::info!(%address, "access token required (configured)"),
        Some(token) => {
            tracing::info!(%address, "access token required; a generated one was printed on stdout");
            println!("sign in at http://{address}/sign-in with this access token (generated for this run): {}", token.reveal());
        }
    }
    if access.required() && !address.ip().is_loopback() {
        tracing::warn!("this server speaks plain HTTP: put it behind a TLS proxy so the token and cookie are not sent in the clear");
    }
}

/// The middleware: lets a request through when access is open, the path is public or the
/// request carries a valid session cookie; refuses it otherwise.
pub async fn require_session(State(access): State<Arc<Access>>, request: Request, next: Next) -> Response {
    if is_public(request.uri().path()) || access.allows(request.headers()) {
        return next.run(request).await;
    }
    refuse(&request)
}

fn refuse(request: &Request) -> Response {
    let path = request.uri().path();
    let is_page = !path.starts_with("/api/") && path != "/ws" && matches!(*request.method(), Method::GET | Method::HEAD);
    if is_page {
        let wanted = request.uri().path_and_query().map_or(path, |pq| pq.as_str());
        return Redirect::to(&sign_in_href(wanted)).into_response();
    }
    let reason = serde_json::json!({ "error": "Sign in first: this server asks for its access token at /sign-in." });
    (StatusCode::UNAUTHORIZED, Json(reason)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_open_unless_a_token_is_given() {
        let loopback: SocketAddr = ([127, 0, 0, 1], 3000).into();
        let anywhere: SocketAddr = ([0, 0, 0, 0], 3000).into();
        assert!(!access_for(loopback, None).required());
        assert!(access_for(anywhere, None).required());
        let given = AccessToken::parse("a-token-of-enough-length").ok();
        assert!(access_for(loopback, given).required());
    }
}
