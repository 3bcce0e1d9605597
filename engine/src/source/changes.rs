//! A MongoDB collection's change stream, as an online job follows it: where to start
//! ([`StreamPoint`]: a resume token, preferred, or a cluster time), the source's current time
//! ([`source_time`]), and the changes one by one ([`ChangeFeed`]), each with its resume token
//! and cluster time.
//!
//! The facts this relies on, with their sources, are in `docs/change-streams.md`: change
//! streams need a replica set (code 40573 otherwise), a resume token older than the oplog fails
//! with `ChangeStreamHistoryLost` (286) while a start time older than the oplog may quietly
//! start at the oldest entry (SecantusDB does), so a stream started from a time is checked
//! against the oplog's oldest entry; dropping or renaming the collection ends its stream with
//! an `invalidate`.

use super::mongo::SourceUri;
use bson::{doc, Bson, Document, Timestamp};
use futures::TryStreamExt;
use mongodb::{
    change_stream::{
        event::{ChangeStreamEvent, OperationType, ResumeToken},
        ChangeStream,
    },
    error::ErrorKind,
    options::FullDocumentType,
    Client, Collection,
};
use serde::Deserialize;
use std::{cmp::Ordering, fmt, time::Duration};

/// How long one `getMore` waits for a change before answering empty.
const MAX_AWAIT: Duration = Duration::from_millis(300);
/// Changes per batch the server may send.
const BATCH: u32 = 1_000;

/// A moment of the source's history: its cluster time, and the wall clock in milliseconds
/// (the change's `wallTime`, or the cluster time's seconds when the server gives none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterTime {
    pub seconds: u32,
    pub increment: u32,
    pub wall_ms: i64,
}

impl ClusterTime {
    /// A cluster time, with `wall_ms` when known.
    pub fn new(timestamp: Timestamp, wall_ms: Option<i64>) -> Self {
        let floor = i64::from(timestamp.time) * 1_000;
        Self { seconds: timestamp.time, increment: timestamp.increment, wall_ms: wall_ms.unwrap_or(floor).max(floor) }
    }

    pub fn timestamp(&self) -> Timestamp {
        Timestamp { time: self.seconds, increment: self.increment }
    }

    /// Ordered by the cluster time alone.
    pub fn cmp_time(&self, other: &ClusterTime) -> Ordering {
        (self.seconds, self.increment).cmp(&(other.seconds, other.increment))
    }
}

impl fmt::Display for ClusterTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({}, {})", self.seconds, self.increment)
    }
}

/// Where a stream (re)starts: after `token` when there is one, else at `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamPoint {
    /// The resume token, BSON-encoded (see [`encode_token`]).
    pub token: Option<Vec<u8>>,
    /// The cluster time of the point: of the change the token names, or of the source when
    /// the stream was opened.
    pub time: ClusterTime,
}

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Update,
    Replace,
    Delete,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Insert => "insert",
            ChangeKind::Update => "update",
            ChangeKind::Replace => "replace",
            ChangeKind::Delete => "delete",
        }
    }
}

/// One change of one document, in the order of the source's oplog.
#[derive(Debug, Clone)]
pub struct Change {
    /// Resuming after this token starts with the next change.
    pub token: Vec<u8>,
    pub time: ClusterTime,
    pub kind: ChangeKind,
    /// The document's `_id`.
    pub id: Bson,
    /// The document after the change: as written for inserts and replaces, as looked up for
    /// updates (`None` when it was deleted before the lookup), none for deletes.
    pub document: Option<Document>,
}

/// Why a change stream could not be opened or followed: sentences that say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("the MongoDB server at {hosts} is not a replica set, so it has no change stream to follow: an online migration needs a replica set (one member is enough: start mongod with --replSet and run rs.initiate()), or run a copy instead")]
    NotReplicaSet { hosts: String },
    #[error("MongoDB does not let this user open a change stream on {namespace} ({detail}): grant it the changeStream and find actions on the collection (the read role has both), or run a copy instead")]
    NotAllowed { namespace: String, detail: String },
    #[error("the source's oplog no longer holds the point this job resumes {namespace} from (it was overwritten while the job was stopped or behind), so the changes made since are lost to it: give the source a larger oplog (replSetResizeOplog; SecantusDB: --oplog-max-entries, --oplog-retention-seconds) and start a new online job")]
    HistoryLost { namespace: String },
    #[error("the collection {namespace} was dropped on the source while docshift followed its changes: this online job cannot go on; start a new one once the collection is back")]
    Dropped { namespace: String },
    #[error("the collection {namespace} was renamed to {to} on the source while docshift followed its changes: this online job cannot go on; start a new one for {to}")]
    Renamed { namespace: String, to: String },
    #[error("a change of {namespace} is larger than MongoDB's 16 MB limit for one document, so the driver cannot read it: {detail}")]
    TooLarge { namespace: String, detail: String },
    #[error("following the changes of {namespace} failed: {detail}")]
    Driver { namespace: String, detail: String, transient: bool },
}

