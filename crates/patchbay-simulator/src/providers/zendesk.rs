//! Zendesk Support tickets. Cursor pagination when any `page[...]` parameter is sent
//! (`page[size]` ≤ 100, `page[after]`) → `tickets`, `meta.{has_more, after_cursor,
//! before_cursor}`, `links.{prev, next}`; otherwise the older offset style (`page`,
//! `per_page` → `next_page`, `previous_page`, `count`). Basic `email/token:api_token`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso, cursor, uncursor};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, header_str, json_body, url_with};

const TAG: &str = "zendesk-ticket";
const STATUSES: [&str; 4] = ["new", "open", "pending", "solved"];

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/api/v2/tickets", get(list).post(create))
        .api("/api/v2/tickets.json", get(list).post(create))
        .api("/api/v2/tickets/{id}", get(get_one))
        .api("/api/v2/users/me", get(me))
        .api("/api/v2/users/me.json", get(me))
}

fn ticket(ctx: &Ctx, n: u64) -> Value {
    let at = created_iso(n);
    json!({
        "id": n, "url": format!("{}/api/v2/tickets/{n}.json", ctx.url()),
        "subject": format!("Ticket {n}"), "description": format!("Simulated ticket {n}"),
        "status": STATUSES[(n % 4) as usize], "priority": null, "requester_id": 1000 + n,
        "tags": [], "created_at": at, "updated_at": at
    })
}

fn invalid(message: impl Into<String>) -> Response {
    bad_request(Provider::Zendesk, "InvalidPaginationParameter", message)
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    if q.0.iter().any(|(k, _)| k.starts_with("page[")) {
        cursor_page(&ctx, &q)
    } else {
        offset_page(&ctx, &q)
    }
}

fn cursor_page(ctx: &Ctx, q: &Params) -> Response {
    let size = match q.number("page[size]") {
        Ok(None) => ctx.p.limit(None),
        Ok(Some(n)) if (1..=100).contains(&n) => n,
        Ok(Some(_)) => return invalid("page[size] must be between 1 and 100"),
        Err(e) => return invalid(e),
    };
    let skip = match q.get("page[after]") {
        None | Some("") => 0,
        Some(c) => match uncursor(TAG, c).filter(|n| *n <= ctx.p.records) {
            Some(n) => n,
            None => return invalid("page[after] is not a valid cursor"),
        },
    };
    let window = Window::new(ctx.p.records, skip, size);
    let tickets: Vec<Value> = window.numbers().map(|n| ticket(ctx, n)).collect();
    let empty = tickets.is_empty();
    let after = (!empty).then(|| cursor(TAG, window.last));
    let before = (!empty).then(|| cursor(TAG, window.first.saturating_sub(1)));
    let base = format!("{}/api/v2/tickets.json", ctx.url());
    let link = |key: &str, c: &Option<String>| {
        c.as_ref().map(|c| {
            url_with(
                &base,
                &Params::default()
                    .with(key, c.clone())
                    .with("page[size]", size.to_string()),
            )
        })
    };
    web::ok(json!({
        "tickets": tickets,
        "meta": {"has_more": window.has_more(), "after_cursor": after, "before_cursor": before},
        "links": {"prev": link("page[before]", &before), "next": link("page[after]", &after)}
    }))
}

fn offset_page(ctx: &Ctx, q: &Params) -> Response {
    let per_page = match q.number("per_page") {
        Ok(n) => ctx.p.limit(n),
        Err(e) => return invalid(e),
    };
    let page = match q.number("page") {
        Ok(n) => n.unwrap_or(1).max(1),
        Err(e) => return invalid(e),
    };
    let window = Window::new(ctx.p.records, (page - 1).saturating_mul(per_page), per_page);
    let tickets: Vec<Value> = window.numbers().map(|n| ticket(ctx, n)).collect();
    let base = format!("{}/api/v2/tickets.json", ctx.url());
    let at = |p: u64| {
        url_with(
            &base,
            &Params::default()
                .with("page", p.to_string())
                .with("per_page", per_page.to_string()),
        )
    };
    web::ok(json!({
        "tickets": tickets,
        "next_page": window.has_more().then(|| at(page + 1)),
        "previous_page": (page > 1).then(|| at(page - 1)),
        "count": ctx.p.records
    }))
}

async fn create(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let input = match json_body(&body) {
        Ok(v) => v,
        Err(e) => {
            return bad_request(
                Provider::Zendesk,
                "InvalidJson",
                format!("Invalid JSON: {e}"),
            );
        }
    };
    let Some(fields) = input.get("ticket").and_then(Value::as_object) else {
        return missing_field(Provider::Zendesk, "ticket", "ticket: is required");
    };
    let n = ctx.p.next_created();
    let mut created = ticket(&ctx, n);
    if let Some(subject) = fields.get("subject") {
        created["subject"] = subject.clone();
    }
    if let Some(body) = fields.get("comment").and_then(|c| c.get("body")) {
        created["description"] = body.clone();
    }
    web::json(StatusCode::CREATED, json!({"ticket": created}))
}

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    let n = id.trim_end_matches(".json").parse::<u64>().ok();
    match n.filter(|n| (1..=ctx.p.records).contains(n)) {
        Some(n) => web::ok(json!({"ticket": ticket(&ctx, n)})),
        None => not_found(Provider::Zendesk, "Not found"),
    }
}

/// `GET /users/me`: the authenticated agent (email taken from the Basic username).
async fn me(headers: HeaderMap) -> Response {
    let email = header_str(&headers, "authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once('/').map(|(e, _)| e.to_owned()))
        .unwrap_or_else(|| "agent@example.com".to_owned());
    web::ok(
        json!({"user": {"id": 1, "name": "Simulated Agent", "email": email, "role": "admin", "active": true}}),
    )
}
