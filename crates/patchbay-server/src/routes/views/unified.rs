//! Unified models, mapping rows and environment unified models as answered,
//! and the answers of the meta endpoints.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Sharing;
use crate::store::{EnvironmentUnifiedModelRecord, MappingKind, MappingRecord, UnifiedModelRecord};

/// A unified model (Truto's `/unified-model` object): one schema per kind of
/// data, served at `/unified/{name}` once installed in the environment.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnifiedModel)]
pub struct UnifiedModelView {
    /// The id.
    pub id: String,
    /// The environment that owns the model.
    pub environment_id: String,
    /// The model's name, kebab-case (served at `/unified/{name}`).
    pub name: String,
    /// Category, e.g. `crm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// What the model is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Sharing policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
    /// The resources by snake_case name: `{description, schema, methods, integration_mapping}`
    /// (`schema` in Truto's dialect: `required` may be a boolean on a property).
    #[schema(value_type = Object)]
    pub resources: Value,
    /// Docs by key (per resource; per integration for `GET /unified/meta/{model}/{integration}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub docs: Option<Value>,
    /// OAuth scopes by key.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub scopes: Option<Value>,
    /// JSONata by key, deciding whether an inbound webhook belongs to the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub webhooks: Option<Value>,
    /// Optimistic-locking version: 1 when created, one higher per update;
    /// `PATCH` must send the current one.
    pub version: u64,
    /// The environments the model is installed in (its own, or none).
    pub installed_environment: Vec<String>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl UnifiedModelView {
    /// The model as answered; `installed` says whether it is installed in its
    /// environment.
    pub fn new(record: UnifiedModelRecord, installed: bool) -> Self {
        let UnifiedModelRecord {
            id,
            environment_id,
            model,
            version,
            created_at,
            updated_at,
        } = record;
        Self {
            installed_environment: if installed {
                vec![environment_id.clone()]
            } else {
                Vec::new()
            },
            id,
            environment_id,
            resources: to_json(&model.resources),
            docs: model.docs.as_ref().map(to_json),
            scopes: model.scopes.as_ref().map(to_json),
            webhooks: model.webhooks.as_ref().map(to_json),
            name: model.name,
            category: model.category,
            description: model.description,
            sharing: model.sharing,
            version,
            created_at,
            updated_at,
        }
    }
}

/// A part of a model as JSON (the parts are plain data: serializing cannot fail).
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A mapping row: how one unified method runs on one integration. A base
/// row (`/unified-model-resource-method`) has `unified_model_id`; an
/// environment's override row (`/environment-unified-model-resource-method`)
/// has `environment_unified_model_id` and a partial `config`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnifiedModelResourceMethod)]
pub struct MappingView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// Base rows: the unified model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unified_model_id: Option<String>,
    /// Override rows: the environment unified model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_unified_model_id: Option<String>,
    /// The unified resource, e.g. `contacts`.
    pub resource_name: String,
    /// The integration's name, e.g. `hubspot`.
    pub integration_name: String,
    /// The unified method, e.g. `list`.
    pub method_name: String,
    /// The mapping config (see `docs/unified.md` and `docs/unified-mapping.schema.json`).
    #[schema(value_type = Object)]
    pub config: Value,
    /// 1 when created, one higher per update.
    pub version: u64,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<MappingRecord> for MappingView {
    fn from(record: MappingRecord) -> Self {
        let (unified_model_id, environment_unified_model_id) = match record.kind {
            MappingKind::Base => (Some(record.owner_id), None),
            MappingKind::Environment => (None, Some(record.owner_id)),
        };
        Self {
            id: record.id,
            environment_id: record.environment_id,
            unified_model_id,
            environment_unified_model_id,
            resource_name: record.resource_name,
            integration_name: record.integration_name,
            method_name: record.method_name,
            config: serde_json::to_value(&record.config)
                .unwrap_or_else(|_| Value::Object(Map::new())),
            version: record.version,
            created_at: record.created_at,
            updated_at: record.updated_at,
        }
    }
}

/// A unified model installed in the environment, with the environment's
/// `override` of the model.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnvironmentUnifiedModel)]
pub struct EnvironmentUnifiedModelView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The installed unified model.
    pub unified_model_id: String,
    /// Deep-merged over the model: `resources` by name, `docs` by key,
    /// `scopes` appended, `webhooks` replaced by key.
    #[serde(rename = "override")]
    #[schema(value_type = Option<Object>)]
    pub model_override: Option<Value>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// The installed model, as stored (without the override).
    pub unified_model: UnifiedModelView,
}

impl EnvironmentUnifiedModelView {
    /// The install as answered, with its model.
    pub fn new(record: EnvironmentUnifiedModelRecord, model: UnifiedModelRecord) -> Self {
        Self {
            id: record.id,
            environment_id: record.environment_id,
            unified_model_id: record.unified_model_id,
            model_override: record
                .model_override
                .as_ref()
                .and_then(|o| serde_json::to_value(o).ok()),
            created_at: record.created_at,
            updated_at: record.updated_at,
            unified_model: UnifiedModelView::new(model, true),
        }
    }
}

/// `GET /unified/{model}/{resource}/meta/{method}` and
/// `GET /unified/{model}/{resource}/{integration}/meta/{method}`: the merged
/// mapping config of one unified method on one integration (base row, then
/// the environment's override row, then for an account its override).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnifiedMethodMeta)]
pub struct MethodMetaView {
    /// The unified method.
    pub method: String,
    /// The resource's schema, from the model (with the environment's override).
    #[schema(value_type = Option<Object>)]
    pub schema: Option<Value>,
    /// The part of `schema` the `response_mapping` fills: the properties whose
    /// names it writes as object keys (all of `schema` without a `response_mapping`).
    #[schema(value_type = Option<Object>)]
    pub response_schema: Option<Value>,
    /// The supported query parameters (`query_schema`).
    #[schema(value_type = Option<Object>)]
    pub query_schema: Option<Value>,
    /// The unified body (`request_body_schema`).
    #[schema(value_type = Option<Object>)]
    pub request_body_schema: Option<Value>,
    /// The query always sent (`query`).
    #[schema(value_type = Option<Object>)]
    pub default_query: Option<Value>,
    /// The default body (`body`).
    #[schema(value_type = Option<Object>)]
    pub default_body: Option<Value>,
    /// The provider's documentation of the call (`documentation_link`).
    pub documentation_link: Option<String>,
}

/// `GET /unified/meta/{model}/{integration}?format=json`: the model's docs for
/// connecting one integration.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnifiedModelDocs)]
pub struct ModelDocsView {
    /// The unified model's name.
    pub unified_model: String,
    /// The integration's name.
    pub integration: String,
    /// The model's `docs.<integration>` (the environment's override merged in):
    /// pricing plans, user roles, scopes, instructions; free form.
    #[schema(value_type = Object)]
    pub docs: Value,
}
