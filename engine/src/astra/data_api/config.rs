//! Where the Data API is and how hard to push it: [`DataApiConfig`] and the limits and
//! defaults it is checked against.

use crate::{
    astra::{Limiter, RetryPolicy, Token},
    tuning,
};
use std::{sync::Arc, time::Duration};

/// Most documents one `insertMany` may carry.
pub const MAX_CHUNK_SIZE: usize = tuning::CHUNK_SIZE.max;
/// Documents per `insertMany` by default (the maintainers' measured sweet spot).
pub const DEFAULT_CHUNK_SIZE: usize = tuning::CHUNK_SIZE.default;
/// `insertMany` requests in flight by default.
pub const DEFAULT_CONCURRENCY: usize = tuning::IN_FLIGHT.default;
/// Most bytes of one request body we send; the Data API accepts 20 MB.
pub const MAX_BODY_BYTES: usize = 19 * 1024 * 1024;

/// Where the Data API is and how to talk to it.
#[derive(Debug, Clone)]
pub struct DataApiConfig {
    /// The API endpoint, e.g. `https://<db-id>-<region>.apps.astra.datastax.com` or
    /// astra-local's `http://127.0.0.1:8181` (a trailing `/api/json/v1` is accepted).
    pub endpoint: String,
    /// The keyspace (`default_keyspace` on a new Astra database).
    pub keyspace: String,
    /// The application token.
    pub token: Token,
    /// Limit on one HTTP request, answer included.
    pub request_timeout: Duration,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
    /// Documents per `insertMany` (1 to 100).
    pub chunk_size: usize,
    /// `insertMany` requests in flight at once (at least 1).
    pub concurrency: usize,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// The pace of the target, shared with other clients of it; `None`: a limiter of this
    /// client's own, with `concurrency` as its ceiling.
    pub limiter: Option<Arc<Limiter>>,
}

impl DataApiConfig {
    /// Settings with the defaults: 30 s per request, 10 s to connect, chunks of 50, 20 in
    /// flight, [`RetryPolicy::default`].
    pub fn new(endpoint: impl Into<String>, keyspace: impl Into<String>, token: Token) -> Self {
        Self {
            endpoint: endpoint.into(),
            keyspace: keyspace.into(),
            token,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            retry: RetryPolicy::default(),
            limiter: None,
        }
    }
}
