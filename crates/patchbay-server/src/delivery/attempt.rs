//! One delivery attempt: the webhook's URL and secret, the signed request,
//! and recording the outcome (delivered, retried after a backoff, or given up).

use std::time::{Duration, SystemTime};

use chrono::{SecondsFormat, Utc};
use patchbay::config::SecretString;
use serde_json::json;

use super::worker::Inner;
use crate::redact::mask_url_query;
use crate::store::{LogType, NewRequestLog, OutboxDelivery, StorageError};

/// The `user-agent` of deliveries.
pub const USER_AGENT: &str = concat!("patchbay/", env!("CARGO_PKG_VERSION"));
/// The header naming the event type.
pub const EVENT_HEADER: &str = "x-patchbay-event";
/// The header carrying the delivery id (unique per event and webhook, the same
/// across retries).
pub const DELIVERY_HEADER: &str = "x-patchbay-delivery";

/// Why one delivery attempt failed; its text is stored as the delivery's
/// `last_error` (it names no URL and no secret).
#[derive(Debug, thiserror::Error)]
enum AttemptError {
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    #[error("the request failed: {0}")]
    Request(String),
}

impl AttemptError {
    fn from_reqwest(error: reqwest::Error, timeout: Duration) -> Self {
        if error.is_timeout() {
            return Self::Timeout(timeout);
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Request(text)
    }
}

/// Where and how one webhook's deliveries are sent.
#[derive(Clone)]
pub(super) struct Target {
    url: String,
    secret: SecretString,
}

/// Why a delivery is not sent.
#[derive(Clone, Copy)]
pub(super) enum Skip {
    /// The webhook is gone or inactive: give the delivery up.
    GiveUp(&'static str),
    /// The store failed: leave the lease to expire and try later.
    StoreFailed,
}

pub(super) enum DeliveryOutcome {
    Delivered,
    Retrying,
    GivenUp,
    Unrecorded,
}

impl Inner {
    /// The webhook's URL and secret, or why its deliveries are not sent.
    pub(super) async fn target(
        &self,
        environment_id: &str,
        webhook_id: &str,
    ) -> Result<Target, Skip> {
        let store_failed = |e: StorageError| match e {
            StorageError::NotFound { .. } => Skip::GiveUp("the webhook was deleted"),
            e => {
                tracing::warn!(webhook = webhook_id, error = %e, "cannot read a webhook to deliver to");
                Skip::StoreFailed
            }
        };
        let webhook = self
            .store
            .get_webhook(environment_id, webhook_id)
            .await
            .map_err(store_failed)?;
        if !webhook.is_active {
            return Err(Skip::GiveUp("the webhook is inactive"));
        }
        let secret = self
            .store
            .webhook_secret(environment_id, webhook_id)
            .await
            .map_err(store_failed)?;
        Ok(Target {
            url: webhook.target_url,
            secret,
        })
    }

    /// Attempts one delivery, records the outcome, and answers it with the attempt's
    /// request log (`None` when nothing was sent).
    pub(super) async fn process(
        &self,
        delivery: OutboxDelivery,
        target: Result<Target, Skip>,
    ) -> (DeliveryOutcome, Option<NewRequestLog>) {
        let target = match target {
            Ok(target) => target,
            Err(Skip::StoreFailed) => return (DeliveryOutcome::Unrecorded, None),
            Err(Skip::GiveUp(reason)) => {
                tracing::info!(
                    delivery = %delivery.id,
                    webhook = %delivery.webhook_id,
                    event = %delivery.event_type,
                    reason,
                    "webhook delivery dropped"
                );
                return (self.record_failure(&delivery, reason, None).await, None);
            }
        };
        let started = SystemTime::now();
        let sent = self.send(&delivery, &target).await;
        let log = delivery_log(&delivery, &target, started, &sent);
        let outcome = match sent {
            Ok(status) => match self.store.mark_delivered(&delivery).await {
                Ok(true) => {
                    tracing::info!(
                        delivery = %delivery.id,
                        webhook = %delivery.webhook_id,
                        event = %delivery.event_type,
                        attempt = delivery.attempts,
                        status,
                        "webhook event delivered"
                    );
                    DeliveryOutcome::Delivered
                }
                Ok(false) => {
                    tracing::warn!(delivery = %delivery.id, "webhook delivered, but its lease had expired");
                    DeliveryOutcome::Unrecorded
                }
                Err(e) => {
                    tracing::error!(delivery = %delivery.id, error = %e, "cannot record a webhook delivery");
                    DeliveryOutcome::Unrecorded
                }
            },
            Err(error) => {
                let attempts = delivery.attempts.max(1);
                let retry_at = (attempts < self.options.max_attempts).then(|| {
                    let delay = self.options.backoff(attempts);
                    Utc::now()
                        + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1))
                });
                tracing::warn!(
                    delivery = %delivery.id,
                    webhook = %delivery.webhook_id,
                    event = %delivery.event_type,
                    attempt = attempts,
                    max_attempts = self.options.max_attempts,
                    retry_at = ?retry_at,
                    error = %error,
                    "webhook delivery failed"
                );
                self.record_failure(&delivery, &error.to_string(), retry_at)
                    .await
            }
        };
        (outcome, Some(log))
    }

