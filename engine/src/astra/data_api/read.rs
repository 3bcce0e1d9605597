//! Reading commands: `find` page by page, `findOne`, `countDocuments` and
//! `estimatedDocumentCount`. Documents come back as the server's JSON text ([`RawValue`]).

use super::{
    client::{json_body, parse_part, DataApiClient},
    error::DataApiError,
    wire::{DocumentCount, FindPage, FindQuery},
};
use crate::astra::http::ApiError;
use futures::stream::{self, Stream};
use serde::Deserialize;
use serde_json::value::RawValue;

impl DataApiClient {
    /// One page of `find` results; pass the previous page's `next_page_state` to continue.
    pub async fn find_page(
        &self,
        collection: &str,
        query: &FindQuery,
        page_state: Option<&str>,
    ) -> Result<FindPage, DataApiError> {
        #[derive(Deserialize)]
        struct Data {
            documents: Vec<Box<RawValue>>,
            #[serde(rename = "nextPageState", default)]
            next_page_state: Option<String>,
        }
        DataApiError::check_name("collection", collection)?;
        let mut command = read_command(query);
        let mut options = serde_json::Map::new();
        if let Some(limit) = query.limit {
            options.insert("limit".into(), limit.into());
        }
        if let Some(skip) = query.skip {
            options.insert("skip".into(), skip.into());
        }
        if let Some(state) = page_state {
            options.insert("pageState".into(), state.into());
        }
        if !options.is_empty() {
            command.insert("options".into(), options.into());
        }
        let body = serde_json::json!({ "find": command });
        let url = self.collection_url(collection);
        let reply = self.run("find", url, Some(collection), None, json_body(&body)?).await?;
        let data: Data = parse_part("find", reply.data.as_deref(), "data")?;
        Ok(FindPage {
            documents: data.documents,
            next_page_state: data.next_page_state.filter(|s| !s.is_empty()),
        })
    }

    /// Every page of a `find`, following `nextPageState` until the last; each page is
    /// fetched (with retries) when the stream is polled.
    pub fn find_pages<'a>(
        &'a self,
        collection: &'a str,
        query: FindQuery,
    ) -> impl Stream<Item = Result<FindPage, DataApiError>> + Send + 'a {
        stream::try_unfold(Some((query, None::<String>)), move |state| async move {
            let Some((query, page_state)) = state else {
                return Ok(None);
            };
            let page = self.find_page(collection, &query, page_state.as_deref()).await?;
            let next = page.next_page_state.clone().map(|state| (query, Some(state)));
            Ok(Some((page, next)))
        })
    }

    /// The first document matching `query` (its filter, sort and projection), if any.
    pub async fn find_one(&self, collection: &str, query: &FindQuery) -> Result<Option<Box<RawValue>>, DataApiError> {
        #[derive(Deserialize)]
        struct Data {
            #[serde(default)]
            document: Option<Box<RawValue>>,
        }
        DataApiError::check_name("collection", collection)?;
        let body = serde_json::json!({ "findOne": read_command(query) });
        let url = self.collection_url(collection);
        let reply = self.run("findOne", url, Some(collection), None, json_body(&body)?).await?;
        let data: Data = parse_part("findOne", reply.data.as_deref(), "data")?;
        Ok(data.document)
    }

    /// Counts the documents matching `filter` (`None`: all); the Data API stops at 1,000.
    pub async fn count_documents(
        &self,
        collection: &str,
        filter: Option<serde_json::Value>,
    ) -> Result<DocumentCount, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            count: u64,
            #[serde(rename = "moreData", default)]
            more_data: bool,
        }
        DataApiError::check_name("collection", collection)?;
        let filter = filter.unwrap_or_else(|| serde_json::json!({}));
        let body = serde_json::json!({ "countDocuments": { "filter": filter } });
        let url = self.collection_url(collection);
        let reply = self.run("countDocuments", url, Some(collection), None, json_body(&body)?).await?;
        let status: Status = parse_part("countDocuments", reply.status.as_deref(), "status")?;
        Ok(DocumentCount { count: status.count, more_data: status.more_data })
    }

    /// The approximate number of documents in the collection (fast, from table statistics).
    pub async fn estimated_document_count(&self, collection: &str) -> Result<u64, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            count: u64,
        }
        DataApiError::check_name("collection", collection)?;
        let body = serde_json::json!({ "estimatedDocumentCount": {} });
        let url = self.collection_url(collection);
        let reply = self.run("estimatedDocumentCount", url, Some(collection), None, json_body(&body)?).await?;
        let status: Status = parse_part("estimatedDocumentCount", reply.status.as_deref(), "status")?;
        Ok(status.count)
    }
}

/// `filter`, `sort` and `projection` of a read command.
fn read_command(query: &FindQuery) -> serde_json::Map<String, serde_json::Value> {
    let mut command = serde_json::Map::new();
    command.insert("filter".into(), query.filter.clone().unwrap_or_else(|| serde_json::json!({})));
    if let Some(sort) = &query.sort {
        command.insert("sort".into(), sort.clone());
    }
    if let Some(projection) = &query.projection {
        command.insert("projection".into(), projection.clone());
    }
    command
}
