//! What browsers and the CLI see of an online job (see `job::online`): its mode, phase, lag,
//! the changes applied and the cutover. Compiled for the browser too, with the rest of `wire`.

use serde::{Deserialize, Serialize};

/// Whether a job copies once, or copies and then follows the source's changes until someone
/// cuts over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobMode {
    /// Copy, verify, done: the source should not change meanwhile.
    #[default]
    Copy,
    /// Copy, then apply the change stream until cut over, then verify.
    Online,
}

/// Where an online job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlinePhase {
    /// Copying the collections as they are (changes wait in the source's oplog).
    Copying,
    /// Applying the source's changes as they happen.
    Following,
    /// Asked to cut over: applying the changes up to the barrier.
    CuttingOver,
    /// Past the barrier: comparing the target with the source.
    Verifying,
    /// Cut over and verified (or failed: see the job's status).
    Complete,
}

impl OnlinePhase {
    pub fn as_str(self) -> &'static str {
        match self {
            OnlinePhase::Copying => "copying",
            OnlinePhase::Following => "following",
            OnlinePhase::CuttingOver => "cutting_over",
            OnlinePhase::Verifying => "verifying",
            OnlinePhase::Complete => "complete",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "copying" => OnlinePhase::Copying,
            "following" => OnlinePhase::Following,
            "cutting_over" => OnlinePhase::CuttingOver,
            "verifying" => OnlinePhase::Verifying,
            "complete" => OnlinePhase::Complete,
            _ => return None,
        })
    }

    /// In words for people: "following changes".
    pub fn label(self) -> &'static str {
        match self {
            OnlinePhase::Copying => "copying",
            OnlinePhase::Following => "following changes",
            OnlinePhase::CuttingOver => "cutting over",
            OnlinePhase::Verifying => "verifying",
            OnlinePhase::Complete => "complete",
        }
    }
}

/// The source's changes an online job has applied, by kind. Each change is counted once,
/// when the resume point has moved past it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounters {
    pub inserts: u64,
    pub updates: u64,
    pub replaces: u64,
    pub deletes: u64,
    /// Updates whose document was deleted before it could be looked up (its delete follows).
    pub skipped: u64,
    /// Changed documents Astra would refuse, set aside with their reasons.
    pub dead_lettered: u64,
}

impl ChangeCounters {
    /// Every change accounted for.
    pub fn total(&self) -> u64 {
        self.inserts + self.updates + self.replaces + self.deletes + self.skipped + self.dead_lettered
    }

    /// The sum of two counts.
    pub fn plus(&self, other: &ChangeCounters) -> ChangeCounters {
        ChangeCounters {
            inserts: self.inserts + other.inserts,
            updates: self.updates + other.updates,
            replaces: self.replaces + other.replaces,
            deletes: self.deletes + other.deletes,
            skipped: self.skipped + other.skipped,
            dead_lettered: self.dead_lettered + other.dead_lettered,
        }
    }
}

/// A cutover: who asked, when, and the barrier docshift took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cutover {
    /// Who asked, as they named themselves (or the command that asked).
    pub by: String,
    /// When they asked (ms since the epoch).
    pub at_ms: i64,
    /// The source's cluster time at the request (ms since the epoch): every change up to it
    /// is applied, none after it.
    pub barrier_ms: i64,
    /// The same as the source's `Timestamp(seconds, increment)`.
    pub barrier: String,
}

/// An online job's sync, as every browser and the CLI see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnlineProgress {
    pub phase: OnlinePhase,
    /// Seconds the target is behind the source: the source's latest write against the last
    /// change applied; 0 when caught up (also when the source is idle). `None` while copying.
    pub lag_seconds: Option<f64>,
    /// Changes read from the source and not applied yet.
    pub waiting: u64,
    /// Changes applied per second, over the last few seconds.
    pub rate: f64,
    pub applied: ChangeCounters,
    /// Set once someone asked to cut over.
    pub cutover: Option<Cutover>,
    /// Changes made on the source after the barrier: not applied, counted so that someone who
    /// forgot to stop the application learns it.
    pub after_barrier: u64,
}
