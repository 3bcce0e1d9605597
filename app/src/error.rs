//! The error every server function returns: a sentence for the user, never a secret.

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
