//! Outbound webhooks as answered: never with their secret (except once, when
//! created), the target URL's query values masked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::redact::mask_url_query;
use crate::store::Webhook;

/// An outbound webhook endpoint (never with its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub struct WebhookView {
    /// The id.
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// Where events are POSTed, the values of its query string (and its
    /// fragment) masked as `********`; a `PATCH` that sends it back unchanged
    /// keeps the stored URL.
    pub target_url: String,
    /// Inactive webhooks receive nothing.
    pub is_active: bool,
    /// The event types delivered.
    pub event_types: Vec<String>,
    /// When it was created (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl WebhookView {
    /// The webhook as answered: `target_url`'s query values masked
    /// ([`mask_url_query`]).
    pub fn redacted(webhook: Webhook) -> Self {
        let Webhook {
            id,
            environment_id,
            target_url,
            is_active,
            event_types,
            created_at,
            updated_at,
        } = webhook;
        Self {
            id,
            environment_id,
            target_url: mask_url_query(&target_url),
            is_active,
            event_types,
            created_at,
            updated_at,
        }
    }
}

/// `POST /webhook`: the webhook and its signing secret, answered only here.
#[derive(Serialize, ToSchema)]
#[schema(as = CreatedWebhook)]
pub struct CreatedWebhookView {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret (`whsec_…`) of `x-patchbay-signature`; store it now.
    pub secret: String,
}

/// `POST /webhook/test`: the queued test event.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedTestEvent {
    /// The event id the delivery carries.
    pub id: String,
    /// Always `test`.
    pub event: &'static str,
    /// The webhook.
    pub webhook_id: String,
}
