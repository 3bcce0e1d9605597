//! The signed-in browsers, kept in `STATE_DIR/sessions.json` so that a restart signs nobody
//! out. The file holds the SHA-256 digest of each session id, never the id itself: whoever
//! reads the state directory learns no cookie that works. Each session also records a tag of
//! the access token it was opened with, so starting the server with another token ends every
//! session opened with the old one (that is how an operator revokes them all at once).

use super::ssr::{AccessToken, SESSION_LIFETIME};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// One stored session.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    /// SHA-256 of the session id, hex.
    digest: String,
    /// [`token_tag`] of the access token the session was opened with.
    token: String,
    opened_ms: u64,
    expires_ms: u64,
}

/// The open sessions of a server that asks for a token.
pub(crate) struct Sessions {
    /// `None`: kept in memory only (tests, or no state directory).
    file: Option<PathBuf>,
    token: String,
    open: Mutex<HashMap<String, Stored>>,
}

impl Sessions {
    /// The sessions opened with `token` that are still valid, from `file` when there is one.
    /// A file that can't be read is reported: silently starting empty would sign everyone
    /// out for a reason nobody sees.
    pub(crate) fn load(file: Option<PathBuf>, token: &AccessToken) -> Result<Self, String> {
        let token = token_tag(token);
        let stored: Vec<Stored> = match &file {
            None => Vec::new(),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{} is not readable: {e}; delete it to sign everyone out", path.display()))?,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(err) => return Err(format!("{} is not readable: {err}", path.display())),
            },
        };
        let now = now_ms();
        let open = stored.into_iter().filter(|s| s.token == token && s.expires_ms > now).map(|s| (s.digest.clone(), s)).collect();
        let sessions = Self { file, token, open: Mutex::new(open) };
        // Drops what expired or belongs to another token from the file too.
        sessions.save(&sessions.lock());
        Ok(sessions)
    }

    /// Opens the session `id` (the cookie's value).
    pub(crate) fn open(&self, id: &str) {
        let now = now_ms();
        let stored = Stored { digest: digest(id), token: self.token.clone(), opened_ms: now, expires_ms: now + millis(SESSION_LIFETIME) };
        let mut open = self.lock();
        open.retain(|_, s| s.expires_ms > now);
        open.insert(stored.digest.clone(), stored);
        self.save(&open);
    }

    /// Whether `id` is an open session that has not expired.
    pub(crate) fn is_open(&self, id: &str) -> bool {
        self.lock().get(&digest(id)).is_some_and(|s| s.expires_ms > now_ms())
    }

    /// Ends a session.
    pub(crate) fn close(&self, id: &str) {
        let mut open = self.lock();
        if open.remove(&digest(id)).is_some() {
            self.save(&open);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes the sessions (readable by the server's user only). A failure is logged, not
    /// fatal: the session works until the next restart.
    fn save(&self, open: &HashMap<String, Stored>) {
        let Some(path) = &self.file else { return };
        let mut stored: Vec<&Stored> = open.values().collect();
        stored.sort_by_key(|s| s.opened_ms);
        let written = serde_json::to_string_pretty(&stored)
            .map_err(|e| e.to_string())
            .and_then(|text| crate::private_file::write_private(path, &text).map_err(|e| e.to_string()));
        if let Err(err) = written {
            tracing::error!(file = %path.display(), error = %err, "cannot save the sessions: they will end at the next restart");
        }
    }
}

/// A tag of the access token, for telling which token opened a session: the token itself
/// can't be recovered from it.
fn token_tag(token: &AccessToken) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"docshift session token\0");
    hasher.update(token.reveal().as_bytes());
    hex::encode(&hasher.finalize()[..16])
}

fn digest(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

fn now_ms() -> u64 {
    millis(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sessions_outlive_the_process_but_not_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let file = Some(dir.path().join("sessions.json"));
        let token = AccessToken::parse("the-first-access-token").unwrap();
        let sessions = Sessions::load(file.clone(), &token).unwrap();
        sessions.open("session-one");
        sessions.open("session-two");
        sessions.close("session-two");
        let text = std::fs::read_to_string(file.as_ref().unwrap()).unwrap();
        assert!(!text.contains("session-one"), "the file holds a session id: {text}");

        let again = Sessions::load(file.clone(), &token).unwrap();
        assert!(again.is_open("session-one"));
        assert!(!again.is_open("session-two"));
        assert!(!again.is_open("made-up"));

        let rotated = AccessToken::parse("the-second-access-token").unwrap();
        let after_rotation = Sessions::load(file.clone(), &rotated).unwrap();
        assert!(!after_rotation.is_open("session-one"));
        assert!(!Sessions::load(file, &token).unwrap().is_open("session-one"), "loading with the new token dropped the old sessions");
    }

    #[test]
    fn an_unreadable_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.json");
        std::fs::write(&path, "not json").unwrap();
        let token = AccessToken::parse("the-first-access-token").unwrap();
        let error = Sessions::load(Some(path), &token).err().unwrap();
        assert!(error.contains("sessions.json is not readable"), "{error}");
    }
}
