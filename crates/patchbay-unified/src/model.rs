//! Unified models: resources with their schemas, methods, docs, scopes, webhooks.

use indexmap::IndexMap;
use patchbay_config::{Jsonata, Sharing};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{InlineMappings, TrutoSchema};

/// A unified model (`/unified-model`): one schema per kind of data, e.g. `crm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Patchbay unified model (Truto format)")]
pub struct UnifiedModel {
    /// The model's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// kebab-case name; the model is served at `/unified/<name>`.
    pub name: String,
    /// Category, e.g. `crm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What the model covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Owning team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Cross-team sharing (default `deny`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
    /// The resources, by snake_case name.
    #[serde(default)]
    pub resources: IndexMap<String, UnifiedResource>,
    /// Per-resource (or, in an override, per-integration) documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<IndexMap<String, Value>>,
    /// Per-resource (or, in an override, per-integration) OAuth scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<IndexMap<String, Vec<String>>>,
    /// JSONata deciding whether an inbound webhook belongs to a resource (per
    /// resource, or per integration in an override).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<IndexMap<String, Jsonata>>,
    /// Version, required by updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Environments the model is installed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_environment: Option<Vec<String>>,
    /// The owning team object, as the API returns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Value>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// One resource of a [`UnifiedModel`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnifiedResource {
    /// What the resource is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The unified record's schema (documentation; not enforced at run time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<TrutoSchema>,
    /// The unified methods offered (`list`, `get`, `create`, `update`, `delete`, custom).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    /// Legacy inline mappings: integration → method → config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_mapping: Option<InlineMappings>,
}

/// A model installed in an environment (`/environment-unified-model`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Patchbay environment unified model (Truto format)")]
pub struct EnvironmentUnifiedModel {
    /// The installation's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The installed model.
    pub unified_model_id: String,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// Deep-merged over the base model (see [`UnifiedModel::with_override`](crate::UnifiedModel::with_override)).
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub model_override: Option<ModelOverride>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The model object, as the API embeds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unified_model: Option<Value>,
}

/// An environment's `override` of a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelOverride {
    /// Merged into the resources by name (descriptions, schemas, inline mappings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<IndexMap<String, UnifiedResource>>,
    /// Scopes appended to the base's, by key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<IndexMap<String, Vec<String>>>,
    /// Webhook routing JSONata by key; replaces the base's entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<IndexMap<String, Jsonata>>,
    /// Docs by key, deep-merged over the base's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<IndexMap<String, Value>>,
}

/// An account's `unified_model_override`: model → resource → method → partial config.
pub type AccountOverride =
    IndexMap<String, IndexMap<String, IndexMap<String, crate::MappingConfig>>>;
