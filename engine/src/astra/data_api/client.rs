//! The client itself: its settings checked once, and one command sent with retries — the
//! HTTP status and the answer's `errors` read into an outcome ([`DataApiClient::run`]).

use super::{
    config::{DataApiConfig, MAX_CHUNK_SIZE},
    error::{is_transient_code, DataApiError},
    wire::{ApiErrorEntry, ApiReply},
};
use crate::astra::{
    http::{body_excerpt, exchange, join_segments, with_retries, ApiError, AttemptFailure, Http},
    retry::RetryPolicy,
    stats::RequestStats,
    Limiter, Token,
};
use bytes::Bytes;
use reqwest::{
    header::{HeaderValue, CONTENT_TYPE},
    Url,
};
use serde_json::value::RawValue;
use std::{fmt, sync::Arc};

/// What one attempt of a Data API request ran into, when it did not succeed.
pub(super) type Failure = AttemptFailure<DataApiError>;

/// A Data API client for one keyspace. Cheap to clone; clones share connections.
#[derive(Clone)]
pub struct DataApiClient {
    pub(super) http: reqwest::Client,
    pub(super) keyspace_url: Url,
    pub(super) keyspace: String,
    pub(super) token: Token,
    pub(super) token_header: HeaderValue,
    pub(super) chunk_size: usize,
    pub(super) concurrency: usize,
    pub(super) retry: RetryPolicy,
    /// Retries and throttling met, per collection (see [`crate::astra::stats`]).
    pub(super) stats: Arc<RequestStats>,
    pub(super) limiter: Arc<Limiter>,
}

impl fmt::Debug for DataApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataApiClient")
            .field("keyspace_url", &self.keyspace_url.as_str())
            .field("token", &self.token)
            .field("chunk_size", &self.chunk_size)
            .field("concurrency", &self.concurrency)
            .field("retry", &self.retry)
            .finish()
    }
}

impl DataApiClient {
    /// Checks the settings and builds the HTTP client. No request is made.
    pub fn new(config: DataApiConfig) -> Result<Self, DataApiError> {
        DataApiError::check_name("keyspace", &config.keyspace)?;
        if !(1..=MAX_CHUNK_SIZE).contains(&config.chunk_size) {
            return Err(DataApiError::InvalidConfig(format!(
                "the chunk size must be between 1 and {MAX_CHUNK_SIZE}, not {}",
                config.chunk_size
            )));
        }
        if config.concurrency == 0 {
            return Err(DataApiError::InvalidConfig("at least one request must be allowed in flight".into()));
        }
        if config.retry.max_attempts == 0 {
            return Err(DataApiError::InvalidConfig("the retry policy must allow at least one attempt".into()));
        }
        let Http { base, token_header, client: http } = Http::new::<DataApiError>(
            &config.endpoint,
            "/api/json/v1",
            &config.token,
            config.request_timeout,
            config.connect_timeout,
            config.concurrency,
        )?;
        let keyspace_url = join_segments(&base, &["api", "json", "v1", &config.keyspace]);
        let limiter = config.limiter.unwrap_or_else(|| Limiter::new(config.concurrency, None));
        Ok(Self {
            http,
            keyspace_url,
            keyspace: config.keyspace,
            token: config.token,
            token_header,
            chunk_size: config.chunk_size,
            concurrency: config.concurrency,
            retry: config.retry,
            stats: Arc::default(),
            limiter,
        })
    }

    /// The retries and throttling this client's requests met.
    pub fn stats(&self) -> &Arc<RequestStats> {
        &self.stats
    }

    /// The pace of the target this client sends to.
    pub fn limiter(&self) -> &Arc<Limiter> {
        &self.limiter
    }

    /// The keyspace this client addresses.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// The URL of a collection's commands.
    pub(super) fn collection_url(&self, collection: &str) -> Url {
        join_segments(&self.keyspace_url, &[collection])
    }

    /// Sends one command until it succeeds, fails for good, or the retries run out.
    /// `collection` names the addressed collection (for errors); `created` the collection a
    /// `createCollection` creates.
    pub(super) async fn run(
        &self,
        command: &'static str,
        url: Url,
        collection: Option<&str>,
        created: Option<&str>,
        body: Bytes,
    ) -> Result<ApiReply, DataApiError> {
        let (url, body) = (&url, &body);
        with_retries(&self.retry, command, move || async move {
            let reply = self.send_once(command, url, body.clone(), 0).await?;
            match reply.errors.first() {
                None => Ok(reply),
                Some(error) if error.code() == "EXISTING_COLLECTION_DIFFERENT_SETTINGS" => {
                    Err(Failure::Fatal(DataApiError::CollectionExistsWithOtherSettings {
                        keyspace: self.keyspace.clone(),
                        collection: created.unwrap_or_default().to_owned(),
                    }))
                }
                Some(error) => Err(self.classify(error, command, collection)),
            }
        })
        .await
    }

