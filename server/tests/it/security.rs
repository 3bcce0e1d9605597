//! Other websites can't drive docshift. Real HTTP requests against the real binary, shaped
//! exactly as a page on another site can make a browser send them (a cross-site form post, a
//! `text/plain` JSON post, a websocket from a foreign origin, a DNS-rebinding `Host`), on
//! loopback and off it: each is refused and changes nothing, while the same requests from
//! docshift's own origin work. Pages carry the security headers. Sign-in attempts are bounded
//! per client, sessions survive a restart, and sign-out or a new token ends them.

use super::common::{self, Docshift, MongoServer};
use astra_local::testing::TestAstra;
use reqwest::{header, redirect::Policy, StatusCode};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

const TOKEN: &str = "security-test-access-token-4b1e9f";
const EVIL: &str = "http://evil.example";

/// One request as a browser would send it: `origin` in `Origin`, and a cookie if given.
struct Request<'a> {
    origin: Option<&'a str>,
    cookie: Option<&'a str>,
    host: Option<&'a str>,
}

impl<'a> Request<'a> {
    fn from(origin: &'a str) -> Self {
        Self { origin: Some(origin), cookie: None, host: None }
    }

    fn with_cookie(mut self, cookie: Option<&'a str>) -> Self {
        self.cookie = cookie;
        self
    }

