//! MCP servers of integrated accounts: stored by the SHA-256 hash of their token,
//! optionally expiring. A lookup by token reads the database every time, so a revoked or
//! expired server is refused at once by every process sharing it.

use chrono::{DateTime, Utc};
use patchbay::mcp::ToolFilter;

use super::super::backend::{Row, args};
use super::super::error::StorageError;
use super::super::model::{CreatedMcpServer, McpServer, McpServerPatch, NewMcpServer};
use super::super::{secret, time};
use super::{Store, new_id, require_text};

const TABLE: &str = "mcp_servers";
const COLUMNS: &str =
    "id, environment_id, integrated_account_id, name, config, expires_at, created_at";
const TOKEN_PREFIX: &str = "mcp_";

/// The `config` column: the tool filter as JSON.
fn filter_column(filter: &ToolFilter) -> Result<String, StorageError> {
    serde_json::to_string(filter)
        .map_err(|_| StorageError::InvalidInput("unserializable tool filter".into()))
}

/// `at` as the table keeps it (microseconds), so an answer equals a later read.
fn as_stored(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    time::from_micros(time::to_micros(at))
}

impl Store {
    fn mcp_server_from_row(row: &Row) -> Result<McpServer, StorageError> {
        Ok(McpServer {
            id: row.text("id")?,
            environment_id: row.text("environment_id")?,
            integrated_account_id: row.text("integrated_account_id")?,
            name: row.text("name")?,
            filter: serde_json::from_str(&row.text("config")?)
                .map_err(|_| StorageError::corrupt(TABLE, "unreadable tool filter"))?,
            expires_at: row
                .opt_int("expires_at")?
                .map(|t| time::column(TABLE, t))
                .transpose()?,
            created_at: time::column(TABLE, row.int("created_at")?)?,
        })
    }

    /// Creates an MCP server for an account of the environment; its token is returned
    /// once. Expired servers (of every account) are deleted first.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for an account of another environment or none;
    /// [`InvalidInput`](StorageError::InvalidInput) for a blank name.
    pub async fn create_mcp_server(
        &self,
        environment_id: &str,
        new: NewMcpServer,
    ) -> Result<CreatedMcpServer, StorageError> {
        require_text("name", &new.name)?;
        self.get_account(environment_id, &new.integrated_account_id)
            .await?;
        let now = time::now();
        self.backend
            .execute(
                "DELETE FROM mcp_servers WHERE expires_at IS NOT NULL AND expires_at <= $1",
                args![time::to_micros(now)],
            )
            .await?;
        let token = secret::generate(TOKEN_PREFIX);
        let server = McpServer {
            id: new_id(),
            environment_id: environment_id.to_owned(),
            integrated_account_id: new.integrated_account_id,
            name: new.name,
            filter: new.filter,
            expires_at: new.expires_at.and_then(as_stored),
            created_at: now,
        };
        let config = filter_column(&server.filter)?;
        self.backend
            .execute(
                "INSERT INTO mcp_servers (id, token_hash, environment_id, integrated_account_id, \
                 name, config, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                args![
                    &server.id,
                    secret::hash(token.expose()),
                    environment_id,
                    &server.integrated_account_id,
                    &server.name,
                    config,
                    server.expires_at.map(time::to_micros),
                    time::to_micros(now)
                ],
            )
            .await?;
        Ok(CreatedMcpServer { server, token })
    }

    /// The unexpired MCP servers of an account, oldest first.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) for an account of another environment or none.
    pub async fn list_mcp_servers(
        &self,
        environment_id: &str,
        integrated_account_id: &str,
    ) -> Result<Vec<McpServer>, StorageError> {
        self.get_account(environment_id, integrated_account_id)
            .await?;
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT {COLUMNS} FROM mcp_servers \
                     WHERE environment_id = $1 AND integrated_account_id = $2 \
                     AND (expires_at IS NULL OR expires_at > $3) ORDER BY created_at, id"
                ),
                args![
                    environment_id,
                    integrated_account_id,
                    time::to_micros(time::now())
                ],
            )
            .await?;
        rows.iter().map(Self::mcp_server_from_row).collect()
    }

    /// An unexpired MCP server of an account.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the account has no such server (or it
    /// expired).
    pub async fn get_mcp_server(
        &self,
        environment_id: &str,
        integrated_account_id: &str,
        id: &str,
    ) -> Result<McpServer, StorageError> {
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT {COLUMNS} FROM mcp_servers \
                     WHERE id = $1 AND environment_id = $2 AND integrated_account_id = $3 \
                     AND (expires_at IS NULL OR expires_at > $4)"
                ),
                args![
                    id,
                    environment_id,
                    integrated_account_id,
                    time::to_micros(time::now())
                ],
            )
            .await?;
        rows.first()
            .map(Self::mcp_server_from_row)
            .transpose()?
            .ok_or_else(|| StorageError::not_found("mcp server", id))
    }

    /// Applies `patch` to `server`, an unexpired MCP server as
    /// [`get_mcp_server`](Self::get_mcp_server) read it, and stores the result (its token
    /// stays the same); answers it as stored.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the server is gone since it was read;
    /// [`InvalidInput`](StorageError::InvalidInput) for a blank name.
    pub async fn update_mcp_server(
        &self,
        mut server: McpServer,
        patch: McpServerPatch,
    ) -> Result<McpServer, StorageError> {
        if let Some(name) = patch.name {
            require_text("name", &name)?;
            server.name = name;
        }
        if let Some(filter) = patch.filter {
            server.filter = filter;
        }
        if let Some(expires_at) = patch.expires_at {
            server.expires_at = expires_at.and_then(as_stored);
        }
        let config = filter_column(&server.filter)?;
        let changed = self
            .backend
            .execute(
                "UPDATE mcp_servers SET name = $1, config = $2, expires_at = $3 \
                 WHERE id = $4 AND environment_id = $5 AND integrated_account_id = $6",
                args![
                    &server.name,
                    config,
                    server.expires_at.map(time::to_micros),
                    &server.id,
                    &server.environment_id,
                    &server.integrated_account_id
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StorageError::not_found("mcp server", &server.id));
        }
        Ok(server)
    }

    /// Revokes (deletes) an MCP server of an account: its token is refused from now on.
    ///
    /// # Errors
    ///
    /// [`NotFound`](StorageError::NotFound) when the account has no such server.
    pub async fn delete_mcp_server(
        &self,
        environment_id: &str,
        integrated_account_id: &str,
        id: &str,
    ) -> Result<(), StorageError> {
        let deleted = self
            .backend
            .execute(
                "DELETE FROM mcp_servers \
                 WHERE id = $1 AND environment_id = $2 AND integrated_account_id = $3",
                args![id, environment_id, integrated_account_id],
            )
            .await?;
        if deleted == 0 {
            return Err(StorageError::not_found("mcp server", id));
        }
        Ok(())
    }

    /// *System.* The MCP server whose token is `token`, if it exists and has not expired
    /// as of `now` (a read only: expired rows are deleted when a server is created).
    pub async fn find_mcp_server(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<McpServer>, StorageError> {
        let now = time::to_micros(now);
        let rows = self
            .backend
            .fetch(
                TABLE,
                &format!(
                    "SELECT {COLUMNS} FROM mcp_servers WHERE token_hash = $1 \
                     AND (expires_at IS NULL OR expires_at > $2)"
                ),
                args![secret::hash(token), now],
            )
            .await?;
        rows.first().map(Self::mcp_server_from_row).transpose()
    }
}
