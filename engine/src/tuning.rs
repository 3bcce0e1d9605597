//! How hard a job pushes, defined once: the default and the bounds of each setting a job
//! takes. The job spec's defaults, the checks before a job starts, the Data API client's
//! defaults, the CLI's flags, the server functions and the New migration page all read
//! them here (this module compiles for the browser too).

use crate::wire::thousands;

/// One setting: its default and the range it must lie in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub min: usize,
    pub default: usize,
    pub max: usize,
}

impl Setting {
    /// Whether `value` lies within the bounds.
    pub fn contains(&self, value: usize) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// `value` brought within the bounds.
    pub fn clamp(&self, value: usize) -> usize {
        value.clamp(self.min, self.max)
    }

    /// The bounds in words, for messages and help: `1 to 100,000`.
    pub fn range(&self) -> String {
        format!("{} to {}", thousands(self.min as u64), thousands(self.max as u64))
    }
}

/// The most `_id` ranges read in parallel per collection, when the source is read in ranges
/// (the read plan measures whether it should be; ranges are split while that helps).
pub const PARALLEL_RANGES: Setting = Setting { min: 1, default: 4, max: 64 };

/// Documents read, written and checkpointed per batch (the writer splits a batch into
/// `insertMany` chunks).
pub const BATCH_SIZE: Setting = Setting { min: 1, default: 1_000, max: 100_000 };

/// Documents per `insertMany` (or Document API batch): at most 100, the Data API's limit;
/// 50 by default, as the official clients do (see `docs/data-api.md`, "Writes").
pub const CHUNK_SIZE: Setting = Setting { min: 1, default: 50, max: 100 };

/// The most write requests in flight for a job: the ceiling of its adaptive limit, which
/// grows while the target's round trips stay flat and shrinks when they rise. 64 by default:
/// the official clients keep 20 in flight per `insert_many` call, and a job feeds several.
pub const IN_FLIGHT: Setting = Setting { min: 1, default: 64, max: 256 };

/// The most documents a second a job may copy (`--max-rate`), when it is given one.
pub const MAX_RATE: Setting = Setting { min: 1, default: 1_000, max: 10_000_000 };

/// Documents in flight (read, converted or being written) for a whole job, all its ranges
/// together: what bounds its memory. Batches commit in order, so when the oldest of them is
/// slow, this many can commit at once behind it.
pub const DOCUMENTS_IN_FLIGHT: usize = 8_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_read_as_words_and_clamp() {
        assert_eq!(BATCH_SIZE.range(), "1 to 100,000");
        assert_eq!(CHUNK_SIZE.range(), "1 to 100");
        assert_eq!(PARALLEL_RANGES.clamp(0), 1);
        assert_eq!(PARALLEL_RANGES.clamp(65), 64);
        assert!(IN_FLIGHT.contains(IN_FLIGHT.default) && !IN_FLIGHT.contains(257));
    }
}
