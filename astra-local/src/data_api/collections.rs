//! Keyspace commands: `createCollection` (options `defaultId`, `indexing`, `vector`; `lexical` and
//! `rerank` are kept as given but not acted on), `findCollections` (`explain`),
//! `deleteCollection`.
//!
//! Unknown option fields are `INVALID_CREATE_COLLECTION_FIELD` with the messages of
//! stargate/data-api's `CommandObjectMapperHandler`; indexing paths are checked as
//! `CreateCollectionCommand.Options.IndexingDesc.validate()` checks them
//! (`INVALID_INDEXING_DEFINITION`); a `defaultId.type` outside the `@Pattern` is a
//! `COMMAND_FIELD_VALUE_INVALID`.

use super::errors::ApiError;
use super::Reply;
use crate::doc_id::DefaultIdType;
use crate::json::{self, Node};
use crate::shred::{self, Indexing};
use crate::vector::{Metric, MAX_DIMENSION, SOURCE_MODELS};
use crate::{AppState, Collection};

use super::options::store_failure;

/// A collection's settings from `createCollection`.
#[derive(Debug, Clone, Default)]
pub struct CollectionSettings {
    pub indexing: Indexing,
    pub default_id: DefaultIdType,
    /// `Some` for a vector collection.
    pub vector: Option<VectorOptions>,
    /// The options as `findCollections` explains them (canonical JSON).
    pub options_json: String,
}

fn unknown_field(of: &str, name: &str, known: &str) -> ApiError {
    ApiError::invalid_create_collection_field(&format!(
        "Unrecognized field \"{name}\" for `createCollection.options.{of}` (known fields: {known})"
    ))
}

fn check_fields(node: &Node<'_>, of: &str, known: &[&str]) -> Result<(), ApiError> {
    check_fields_named(node, of, known, known)
}

/// Like [`check_fields`], listing only `shown` (the current names, not the aliases).
fn check_fields_named(node: &Node<'_>, of: &str, known: &[&str], shown: &[&str]) -> Result<(), ApiError> {
    let Node::Object(entries) = node else {
        return Err(ApiError::request_structure_mismatch(&format!(
            "'createCollection.options.{of}' must be a JSON Object, not {}",
            node.type_name()
        )));
    };
    let list = shown.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ");
    match entries.iter().find(|(key, _)| !known.contains(&key.value.as_ref())) {
        Some((key, _)) => Err(unknown_field(of, &key.value, &list)),
        None => Ok(()),
    }
}

impl CollectionSettings {
    /// Reads settings stored by [`CollectionSettings::from_command`].
    pub fn from_stored(options: &str) -> CollectionSettings {
        match json::parse(options, usize::MAX) {
            Ok(node) => CollectionSettings::from_command(Some(&node)).unwrap_or_default(),
            Err(_) => CollectionSettings::default(),
        }
    }

    /// Validates the `options` of `createCollection` in the real service's order: Jackson reads
    /// the options (unknown fields, JSON types), then bean validation (`@Pattern`, `@Positive`),
    /// then `CreateCollectionCommandResolver` (vector options, then `IndexingDesc.validate()`).
    pub fn from_command(options: Option<&Node<'_>>) -> Result<CollectionSettings, ApiError> {
        let mut settings = CollectionSettings { options_json: "{}".into(), ..CollectionSettings::default() };
        let Some(options) = options.filter(|o| !o.is_null()) else { return Ok(settings) };
        let Node::Object(entries) = options else {
            return Err(ApiError::request_structure_mismatch(&format!(
                "'createCollection.options' must be a JSON Object, not {}",
                options.type_name()
            )));
        };
        let mut canonical = Vec::new();
        let mut default_id: Option<&str> = None;
        let mut indexing: Option<IndexingLists> = None;
        let mut vector: Option<VectorDesc> = None;
        for (key, value) in entries {
            match key.value.as_ref() {
                "defaultId" if value.is_null() => {}
                "defaultId" => {
                    check_fields(value, "defaultId", &["type"])?;
                    default_id = Some(match value.get("type") {
                        None | Some(Node::Null) => "",
                        Some(Node::String(s)) => &s.value,
                        Some(other) => {
                            return Err(ApiError::request_structure_mismatch(&format!(
                                "'defaultId.type' must be a String, not {}",
                                other.type_name()
                            )))
                        }
                    });
                }
                "indexing" if value.is_null() => {}
                "indexing" => {
                    check_fields(value, "indexing", &["allow", "deny"])?;
                    let paths = |name: &str| -> Result<Option<Vec<String>>, ApiError> {
                        match value.get(name) {
                            None | Some(Node::Null) => Ok(None),
                            Some(Node::Array(items)) => items
                                .iter()
                                .map(|i| {
                                    i.as_str().map(str::to_owned).ok_or_else(|| {
                                        ApiError::request_structure_mismatch(&format!("'indexing.{name}' paths must be Strings"))
                                    })
                                })
                                .collect::<Result<Vec<_>, _>>()
                                .map(Some),
                            Some(other) => Err(ApiError::request_structure_mismatch(&format!(
                                "'indexing.{name}' must be an Array, not {}",
                                other.type_name()
                            ))),
                        }
                    };
                    indexing = Some((paths("allow")?, paths("deny")?));
                }
                "vector" if value.is_null() => {}
                "vector" => vector = Some(VectorDesc::read(value)?),
                "lexical" | "rerank" => canonical.push((key.value.to_string(), value.to_json())),
                other => {
                    return Err(ApiError::invalid_create_collection_field(&format!(
                        "No option \"{other}\" exists for `createCollection.options` (valid options: \"defaultId\", \"indexing\", \"lexical\", \"rerank\", \"vector\")"
                    )))
                }
            }
        }
        // Bean validation.
        if let Some(kind) = default_id {
            settings.default_id = DefaultIdType::parse(kind).ok_or_else(|| {
                ApiError::command_field_value_invalid(
                    "command.options.idConfig.idType",
                    &format!("\"{kind}\""),
                    "Id type can only be 'objectId', 'uuid' , 'uuidv6' or 'uuidv7'",
                )
            })?;
            if let Some(name) = settings.default_id.name() {
                canonical.push(("defaultId".to_owned(), format!("{{\"type\":\"{name}\"}}")));
            }
        }
        if let Some(desc) = &vector {
            desc.validate()?;
        }
        // The resolver.
        if let Some(desc) = vector {
            let options = desc.resolve()?;
            canonical.push(("vector".to_owned(), options.to_json()));
            settings.vector = Some(options);
        }
        if let Some((allow, deny)) = indexing {
            settings.indexing = shred::indexing_from_options(allow.clone(), deny.clone())
                .map_err(|problem| ApiError::invalid_indexing_definition(&problem))?;
            let (name, list) = match (allow, deny) {
                (Some(allow), _) => ("allow", allow),
                (_, Some(deny)) => ("deny", deny),
                _ => ("deny", Vec::new()),
            };
            let list = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
            canonical.push(("indexing".to_owned(), format!("{{\"{name}\":{list}}}")));
        }
        canonical.sort();
        let mut out = String::from("{");
        for (i, (key, value)) in canonical.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(key, &mut out);
            out.push(':');
            out.push_str(value);
        }
        out.push('}');
        settings.options_json = out;
        Ok(settings)
    }
}

