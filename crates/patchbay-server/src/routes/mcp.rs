//! `POST /mcp/{token}`: an integrated account's tools over MCP (Model Context Protocol),
//! Streamable HTTP transport, served by the official Rust SDK (`rmcp`).
//!
//! The token in the path is the credential (no API token): it names one MCP server
//! ([`super::mcp_servers`]), hence one account and its tool filter. Each request looks
//! the token up in the store, so a revoked or expired server is refused (404) at once by
//! every process. The transport runs stateless with JSON answers: every POST carries one
//! JSON-RPC message (`initialize`, `notifications/initialized`, `tools/list`,
//! `tools/call`, `ping`) and gets its answer in the response body; no session is kept.
//!
//! Tools come from the account's integration config and from the unified models
//! installed in its environment (`Patchbay::mcp_tools`, after `Runtimes::for_mcp`
//! registered the models for the account's install) with the server's filter; a
//! unified tool's call layers the account's `unified_model_override`; a call runs through the facade's pipeline (`Patchbay::call_tool`),
//! so auth, refresh, rate limits, retries, sandbox refusal, events and request logs
//! apply. A provider's error is a tool result with `isError: true`, never a protocol
//! error; a tool the server does not expose is a JSON-RPC `invalid params` error.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use patchbay::Patchbay;
use patchbay::mcp::{MethodKind, ToolFilter, ToolResult};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use tower::ServiceExt;

use super::unified::account_override;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The largest JSON-RPC message accepted, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The MCP transport shared by every server: stateless, JSON answers.
#[derive(Clone)]
pub struct McpTransport(StreamableHttpService<AccountTools, NeverSessionManager>);

impl McpTransport {
    /// The transport. Host and Origin checks are off: the token in the path is the
    /// credential, and the server's public name is the deployment's.
    pub fn new() -> Self {
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_sse_retry(None)
            .with_max_request_body_bytes(MAX_MESSAGE_BYTES)
            .disable_allowed_hosts()
            .disable_allowed_origins();
        Self(StreamableHttpService::new(
            || Ok(AccountTools),
            Arc::new(NeverSessionManager::default()),
            config,
        ))
    }
}

impl Default for McpTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// The MCP server a request's token named: the account's facade (its install and the
/// environment's installed unified models registered), id, tool filter, and the unified
/// models whose tools it serves.
#[derive(Clone)]
struct ServedAccount {
    state: AppState,
    patchbay: Patchbay,
    environment_id: String,
    account_id: String,
    filter: ToolFilter,
    models: Vec<String>,
}

/// `POST /mcp/{token}`: one JSON-RPC message (stateless: no `GET` stream, no session to
/// `DELETE`).
///
/// # Errors
///
/// 404 for an unknown, revoked or expired token (the URL names no server, as a
/// capability URL); the account's runtime errors (404 when the account is gone, 409 for
/// a disabled install).
#[utoipa::path(
    post,
    path = "/mcp/{token}",
    operation_id = "mcp",
    summary = "MCP endpoint of an account",
    description = "Model Context Protocol over Streamable HTTP (stateless, JSON answers): send one JSON-RPC 2.0 message per POST with `Accept: application/json, text/event-stream`: `initialize`, `notifications/initialized` (answered 202), `tools/list`, `tools/call` `{name, arguments}`, `ping`. The token comes from `POST /integrated-account/{id}/mcp`; no API token. A provider error is a tool result with `isError: true`; see docs/guides/mcp.md.",
    tag = "mcp",
    security(()),
    params(("token" = String, Path, description = "The MCP server's token (`mcp_…`).")),
    request_body(content = serde_json::Value, description = "One JSON-RPC 2.0 message."),
    responses(
        (status = 200, description = "The JSON-RPC response.", body = serde_json::Value),
        (status = 202, description = "A notification was accepted."),
        (status = 404, description = "The token is unknown, revoked or expired, or the server's account is gone.", body = crate::error::ErrorBody),
        (status = 409, description = "The account's environment integration is disabled.", body = crate::error::ErrorBody),
    ),
)]
pub async fn serve(
    State(state): State<AppState>,
    Extension(transport): Extension<McpTransport>,
    Path(token): Path<String>,
    mut request: Request,
) -> ApiResult<Response> {
    let server = state
        .store
        .find_mcp_server(&token, chrono::Utc::now())
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "no MCP server has this URL: its token is unknown, revoked or expired",
            )
        })?;
    let (patchbay, models) = state
        .runtimes
        .for_mcp(&server.environment_id, &server.integrated_account_id)
        .await?;
    request.extensions_mut().insert(ServedAccount {
        state: state.clone(),
        patchbay,
        environment_id: server.environment_id,
        account_id: server.integrated_account_id,
        filter: server.filter,
        models,
    });
    let response = match transport.0.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    Ok(response.into_response())
}

