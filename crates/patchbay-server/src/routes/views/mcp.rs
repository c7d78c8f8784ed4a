//! Views of MCP servers (`/integrated-account/{id}/mcp`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::McpServer;

/// Which tools an MCP server exposes; both lists must match (AND), an empty list
/// matches every tool.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = McpServerConfig)]
pub struct McpServerConfigView {
    /// Method groups (`read` = get + list, `write` = create + update + delete, `custom`)
    /// or exact method names.
    pub methods: Vec<String>,
    /// Tags of the integration's `tool_tags`: tools of resources carrying one of them.
    pub tags: Vec<String>,
}

/// An MCP server of an integrated account (its token is shown only when created).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = McpServer)]
pub struct McpServerView {
    /// The id (not the token).
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The account whose tools it exposes.
    pub integrated_account_id: String,
    /// Which tools it exposes.
    pub config: McpServerConfigView,
    /// When it stops answering (RFC 3339); `null`: never.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<McpServer> for McpServerView {
    fn from(server: McpServer) -> Self {
        Self {
            id: server.id,
            name: server.name,
            integrated_account_id: server.integrated_account_id,
            config: McpServerConfigView {
                methods: server.filter.methods,
                tags: server.filter.tags,
            },
            expires_at: server.expires_at,
            created_at: server.created_at,
        }
    }
}

/// A new MCP server: its view plus the token and the URL MCP clients connect to, shown
/// only in this answer.
#[derive(Serialize, ToSchema)]
#[schema(as = CreatedMcpServer)]
pub struct CreatedMcpServerView {
    /// The server.
    #[serde(flatten)]
    pub server: McpServerView,
    /// The token (`mcp_…`); stored only as a SHA-256 hash.
    pub token: String,
    /// The MCP endpoint (Streamable HTTP): `{public URL}/mcp/{token}`.
    pub url: String,
}

/// The MCP servers of an account, oldest first (one page: `next_cursor` is always `null`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = McpServerPage)]
pub struct McpServerPage {
    /// The servers.
    pub result: Vec<McpServerView>,
    /// Always `null`: an account's servers fit one page.
    pub next_cursor: Option<String>,
}
