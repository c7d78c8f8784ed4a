//! [`ToolResult`]: what a tool call answers.

use serde_json::{Map, Value};

/// The outcome of one tool call: JSON content, and whether it is an error the agent
/// should read (a provider error, refused arguments) rather than data.
///
/// Errors of the call itself are results, never protocol failures: MCP reports them as
/// `isError: true` so the agent sees the provider's message and can react.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The data (a list page is `{result, next_cursor}`), or for an error
    /// `{error: <message>, ...details}`.
    pub content: Value,
    /// Whether the call failed.
    pub is_error: bool,
}

impl ToolResult {
    /// A successful result carrying `content`.
    pub fn success(content: Value) -> Self {
        Self {
            content,
            is_error: false,
        }
    }

    /// A failed result: `{"error": message}` plus the `details` object's keys (e.g. the
    /// provider's `status` and `response`).
    ///
    /// ```
    /// use patchbay_mcp::ToolResult;
    /// use serde_json::json;
    /// let result = ToolResult::error("ticket not found", json!({"status": 404}).as_object().cloned());
    /// assert!(result.is_error);
    /// assert_eq!(result.content, json!({"error": "ticket not found", "status": 404}));
    /// ```
    pub fn error(message: impl Into<String>, details: Option<Map<String, Value>>) -> Self {
        let mut content = Map::new();
        content.insert("error".into(), Value::String(message.into()));
        if let Some(details) = details {
            for (key, value) in details {
                content.entry(key).or_insert(value);
            }
        }
        Self {
            content: Value::Object(content),
            is_error: true,
        }
    }

    /// The content as JSON text, the form MCP clients show a model.
    pub fn text(&self) -> String {
        self.content.to_string()
    }
}
