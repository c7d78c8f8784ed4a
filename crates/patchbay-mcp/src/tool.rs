//! [`Tool`] and [`tools`]: one tool per resource × method of a config.

use patchbay_config::{HttpMethod, IntegrationConfig, ResourceMethod};
use serde_json::{Map, Value};

use crate::MethodKind;
use crate::arguments::{self, ArgumentError, ToolCall};
use crate::naming::{singular, snake_case, tool_name};
use crate::placeholders::Inputs;
use crate::schema::{Routing, SchemaBuilder};

/// One MCP tool: a method of a resource of an integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// The tool's name (see [`naming`](crate::naming)); unique within one config's tools.
    pub name: String,
    /// What the tool does, how it pages and what it returns.
    pub description: String,
    /// The JSON Schema of the arguments: `{type: "object", properties, required?}`.
    pub input_schema: Map<String, Value>,
    /// The unified model of a unified tool ([`unified_tool`](crate::unified_tool));
    /// `None` for the integration's own (proxy) tools.
    pub model: Option<String>,
    /// The config's resource (the unified model's resource for a unified tool).
    pub resource: String,
    /// The resource's method.
    pub method: String,
    /// The method's kind, for filters.
    pub kind: MethodKind,
    /// The resource's `tool_tags`.
    pub tags: Vec<String>,
    pub(crate) routing: Routing,
}

impl Tool {
    /// The method call these `arguments` make: `id` is the record id, `limit` and
    /// `next_cursor` page a list, keys of the method's query (schema or `{{query.x}}`)
    /// are query parameters, keys of its body are body fields, and any other argument
    /// goes to the body of a method that sends one (POST, PUT, PATCH) and to the query
    /// otherwise.
    ///
    /// # Errors
    ///
    /// [`ArgumentError`] naming the argument: a missing `id` for a tool that addresses one
    /// record, an `id`, `limit` or `next_cursor` of the wrong type.
    pub fn route(&self, arguments: &Map<String, Value>) -> Result<ToolCall, ArgumentError> {
        let mut call = arguments::route(&self.resource, &self.method, &self.routing, arguments)?;
        call.model = self.model.clone();
        Ok(call)
    }
}

/// Gives every tool of `tools` a unique name, in order: a name already taken gets the
/// smallest numeric suffix (`_2`, `_3`, ...) that makes it unique. [`tools`] does this
/// for one config; a host that lists proxy and unified tools together does it again.
///
/// ```
/// # use patchbay_mcp::{tools, unique_names};
/// # let config = patchbay_config::load_integration_config(r#"{"base_url": "https://x.test",
/// #     "resources": {"tickets": {"list": {"path": "/t"}}}}"#).unwrap();
/// let mut all = tools("zendesk", &config);
/// all.extend(tools("zendesk", &config));
/// unique_names(&mut all);
/// assert_eq!(all[1].name, "list_all_zendesk_tickets_2");
/// ```
pub fn unique_names(tools: &mut [Tool]) {
    for i in 1..tools.len() {
        let (before, rest) = tools.split_at_mut(i);
        let tool = &mut rest[0];
        let base = tool.name.clone();
        let mut n = 2;
        while before.iter().any(|t| t.name == tool.name) {
            tool.name = format!("{base}_{n}");
            n += 1;
        }
    }
}

/// The tools of every resource × method of `config`, in the config's order, for the
/// integration named `integration` (the name in tool names, e.g. `zendesk`).
///
/// Two methods whose names would collide (`pull-requests` and `pull_requests`) get the
/// second a numeric suffix, so names stay unique.
pub fn tools(integration: &str, config: &IntegrationConfig) -> Vec<Tool> {
    let label = config
        .label
        .clone()
        .unwrap_or_else(|| integration.to_owned());
    let mut tools: Vec<Tool> = Vec::new();
    for (resource, methods) in config.resources.iter().flatten() {
        let tags = config
            .tool_tags
            .as_ref()
            .and_then(|t| t.get(resource))
            .cloned()
            .unwrap_or_default();
        for (method, definition) in methods {
            tools.push(tool(
                integration,
                &label,
                resource,
                method,
                definition,
                &tags,
            ));
        }
    }
    unique_names(&mut tools);
    tools
}

fn tool(
    integration: &str,
    label: &str,
    resource: &str,
    method: &str,
    definition: &ResourceMethod,
    tags: &[String],
) -> Tool {
    let inputs = Inputs::of(definition);
    let kind = MethodKind::of(method);
    let list = method == "list";
    let takes_id = inputs.id || matches!(method, "get" | "update" | "delete");
    let http = definition.method.unwrap_or(HttpMethod::Get);
    let sends_body = matches!(http, HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch);

    let mut schema = SchemaBuilder::default();
    if takes_id {
        schema.id();
    }
    if list {
        schema.pagination();
    }
    let query_keys = match &definition.query_schema {
        Some(query_schema) => schema.add_schema(query_schema),
        None => schema.add_placeholders(&inputs.query, "query parameter"),
    };
    let body_keys = match &definition.body_schema {
        Some(body_schema) => schema.add_schema(body_schema),
        None => schema.add_placeholders(&inputs.body, "body field"),
    };
    let routing = Routing {
        takes_id,
        accepts_id: takes_id,
        list,
        query_keys,
        body_keys,
        extra_to_body: sends_body || inputs.whole_body,
    };
    Tool {
        name: tool_name(integration, resource, method, takes_id),
        description: description(label, resource, method, definition, &routing),
        input_schema: schema.build(),
        model: None,
        resource: resource.to_owned(),
        method: method.to_owned(),
        kind,
        tags: tags.to_vec(),
        routing,
    }
}

fn description(
    label: &str,
    resource: &str,
    method: &str,
    definition: &ResourceMethod,
    routing: &Routing,
) -> String {
    let records = snake_case(resource).replace('_', " ");
    let one = singular(&snake_case(resource)).replace('_', " ");
    let mut text = match definition.description.as_deref().map(str::trim) {
        Some(own) if !own.is_empty() => own.to_owned(),
        _ => match method {
            "list" => format!("List the {records} of {label}."),
            "get" => format!("Get one {one} of {label} by its id."),
            "create" => format!("Create a {one} in {label}."),
            "update" => format!("Update a {one} of {label} by its id."),
            "delete" => format!("Delete a {one} of {label} by its id."),
            custom => format!("Run the `{custom}` method of the {records} of {label}."),
        },
    };
    if let Some(url) = &definition.api_documentation_url {
        text.push_str(&format!(" Provider documentation: {url}"));
    }
    if routing.list {
        text.push_str(
            " Returns one page: {\"result\": [records], \"next_cursor\": string or null}.",
        );
        text.push_str(PAGING);
    } else {
        text.push_str(" Returns the provider's response as JSON.");
    }
    push_extra_arguments(&mut text, routing);
    text
}

/// How to page a list tool, after the sentence that says what a page holds.
pub(crate) const PAGING: &str = " To read the next page, call again with the same arguments \
     and `next_cursor` set to the returned `next_cursor`; it is null on the last page. \
     `limit` sets the page size (the provider may cap it).";

/// Says where arguments the schema does not list go.
pub(crate) fn push_extra_arguments(text: &mut String, routing: &Routing) {
    let extra = if routing.extra_to_body {
        "request body"
    } else {
        "query"
    };
    text.push_str(&format!(
        " Arguments not listed in the schema are sent in the {extra}."
    ));
}
