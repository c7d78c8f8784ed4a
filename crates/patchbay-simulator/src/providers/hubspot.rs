//! HubSpot CRM v3 contacts: `limit` + `after` → `results`, `paging.next.after` (absent on
//! the last page); search via `POST .../search` with `after`/`limit` in the body;
//! `{status:"error", message, category}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso, person};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, json_body, url_with};

const PATH: &str = "/crm/v3/objects/contacts";

pub(crate) fn routes(r: Routes) -> Routes {
    r.api(PATH, get(list))
        .api("/crm/v3/objects/contacts/search", post(search))
        .api("/crm/v3/objects/contacts/{id}", get(get_one))
}

fn contact(n: u64) -> Value {
    let (first, last, email) = person(n);
    let at = created_iso(n);
    json!({
        "id": n.to_string(),
        "properties": {"createdate": at, "email": email, "firstname": first, "lastname": last,
            "hs_object_id": n.to_string(), "lastmodifieddate": at},
        "createdAt": at, "updatedAt": at, "archived": false
    })
}

/// `after` is the record number to start at (HubSpot's cursors look like ids).
fn parse_after(raw: Option<&str>) -> Result<u64, String> {
    match raw {
        None | Some("") => Ok(1),
        Some(a) => a
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("Invalid input JSON: 'after' = {a} is not a valid cursor")),
    }
}

fn page(ctx: &Ctx, after: u64, limit: u64, with_total: bool) -> Value {
    let window = Window::new(ctx.p.records, after - 1, limit);
    let results: Vec<Value> = window.numbers().map(contact).collect();
    let mut body = json!({"results": results});
    if with_total {
        body["total"] = json!(ctx.p.records);
    }
    if window.has_more() {
        let next = window.next().to_string();
        let params = Params::default()
            .with("limit", limit.to_string())
            .with("after", next.clone());
        body["paging"] = json!({"next": {"after": next, "link": url_with(&format!("{}{PATH}", ctx.url()), &params)}});
    }
    body
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let limit = match q.number("limit") {
        Ok(l) => ctx.p.limit(l),
        Err(e) => return bad_request(Provider::Hubspot, "VALIDATION_ERROR", e),
    };
    match parse_after(q.get("after")) {
        Ok(after) => web::ok(page(&ctx, after, limit, false)),
        Err(message) => bad_request(Provider::Hubspot, "VALIDATION_ERROR", message),
    }
}

async fn search(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let input = match json_body(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return bad_request(
                Provider::Hubspot,
                "VALIDATION_ERROR",
                "Invalid input JSON: expected an object",
            );
        }
        Err(e) => {
            return bad_request(
                Provider::Hubspot,
                "VALIDATION_ERROR",
                format!("Invalid input JSON: {e}"),
            );
        }
    };
    let limit = match input.get("limit") {
        None | Some(Value::Null) => ctx.p.limit(None),
        Some(v) => match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(l) => ctx.p.limit(Some(l)),
            None => {
                return bad_request(
                    Provider::Hubspot,
                    "VALIDATION_ERROR",
                    "Invalid input JSON: 'limit' must be an integer",
                );
            }
        },
    };
    let after = match input.get("after") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    match parse_after(Some(&after)) {
        Ok(after) => web::ok(page(&ctx, after, limit, true)),
        Err(message) => bad_request(Provider::Hubspot, "VALIDATION_ERROR", message),
    }
}

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match id
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=ctx.p.records).contains(n))
    {
        Some(n) => web::ok(contact(n)),
        None => not_found(
            Provider::Hubspot,
            "Object not found.  objectId are usually numeric.",
        ),
    }
}
