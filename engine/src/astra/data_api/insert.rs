//! `insertMany`: documents split into chunks (at most [`MAX_CHUNK_SIZE`] documents and
//! [`MAX_BODY_BYTES`]), up to `concurrency` chunks in flight, each answer's
//! `documentResponses` mapped back to the input by position, and only the documents that
//! failed transiently sent again (see the module documentation of [`super`]).

use super::{
    client::{DataApiClient, Failure},
    config::MAX_BODY_BYTES,
    error::{is_transient_code, DataApiError, DOCUMENT_ALREADY_EXISTS},
    wire::{ApiReply, ChunkOutcomes, InsertManyStatus},
};
#[cfg(doc)]
use super::config::MAX_CHUNK_SIZE;
use crate::{
    astra::{
        http::{excerpt, wait_or_give_up, ApiError},
        DocumentOutcome,
    },
    convert::{id_key_from_json, Converted},
};
use bytes::Bytes;
use futures::{
    future::Either,
    stream::{self, Stream, StreamExt, TryStreamExt},
};
use reqwest::Url;

/// One document to send: its JSON and its id, for matching the answer.
struct PendingDocument {
    json: String,
    id_key: String,
}

/// The `insertMany` body of these documents: the converter's JSON, valid by construction,
/// put in as it is (making each a `RawValue` first parsed it all again).
fn insert_many_body<'a>(documents: impl Iterator<Item = &'a str>, bytes: usize) -> Bytes {
    const HEAD: &str = r#"{"insertMany":{"documents":["#;
    const TAIL: &str = r#"],"options":{"ordered":false,"returnDocumentResponses":true}}}"#;
    let mut body = String::with_capacity(HEAD.len() + bytes + TAIL.len());
    body.push_str(HEAD);
    for (n, document) in documents.enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push_str(document);
    }
    body.push_str(TAIL);
    Bytes::from(body)
}

impl DataApiClient {
    /// Inserts documents into `collection`: one [`DocumentOutcome`] per document, in input
    /// order (see the module documentation for chunking, concurrency and retries).
    pub async fn insert_many(
        &self,
        collection: &str,
        documents: Vec<Converted>,
    ) -> Result<Vec<DocumentOutcome>, DataApiError> {
        let total = documents.len();
        let chunks: Vec<ChunkOutcomes> = self.insert_chunks(collection, documents).try_collect().await?;
        let outcomes: Vec<DocumentOutcome> = chunks.into_iter().flat_map(|c| c.outcomes).collect();
        if outcomes.len() != total {
            return Err(DataApiError::InvalidResponse {
                command: "insertMany",
                problem: format!("{} outcomes for {total} documents", outcomes.len()),
            });
        }
        Ok(outcomes)
    }

