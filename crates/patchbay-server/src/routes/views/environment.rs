//! Views of environments and API tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{ApiToken, Environment};

/// An environment: a separate set of integrations, accounts, webhooks and tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Environment)]
pub struct EnvironmentView {
    /// The id.
    pub id: String,
    /// A unique name.
    pub name: String,
    /// Whether its request logs keep redacted, size-capped request and response bodies.
    pub log_bodies: bool,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<Environment> for EnvironmentView {
    fn from(environment: Environment) -> Self {
        Self {
            id: environment.id,
            name: environment.name,
            log_bodies: environment.log_bodies,
            created_at: environment.created_at,
        }
    }
}

/// An API token, without its value (stored only as a hash).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiToken)]
pub struct ApiTokenView {
    /// The id.
    pub id: String,
    /// A label.
    pub name: String,
    /// The environment the token acts in.
    pub environment_id: String,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

impl From<ApiToken> for ApiTokenView {
    fn from(token: ApiToken) -> Self {
        Self {
            id: token.id,
            name: token.name,
            environment_id: token.environment_id,
            created_at: token.created_at,
        }
    }
}

/// `POST /api-token`: the token and its value, shown only in this answer.
#[derive(Serialize, ToSchema)]
#[schema(as = CreatedApiToken)]
pub struct CreatedApiTokenView {
    /// The token.
    #[serde(flatten)]
    pub token: ApiTokenView,
    /// The bearer value (`pb_…`): store it now, it cannot be read again.
    #[serde(rename = "token")]
    pub value: String,
}
