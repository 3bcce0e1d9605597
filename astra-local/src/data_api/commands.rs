//! Which Data API commands astra-local serves and what each may contain.
//!
//! The real service deserializes each command into a Java record with Jackson set to fail on
//! unknown properties, so a misspelt field is refused, not ignored: an unknown command field or
//! option is `COMMAND_FIELD_UNKNOWN` (stargate/data-api `FrameworkExceptionMapper`), options on a
//! command that takes none are `COMMAND_ACCEPTS_NO_OPTIONS` (`NoOptionsCommand`), a value of the
//! wrong JSON type is `REQUEST_STRUCTURE_MISMATCH`, and a bean-validation failure (`limit: 0`,
//! a missing `update`) is `COMMAND_FIELD_VALUE_INVALID` naming the Java field
//! (`command.updateClause`). [`CommandSpec`] lists the fields of each command record in
//! `api/model/command/impl/*Command.java`; the commands themselves are in [`super::collections`],
//! [`super::insert`], [`super::find`], [`super::update`] and [`super::delete`].

use super::errors::ApiError;
use super::options::OPTION_ALIASES;
use super::{collections, delete, find, insert, update, Reply, Target};
use crate::json::Node;
use crate::AppState;

/// Whether and which options a command takes.
#[derive(Debug, Clone, Copy)]
enum OptionsSpec {
    /// No `options` field at all (`findOneAndDelete`).
    Absent,
    /// `options` may be `null` or `{}` only (`NoOptionsCommand`).
    Empty,
    /// `options` with these fields.
    Fields(&'static [&'static str]),
    /// `createCollection`: checked by [`collections`].
    Custom,
}

/// The fields of one command (sorted, as the real error lists them).
#[derive(Debug, Clone, Copy)]
struct CommandSpec {
    name: &'static str,
    fields: &'static [&'static str],
    options: OptionsSpec,
}

const KEYSPACE_COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "createCollection", fields: &["name", "options"], options: OptionsSpec::Custom },
    CommandSpec { name: "deleteCollection", fields: &["name", "options"], options: OptionsSpec::Empty },
    CommandSpec { name: "findCollections", fields: &["options"], options: OptionsSpec::Fields(&["explain"]) },
];

const COLLECTION_COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "countDocuments", fields: &["filter", "options"], options: OptionsSpec::Empty },
    CommandSpec { name: "deleteMany", fields: &["filter", "options"], options: OptionsSpec::Empty },
    CommandSpec { name: "deleteOne", fields: &["filter", "options", "sort"], options: OptionsSpec::Empty },
    CommandSpec { name: "estimatedDocumentCount", fields: &["options"], options: OptionsSpec::Empty },
    CommandSpec {
        name: "find",
        fields: &["filter", "options", "projection", "sort"],
        options: OptionsSpec::Fields(&["includeSimilarity", "includeSortVector", "limit", "pageState", "skip"]),
    },
    CommandSpec {
        name: "findOne",
        fields: &["filter", "options", "projection", "sort"],
        options: OptionsSpec::Fields(&["includeSimilarity", "includeSortVector"]),
    },
    CommandSpec { name: "findOneAndDelete", fields: &["filter", "projection", "sort"], options: OptionsSpec::Absent },
    CommandSpec {
        name: "findOneAndReplace",
        fields: &["filter", "options", "projection", "replacement", "sort"],
        options: OptionsSpec::Fields(&["returnDocument", "upsert"]),
    },
    CommandSpec {
        name: "findOneAndUpdate",
        fields: &["filter", "options", "projection", "sort", "update"],
        options: OptionsSpec::Fields(&["returnDocument", "upsert"]),
    },
    CommandSpec {
        name: "insertMany",
        fields: &["documents", "options"],
        options: OptionsSpec::Fields(&["ordered", "returnDocumentResponses"]),
    },
    CommandSpec { name: "insertOne", fields: &["document", "options"], options: OptionsSpec::Empty },
    CommandSpec { name: "updateMany", fields: &["filter", "options", "update"], options: OptionsSpec::Fields(&["pageState", "upsert"]) },
    CommandSpec { name: "updateOne", fields: &["filter", "options", "sort", "update"], options: OptionsSpec::Fields(&["upsert"]) },
];


fn names(specs: &[CommandSpec]) -> Vec<&'static str> {
    specs.iter().map(|s| s.name).collect()
}

fn quoted_list(fields: &[&str]) -> String {
    fields.iter().map(|f| format!("'{f}'")).collect::<Vec<_>>().join(", ")
}

