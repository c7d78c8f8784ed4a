//! Microsoft Graph users: `$top` (1..=999) → `value` and a full-URL `@odata.nextLink`
//! carrying `$skiptoken`; `{error:{code, message}}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, cursor, person, uncursor, uuid_for, uuid_number};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, url_with};

const NS: u32 = 0x6a9a_0001;
const TAG: &str = "users";

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/v1.0/users", get(list))
        .api("/v1.0/users/{id}", get(get_one))
}

fn user(n: u64) -> Value {
    let (first, last, email) = person(n);
    json!({
        "id": uuid_for(NS, n), "displayName": format!("{first} {last}"), "givenName": first,
        "surname": last, "mail": email, "userPrincipalName": format!("user{n}@simulated.onmicrosoft.com"),
        "jobTitle": null, "businessPhones": [], "mobilePhone": null, "officeLocation": null,
        "preferredLanguage": "en-US"
    })
}

async fn list(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    let q = Params::parse(raw.as_deref());
    let top = match q.get("$top") {
        None => ctx.p.limit(None),
        Some(t) => match t.parse::<u64>() {
            Ok(n) if (1..=999).contains(&n) => n,
            _ => {
                return bad_request(
                    Provider::MicrosoftGraph,
                    "Request_UnsupportedQuery",
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                );
            }
        },
    };
    let skip = match q.get("$skiptoken") {
        None => 0,
        Some(t) => match uncursor(TAG, t).filter(|n| *n <= ctx.p.records) {
            Some(n) => n,
            None => {
                return bad_request(
                    Provider::MicrosoftGraph,
                    "Directory_InvalidPageToken",
                    "The specified page token value has expired or is invalid.",
                );
            }
        },
    };
    let window = Window::new(ctx.p.records, skip, top);
    let value: Vec<Value> = window.numbers().map(user).collect();
    let mut body = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", "value": value});
    if window.has_more() {
        let params = q
            .with("$top", top.to_string())
            .with("$skiptoken", cursor(TAG, window.last));
        body["@odata.nextLink"] = json!(url_with(&format!("{}/v1.0/users", ctx.url()), &params));
    }
    web::ok(body)
}

async fn get_one(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match uuid_number(NS, &id).filter(|n| (1..=ctx.p.records).contains(n)) {
        Some(n) => web::ok(user(n)),
        None => not_found(
            Provider::MicrosoftGraph,
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}