    /// One HTTP exchange through the target's limiter (which waits out 429s): the parsed
    /// answer, or why it is not one. `documents`: how many the request carries.
    pub(super) async fn send_once(
        &self,
        command: &'static str,
        url: &Url,
        body: Bytes,
        documents: usize,
    ) -> Result<ApiReply, Failure> {
        let size = body.len();
        let request = || {
            self.http
                .post(url.clone())
                .header("Token", self.token_header.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone())
        };
        let answer = exchange(&self.limiter, documents, DataApiError::API, request).await.map_err(|e| Failure::transport(&self.token, e))?;
        let (status, retry_after, bytes) = (answer.status, answer.retry_after, answer.bytes);
        match status {
            200..=299 => serde_json::from_slice::<ApiReply>(&bytes).map_err(|e| {
                Failure::Fatal(DataApiError::InvalidResponse {
                    command,
                    problem: format!("not a Data API answer ({e}): {}", body_excerpt(&self.token, &bytes)),
                })
            }),
            401 => Err(Failure::Fatal(DataApiError::TokenRefused)),
            403 => Err(Failure::Fatal(DataApiError::Forbidden { command, keyspace: self.keyspace.clone() })),
            413 => Err(Failure::Fatal(DataApiError::PayloadTooLarge { bytes: size })),
            415 => Err(Failure::Fatal(DataApiError::UnsupportedMediaType)),
            408 | 429 | 500 | 502 | 503 | 504 => Err(Failure::Transient {
                reason: format!("HTTP {status}: {}", body_excerpt(&self.token, &bytes)),
                retry_after,
            }),
            _ => Err(Failure::Fatal(DataApiError::Http { command, status, body: body_excerpt(&self.token, &bytes) })),
        }
    }

    /// What a command-level error means for the request.
    pub(super) fn classify(
        &self,
        error: &ApiErrorEntry,
        command: &'static str,
        collection: Option<&str>,
    ) -> Failure {
        let code = error.code();
        let fatal = match code {
            "UNAUTHENTICATED_REQUEST" | "MISSING_AUTHENTICATION_TOKEN" | "INVALID_AUTHENTICATION_TOKEN" => {
                DataApiError::TokenRefused
            }
            "UNAUTHORIZED_ACCESS" => DataApiError::Forbidden { command, keyspace: self.keyspace.clone() },
            "UNKNOWN_KEYSPACE" | "KEYSPACE_DOES_NOT_EXIST" | "NAMESPACE_DOES_NOT_EXIST" => {
                DataApiError::UnknownKeyspace { keyspace: self.keyspace.clone() }
            }
            "UNKNOWN_COLLECTION_OR_TABLE" | "COLLECTION_NOT_EXIST" | "UNKNOWN_COLLECTION" => {
                DataApiError::UnknownCollection {
                    keyspace: self.keyspace.clone(),
                    collection: collection.unwrap_or_default().to_owned(),
                }
            }
            _ if is_transient_code(code) => {
                return Failure::Transient {
                    reason: format!("{code}: {}", self.token.redact(error.message())),
                    retry_after: None,
                }
            }
            _ => DataApiError::Command {
                command,
                code: code.to_owned(),
                message: self.token.redact(error.message()),
            },
        };
        Failure::Fatal(fatal)
    }
}

/// A command object as a request body.
pub(super) fn json_body(value: &serde_json::Value) -> Result<Bytes, DataApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| DataApiError::InvalidConfig(format!("the request could not be written: {e}")))
}

/// Parses the `data` or `status` part of an answer.
pub(super) fn parse_part<T: serde::de::DeserializeOwned>(
    command: &'static str,
    part: Option<&RawValue>,
    name: &str,
) -> Result<T, DataApiError> {
    let raw = part.ok_or_else(|| DataApiError::InvalidResponse { command, problem: format!("no {name} in the answer") })?;
    serde_json::from_str(raw.get())
        .map_err(|e| DataApiError::InvalidResponse { command, problem: format!("unreadable {name}: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::astra::data_api::{CollectionOptions, FindQuery};

    #[test]
    fn settings_are_checked() {
        let config = |endpoint: &str| DataApiConfig::new(endpoint, "default_keyspace", Token::new("AstraCS:secret"));
        assert!(DataApiClient::new(config("http://127.0.0.1:1")).is_ok());
        assert!(DataApiClient::new(config("https://db-region.apps.astra.datastax.com/api/json/v1/")).is_ok());
        assert!(matches!(DataApiClient::new(config("not a url")), Err(DataApiError::InvalidConfig(_))));
        let mut bad = config("http://127.0.0.1:1");
        bad.chunk_size = 101;
        assert!(matches!(DataApiClient::new(bad), Err(DataApiError::InvalidConfig(_))));
        let mut bad = config("http://127.0.0.1:1");
        bad.keyspace = "my-keyspace".into();
        assert!(matches!(DataApiClient::new(bad), Err(DataApiError::InvalidName { .. })));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = DataApiConfig::new("http://127.0.0.1:1", "default_keyspace", Token::new("AstraCS:secret-value"));
        assert!(!format!("{config:?}").contains("secret-value"));
        let client = DataApiClient::new(config).unwrap();
        assert!(!format!("{client:?}").contains("secret-value"));
    }

    #[test]
    fn futures_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let client = DataApiClient::new(DataApiConfig::new("http://127.0.0.1:1", "ks", Token::new("t0k3n"))).unwrap();
        assert_send(&client.insert_many("c", Vec::new()));
        assert_send(&client.insert_chunks("c", Vec::new()));
        assert_send(&client.find_pages("c", FindQuery::default()));
        assert_send(&client.create_collection("c", &CollectionOptions::default()));
        assert_send(&client.count_documents("c", None));
    }

    #[test]
    fn urls_are_built_per_segment() {
        let config = DataApiConfig::new("http://127.0.0.1:8181/", "ks", Token::new("t0k3n"));
        let client = DataApiClient::new(config).unwrap();
        assert_eq!(client.keyspace_url.as_str(), "http://127.0.0.1:8181/api/json/v1/ks");
        assert_eq!(join_segments(&client.keyspace_url, &["c"]).as_str(), "http://127.0.0.1:8181/api/json/v1/ks/c");
    }
}
