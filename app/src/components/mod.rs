//! Pieces of UI that several pages use, or that keep a page short.

pub mod census;
pub mod collection_card;
pub mod collection_picker;
pub mod dry_run;
pub mod job_controls;
pub mod job_story;
pub mod name_prompt;
pub mod online;
pub mod policies;
pub mod presence;
pub mod progress;
pub mod status;
pub mod vectors;
