//! Who may use docshift. Bound to loopback (the default) everyone who reaches the port may;
//! bound to any other address the server asks for its access token once, on the sign-in
//! page, and then knows the browser by a session cookie. These are the server functions of
//! that exchange and the server-side session store they share with the server's middleware.

use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
mod attempts;
#[cfg(feature = "ssr")]
mod sessions;

/// The one sentence a wrong (or missing) token gets: it says nothing about the right one.
pub const WRONG_TOKEN: &str = "That token is not right.";

/// Checks the access token and, when it is right, starts a session (an `HttpOnly`,
/// `SameSite=Strict` cookie). Returns where the browser should go now: `next` when it is a
/// path on this site, else `/`. A form posted without JavaScript is redirected there.
#[server(endpoint = "sign_in")]
pub async fn sign_in(token: String, next: String) -> Result<String, AppError> {
    let access = ssr::access()?;
    let next = ssr::local_path(&next);
    if access.required() {
        let client = ssr::request_client();
        let session = match access.sign_in(&token, client) {
            Ok(session) => session,
            Err(ssr::SignInRefusal::WrongToken) => {
                tracing::warn!(client = ?client, "a sign-in with a wrong access token was refused");
                return Err(AppError::InvalidInput(WRONG_TOKEN.into()));
            }
            Err(ssr::SignInRefusal::TooManyAttempts { wait }) => {
                let seconds = wait.as_secs().max(1);
                tracing::warn!(client = ?client, "a sign-in was refused unchecked: too many wrong tokens from this client");
                ssr::too_many_requests(seconds);
                return Err(AppError::InvalidInput(format!(
                    "Too many wrong tokens from this address: try again in {seconds} s."
                )));
            }
        };
        ssr::set_cookie(&access.session_cookie(&session))?;
        tracing::info!("a browser signed in");
    }
    if ssr::plain_form_post() {
        leptos_axum::redirect(&next);
    }
    Ok(next)
}

/// Ends this browser's session: its cookie is forgotten by the server and cleared in the browser.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let access = ssr::access()?;
    if let Some(session) = ssr::request_session() {
        access.sign_out(&session);
    }
    ssr::set_cookie(&access.expired_cookie())?;
    if ssr::plain_form_post() {
        leptos_axum::redirect("/sign-in");
    }
    Ok(())
}

/// Whether this browser may use the server now: `true` when no token is required or its
/// session is valid. Open to everyone, so the sign-in page can ask.
#[server(endpoint = "signed_in")]
pub async fn signed_in() -> Result<bool, AppError> {
    let access = ssr::access()?;
    Ok(!access.required() || ssr::request_session().is_some_and(|s| access.is_signed_in(&s)))
}

/// Whether the server asks for a token at all (it does not on loopback without one).
#[server(endpoint = "access_required")]
pub async fn access_required() -> Result<bool, AppError> {
    Ok(ssr::access()?.required())
}

/// The sign-in page's path, with the page to return to.
pub const SIGN_IN_PATH: &str = "/sign-in";

