//! Method kinds: the groups a [`ToolFilter`](crate::ToolFilter) selects by.

use std::fmt;

/// What a method does, as Truto groups methods for MCP filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// `list` and `get`.
    Read,
    /// `create`, `update` and `delete`.
    Write,
    /// Any other method name (a custom method).
    Custom,
}

impl MethodKind {
    /// The kind of the method named `method`.
    ///
    /// ```
    /// use patchbay_mcp::MethodKind;
    /// assert_eq!(MethodKind::of("list"), MethodKind::Read);
    /// assert_eq!(MethodKind::of("delete"), MethodKind::Write);
    /// assert_eq!(MethodKind::of("search"), MethodKind::Custom);
    /// ```
    pub fn of(method: &str) -> Self {
        match method {
            "list" | "get" => Self::Read,
            "create" | "update" | "delete" => Self::Write,
            _ => Self::Custom,
        }
    }

    /// The group's name in filters: `read`, `write` or `custom`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Custom => "custom",
        }
    }

    /// The kind named `name` (`read`, `write`, `custom`), if it is one.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }
}

impl fmt::Display for MethodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
