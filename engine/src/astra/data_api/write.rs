//! The commands that change documents in place, as online sync needs them:
//! `findOneAndReplace`, `findOneAndUpdate`, `updateOne`, `updateMany` (following
//! `nextPageState` while `moreData`), `findOneAndDelete`, `deleteOne` and `deleteMany` with a
//! filter (following `moreData`, at most 20 documents a call).
//!
//! Each is sent with the client's retry rules ([`super::DataApiClient::run`]): HTTP 408, 429,
//! 5xx, timeouts, dropped connections and the transient error codes, among them
//! `FAILED_CONCURRENT_OPERATIONS` (the Data API reads, then writes conditionally, and answers
//! that code when another request kept winning; see `docs/data-api.md`, "Writes for sync").
//! A retried replace of a whole document, a `$set` or a delete by `_id` ends the same however
//! often it ran; a retried `$inc` or `$push` whose first answer was lost may apply twice, as
//! with any client of the Data API.
//!
//! An upsert that inserted answers `upsertedId`; one that found its document answers
//! `matchedCount` (and `modifiedCount` 0 when the document already was as asked):
//! [`UpdateResult::outcome`] tells them apart.

use super::{
    client::{json_body, parse_part, DataApiClient},
    error::DataApiError,
};
use crate::astra::http::ApiError;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{value::RawValue, Value};

/// Which version of the document a `findOneAnd*` command answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReturnDocument {
    /// The document as it was before the command (the Data API's default; `null` for an upsert
    /// that inserted).
    #[default]
    Before,
    /// The document as the command left it.
    After,
}

impl ReturnDocument {
    fn as_str(self) -> &'static str {
        match self {
            ReturnDocument::Before => "before",
            ReturnDocument::After => "after",
        }
    }
}

/// Options of `findOneAndReplace` and `findOneAndUpdate`. `Default` is no upsert, the
/// document before, no sort, every field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FindAndModify {
    /// Insert the document when nothing matches.
    pub upsert: bool,
    /// Which version the answer holds.
    pub return_document: ReturnDocument,
    /// Which matching document comes first, e.g. `{"n": -1}` (in memory on Astra).
    pub sort: Option<Value>,
    /// Which fields the answer holds, e.g. `{"_id": 1}`.
    pub projection: Option<Value>,
}

/// What an update or replace did, from the answer's `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateResult {
    /// Documents the filter matched.
    pub matched: u64,
    /// Of those, documents changed (a document already as asked is not written).
    pub modified: u64,
    /// The `_id` (JSON) of the document an upsert inserted.
    pub upserted_id: Option<String>,
}

/// What one single-document upsert, replace or update amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// No document matched; an upsert inserted one.
    Inserted,
    /// A document matched and was changed.
    Modified,
    /// A document matched and already was as asked.
    Unchanged,
    /// Nothing matched and nothing was inserted.
    NoMatch,
}

impl UpdateResult {
    /// Inserted, modified, unchanged or no match (for a single-document command).
    pub fn outcome(&self) -> WriteOutcome {
        match (&self.upserted_id, self.matched, self.modified) {
            (Some(_), _, _) => WriteOutcome::Inserted,
            (None, 0, _) => WriteOutcome::NoMatch,
            (None, _, 0) => WriteOutcome::Unchanged,
            (None, _, _) => WriteOutcome::Modified,
        }
    }

    /// Whether an upsert inserted the document.
    pub fn inserted(&self) -> bool {
        self.upserted_id.is_some()
    }
}

/// The answer of `findOneAndReplace` or `findOneAndUpdate`.
#[derive(Debug)]
pub struct Modified {
    /// The document before or after (see [`ReturnDocument`]), projected; `None` when nothing
    /// matched (and for `before` of an upsert that inserted).
    pub document: Option<Box<RawValue>>,
    /// Matched, modified, upserted.
    pub result: UpdateResult,
}

