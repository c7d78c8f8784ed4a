//! [`ToolFilter`]: which tools an MCP server exposes.

use serde::{Deserialize, Serialize};

use crate::{MethodKind, Tool};

/// Selects tools by method and by tag, as Truto's MCP server `config` does.
///
/// * `methods`: each entry is a group (`read` = get + list, `write` = create + update +
///   delete, `custom` = any other method) or an exact method name (`list`, `search`); a
///   tool matches when any entry does. Empty: every method.
/// * `tags`: a tool matches when its resource carries one of the tags
///   (`tool_tags` of the config). Empty: every tool.
///
/// Both lists must match (AND); the default filter selects every tool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFilter {
    /// Method groups or exact method names; empty = all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// Resource tags; empty = all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl ToolFilter {
    /// A filter that selects every tool.
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects these method groups or method names.
    pub fn methods<I, S>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.methods = methods.into_iter().map(Into::into).collect();
        self
    }

    /// Selects tools of resources carrying one of these tags.
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `tool` is selected.
    pub fn matches(&self, tool: &Tool) -> bool {
        let method = self.methods.is_empty()
            || self.methods.iter().any(|entry| {
                MethodKind::parse(entry).map_or(entry == &tool.method, |kind| kind == tool.kind)
            });
        let tag = self.tags.is_empty() || tool.tags.iter().any(|t| self.tags.contains(t));
        method && tag
    }
}