    fn build(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let mut builder = builder;
        if let Some(origin) = self.origin {
            builder = builder.header(header::ORIGIN, origin);
        }
        if let Some(cookie) = self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(host) = self.host {
            builder = builder.header(header::HOST, host);
        }
        builder
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, header::HeaderMap, String) {
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// A form-encoded server function call, as a cross-site `<form>` posts it.
async fn form(base: &str, function: &str, args: &[(&str, &str)], how: &Request<'_>) -> (StatusCode, String) {
    let (status, _, body) = send(how.build(client().post(format!("{base}/api/{function}")).form(args))).await;
    (status, body)
}

/// A server function call with a body of the given content type.
async fn body(base: &str, function: &str, content_type: &str, text: String, how: &Request<'_>) -> (StatusCode, String) {
    let request = client().post(format!("{base}/api/{function}")).header(header::CONTENT_TYPE, content_type).body(text);
    let (status, _, body) = send(how.build(request)).await;
    (status, body)
}

/// Opens the websocket with an `Origin`; `Err(status)` when the upgrade is refused.
async fn socket(base: &str, origin: &str, cookie: Option<&str>) -> Result<(), u16> {
    let mut request = format!("{}/ws", base.replacen("http://", "ws://", 1)).into_client_request().unwrap();
    request.headers_mut().insert(header::ORIGIN, origin.parse().unwrap());
    if let Some(cookie) = cookie {
        request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => Ok(()),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the websocket failed otherwise: {other}"),
    }
}

/// What an attack could change: the stored sources, targets and jobs, as docshift lists them.
async fn stored(base: &str, cookie: Option<&str>) -> String {
    let own = Request { origin: None, cookie, host: None };
    let mut all = String::new();
    for function in ["list_sources", "list_targets", "list_jobs"] {
        let (status, body) = form(base, function, &[], &own).await;
        assert_eq!(status, StatusCode::OK, "{function}: {body}");
        all.push_str(&body);
        all.push('\n');
    }
    all
}

/// The JSON body of `start_migration` for 100 documents of `shop.orders` into `target`.
fn migration(target: &str) -> String {
    let request = app::views::MigrationRequest {
        source: "default".into(),
        database: "shop".into(),
        collections: vec![app::views::CollectionRequest { source: "orders".into(), target: "orders".into(), filter: String::new(), deny: vec![], vector: None }],
        target: target.into(),
        policy: Default::default(),
        parallel_ranges: 1,
        batch_size: 100,
        who: "security test".into(),
        online: false,
    };
    serde_json::json!({ "request": request }).to_string()
}

/// Every attack of the module documentation against `docshift`, with `cookie` the session a
/// browser would attach (off loopback), then the same requests from its own origin.
async fn attacks_are_refused_and_our_own_requests_work(docshift: &Docshift, own: &str, cookie: Option<&str>, astra: &str) {
    let base = docshift.base.as_str();
    let before = stored(base, cookie).await;
    let evil = Request::from(EVIL).with_cookie(cookie);
    let add_target = [("name", "attacker"), ("kind", "data-api"), ("endpoint", astra), ("keyspace", "default_keyspace"), ("token", "AstraCS:x")];

    // A cross-site form post: no preflight, the browser just sends it.
    let (status, text) = form(base, "add_target", &add_target, &evil).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("evil.example") && text.contains("only docshift's own pages"), "{text}");
    let (status, _) = form(base, "add_source", &[("name", "x"), ("uri", "mongodb://evil.example:27017")], &evil).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A browser that gives no Origin but says where the request comes from.
    let fetch_site = client().post(format!("{base}/api/add_target")).form(&add_target).header("sec-fetch-site", "same-site");
    let (status, _, _) = send(Request { origin: None, cookie, host: None }.build(fetch_site)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // JSON in a text/plain body, from another site and even from this one.
    let (status, _) = body(base, "start_migration", "text/plain", migration("sandbox"), &evil).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, text) = body(base, "start_migration", "text/plain", migration("sandbox"), &Request::from(own).with_cookie(cookie)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{text}");
    assert!(text.contains("application/json"), "{text}");
    // The websocket, the dead-letter download and sign-out from another site.
    assert_eq!(socket(base, EVIL, cookie).await, Err(403));
    let download = client().get(format!("{base}/jobs/nope/dead-letters.jsonl"));
    assert_eq!(send(evil.build(download)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(form(base, "sign_out", &[], &evil).await.0, StatusCode::FORBIDDEN);
    // DNS rebinding: the page's own name in Host, for a page and for a server function.
    let rebound = Request { origin: None, cookie, host: Some("evil.example:3000") };
    let (status, _, text) = send(rebound.build(client().get(format!("{base}/")))).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{text}");
    assert!(text.contains("--allowed-host"), "{text}");
    let (status, _) = form(base, "list_sources", &[], &rebound).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);

    assert_eq!(stored(base, cookie).await, before, "an attack changed what docshift stores");
    assert!(!docshift.output().contains("AstraCS:x"));

    // The same requests from docshift's own pages work.
    let ours = Request::from(own).with_cookie(cookie);
    let (status, text) = form(base, "add_target", &[("name", "second"), ("kind", "data-api"), ("endpoint", astra), ("keyspace", "default_keyspace"), ("token", common::ASTRA_TOKEN)], &ours).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, id) = body(base, "start_migration", "application/json", migration("second"), &ours).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    assert_eq!(socket(base, own, cookie).await, Ok(()));
    let (status, _, _) = send(ours.build(client().get(format!("{base}/")))).await;
    assert_eq!(status, StatusCode::OK);
    let after = stored(base, cookie).await;
    assert!(after.contains("\"second\"") && after.contains(id.trim_matches('"')), "{after}");
}

#[tokio::test]
async fn on_loopback_other_sites_can_not_drive_docshift() {
    let mongo = MongoServer::start();
    mongo.load_sample("shop", "orders", 100).await;
    let astra = TestAstra::start(common::ASTRA_TOKEN).await;
    let docshift = Docshift::serve(&mongo.uri(), &[]);
    let own = docshift.base.clone();
    attacks_are_refused_and_our_own_requests_work(&docshift, &own, None, &astra.endpoint()).await;
    // localhost is this machine too, but another origin than 127.0.0.1.
    let port = own.rsplit(':').next().unwrap();
    let (status, _) = form(&own, "add_source", &[("name", "x"), ("uri", "mongodb://127.0.0.1:1")], &Request::from(&format!("http://localhost:{port}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn off_loopback_a_session_cookie_does_not_help_another_site() {
    let mongo = MongoServer::start();
    mongo.load_sample("shop", "orders", 100).await;
    let astra = TestAstra::start(common::ASTRA_TOKEN).await;
    let state = tempfile::tempdir().unwrap();
    let docshift = Docshift::serve_in(state.path(), "0.0.0.0:0", &mongo.uri(), &[], &[("DOCSHIFT_ACCESS_TOKEN", TOKEN)]);
    let cookie = sign_in(&docshift.base, TOKEN).await.unwrap();
    let own = docshift.base.clone();
    attacks_are_refused_and_our_own_requests_work(&docshift, &own, Some(&cookie), &astra.endpoint()).await;
    // Signing in from another site is refused too (no login CSRF).
    let (status, _) = form(&docshift.base, "sign_in", &[("token", TOKEN), ("next", "/")], &Request::from(EVIL)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let docshift = Docshift::serve("mongodb://127.0.0.1:1", &[]);
    let (status, headers, page) = send(client().get(format!("{}/sign-in", docshift.base))).await;
    assert_eq!(status, StatusCode::OK);
    let policy = headers.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap().to_owned();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
    // The page's inline scripts carry the nonce the policy names, and no other script may run.
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap();
    assert!(page.contains(&format!("nonce=\"{nonce}\"")), "the hydration script has no nonce");
    let scripts = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!scripts.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
    assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "same-origin");
    assert_eq!(headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // Each page gets its own nonce.
    let (_, again, _) = send(client().get(format!("{}/sign-in", docshift.base))).await;
    assert_ne!(again.get(header::CONTENT_SECURITY_POLICY).unwrap().to_str().unwrap(), policy);
}

/// Signs in with `token`; the `Cookie` value, or the status and body of the refusal.
async fn sign_in(base: &str, token: &str) -> Result<String, (StatusCode, Option<String>, String)> {
    let request = client().post(format!("{base}/api/sign_in")).form(&[("token", token), ("next", "/")]);
    let (status, headers, body) = send(request).await;
    if status != StatusCode::OK {
        let retry_after = headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        return Err((status, retry_after, body));
    }
    Ok(headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn sign_in_attempts_are_bounded_and_sessions_outlive_a_restart() {
    let state = tempfile::tempdir().unwrap();
    let env = [("DOCSHIFT_ACCESS_TOKEN", TOKEN)];
    let docshift = Docshift::serve_in(state.path(), "0.0.0.0:0", "mongodb://127.0.0.1:1", &[], &env);
    let cookie = sign_in(&docshift.base, TOKEN).await.unwrap();
    let signed_in = |base: String, cookie: String| async move {
        let (status, body) = form(&base, "signed_in", &[], &Request { origin: None, cookie: Some(&cookie), host: None }).await;
        assert_eq!(status, StatusCode::OK);
        body == "true"
    };

    // Five wrong tokens, then even the right one is refused without being looked at.
    for _ in 0..5 {
        let (status, _, body) = sign_in(&docshift.base, "not-the-token-at-all-0000").await.unwrap_err();
        assert!(body.contains("That token is not right."), "{status}: {body}");
    }
    let (status, retry_after, body) = sign_in(&docshift.base, TOKEN).await.unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("try again in"), "{body}");
    let seconds: u64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    // The session opened before is not affected.
    assert!(signed_in(docshift.base.clone(), cookie.clone()).await);

    // A restart keeps the session (and starts with a fresh allowance of attempts).
    drop(docshift);
    let docshift = Docshift::serve_in(state.path(), "0.0.0.0:0", "mongodb://127.0.0.1:1", &[], &env);
    assert!(signed_in(docshift.base.clone(), cookie.clone()).await, "the restart signed the browser out");
    let stored = std::fs::read_to_string(state.path().join("sessions.json")).unwrap();
    assert!(!stored.contains(cookie.trim_start_matches("docshift_session=")), "the state directory holds a usable session id");

    // Sign-out ends it, for good.
    let (status, _) = form(&docshift.base, "sign_out", &[], &Request { origin: None, cookie: Some(&cookie), host: None }).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!signed_in(docshift.base.clone(), cookie.clone()).await);

    // Starting with another token ends every session opened with the old one.
    let second = sign_in(&docshift.base, TOKEN).await.unwrap();
    drop(docshift);
    let rotated = [("DOCSHIFT_ACCESS_TOKEN", "a-completely-different-token-77")];
    let docshift = Docshift::serve_in(state.path(), "0.0.0.0:0", "mongodb://127.0.0.1:1", &[], &rotated);
    assert!(!signed_in(docshift.base.clone(), second).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!docshift.output().contains(TOKEN), "the token was logged");
}
