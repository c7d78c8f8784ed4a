//! The integration config: the top-level object.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::authorization::Authorization;
use crate::credentials::Credentials;
use crate::languages::{Jsonata, TemplateString, TemplateValue, UrlTemplateString};
use crate::nullable::Nullable;
use crate::pagination::Pagination;
use crate::rate_limit::RateLimit;
use crate::resource::{HttpMethod, QueryArrayFormat, Resource, ResourceMethod};
use crate::webhook::WebhookConfig;

/// A Truto-format integration config (`integration.config`).
///
/// Load one with [`crate::load_integration_config`] (validates and reports every
/// problem with its JSON path) or deserialize it directly with serde (no
/// semantic checks). Serializing gives back the same JSON (key order aside).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Patchbay integration config (Truto format)")]
pub struct IntegrationConfig {
    /// Prepended to every method path; may hold placeholders
    /// (`https://{{subdomain}}.zendesk.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<UrlTemplateString>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Logo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// Icon URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Headers sent with every request (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, Option<TemplateString>>>,
    /// Query parameters sent with every request (placeholders allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<IndexMap<String, Option<TemplateValue>>>,
    /// How array query values are written (see [`QueryArrayFormat`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_array_format: Option<QueryArrayFormat>,
    /// Named actions (`post_install`, `validation`, custom ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<IndexMap<String, Action>>,
    /// How accounts authenticate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Credentials>,
    /// How requests carry the credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Default pagination of list methods.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub pagination: Nullable<Pagination>,
    /// Rate-limit detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Resources and their methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<IndexMap<String, Resource>>,
    /// Inbound webhooks from the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookConfig>,
    /// JSONata evaluated on every response; a truthy result makes it an error
    /// (catches 200-with-error bodies). A string result is the error message.
    /// Sees `response`, `headers`, `status`, `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_expression: Option<Jsonata>,
    /// Tags per resource, for filtering tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_tags: Option<IndexMap<String, Vec<String>>>,
}

/// A resource method with the integration's settings layered under it.
///
/// Method-level settings win: headers and query are merged (a `null` value
/// removes an inherited entry), `pagination: null` disables inherited
/// pagination, and a method's `error_expression` replaces the integration's.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedMethod<'a> {
    /// The resource name.
    pub resource: &'a str,
    /// The method name.
    pub name: &'a str,
    /// The method as written.
    pub method: &'a ResourceMethod,
    /// HTTP method (default GET).
    pub http_method: HttpMethod,
    /// The method's base URL, else the integration's.
    pub base_url: Option<&'a UrlTemplateString>,
    /// Integration headers, then method headers; `null` entries removed.
    pub headers: IndexMap<&'a str, &'a TemplateString>,
    /// Integration query, then method query; `null` entries removed.
    pub query: IndexMap<&'a str, &'a TemplateValue>,
    /// The method's format, else the integration's.
    pub query_array_format: Option<QueryArrayFormat>,
    /// The effective pagination (`None`: not paginated).
    pub pagination: Option<&'a Pagination>,
    /// The effective authorization (`None` with `no_auth`).
    pub authorization: Option<&'a Authorization>,
    /// The effective rate-limit detection.
    pub rate_limit: Option<&'a RateLimit>,
    /// The effective error expression.
    pub error_expression: Option<&'a Jsonata>,
}

impl IntegrationConfig {
    /// A resource method with the integration's settings layered under it, or
    /// `None` when the resource or method does not exist.
    ///
    /// ```
    /// # use patchbay_config::load_integration_config;
    /// let config = load_integration_config(r#"{
    ///   "base_url": "https://api.example.com",
    ///   "headers": {"Accept": "application/json", "X-Trace": "1"},
    ///   "pagination": {"format": "page", "config": {"page_key": "page"}},
    ///   "resources": {"users": {
    ///     "list": {"path": "/users", "headers": {"X-Trace": null}},
    ///     "get": {"path": "/users/{{id}}", "pagination": null}
    ///   }}
    /// }"#).unwrap();
    /// let list = config.method("users", "list").unwrap();
    /// assert_eq!(list.headers.keys().copied().collect::<Vec<_>>(), ["Accept"]);
    /// assert!(list.pagination.is_some());
    /// assert!(config.method("users", "get").unwrap().pagination.is_none());
    /// ```
    pub fn method<'a>(&'a self, resource: &'a str, name: &'a str) -> Option<ResolvedMethod<'a>> {
        let method = self.resources.as_ref()?.get(resource)?.get(name)?;
        Some(self.resolve(resource, name, method))
    }

    /// Layers the integration's settings under any method object, e.g. the
    /// `config` of an action's `request` step, with the same rules as
    /// [`method`](Self::method). `resource` and `name` only label it.
    pub fn resolve<'a>(
        &'a self,
        resource: &'a str,
        name: &'a str,
        method: &'a ResourceMethod,
    ) -> ResolvedMethod<'a> {
        ResolvedMethod {
            resource,
            name,
            method,
            http_method: method.method.unwrap_or(HttpMethod::Get),
            base_url: method.base_url.as_ref().or(self.base_url.as_ref()),
            headers: merge_entries(self.headers.as_ref(), method.headers.as_ref()),
            query: merge_entries(self.query.as_ref(), method.query.as_ref()),
            query_array_format: method.query_array_format.or(self.query_array_format),
            pagination: method.pagination.or_inherit(self.pagination.as_value()),
            authorization: if method.no_auth == Some(true) {
                None
            } else {
                method
                    .authorization
                    .as_ref()
                    .or(self.authorization.as_ref())
            },
            rate_limit: method.rate_limit.as_ref().or(self.rate_limit.as_ref()),
            error_expression: method
                .error_expression
                .as_ref()
                .or(self.error_expression.as_ref()),
        }
    }

    /// Every `(resource, method)` name pair, in config order.
    pub fn method_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.resources
            .iter()
            .flatten()
            .flat_map(|(r, methods)| methods.keys().map(move |m| (r.as_str(), m.as_str())))
    }
}

fn merge_entries<'a, T>(
    base: Option<&'a IndexMap<String, Option<T>>>,
    overlay: Option<&'a IndexMap<String, Option<T>>>,
) -> IndexMap<&'a str, &'a T> {
    let mut merged: IndexMap<&'a str, &'a T> = IndexMap::new();
    for layer in [base, overlay].into_iter().flatten() {
        for (key, value) in layer {
            // Header names are case-insensitive: a method's `accept` replaces an inherited `Accept`.
            if let Some(existing) = merged.keys().find(|k| k.eq_ignore_ascii_case(key)).copied() {
                merged.shift_remove(existing);
            }
            if let Some(value) = value {
                merged.insert(key.as_str(), value);
            }
        }
    }
    merged
}
