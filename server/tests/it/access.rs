//! Access control against the real binary: bound off loopback, server functions, pages and
//! the websocket refuse a browser without a session; the right token (and only it) opens
//! one, through an `HttpOnly`, `SameSite=Strict` cookie. On loopback nothing is asked. A
//! generated token is shown once on stdout and nowhere else.

use crate::common::Docshift;
use futures::StreamExt;
use reqwest::{header, redirect::Policy, StatusCode};
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

/// No MongoDB is needed: `list_sources` answers without connecting.
const SOURCE: &str = "mongodb://127.0.0.1:1";
const TOKEN: &str = "e2e-known-access-token-0123456789";

/// A `docshift serve` on any address, talked to through 127.0.0.1, with stdout and stderr
/// kept apart.
struct Server {
    child: Child,
    base: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
    _state: tempfile::TempDir,
}

impl Server {
    fn start(listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let state = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_docshift"))
            .args(["serve", "--listen", listen, "--source-uri", SOURCE, "--state-dir"])
            .arg(state.path())
            .args(extra)
            .env_remove("DOCSHIFT_ACCESS_TOKEN")
            .envs(env.iter().copied())
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        let address = first.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(address.starts_with("http://"), "unexpected first line: {first:?}");
        // Bound to every interface, it is reached through loopback.
        let base = address.replacen("http://0.0.0.0:", "http://127.0.0.1:", 1);
        let stdout = Arc::new(Mutex::new(vec![first.trim_end().to_owned()]));
        let sink = stdout.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self { child, base, stdout, stderr, _state: state }
    }

    fn ws_url(&self) -> String {
        format!("{}/ws", self.base.replacen("http://", "ws://", 1))
    }

