//! Compiling a mapping config once: every JSONata expression and `{{ }}`
//! template parsed at load, every problem reported with its JSON path.

use indexmap::IndexMap;
use patchbay_config::{
    JsonPath, Jsonata, TemplateValue, ValidationError, ValidationErrorKind, ValidationErrors,
};
use patchbay_template::{Expression, ValueTemplate};

use crate::{
    MappingConfig, MethodSelector, ResourceSelector, ResponseMappingMethod, StepConfig, TrutoSchema,
};

/// An integration resource or method: fixed, or chosen per request.
#[derive(Debug, Clone)]
pub enum Selector {
    /// Always this name.
    Fixed(String),
    /// Chosen by an expression, within `allowed` when given.
    Picked {
        /// Returns the name.
        expression: Expression,
        /// The names it may return.
        allowed: Option<Vec<String>>,
    },
}

/// Expressions of one config key from several layers. Each is evaluated on
/// the same input; object results are merged, later layers' keys winning
/// (the account layer of reference §1.3).
#[derive(Debug, Clone, Default)]
pub struct Layered(pub(crate) Vec<Expression>);

impl Layered {
    /// Whether no layer defines the key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The expressions, base first.
    pub fn expressions(&self) -> &[Expression] {
        &self.0
    }
}

/// A compiled `before`/`after` step.
#[derive(Debug, Clone)]
pub struct CompiledStep {
    /// Runs the step only when truthy.
    pub run_if: Option<Expression>,
    /// The call.
    pub call: CompiledStepCall,
}

/// The call of a [`CompiledStep`].
// Built once per mapping at load; boxing the fixed variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum CompiledStepCall {
    /// An expression returning `{resource, method, id?, query?, body?}`.
    Expression(Expression),
    /// A fixed call whose `id`/`query`/`body` are templates.
    Fixed {
        /// Integration resource.
        resource: String,
        /// Integration method.
        method: String,
        /// Id template.
        id: Option<ValueTemplate>,
        /// Query template.
        query: Option<ValueTemplate>,
        /// Body template.
        body: Option<ValueTemplate>,
    },
}

/// A compiled `side_load` entry.
#[derive(Debug, Clone)]
pub struct CompiledSideLoad {
    /// Integration resource.
    pub resource: String,
    /// Integration method.
    pub method: String,
    /// Id template.
    pub id: Option<ValueTemplate>,
    /// Query template.
    pub query: Option<ValueTemplate>,
    /// Maps the call's response.
    pub response_mapping: Option<Expression>,
}

/// A mapping ready to run: the merged config of one (resource, integration,
/// method) with every expression compiled. Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct CompiledMapping {
    pub(crate) resource_name: String,
    pub(crate) method_name: String,
    pub(crate) resource: Selector,
    pub(crate) method: Selector,
    pub(crate) default_query: Option<ValueTemplate>,
    pub(crate) default_body: Option<ValueTemplate>,
    pub(crate) query_schema: Option<TrutoSchema>,
    pub(crate) request_body_schema: Option<TrutoSchema>,
    pub(crate) query_mapping: Layered,
    pub(crate) request_body_mapping: Layered,
    pub(crate) response_mapping: Layered,
    pub(crate) response_mapping_method: ResponseMappingMethod,
    pub(crate) request_header_mapping: Layered,
    pub(crate) response_header_mapping: Layered,
    pub(crate) error_mapping: Layered,
    pub(crate) path_mapping: Option<Expression>,
    pub(crate) is_partial: Option<Expression>,
    pub(crate) before: Vec<CompiledStep>,
    pub(crate) after: Vec<CompiledStep>,
    pub(crate) side_load: IndexMap<String, CompiledSideLoad>,
    pub(crate) documentation_link: Option<String>,
    pub(crate) config: MappingConfig,
    pub(crate) integration: Option<String>,
}

/// Collects compile problems with their paths.
struct Compiler {
    root: JsonPath,
    errors: Vec<ValidationError>,
}

impl Compiler {
    fn expression(&mut self, source: &Jsonata, path: JsonPath) -> Option<Expression> {
        match source.compile() {
            Ok(e) => Some(e),
            Err(e) => {
                self.errors.push(ValidationError {
                    path,
                    kind: ValidationErrorKind::Expression {
                        code: e.code().map(str::to_owned),
                        message: e.to_string(),
                    },
                });
                None
            }
        }
    }

    fn optional(&mut self, source: Option<&Jsonata>, key: &str) -> Option<Expression> {
        source.and_then(|s| self.expression(s, self.root.key(key)))
    }

