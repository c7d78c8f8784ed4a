//! `resources`: the methods an integration exposes.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::authorization::Authorization;
use crate::languages::{Jsonata, TemplateString, TemplateValue, UrlTemplateString};
use crate::nullable::Nullable;
use crate::pagination::Pagination;
use crate::rate_limit::RateLimit;

/// The methods of one resource, by name. `list`, `get`, `create`, `update` and
/// `delete` map to the proxy API's verbs; any other name is a custom method.
pub type Resource = IndexMap<String, ResourceMethod>;

/// One method of a resource: how to make the provider request.
///
/// Settings left out inherit the integration's (`base_url`, `headers`, `query`,
/// `query_array_format`, `pagination`, `authorization`, `rate_limit`,
/// `error_expression`); see [`IntegrationConfig::method`](crate::IntegrationConfig::method).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceMethod {
    /// Path appended to the base URL, with placeholders: `{{id}}` is the record
    /// id, `{{query.x}}` a caller query parameter, context keys at the top level.
    pub path: UrlTemplateString,
    /// HTTP method. Default `get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Overrides the integration's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<UrlTemplateString>,
    /// Headers merged over the integration's; `null` removes an inherited header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, Option<TemplateString>>>,
    /// Query parameters merged over the integration's; `null` removes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<IndexMap<String, Option<TemplateValue>>>,
    /// How array query values are written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_array_format: Option<QueryArrayFormat>,
    /// The request body (placeholders in string leaves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateValue>,
    /// Body encoding. Default `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_format: Option<BodyFormat>,
    /// Options of the body format (e.g. XML root element).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_format_config: Option<Value>,
    /// Dotted path of the records (or record) in the response body; default the whole body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_path: Option<String>,
    /// Dotted path of the object that pagination paths are relative to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination_path: Option<String>,
    /// Overrides the integration's pagination; `null` disables it.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub pagination: Nullable<Pagination>,
    /// Overrides the integration's authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Overrides the integration's rate-limit detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Send the caller's query parameters in the body (search endpoints that POST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_query_to_body: Option<bool>,
    /// Send the method's body with the first page request only (follow-up
    /// pages, and a call resumed from a cursor, send no body of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_body_in_pagination: Option<bool>,
    /// Never send a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_body: Option<bool>,
    /// Send `null` as the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_body_to_null: Option<bool>,
    /// Send no authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_auth: Option<bool>,
    /// Drop credentials on every redirect hop, same origin included (a hop to
    /// another origin always drops them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_credentials_on_redirect: Option<bool>,
    /// How to read the response: `json` (default), `xml`, `text`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_response_format: Option<String>,
    /// Fail when the response cannot be parsed in `api_response_format`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throw_error_on_parse_error: Option<bool>,
    /// Replaces (does not merge with) the integration's `error_expression`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_expression: Option<Jsonata>,
    /// What the method does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Link to the provider's documentation of the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_documentation_url: Option<String>,
    /// OAuth scopes the method needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Example request and response texts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<MethodExamples>,
    /// Legacy JSON Schema of the accepted query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_schema: Option<Value>,
    /// Legacy JSON Schema of the accepted body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_schema: Option<Value>,
    /// Legacy JSON Schema of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_schema: Option<Value>,
}

/// Example texts of a method (JSON written as strings).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodExamples {
    /// An example response body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// An example query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// An example request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// HTTP methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
}

impl HttpMethod {
    /// The method name in upper case, as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
        }
    }

    /// Whether repeating the request has no additional effect (RFC 9110 §9.2.2),
    /// which makes it safe to retry automatically.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Self::Post | Self::Patch)
    }
}

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// The body string as is (a handlebars text template when it uses `{{#...}}`).
    Raw,
    /// XML built from the body object.
    Xml,
}

/// How array values are written in query strings (the `qs` library's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueryArrayFormat {
    /// `a=1,2`
    Comma,
    /// `a[]=1&a[]=2`
    Brackets,
    /// `a[0]=1&a[1]=2`
    Indices,
    /// `a=1&a=2`
    Repeat,
}