/// The `status` of an update command.
#[derive(Deserialize)]
struct UpdateStatus {
    #[serde(rename = "matchedCount", default)]
    matched: u64,
    #[serde(rename = "modifiedCount", default)]
    modified: u64,
    #[serde(rename = "upsertedId", default)]
    upserted_id: Option<Box<RawValue>>,
    #[serde(rename = "moreData", default)]
    more_data: bool,
    #[serde(rename = "nextPageState", default)]
    next_page_state: Option<String>,
}

impl UpdateStatus {
    fn result(&self) -> UpdateResult {
        UpdateResult {
            matched: self.matched,
            modified: self.modified,
            upserted_id: self.upserted_id.as_ref().map(|id| id.get().to_owned()),
        }
    }
}

/// The `status` of a delete command.
#[derive(Deserialize)]
struct DeleteStatus {
    #[serde(rename = "deletedCount")]
    deleted: i64,
    #[serde(rename = "moreData", default)]
    more_data: bool,
}

/// `data` of a `findOneAnd*` answer.
#[derive(Deserialize)]
struct DocumentData {
    #[serde(default)]
    document: Option<Box<RawValue>>,
}

/// `findOneAndReplace` as written on the wire: the replacement travels as the caller's JSON
/// text, never parsed and written again.
#[derive(Serialize)]
struct ReplaceBody<'a> {
    #[serde(rename = "findOneAndReplace")]
    command: ReplaceCommand<'a>,
}

#[derive(Serialize)]
struct ReplaceCommand<'a> {
    filter: &'a Value,
    replacement: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    projection: Option<&'a Value>,
    options: ModifyOptions,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ModifyOptions {
    upsert: bool,
    return_document: &'static str,
}

/// How many documents a `deleteMany` removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedCount {
    /// This many.
    Counted(u64),
    /// An empty filter empties the collection, and the Data API does not count (`-1`).
    All,
}

