//! Sources of documents. Only MongoDB for now.
