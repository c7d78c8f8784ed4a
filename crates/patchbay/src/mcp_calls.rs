//! MCP tools of an account: [`Patchbay::mcp_tools`] and [`Patchbay::call_tool`].

use patchbay_executor::{CallInput, ListOptions};
use patchbay_mcp::{Tool, ToolCall, ToolFilter, ToolResult};
use patchbay_unified::{AccountOverride, UnifiedRequest};
use serde_json::{Map, Value, json};

use crate::facade::Installed;
use crate::{Error, Patchbay};

impl Installed {
    /// The install's tools, generated from its config on first use.
    fn tools(&self) -> &[Tool] {
        self.tools
            .get_or_init(|| patchbay_mcp::tools(self.integration.name(), self.integration.config()))
    }
}

impl Patchbay {
    /// The MCP tools of `account_id`'s integration that `filter` selects: one per
    /// resource × method of its config, named after the install's integration name
    /// (see [`install_named`](Self::install_named) and [`mcp`](crate::mcp)), then one
    /// per method of each unified model registered for the account's install
    /// ([`install_unified`](Self::install_unified)), tagged `unified` and the model's
    /// name (see [`unified_tool`](crate::mcp::unified_tool)).
    ///
    /// # Errors
    ///
    /// Unknown account or integration; the account store's failure.
    pub async fn mcp_tools(
        &self,
        account_id: &str,
        filter: &ToolFilter,
    ) -> Result<Vec<Tool>, Error> {
        let (account, installed, _) = self.load(account_id).await?;
        let mut tools = self.account_tools(&account.environment_integration_id, &installed);
        tools.retain(|tool| filter.matches(tool));
        Ok(tools)
    }

    /// Every tool of an install: its integration's, then its unified models' (names
    /// made unique over both).
    fn account_tools(&self, install: &str, installed: &Installed) -> Vec<Tool> {
        let mut tools = installed.tools().to_vec();
        let unified = self.unified.tools(install);
        if !unified.is_empty() {
            tools.extend(unified);
            patchbay_mcp::unique_names(&mut tools);
        }
        tools
    }

    /// Runs the tool `name` of `account_id`'s integration with `arguments`, through the
    /// same pipeline as [`call`](Self::call) and [`list_page`](Self::list_page) (auth and
    /// refresh, rate limits, retries, pagination, `error_expression`, the sandbox's write
    /// refusal, `needs_reauth` events, the call observer with request type `mcp`).
    ///
    /// A list answers one page `{result, next_cursor}` (`response_path` applied); other
    /// methods the provider's body as the proxy answers it. Whatever goes wrong with the
    /// call itself is a [`ToolResult`] with
    /// `is_error` and `{error: message, kind, status?, response?}` (the provider's status
    /// and body when it answered with an error), so an agent reads it: refused arguments,
    /// a provider error, a sandbox write. No secret of the account is in a result.
    ///
    /// Filters are the host's: check that `name` is among the tools a server exposes
    /// ([`mcp_tools`](Self::mcp_tools)) before calling.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownTool`] when the integration has no tool `name`; unknown account or
    /// integration; the account store's failure.
    pub async fn call_tool(
        &self,
        account_id: &str,
        name: &str,
        arguments: &Map<String, Value>,
    ) -> Result<ToolResult, Error> {
        self.call_tool_with_override(account_id, name, arguments, None)
            .await
    }

    /// [`call_tool`](Self::call_tool) with the account's `unified_model_override` (kept
    /// by the host), layered on the mapping of a unified tool as
    /// [`unified_with_override`](Self::unified_with_override) does; proxy tools ignore it.
    ///
    /// # Errors
    ///
    /// As [`call_tool`](Self::call_tool).
    pub async fn call_tool_with_override(
        &self,
        account_id: &str,
        name: &str,
        arguments: &Map<String, Value>,
        account_override: Option<&AccountOverride>,
    ) -> Result<ToolResult, Error> {
        let tool = {
            let (account, installed, _) = self.load(account_id).await?;
            self.account_tools(&account.environment_integration_id, &installed)
                .into_iter()
                .find(|tool| tool.name == name)
                .ok_or_else(|| Error::UnknownTool(name.to_owned()))?
        };
        self.run_tool(account_id, &tool, arguments, account_override)
            .await
    }