    fn template(&mut self, value: &TemplateValue, path: JsonPath) -> Option<ValueTemplate> {
        match ValueTemplate::parse(&value.0) {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.push(ValidationError {
                    path,
                    kind: ValidationErrorKind::Placeholder(e),
                });
                None
            }
        }
    }

    fn selector_resource(
        &mut self,
        selector: Option<&ResourceSelector>,
        default: &str,
    ) -> Selector {
        match selector {
            None => Selector::Fixed(default.to_owned()),
            Some(ResourceSelector::Name(name)) => Selector::Fixed(name.clone()),
            Some(ResourceSelector::Expression {
                expression,
                resources,
            }) => self.picked(expression, Some(resources.clone()), "resource", default),
        }
    }

    fn selector_method(&mut self, selector: Option<&MethodSelector>, default: &str) -> Selector {
        match selector {
            None => Selector::Fixed(default.to_owned()),
            Some(MethodSelector::Name(name)) => Selector::Fixed(name.clone()),
            Some(MethodSelector::Expression {
                expression,
                methods,
            }) => self.picked(expression, methods.clone(), "method", default),
        }
    }

    fn picked(
        &mut self,
        source: &Jsonata,
        allowed: Option<Vec<String>>,
        key: &str,
        default: &str,
    ) -> Selector {
        match self.expression(source, self.root.key(key).key("expression")) {
            Some(expression) => Selector::Picked {
                expression,
                allowed,
            },
            None => Selector::Fixed(default.to_owned()),
        }
    }

    fn steps(&mut self, steps: Option<&Vec<crate::Step>>, key: &str) -> Vec<CompiledStep> {
        let mut compiled = Vec::new();
        for (i, step) in steps.into_iter().flatten().enumerate() {
            let path = self.root.key(key).index(i);
            let run_if = step
                .run_if
                .as_ref()
                .and_then(|r| self.expression(r, path.key("run_if")));
            let call = match &step.config {
                StepConfig::Expression(source) => self
                    .expression(source, path.key("config"))
                    .map(CompiledStepCall::Expression),
                StepConfig::Call(call) => {
                    let config = path.key("config");
                    Some(CompiledStepCall::Fixed {
                        resource: call.resource.clone(),
                        method: call.method.clone(),
                        id: call
                            .id
                            .as_ref()
                            .and_then(|t| self.template(t, config.key("id"))),
                        query: call
                            .query
                            .as_ref()
                            .and_then(|t| self.template(t, config.key("query"))),
                        body: call
                            .body
                            .as_ref()
                            .and_then(|t| self.template(t, config.key("body"))),
                    })
                }
            };
            if let Some(call) = call {
                compiled.push(CompiledStep { run_if, call });
            }
        }
        compiled
    }
}

impl CompiledMapping {
    /// Compiles one config for the unified `resource_name`/`method_name` (the
    /// defaults of `config.resource`/`config.method`).
    ///
    /// # Errors
    ///
    /// Every expression that does not compile and template that does not
    /// parse, with its JSON path inside the config.
    pub fn compile(
        resource_name: &str,
        method_name: &str,
        config: &MappingConfig,
    ) -> Result<Self, ValidationErrors> {
        Self::compile_layers(resource_name, method_name, config, None)
    }