/// The MCP handler: stateless, it reads the account a request's token named from the
/// request itself (put there by [`serve`]).
#[derive(Clone, Copy)]
pub struct AccountTools;

impl AccountTools {
    fn account(context: &RequestContext<RoleServer>) -> Result<ServedAccount, ErrorData> {
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ServedAccount>())
            .cloned()
            .ok_or_else(|| ErrorData::internal_error("the request names no MCP server", None))
    }

    async fn tools(account: &ServedAccount) -> Result<Vec<patchbay::mcp::Tool>, ErrorData> {
        served_tools(
            &account.patchbay,
            &account.account_id,
            &account.filter,
            &account.models,
        )
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }
}

impl ServerHandler for AccountTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("patchbay", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools of one integrated account, generated from its integration config. \
                 List tools return one page: pass `next_cursor` back for the next one.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let account = Self::account(&context)?;
        let tools = Self::tools(&account).await?;
        Ok(ListToolsResult::with_all_items(
            tools.into_iter().map(mcp_tool).collect(),
        ))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let account = Self::account(&context)?;
        let exposed = Self::tools(&account).await?;
        let Some(tool) = exposed.iter().find(|tool| tool.name == request.name) else {
            return Err(ErrorData::invalid_params(
                format!("this MCP server has no tool `{}`", request.name),
                None,
            ));
        };
        let account_override = match tool.model {
            Some(_) => {
                account_override(&account.state, &account.environment_id, &account.account_id)
                    .await
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?
            }
            None => None,
        };
        let arguments = request.arguments.unwrap_or_default();
        let result = account
            .patchbay
            .run_tool(
                &account.account_id,
                tool,
                &arguments,
                account_override.as_ref(),
            )
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(call_result(result).into())
    }
}

/// The tools an account's MCP server serves: the facade's tools that `filter` selects,
/// without those of unified models no longer installed (`models` are the installed ones;
/// the facade may still hold an earlier registration).
///
/// # Errors
///
/// The facade's (unknown account or integration, the store's failure).
pub(crate) async fn served_tools(
    patchbay: &Patchbay,
    account_id: &str,
    filter: &ToolFilter,
    models: &[String],
) -> Result<Vec<patchbay::mcp::Tool>, patchbay::Error> {
    let mut tools = patchbay.mcp_tools(account_id, filter).await?;
    tools.retain(|tool| tool.model.as_ref().is_none_or(|m| models.contains(m)));
    Ok(tools)
}

/// A generated tool as MCP describes it, with hints from its method kind.
fn mcp_tool(tool: patchbay::mcp::Tool) -> Tool {
    let annotations = ToolAnnotations::new()
        .read_only(tool.kind == MethodKind::Read)
        .destructive(tool.method == "delete")
        .open_world(true);
    Tool::new(tool.name, tool.description, Arc::new(tool.input_schema))
        .with_annotations(annotations)
}

/// A tool result as MCP sends it: the JSON as text, and as structured content when it is
/// an object (MCP's structured content must be one).
fn call_result(result: ToolResult) -> CallToolResult {
    match (result.content.is_object(), result.is_error) {
        (true, false) => CallToolResult::structured(result.content),
        (true, true) => CallToolResult::structured_error(result.content),
        (false, false) => CallToolResult::success(vec![ContentBlock::text(result.text())]),
        (false, true) => CallToolResult::error(vec![ContentBlock::text(result.text())]),
    }
}
