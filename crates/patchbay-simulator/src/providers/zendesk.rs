//! Zendesk Support tickets, ticket comments and users. Lists use cursor pagination when
//! any `page[...]` parameter is sent (`page[size]` ≤ 100, `page[after]`) → `meta.{has_more,
//! after_cursor, before_cursor}`, `links.{prev, next}`; otherwise the older offset style
//! (`page`, `per_page` → `next_page`, `previous_page`, `count`). Tickets: get, create
//! (`{ticket}`), update (`PUT`, fields merged), delete (204). Search
//! (`GET /search?query=...`, offset pages → `results`): `type:ticket|user`,
//! `created`/`updated` with `>`, `>=`, `<`, `<=`, `:` and an ISO 8601 value, `status:x`,
//! other words as keywords matched in the subject and description (a user's name and
//! email). Basic `email/token:api_token`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{created_iso, cursor, person, uncursor, updated_iso};
use crate::filter::{Cmp, Filter, Pattern, Selection, Stamp, parse_time};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, header_str, json_body, url_with};

const STATUSES: [&str; 4] = ["new", "open", "pending", "solved"];

/// Comments on every ticket.
pub(crate) const COMMENTS_PER_TICKET: u64 = 3;

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/api/v2/tickets", get(list_tickets).post(create))
        .api("/api/v2/tickets.json", get(list_tickets).post(create))
        .api(
            "/api/v2/tickets/{id}",
            get(get_one).put(update).delete(delete),
        )
        .api("/api/v2/tickets/{id}/comments", get(list_comments))
        .api("/api/v2/users", get(list_users))
        .api("/api/v2/users/{id}", get(get_user))
        .api("/api/v2/users/me", get(me))
        .api("/api/v2/users/me.json", get(me))
        .api("/api/v2/search", get(search))
        .api("/api/v2/search.json", get(search))
}

fn ticket(ctx: &Ctx, n: u64) -> Value {
    json!({
        "id": n, "url": format!("{}/api/v2/tickets/{n}.json", ctx.url()),
        "subject": format!("Ticket {n}"), "description": format!("Simulated ticket {n}"),
        "status": STATUSES[(n % 4) as usize], "priority": null, "type": "incident",
        "requester_id": 1000 + n, "submitter_id": 1000 + n,
        "assignee_id": (!n.is_multiple_of(7)).then_some(n % 5 + 1),
        "group_id": (!n.is_multiple_of(2)).then_some(360_000 + n % 3),
        "tags": [], "created_at": created_iso(n), "updated_at": updated_iso(n)
    })
}

fn user(ctx: &Ctx, n: u64) -> Value {
    let (first, last, email) = person(n);
    json!({
        "id": n, "url": format!("{}/api/v2/users/{n}.json", ctx.url()),
        "name": format!("{first} {last}"), "email": email,
        "role": if n <= 5 { "agent" } else { "end-user" }, "active": !n.is_multiple_of(9),
        "phone": (!n.is_multiple_of(4)).then(|| format!("+1-555-{:04}", n % 10_000)),
        "created_at": created_iso(n), "updated_at": updated_iso(n)
    })
}

/// Comment `k` (1-based) of ticket `ticket`; ids are `ticket * 100 + k`.
fn comment(ticket: u64, k: u64) -> Value {
    let body = format!("Comment {k} on ticket {ticket}");
    json!({
        "id": ticket * 100 + k, "type": "Comment", "author_id": 1000 + ticket,
        "body": body, "html_body": format!("<p>{body}</p>"), "plain_body": body,
        "public": k != 2, "attachments": [], "created_at": created_iso(ticket + k)
    })
}

fn invalid(message: impl Into<String>) -> Response {
    bad_request(Provider::Zendesk, "InvalidPaginationParameter", message)
}

/// A list endpoint: its path, the key of its records and the cursor tag.
struct Listing<'a> {
    path: &'a str,
    key: &'a str,
    tag: &'a str,
}

fn listing(
    ctx: &Ctx,
    q: &Params,
    list: &Listing<'_>,
    total: u64,
    make: impl Fn(u64) -> Value,
) -> Response {
    let selection = Selection::All(total);
    if q.0.iter().any(|(k, _)| k.starts_with("page[")) {
        cursor_page(ctx, q, list, &selection, make)
    } else {
        offset_page(ctx, q, list, &selection, make, None)
    }
}

