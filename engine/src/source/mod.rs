//! Sources of documents. Only MongoDB for now.
pub mod mongo;
pub mod probe;
pub mod ranges;
