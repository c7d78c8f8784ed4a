//! `GET /console/webhooks`: the environment's subscriptions and their recent
//! deliveries (the `webhook` request logs: one per attempt, with its number,
//! the receiver's status and why it failed); `POST
//! /console/webhooks/{id}/test` queues a test event, as `POST /webhook/test`.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Failed;
use super::csrf::{self, hidden_field};
use super::form::Form;
use super::layout::{Screen, Section, escape, notice, when};
use super::session::Signed;
use crate::redact::mask_url_query;
use crate::routes::webhooks::queue_test_event;
use crate::state::AppState;
use crate::store::{LogQuery, LogType, MAX_PAGE_SIZE, PageRequest, Webhook};

/// Delivery attempts shown.
const RECENT_DELIVERIES: u32 = 50;

/// `GET /console/webhooks[?sent=<webhook id>]`.
pub(super) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failed> {
    let query = Form::parse(raw.unwrap_or_default().as_bytes());
    let env = signed.env();
    let webhooks = all_webhooks(&state, env).await?;
    let mut body = String::new();
    if query.text("sent").is_some() {
        body.push_str(&notice(
            "A test event is queued; its delivery shows below once it is sent.",
        ));
    }
    body.push_str(
        "<section aria-labelledby=\"subscriptions\"><h2 id=\"subscriptions\">Subscriptions</h2>",
    );
    let urls = masked_urls(&webhooks);
    if webhooks.is_empty() {
        body.push_str(
            "<p id=\"no-webhooks\">No webhooks. Subscribe one with <code>POST /webhook</code>.</p>",
        );
    } else {
        body.push_str(
            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"webhooks-caption\">\
             <table id=\"webhooks\"><caption id=\"webhooks-caption\">Where events are sent</caption>\
             <thead><tr><th scope=\"col\">URL</th><th scope=\"col\">Events</th>\
             <th scope=\"col\">Active</th><th scope=\"col\">Created</th><th scope=\"col\">Test</th></tr></thead><tbody>",
        );
        for webhook in &webhooks {
            let test = if webhook.is_active {
                format!(
                    "<form method=\"post\" action=\"/console/webhooks/{id}/test\">{}\
                     <button type=\"submit\" class=\"secondary\" id=\"test-{id}\">Send test event</button></form>",
                    hidden_field(&signed.session.csrf),
                    id = escape(&webhook.id),
                )
            } else {
                "Inactive webhooks receive nothing".to_owned()
            };
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{test}</td></tr>",
                escape(urls.get(webhook.id.as_str()).map_or("", String::as_str)),
                escape(&webhook.event_types.join(", ")),
                if webhook.is_active { "Yes" } else { "No" },
                when(&webhook.created_at),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>");
    body.push_str(&deliveries(&state, env, &urls).await?);
    Ok(Screen::signed(&signed, Section::Webhooks, "Webhooks", body).into_response())
}

/// The environment's webhooks (the first [`MAX_PAGE_SIZE`]).
pub(super) async fn all_webhooks(state: &AppState, env: &str) -> Result<Vec<Webhook>, Failed> {
    Ok(state
        .store
        .list_webhooks(
            env,
            &PageRequest {
                limit: Some(MAX_PAGE_SIZE),
                cursor: None,
            },
        )
        .await?
        .result)
}

/// Each webhook's URL by id, its query masked (it may carry a secret).
pub(super) fn masked_urls(webhooks: &[Webhook]) -> HashMap<&str, String> {
    webhooks
        .iter()
        .map(|w| (w.id.as_str(), mask_url_query(&w.target_url)))
        .collect()
}

/// The latest delivery attempts, newest first.
async fn deliveries(
    state: &AppState,
    env: &str,
    urls: &HashMap<&str, String>,
) -> Result<String, Failed> {
    let logs = state
        .store
        .list_request_logs(
            env,
            &LogQuery::new(LogType::Webhook),
            &PageRequest {
                limit: Some(RECENT_DELIVERIES),
                cursor: None,
            },
        )
        .await?
        .result;
    let mut html = String::from(
        "<section aria-labelledby=\"deliveries\"><h2 id=\"deliveries\">Recent deliveries</h2>",
    );
    if logs.is_empty() {
        html.push_str("<p id=\"no-deliveries\">No deliveries yet.</p></section>");
        return Ok(html);
    }
    html.push_str(
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-labelledby=\"deliveries-caption\">\
         <table id=\"delivery-attempts\"><caption id=\"deliveries-caption\">Each attempt, newest first</caption>\
         <thead><tr><th scope=\"col\">When</th><th scope=\"col\">Event</th><th scope=\"col\">Webhook</th>\
         <th scope=\"col\">Attempt</th><th scope=\"col\">Result</th></tr></thead><tbody>",
    );
    for log in &logs {
        let m = &log.metadata;
        let webhook = m["webhook_id"].as_str().unwrap_or_default();
        let attempt = m["attempt"].as_u64().unwrap_or(1);
        let retries = match attempt.saturating_sub(1) {
            0 => "first try".to_owned(),
            1 => "1 retry".to_owned(),
            n => format!("{n} retries"),
        };
        let status = m["webhook_endpoint_status"]
            .as_u64()
            .map(|s| format!("HTTP {s}"));
        let result = if m["webhook_successful"].as_bool() == Some(true) {
            format!("Delivered ({})", status.unwrap_or_default())
        } else {
            let why = m["message"].as_str().unwrap_or("failed");
            match status {
                Some(status) => format!("Failed ({status}): {why}"),
                None => format!("Failed: {why}"),
            }
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{attempt} ({retries})</td><td>{}</td></tr>",
            when(&log.created_at),
            escape(m["event"].as_str().unwrap_or_default()),
            escape(urls.get(webhook).map_or(webhook, String::as_str)),
            escape(&result),
        );
    }
    html.push_str("</tbody></table></div></section>");
    Ok(html)
}

/// `POST /console/webhooks/{id}/test` (form: `csrf_token`): 303 back to the
/// page with a notice, or a page saying why not (inactive: 409).
pub(super) async fn send_test(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failed> {
    if let Err(refused) = csrf::signed_form(&state, &headers, &body, &signed) {
        return Ok(refused.page());
    }
    let queued = queue_test_event(&state, signed.env(), &id).await?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    let location = format!(
        "/console/webhooks?sent={}",
        url::form_urlencoded::byte_serialize(queued.webhook_id.as_bytes()).collect::<String>()
    );
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}
