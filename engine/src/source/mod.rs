//! Sources of documents. Only MongoDB for now: connecting and browsing (`mongo`), `_id`
//! ranges for parallel reads (`ranges`), and change streams for online jobs (`changes`).
pub mod changes;
pub mod mongo;
pub mod probe;
pub mod ranges;