    /// Compiles `config` with an account layer whose object-producing
    /// mappings are evaluated beside the config's and merged over their
    /// results (see [`MappingLayers`](crate::MappingLayers)).
    pub(crate) fn compile_layers(
        resource_name: &str,
        method_name: &str,
        config: &MappingConfig,
        account: Option<(&MappingConfig, JsonPath)>,
    ) -> Result<Self, ValidationErrors> {
        let mut c = Compiler {
            root: JsonPath::root(),
            errors: Vec::new(),
        };
        let layered =
            |c: &mut Compiler, pick: fn(&MappingConfig) -> Option<&Jsonata>, key: &str| {
                let mut expressions: Vec<Expression> =
                    c.optional(pick(config), key).into_iter().collect();
                if let Some((account, root)) = &account {
                    let saved = std::mem::replace(&mut c.root, root.clone());
                    expressions.extend(c.optional(pick(account), key));
                    c.root = saved;
                }
                Layered(expressions)
            };
        let query_mapping = layered(&mut c, |m| m.query_mapping.as_ref(), "query_mapping");
        let request_body_mapping = layered(
            &mut c,
            |m| m.request_body_mapping.as_ref(),
            "request_body_mapping",
        );
        let response_mapping = layered(&mut c, |m| m.response_mapping.as_ref(), "response_mapping");
        let request_header_mapping = layered(
            &mut c,
            |m| m.request_header_mapping.as_ref(),
            "request_header_mapping",
        );
        let response_header_mapping = layered(
            &mut c,
            |m| m.response_header_mapping.as_ref(),
            "response_header_mapping",
        );
        let error_mapping = layered(&mut c, |m| m.error_mapping.as_ref(), "error_mapping");

        let resource = c.selector_resource(config.resource.as_ref(), resource_name);
        let method = c.selector_method(config.method.as_ref(), method_name);
        let default_query = config.query.as_ref().and_then(|q| {
            let object: serde_json::Map<String, serde_json::Value> =
                q.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
            c.template(&TemplateValue(object.into()), JsonPath::root().key("query"))
        });
        let default_body = config
            .body
            .as_ref()
            .filter(|b| !b.0.is_null())
            .and_then(|b| c.template(b, JsonPath::root().key("body")));
        let path_mapping = c.optional(config.path_mapping.as_ref(), "path_mapping");
        let is_partial = c.optional(
            config.is_partial_expression.as_ref(),
            "is_partial_expression",
        );
        let before = c.steps(config.before.as_ref(), "before");
        let after = c.steps(config.after.as_ref(), "after");
        let mut side_load = IndexMap::new();
        for (key, entry) in config.side_load.iter().flatten() {
            let path = JsonPath::root().key("side_load").key(key);
            let loaded = CompiledSideLoad {
                resource: entry.resource.clone(),
                method: entry.method.clone(),
                id: entry
                    .id
                    .as_ref()
                    .and_then(|t| c.template(t, path.key("id"))),
                query: entry
                    .query
                    .as_ref()
                    .and_then(|t| c.template(t, path.key("query"))),
                response_mapping: entry
                    .response_mapping
                    .as_ref()
                    .and_then(|r| c.expression(r, path.key("response_mapping"))),
            };
            side_load.insert(key.clone(), loaded);
        }
        if !c.errors.is_empty() {
            return Err(ValidationErrors(c.errors));
        }
        Ok(Self {
            resource_name: resource_name.to_owned(),
            method_name: method_name.to_owned(),
            resource,
            method,
            default_query,
            default_body,
            query_schema: config.query_schema.clone(),
            request_body_schema: config.request_body_schema.clone(),
            query_mapping,
            request_body_mapping,
            response_mapping,
            response_mapping_method: config
                .response_mapping_method
                .unwrap_or(ResponseMappingMethod::Item),
            request_header_mapping,
            response_header_mapping,
            error_mapping,
            path_mapping,
            is_partial,
            before,
            after,
            side_load,
            documentation_link: config.documentation_link.clone(),
            config: config.clone(),
            integration: None,
        })
    }

    /// This mapping, naming the integration it calls (`zendesk`) in the errors
    /// that concern the integration ([`UnifiedError::UnsupportedQuery`](crate::UnifiedError::UnsupportedQuery)).
    #[must_use]
    pub fn with_integration(mut self, integration_name: impl Into<String>) -> Self {
        self.integration = Some(integration_name.into());
        self
    }

    /// The integration named by [`with_integration`](Self::with_integration).
    pub fn integration_name(&self) -> Option<&str> {
        self.integration.as_deref()
    }

    /// The unified resource this mapping serves.
    pub fn resource_name(&self) -> &str {
        &self.resource_name
    }

    /// The unified method this mapping serves.
    pub fn method_name(&self) -> &str {
        &self.method_name
    }

    /// Whether any layer has a `response_header_mapping` (a host keeps the
    /// provider's body for [`map_response_headers`](Self::map_response_headers) only then).
    pub fn maps_response_headers(&self) -> bool {
        !self.response_header_mapping.is_empty()
    }

    /// The merged config (base and environment layers; the account layer's
    /// non-expression keys included), as the meta endpoints show it.
    pub fn config(&self) -> &MappingConfig {
        &self.config
    }

    /// The compiled `before` steps, in order.
    pub fn before_steps(&self) -> &[CompiledStep] {
        &self.before
    }

    /// The compiled `after` steps, in order.
    pub fn after_steps(&self) -> &[CompiledStep] {
        &self.after
    }

    /// The compiled `side_load` entries.
    pub fn side_loads(&self) -> &IndexMap<String, CompiledSideLoad> {
        &self.side_load
    }

    /// `documentation_link`, when set.
    pub fn documentation_link(&self) -> Option<&str> {
        self.documentation_link.as_deref()
    }
}
