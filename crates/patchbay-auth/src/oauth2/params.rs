//! Request parameters: literal and templated values, their form encoding,
//! and the scope.

use indexmap::IndexMap;
use patchbay_config::{Scopes, TemplateValue};
use serde_json::Value;

use super::OAuth2Flow;
use crate::AuthError;
use crate::context::render_value;

/// A literal parameter.
pub(super) fn param(key: &str, value: &str) -> (String, Value) {
    (key.to_owned(), Value::String(value.to_owned()))
}

/// Sets `key` to `value`, replacing a parameter of the same name.
pub(super) fn upsert(params: &mut Vec<(String, Value)>, key: String, value: Value) {
    match params.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => params.push((key, value)),
    }
}

/// Renders templated parameters; parameters rendering undefined are dropped.
pub(super) fn render_params(
    params: &IndexMap<String, TemplateValue>,
    data: &Value,
    what: &str,
) -> Result<Vec<(String, Value)>, AuthError> {
    let mut out = Vec::with_capacity(params.len());
    for (key, value) in params {
        if let Some(rendered) = render_value(&value.0, data, &format!("{what}.{key}"))? {
            out.push((key.clone(), rendered));
        }
    }
    Ok(out)
}

/// A parameter value as form text; `null` drops the parameter.
pub(super) fn form_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => serde_json::to_string(value).ok(),
    }
}

impl OAuth2Flow {
    pub(super) fn scope_string(&self, requested: Option<&[String]>) -> Option<String> {
        let separator = self
            .config
            .options
            .as_ref()
            .and_then(|o| o.scope_separator.as_deref())
            .unwrap_or(" ");
        match (requested, &self.config.scope) {
            (Some(list), _) => Some(list.join(separator)),
            (None, Some(Scopes::List(list))) => Some(list.join(separator)),
            (None, Some(Scopes::Joined(text))) => Some(text.clone()),
            (None, None) => None,
        }
        .filter(|s| !s.is_empty())
    }
}
