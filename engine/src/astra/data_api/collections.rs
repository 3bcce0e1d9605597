//! Keyspace commands: `createCollection`, `deleteCollection` and `findCollections`.

use super::{
    client::{json_body, parse_part, DataApiClient},
    error::DataApiError,
    wire::{CollectionDescriptor, CollectionOptions},
};
use crate::astra::http::ApiError;
use serde::Deserialize;

impl DataApiClient {
    /// Creates a collection, or does nothing when it exists with the same options.
    /// Fails with [`DataApiError::CollectionExistsWithOtherSettings`] when it exists with
    /// other options.
    pub async fn create_collection(&self, name: &str, options: &CollectionOptions) -> Result<(), DataApiError> {
        DataApiError::check_name("collection", name)?;
        let mut opts = serde_json::Map::new();
        if let Some(default_id) = options.default_id {
            opts.insert("defaultId".into(), serde_json::json!({ "type": default_id }));
        }
        if let Some(indexing) = &options.indexing {
            let value = serde_json::to_value(indexing).map_err(|e| DataApiError::InvalidConfig(e.to_string()))?;
            opts.insert("indexing".into(), value);
        }
        if let Some(serde_json::Value::Object(vector)) = options.vector.as_ref().map(|v| v.collection_options()) {
            opts.extend(vector);
        }
        let mut command = serde_json::Map::new();
        command.insert("name".into(), name.into());
        if !opts.is_empty() {
            command.insert("options".into(), opts.into());
        }
        let body = serde_json::json!({ "createCollection": command });
        self.run("createCollection", self.keyspace_url.clone(), None, Some(name), json_body(&body)?)
            .await?;
        Ok(())
    }

    /// Deletes a collection and its documents; deleting one that does not exist is fine.
    pub async fn delete_collection(&self, name: &str) -> Result<(), DataApiError> {
        DataApiError::check_name("collection", name)?;
        let body = serde_json::json!({ "deleteCollection": { "name": name } });
        self.run("deleteCollection", self.keyspace_url.clone(), Some(name), None, json_body(&body)?).await?;
        Ok(())
    }

    /// The collections of the keyspace, with their options.
    pub async fn find_collections(&self) -> Result<Vec<CollectionDescriptor>, DataApiError> {
        #[derive(Deserialize)]
        struct Status {
            collections: Vec<CollectionDescriptor>,
        }
        let body = serde_json::json!({ "findCollections": { "options": { "explain": true } } });
        let reply = self.run("findCollections", self.keyspace_url.clone(), None, None, json_body(&body)?).await?;
        let status: Status = parse_part("findCollections", reply.status.as_deref(), "status")?;
        Ok(status.collections)
    }
}
