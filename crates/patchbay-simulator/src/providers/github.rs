//! GitHub REST: `per_page`/`page` with an RFC 8288 `Link` header (`prev`, `next`,
//! `last`, `first`), `{message, documentation_url}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::data::{Window, created_iso};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, json_body, set_header, url_with};

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/user/repos", get(list_repos))
        .api("/repos/{owner}/{repo}", get(get_repo))
        .api(
            "/repos/{owner}/{repo}/issues",
            get(list_issues).post(create_issue),
        )
}

fn repo(ctx: &Ctx, n: u64) -> Value {
    let at = created_iso(n);
    json!({
        "id": n, "node_id": format!("R_sim{n}"), "name": format!("repo-{n}"),
        "full_name": format!("octocat/repo-{n}"), "private": n.is_multiple_of(5),
        "owner": {"login": "octocat", "id": 1, "type": "User"},
        "html_url": format!("https://github.com/octocat/repo-{n}"),
        "description": format!("Simulated repository {n}"), "fork": false,
        "url": format!("{}/repos/octocat/repo-{n}", ctx.url()),
        "created_at": at, "updated_at": at, "default_branch": "main"
    })
}

fn issue(ctx: &Ctx, owner: &str, name: &str, n: u64, state: &str) -> Value {
    json!({
        "id": n, "node_id": format!("I_sim{n}"), "number": n, "title": format!("Issue {n}"),
        "state": state, "user": {"login": "octocat", "id": 1}, "labels": [],
        "body": format!("Body of simulated issue {n}"), "created_at": created_iso(n),
        "url": format!("{}/repos/{owner}/{name}/issues/{n}", ctx.url())
    })
}

/// GitHub ignores unusable values: bad `page` means 1, bad `per_page` the default,
/// `per_page` above 100 means 100.
fn paginate(ctx: &Ctx, path: &str, raw: Option<&str>, make: impl Fn(u64) -> Value) -> Response {
    let q = Params::parse(raw);
    let per_page = ctx
        .p
        .limit(q.number("per_page").ok().flatten().filter(|n| *n > 0));
    let page = q.number("page").ok().flatten().unwrap_or(1).max(1);
    let window = Window::new(ctx.p.records, (page - 1).saturating_mul(per_page), per_page);
    let items: Vec<Value> = window.numbers().map(make).collect();
    let last_page = ctx.p.records.div_ceil(per_page).max(1);
    let base = format!("{}{path}", ctx.url());
    let link = |p: u64, rel: &str| {
        let params = q
            .with("per_page", per_page.to_string())
            .with("page", p.to_string());
        format!("<{}>; rel=\"{rel}\"", url_with(&base, &params))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link((page - 1).min(last_page), "prev"));
    }
    if page < last_page {
        links.push(link(page + 1, "next"));
        links.push(link(last_page, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    let mut resp = web::ok(Value::Array(items));
    if !links.is_empty() {
        set_header(&mut resp, "link", &links.join(", "));
    }
    resp
}

async fn list_repos(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    paginate(&ctx, "/user/repos", raw.as_deref(), |n| repo(&ctx, n))
}

async fn get_repo(
    State(ctx): State<Ctx>,
    Path((_owner, name)): Path<(String, String)>,
) -> Response {
    let n = name
        .strip_prefix("repo-")
        .and_then(|n| n.parse::<u64>().ok());
    match n.filter(|n| (1..=ctx.p.records).contains(n)) {
        Some(n) => web::ok(repo(&ctx, n)),
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn list_issues(
    State(ctx): State<Ctx>,
    Path((owner, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let state = match q.get("state") {
        Some("closed") => "closed",
        _ => "open",
    };
    let path = format!("/repos/{owner}/{name}/issues");
    paginate(&ctx, &path, raw.as_deref(), |n| {
        issue(&ctx, &owner, &name, n, state)
    })
}

async fn create_issue(
    State(ctx): State<Ctx>,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let provider = ctx.p.provider;
    let Ok(input) = json_body(&body) else {
        return bad_request(provider, "parse_error", "Problems parsing JSON");
    };
    let Some(title) = input
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return missing_field(provider, "title", "title is required");
    };
    let n = ctx.p.next_created();
    let mut created = issue(&ctx, &owner, &name, n, "open");
    created["title"] = json!(title);
    created["body"] = input.get("body").cloned().unwrap_or(Value::Null);
    if let Some(labels) = input.get("labels").and_then(Value::as_array) {
        created["labels"] = Value::Array(labels.iter().map(|l| json!({"name": l})).collect());
    }
    web::json(StatusCode::CREATED, created)
}
