//! Who may use docshift. Bound to loopback (the default) everyone who reaches the port may;
//! bound to any other address the server asks for its access token once, on the sign-in
//! page, and then knows the browser by a session cookie. These are the server functions of
//! that exchange and the server-side session store they share with the server's middleware.

use crate::error::AppError;
use leptos::prelude::*;

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
        let Some(session) = access.sign_in(&token) else {
            tracing::warn!("a sign-in with a wrong access token was refused");
            return Err(AppError::InvalidInput(WRONG_TOKEN.into()));
        };
        ssr::set_cookie(&ssr::session_cookie(&session))?;
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
    ssr::set_cookie(&ssr::expired_cookie())?;
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

    use crate::error::AppError;
    use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
    use leptos::prelude::use_context;
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    use std::{
        collections::HashMap,
        sync::Mutex,
        time::{Duration, Instant},
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

    /// The server's access rule and its signed-in browsers.
    pub struct Access {
        /// `None`: everyone may use the server.
        token: Option<AccessToken>,
        /// Session id → when it was opened. Kept in memory: a restart signs everyone out.
        sessions: Mutex<HashMap<String, Instant>>,
    }

    impl Access {
        /// No token asked for: for a server only this machine can reach.
        pub fn open() -> Self {
            Self { token: None, sessions: Mutex::default() }
        }

        /// Every request needs a session, opened with `token`.
        pub fn with_token(token: AccessToken) -> Self {
            Self { token: Some(token), sessions: Mutex::default() }
        }

        pub fn required(&self) -> bool {
            self.token.is_some()
        }

        /// The token, when one is required.
        pub fn token(&self) -> Option<&AccessToken> {
            self.token.as_ref()
        }

        /// Opens a session when `candidate` is the token. The comparison takes the same time
        /// wherever the two differ (both are hashed first, so their lengths don't show either).
        pub fn sign_in(&self, candidate: &str) -> Option<String> {
            let token = self.token.as_ref()?;
            let right: bool = Sha256::digest(token.0.as_bytes()).ct_eq(&Sha256::digest(candidate.as_bytes())).into();
            if !right {
                return None;
            }
            let session = random_hex();
            let mut sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sessions.retain(|_, opened| opened.elapsed() < SESSION_LIFETIME);
            sessions.insert(session.clone(), Instant::now());
            Some(session)
        }

        /// Whether `session` is open and not yet expired.
        pub fn is_signed_in(&self, session: &str) -> bool {
            let sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sessions.get(session).is_some_and(|opened| opened.elapsed() < SESSION_LIFETIME)
        }

        /// Whether a request with these headers may go through.
        pub fn allows(&self, headers: &HeaderMap) -> bool {
            !self.required() || session_from(headers).is_some_and(|s| self.is_signed_in(&s))
        }

        pub fn sign_out(&self, session: &str) {
            let mut sessions = self.sessions.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            sessions.remove(session);
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

    /// The `Set-Cookie` value that hands a browser its session.
    pub fn session_cookie(session: &str) -> String {
        format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_LIFETIME.as_secs())
    }

    /// The `Set-Cookie` value that clears it.
    pub fn expired_cookie() -> String {
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
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
            let access = Access::with_token(AccessToken::generate());
            assert!(access.sign_in("").is_none());
            assert!(access.sign_in("not the token at all").is_none());
            let token = access.token().map(|t| t.reveal().to_owned()).unwrap_or_default();
            let session = access.sign_in(&token);
            assert!(session.as_deref().is_some_and(|s| access.is_signed_in(s)));
            assert!(!access.is_signed_in("made-up"));
            if let Some(session) = session {
                access.sign_out(&session);
                assert!(!access.is_signed_in(&session));
            }
        }

        #[test]
        fn an_open_server_has_no_sessions_to_open() {
            let access = Access::open();
            assert!(!access.required());
            assert!(access.sign_in("anything").is_none());
            assert!(access.allows(&HeaderMap::new()));
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
