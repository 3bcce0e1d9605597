//! Where a job's target is now. A job started in `docshift serve` names its target by the
//! server's identity for it — the local sandbox, or a database stored on the Targets page —
//! and the server looks the endpoint and token up each time the job runs: a sandbox that a
//! restart put on another port, or a token rotated on the Targets page, is found, never the
//! copy taken when the job was created. The server provides the directory; a process without
//! one (the CLI) uses the job's copy.

use super::spec::TargetSpec;
pub use futures::future::BoxFuture;

/// The targets a server knows, by id.
pub trait TargetDirectory: Send + Sync {
    /// The target's endpoint, keyspace and token now; `None` when it was removed.
    fn lookup<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Option<TargetSpec>>;
}

/// The id of the sandbox target (astra-local inside `docshift serve`).
pub const SANDBOX: &str = "sandbox";
