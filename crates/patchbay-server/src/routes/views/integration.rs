//! Integrations and installs (environment integrations) as answered.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Sharing;
use crate::redact::mask_override;
use crate::store::{EnvironmentIntegration, IntegrationRecord};

/// An integration definition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Integration)]
pub struct IntegrationView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The slug, unique in the environment.
    pub name: String,
    /// Category, e.g. `helpdesk`.
    pub category: Option<String>,
    /// Beta flag.
    pub is_beta: bool,
    /// Sharing policy.
    pub sharing: Option<Sharing>,
    /// The integration config, as stored (see `/schema/integration-config.json`).
    #[schema(value_type = Object)]
    pub config: Value,
    /// Optimistic-locking version: 1 when created, one higher per update.
    pub version: u64,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<IntegrationRecord> for IntegrationView {
    fn from(record: IntegrationRecord) -> Self {
        let IntegrationRecord {
            id,
            environment_id,
            name,
            category,
            is_beta,
            sharing,
            config,
            version,
            created_at,
            updated_at,
        } = record;
        Self {
            id,
            environment_id,
            name,
            category,
            is_beta,
            sharing,
            config,
            version,
            created_at,
            updated_at,
        }
    }
}

/// An installed integration (environment integration). `override` is answered
/// with its secrets masked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EnvironmentIntegration)]
pub struct InstallView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The installed integration.
    pub integration_id: String,
    /// Shown in the connect pages' chooser.
    pub show_in_catalog: bool,
    /// Enabled; a disabled install cannot be connected or called (409).
    pub is_enabled: bool,
    /// Config overrides layered over the integration's config, every secret
    /// value replaced by the mask `********`: the values inside `headers`
    /// and `authorization.config`, and those whose key names a secret
    /// (`client_secret`, `password`, `api_key`, `access_token`, ...). A `PATCH`
    /// that sends a mask back keeps the stored value.
    #[serde(rename = "override")]
    #[schema(value_type = Option<Object>)]
    pub override_: Option<Map<String, Value>>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl InstallView {
    /// The install as answered: its override's secrets masked
    /// ([`mask_override`]).
    pub fn redacted(install: EnvironmentIntegration) -> Self {
        let EnvironmentIntegration {
            id,
            environment_id,
            integration_id,
            show_in_catalog,
            is_enabled,
            override_,
            created_at,
            updated_at,
        } = install;
        Self {
            id,
            environment_id,
            integration_id,
            show_in_catalog,
            is_enabled,
            override_: override_.as_ref().map(mask_override),
            created_at,
            updated_at,
        }
    }
}
