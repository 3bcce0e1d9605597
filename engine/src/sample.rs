//! The sample dataset of `make run` and the tests (filled in by the foundation work).