impl DataApiClient {
    /// `findOneAndReplace`: replaces the first document matching `filter` with `replacement`
    /// (JSON text, e.g. [`crate::convert::Converted::json`]); with `upsert`, inserts it when
    /// nothing matches. A replacement's `_id`, if any, must be the matched document's.
    pub async fn find_one_and_replace(
        &self,
        collection: &str,
        filter: &Value,
        replacement: &RawValue,
        options: &FindAndModify,
    ) -> Result<Modified, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let body = ReplaceBody {
            command: ReplaceCommand {
                filter,
                replacement,
                sort: options.sort.as_ref(),
                projection: options.projection.as_ref(),
                options: ModifyOptions { upsert: options.upsert, return_document: options.return_document.as_str() },
            },
        };
        let body = serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|e| DataApiError::InvalidConfig(format!("the request could not be written: {e}")))?;
        self.modify("findOneAndReplace", collection, body).await
    }

    /// `findOneAndUpdate`: applies `update` (`{"$set": {...}, "$inc": {...}}`) to the first
    /// document matching `filter`; with `upsert`, to a new document built from the filter's
    /// equalities when nothing matches.
    pub async fn find_one_and_update(
        &self,
        collection: &str,
        filter: &Value,
        update: &Value,
        options: &FindAndModify,
    ) -> Result<Modified, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let mut command = serde_json::Map::new();
        command.insert("filter".into(), filter.clone());
        command.insert("update".into(), update.clone());
        if let Some(sort) = &options.sort {
            command.insert("sort".into(), sort.clone());
        }
        if let Some(projection) = &options.projection {
            command.insert("projection".into(), projection.clone());
        }
        command.insert(
            "options".into(),
            serde_json::json!({ "upsert": options.upsert, "returnDocument": options.return_document.as_str() }),
        );
        let body = json_body(&serde_json::json!({ "findOneAndUpdate": command }))?;
        self.modify("findOneAndUpdate", collection, body).await
    }

    /// `updateOne`: applies `update` to the first document matching `filter` (in `sort` order
    /// when given); with `upsert`, to a new document when nothing matches.
    pub async fn update_one(
        &self,
        collection: &str,
        filter: &Value,
        update: &Value,
        upsert: bool,
        sort: Option<&Value>,
    ) -> Result<UpdateResult, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let mut command = serde_json::Map::new();
        command.insert("filter".into(), filter.clone());
        command.insert("update".into(), update.clone());
        if let Some(sort) = sort {
            command.insert("sort".into(), sort.clone());
        }
        command.insert("options".into(), serde_json::json!({ "upsert": upsert }));
        let body = json_body(&serde_json::json!({ "updateOne": command }))?;
        let url = self.collection_url(collection);
        let reply = self.run("updateOne", url, Some(collection), None, body).await?;
        let status: UpdateStatus = parse_part("updateOne", reply.status.as_deref(), "status")?;
        Ok(status.result())
    }

    /// `updateMany`: applies `update` to every document matching `filter`, one page of
    /// documents a call, following `nextPageState` while the answer says `moreData`; the
    /// counts are summed over the pages. With `upsert` and no match, inserts one document.
    pub async fn update_many(&self, collection: &str, filter: &Value, update: &Value, upsert: bool) -> Result<UpdateResult, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let url = self.collection_url(collection);
        let mut total = UpdateResult::default();
        let mut page_state: Option<String> = None;
        loop {
            let mut options = serde_json::Map::new();
            options.insert("upsert".into(), upsert.into());
            if let Some(state) = &page_state {
                options.insert("pageState".into(), state.clone().into());
            }
            let body = json_body(&serde_json::json!({
                "updateMany": { "filter": filter, "update": update, "options": options }
            }))?;
            let reply = self.run("updateMany", url.clone(), Some(collection), None, body).await?;
            let status: UpdateStatus = parse_part("updateMany", reply.status.as_deref(), "status")?;
            let page = status.result();
            total.matched += page.matched;
            total.modified += page.modified;
            total.upserted_id = total.upserted_id.or(page.upserted_id);
            match status.next_page_state.filter(|s| status.more_data && !s.is_empty()) {
                Some(next) => page_state = Some(next),
                None if status.more_data => {
                    return Err(DataApiError::InvalidResponse {
                        command: "updateMany",
                        problem: "moreData without a nextPageState".into(),
                    })
                }
                None => return Ok(total),
            }
        }
    }

    /// `findOneAndDelete`: deletes the first document matching `filter` (in `sort` order when
    /// given) and answers it, projected; `None` when nothing matched.
    pub async fn find_one_and_delete(
        &self,
        collection: &str,
        filter: &Value,
        sort: Option<&Value>,
        projection: Option<&Value>,
    ) -> Result<Option<Box<RawValue>>, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let mut command = serde_json::Map::new();
        command.insert("filter".into(), filter.clone());
        if let Some(sort) = sort {
            command.insert("sort".into(), sort.clone());
        }
        if let Some(projection) = projection {
            command.insert("projection".into(), projection.clone());
        }
        let body = json_body(&serde_json::json!({ "findOneAndDelete": command }))?;
        let url = self.collection_url(collection);
        let reply = self.run("findOneAndDelete", url, Some(collection), None, body).await?;
        let data: DocumentData = parse_part("findOneAndDelete", reply.data.as_deref(), "data")?;
        Ok(data.document)
    }

    /// `deleteOne`: deletes the first document matching `filter` (in `sort` order when
    /// given); answers how many it deleted (0 or 1).
    pub async fn delete_one(&self, collection: &str, filter: &Value, sort: Option<&Value>) -> Result<u64, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let mut command = serde_json::Map::new();
        command.insert("filter".into(), filter.clone());
        if let Some(sort) = sort {
            command.insert("sort".into(), sort.clone());
        }
        let body = json_body(&serde_json::json!({ "deleteOne": command }))?;
        let url = self.collection_url(collection);
        let reply = self.run("deleteOne", url, Some(collection), None, body).await?;
        let status: DeleteStatus = parse_part("deleteOne", reply.status.as_deref(), "status")?;
        Ok(status.deleted.max(0) as u64)
    }

    /// `deleteMany`: deletes every document matching `filter`, calling again while the answer
    /// says `moreData` (the Data API deletes at most 20 a call). An empty filter empties the
    /// collection in one call ([`DeletedCount::All`]).
    pub async fn delete_many(&self, collection: &str, filter: &Value) -> Result<DeletedCount, DataApiError> {
        DataApiError::check_name("collection", collection)?;
        let url = self.collection_url(collection);
        let body = json_body(&serde_json::json!({ "deleteMany": { "filter": filter } }))?;
        let mut deleted = 0u64;
        loop {
            let reply = self.run("deleteMany", url.clone(), Some(collection), None, body.clone()).await?;
            let status: DeleteStatus = parse_part("deleteMany", reply.status.as_deref(), "status")?;
            if status.deleted < 0 {
                return Ok(DeletedCount::All);
            }
            deleted += status.deleted as u64;
            if !status.more_data {
                return Ok(DeletedCount::Counted(deleted));
            }
            if status.deleted == 0 {
                // More match, but none could be deleted this call: the retries inside `run`
                // would have answered a transient failure; this is a server that will not progress.
                return Err(DataApiError::InvalidResponse {
                    command: "deleteMany",
                    problem: "moreData without any document deleted".into(),
                });
            }
        }
    }

    /// Sends a `findOneAnd*` update and reads its document and status.
    async fn modify(&self, command: &'static str, collection: &str, body: Bytes) -> Result<Modified, DataApiError> {
        let url = self.collection_url(collection);
        let reply = self.run(command, url, Some(collection), None, body).await?;
        let data: DocumentData = parse_part(command, reply.data.as_deref(), "data")?;
        let status: UpdateStatus = parse_part(command, reply.status.as_deref(), "status")?;
        Ok(Modified { document: data.document, result: status.result() })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_upsert_that_inserted_is_told_from_one_that_matched() {
        let status = |text: &str| serde_json::from_str::<UpdateStatus>(text).unwrap().result().outcome();
        assert_eq!(status(r#"{"upsertedId":"a","matchedCount":0,"modifiedCount":0}"#), WriteOutcome::Inserted);
        assert_eq!(status(r#"{"matchedCount":1,"modifiedCount":1}"#), WriteOutcome::Modified);
        assert_eq!(status(r#"{"matchedCount":1,"modifiedCount":0}"#), WriteOutcome::Unchanged);
        assert_eq!(status(r#"{"matchedCount":0,"modifiedCount":0}"#), WriteOutcome::NoMatch);
        let upserted = serde_json::from_str::<UpdateStatus>(r#"{"upsertedId":{"$objectId":"6b0ea76676ce2684438f00e9"},"matchedCount":0,"modifiedCount":0}"#)
            .unwrap()
            .result();
        assert_eq!(upserted.upserted_id.as_deref(), Some(r#"{"$objectId":"6b0ea76676ce2684438f00e9"}"#));
    }

    #[test]
    fn a_replacement_travels_as_given() {
        let replacement = RawValue::from_string(r#"{"_id":1,"n":1.50}"#.into()).unwrap();
        let filter = serde_json::json!({ "_id": 1 });
        let body = ReplaceBody {
            command: ReplaceCommand {
                filter: &filter,
                replacement: &replacement,
                sort: None,
                projection: None,
                options: ModifyOptions { upsert: true, return_document: ReturnDocument::After.as_str() },
            },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"findOneAndReplace":{"filter":{"_id":1},"replacement":{"_id":1,"n":1.50},"options":{"upsert":true,"returnDocument":"after"}}}"#
        );
    }
}