fn cursor_page(
    ctx: &Ctx,
    q: &Params,
    list: &Listing<'_>,
    selection: &Selection,
    make: impl Fn(u64) -> Value,
) -> Response {
    let size = match q.number("page[size]") {
        Ok(None) => ctx.p.limit(None),
        Ok(Some(n)) if (1..=100).contains(&n) => n,
        Ok(Some(_)) => return invalid("page[size] must be between 1 and 100"),
        Err(e) => return invalid(e),
    };
    let skip = match q.get("page[after]") {
        None | Some("") => 0,
        Some(c) => match uncursor(list.tag, c).filter(|n| *n <= selection.len()) {
            Some(n) => n,
            None => return invalid("page[after] is not a valid cursor"),
        },
    };
    let (numbers, more) = selection.page(skip, size);
    let records: Vec<Value> = numbers.iter().map(|n| make(*n)).collect();
    let empty = records.is_empty();
    let after = (!empty).then(|| cursor(list.tag, skip + numbers.len() as u64));
    let before = (!empty).then(|| cursor(list.tag, skip));
    let base = format!("{}{}.json", ctx.url(), list.path);
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
        list.key: records,
        "meta": {"has_more": more, "after_cursor": after, "before_cursor": before},
        "links": {"prev": link("page[before]", &before), "next": link("page[after]", &after)}
    }))
}

fn offset_page(
    ctx: &Ctx,
    q: &Params,
    list: &Listing<'_>,
    selection: &Selection,
    make: impl Fn(u64) -> Value,
    keep: Option<(&str, &str)>,
) -> Response {
    let per_page = match q.number("per_page") {
        Ok(n) => ctx.p.limit(n),
        Err(e) => return invalid(e),
    };
    let page = match q.number("page") {
        Ok(n) => n.unwrap_or(1).max(1),
        Err(e) => return invalid(e),
    };
    let (numbers, more) = selection.page((page - 1).saturating_mul(per_page), per_page);
    let records: Vec<Value> = numbers.iter().map(|n| make(*n)).collect();
    let base = format!("{}{}.json", ctx.url(), list.path);
    let at = |p: u64| {
        let mut params = Params::default();
        if let Some((key, value)) = keep {
            params = params.with(key, value);
        }
        url_with(
            &base,
            &params
                .with("page", p.to_string())
                .with("per_page", per_page.to_string()),
        )
    };
    web::ok(json!({
        list.key: records,
        "next_page": more.then(|| at(page + 1)),
        "previous_page": (page > 1).then(|| at(page - 1)),
        "count": selection.len()
    }))
}

async fn list_tickets(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let list = Listing {
        path: "/api/v2/tickets",
        key: "tickets",
        tag: "zendesk-ticket",
    };
    listing(&ctx, &q, &list, ctx.p.records, |n| ticket(&ctx, n))
}

async fn list_users(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let list = Listing {
        path: "/api/v2/users",
        key: "users",
        tag: "zendesk-user",
    };
    listing(&ctx, &q, &list, ctx.p.records, |n| user(&ctx, n))
}

async fn list_comments(
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(ticket) = ticket_number(&ctx, &id) else {
        return not_found(Provider::Zendesk, "Not found");
    };
    let q = Params::parse(raw.as_deref());
    let path = format!("/api/v2/tickets/{ticket}/comments");
    let list = Listing {
        path: &path,
        key: "comments",
        tag: "zendesk-comment",
    };
    listing(&ctx, &q, &list, COMMENTS_PER_TICKET, |k| comment(ticket, k))
}

/// Parses Zendesk's search syntax into a filter on one record type.
fn parse_search(query: &str) -> Result<(&'static str, Filter), String> {
    let mut kind = "ticket";
    let mut filter = Filter::default();
    for term in query.split_whitespace() {
        let split = term.find([':', '<', '>']).map(|at| {
            let (key, rest) = term.split_at(at);
            let op_len = if rest[1..].starts_with('=') { 2 } else { 1 };
            (key, &rest[..op_len], &rest[op_len..])
        });
        match split {
            Some(("type", ":", "ticket")) => kind = "ticket",
            Some(("type", ":", "user")) => kind = "user",
            Some(("type", _, other)) => return Err(format!("unsupported type {other}")),
            Some((key @ ("created" | "updated"), op, value)) => {
                let stamp = if key == "created" {
                    Stamp::Created
                } else {
                    Stamp::Updated
                };
                let cmp = Cmp::from_symbol(op).ok_or_else(|| format!("bad operator in {term}"))?;
                let at = parse_time(value).ok_or_else(|| format!("invalid date in {term}"))?;
                filter.time(stamp, cmp, at);
            }
            Some(("status", ":", value)) => {
                filter.field("status", Pattern::Equals(value.to_lowercase()))
            }
            _ => filter.search(term.trim_matches('"')),
        }
    }
    Ok((kind, filter))
}