/// Paths a browser may reach without a session: the sign-in page, what it is built from, and
/// the server functions it calls.
pub fn is_public(path: &str) -> bool {
    matches!(path, SIGN_IN_PATH | "/favicon.svg" | "/api/sign_in" | "/api/signed_in" | "/api/access_required")
        || path.starts_with("/pkg/")
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The access token, the session store and the cookie, on the server only.

    use super::{attempts::SignInAttempts, sessions::Sessions};
    use crate::error::AppError;
    use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
    use leptos::prelude::use_context;
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    use std::{
        net::{IpAddr, SocketAddr},
        path::PathBuf,
        time::Duration,
    };
    use subtle::ConstantTimeEq;

    /// The session cookie's name.
    pub const SESSION_COOKIE: &str = "docshift_session";
    /// How long a session lasts after signing in.
    pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    /// The shortest access token accepted from the operator.
    pub const MIN_TOKEN_CHARS: usize = 16;

    /// A secret that is never printed by accident: `Debug` shows `****`.
    #[derive(Clone, PartialEq, Eq)]
    pub struct AccessToken(String);

    impl AccessToken {
        /// A fresh random token: 256 bits from the operating system, as 64 hex digits.
        pub fn generate() -> Self {
            Self(random_hex())
        }

        /// Checks an operator-given token: long enough, printable, no spaces.
        pub fn parse(text: &str) -> Result<Self, String> {
            if text.chars().count() < MIN_TOKEN_CHARS {
                return Err(format!("an access token needs at least {MIN_TOKEN_CHARS} characters"));
            }
            if !text.chars().all(|c| c.is_ascii_graphic()) {
                return Err("an access token may only hold printable ASCII characters, without spaces".into());
            }
            Ok(Self(text.to_owned()))
        }

        /// The token itself, for the one place that shows it: the start-up message.
        pub fn reveal(&self) -> &str {
            &self.0
        }
    }

    impl std::fmt::Debug for AccessToken {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("AccessToken(****)")
        }
    }

    impl std::str::FromStr for AccessToken {
        type Err = String;
        fn from_str(text: &str) -> Result<Self, Self::Err> {
            Self::parse(text)
        }
    }

    /// Why a sign-in opened no session.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SignInRefusal {
        /// Not the token (or no token is asked for at all).
        WrongToken,
        /// This client sent too many wrong tokens lately; the token was not looked at.
        TooManyAttempts { wait: Duration },
    }

    /// The server's access rule and its signed-in browsers.
    pub struct Access {
        /// `None`: everyone may use the server.
        token: Option<AccessToken>,
        /// Open sessions, kept in the state directory so a restart signs nobody out.
        sessions: Option<Sessions>,
        attempts: SignInAttempts,
        /// Whether the cookie is only sent over HTTPS (the server is reached through a
        /// TLS-terminating proxy at an `https://` public URL).
        secure_cookie: bool,
    }

    impl Access {
        /// No token asked for: for a server only this machine can reach.
        pub fn open() -> Self {
            Self { token: None, sessions: None, attempts: SignInAttempts::default(), secure_cookie: false }
        }

        /// Every request needs a session, opened with `token`. Sessions are kept in
        /// `sessions_file` (`None`: in memory only); those opened with another token end.
        pub fn with_token(token: AccessToken, sessions_file: Option<PathBuf>) -> Result<Self, String> {
            let sessions = Sessions::load(sessions_file, &token)?;
            Ok(Self { token: Some(token), sessions: Some(sessions), attempts: SignInAttempts::default(), secure_cookie: false })
        }

        /// Marks the session cookie `Secure` (for a server reached over HTTPS).
        pub fn with_secure_cookie(mut self, secure: bool) -> Self {
            self.secure_cookie = secure;
            self
        }

        pub fn required(&self) -> bool {
            self.token.is_some()
        }

        /// The token, when one is required.
        pub fn token(&self) -> Option<&AccessToken> {
            self.token.as_ref()
        }

        /// Opens a session when `candidate` is the token and the client at `client` has
        /// attempts left. The comparison takes the same time wherever the two differ (both
        /// are hashed first, so their lengths don't show either).
        pub fn sign_in(&self, candidate: &str, client: Option<IpAddr>) -> Result<String, SignInRefusal> {
            let (Some(token), Some(sessions)) = (self.token.as_ref(), self.sessions.as_ref()) else {
                return Err(SignInRefusal::WrongToken);
            };
            self.attempts.allow(client).map_err(|wait| SignInRefusal::TooManyAttempts { wait })?;
            let right: bool = Sha256::digest(token.0.as_bytes()).ct_eq(&Sha256::digest(candidate.as_bytes())).into();
            if !right {
                self.attempts.failed(client);
                return Err(SignInRefusal::WrongToken);
            }
            self.attempts.succeeded(client);
            let session = random_hex();
            sessions.open(&session);
            Ok(session)
        }

        /// Whether `session` is open and not yet expired.
        pub fn is_signed_in(&self, session: &str) -> bool {
            self.sessions.as_ref().is_some_and(|s| s.is_open(session))
        }

        /// Whether a request with these headers may go through.
        pub fn allows(&self, headers: &HeaderMap) -> bool {
            !self.required() || session_from(headers).is_some_and(|s| self.is_signed_in(&s))
        }

        pub fn sign_out(&self, session: &str) {
            if let Some(sessions) = &self.sessions {
                sessions.close(session);
            }
        }

        /// The `Set-Cookie` value that hands a browser its session.
        pub fn session_cookie(&self, session: &str) -> String {
            format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}", SESSION_LIFETIME.as_secs(), self.secure())
        }

        /// The `Set-Cookie` value that clears it.
        pub fn expired_cookie(&self) -> String {
            format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{}", self.secure())
        }

        fn secure(&self) -> &'static str {
            if self.secure_cookie {
                "; Secure"
            } else {
                ""
            }
        }
    }

    fn random_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    /// The session id a request's `Cookie` headers carry, if any.
    pub fn session_from(headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == SESSION_COOKIE)
            .map(|(_, value)| value.trim_matches('"').to_owned())
    }

    /// Where to go after signing in: a path on this site (never another site, never the
    /// sign-in page again), else `/`.
    pub fn local_path(next: &str) -> String {
        let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
        let sign_in_again = next.split(['?', '#']).next() == Some(super::SIGN_IN_PATH);
        if local && !sign_in_again && !next.chars().any(char::is_control) {
            next.to_owned()
        } else {
            "/".into()
        }
    }

    /// `/sign-in?next=<path>`: where a page request without a session is sent.
    pub fn sign_in_href(next: &str) -> String {
        format!("{}?next={}", super::SIGN_IN_PATH, leptos_router::location::Url::escape(next))
    }

    pub(crate) fn access() -> Result<std::sync::Arc<Access>, AppError> {
        use_context::<std::sync::Arc<Access>>()
            .ok_or_else(|| AppError::Transport("the server's state is missing from this request".into()))
    }

    pub(crate) fn request_session() -> Option<String> {
        use_context::<Parts>().and_then(|parts| session_from(&parts.headers))
    }

    /// The address of the client that sent this request, when the server records it.
    pub(crate) fn request_client() -> Option<IpAddr> {
        use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|info| info.0.ip()))
    }

    /// Answers 429 with `Retry-After: seconds`.
    pub(crate) fn too_many_requests(seconds: u64) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(StatusCode::TOO_MANY_REQUESTS);
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
    }

    /// Whether the request is a form posted by a browser without JavaScript (it wants a page back).
    pub(crate) fn plain_form_post() -> bool {
        use_context::<Parts>().is_some_and(|parts| {
            parts.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
        })
    }

    pub(crate) fn set_cookie(cookie: &str) -> Result<(), AppError> {
        let response = use_context::<leptos_axum::ResponseOptions>()
            .ok_or_else(|| AppError::Transport("the response is missing from this request".into()))?;
        let value = HeaderValue::from_str(cookie).map_err(|e| AppError::Transport(e.to_string()))?;
        response.append_header(header::SET_COOKIE, value);
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_the_token_opens_a_session() {
            let access = Access::with_token(AccessToken::generate(), None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(access.sign_in("", None), Err(SignInRefusal::WrongToken));
            assert_eq!(access.sign_in("not the token at all", None), Err(SignInRefusal::WrongToken));
            let token = access.token().map(|t| t.reveal().to_owned()).unwrap_or_default();
            let session = access.sign_in(&token, None).ok();
            assert!(session.as_deref().is_some_and(|s| access.is_signed_in(s)));
            assert!(!access.is_signed_in("made-up"));
            if let Some(session) = session {
                access.sign_out(&session);
                assert!(!access.is_signed_in(&session));
            }
        }

        #[test]
        fn after_too_many_wrong_tokens_even_the_right_one_is_not_checked() {
            let access = Access::with_token(AccessToken::generate(), None).unwrap_or_else(|e| panic!("{e}"));
            let token = access.token().map(|t| t.reveal().to_owned()).unwrap_or_default();
            let client: Option<IpAddr> = "198.51.100.4".parse().ok();
            for _ in 0..super::super::attempts::MAX_FAILURES {
                assert_eq!(access.sign_in("wrong", client), Err(SignInRefusal::WrongToken));
            }
            assert!(matches!(access.sign_in(&token, client), Err(SignInRefusal::TooManyAttempts { .. })));
            assert!(access.sign_in(&token, "198.51.100.5".parse().ok()).is_ok());
        }

        #[test]
        fn an_open_server_has_no_sessions_to_open() {
            let access = Access::open();
            assert!(!access.required());
            assert_eq!(access.sign_in("anything", None), Err(SignInRefusal::WrongToken));
            assert!(access.allows(&HeaderMap::new()));
        }

        #[test]
        fn the_cookie_is_secure_behind_https() {
            let access = Access::with_token(AccessToken::generate(), None).unwrap_or_else(|e| panic!("{e}"));
            assert!(!access.session_cookie("s").contains("Secure"));
            let access = access.with_secure_cookie(true);
            assert!(access.session_cookie("s").ends_with("; Secure") && access.expired_cookie().ends_with("; Secure"));
        }

        #[test]
        fn the_session_comes_from_the_cookie_header() {
            let mut headers = HeaderMap::new();
            headers.append(header::COOKIE, HeaderValue::from_static("a=1; docshift_session=abc; b=2"));
            assert_eq!(session_from(&headers).as_deref(), Some("abc"));
            assert_eq!(session_from(&HeaderMap::new()), None);
        }

        #[test]
        fn next_stays_on_this_site() {
            assert_eq!(local_path("/sources/default?x=1"), "/sources/default?x=1");
            assert_eq!(local_path("https://evil.example/"), "/");
            assert_eq!(local_path("//evil.example/"), "/");
            assert_eq!(local_path("/\\evil.example/"), "/");
            assert_eq!(local_path("/sign-in?next=/"), "/");
            assert_eq!(local_path(""), "/");
            assert_eq!(sign_in_href("/a b?c=d"), "/sign-in?next=%2Fa%20b%3Fc%3Dd");
        }

        #[test]
        fn tokens_are_long_and_never_shown_by_debug() {
            assert!(AccessToken::parse("short").is_err());
            assert!(AccessToken::parse("has a space in the middle").is_err());
            let token = AccessToken::generate();
            assert_eq!(token.reveal().len(), 64);
            assert!(!format!("{token:?}").contains(token.reveal()));
        }
    }
}