/// The `allow` and `deny` lists of `options.indexing`, as read.
type IndexingLists = (Option<Vec<String>>, Option<Vec<String>>);

/// A vector collection's settings: `options.vector` after the resolver filled in the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorOptions {
    pub dimension: usize,
    pub metric: Metric,
    pub source_model: &'static str,
}

impl VectorOptions {
    /// As `findCollections` explains it (`CollectionSchemaObject`: dimension, metric, sourceModel).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"dimension\":{},\"metric\":\"{}\",\"sourceModel\":\"{}\"}}",
            self.dimension,
            self.metric.api_name(),
            self.source_model
        )
    }
}

/// `createCollection.options.vector` as Jackson reads it (`VectorSearchDesc`, with the old names
/// `size` and `function`).
#[derive(Debug, Default)]
struct VectorDesc {
    dimension: Option<i64>,
    metric: Option<String>,
    source_model: Option<String>,
    service: bool,
}

impl VectorDesc {
    fn read(value: &Node<'_>) -> Result<VectorDesc, ApiError> {
        check_fields_named(value, "vector", &["dimension", "metric", "service", "sourceModel", "size", "function"], &[
            "dimension",
            "metric",
            "service",
            "sourceModel",
        ])?;
        let mut desc = VectorDesc::default();
        for (key, field) in value.as_object().unwrap_or_default() {
            let string = || match field {
                Node::Null => Ok(None),
                Node::String(s) => Ok(Some(s.value.to_string())),
                other => Err(ApiError::request_structure_mismatch(&format!(
                    "Cannot deserialize value of type `java.lang.String` from {} value (option 'vector.{}')",
                    other.type_name(),
                    key.value
                ))),
            };
            match key.value.as_ref() {
                "dimension" | "size" => {
                    desc.dimension = match field {
                        Node::Null => None,
                        Node::Number(n) if !n.contains(['.', 'e', 'E']) => Some(n.parse::<i32>().map(i64::from).map_err(|_| {
                            ApiError::request_structure_mismatch(&format!("Numeric value ({n}) out of range of int (option 'vector.{}')", key.value))
                        })?),
                        other => {
                            return Err(ApiError::request_structure_mismatch(&format!(
                                "Cannot deserialize value of type `java.lang.Integer` from {} value (option 'vector.{}')",
                                other.type_name(),
                                key.value
                            )))
                        }
                    }
                }
                "metric" | "function" => desc.metric = string()?,
                "sourceModel" => desc.source_model = string()?,
                _ => match field {
                    Node::Null => desc.service = false,
                    Node::Object(_) => desc.service = true,
                    other => {
                        return Err(ApiError::request_structure_mismatch(&format!(
                            "Cannot construct instance of `VectorizeConfig` from a JSON {} (option 'vector.service')",
                            other.type_name()
                        )))
                    }
                },
            }
        }
        Ok(desc)
    }

