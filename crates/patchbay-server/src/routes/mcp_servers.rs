//! `/integrated-account/{id}/mcp`: MCP servers of an account, each a URL
//! (`POST /mcp/{token}`, see [`super::mcp`]) exposing the account's tools to an agent.
//!
//! A server has a name, a tool filter (`config.methods`: `read`, `write`, `custom` or
//! method names; `config.tags`: the resources' `tool_tags`; combined with AND) and an
//! optional expiry. The token is shown once, in the create answer, and stored as a
//! SHA-256 hash; deleting the server revokes it at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use patchbay::mcp::ToolFilter;
use serde::Deserialize;

use super::responses::{AuthedErrors, NotFoundErrors, ValidationErrors};
use super::views::{CreatedMcpServerView, Deleted, McpServerPage, McpServerView};
use super::{created, deleted};
use crate::auth::Env;
use crate::connect::public_base;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::{McpServerPatch, NewMcpServer};

/// The shortest time to expiry a new server may have.
pub const MIN_LIFETIME: chrono::Duration = chrono::Duration::seconds(60);
/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The most entries `config.methods` or `config.tags` may have.
pub const MAX_FILTER_ENTRIES: usize = 100;

/// The body of `POST /integrated-account/{id}/mcp` (Truto's shape).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMcpServer {
    /// A name for people (1 to 200 characters).
    pub name: String,
    /// Which tools the server exposes; absent: every tool.
    #[serde(default)]
    pub config: Option<McpServerFilter>,
    /// When the server stops answering (RFC 3339, at least 60 s from now); absent or
    /// `null`: never.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The tool filter of a new server.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct McpServerFilter {
    /// Method groups (`read`, `write`, `custom`) or exact method names; absent or empty:
    /// every method.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Tags of the integration's `tool_tags`; absent or empty: every tool.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

impl CreateMcpServer {
    /// The store's input for `account_id`, checked as of `now`.
    ///
    /// # Errors
    ///
    /// 422 naming the field: a blank or too long name, an empty or too many filter
    /// entries, an `expires_at` less than 60 s ahead.
    fn validate(self, account_id: &str, now: DateTime<Utc>) -> ApiResult<NewMcpServer> {
        Ok(NewMcpServer {
            integrated_account_id: account_id.to_owned(),
            name: checked_name(&self.name)?,
            filter: checked_filter(self.config)?,
            expires_at: checked_expiry(self.expires_at, now)?,
        })
    }
}

/// The body of `PATCH /integrated-account/{id}/mcp/{server_id}`: what to change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMcpServer {
    /// A new name (1 to 200 characters).
    #[serde(default)]
    pub name: Option<String>,
    /// A new tool filter, replacing the old one (`{}`: every tool).
    #[serde(default)]
    pub config: Option<McpServerFilter>,
    /// A new expiry (at least 60 s from now); `null`: never expires.
    #[serde(default, deserialize_with = "super::nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl UpdateMcpServer {
    /// The store's changes, checked as of `now`.
    ///
    /// # Errors
    ///
    /// 422 naming the field, as for a new server.
    fn validate(self, now: DateTime<Utc>) -> ApiResult<McpServerPatch> {
        Ok(McpServerPatch {
            name: self.name.as_deref().map(checked_name).transpose()?,
            filter: self.config.map(|c| checked_filter(Some(c))).transpose()?,
            expires_at: self
                .expires_at
                .map(|at| checked_expiry(at, now))
                .transpose()?,
        })
    }
}