impl ChangeError {
    /// A failure of the connection or the server's state that reopening the stream may cure.
    pub fn is_transient(&self) -> bool {
        matches!(self, ChangeError::Driver { transient: true, .. })
    }
}

/// Resume tokens as stored: the token as the value `t` of a BSON document.
pub fn encode_token(token: &ResumeToken) -> Option<Vec<u8>> {
    let value = bson::to_bson(token).ok()?;
    bson::to_vec(&doc! { "t": value }).ok()
}

/// The token [`encode_token`] stored.
pub fn decode_token(bytes: &[u8]) -> Option<ResumeToken> {
    #[derive(Deserialize)]
    struct Stored {
        t: ResumeToken,
    }
    bson::from_slice::<Stored>(bytes).ok().map(|s| s.t)
}

/// The source's cluster time now: of its latest write (`hello`'s `lastWrite`), or the
/// `operationTime` of the answer.
pub async fn source_time(client: &Client, uri: &SourceUri) -> Result<ClusterTime, ChangeError> {
    let hello = client
        .database("admin")
        .run_command(doc! { "hello": 1 })
        .await
        .map_err(|e| driver_error("the source", uri, &e))?;
    if hello.get_str("setName").is_err() && hello.get_str("msg") != Ok("isdbgrid") {
        return Err(ChangeError::NotReplicaSet { hosts: uri.hosts() });
    }
    let last_write = hello.get_document("lastWrite").ok();
    let op_time = last_write.and_then(|w| w.get_document("opTime").ok()).and_then(|t| t.get_timestamp("ts").ok());
    let wall = last_write.and_then(|w| w.get_datetime("lastWriteDate").ok()).map(|d| d.timestamp_millis());
    let operation_time = hello.get_timestamp("operationTime").ok();
    let cluster_time = hello.get_document("$clusterTime").ok().and_then(|c| c.get_timestamp("clusterTime").ok());
    let newest = [op_time, operation_time, cluster_time].into_iter().flatten().max_by_key(|t| (t.time, t.increment));
    match newest {
        Some(ts) => Ok(ClusterTime::new(ts, wall)),
        None => Err(ChangeError::NotReplicaSet { hosts: uri.hosts() }),
    }
}

/// The point to follow `collection` from, taken now: the resume token of a stream opened on
/// it (and closed again), and the source's time just before. Fails when the server has no
/// change streams or the user may not open one: the check made before any copy.
pub async fn anchor(collection: &Collection<Document>, uri: &SourceUri) -> Result<StreamPoint, ChangeError> {
    let namespace = namespace(collection);
    let time = source_time(collection.client(), uri).await?;
    let stream = collection
        .watch()
        .full_document(FullDocumentType::UpdateLookup)
        .max_await_time(MAX_AWAIT)
        .await
        .map_err(|e| open_error(&namespace, uri, &e))?;
    let token = stream.resume_token().as_ref().and_then(encode_token);
    Ok(StreamPoint { token, time })
}

/// The cluster time of the oldest entry of the source's oplog, when the user may read it.
pub async fn oplog_floor(client: &Client) -> Option<Timestamp> {
    let oplog = client.database("local").collection::<Document>("oplog.rs");
    let mut cursor = oplog.find(doc! {}).sort(doc! { "$natural": 1 }).limit(1).await.ok()?;
    let first = cursor.try_next().await.ok()??;
    first.get_timestamp("ts").ok()
}

/// A collection's changes, one at a time, from a [`StreamPoint`].
pub struct ChangeFeed {
    stream: ChangeStream<ChangeStreamEvent<Document>>,
    namespace: String,
    uri: SourceUri,
}

