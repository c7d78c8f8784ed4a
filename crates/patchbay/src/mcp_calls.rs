//! MCP tools of an account: [`Patchbay::mcp_tools`] and [`Patchbay::call_tool`].

use patchbay_executor::{CallInput, ListOptions};
use patchbay_mcp::{Tool, ToolCall, ToolFilter, ToolResult};
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
    /// (see [`install_named`](Self::install_named) and [`mcp`](crate::mcp)).
    ///
    /// # Errors
    ///
    /// Unknown account or integration; the account store's failure.
    pub async fn mcp_tools(
        &self,
        account_id: &str,
        filter: &ToolFilter,
    ) -> Result<Vec<Tool>, Error> {
        let (_, installed, _) = self.load(account_id).await?;
        Ok(installed
            .tools()
            .iter()
            .filter(|tool| filter.matches(tool))
            .cloned()
            .collect())
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
        let (_, installed, _) = self.load(account_id).await?;
        let tool = installed
            .tools()
            .iter()
            .find(|tool| tool.name == name)
            .ok_or_else(|| Error::UnknownTool(name.to_owned()))?;
        let call = match tool.route(arguments) {
            Ok(call) => call,
            Err(refused) => return Ok(ToolResult::error(refused.to_string(), None)),
        };
        match self.run_tool_call(account_id, call).await {
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

/// A failed call as a tool error: the message, the error's kind, and the provider's
/// status and body when it answered with an error.
fn tool_error(error: &Error) -> ToolResult {
    let mut details = Map::new();
    details.insert(
        "kind".into(),
        patchbay_mcp::naming::snake_case(&format!("{:?}", error.kind())).into(),
    );
    if let Some(provider) = error.provider_response() {
        details.insert("status".into(), provider.status.into());
        details.insert("response".into(), provider.body.clone());
    }
    ToolResult::error(error.to_string(), Some(details))
}
