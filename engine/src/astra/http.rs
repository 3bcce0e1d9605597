//! What the two Astra clients share below their APIs: the HTTP client and the URLs it
//! addresses, one exchange through the target's [`Limiter`] ([`exchange`]: a 429 is waited
//! out there, never counted as a failed attempt), one attempt loop with backoff
//! ([`with_retries`]), and how a failed exchange is described — in sentences that never hold
//! the token.
//!
//! Each client keeps its own requests, answers and errors; its error type says, through
//! [`ApiError`], how the shared parts' failures read in it.

use super::{
    limiter::{Limiter, Outcome},
    retry::{self, Attempts, RetryPolicy},
    Token,
};
use bytes::Bytes;
use std::{future::Future, sync::Arc, time::Duration};

/// The user agent both clients send.
const USER_AGENT: &str = concat!("docshift/", env!("CARGO_PKG_VERSION"));

/// How the shared parts' failures read in a client's error type.
pub(crate) trait ApiError: Sized {
    /// The API's name in log lines: `Data API` or `Document API`.
    const API: &'static str;
    /// Settings that cannot work (endpoint, token characters, ...).
    fn invalid_config(reason: String) -> Self;
    /// The HTTP client could not be built, or a request could not be.
    fn client(reason: String) -> Self;
    /// A keyspace, namespace or collection name the API would refuse.
    fn invalid_name(kind: &'static str, name: String) -> Self;
    /// A transient failure outlasted the retry policy.
    fn retries_exhausted(operation: &'static str, attempts: u32, elapsed_ms: u128, last: String) -> Self;

    /// Refuses a keyspace, namespace or collection name the API would refuse (see
    /// [`crate::naming::name_problem`]) before any request.
    fn check_name(kind: &'static str, name: &str) -> Result<(), Self> {
        if crate::naming::is_valid_schema_name(name) {
            Ok(())
        } else {
            Err(Self::invalid_name(kind, name.to_owned()))
        }
    }
}

/// Implements [`ApiError`] for a client's error enum, whose variants `InvalidConfig(String)`,
/// `Client(String)`, `InvalidName { kind, name }` and
/// `RetriesExhausted { <operation field>, attempts, elapsed_ms, last }` carry the failures of
/// the shared parts: `api_error!(DataApiError, "Data API", command)`.
macro_rules! api_error {
    ($error:ty, $api:literal, $operation:ident) => {
        impl $crate::astra::http::ApiError for $error {
            const API: &'static str = $api;
            fn invalid_config(reason: String) -> Self {
                Self::InvalidConfig(reason)
            }
            fn client(reason: String) -> Self {
                Self::Client(reason)
            }
            fn invalid_name(kind: &'static str, name: String) -> Self {
                Self::InvalidName { kind, name }
            }
            fn retries_exhausted($operation: &'static str, attempts: u32, elapsed_ms: u128, last: String) -> Self {
                Self::RetriesExhausted { $operation, attempts, elapsed_ms, last }
            }
        }
    };
}
pub(crate) use api_error;

/// What one attempt ran into, when it did not succeed.
pub(crate) enum AttemptFailure<E> {
    /// Worth another attempt.
    Transient { reason: String, retry_after: Option<Duration> },
    /// Not worth another attempt.
    Fatal(E),
}

impl<E: ApiError> AttemptFailure<E> {
    /// An exchange that got no (whole) answer: worth retrying, unless the request could not
    /// be built or was redirected.
    pub fn transport(token: &Token, error: reqwest::Error) -> Self {
        let reason = token.redact(&error_chain(&error));
        if error.is_builder() || error.is_redirect() {
            Self::Fatal(E::client(reason))
        } else {
            Self::Transient { reason, retry_after: None }
        }
    }
}

/// The longest `Retry-After` a throttled request waits before it is sent again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The target's answer to one exchange.
pub(crate) struct Answer {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub bytes: Bytes,
}

/// Sends one request through the target's limiter (`documents`: what it carries, for the
/// documents-per-second ceiling) and reads the whole answer. A 429 is the target asking for
/// a slower pace: the limiter slows down, the request waits (at least the `Retry-After`) and
/// goes again, as often as it takes; it comes back as an answer only once the target has
/// accepted nothing for [`super::limiter::STARVED`], and then counts as a failed attempt.
pub(crate) async fn exchange<F>(limiter: &Arc<Limiter>, documents: usize, api: &'static str, request: F) -> Result<Answer, reqwest::Error>
where
    F: Fn() -> reqwest::RequestBuilder,
{
    loop {
        let permit = limiter.acquire(documents).await;
        let response = match request().send().await {
            Ok(response) => response,
            Err(error) => {
                permit.finish(Outcome::Overloaded);
                return Err(error);
            }
        };
        let status = response.status().as_u16();
        let retry_after = retry::retry_after(response.headers());
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => {
                permit.finish(Outcome::Overloaded);
                return Err(error);
            }
        };
        match status {
            429 => {
                permit.finish(Outcome::Throttled);
                if limiter.starved() {
                    return Ok(Answer { status, retry_after, bytes });
                }
                let wait = retry_after.unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER);
                tracing::debug!(api, wait_ms = wait.as_millis() as u64, reason = "HTTP 429", "throttled by the target; sending again");
                super::stats::record_throttled();
                tokio::time::sleep(wait).await;
                continue;
            }
            408 | 500 | 502 | 503 | 504 => permit.finish(Outcome::Overloaded),
            _ => permit.finish(Outcome::Answered),
        }
        return Ok(Answer { status, retry_after, bytes });
    }
}

/// What a client builds from its settings before any request: the endpoint's base URL, the
/// token as a sensitive header value, and the HTTP client.
pub(crate) struct Http {
    pub base: reqwest::Url,
    pub token_header: reqwest::header::HeaderValue,
    pub client: reqwest::Client,
}

impl Http {
    /// `api_suffix` is the API's path (`/api/json/v1`), accepted at the end of `endpoint`.
    pub fn new<E: ApiError>(
        endpoint: &str,
        api_suffix: &str,
        token: &Token,
        request_timeout: Duration,
        connect_timeout: Duration,
        concurrency: usize,
    ) -> Result<Self, E> {
        let base = base_url(endpoint, api_suffix).ok_or_else(|| {
            E::invalid_config(format!(
                "the endpoint '{}' is not an http(s) URL such as https://<db>-<region>.apps.astra.datastax.com",
                token.redact(endpoint)
            ))
        })?;
        if token.is_empty() {
            return Err(E::invalid_config("the token is empty".into()));
        }
        let token_header = token
            .header_value()
            .ok_or_else(|| E::invalid_config("the token holds characters an HTTP header cannot carry".into()))?;
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(request_timeout)
            .connect_timeout(connect_timeout)
            .pool_max_idle_per_host(concurrency.max(8))
            .build()
            .map_err(|e| E::client(e.to_string()))?;
        Ok(Self { base, token_header, client })
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the policy's attempts or time run out.
pub(crate) async fn with_retries<T, E, F, Fut>(policy: &RetryPolicy, operation: &'static str, mut attempt: F) -> Result<T, E>
where
    E: ApiError,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AttemptFailure<E>>>,
{
    let mut attempts = policy.start();
    loop {
        attempts.begin();
        match attempt().await {
            Ok(answer) => return Ok(answer),
            Err(AttemptFailure::Fatal(error)) => return Err(error),
            Err(AttemptFailure::Transient { reason, retry_after }) => {
                wait_or_give_up::<E>(operation, &attempts, reason, retry_after).await?;
            }
        }
    }
}

/// After a transient failure: sleeps before the next attempt, or says the retries are used up.
pub(crate) async fn wait_or_give_up<E: ApiError>(
    operation: &'static str,
    attempts: &Attempts,
    reason: String,
    retry_after: Option<Duration>,
) -> Result<(), E> {
    match attempts.next_delay(retry_after) {
        Some(delay) => {
            super::stats::record_retry(&reason);
            tracing::debug!(operation, attempt = attempts.made(), delay_ms = delay.as_millis() as u64, %reason, "retrying {} request", E::API);
            tokio::time::sleep(delay).await;
            Ok(())
        }
        None => {
            tracing::warn!(operation, attempts = attempts.made(), %reason, "{} request still failing; giving up", E::API);
            Err(E::retries_exhausted(operation, attempts.made(), attempts.elapsed().as_millis(), reason))
        }
    }
}

/// The start of a server's answer, for an error message, without the token.
pub(crate) fn body_excerpt(token: &Token, bytes: &[u8]) -> String {
    token.redact(&excerpt(&String::from_utf8_lossy(bytes), 300))
}

/// The first `max` characters of a server's answer, for an error message.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An error and its causes, one sentence.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The endpoint's scheme, host and port with any trailing `/` or API path removed.
fn base_url(endpoint: &str, api_suffix: &str) -> Option<reqwest::Url> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(api_suffix).unwrap_or(trimmed);
    let url = reqwest::Url::parse(trimmed).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
        return None;
    }
    Some(url)
}

/// `base` with `segments` appended, each percent-encoded as one path segment.
pub(crate) fn join_segments(base: &reqwest::Url, segments: &[&str]) -> reqwest::Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}