    async fn record_failure(
        &self,
        delivery: &OutboxDelivery,
        error: &str,
        retry_at: Option<chrono::DateTime<Utc>>,
    ) -> DeliveryOutcome {
        match self.store.mark_failed(delivery, error, retry_at).await {
            Ok(true) if retry_at.is_some() => DeliveryOutcome::Retrying,
            Ok(true) => DeliveryOutcome::GivenUp,
            // The row is gone (its webhook was deleted) or re-leased elsewhere.
            Ok(false) => DeliveryOutcome::Unrecorded,
            Err(e) => {
                tracing::error!(delivery = %delivery.id, error = %e, "cannot record a failed webhook delivery");
                DeliveryOutcome::Unrecorded
            }
        }
    }

    /// POSTs the signed event; `Ok(status)` for a 2xx answer.
    async fn send(&self, delivery: &OutboxDelivery, target: &Target) -> Result<u16, AttemptError> {
        let body = json!({
            "id": delivery.event_id,
            "event": delivery.event_type,
            "payload": delivery.payload,
            "environment_id": delivery.environment_id,
            "webhook_id": delivery.webhook_id,
            "created_at": delivery.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
        .to_string()
        .into_bytes();
        let signature = patchbay::webhook::outbound::sign_event(
            target.secret.expose().as_bytes(),
            &body,
            SystemTime::now(),
        );
        let url = url::Url::parse(&target.url)
            .map_err(|e| AttemptError::Request(format!("the target URL is invalid: {e}")))?;
        self.options
            .destinations
            .check_url(&url)
            .map_err(|e| AttemptError::Request(e.to_string()))?;
        let timeout = self.options.request_timeout;
        let response = self
            .client
            .post(&target.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, USER_AGENT)
            .header(EVENT_HEADER, &delivery.event_type)
            .header(DELIVERY_HEADER, &delivery.id)
            .header(signature.name(), signature.value())
            .body(body)
            .send()
            .await
            .map_err(|e| AttemptError::from_reqwest(e, timeout))?;
        let status = response.status().as_u16();
        drop(response);
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(AttemptError::Status(status))
        }
    }
}

/// The `webhook` request log of one attempt: the event, the receiver's URL with its query
/// values masked, its status, the time it took and, when it failed, why.
fn delivery_log(
    delivery: &OutboxDelivery,
    target: &Target,
    started: SystemTime,
    sent: &Result<u16, AttemptError>,
) -> NewRequestLog {
    let duration = started.elapsed().unwrap_or_default();
    let status = match sent {
        Ok(status) | Err(AttemptError::Status(status)) => Some(*status),
        Err(_) => None,
    };
    let mut metadata = json!({
        "environment_id": delivery.environment_id,
        "webhook_id": delivery.webhook_id,
        "event": delivery.event_type,
        "event_id": delivery.event_id,
        "delivery_id": delivery.id,
        "attempt": delivery.attempts.max(1),
        "http_method": "POST",
        "http_url": mask_url_query(&target.url),
        "duration": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
        "webhook_successful": sent.is_ok(),
    });
    if let Some(status) = status {
        metadata["webhook_endpoint_status"] = json!(status);
    }
    if let Err(error) = sent {
        metadata["message"] = json!(error.to_string());
    }
    NewRequestLog {
        environment_id: delivery.environment_id.clone(),
        log_type: LogType::Webhook,
        created_at: started.into(),
        request_type: None,
        integrated_account_id: None,
        integration: None,
        webhook_id: Some(delivery.webhook_id.clone()),
        metadata: metadata.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::AttemptError;

    #[test]
    fn attempt_errors_name_no_url() {
        let text = AttemptError::Status(503).to_string();
        assert_eq!(text, "the receiver answered HTTP 503");
    }
}
