//! The stored objects of the unified API: unified models, their mapping rows,
//! their installs in an environment (environment unified models) with the
//! environment's override rows, and the revisions that tell the runtime
//! whether what it registered is current.
//!
//! The definitions are the `patchbay-unified` types, validated before they
//! reach the store ([`patchbay::unified`]); the records add what the store
//! owns (ids, environment, versions, timestamps).

use chrono::{DateTime, Utc};
use patchbay::unified::{MappingConfig, ModelOverride, UnifiedModel};

/// A stored unified model. It belongs to one environment (as integrations
/// do) and is served there once installed by an [`EnvironmentUnifiedModelRecord`].
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedModelRecord {
    /// The id.
    pub id: String,
    /// The environment that owns it.
    pub environment_id: String,
    /// The definition (`name`, `category`, `resources`, `docs`, ...), without
    /// the store's fields (`id`, `version`, timestamps).
    pub model: UnifiedModel,
    /// Optimistic-locking version; starts at 1, grows by one per update.
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The filters of a unified-model list; absent ones match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnifiedModelFilter {
    /// Only the model with this name.
    pub name: Option<String>,
    /// Only models of this category.
    pub category: Option<String>,
    /// Only models at this version.
    pub version: Option<u64>,
}

/// The two kinds of mapping rows, stored alike in two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingKind {
    /// A base row of a unified model (`/unified-model-resource-method`);
    /// its owner is a unified model.
    Base,
    /// An environment's override row (`/environment-unified-model-resource-method`);
    /// its owner is an environment unified model.
    Environment,
}

/// A stored mapping row: how one unified method runs on one integration.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingRecord {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// Base row or override row.
    pub kind: MappingKind,
    /// The unified model (base rows) or environment unified model (override
    /// rows) the row belongs to.
    pub owner_id: String,
    /// The unified resource, e.g. `contacts`.
    pub resource_name: String,
    /// The integration's name, e.g. `hubspot`.
    pub integration_name: String,
    /// The unified method, e.g. `list`.
    pub method_name: String,
    /// The mapping (whole for base rows, a partial layer for override rows).
    pub config: MappingConfig,
    /// Starts at 1, grows by one per update.
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new mapping row (validated).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMapping {
    /// The owner (see [`MappingRecord::owner_id`]).
    pub owner_id: String,
    /// The unified resource.
    pub resource_name: String,
    /// The integration's name.
    pub integration_name: String,
    /// The unified method.
    pub method_name: String,
    /// The mapping.
    pub config: MappingConfig,
}

/// The filters of a mapping-row list; absent ones match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappingFilter {
    /// Only rows of this owner (`unified_model_id` / `environment_unified_model_id`).
    pub owner_id: Option<String>,
    /// Only rows of this unified resource.
    pub resource_name: Option<String>,
    /// Only rows of this integration.
    pub integration_name: Option<String>,
    /// Only rows of this unified method.
    pub method_name: Option<String>,
    /// Only rows at this version.
    pub version: Option<u64>,
}

/// A stored environment unified model: a unified model installed in its
/// environment, with the environment's `override` of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentUnifiedModelRecord {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The installed unified model.
    pub unified_model_id: String,
    /// Deep-merged over the model (`resources`, `docs`, `scopes`, `webhooks`).
    pub model_override: Option<ModelOverride>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The filters of an environment-unified-model list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentUnifiedModelFilter {
    /// Only this id.
    pub id: Option<String>,
    /// Only installs of this model.
    pub unified_model_id: Option<String>,
    /// Only installs of the model with this name.
    pub unified_model_name: Option<String>,
}

/// Where a unified call of a model goes, and the revisions that tell whether
/// what the runtime registered for it is current; read in one query without
/// parsing anything. Two routes that differ in any field mean something a
/// registration is built from changed (a model deleted and created again
/// has another id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedRoute {
    /// The unified model.
    pub unified_model_id: String,
    /// Grows on every change of the model or of one of its base rows.
    pub model_revision: u64,
    /// The environment unified model and its revision (grows on every change
    /// of it or of one of its override rows); `None` when the model is not
    /// installed.
    pub install: Option<(String, u64)>,
}