/// Refuses what the command's Java record would not deserialize.
fn check_shape(spec: &CommandSpec, command: &Node<'_>) -> Result<(), ApiError> {
    let entries = match command {
        Node::Object(entries) => entries,
        Node::Null => return Err(ApiError::command_field_value_invalid("command", "`null`", "must not be null")),
        other => {
            return Err(ApiError::request_structure_mismatch(&format!(
                "Cannot construct instance of `{}Command` from a JSON {}",
                spec.name,
                other.type_name()
            )))
        }
    };
    for (key, value) in entries {
        let known = spec.fields.contains(&key.value.as_ref()) && !(key.value == "options" && matches!(spec.options, OptionsSpec::Absent));
        if !known {
            return Err(ApiError::command_field_unknown(&key.value, &format!("not one of known fields ({})", quoted_list(spec.fields))));
        }
        if key.value != "options" || value.is_null() {
            continue;
        }
        match spec.options {
            OptionsSpec::Absent | OptionsSpec::Custom => {}
            OptionsSpec::Empty => {
                if !matches!(value, Node::Object(o) if o.is_empty()) {
                    return Err(ApiError::command_accepts_no_options(spec.name));
                }
            }
            OptionsSpec::Fields(fields) => {
                let Node::Object(options) = value else {
                    return Err(ApiError::request_structure_mismatch(&format!(
                        "Cannot construct instance of `{}Command.Options` from a JSON {}",
                        spec.name,
                        value.type_name()
                    )));
                };
                for (option, _) in options {
                    let name = OPTION_ALIASES.iter().find(|(alias, _)| *alias == option.value).map_or(option.value.as_ref(), |(_, n)| *n);
                    if !fields.contains(&name) {
                        return Err(ApiError::command_field_unknown(
                            &option.value,
                            &format!("not one of known fields ({})", quoted_list(fields)),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs command `name` with body `command` against `target`.
pub async fn execute(state: &AppState, target: Target<'_>, name: &str, command: &Node<'_>) -> Reply {
    let result = match target {
        Target::Keyspace(keyspace) => keyspace_command(state, keyspace, name, command).await,
        Target::Collection(keyspace, collection) => collection_command(state, keyspace, collection, name, command).await,
    };
    result.unwrap_or_else(Reply::error)
}

fn check_keyspace(state: &AppState, keyspace: &str) -> Result<(), ApiError> {
    if state.options().keyspaces.iter().any(|k| k == keyspace) {
        Ok(())
    } else {
        Err(ApiError::unknown_keyspace(keyspace))
    }
}

async fn keyspace_command(state: &AppState, keyspace: &str, name: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let Some(spec) = KEYSPACE_COMMANDS.iter().find(|s| s.name == name) else {
        return Err(ApiError::command_unknown(name, "Keyspace Command", &names(KEYSPACE_COMMANDS)));
    };
    check_shape(spec, command)?;
    check_keyspace(state, keyspace)?;
    match name {
        "createCollection" => collections::create_collection(state, keyspace, command).await,
        "deleteCollection" => collections::delete_collection(state, keyspace, command).await,
        _ => collections::find_collections(state, keyspace, command),
    }
}

async fn collection_command(state: &AppState, keyspace: &str, collection: &str, name: &str, command: &Node<'_>) -> Result<Reply, ApiError> {
    let Some(spec) = COLLECTION_COMMANDS.iter().find(|s| s.name == name) else {
        return Err(ApiError::command_unknown(name, "Collection Command", &names(COLLECTION_COMMANDS)));
    };
    check_shape(spec, command)?;
    check_keyspace(state, keyspace)?;
    let Some(coll) = state.collection(keyspace, collection) else {
        let existing: Vec<String> = state.collections_in(keyspace).iter().map(|c| c.name.clone()).collect();
        return Err(ApiError::unknown_collection(keyspace, collection, &existing));
    };
    match name {
        "insertOne" => insert::insert_one(state, &coll, command).await,
        "insertMany" => insert::insert_many(state, &coll, command).await,
        "find" => find::find(state, &coll, command).await,
        "findOne" => find::find_one(state, &coll, command).await,
        "countDocuments" => find::count_documents(state, &coll, command).await,
        "estimatedDocumentCount" => find::estimated_document_count(state, &coll).await,
        "findOneAndReplace" => update::find_one_and_replace(state, &coll, command).await,
        "findOneAndUpdate" => update::find_one_and_update(state, &coll, command).await,
        "updateOne" => update::update_one(state, &coll, command).await,
        "updateMany" => update::update_many(state, &coll, command).await,
        "findOneAndDelete" => delete::find_one_and_delete(state, &coll, command).await,
        "deleteOne" => delete::delete_one(state, &coll, command).await,
        _ => delete::delete_many(state, &coll, command).await,
    }
}
