//! A command's `options` read with the real service's types (Jackson's coercions and its
//! refusals for the wrong JSON type), and the storage failure every command may meet. A leaf:
//! the command handlers and [`super::commands`] use it; it uses none of them.

use super::errors::ApiError;
use crate::json::Node;
use crate::store::StoreError;

/// Option fields also accepted under an old name (`@JsonAlias`).
pub(crate) const OPTION_ALIASES: &[(&str, &str)] = &[("pagingState", "pageState")];

/// A storage failure, as the real service answers an unexpected server error.
pub(crate) fn store_failure(error: StoreError) -> ApiError {
    tracing::error!(%error, "storage failure");
    ApiError::unexpected_server_error("StoreError", &error.to_string())
}

/// Typed access to a command's `options`, with the real service's refusals for wrong types.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options<'n, 'a> {
    node: Option<&'n Node<'a>>,
}

impl<'n, 'a> Options<'n, 'a> {
    pub fn of(command: &'n Node<'a>) -> Options<'n, 'a> {
        Options { node: command.get("options").filter(|o| !o.is_null()) }
    }

    fn get(&self, name: &str) -> Option<&'n Node<'a>> {
        let node = self.node?;
        node.get(name)
            .or_else(|| OPTION_ALIASES.iter().find(|(_, n)| *n == name).and_then(|(alias, _)| node.get(alias)))
            .filter(|v| !v.is_null())
    }

    /// A Boolean option (Jackson also takes the strings `"true"`/`"false"`).
    pub fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(Node::Bool(b)) => Ok(*b),
            Some(Node::String(s)) if s.value == "true" || s.value == "false" => Ok(s.value == "true"),
            Some(other) => Err(ApiError::request_structure_mismatch(&format!(
                "Cannot deserialize value of type `boolean` from {} value {} (option '{name}')",
                other.type_name(),
                other.to_json()
            ))),
        }
    }

    /// An integer option.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Node::Number(n)) if !n.contains(['.', 'e', 'E']) => n
                .parse::<i32>()
                .map(|v| Some(i64::from(v)))
                .map_err(|_| ApiError::request_structure_mismatch(&format!("Numeric value ({n}) out of range of int (option '{name}')"))),
            Some(other) => Err(ApiError::request_structure_mismatch(&format!(
                "Cannot deserialize value of type `java.lang.Integer` from {} value {} (option '{name}')",
                other.type_name(),
                other.to_json()
            ))),
        }
    }

    /// A String option.
    pub fn string(&self, name: &str) -> Result<Option<&'n str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Node::String(s)) => Ok(Some(&s.value)),
            Some(other) => Err(ApiError::request_structure_mismatch(&format!(
                "Cannot deserialize value of type `java.lang.String` from {} value (option '{name}')",
                other.type_name()
            ))),
        }
    }
}

/// `returnDocument`: `"after"` returns the document as written, `"before"` (the default) as it was.
pub(crate) fn return_after(options: &Options<'_, '_>) -> Result<bool, ApiError> {
    match options.string("returnDocument")? {
        None | Some("before") => Ok(false),
        Some("after") => Ok(true),
        Some(other) => Err(ApiError::command_field_value_invalid(
            "command.options.returnDocument",
            &format!("\"{other}\""),
            "returnDocument value can only be 'before' or 'after'",
        )),
    }
}
