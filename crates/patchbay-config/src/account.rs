//! Integrated accounts: one tenant's connection to an integration.

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::IntegrationConfig;

/// One tenant's connection to an installed integration.
///
/// `context` holds the account's credentials and variables: OAuth tokens under
/// `oauth.token`, API-key fields at the top level, anything post-install actions
/// stored. Serializing an account writes the context as is; API layers must drop
/// secrets before answering clients.
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegratedAccount {
    /// The account id.
    pub id: String,
    /// The tenant (the host app's customer) that owns the connection.
    pub tenant_id: String,
    /// The installed integration this account belongs to.
    pub environment_integration_id: String,
    /// The environment of that installation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// Credentials and variables.
    #[serde(default)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Connection state.
    pub status: AccountStatus,
    /// The last error of post-install, validation or refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Results of the post-install and validation steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_action_result: Option<Value>,
    /// Data region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Sandbox accounts refuse write operations.
    #[serde(default)]
    pub is_sandbox: bool,
    /// Context keys kept in an external object store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_store_context_keys: Option<Vec<String>>,
    /// The integration, when the API embeds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<Integration>,
    /// When the account was created.
    #[serde(with = "timestamp")]
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    /// When the account was last changed.
    #[serde(with = "timestamp")]
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST /integrated-account` (importing existing credentials).
#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportAccountRequest {
    /// The tenant.
    pub tenant_id: String,
    /// The installed integration.
    pub environment_integration_id: String,
    /// Credentials and variables; OAuth formats put tokens in `oauth.token`.
    #[serde(default)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Data region. Default `wnam`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Create a sandbox account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_sandbox: Option<bool>,
}

/// The context holds credentials: `Debug` shows only its keys.
impl std::fmt::Debug for IntegratedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegratedAccount")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field(
                "environment_integration_id",
                &self.environment_integration_id,
            )
            .field("environment_id", &self.environment_id)
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .field("authentication_method", &self.authentication_method)
            .field("status", &self.status)
            .field("last_error", &self.last_error)
            .field("region", &self.region)
            .field("is_sandbox", &self.is_sandbox)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish_non_exhaustive()
    }
}

/// The context holds credentials: `Debug` shows only its keys.
impl std::fmt::Debug for ImportAccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportAccountRequest")
            .field("tenant_id", &self.tenant_id)
            .field(
                "environment_integration_id",
                &self.environment_integration_id,
            )
            .field("context_keys", &self.context.keys().collect::<Vec<_>>())
            .field("authentication_method", &self.authentication_method)
            .field("region", &self.region)
            .field("is_sandbox", &self.is_sandbox)
            .finish()
    }
}

/// An integration definition (`/integration` objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Integration {
    /// The integration id.
    pub id: String,
    /// The unique slug, used in OAuth callback URLs.
    pub name: String,
    /// Category, e.g. `helpdesk`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Beta integrations may not be fully tested.
    #[serde(default)]
    pub is_beta: bool,
    /// The config.
    pub config: IntegrationConfig,
    /// The owning team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Who may install it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Sharing>,
    /// Optimistic-locking version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// When it was created.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub created_at: Option<DateTime<Utc>>,
    /// When it was last changed.
    #[serde(
        default,
        with = "optional_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// Sharing policy of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    /// Anyone may install it.
    Allow,
    /// Installing needs approval.
    Ask,
    /// Private.
    Deny,
}

/// How an account authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthenticationMethod {
    /// OAuth 2.0 authorization code.
    #[serde(rename = "oauth2")]
    OAuth2,
    /// User-entered keys.
    ApiKey,
    /// OAuth 2.0 client credentials.
    #[serde(rename = "oauth2_client_credentials")]
    OAuth2ClientCredentials,
    /// Keka's token grant.
    KekaOauth,
}

impl AuthenticationMethod {
    /// The name as written in configs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OAuth2 => "oauth2",
            Self::ApiKey => "api_key",
            Self::OAuth2ClientCredentials => "oauth2_client_credentials",
            Self::KekaOauth => "keka_oauth",
        }
    }

    /// Whether tokens live in `context.oauth.token`.
    pub fn uses_oauth_token(self) -> bool {
        !matches!(self, Self::ApiKey)
    }
}

/// Connection state of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Everything works.
    Active,
    /// Post-install and validation steps are running.
    Connecting,
    /// A post-install step failed.
    PostInstallError,
    /// A validation step failed.
    ValidationError,
    /// Refreshing failed or the credentials are no longer valid; the user must reconnect.
    NeedsReauth,
}

impl AccountStatus {
    /// The name as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Connecting => "connecting",
            Self::PostInstallError => "post_install_error",
            Self::ValidationError => "validation_error",
            Self::NeedsReauth => "needs_reauth",
        }
    }
}

/// Data region of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// Western North America (the default).
    Wnam,
    /// Eastern North America.
    Enam,
    /// Asia-Pacific.
    Apac,
    /// Europe.
    Eu,
}

/// RFC 3339 timestamps in UTC with milliseconds, as Truto writes them
/// (`2021-08-10T10:00:00.000Z`).
mod timestamp {
    use super::*;

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}"))
            })
    }
}

mod optional_timestamp {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => timestamp::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        timestamp::deserialize(d).map(Some)
    }
}