    /// The token printed on stdout, waiting a little for the line.
    async fn printed_token(&self) -> String {
        for _ in 0..100 {
            let line = self.stdout.lock().unwrap().iter().find(|l| l.contains("access token")).cloned();
            if let Some(line) = line {
                return line.rsplit(' ').next().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no access token on stdout: {:?}", self.stdout.lock().unwrap());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that shows redirects instead of following them, and remembers every
/// response it saw (headers and body) so a test can search them.
struct Client {
    http: reqwest::Client,
    seen: Vec<String>,
}

impl Client {
    fn new() -> Self {
        Self { http: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(), seen: Vec::new() }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (StatusCode, header::HeaderMap, String) {
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.text().await.unwrap();
        self.seen.push(format!("{headers:?}\n{body}"));
        (status, headers, body)
    }

    async fn call(&mut self, base: &str, function: &str, args: &[(&str, &str)], cookie: Option<&str>) -> (StatusCode, header::HeaderMap, String) {
        let mut request = self.http.post(format!("{base}/api/{function}")).form(args);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request).await
    }

    async fn get(&mut self, base: &str, path: &str, cookie: Option<&str>) -> (StatusCode, header::HeaderMap, String) {
        let mut request = self.http.get(format!("{base}{path}"));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request).await
    }
}

/// Opens the websocket, with a cookie if given; `Err(status)` when the upgrade is refused.
async fn open_socket(url: &str, cookie: Option<&str>) -> Result<(), u16> {
    let mut request = url.into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request.headers_mut().insert(header::COOKIE, cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut socket, _)) => {
            // The hub greets every newcomer with a snapshot.
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.unwrap();
            assert!(matches!(frame, Some(Ok(tungstenite::Message::Text(_)))), "{frame:?}");
            Ok(())
        }
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the websocket failed otherwise: {other}"),
    }
}

/// Signs in and returns the `Cookie` header value to send from then on.
async fn sign_in(client: &mut Client, base: &str, token: &str) -> String {
    let (status, headers, body) = client.call(base, "sign_in", &[("token", token), ("next", "/sources")], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, "\"/sources\"");
    let set_cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("docshift_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.split("; ").any(|a| a == attribute), "{attribute} missing from {set_cookie}");
    }
    set_cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn off_loopback_everything_needs_a_session_opened_with_the_generated_token() {
    let server = Server::start("0.0.0.0:0", &[], &[]);
    let token = server.printed_token().await;
    assert!(token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    let base = server.base.as_str();
    let mut client = Client::new();

    // Without a session: 401 for server functions and the websocket, the sign-in page for pages.
    let (status, _, body) = client.call(base, "list_sources", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("Sign in first"), "{body}");
    assert_eq!(open_socket(&server.ws_url(), None).await, Err(401));
    let (status, headers, _) = client.get(base, "/sources/default?x=1", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/sign-in?next=%2Fsources%2Fdefault%3Fx%3D1");
    let (status, _, _) = client.get(base, "/", None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // A made-up cookie is no session.
    let forged = "docshift_session=0123456789abcdef";
    let (status, _, _) = client.call(base, "list_sources", &[], Some(forged)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(open_socket(&server.ws_url(), Some(forged)).await, Err(401));

    // What the sign-in page is made of stays reachable.
    let (status, _, page) = client.get(base, "/sign-in?next=%2Fsources", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Access token"), "{page}");
    let (status, _, body) = client.call(base, "signed_in", &[], None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "false"));

    // A wrong token is refused with a sentence that says nothing about the right one.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &token[..token.len() - 1]);
    let (status, headers, body) = client.call(base, "sign_in", &[("token", &wrong), ("next", "/")], None).await;
    assert!(!status.is_success(), "{status}: {body}");
    assert!(body.contains("That token is not right."), "{body}");
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (status, headers, _) = client.call(base, "sign_in", &[("token", ""), ("next", "/")], None).await;
    assert!(!status.is_success() && headers.get(header::SET_COOKIE).is_none());

    // The right token opens a session; with its cookie everything works.
    let cookie = sign_in(&mut client, base, &token).await;
    let (status, _, body) = client.call(base, "list_sources", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"default\""), "{body}");
    assert_eq!(open_socket(&server.ws_url(), Some(&cookie)).await, Ok(()));
    let (status, _, _) = client.get(base, "/sources", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = client.call(base, "signed_in", &[], Some(&cookie)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "true"));

    // A browser coming back to a sign-in link is sent to a page of this site only.
    let (_, _, body) = client.call(base, "sign_in", &[("token", &token), ("next", "//evil.example/")], None).await;
    assert_eq!(body, "\"/\"");

    // Signing out closes the session.
    let (status, headers, _) = client.call(base, "sign_out", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    let (status, _, _) = client.call(base, "list_sources", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(open_socket(&server.ws_url(), Some(&cookie)).await, Err(401));

    // The token was shown once, on stdout; never logged, never in a response.
    let stdout = server.stdout.lock().unwrap().join("\n");
    assert_eq!(stdout.matches(&token).count(), 1, "{stdout}");
    assert!(stdout.lines().next().unwrap().starts_with("docshift is serving at http://"));
    let stderr = server.stderr.lock().unwrap().clone();
    assert!(stderr.contains("access token required"), "{stderr}");
    assert!(!stderr.contains(&token), "the token was logged");
    assert!(!stderr.contains(&wrong), "a wrong token was logged");
    for response in &client.seen {
        assert!(!response.contains(&token), "a response carried the token: {response}");
    }
}

#[tokio::test]
async fn a_configured_token_is_asked_for_and_never_printed() {
    // Given by environment, on an address other than 127.0.0.1 (still loopback): the
    // configured token makes loopback ask for it too.
    let server = Server::start("127.0.0.2:0", &[], &[("DOCSHIFT_ACCESS_TOKEN", TOKEN)]);
    let base = server.base.clone();
    assert!(base.starts_with("http://127.0.0.2:"), "{base}");
    let mut client = Client::new();
    let (status, _, _) = client.call(&base, "list_sources", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let ws = server.ws_url();
    assert_eq!(open_socket(&ws, None).await, Err(401));
    let cookie = sign_in(&mut client, &base, TOKEN).await;
    let (status, _, _) = client.call(&base, "list_sources", &[], Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open_socket(&ws, Some(&cookie)).await, Ok(()));

    tokio::time::sleep(Duration::from_millis(200)).await;
    let stdout = server.stdout.lock().unwrap().join("\n");
    let stderr = server.stderr.lock().unwrap().clone();
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the configured token was printed");
    assert!(stderr.contains("access token required (configured)"), "{stderr}");
    for response in &client.seen {
        assert!(!response.contains(TOKEN), "a response carried the token: {response}");
    }
}

#[tokio::test]
async fn a_short_token_is_refused_at_start_up_without_repeating_it() {
    let state = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_docshift"))
        .args(["serve", "--listen", "127.0.0.1:0", "--access-token", "tooshort", "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--access-token"), "{stderr}");
    assert!(!stderr.contains("tooshort"), "{stderr}");
}

#[tokio::test]
async fn on_loopback_no_token_is_needed() {
    let docshift = Docshift::serve(SOURCE, &[]);
    let (status, body) = docshift.call("list_sources", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(open_socket(&docshift.ws_url(), None).await, Ok(()));
    let (status, _) = docshift.get("/").await;
    assert_eq!(status, 200);
    let (status, body) = docshift.call("signed_in", &[]).await;
    assert_eq!((status, body.as_str()), (200, "true"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!docshift.output().contains("with this access token"), "{}", docshift.output());
}