async fn search(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let Some(query) = q.get("query").filter(|t| !t.trim().is_empty()) else {
        return bad_request(
            Provider::Zendesk,
            "InvalidSearchParameter",
            "query is required",
        );
    };
    let (kind, filter) = match parse_search(query) {
        Ok(parsed) => parsed,
        Err(message) => return bad_request(Provider::Zendesk, "InvalidSearchParameter", message),
    };
    let make = |n: u64| {
        let mut record = if kind == "user" {
            user(&ctx, n)
        } else {
            ticket(&ctx, n)
        };
        record["result_type"] = json!(kind);
        record
    };
    let text = |n: u64, field: Option<&str>| {
        let record = if kind == "user" {
            user(&ctx, n)
        } else {
            ticket(&ctx, n)
        };
        let of = |name: &str| record[name].as_str().map(str::to_owned);
        match field {
            Some(name) => of(name),
            None if kind == "user" => Some(format!("{} {}", of("name")?, of("email")?)),
            None => Some(format!("{} {}", of("subject")?, of("description")?)),
        }
    };
    let selection = filter.select(ctx.p.records, &text);
    let list = Listing {
        path: "/api/v2/search",
        key: "results",
        tag: "",
    };
    offset_page(&ctx, &q, &list, &selection, make, Some(("query", query)))
}

fn ticket_number(ctx: &Ctx, id: &str) -> Option<u64> {
    id.trim_end_matches(".json")
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=ctx.p.records).contains(n))
}

/// The `ticket` object of a create or update body.
fn ticket_fields(body: &Bytes) -> Result<serde_json::Map<String, Value>, Response> {
    let input = json_body(body).map_err(|e| {
        bad_request(
            Provider::Zendesk,
            "InvalidJson",
            format!("Invalid JSON: {e}"),
        )
    })?;
    match input.get("ticket") {
        Some(Value::Object(fields)) => Ok(fields.clone()),
        _ => Err(missing_field(
            Provider::Zendesk,
            "ticket",
            "ticket: is required",
        )),
    }
}

/// `record` with the writable `fields` of a ticket body applied.
fn apply(mut record: Value, fields: &serde_json::Map<String, Value>) -> Value {
    for (key, value) in fields {
        match key.as_str() {
            "comment" => {
                if let Some(body) = value.get("body") {
                    record["description"] = body.clone();
                }
            }
            "subject" | "description" | "status" | "priority" | "type" | "assignee_id"
            | "group_id" | "requester_id" | "tags" => record[key] = value.clone(),
            _ => {}
        }
    }
    record
}

async fn create(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let fields = match ticket_fields(&body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let created = apply(ticket(&ctx, ctx.p.next_created()), &fields);
    web::json(StatusCode::CREATED, json!({"ticket": created}))
}

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match ticket_number(&ctx, &id) {
        Some(n) => web::ok(json!({"ticket": ticket(&ctx, n)})),
        None => not_found(Provider::Zendesk, "Not found"),
    }
}

async fn update(State(ctx): State<Ctx>, Path(id): Path<String>, body: Bytes) -> Response {
    let fields = match ticket_fields(&body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    match ticket_number(&ctx, &id) {
        Some(n) => web::ok(json!({"ticket": apply(ticket(&ctx, n), &fields)})),
        None => not_found(Provider::Zendesk, "Not found"),
    }
}

async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match ticket_number(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(Provider::Zendesk, "Not found"),
    }
}

async fn get_user(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match id
        .trim_end_matches(".json")
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=ctx.p.records).contains(n))
    {
        Some(n) => web::ok(json!({"user": user(&ctx, n)})),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_parse() {
        let (kind, filter) = parse_search(
            "type:ticket updated>=2024-01-01T00:40:00Z created<2024-01-01T00:20:00Z printer",
        )
        .expect("valid");
        assert_eq!(kind, "ticket");
        assert!(!filter.is_empty());
        assert_eq!(parse_search("type:user").expect("valid").0, "user");
        assert!(parse_search("created>soon").is_err());
        assert!(parse_search("type:organization").is_err());
    }
}
