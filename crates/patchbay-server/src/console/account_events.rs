//! The "Recent events" section of an account's page: the webhook events
//! queued about the account ([`Store::account_events`]), newest first, each
//! with what became of its delivery to every webhook.
//!
//! [`Store::account_events`]: crate::store::Store::account_events

use std::fmt::Write as _;

use super::Failed;
use super::layout::{escape, when};
use super::webhooks::{all_webhooks, masked_urls};
use crate::state::AppState;
use crate::store::{DeliveryStatus, EventDelivery};

/// Events shown on an account's page.
const RECENT_EVENTS: u32 = 20;

/// The section listing the latest events about `account_id`.
pub(super) async fn section(
    state: &AppState,
    env: &str,
    account_id: &str,
) -> Result<String, Failed> {
    let events = state
        .store
        .account_events(env, account_id, RECENT_EVENTS)
        .await?;
    let mut html = String::from(
        "<section aria-labelledby=\"events\"><h2 id=\"events\">Recent events</h2>\
         <p class=\"hint\">The webhook events about this account (<code>integrated_account:*</code> \
         and its records' events). An event is kept only when a webhook subscribes to it, until \
         its delivery is pruned.</p>",
    );
    if events.is_empty() {
        html.push_str(
            "<p id=\"no-events\">No events were queued about this account.</p></section>",
        );
        return Ok(html);
    }
    let webhooks = all_webhooks(state, env).await?;
    let urls = masked_urls(&webhooks);
    html.push_str(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"events-caption\">\
         <table id=\"account-events\"><caption id=\"events-caption\">Events about this account, newest first</caption>\
         <thead><tr><th scope=\"col\">When</th><th scope=\"col\">Event</th>\
         <th scope=\"col\">Delivery</th></tr></thead><tbody>",
    );
    for event in &events {
        let _ = write!(
            html,
            "<tr id=\"event-{}\"><td>{}</td><td><code>{}</code></td><td><ul class=\"plain\">",
            escape(&event.event_id),
            when(&event.created_at),
            escape(&event.event_type),
        );
        for delivery in &event.deliveries {
            let webhook = urls
                .get(delivery.webhook_id.as_str())
                .map_or(delivery.webhook_id.as_str(), String::as_str);
            let _ = write!(
                html,
                "<li data-status=\"{}\">{} · <code>{}</code></li>",
                delivery.status.as_str(),
                escape(&outcome(delivery)),
                escape(webhook),
            );
        }
        html.push_str("</ul></td></tr>");
    }
    html.push_str("</tbody></table></div></section>");
    Ok(html)
}

/// What became of `delivery`, in words: `Delivered`, `Queued`,
/// `Retrying after 2 attempts: HTTP 500`, `Failed after 5 attempts: ...`.
fn outcome(delivery: &EventDelivery) -> String {
    let attempts = match delivery.attempts {
        1 => "1 attempt".to_owned(),
        n => format!("{n} attempts"),
    };
    let why = delivery
        .last_error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    match delivery.status {
        DeliveryStatus::Delivered if delivery.attempts > 1 => format!("Delivered after {attempts}"),
        DeliveryStatus::Delivered => "Delivered".to_owned(),
        DeliveryStatus::Pending if delivery.attempts == 0 => "Queued".to_owned(),
        DeliveryStatus::Pending => format!("Retrying after {attempts}{why}"),
        DeliveryStatus::Dead => format!("Failed after {attempts}{why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(status: DeliveryStatus, attempts: u32, error: Option<&str>) -> EventDelivery {
        EventDelivery {
            webhook_id: "wh".into(),
            status,
            attempts,
            last_error: error.map(str::to_owned),
            delivered_at: None,
        }
    }

    #[test]
    fn outcomes_say_where_a_delivery_stands() {
        use DeliveryStatus::*;
        assert_eq!(outcome(&delivery(Pending, 0, None)), "Queued");
        assert_eq!(
            outcome(&delivery(Pending, 2, Some("HTTP 500"))),
            "Retrying after 2 attempts: HTTP 500"
        );
        assert_eq!(outcome(&delivery(Delivered, 1, None)), "Delivered");
        assert_eq!(
            outcome(&delivery(Delivered, 3, None)),
            "Delivered after 3 attempts"
        );
        assert_eq!(
            outcome(&delivery(Dead, 1, Some("refused"))),
            "Failed after 1 attempt: refused"
        );
    }
}
