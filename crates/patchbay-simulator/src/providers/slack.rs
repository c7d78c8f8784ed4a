//! Slack Web API: `conversations.list` with `cursor`/`limit` → `channels`,
//! `response_metadata.next_cursor` (`""` on the last page); `chat.postMessage`.
//! Errors are HTTP 200 `{ok:false, error}` (except 429 `ratelimited`).

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{any, post};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_unix, cursor, uncursor};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, flat_body};

const TAG: &str = "channel";

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/api/conversations.list", any(list))
        .api("/api/chat.postMessage", post(post_message))
}

fn channel(n: u64) -> Value {
    json!({
        "id": format!("C{n:010}"), "name": format!("channel-{n}"), "is_channel": true,
        "is_group": false, "is_im": false, "is_archived": false, "is_general": n == 1,
        "is_private": false, "created": created_unix(n), "creator": "U0SIM",
        "num_members": n % 50 + 1,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": format!("Simulated channel {n}"), "creator": "", "last_set": 0}
    })
}

/// Slack takes arguments from the query string and, for POST, the form/JSON body.
fn arguments(
    method: &Method,
    raw: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Params> {
    let mut params = Params::parse(raw);
    if *method == Method::POST && !body.is_empty() {
        params.0.extend(flat_body(headers, body).ok()?.0);
    }
    Some(params)
}

async fn list(
    State(ctx): State<Ctx>,
    method: Method,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = match arguments(&method, raw.as_deref(), &headers, &body) {
        Some(a) => a,
        None => return bad_request(Provider::Slack, "invalid_arguments", ""),
    };
    let limit = match args.number("limit") {
        Ok(l) => ctx.p.limit(l.filter(|l| *l > 0)),
        Err(_) => return bad_request(Provider::Slack, "invalid_limit", ""),
    };
    let skip = match args.get("cursor") {
        None | Some("") => 0,
        Some(c) => match uncursor(TAG, c).filter(|n| *n >= 1 && *n <= ctx.p.records) {
            Some(n) => n - 1,
            None => return bad_request(Provider::Slack, "invalid_cursor", ""),
        },
    };
    let window = Window::new(ctx.p.records, skip, limit);
    let channels: Vec<Value> = window.numbers().map(channel).collect();
    let next = if window.has_more() {
        cursor(TAG, window.next())
    } else {
        String::new()
    };
    web::ok(json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": next}}))
}

async fn post_message(
    State(ctx): State<Ctx>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let args = match arguments(&Method::POST, raw.as_deref(), &headers, &body) {
        Some(a) => a,
        None => return bad_request(Provider::Slack, "invalid_arguments", ""),
    };
    let Some(channel) = args.get("channel").filter(|c| !c.is_empty()) else {
        return not_found(Provider::Slack, "channel_not_found");
    };
    let Some(text) = args.get("text").filter(|t| !t.is_empty()) else {
        return missing_field(Provider::Slack, "text", "no_text");
    };
    let ts = format!("1704067200.{:06}", ctx.p.next_created());
    web::ok(json!({"ok": true, "channel": channel, "ts": ts,
        "message": {"type": "message", "text": text, "user": "U0SIMBOT", "ts": ts}}))
}