    /// Runs `tool`, one of `account_id`'s tools the host already holds (from
    /// [`mcp_tools`](Self::mcp_tools), e.g. after checking it is exposed), with
    /// `arguments`: as [`call_tool_with_override`](Self::call_tool_with_override) without
    /// looking the tool up again.
    ///
    /// # Errors
    ///
    /// Unknown account or integration; the account store's failure.
    pub async fn run_tool(
        &self,
        account_id: &str,
        tool: &Tool,
        arguments: &Map<String, Value>,
        account_override: Option<&AccountOverride>,
    ) -> Result<ToolResult, Error> {
        let call = match tool.route(arguments) {
            Ok(call) => call,
            Err(refused) => return Ok(ToolResult::error(refused.to_string(), None)),
        };
        let outcome = match call.model.clone() {
            Some(model) => {
                self.run_unified_tool_call(account_id, &model, call, account_override)
                    .await
            }
            None => self.run_tool_call(account_id, call).await,
        };
        match outcome {
            Ok(content) => Ok(ToolResult::success(content)),
            Err(error @ Error::Store(_)) => Err(error),
            Err(error) => Ok(tool_error(&error)),
        }
    }

    async fn run_tool_call(&self, account_id: &str, call: ToolCall) -> Result<Value, Error> {
        let input = CallInput {
            id: call.id,
            query: call.query,
            body: call.body,
            request_type: Some("mcp"),
            ..CallInput::default()
        };
        if call.list {
            let options = ListOptions {
                limit: call.limit,
                cursor: call.next_cursor,
                cancel: None,
            };
            let page = self
                .list_page(account_id, &call.resource, &call.method, &input, options)
                .await?;
            Ok(json!({"result": page.records, "next_cursor": page.next_cursor}))
        } else {
            let response = self
                .call(account_id, &call.resource, &call.method, &input)
                .await?;
            Ok(response.body)
        }
    }
}

impl Patchbay {
    /// A unified tool's call: `limit` and `next_cursor` join the query as the unified
    /// API reads them; the answer is the unified body.
    async fn run_unified_tool_call(
        &self,
        account_id: &str,
        model: &str,
        call: ToolCall,
        account_override: Option<&AccountOverride>,
    ) -> Result<Value, Error> {
        let mut query = call.query;
        if let Some(limit) = call.limit {
            query.insert("limit".into(), limit.into());
        }
        if let Some(cursor) = call.next_cursor {
            query.insert("next_cursor".into(), cursor.into());
        }
        let request = UnifiedRequest {
            id: call.id,
            query,
            body: call.body,
            ..UnifiedRequest::default()
        };
        let response = self
            .unified_with_override(
                account_id,
                model,
                &call.resource,
                &call.method,
                request,
                account_override,
            )
            .await?;
        Ok(response.body.into_json())
    }
}

/// A failed call as a tool error: the message, the error's kind, and the provider's
/// status and body when it answered with an error.
fn tool_error(error: &Error) -> ToolResult {
    let mut details = Map::new();
    details.insert(
        "kind".into(),
        patchbay_mcp::naming::snake_case(&format!("{:?}", error.kind())).into(),
    );
    if let Some(unified) = error.unified_error() {
        details.insert("status".into(), unified.status.into());
        details.insert("response".into(), unified.body);
    } else if let Some(provider) = error.provider_response() {
        details.insert("status".into(), provider.status.into());
        details.insert("response".into(), provider.body.clone());
    }
    ToolResult::error(error.to_string(), Some(details))
}
