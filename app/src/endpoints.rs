//! The server functions' endpoints and the content type each one's input codec declares, so
//! the server can refuse any other (a `text/plain` body is never read as JSON). A test checks
//! that every registered server function is listed here.

use server_fn::{ContentType, Http, ServerFn};
use std::collections::HashMap;

/// The content type of a protocol's input.
trait InputContentType {
    const INPUT: &'static str;
}

impl<I: ContentType, O> InputContentType for Http<I, O> {
    const INPUT: &'static str = I::CONTENT_TYPE;
}

fn entry<F>() -> (&'static str, &'static str)
where
    F: ServerFn,
    F::Protocol: InputContentType,
{
    (F::PATH, <F::Protocol as InputContentType>::INPUT)
}

/// Endpoint path → the content type its input must have.
pub fn input_content_types() -> HashMap<&'static str, &'static str> {
    use crate::{auth::*, jobs::*, sources::*, targets::*};
    HashMap::from([
        entry::<SignIn>(),
        entry::<SignOut>(),
        entry::<SignedIn>(),
        entry::<AccessRequired>(),
        entry::<ListSources>(),
        entry::<AddSource>(),
        entry::<ListDatabases>(),
        entry::<ListCollections>(),
        entry::<FirstDocuments>(),
        entry::<ExactCount>(),
        entry::<ListTargets>(),
        entry::<AddTarget>(),
        entry::<TestTarget>(),
        entry::<RunCensus>(),
        entry::<DryRun>(),
        entry::<StartMigration>(),
        entry::<ListJobs>(),
        entry::<JobDeadLetters>(),
        entry::<PauseJob>(),
        entry::<ResumeJob>(),
        entry::<CancelJob>(),
        entry::<CutoverJob>(),
    ])
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_server_function_is_listed_with_its_codec() {
        let listed = super::input_content_types();
        for (path, _) in server_fn::axum::server_fn_paths() {
            assert!(listed.contains_key(path), "{path} is missing from input_content_types()");
        }
        assert_eq!(listed.get("/api/start_migration"), Some(&"application/json"));
        assert_eq!(listed.get("/api/add_target"), Some(&"application/x-www-form-urlencoded"));
    }
}
