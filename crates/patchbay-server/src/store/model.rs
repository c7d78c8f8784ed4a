//! The stored objects and the inputs that create and change them.
//!
//! Integrated accounts use [`patchbay::config::IntegratedAccount`] directly.
//! Every object carries its `environment_id`. Types holding secrets print
//! `[REDACTED]` in `Debug` (or hold them in a [`SecretString`]).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use patchbay::config::{AccountStatus, AuthenticationMethod, Region, SecretString, Sharing};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An environment: the unit of isolation. Tokens and objects belong to one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    /// The id.
    pub id: String,
    /// A unique name.
    pub name: String,
    /// Whether request logs keep redacted, size-capped request and response bodies.
    pub log_bodies: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// An API token (without its value, which is stored only as a SHA-256 hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    /// The id.
    pub id: String,
    /// The environment the token acts in.
    pub environment_id: String,
    /// A label.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A new API token and its value, which is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedApiToken {
    /// The token.
    pub token: ApiToken,
    /// The bearer value (`pb_...`).
    pub plaintext: SecretString,
}

/// What the first start created.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The default environment.
    pub environment: Environment,
    /// Its first API token (print it once).
    pub token: CreatedApiToken,
}

/// A stored integration definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegrationRecord {
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
    /// The config as JSON (valid against the integration-config format).
    pub config: Value,
    /// Optimistic-locking version; starts at 1, grows by one per update.
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The input of [`Store::create_integration`](super::Store::create_integration).
#[derive(Debug, Clone, PartialEq)]
pub struct NewIntegration {
    /// The slug (non-empty, unique in the environment).
    pub name: String,
    /// Category.
    pub category: Option<String>,
    /// Beta flag.
    pub is_beta: bool,
    /// Sharing policy.
    pub sharing: Option<Sharing>,
    /// The config; must validate as an integration config.
    pub config: Value,
}

/// Changes to an integration. `None` fields are kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntegrationPatch {
    /// The version the caller read; a different stored version is a conflict.
    pub version: u64,
    /// New slug.
    pub name: Option<String>,
    /// New category (`Some(None)` clears it).
    pub category: Option<Option<String>>,
    /// New beta flag.
    pub is_beta: Option<bool>,
    /// New sharing (`Some(None)` clears it).
    pub sharing: Option<Option<Sharing>>,
    /// The whole new config (merging is the caller's job); must validate.
    pub config: Option<Value>,
}