impl ChangeFeed {
    /// Opens the stream after `from.token`, or at `from.time` when there is no token (or the
    /// server no longer understands it). A stream started at a time is checked against the
    /// oplog's oldest entry: a server may start at its oldest entry when asked for an earlier
    /// time, which would skip changes.
    ///
    /// The events come whole, `updateDescription` included, though only the looked-up
    /// document is used: a `$project` stage halved SecantusDB's stream (see
    /// `docs/change-streams.md`), and an event too large for it is passed another way.
    pub async fn open(collection: &Collection<Document>, uri: &SourceUri, from: &StreamPoint) -> Result<Self, ChangeError> {
        Self::open_projecting(collection, uri, from, None).await
    }

    /// The same stream without the changes' documents: to get past a change too large to
    /// read (see [`ChangeError::TooLarge`]), whose `_id`, kind and time it still gives.
    pub async fn open_without_documents(collection: &Collection<Document>, uri: &SourceUri, from: &StreamPoint) -> Result<Self, ChangeError> {
        Self::open_projecting(collection, uri, from, Some(doc! { "updateDescription": 0, "fullDocument": 0 })).await
    }

    async fn open_projecting(collection: &Collection<Document>, uri: &SourceUri, from: &StreamPoint, without: Option<Document>) -> Result<Self, ChangeError> {
        let namespace = namespace(collection);
        let token = from.token.as_deref().and_then(decode_token);
        let watch = || {
            collection
                .watch()
                .pipeline(without.iter().map(|fields| doc! { "$project": fields.clone() }))
                .full_document(FullDocumentType::UpdateLookup)
                .max_await_time(MAX_AWAIT)
                .batch_size(BATCH)
        };
        if let Some(token) = token {
            match watch().start_after(token).await {
                Ok(stream) => return Ok(Self { stream, namespace, uri: uri.clone() }),
                // InvalidResumeToken: the server cannot read the token (another version); the
                // cluster time, checked, is the way back.
                Err(e) if command_code(&e) == Some(260) => {
                    tracing::warn!(namespace, "the source refused the stored resume token; resuming from its cluster time");
                }
                Err(e) => return Err(open_error(&namespace, uri, &e)),
            }
        }
        if let Some(floor) = oplog_floor(collection.client()).await {
            if (floor.time, floor.increment) > (from.time.seconds, from.time.increment) {
                return Err(ChangeError::HistoryLost { namespace });
            }
        }
        let stream = watch().start_at_operation_time(from.time.timestamp()).await.map_err(|e| open_error(&namespace, uri, &e))?;
        Ok(Self { stream, namespace, uri: uri.clone() })
    }

    /// The next change, or `None` when the server had none just now (after waiting a moment).
    /// Other events (index builds, ...) are passed over; a drop or rename of the collection
    /// ends the stream with its error.
    pub async fn next(&mut self) -> Result<Option<Change>, ChangeError> {
        loop {
            let event = match self.stream.next_if_any().await {
                Ok(Some(event)) => event,
                Ok(None) => return Ok(None),
                Err(e) => return Err(self.read_error(&e)),
            };
            let kind = match event.operation_type {
                OperationType::Insert => ChangeKind::Insert,
                OperationType::Update => ChangeKind::Update,
                OperationType::Replace => ChangeKind::Replace,
                OperationType::Delete => ChangeKind::Delete,
                OperationType::Drop | OperationType::DropDatabase | OperationType::Invalidate => {
                    return Err(ChangeError::Dropped { namespace: self.namespace.clone() })
                }
                OperationType::Rename => {
                    let to = event.to.map(|to| format!("{}.{}", to.db, to.coll.unwrap_or_default())).unwrap_or_else(|| "another name".into());
                    return Err(ChangeError::Renamed { namespace: self.namespace.clone(), to });
                }
                _ => continue,
            };
            let Some(id) = event.document_key.as_ref().and_then(|key| key.get("_id")).cloned() else { continue };
            let wall_ms = event.wall_time.map(|w| w.timestamp_millis());
            let time = match event.cluster_time {
                Some(ts) => ClusterTime::new(ts, wall_ms),
                None => ClusterTime::new(Timestamp { time: (wall_ms.unwrap_or_default() / 1_000) as u32, increment: 0 }, wall_ms),
            };
            let token = encode_token(&event.id).ok_or_else(|| ChangeError::Driver {
                namespace: self.namespace.clone(),
                detail: "a change came without a readable resume token".into(),
                transient: false,
            })?;
            return Ok(Some(Change { token, time, kind, id, document: event.full_document }));
        }
    }

