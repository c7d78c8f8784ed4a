//! Stripe customers: `limit` (1..=100) + `starting_after=<id>` → `{object:"list", url,
//! has_more, data}`; form-encoded create; `{error:{type, code, message}}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_unix, person};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params};

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/v1/customers", get(list).post(create))
        .api("/v1/customers/{id}", get(get_one))
}

fn customer_id(n: u64) -> String {
    format!("cus_SIM{n:010}")
}

fn customer_number(id: &str) -> Option<u64> {
    id.strip_prefix("cus_SIM")
        .filter(|d| d.len() == 10)
        .and_then(|d| d.parse().ok())
}

fn customer(n: u64) -> Value {
    let (first, last, email) = person(n);
    json!({
        "id": customer_id(n), "object": "customer", "created": created_unix(n),
        "email": email, "name": format!("{first} {last}"), "description": null,
        "livemode": false, "metadata": {}
    })
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let limit = match q.get("limit") {
        None => ctx.p.limit(None),
        Some(l) => match l.parse::<i64>() {
            Err(_) => {
                return bad_request(
                    Provider::Stripe,
                    "parameter_invalid_integer",
                    format!("Invalid integer: {l}"),
                );
            }
            Ok(n) if n < 1 => {
                return bad_request(
                    Provider::Stripe,
                    "parameter_invalid_integer",
                    "This value must be greater than or equal to 1.",
                );
            }
            Ok(n) if n > 100 => {
                return bad_request(
                    Provider::Stripe,
                    "parameter_invalid_integer",
                    "This value must be less than or equal to 100.",
                );
            }
            Ok(n) => n.unsigned_abs(),
        },
    };
    let skip = match q.get("starting_after") {
        None => 0,
        Some(id) => match customer_number(id).filter(|n| *n >= 1 && *n <= ctx.p.records) {
            Some(n) => n,
            None => {
                return bad_request(
                    Provider::Stripe,
                    "resource_missing",
                    format!("No such customer: '{id}'"),
                );
            }
        },
    };
    let window = Window::new(ctx.p.records, skip, limit);
    let data: Vec<Value> = window.numbers().map(customer).collect();
    web::ok(
        json!({"object": "list", "url": "/v1/customers", "has_more": window.has_more(), "data": data}),
    )
}

async fn create(State(ctx): State<Ctx>, body: Bytes) -> Response {
    let Ok(text) = std::str::from_utf8(&body) else {
        return bad_request(
            Provider::Stripe,
            "parameter_invalid_string",
            "Request body must be form-encoded UTF-8",
        );
    };
    let form = Params::parse(Some(text));
    let n = ctx.p.next_created();
    let mut created = customer(n);
    created["email"] = form.get("email").map_or(Value::Null, |e| json!(e));
    created["name"] = form.get("name").map_or(Value::Null, |e| json!(e));
    web::ok(created)
}

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match customer_number(&id).filter(|n| *n >= 1 && *n <= ctx.p.records) {
        Some(n) => web::ok(customer(n)),
        None => not_found(Provider::Stripe, format!("No such customer: '{id}'")),
    }
}