/// An installed integration. `override` is stored encrypted as a whole (it may
/// hold `credentials` with client secrets); API layers must redact it.
#[derive(Clone, PartialEq, Serialize)]
pub struct EnvironmentIntegration {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The installed integration.
    pub integration_id: String,
    /// Shown in the connect catalog.
    pub show_in_catalog: bool,
    /// Enabled.
    pub is_enabled: bool,
    /// Config overrides applied over the integration's config.
    #[serde(rename = "override")]
    pub override_: Option<Map<String, Value>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

impl fmt::Debug for EnvironmentIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentIntegration")
            .field("id", &self.id)
            .field("environment_id", &self.environment_id)
            .field("integration_id", &self.integration_id)
            .field("show_in_catalog", &self.show_in_catalog)
            .field("is_enabled", &self.is_enabled)
            .field("override", &self.override_.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// The input of [`Store::install_integration`](super::Store::install_integration).
#[derive(Clone, PartialEq)]
pub struct NewEnvironmentIntegration {
    /// The integration to install (in the same environment).
    pub integration_id: String,
    /// Shown in the catalog (Truto's default: true).
    pub show_in_catalog: bool,
    /// Enabled (default true).
    pub is_enabled: bool,
    /// Overrides.
    pub override_: Option<Map<String, Value>>,
}

impl fmt::Debug for NewEnvironmentIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEnvironmentIntegration")
            .field("integration_id", &self.integration_id)
            .field("override", &self.override_.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

/// Changes to an installed integration. `override_` replaces the stored
/// override wholesale (`Some(None)` removes it).
#[derive(Clone, PartialEq, Default)]
pub struct EnvironmentIntegrationPatch {
    /// New catalog flag.
    pub show_in_catalog: Option<bool>,
    /// New enabled flag.
    pub is_enabled: Option<bool>,
    /// The new override.
    pub override_: Option<Option<Map<String, Value>>>,
}

impl fmt::Debug for EnvironmentIntegrationPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvironmentIntegrationPatch")
            .field("show_in_catalog", &self.show_in_catalog)
            .field("is_enabled", &self.is_enabled)
            .field("override", &self.override_.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

/// The input of [`Store::create_account`](super::Store::create_account).
#[derive(Clone, PartialEq)]
pub struct NewAccount {
    /// The tenant (non-empty).
    pub tenant_id: String,
    /// The installed integration (in the same environment).
    pub environment_integration_id: String,
    /// Credentials and variables (stored encrypted).
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Initial status.
    pub status: AccountStatus,
    /// Region (Truto's default `wnam` is the caller's choice).
    pub region: Option<Region>,
    /// Sandbox flag.
    pub is_sandbox: bool,
}

impl fmt::Debug for NewAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAccount")
            .field("tenant_id", &self.tenant_id)
            .field(
                "environment_integration_id",
                &self.environment_integration_id,
            )
            .field("context", &"[REDACTED]")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Changes to an account. `None` fields are kept.
#[derive(Clone, PartialEq, Default)]
pub struct AccountPatch {
    /// Keys merged into the stored context (set keys, keep the others).
    pub merge_context: Option<Map<String, Value>>,
    /// New status.
    pub status: Option<AccountStatus>,
    /// New last error (`Some(None)` clears it).
    pub last_error: Option<Option<String>>,
    /// New last action result (`Some(None)` clears it).
    pub last_action_result: Option<Option<Value>>,
    /// New region.
    pub region: Option<Option<Region>>,
    /// New sandbox flag.
    pub is_sandbox: Option<bool>,
}

impl fmt::Debug for AccountPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountPatch")
            .field(
                "merge_context",
                &self.merge_context.as_ref().map(|_| "[REDACTED]"),
            )
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Filters of [`Store::list_accounts`](super::Store::list_accounts); `None` matches all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccountFilter {
    /// Only this tenant.
    pub tenant_id: Option<String>,
    /// Only this installed integration.
    pub environment_integration_id: Option<String>,
    /// Only this status.
    pub status: Option<AccountStatus>,
    /// Only sandbox (true) or only live (false) accounts.
    pub is_sandbox: Option<bool>,
}

/// The most items a page holds.
pub const MAX_PAGE_SIZE: u32 = 5000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageRequest {
    /// At most this many items (1..=5000; `None` = 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of a list, Truto's `{result, next_cursor}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The items, oldest first.
    pub result: Vec<T>,
    /// Opaque; pass it back for the next page. `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What a link token lets its holder do: connect a new account for
/// `tenant_id`, or reconnect `integrated_account_id`, with these options.
/// Stored encrypted (it holds the seed `context`).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkParams {
    /// The tenant of a new account.
    pub tenant_id: Option<String>,
    /// The account to reconnect (same environment).
    pub integrated_account_id: Option<String>,
    /// Restrict the connect flow to this installed integration.
    pub environment_integration_id: Option<String>,
    /// Context to seed the account with.
    pub context: Map<String, Value>,
    /// Where to send the user afterwards.
    pub redirect_uri: Option<String>,
    /// Scopes overriding the integration's.
    pub scopes: Option<Vec<String>>,
    /// Keep the previous context on reconnect.
    pub persist_previous_context: bool,
    /// Region of a new account.
    pub region: Option<Region>,
}

impl fmt::Debug for LinkParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkParams")
            .field("tenant_id", &self.tenant_id)
            .field("integrated_account_id", &self.integrated_account_id)
            .field("context", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

/// The input of [`Store::create_link_token`](super::Store::create_link_token):
/// `params.tenant_id` for a new account, or `params.integrated_account_id` to
/// reconnect one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLinkToken {
    /// What the token grants.
    pub params: LinkParams,
    /// How long the token is valid.
    pub ttl: Duration,
}

/// A link token (its value is stored only as a hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkToken {
    /// The id (not the token value).
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// What the token grants.
    #[serde(flatten)]
    pub params: LinkParams,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was consumed.
    pub used_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A new link token and its value, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedLinkToken {
    /// The token.
    pub link_token: LinkToken,
    /// The value to hand to the connect UI.
    pub token: SecretString,
}

/// An outbound webhook (its secret is stored encrypted and not included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// Where events are POSTed (http or https URL).
    pub target_url: String,
    /// Inactive webhooks receive nothing.
    pub is_active: bool,
    /// Event names (`integrated_account:active`), `entity:*` or `*`.
    pub event_types: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

/// The input of [`Store::create_webhook`](super::Store::create_webhook).
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    /// Where events are POSTed.
    pub target_url: String,
    /// Event names to deliver (non-empty).
    pub event_types: Vec<String>,
    /// Active flag.
    pub is_active: bool,
}

/// Changes to a webhook.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebhookPatch {
    /// New URL.
    pub target_url: Option<String>,
    /// New event names.
    pub event_types: Option<Vec<String>>,
    /// New active flag.
    pub is_active: Option<bool>,
}

/// A new webhook and its signing secret, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// The HMAC signing secret.
    pub secret: SecretString,
}

/// An event accepted into the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnqueuedEvent {
    /// The event id (the same in every delivery of this event).
    pub event_id: String,
    /// How many webhooks will receive it.
    pub deliveries: usize,
}