    /// The token to resume after everything this stream has returned (the server's
    /// post-batch resume token once a batch is used up, so it moves on while the collection
    /// is idle).
    pub fn resume_token(&self) -> Option<Vec<u8>> {
        self.stream.resume_token().as_ref().and_then(encode_token)
    }

    fn read_error(&self, error: &mongodb::error::Error) -> ChangeError {
        match command_code(error) {
            Some(286) | Some(280) => ChangeError::HistoryLost { namespace: self.namespace.clone() },
            Some(10334) | Some(17419) => {
                ChangeError::TooLarge { namespace: self.namespace.clone(), detail: detail(&self.uri, error) }
            }
            _ => driver_error(&self.namespace, &self.uri, error),
        }
    }
}

fn namespace(collection: &Collection<Document>) -> String {
    collection.namespace().to_string()
}

fn command_code(error: &mongodb::error::Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

/// Why opening a stream failed, in the words of [`ChangeError`].
fn open_error(namespace: &str, uri: &SourceUri, error: &mongodb::error::Error) -> ChangeError {
    match command_code(error) {
        Some(40573) => ChangeError::NotReplicaSet { hosts: uri.hosts() },
        Some(13) => ChangeError::NotAllowed { namespace: namespace.to_owned(), detail: detail(uri, error) },
        Some(286) | Some(280) => ChangeError::HistoryLost { namespace: namespace.to_owned() },
        Some(10334) | Some(17419) => ChangeError::TooLarge { namespace: namespace.to_owned(), detail: detail(uri, error) },
        _ => driver_error(namespace, uri, error),
    }
}

fn driver_error(namespace: &str, uri: &SourceUri, error: &mongodb::error::Error) -> ChangeError {
    ChangeError::Driver { namespace: namespace.to_owned(), detail: detail(uri, error), transient: is_transient(error) }
}

/// The driver's message, without the password.
fn detail(uri: &SourceUri, error: &mongodb::error::Error) -> String {
    uri.explain(error, Duration::from_secs(30)).to_string()
}

/// Failures of the connection or the server's state, not of the stream: network errors, a
/// cleared pool, no server, the driver's resumable and retryable codes.
fn is_transient(error: &mongodb::error::Error) -> bool {
    /// The resumable codes of the change streams specification, and CursorNotFound.
    const CODES: [i32; 15] = [6, 7, 43, 63, 89, 91, 133, 150, 189, 234, 262, 9001, 10107, 11600, 13436];
    match error.kind.as_ref() {
        ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } | ErrorKind::ServerSelection { .. } => true,
        ErrorKind::Command(command) => CODES.contains(&command.code),
        _ => {
            error.contains_label(mongodb::error::RETRYABLE_ERROR) || error.contains_label(mongodb::error::RESUMABLE_CHANGE_STREAM_ERROR)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cluster_times_order_by_time_and_keep_the_wall_clock() {
        let a = ClusterTime::new(Timestamp { time: 100, increment: 7 }, Some(100_450));
        let b = ClusterTime::new(Timestamp { time: 100, increment: 8 }, None);
        assert_eq!(a.cmp_time(&b), Ordering::Less);
        assert_eq!((a.wall_ms, b.wall_ms), (100_450, 100_000));
        assert_eq!(a.to_string(), "Timestamp(100, 7)");
        // A wall clock behind the cluster time's seconds is not believed.
        assert_eq!(ClusterTime::new(Timestamp { time: 100, increment: 1 }, Some(5)).wall_ms, 100_000);
    }

    #[test]
    fn tokens_round_trip_through_their_stored_form() {
        let token: ResumeToken = bson::from_bson(Bson::Document(doc! { "_data": "3b00000010730003" })).unwrap();
        let stored = encode_token(&token).unwrap();
        assert_eq!(decode_token(&stored), Some(token));
        assert_eq!(decode_token(b"not bson"), None);
    }
}
