//! The error every server function returns: a sentence for the user, never a secret. When
//! the cause is technical (a connection refused, an HTTP status), the sentence says what to
//! check and the technical text comes along as details, which pages fold away.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// MongoDB could not do what was asked; the text says why and what to check.
    #[error("{0}")]
    Source(String),
    /// The request named something that doesn't exist or was malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// The request never reached the server, or its answer could not be read.
    #[error("The request failed: {0}")]
    Transport(String),
    /// A plain sentence that says what to check, and the technical details behind it.
    #[error("{message}")]
    Explained { message: String, details: String },
    /// What was asked for does not exist (HTTP 404 on a page).
    #[error("{0}")]
    NotFound(String),
}

impl AppError {
    /// The technical text behind the sentence, when there is one.
    pub fn details(&self) -> Option<&str> {
        match self {
            AppError::Explained { details, .. } if !details.is_empty() => Some(details),
            _ => None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<engine::source::mongo::SourceError> for AppError {
    fn from(err: engine::source::mongo::SourceError) -> Self {
        use engine::source::mongo::SourceError;
        match err {
            SourceError::InvalidUri(_) | SourceError::NoSuchDatabase(_) | SourceError::NoSuchCollection { .. } => {
                AppError::InvalidInput(err.to_string())
            }
            _ => AppError::Source(err.to_string()),
        }
    }
}

/// What an Astra endpoint looks like, for sentences that ask to check one.
#[cfg(feature = "ssr")]
const ENDPOINT_SHAPE: &str = "https://<db-id>-<region>.apps.astra.datastax.com";

/// A target failure as a plain sentence about `endpoint`, with the client's text as details.
#[cfg(feature = "ssr")]
pub fn target_problem(endpoint: &str, err: &engine::astra::TargetError) -> AppError {
    use engine::astra::{DataApiError, DocumentApiError, TargetError};
    let details = err.to_string();
    let (last, status) = match err {
        TargetError::DataApi(DataApiError::RetriesExhausted { last, .. }) | TargetError::DocumentApi(DocumentApiError::RetriesExhausted { last, .. }) => {
            (Some(last.as_str()), None)
        }
        TargetError::DataApi(DataApiError::Http { status, .. }) => (None, Some(*status)),
        _ => (None, None),
    };
    let message = match (last, status) {
        (Some(last), _) if last.starts_with("HTTP 429") => {
            format!("{endpoint} keeps asking docshift to slow down (HTTP 429): wait a moment and try again.")
        }
        (Some(last), _) if last.starts_with("HTTP 5") => {
            let code: String = last.chars().skip(5).take(3).collect();
            format!("{endpoint} answers, but fails right now (HTTP {code}): the database may be starting or overloaded; try again in a moment.")
        }
        (Some(_), _) => format!("Can't reach {endpoint} — check the API endpoint, it looks like {ENDPOINT_SHAPE}."),
        (None, Some(404)) => format!("Nothing at {endpoint} answers like an Astra API (HTTP 404) — check the API endpoint, it looks like {ENDPOINT_SHAPE}."),
        (None, Some(status)) => format!("{endpoint} answered HTTP {status}, which an Astra API does not — check the API endpoint, it looks like {ENDPOINT_SHAPE}."),
        (None, None) => sentence(&details),
    };
    AppError::Explained { details: if message == sentence(&details) { String::new() } else { details }, message }
}

/// `text` as a sentence: a capital first letter and a full stop.
#[cfg(feature = "ssr")]
fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use engine::astra::{DataApiError, TargetError};

    #[test]
    fn an_unreachable_endpoint_reads_as_a_sentence_with_the_details_folded() {
        let err = TargetError::DataApi(DataApiError::RetriesExhausted {
            command: "findCollections",
            attempts: 2,
            elapsed_ms: 81,
            last: "error sending request: tcp connect error: Connection refused (os error 111)".into(),
        });
        let problem = target_problem("http://127.0.0.1:9", &err);
        assert_eq!(
            problem.to_string(),
            "Can't reach http://127.0.0.1:9 — check the API endpoint, it looks like https://<db-id>-<region>.apps.astra.datastax.com."
        );
        assert!(problem.details().is_some_and(|d| d.contains("Connection refused")));
        let token = target_problem("https://x", &TargetError::DataApi(DataApiError::TokenRefused));
        assert!(token.to_string().starts_with("The Data API refused the token"), "{token}");
        assert_eq!(token.details(), None);
    }
}