/// One leased delivery of an event to a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxDelivery {
    /// The delivery id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The target webhook.
    pub webhook_id: String,
    /// The event id.
    pub event_id: String,
    /// The event name.
    pub event_type: String,
    /// The event payload (no secrets).
    pub payload: Value,
    /// Delivery attempts so far, including this one.
    pub attempts: u32,
    /// When the event was enqueued.
    pub created_at: DateTime<Utc>,
    /// Proves the lease: `mark_*` only apply while it is current.
    pub claim_token: String,
}

/// An event about one account, with what became of its deliveries (see
/// [`Store::account_events`](super::Store::account_events)).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountEventRecord {
    /// The event id.
    pub event_id: String,
    /// The event name, e.g. `integrated_account:active`.
    pub event_type: String,
    /// When the event was queued.
    pub created_at: DateTime<Utc>,
    /// One per webhook it was queued for, ordered by webhook id.
    pub deliveries: Vec<EventDelivery>,
}

/// What became of one delivery of an event to one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDelivery {
    /// The webhook.
    pub webhook_id: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed (cleared once it is delivered).
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Given up after its last attempt.
    Dead,
}

impl DeliveryStatus {
    /// The name stored and shown: `pending`, `delivered` or `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    /// The status named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// Where an account's calls go: its install and the revisions that tell
/// whether a cached, compiled install is still current. Read in one query
/// without decrypting anything (see [`Store::account_route`](super::Store::account_route)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRoute {
    /// The account.
    pub account_id: String,
    /// Its install.
    pub install: InstallRoute,
}

/// An install and the revisions that tell whether a cached, compiled install
/// is still current, read in one query without decrypting anything (see
/// [`Store::install_route`](super::Store::install_route)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallRoute {
    /// The environment integration.
    pub environment_integration_id: String,
    /// The installed integration.
    pub integration_id: String,
    /// The integration's `version`.
    pub integration_version: u64,
    /// When the environment integration last changed.
    pub install_updated_at: DateTime<Utc>,
    /// Whether the environment integration is enabled.
    pub is_enabled: bool,
    /// Whether the environment's request logs keep bodies.
    pub log_bodies: bool,
}

impl InstallRoute {
    /// The revision the route reports.
    pub fn revision(&self) -> InstallRevision {
        InstallRevision {
            integration_id: self.integration_id.clone(),
            integration_version: self.integration_version,
            install_updated_at: self.install_updated_at,
        }
    }
}

