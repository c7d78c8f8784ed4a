//! Mapping rows and their `config`: how one unified method runs on one integration.

use indexmap::IndexMap;
use patchbay_config::{Jsonata, TemplateValue, ValidationErrors};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{CompiledMapping, TrutoSchema};

/// One stored mapping row: the `config` of (`resource_name`, `integration_name`,
/// `method_name`) in a unified model (base row) or an environment's installed
/// model (override row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Patchbay unified mapping row (Truto format)")]
pub struct MappingRow {
    /// The row's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The unified model of a base row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified_model_id: Option<String>,
    /// The installed model of an environment override row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_unified_model_id: Option<String>,
    /// The unified resource, e.g. `contacts`.
    pub resource_name: String,
    /// The integration, e.g. `hubspot`.
    pub integration_name: String,
    /// The unified method, e.g. `list` or a custom method.
    pub method_name: String,
    /// What to do (partial in an override row).
    #[serde(default)]
    pub config: MappingConfig,
    /// Row version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl MappingRow {
    /// Compiles the row's config (see [`CompiledMapping::compile`]).
    ///
    /// # Errors
    ///
    /// Every expression or template that does not compile, with its path in the config.
    pub fn compile(&self) -> Result<CompiledMapping, ValidationErrors> {
        CompiledMapping::compile(&self.resource_name, &self.method_name, &self.config)
    }
}

/// A mapping row's `config`. Every key is optional, so the same type is a
/// whole base config or a partial override layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// The integration resource to call; defaults to the unified resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceSelector>,
    /// The integration method to call; defaults to the unified method name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MethodSelector>,
    /// Query always sent (`default_query`); string leaves may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<IndexMap<String, TemplateValue>>,
    /// Body always sent (`default_body`); string leaves may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateValue>,
    /// The unified query parameters this mapping supports; `required: true` ones
    /// are checked before any call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_schema: Option<TrutoSchema>,
    /// The unified body this mapping accepts; `required: true` fields are
    /// checked before any call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_schema: Option<TrutoSchema>,
    /// Unified query → integration query (object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_mapping: Option<Jsonata>,
    /// Unified body → integration body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_mapping: Option<Jsonata>,
    /// Raw record(s) → unified record(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mapping: Option<Jsonata>,
    /// Evaluate `response_mapping` once per record (`item`, the default) or
    /// once on the whole array (`array`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mapping_method: Option<ResponseMappingMethod>,
    /// Computes the upstream path (a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_mapping: Option<Jsonata>,
    /// Computes headers to send (object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_mapping: Option<Jsonata>,
    /// Computes the unified response's headers (object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_mapping: Option<Jsonata>,
    /// Upstream error → unified error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_mapping: Option<Jsonata>,
    /// Whether a list page holds partial records (`is_partial_response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_partial_expression: Option<Jsonata>,
    /// Integration calls made before the main one; their results are bound as `before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Vec<Step>>,
    /// Integration calls made after the main one; the response is bound as `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Vec<Step>>,
    /// Per-record enrichment calls, by the key they fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_load: Option<IndexMap<String, SideLoad>>,
    /// Vendor documentation URL surfaced by the meta endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_link: Option<String>,
}

/// `config.resource`: a name, or a JSONata picker within an allow-list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ResourceSelector {
    /// Always this integration resource.
    Name(String),
    /// Chosen per request.
    Expression {
        /// Returns the resource name (bindings `query`, `rawQuery`, `body`, `context`).
        expression: Jsonata,
        /// The names the expression may return.
        resources: Vec<String>,
    },
}

/// `config.method`: a name, or a JSONata picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MethodSelector {
    /// Always this integration method.
    Name(String),
    /// Chosen per request.
    Expression {
        /// Returns the method name (bindings `query`, `rawQuery`, `body`, `context`).
        expression: Jsonata,
        /// The names the expression may return; any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        methods: Option<Vec<String>>,
    },
}

/// How `response_mapping` is applied to a list of raw records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResponseMappingMethod {
    /// Once on the whole array; outputs pair with inputs by position.
    Array,
    /// Once per record (the default).
    Item,
}

/// A `before`/`after` step: one extra integration call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The kind of step; only `request` exists.
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// Runs the step only when truthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_if: Option<Jsonata>,
    /// The call: a fixed object or a JSONata expression returning one.
    pub config: StepConfig,
}

/// The kinds of [`Step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// An integration call.
    Request,
}

/// A step's call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StepConfig {
    /// A JSONata expression returning a [`StepCallConfig`]-shaped object.
    Expression(Jsonata),
    /// A fixed call.
    Call(Box<StepCallConfig>),
}

/// The integration call of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepCallConfig {
    /// Integration resource.
    pub resource: String,
    /// Integration method.
    pub method: String,
    /// Record id; may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<TemplateValue>,
    /// Query; string leaves may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<TemplateValue>,
    /// Body; string leaves may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<TemplateValue>,
}

/// A `side_load` entry: a per-record call whose mapped result fills a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SideLoad {
    /// Integration resource.
    pub resource: String,
    /// Integration method.
    pub method: String,
    /// Record id; may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<TemplateValue>,
    /// Query; string leaves may hold `{{ }}` placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<TemplateValue>,
    /// Maps the call's response (bindings `response`, `query`, `rawQuery`, `body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mapping: Option<Jsonata>,
}

/// An inline `integration_mapping` (legacy form under a resource): integration → method → config.
pub type InlineMappings = IndexMap<String, IndexMap<String, MappingConfig>>;
