//! Jira Cloud (through `api.atlassian.com/ex/jira/{cloudId}`): project search with
//! `startAt`/`maxResults` → `values`, `total`, `isLast`, `nextPage`; issue get;
//! `{errorMessages, errors}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, url_with};

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/ex/jira/{cloud_id}/rest/api/3/project/search", get(list))
        .api("/ex/jira/{cloud_id}/rest/api/3/issue/{id}", get(get_issue))
}

fn project(base: &str, n: u64) -> Value {
    let id = (10_000 + n).to_string();
    json!({
        "id": id, "key": format!("P{n}"), "name": format!("Project {n}"),
        "self": format!("{base}/rest/api/3/project/{id}"),
        "projectTypeKey": "software", "simplified": false, "style": "classic", "isPrivate": false
    })
}

async fn list(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let start_at = match q.number("startAt") {
        Ok(n) => n.unwrap_or(0),
        Err(_) => {
            return bad_request(
                Provider::Jira,
                "",
                "The 'startAt' parameter must be a number.",
            );
        }
    };
    let max_results = match q.number("maxResults") {
        Ok(n) => ctx.p.limit(n),
        Err(_) => {
            return bad_request(
                Provider::Jira,
                "",
                "The 'maxResults' parameter must be a number.",
            );
        }
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    let window = Window::new(ctx.p.records, start_at, max_results);
    let values: Vec<Value> = window.numbers().map(|n| project(&base, n)).collect();
    let here = format!("{base}/rest/api/3/project/search");
    let at = |s: u64| {
        url_with(
            &here,
            &q.with("startAt", s.to_string())
                .with("maxResults", max_results.to_string()),
        )
    };
    let mut body = json!({
        "self": at(start_at), "maxResults": max_results, "startAt": start_at,
        "total": ctx.p.records, "isLast": !window.has_more(), "values": values
    });
    if window.has_more() {
        body["nextPage"] = json!(at(window.last));
    }
    web::ok(body)
}

/// Issues `10001..` (ids) or `SIM-1..` (keys).
async fn get_issue(
    State(ctx): State<Ctx>,
    Path((cloud_id, id)): Path<(String, String)>,
) -> Response {
    let n = id
        .strip_prefix("SIM-")
        .and_then(|k| k.parse::<u64>().ok())
        .or_else(|| id.parse::<u64>().ok().and_then(|i| i.checked_sub(10_000)));
    let Some(n) = n.filter(|n| (1..=ctx.p.records).contains(n)) else {
        return not_found(
            Provider::Jira,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    let iid = (10_000 + n).to_string();
    web::ok(json!({
        "id": iid, "key": format!("SIM-{n}"),
        "self": format!("{}/ex/jira/{cloud_id}/rest/api/3/issue/{iid}", ctx.url()),
        "fields": {"summary": format!("Issue {n}"), "status": {"name": "To Do"}, "created": created_iso(n)}
    }))
}