    /// The record's `@Positive` and `@Pattern` constraints.
    fn validate(&self) -> Result<(), ApiError> {
        if let Some(dimension) = self.dimension.filter(|d| *d <= 0) {
            return Err(ApiError::command_field_value_invalid(
                "command.options.vector.dimension",
                &dimension.to_string(),
                "dimension should be greater than `0`",
            ));
        }
        if let Some(metric) = self.metric.as_deref().filter(|m| Metric::from_api_name(m).is_none()) {
            return Err(ApiError::command_field_value_invalid(
                "command.options.vector.metric",
                &format!("\"{metric}\""),
                "function name can only be 'dot_product', 'cosine' or 'euclidean'",
            ));
        }
        if let Some(model) = self.source_model.as_deref().filter(|m| !SOURCE_MODELS.iter().any(|(name, _)| name == m)) {
            return Err(ApiError::command_field_value_invalid(
                "command.options.vector.sourceModel",
                &format!("\"{model}\""),
                "sourceModel options are 'ada002', 'bert', 'cohere-v3', 'gecko', 'nv-qa-4', 'openai-v3-large', 'openai-v3-small', and 'other'",
            ));
        }
        Ok(())
    }

    /// `CreateCollectionCommandResolver.validateVectorOptions`: a `service` needs vectorize (not
    /// available here, as on a Data API with `vectorizeEnabled` false); the metric defaults to the
    /// source model's (cosine for `other`, the default model); `dimension` is required and at
    /// most 4,096.
    fn resolve(self) -> Result<VectorOptions, ApiError> {
        if self.service {
            return Err(ApiError::vectorize_feature_not_available());
        }
        let model = self.source_model.as_deref().unwrap_or("other");
        let (source_model, model_metric) =
            SOURCE_MODELS.iter().find(|(name, _)| *name == model).copied().unwrap_or(("other", Metric::Cosine));
        let metric = self.metric.as_deref().and_then(Metric::from_api_name).unwrap_or(model_metric);
        let Some(dimension) = self.dimension else {
            return Err(ApiError::invalid_create_collection_options("The 'dimension' can not be null if 'service' is not provided"));
        };
        if dimension > MAX_DIMENSION as i64 {
            return Err(ApiError::vector_search_too_big_value(dimension, MAX_DIMENSION));
        }
        Ok(VectorOptions { dimension: dimension as usize, metric, source_model })
    }
}

/// Whether `name` is a valid keyspace or collection name (`\w{1,48}`).
pub fn is_valid_schema_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 48 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn name_of<'n>(command: &'n Node<'_>, empty_allowed: bool) -> Result<&'n str, ApiError> {
    match command.get("name") {
        None | Some(Node::Null) => Err(ApiError::command_field_value_invalid(
            "command.name",
            "`null`",
            if empty_allowed { "must not be null" } else { "must not be empty" },
        )),
        Some(Node::String(s)) if s.value.is_empty() && !empty_allowed => {
            Err(ApiError::command_field_value_invalid("command.name", "\"\"", "must not be empty"))
        }
        Some(Node::String(s)) => Ok(&s.value),
        Some(other) => Err(ApiError::request_structure_mismatch(&format!(
            "Cannot deserialize value of type `java.lang.String` from {} value",
            other.type_name()
        ))),
    }
}

pub(crate) async fn create_collection(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let settings = CollectionSettings::from_command(command.get("options"))?;
    let name = name_of(command, true)?;
    if !is_valid_schema_name(name) {
        return Err(ApiError::unsupported_schema_name("Collection", name));
    }
    let _guard = state.schema_lock().lock().await;
    if let Some(existing) = state.collection(keyspace, name) {
        return if existing.settings.options_json == settings.options_json {
            Ok(Reply::status("ok", "1"))
        } else {
            Err(ApiError::existing_collection_different_settings(name))
        };
    }
    let count = state.collection_count();
    let max = state.options().max_collections;
    if count >= max {
        return Err(ApiError::too_many_collections(name, count, max));
    }
    let id = state.store().create_collection(keyspace, name, &settings.options_json).await.map_err(store_failure)?;
    state.catalog_insert(Collection { id, keyspace: keyspace.to_owned(), name: name.to_owned(), settings });
    Ok(Reply::status("ok", "1"))
}

pub(crate) async fn delete_collection(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let name = name_of(command, false)?;
    let _guard = state.schema_lock().lock().await;
    if let Some(collection) = state.catalog_remove(keyspace, name) {
        state.store().delete_collection(collection.id).await.map_err(store_failure)?;
    }
    Ok(Reply::status("ok", "1"))
}

pub(crate) fn find_collections(state: &AppState, keyspace: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let explain = super::options::Options::of(command).bool("explain")?;
    let mut out = String::from("[");
    for (i, collection) in state.collections_in(keyspace).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if explain {
            out.push_str("{\"name\":");
            json::write_string(&collection.name, &mut out);
            out.push_str(",\"options\":");
            out.push_str(&collection.settings.options_json);
            out.push('}');
        } else {
            json::write_string(&collection.name, &mut out);
        }
    }
    out.push(']');
    Ok(Reply::status("collections", out))
}
