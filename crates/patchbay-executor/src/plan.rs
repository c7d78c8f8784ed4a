//! An integration compiled once: every method's templates, authorizer,
//! paginator and policies built up front, shared by every call.

use std::collections::HashMap;
use std::sync::Arc;

use patchbay_auth::Authorizer;
use patchbay_config::{IntegrationConfig, ResolvedMethod, ResourceMethod};
use patchbay_pagination::{DottedPath, Paginator};
use patchbay_ratelimit::{ErrorPolicy, RateLimitPolicy};

use crate::ExecutorError;
use crate::method::CompiledMethod;
use crate::response::ResponseFormat;

/// One method ready to run.
#[derive(Debug)]
pub struct MethodPlan {
    /// The resource and method names, for call reports.
    pub(crate) resource: String,
    pub(crate) name: String,
    pub(crate) method: CompiledMethod,
    pub(crate) authorizer: Option<Authorizer>,
    pub(crate) paginator: Option<Paginator>,
    pub(crate) rate_limit: RateLimitPolicy,
    pub(crate) errors: ErrorPolicy,
    pub(crate) response_path: Option<DottedPath>,
    pub(crate) response_format: ResponseFormat,
    pub(crate) strict_parse: bool,
    pub(crate) no_auth: bool,
    pub(crate) ignore_credentials_on_redirect: bool,
    pub(crate) ignore_body_in_pagination: bool,
}

impl MethodPlan {
    /// Builds the plan of a resolved method.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Config`] naming the method when a part does not compile.
    pub fn new(resolved: &ResolvedMethod<'_>) -> Result<Self, ExecutorError> {
        let label = format!("{}.{}", resolved.resource, resolved.name);
        let config_error = |what: &str, e: &dyn std::fmt::Display| {
            ExecutorError::Config(format!("{label}: {what}: {e}"))
        };
        let method = resolved.method;
        Ok(Self {
            resource: resolved.resource.to_owned(),
            name: resolved.name.to_owned(),
            method: CompiledMethod::compile(resolved)?,
            authorizer: resolved
                .authorization
                .map(Authorizer::new)
                .transpose()
                .map_err(|e| config_error("authorization", &e))?,
            paginator: resolved
                .pagination
                .map(|p| Paginator::new(p, method.pagination_path.as_deref()))
                .transpose()
                .map_err(|e| config_error("pagination", &e))?,
            rate_limit: RateLimitPolicy::new(resolved.rate_limit)
                .map_err(|e| config_error("rate_limit", &e))?,
            errors: ErrorPolicy::new(resolved.error_expression)
                .map_err(|e| config_error("error_expression", &e))?,
            response_path: method
                .response_path
                .as_deref()
                .map(DottedPath::parse)
                .transpose()
                .map_err(|e| config_error("response_path", &e))?,
            response_format: ResponseFormat::from_config(method.api_response_format.as_deref()),
            strict_parse: method.throw_error_on_parse_error.unwrap_or(true),
            no_auth: method.no_auth == Some(true),
            ignore_credentials_on_redirect: method.ignore_credentials_on_redirect == Some(true),
            ignore_body_in_pagination: method.ignore_body_in_pagination == Some(true),
        })
    }

    /// The HTTP method the plan sends.
    pub fn http_method(&self) -> patchbay_config::HttpMethod {
        self.method.http_method()
    }

    /// Whether the method paginates.
    pub fn is_paginated(&self) -> bool {
        self.paginator.is_some()
    }
}

/// The name of an integration compiled without [`CompiledIntegration::with_name`].
const UNNAMED: &str = "unnamed";

/// A validated integration config with every method compiled.
///
/// Build once when the config is loaded; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct CompiledIntegration {
    config: Arc<IntegrationConfig>,
    methods: Arc<HashMap<(String, String), Arc<MethodPlan>>>,
    name: Arc<str>,
}

impl CompiledIntegration {
    /// Compiles every resource method of `config`.
    ///
    /// # Errors
    ///
    /// The first method that does not compile (validated configs compile).
    pub fn new(config: IntegrationConfig) -> Result<Self, ExecutorError> {
        let mut methods = HashMap::new();
        for (resource, name) in config.method_names() {
            let resolved = config.method(resource, name).expect("listed method exists");
            methods.insert(
                (resource.to_owned(), name.to_owned()),
                Arc::new(MethodPlan::new(&resolved)?),
            );
        }
        Ok(Self {
            config: Arc::new(config),
            methods: Arc::new(methods),
            name: Arc::from(UNNAMED),
        })
    }

    /// The same integration under `name` (e.g. `github`): the `integration` label of the
    /// metrics its calls record ([`telemetry`](crate::telemetry)). Without one it is
    /// `unnamed`.
    #[must_use]
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }

    /// The name given by [`with_name`](Self::with_name) (`unnamed` by default).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The config.
    pub fn config(&self) -> &IntegrationConfig {
        &self.config
    }

    /// The plan of a resource method.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::UnknownMethod`] when the config has no such method.
    pub fn plan(&self, resource: &str, method: &str) -> Result<Arc<MethodPlan>, ExecutorError> {
        self.methods
            .get(&(resource.to_owned(), method.to_owned()))
            .cloned()
            .ok_or_else(|| ExecutorError::UnknownMethod {
                resource: resource.to_owned(),
                method: method.to_owned(),
            })
    }

    /// Plans an ad-hoc method object (an action's `request` step) with the
    /// integration's settings layered under it.
    ///
    /// # Errors
    ///
    /// [`ExecutorError::Config`] when it does not compile.
    pub fn plan_ad_hoc(
        &self,
        label: &str,
        method: &ResourceMethod,
    ) -> Result<MethodPlan, ExecutorError> {
        MethodPlan::new(&self.config.resolve("actions", label, method))
    }
}