/// A server's name, trimmed: 1 to [`MAX_NAME_CHARS`] characters.
fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The tool filter of `config` (absent: every tool).
fn checked_filter(config: Option<McpServerFilter>) -> ApiResult<ToolFilter> {
    let (methods, tags) = match config {
        Some(filter) => (
            entries("config.methods", filter.methods)?,
            entries("config.tags", filter.tags)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(ToolFilter::new().methods(methods).tags(tags))
}

/// An expiry at least [`MIN_LIFETIME`] after `now` (or none).
fn checked_expiry(
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<Option<DateTime<Utc>>> {
    if let Some(at) = expires_at
        && at < now + MIN_LIFETIME
    {
        return Err(invalid(
            "expires_at",
            "must be at least 60 seconds in the future",
        ));
    }
    Ok(expires_at)
}

/// The entries of a filter list, each non-blank, at most [`MAX_FILTER_ENTRIES`].
fn entries(path: &str, list: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_FILTER_ENTRIES {
        return Err(invalid(
            path,
            format!("at most {MAX_FILTER_ENTRIES} entries"),
        ));
    }
    if let Some(index) = list.iter().position(|e| e.trim().is_empty()) {
        return Err(invalid(&format!("{path}[{index}]"), "must not be empty"));
    }
    Ok(list.into_iter().map(|e| e.trim().to_owned()).collect())
}

/// 422 with the one problem at `path`.
fn invalid(path: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::Invalid {
        message: format!("the MCP server is invalid: {path}: {message}"),
        errors: vec![FieldError {
            path: path.to_owned(),
            message,
        }],
    }
}

/// `POST /integrated-account/{id}/mcp` → 201 with the server, its token and URL.
///
/// # Errors
///
/// 422 naming the field (blank name, empty filter entry, `expires_at` too soon); 404 for
/// an unknown account; 400 when no tool of the
/// account matches the filter.
#[utoipa::path(
    post,
    path = "/integrated-account/{id}/mcp",
    operation_id = "create_mcp_server",
    summary = "Create an MCP server",
    description = "An MCP server exposing the account's tools (one per resource × method of its integration, then one per mapped method of each unified model installed in the environment, tagged `unified` and the model's name; see docs/guides/mcp.md) at `url` (`POST /mcp/{token}`, Streamable HTTP). `config.methods` (`read`, `write`, `custom` or method names) and `config.tags` (the integration's `tool_tags`, or `unified` / a model's name) filter the tools, combined with AND. The token and URL are shown only in this answer (the token is stored as a SHA-256 hash). `400` when no tool matches the filter; `422` names the field: a blank name, an empty filter entry, an `expires_at` less than 60 seconds ahead.",
    tag = "mcp",
    params(("id" = String, Path, description = "The integrated account's id.")),
    request_body = CreateMcpServer,
    responses(
        (status = 201, description = "The server, its token and URL; shown only here.", body = CreatedMcpServerView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateMcpServer>,
) -> ApiResult<impl IntoResponse> {
    let new = body.validate(&account_id, Utc::now())?;
    require_tools(&state, &env, &account_id, &new.filter).await?;
    let created_server = state.store.create_mcp_server(&env, new).await?;
    let token = created_server.token.expose().to_owned();
    let url = format!("{}/mcp/{token}", public_base(&state, &headers));
    Ok(created(CreatedMcpServerView {
        server: created_server.server.into(),
        token,
        url,
    }))
}

/// 400 unless `filter` selects at least one of the account's tools.
async fn require_tools(
    state: &AppState,
    env: &str,
    account_id: &str,
    filter: &ToolFilter,
) -> ApiResult<()> {
    let (patchbay, models) = state.runtimes.for_mcp(env, account_id).await?;
    let tools = super::mcp::served_tools(&patchbay, account_id, filter, &models)
        .await
        .map_err(super::proxy::facade_error)?;
    if tools.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "no tool of the account's integration or of its unified models matches `config` (methods and tags must both match)",
        ));
    }
    Ok(())
}

/// `GET /integrated-account/{id}/mcp/{server_id}` → the server (never its token).
#[utoipa::path(
    get,
    path = "/integrated-account/{id}/mcp/{server_id}",
    operation_id = "get_mcp_server",
    summary = "Get an MCP server",
    description = "One unexpired MCP server of the account; its token is never shown again.",
    tag = "mcp",
    params(
        ("id" = String, Path, description = "The integrated account's id."),
        ("server_id" = String, Path, description = "The MCP server's id."),
    ),
    responses(
        (status = 200, description = "The server.", body = McpServerView),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    Env(env): Env,
    Path((account_id, server_id)): Path<(String, String)>,
) -> ApiResult<Json<McpServerView>> {
    let server = state
        .store
        .get_mcp_server(&env, &account_id, &server_id)
        .await?;
    Ok(Json(server.into()))
}

/// `PATCH /integrated-account/{id}/mcp/{server_id}` → the changed server; its URL stays.
///
/// # Errors
///
/// 422 naming the field; 400 when a new `config` matches no tool; 404 for an unknown or
/// expired server.
#[utoipa::path(
    patch,
    path = "/integrated-account/{id}/mcp/{server_id}",
    operation_id = "update_mcp_server",
    summary = "Update an MCP server",
    description = "Changes the server's `name`, `config` (replaced whole; checked to match at least one tool, else `400`) or `expires_at` (`null`: never expires; otherwise at least 60 seconds ahead). The token and URL stay the same; the next request to the URL sees the change, on every server process. Without `config`, the tools are not checked.",
    tag = "mcp",
    params(
        ("id" = String, Path, description = "The integrated account's id."),
        ("server_id" = String, Path, description = "The MCP server's id."),
    ),
    request_body = UpdateMcpServer,
    responses(
        (status = 200, description = "The changed server.", body = McpServerView),
        ValidationErrors,
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path((account_id, server_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateMcpServer>,
) -> ApiResult<Json<McpServerView>> {
    let patch = body.validate(Utc::now())?;
    let server = state
        .store
        .get_mcp_server(&env, &account_id, &server_id)
        .await?;
    if let Some(filter) = &patch.filter {
        require_tools(&state, &env, &account_id, filter).await?;
    }
    let server = state.store.update_mcp_server(server, patch).await?;
    Ok(Json(server.into()))
}

/// `GET /integrated-account/{id}/mcp` → the account's unexpired servers.
#[utoipa::path(
    get,
    path = "/integrated-account/{id}/mcp",
    operation_id = "list_mcp_servers",
    summary = "List MCP servers",
    description = "The account's unexpired MCP servers, oldest first; tokens are never shown again.",
    tag = "mcp",
    params(("id" = String, Path, description = "The integrated account's id.")),
    responses(
        (status = 200, description = "The servers.", body = McpServerPage),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    Path(account_id): Path<String>,
) -> ApiResult<Json<McpServerPage>> {
    let servers = state.store.list_mcp_servers(&env, &account_id).await?;
    Ok(Json(McpServerPage {
        result: servers.into_iter().map(McpServerView::from).collect(),
        next_cursor: None,
    }))
}

/// `DELETE /integrated-account/{id}/mcp/{server_id}` → `{id}`; the token is refused from
/// now on.
#[utoipa::path(
    delete,
    path = "/integrated-account/{id}/mcp/{server_id}",
    operation_id = "delete_mcp_server",
    summary = "Revoke an MCP server",
    description = "Deletes the server: its URL is refused at once, by every server process sharing the database.",
    tag = "mcp",
    params(
        ("id" = String, Path, description = "The integrated account's id."),
        ("server_id" = String, Path, description = "The MCP server's id."),
    ),
    responses(
        (status = 200, description = "Revoked.", body = Deleted),
        AuthedErrors,
        NotFoundErrors,
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path((account_id, server_id)): Path<(String, String)>,
) -> ApiResult<Json<Deleted>> {
    state
        .store
        .delete_mcp_server(&env, &account_id, &server_id)
        .await?;
    Ok(deleted(server_id))
}
