//! Tools of unified models: one per unified resource × method an account's install maps.

use serde_json::Value;

use crate::naming::{singular, snake_case, tool_name};
use crate::schema::{Routing, SchemaBuilder};
use crate::tool::{PAGING, push_extra_arguments};
use crate::{MethodKind, Tool};

/// The tag every unified tool carries, so a [`ToolFilter`](crate::ToolFilter) with
/// `tags(["unified"])` selects only unified tools.
pub const UNIFIED_TAG: &str = "unified";

/// A unified method, as [`unified_tool`] needs it: where it is and the JSON Schemas
/// (standard JSON Schema, not Truto's dialect) of its inputs.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct UnifiedMethod<'a> {
    /// The unified model's name, e.g. `crm`.
    pub model: &'a str,
    /// The model's resource, e.g. `contacts`.
    pub resource: &'a str,
    /// The unified method: `list`, `get`, `create`, `update`, `delete` or a custom one.
    pub method: &'a str,
    /// What the resource is (the model's description of it).
    pub description: Option<&'a str>,
    /// Where the method is documented.
    pub documentation_url: Option<&'a str>,
    /// The mapping's `query_schema`: the query parameters the method reads.
    pub query_schema: Option<&'a Value>,
    /// The mapping's `request_body_schema`: the body the method reads.
    pub body_schema: Option<&'a Value>,
    /// The unified record's schema: the body fields of `create` and `update` when the
    /// mapping has no `request_body_schema` (none of them required).
    pub record_schema: Option<&'a Value>,
}

impl<'a> UnifiedMethod<'a> {
    /// The method `method` of `model`'s `resource`, with no description or schemas.
    pub fn new(model: &'a str, resource: &'a str, method: &'a str) -> Self {
        Self {
            model,
            resource,
            method,
            description: None,
            documentation_url: None,
            query_schema: None,
            body_schema: None,
            record_schema: None,
        }
    }

    /// With the resource's description.
    #[must_use]
    pub fn description(mut self, description: Option<&'a str>) -> Self {
        self.description = description;
        self
    }

    /// With the method's documentation link.
    #[must_use]
    pub fn documentation_url(mut self, url: Option<&'a str>) -> Self {
        self.documentation_url = url;
        self
    }

    /// With the mapping's query and body schemas (JSON Schema).
    #[must_use]
    pub fn schemas(mut self, query: Option<&'a Value>, body: Option<&'a Value>) -> Self {
        self.query_schema = query;
        self.body_schema = body;
        self
    }

    /// With the unified record's schema (JSON Schema).
    #[must_use]
    pub fn record_schema(mut self, schema: Option<&'a Value>) -> Self {
        self.record_schema = schema;
        self
    }
}

/// The tool of a unified method, named like proxy tools with the model in place of the
/// integration (`list_all_crm_contacts`, `get_single_crm_contact_by_id`,
/// `create_a_crm_contact`, ...), tagged [`UNIFIED_TAG`] and the model's name.
///
/// Its input schema: `id` (required for `get`, `update`, `delete`; optional for custom
/// methods), `limit` and `next_cursor` for `list`, the properties of the mapping's
/// `query_schema` (sent as query parameters) and of its `request_body_schema` (sent in
/// the body), or, for `create` and `update` without a body schema, the record's fields.
/// Arguments the schema does not list go to the body of `create`, `update` and methods
/// with a body schema, and to the query otherwise. [`Tool::route`] gives a
/// [`ToolCall`](crate::ToolCall) whose `model` is set: the host runs it as a unified call.
///
/// ```
/// use patchbay_mcp::{UnifiedMethod, unified_tool};
/// use serde_json::json;
///
/// let query = json!({"properties": {"search": {"type": "string"}}});
/// let list = unified_tool(&UnifiedMethod::new("crm", "contacts", "list").schemas(Some(&query), None));
/// assert_eq!(list.name, "list_all_crm_contacts");
/// assert_eq!(list.model.as_deref(), Some("crm"));
///
/// let record = json!({"properties": {"first_name": {"type": "string"}}});
/// let create = unified_tool(&UnifiedMethod::new("crm", "contacts", "create").record_schema(Some(&record)));
/// let call = create.route(json!({"first_name": "Ada"}).as_object().unwrap()).unwrap();
/// assert_eq!(call.body, Some(json!({"first_name": "Ada"})));
/// ```
pub fn unified_tool(source: &UnifiedMethod<'_>) -> Tool {
    let method = source.method;
    let kind = MethodKind::of(method);
    let list = method == "list";
    let takes_id = matches!(method, "get" | "update" | "delete");
    let accepts_id = takes_id || kind == MethodKind::Custom;
    let writes_record = matches!(method, "create" | "update");

    let mut schema = SchemaBuilder::default();
    if takes_id {
        schema.id();
    } else if accepts_id {
        schema.optional_id();
    }
    if list {
        schema.pagination();
    }
    let query_keys = source
        .query_schema
        .map(|s| schema.add_schema(s))
        .unwrap_or_default();
    let body_keys = match (source.body_schema, source.record_schema) {
        (Some(body), _) => schema.add_schema(body),
        (None, Some(record)) if writes_record => schema.add_optional_schema(record),
        _ => Vec::new(),
    };
    let routing = Routing {
        takes_id,
        accepts_id,
        list,
        query_keys,
        body_keys,
        extra_to_body: writes_record || source.body_schema.is_some(),
    };
    Tool {
        name: tool_name(source.model, source.resource, method, takes_id),
        description: description(source, &routing),
        input_schema: schema.build(),
        model: Some(source.model.to_owned()),
        resource: source.resource.to_owned(),
        method: method.to_owned(),
        kind,
        tags: vec![UNIFIED_TAG.to_owned(), source.model.to_owned()],
        routing,
    }
}

fn description(source: &UnifiedMethod<'_>, routing: &Routing) -> String {
    let records = snake_case(source.resource).replace('_', " ");
    let one = singular(&snake_case(source.resource)).replace('_', " ");
    let api = format!("the unified `{}` API", source.model);
    let mut text = match source.method {
        "list" => format!("List the {records} through {api}."),
        "get" => format!("Get one {one} by its id through {api}."),
        "create" => format!("Create a {one} through {api}."),
        "update" => format!("Update a {one} by its id through {api}."),
        "delete" => format!("Delete a {one} by its id through {api}."),
        custom => format!("Run the `{custom}` method of the {records} through {api}."),
    };
    text.push_str(
        " Records have the same fields whichever tool the account is connected to; \
         `remote_data` holds the provider's original record.",
    );
    if let Some(about) = source.description.map(str::trim).filter(|d| !d.is_empty()) {
        text.push_str(&format!(" About {records}: {about}"));
        if !about.ends_with('.') {
            text.push('.');
        }
    }
    if let Some(url) = source.documentation_url {
        text.push_str(&format!(" Documentation: {url}"));
    }
    if routing.list {
        text.push_str(
            " Returns one page: {\"result\": [records], \"next_cursor\": string or null, \
             \"result_count\": number}.",
        );
        text.push_str(PAGING);
    } else {
        text.push_str(" Returns the unified record (or the method's result) as JSON.");
    }
    push_extra_arguments(&mut text, routing);
    text
}
