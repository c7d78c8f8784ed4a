//! What the API answers: one serializable type per answer, each with the
//! OpenAPI schema derived from the type itself, so the document describes
//! exactly what is sent.
//!
//! Views are built from the store's records and never hold a secret the
//! record does not let the API show: [`AccountView::redacted`] drops the
//! context's secrets, [`InstallView::redacted`] masks the override's and
//! [`WebhookView::redacted`] the target URL's query (see [`crate::redact`]).
//! The only answers that carry a secret are [`CreatedWebhookView`],
//! [`CreatedLinkTokenView`], [`CreatedApiTokenView`] and [`CreatedMcpServerView`], which show it once;
//! they implement no `Debug`.
//!
//! The component names of the document are the API's object names
//! (`Integration`, `IntegratedAccount`, ...), not the Rust names. Requests
//! and answers use the config crate's enums ([`Sharing`], [`Region`],
//! [`AccountStatus`], [`AuthenticationMethod`]) themselves: the facade's
//! `openapi` feature gives them their schemas.

mod account;
mod datastore;
mod environment;
mod integration;
mod mcp;
mod sync;
mod unified;
mod webhook;

pub use account::AccountView;
pub use datastore::{DatastoreTableView, DatastoreView};
pub use environment::{ApiTokenView, CreatedApiTokenView, EnvironmentView};
pub use integration::{InstallView, IntegrationView};
pub use mcp::{CreatedMcpServerView, McpServerConfigView, McpServerPage, McpServerView};
pub use patchbay::config::{AccountStatus, AuthenticationMethod, Region, Sharing};
pub use sync::{
    DEFAULT_RUNTIME_VERSION, ResourceStatsView, SyncJobCronTriggerView, SyncJobRunView,
    SyncJobView, SyncRunStateView,
};
pub use unified::{
    EnvironmentUnifiedModelView, MappingView, MethodMetaView, ModelDocsView, UnifiedModelView,
};
pub use webhook::{CreatedWebhookView, QueuedTestEvent, WebhookView};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::store;

/// Defines the page type of a list route: Truto's `{result, next_cursor}`.
///
/// One named type per list, not a generic `Page<T>`: the document then
/// names it after the item's API name (`IntegrationPage`) and refers to the
/// item's schema instead of inlining it.
macro_rules! page_view {
    ($name:ident as $schema:ident, $item:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ", oldest first.")]
        #[derive(Debug, Serialize, ToSchema)]
        #[schema(as = $schema)]
        pub struct $name {
            #[doc = concat!("The ", $what, ".")]
            pub result: Vec<$item>,
            /// Pass it back as `next_cursor` for the next page; `null` on the last page.
            pub next_cursor: Option<String>,
        }

        impl $name {
            /// The store's page with every item turned into its view by `view`.
            pub fn from_store<U>(page: store::Page<U>, view: impl FnMut(U) -> $item) -> Self {
                Self {
                    result: page.result.into_iter().map(view).collect(),
                    next_cursor: page.next_cursor,
                }
            }
        }
    };
}

page_view!(
    IntegrationPage as IntegrationPage,
    IntegrationView,
    "integrations"
);
page_view!(
    InstallPage as EnvironmentIntegrationPage,
    InstallView,
    "environment integrations"
);
page_view!(
    AccountPage as IntegratedAccountPage,
    AccountView,
    "integrated accounts"
);
page_view!(WebhookPage as WebhookPage, WebhookView, "webhooks");
page_view!(
    EnvironmentPage as EnvironmentPage,
    EnvironmentView,
    "environments"
);
page_view!(ApiTokenPage as ApiTokenPage, ApiTokenView, "API tokens");
page_view!(
    UnifiedModelPage as UnifiedModelPage,
    UnifiedModelView,
    "unified models"
);
page_view!(
    MappingPage as UnifiedModelResourceMethodPage,
    MappingView,
    "mapping rows"
);
page_view!(
    EnvironmentUnifiedModelPage as EnvironmentUnifiedModelPage,
    EnvironmentUnifiedModelView,
    "environment unified models"
);

page_view!(DatastorePage as DatastorePage, DatastoreView, "datastores");
page_view!(SyncJobPage as SyncJobPage, SyncJobView, "sync jobs");
page_view!(
    SyncJobRunPage as SyncJobRunPage,
    SyncJobRunView,
    "sync job runs"
);
page_view!(
    SyncJobCronTriggerPage as SyncJobCronTriggerPage,
    SyncJobCronTriggerView,
    "sync job cron triggers"
);
page_view!(
    SyncRunStatePage as SyncJobRunStatePage,
    SyncRunStateView,
    "run state entries"
);

/// The answer of a `DELETE`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// The deleted object's id.
    pub id: String,
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /ping`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "environment_id": "env_3f2a"}))]
pub struct Pong {
    /// Always `ok`.
    pub status: &'static str,
    /// The environment the token acts in.
    pub environment_id: String,
}

/// `POST /integration/validate` for a valid config.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "methods": 12}))]
pub struct Validated {
    /// Always `true` (invalid configs answer 422).
    pub valid: bool,
    /// How many resource methods the config defines.
    pub methods: u64,
}

/// `POST /integrated-account/refresh-credentials`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refreshed {
    /// Always `true`: new tokens are stored.
    pub success: bool,
}

/// `POST /link-token`: the token, shown only in this answer.
#[derive(Serialize, ToSchema)]
#[schema(as = CreatedLinkToken)]
pub struct CreatedLinkTokenView {
    /// The single-use token (`lt_…`).
    pub link_token: String,
    /// The connect page with the token: `{public URL}/connect-account?link_token=…`.
    pub link_url: String,
    /// When the token expires (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: DateTime<Utc>,
}

/// One page of a proxied `list`: the records after the config's `response_path`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProxyPage {
    /// The records, as the integration maps them.
    #[schema(value_type = Vec<Object>)]
    pub result: Vec<Value>,
    /// Pass it back as `next_cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// Only for methods whose pagination has `prev_cursor_path`: pass it back
    /// as `next_cursor` for the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_cursor: Option<String>,
}

/// One page of a unified `list` (documentation only: the route answers the
/// facade's `UnifiedList` as it serializes, which has these keys).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = UnifiedList)]
pub struct UnifiedListView {
    /// The mapped records (an object keyed by `truto_key_by` when given).
    #[schema(value_type = Vec<Object>)]
    pub result: Value,
    /// Pass it back as `next_cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// The provider's previous-page cursor, when its pagination has one.
    pub prev_cursor: Option<String>,
    /// How many records `result` holds.
    pub result_count: u64,
    /// Whether the records are partial (the mapping's `is_partial_expression`).
    pub is_partial_response: bool,
}