    /// [`DataApiClient::insert_many`] as a stream of chunk results in input order, each as
    /// soon as it and the chunks before it are done: for progress reports and checkpoints
    /// while a large batch is written. The stream ends after the first error.
    pub fn insert_chunks<'a>(
        &'a self,
        collection: &'a str,
        documents: Vec<Converted>,
    ) -> impl Stream<Item = Result<ChunkOutcomes, DataApiError>> + Send + 'a {
        match self.prepare_chunks(collection, documents) {
            Err(error) => Either::Left(stream::once(futures::future::ready(Err(error)))),
            Ok(chunks) => {
                let url = self.collection_url(collection);
                Either::Right(
                    stream::iter(chunks)
                        .map(move |(first, chunk)| {
                            let url = url.clone();
                            async move {
                                let outcomes = self.insert_chunk(&url, collection, chunk).await?;
                                Ok(ChunkOutcomes { first, outcomes })
                            }
                        })
                        .buffered(self.concurrency),
                )
            }
        }
    }

    /// Splits documents into chunks of at most `chunk_size` documents and
    /// [`MAX_BODY_BYTES`], each with the input position of its first document.
    fn prepare_chunks(
        &self,
        collection: &str,
        documents: Vec<Converted>,
    ) -> Result<Vec<(usize, Vec<PendingDocument>)>, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let mut chunks: Vec<(usize, Vec<PendingDocument>)> = Vec::new();
        let mut current: Vec<PendingDocument> = Vec::with_capacity(self.chunk_size);
        let mut current_first = 0usize;
        let mut current_bytes = 0usize;
        for (position, doc) in documents.into_iter().enumerate() {
            let id_key = doc.id_key().to_owned();
            let len = doc.len() + 1;
            if !current.is_empty() && (current.len() >= self.chunk_size || current_bytes + len > MAX_BODY_BYTES) {
                chunks.push((current_first, std::mem::take(&mut current)));
                current_bytes = 0;
            }
            if current.is_empty() {
                current_first = position;
            }
            current_bytes += len;
            current.push(PendingDocument { json: doc.into_json(), id_key });
        }
        if !current.is_empty() {
            chunks.push((current_first, current));
        }
        Ok(chunks)
    }

    /// One `insertMany` of at most `chunk_size` documents, retried until every document has
    /// an outcome.
    async fn insert_chunk(
        &self,
        url: &Url,
        collection: &str,
        chunk: Vec<PendingDocument>,
    ) -> Result<Vec<DocumentOutcome>, DataApiError> {
        let mut outcomes: Vec<Option<DocumentOutcome>> = vec![None; chunk.len()];
        // The last transient per-document error of each document, reported if retries run out.
        let mut last_errors: Vec<Option<(String, String)>> = vec![None; chunk.len()];
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        let mut attempts = self.retry.start();
        loop {
            attempts.begin();
            let bytes = pending.iter().map(|&i| chunk[i].json.len() + 1).sum();
            let body = insert_many_body(pending.iter().map(|&i| chunk[i].json.as_str()), bytes);
            let failure = match self.send_once("insertMany", url, body, pending.len()).await {
                Ok(reply) => {
                    match self.apply_insert_reply(&reply, collection, &chunk, &pending, &mut outcomes, &mut last_errors) {
                        Ok(still_pending) if still_pending.is_empty() => break,
                        Ok(still_pending) => {
                            let reason = still_pending
                                .first()
                                .and_then(|&i| last_errors[i].as_ref())
                                .map_or_else(
                                    || "documents were skipped".to_owned(),
                                    |(code, message)| format!("{code}: {message}"),
                                );
                            pending = still_pending;
                            Failure::Transient {
                                reason: format!("{} documents failed transiently ({reason})", pending.len()),
                                retry_after: None,
                            }
                        }
                        Err(failure) => {
                            // A whole-request failure: the per-document errors of earlier
                            // attempts are no longer the last word.
                            for &i in &pending {
                                last_errors[i] = None;
                            }
                            failure
                        }
                    }
                }
                Err(failure) => {
                    for &i in &pending {
                        last_errors[i] = None;
                    }
                    failure
                }
            };
            match failure {
                Failure::Fatal(error) => return Err(error),
                Failure::Transient { reason, retry_after } => {
                    if let Err(error) = wait_or_give_up("insertMany", &attempts, reason, retry_after).await {
                        let per_document = pending.iter().all(|&i| last_errors[i].is_some());
                        if !per_document {
                            return Err(error);
                        }
                        for &i in &pending {
                            if let Some((code, message)) = last_errors[i].take() {
                                outcomes[i] = Some(DocumentOutcome::Failed { code, message });
                            }
                        }
                        break;
                    }
                }
            }
        }
        outcomes
            .into_iter()
            .map(|o| {
                o.ok_or_else(|| DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: "a document was left without an outcome".into(),
                })
            })
            .collect()
    }

    /// Records the outcomes an `insertMany` answer gives for the `pending` documents; returns
    /// the documents to send again (transient errors, skipped).
    fn apply_insert_reply(
        &self,
        reply: &ApiReply,
        collection: &str,
        chunk: &[PendingDocument],
        pending: &[usize],
        outcomes: &mut [Option<DocumentOutcome>],
        last_errors: &mut [Option<(String, String)>],
    ) -> Result<Vec<usize>, Failure> {
        let status: Option<InsertManyStatus> = match reply.status.as_deref() {
            Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| {
                Failure::Fatal(DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: format!("unreadable status: {e}"),
                })
            })?),
            None => None,
        };
        let Some(responses) = status.and_then(|s| s.document_responses) else {
            // No per-document answer: the whole command failed.
            return Err(match reply.errors.first() {
                Some(error) => self.classify(error, "insertMany", Some(collection)),
                None => Failure::Fatal(DataApiError::InvalidResponse {
                    command: "insertMany",
                    problem: "neither documentResponses nor errors in the answer".into(),
                }),
            });
        };
        if responses.len() != pending.len() {
            return Err(Failure::Fatal(DataApiError::InvalidResponse {
                command: "insertMany",
                problem: format!("{} documentResponses for {} documents", responses.len(), pending.len()),
            }));
        }
        let mut still_pending = Vec::new();
        for (response, &i) in responses.iter().zip(pending) {
            if let Some(id) = &response.id {
                let matches = id_key_from_json(id.get()).is_ok_and(|key| key == chunk[i].id_key);
                if !matches {
                    return Err(Failure::Fatal(DataApiError::InvalidResponse {
                        command: "insertMany",
                        problem: format!(
                            "documentResponses out of order: expected _id {}, got {}",
                            chunk[i].id_key,
                            excerpt(id.get(), 100)
                        ),
                    }));
                }
            }
            match response.status.as_str() {
                "OK" => outcomes[i] = Some(DocumentOutcome::Written),
                "SKIPPED" => still_pending.push(i),
                "ERROR" => {
                    let error = response.errors_idx.and_then(|idx| reply.errors.get(idx));
                    let (code, message) = match error {
                        Some(error) => (error.code().to_owned(), self.token.redact(error.message())),
                        None => ("UNKNOWN_ERROR".to_owned(), "the Data API gave no reason".to_owned()),
                    };
                    if code == DOCUMENT_ALREADY_EXISTS {
                        outcomes[i] = Some(DocumentOutcome::AlreadyPresent);
                    } else if is_transient_code(&code) {
                        last_errors[i] = Some((code, message));
                        still_pending.push(i);
                    } else {
                        outcomes[i] = Some(DocumentOutcome::Failed { code, message });
                    }
                }
                other => {
                    return Err(Failure::Fatal(DataApiError::InvalidResponse {
                        command: "insertMany",
                        problem: format!("unknown document status '{}'", excerpt(other, 40)),
                    }))
                }
            }
        }
        Ok(still_pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::astra::{data_api::DataApiConfig, Token};

    fn client() -> DataApiClient {
        DataApiClient::new(DataApiConfig::new("http://127.0.0.1:1", "ks", Token::new("AstraCS:secret-value"))).unwrap()
    }

    fn pending(ids: &[&str]) -> Vec<PendingDocument> {
        ids.iter()
            .map(|id| PendingDocument {
                json: format!(r#"{{"_id":"{id}"}}"#),
                id_key: (*id).to_owned(),
            })
            .collect()
    }

    fn reply(json: &str) -> ApiReply {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn document_responses_map_to_outcomes_by_position() {
        let client = client();
        let chunk = pending(&["a", "b", "c", "d", "e"]);
        let answer = reply(
            r#"{"status":{"documentResponses":[
                {"_id":"a","status":"OK"},
                {"_id":"b","status":"ERROR","errorsIdx":0},
                {"_id":"c","status":"ERROR","errorsIdx":1},
                {"_id":"d","status":"ERROR","errorsIdx":2},
                {"_id":"e","status":"SKIPPED"}]},
              "errors":[
                {"errorCode":"DOCUMENT_ALREADY_EXISTS","message":"exists"},
                {"errorCode":"TIMEOUT_WRITING_DATA","message":"slow"},
                {"errorCode":"SHRED_BAD_FIELD_NAME","message":"bad name AstraCS:secret-value"}]}"#,
        );
        let mut outcomes = vec![None; 5];
        let mut last_errors = vec![None; 5];
        let still = client
            .apply_insert_reply(&answer, "c", &chunk, &[0, 1, 2, 3, 4], &mut outcomes, &mut last_errors)
            .ok()
            .unwrap();
        assert_eq!(still, [2, 4]);
        assert_eq!(outcomes[0], Some(DocumentOutcome::Written));
        assert_eq!(outcomes[1], Some(DocumentOutcome::AlreadyPresent));
        assert_eq!(outcomes[2], None);
        assert_eq!(last_errors[2], Some(("TIMEOUT_WRITING_DATA".to_owned(), "slow".to_owned())));
        assert_eq!(
            outcomes[3],
            Some(DocumentOutcome::Failed {
                code: "SHRED_BAD_FIELD_NAME".into(),
                message: "bad name <redacted>".into()
            })
        );

        // The retry carries only the pending documents; one the lost attempt wrote is
        // already there, and counts once.
        let retry = reply(
            r#"{"status":{"documentResponses":[{"_id":"c","status":"ERROR","errorsIdx":0},{"_id":"e","status":"OK"}]},
              "errors":[{"errorCode":"DOCUMENT_ALREADY_EXISTS","message":"exists"}]}"#,
        );
        let still = client.apply_insert_reply(&retry, "c", &chunk, &[2, 4], &mut outcomes, &mut last_errors).ok().unwrap();
        assert!(still.is_empty());
        assert_eq!(outcomes[2], Some(DocumentOutcome::AlreadyPresent));
        assert_eq!(outcomes[4], Some(DocumentOutcome::Written));
    }

    #[test]
    fn mismatched_or_missing_responses_are_refused() {
        let client = client();
        let chunk = pending(&["a", "b"]);
        let swapped = reply(r#"{"status":{"documentResponses":[{"_id":"b","status":"OK"},{"_id":"a","status":"OK"}]}}"#);
        let short = reply(r#"{"status":{"documentResponses":[{"_id":"a","status":"OK"}]}}"#);
        for answer in [swapped, short] {
            let result = client.apply_insert_reply(&answer, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
            assert!(matches!(result, Err(Failure::Fatal(DataApiError::InvalidResponse { .. }))));
        }
        let unknown = reply(r#"{"errors":[{"errorCode":"UNKNOWN_COLLECTION_OR_TABLE","message":"no"}]}"#);
        let result = client.apply_insert_reply(&unknown, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
        assert!(matches!(
            result,
            Err(Failure::Fatal(DataApiError::UnknownCollection { ref collection, .. })) if collection == "c"
        ));
        let busy = reply(r#"{"errors":[{"errorCode":"UNAVAILABLE_DATABASE","message":"busy"}]}"#);
        let result = client.apply_insert_reply(&busy, "c", &chunk, &[0, 1], &mut [None, None], &mut [None, None]);
        assert!(matches!(result, Err(Failure::Transient { .. })));
    }
}
