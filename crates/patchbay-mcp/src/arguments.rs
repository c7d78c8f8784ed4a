//! Routing a tool call's arguments into the parts of a method call.

use serde_json::{Map, Value};

use crate::schema::Routing;

/// A tool call ready to run: which method, with what id, query, body and page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCall {
    /// The unified model of a unified tool's call (run it as a unified call); `None` for
    /// an integration method.
    pub model: Option<String>,
    /// The config's resource (the unified model's resource for a unified call).
    pub resource: String,
    /// The resource's method.
    pub method: String,
    /// The record id (`{{id}}`).
    pub id: Option<String>,
    /// Query parameters (`{{query.x}}`).
    pub query: Map<String, Value>,
    /// The body (`{{body}}`); `None` when no argument goes to the body.
    pub body: Option<Value>,
    /// Whether this is a list method: run one page of it.
    pub list: bool,
    /// The page size of a list.
    pub limit: Option<u64>,
    /// The cursor of the page to get.
    pub next_cursor: Option<String>,
}

/// Arguments a tool refuses, naming the argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgumentError {
    /// The tool addresses one record and `id` is missing.
    #[error("the argument `id` is required")]
    MissingId,
    /// An argument has the wrong type.
    #[error("the argument `{argument}` must be {expected}")]
    WrongType {
        /// The argument's name.
        argument: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

pub(crate) fn route(
    resource: &str,
    method: &str,
    routing: &Routing,
    arguments: &Map<String, Value>,
) -> Result<ToolCall, ArgumentError> {
    let mut call = ToolCall {
        resource: resource.to_owned(),
        method: method.to_owned(),
        list: routing.list,
        ..ToolCall::default()
    };
    let mut body = Map::new();
    for (key, value) in arguments {
        match key.as_str() {
            "id" if routing.accepts_id => call.id = Some(id(value)?),
            "limit" if routing.list => call.limit = limit(value)?,
            "next_cursor" if routing.list => call.next_cursor = cursor(value)?,
            _ if routing.query_keys.contains(key) => {
                call.query.insert(key.clone(), value.clone());
            }
            _ if routing.body_keys.contains(key) || routing.extra_to_body => {
                body.insert(key.clone(), value.clone());
            }
            _ => {
                call.query.insert(key.clone(), value.clone());
            }
        }
    }
    if routing.takes_id && call.id.is_none() {
        return Err(ArgumentError::MissingId);
    }
    if !body.is_empty() {
        call.body = Some(Value::Object(body));
    }
    Ok(call)
}

fn id(value: &Value) -> Result<String, ArgumentError> {
    match value {
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(ArgumentError::WrongType {
            argument: "id",
            expected: "a non-empty string or a number",
        }),
    }
}

fn limit(value: &Value) -> Result<Option<u64>, ArgumentError> {
    let wrong = ArgumentError::WrongType {
        argument: "limit",
        expected: "a positive integer",
    };
    let n = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n| *n > 0).map(Some).ok_or(wrong)
}

fn cursor(value: &Value) -> Result<Option<String>, ArgumentError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ArgumentError::WrongType {
            argument: "next_cursor",
            expected: "a string (the `next_cursor` of the previous page)",
        }),
    }
}