/// What a compiled install is built from: the integration's id and `version`
/// and the install's `updated_at`. Another revision means the install or its
/// integration changed, so whatever was compiled from them is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallRevision {
    /// The installed integration.
    pub integration_id: String,
    /// The integration's `version`.
    pub integration_version: u64,
    /// When the environment integration last changed.
    pub install_updated_at: DateTime<Utc>,
}

impl InstallRevision {
    /// The revision of `install` of `integration` as loaded.
    pub fn of(integration: &IntegrationRecord, install: &EnvironmentIntegration) -> Self {
        Self {
            integration_id: integration.id.clone(),
            integration_version: integration.version,
            install_updated_at: install.updated_at,
        }
    }
}

/// The kinds of request log (`log_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogType {
    /// One upstream call made for a proxy, unified or action request (each page of a
    /// list is one call).
    UnifiedProxyApi,
    /// One attempt to deliver an event to an outbound webhook.
    Webhook,
}

impl LogType {
    /// Every kind, as `GET /log` accepts them.
    pub const ALL: [LogType; 2] = [LogType::UnifiedProxyApi, LogType::Webhook];

    /// The name in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::UnifiedProxyApi => "unified_proxy_api",
            LogType::Webhook => "webhook",
        }
    }

    /// The kind named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// A request log to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequestLog {
    /// The environment it belongs to.
    pub environment_id: String,
    /// Its kind.
    pub log_type: LogType,
    /// When the logged request started.
    pub created_at: DateTime<Utc>,
    /// `proxy`, `unified` or `action` (`unified_proxy_api` logs).
    pub request_type: Option<String>,
    /// The account the call was made for.
    pub integrated_account_id: Option<String>,
    /// The integration's name.
    pub integration: Option<String>,
    /// The outbound webhook (`webhook` logs).
    pub webhook_id: Option<String>,
    /// Everything else, as `GET /log` answers it: the text of a JSON object, stored as
    /// it is. Holds no secret.
    pub metadata: String,
}

/// A stored request log, as `GET /log` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLog {
    /// Its id.
    pub id: String,
    /// `unified_proxy_api` or `webhook`.
    pub log_type: String,
    /// When the logged request started.
    pub created_at: DateTime<Utc>,
    /// What was logged.
    pub metadata: Value,
}

/// Which logs `GET /log` lists: one kind, optionally within a time window and
/// matching the given fields.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    /// The kind.
    pub log_type: LogType,
    /// Only logs strictly after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only logs strictly before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Only this `request_type`.
    pub request_type: Option<String>,
    /// Only calls for this account.
    pub integrated_account_id: Option<String>,
    /// Only calls of this integration (its name).
    pub integration: Option<String>,
    /// Only deliveries to this webhook.
    pub webhook_id: Option<String>,
}

impl LogQuery {
    /// Every log of `log_type`.
    pub fn new(log_type: LogType) -> Self {
        Self {
            log_type,
            created_after: None,
            created_before: None,
            request_type: None,
            integrated_account_id: None,
            integration: None,
            webhook_id: None,
        }
    }
}

/// What [`Store::create_mcp_server`](super::Store::create_mcp_server) stores.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMcpServer {
    /// The account whose tools the server exposes.
    pub integrated_account_id: String,
    /// A name for people.
    pub name: String,
    /// Which tools it exposes.
    pub filter: patchbay::mcp::ToolFilter,
    /// When it stops answering; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes to an MCP server. `None` fields are kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct McpServerPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new tool filter.
    pub filter: Option<patchbay::mcp::ToolFilter>,
    /// A new expiry (`Some(None)`: never expires).
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// An MCP server of an integrated account (its token is stored only as a hash).
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    /// The id (not the token).
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The account whose tools it exposes.
    pub integrated_account_id: String,
    /// A name for people.
    pub name: String,
    /// Which tools it exposes.
    pub filter: patchbay::mcp::ToolFilter,
    /// When it stops answering; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A new MCP server and its token, shown once.
#[derive(Debug)]
pub struct CreatedMcpServer {
    /// The server.
    pub server: McpServer,
    /// The token of its URL (`/mcp/<token>`).
    pub token: SecretString,
}
