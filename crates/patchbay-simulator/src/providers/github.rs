//! GitHub REST: `per_page`/`page` with an RFC 8288 `Link` header (`prev`, `next`,
//! `last`, `first`), `{message, documentation_url}` errors. Repositories (list, get);
//! issues (list with `state` and `since` = updated at or after, get, create, update;
//! GitHub's REST API cannot delete an issue); issue comments (list per issue, create,
//! get, update, delete); repository assignees and users.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::data::{created_iso, created_unix, iso8601, person, updated_iso};
use crate::filter::{Cmp, Filter, Selection, Stamp, parse_time};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, json_body, set_header, url_with};

/// Comments on every issue.
pub(crate) const COMMENTS_PER_ISSUE: u64 = 3;

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/user/repos", get(list_repos))
        .api("/repos/{owner}/{repo}", get(get_repo))
        .api(
            "/repos/{owner}/{repo}/issues",
            get(list_issues).post(create_issue),
        )
        .api(
            "/repos/{owner}/{repo}/issues/{number}",
            get(get_issue).patch(update_issue),
        )
        .api(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(list_comments).post(create_comment),
        )
        .api(
            "/repos/{owner}/{repo}/issues/comments/{id}",
            get(get_comment)
                .patch(update_comment)
                .delete(delete_comment),
        )
        .api("/repos/{owner}/{repo}/assignees", get(list_assignees))
        .api("/users/{username}", get(get_user))
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

/// User `n` (login `user{n}`), in the short form GitHub embeds in other records.
fn user(n: u64) -> Value {
    json!({"login": format!("user{n}"), "id": n, "type": "User", "site_admin": false})
}

fn issue(ctx: &Ctx, owner: &str, name: &str, n: u64, state: &str) -> Value {
    json!({
        "id": n, "node_id": format!("I_sim{n}"), "number": n, "title": format!("Issue {n}"),
        "state": state, "user": {"login": "octocat", "id": 1}, "labels": [],
        "assignees": if n.is_multiple_of(4) { vec![] } else { vec![user(n % 5 + 1)] },
        "comments": COMMENTS_PER_ISSUE,
        "body": format!("Body of simulated issue {n}"), "created_at": created_iso(n),
        "updated_at": updated_iso(n), "closed_at": null,
        "url": format!("{}/repos/{owner}/{name}/issues/{n}", ctx.url()),
        "html_url": format!("https://github.com/{owner}/{name}/issues/{n}")
    })
}

/// Comment `k` (1-based) of issue `issue`; ids are `issue * 100 + k`.
fn comment(ctx: &Ctx, owner: &str, name: &str, issue: u64, k: u64) -> Value {
    let id = issue * 100 + k;
    let at = iso8601(created_unix(issue + k));
    json!({
        "id": id, "node_id": format!("IC_sim{id}"), "body": format!("Comment {k} on issue {issue}"),
        "user": user(issue % 5 + 1), "author_association": "MEMBER",
        "created_at": at, "updated_at": at,
        "url": format!("{}/repos/{owner}/{name}/issues/comments/{id}", ctx.url()),
        "issue_url": format!("{}/repos/{owner}/{name}/issues/{issue}", ctx.url())
    })
}

/// GitHub ignores unusable values: bad `page` means 1, bad `per_page` the default,
/// `per_page` above 100 means 100.
fn paginate(
    ctx: &Ctx,
    path: &str,
    raw: Option<&str>,
    selection: &Selection,
    make: impl Fn(u64) -> Value,
) -> Response {
    let q = Params::parse(raw);
    let per_page = ctx
        .p
        .limit(q.number("per_page").ok().flatten().filter(|n| *n > 0));
    let page = q.number("page").ok().flatten().unwrap_or(1).max(1);
    let (numbers, _) = selection.page((page - 1).saturating_mul(per_page), per_page);
    let items: Vec<Value> = numbers.into_iter().map(make).collect();
    let last_page = selection.len().div_ceil(per_page).max(1);
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
    let all = Selection::All(ctx.p.records);
    paginate(&ctx, "/user/repos", raw.as_deref(), &all, |n| repo(&ctx, n))
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
    let mut filter = Filter::default();
    if let Some(since) = q.get("since") {
        match parse_time(since) {
            Some(at) => filter.time(Stamp::Updated, Cmp::Gte, at),
            None => {
                return bad_request(
                    ctx.p.provider,
                    "invalid",
                    format!("Invalid value for `since`: {since} is not an ISO 8601 timestamp"),
                );
            }
        }
    }
    let selection = filter.select(ctx.p.records, &|_, _| None);
    let path = format!("/repos/{owner}/{name}/issues");
    paginate(&ctx, &path, raw.as_deref(), &selection, |n| {
        issue(&ctx, &owner, &name, n, state)
    })
}

fn parse_json(ctx: &Ctx, body: &Bytes) -> Result<Map<String, Value>, Response> {
    match json_body(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad_request(
            ctx.p.provider,
            "parse_error",
            "Problems parsing JSON",
        )),
    }
}

/// `record` with the writable issue fields of `input` applied.
fn apply_issue(mut record: Value, input: &Map<String, Value>) -> Value {
    for key in ["title", "body", "state"] {
        if let Some(value) = input.get(key) {
            record[key] = value.clone();
        }
    }
    if let Some(labels) = input.get("labels").and_then(Value::as_array) {
        record["labels"] = Value::Array(labels.iter().map(|l| json!({"name": l})).collect());
    }
    if let Some(logins) = input.get("assignees").and_then(Value::as_array) {
        record["assignees"] = Value::Array(
            logins
                .iter()
                .map(|l| json!({"login": l, "type": "User"}))
                .collect(),
        );
    }
    record
}

async fn create_issue(
    State(ctx): State<Ctx>,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let provider = ctx.p.provider;
    let input = match parse_json(&ctx, &body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    let Some(title) = input
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return missing_field(provider, "title", "title is required");
    };
    let n = ctx.p.next_created();
    let mut created = apply_issue(issue(&ctx, &owner, &name, n, "open"), &input);
    created["title"] = json!(title);
    created["body"] = input.get("body").cloned().unwrap_or(Value::Null);
    created["comments"] = json!(0);
    web::json(StatusCode::CREATED, created)
}

fn number_in(raw: &str, max: u64) -> Option<u64> {
    raw.parse::<u64>().ok().filter(|n| (1..=max).contains(n))
}

async fn get_issue(
    State(ctx): State<Ctx>,
    Path((owner, name, number)): Path<(String, String, String)>,
) -> Response {
    match number_in(&number, ctx.p.records) {
        Some(n) => web::ok(issue(&ctx, &owner, &name, n, "open")),
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn update_issue(
    State(ctx): State<Ctx>,
    Path((owner, name, number)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let input = match parse_json(&ctx, &body) {
        Ok(input) => input,
        Err(response) => return response,
    };
    match number_in(&number, ctx.p.records) {
        Some(n) => web::ok(apply_issue(issue(&ctx, &owner, &name, n, "open"), &input)),
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn list_comments(
    State(ctx): State<Ctx>,
    Path((owner, name, number)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(n) = number_in(&number, ctx.p.records) else {
        return not_found(ctx.p.provider, "Not Found");
    };
    let path = format!("/repos/{owner}/{name}/issues/{n}/comments");
    let all = Selection::All(COMMENTS_PER_ISSUE);
    paginate(&ctx, &path, raw.as_deref(), &all, |k| {
        comment(&ctx, &owner, &name, n, k)
    })
}

fn comment_body(ctx: &Ctx, body: &Bytes) -> Result<String, Response> {
    let input = parse_json(ctx, body)?;
    input
        .get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| missing_field(ctx.p.provider, "body", "body is required"))
}

async fn create_comment(
    State(ctx): State<Ctx>,
    Path((owner, name, number)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let text = match comment_body(&ctx, &body) {
        Ok(text) => text,
        Err(response) => return response,
    };
    let Some(n) = number_in(&number, ctx.p.records) else {
        return not_found(ctx.p.provider, "Not Found");
    };
    let mut created = comment(&ctx, &owner, &name, n, COMMENTS_PER_ISSUE + 1);
    created["body"] = json!(text);
    web::json(StatusCode::CREATED, created)
}

/// The (issue, k) of an existing comment id `issue * 100 + k`.
fn comment_of(ctx: &Ctx, id: &str) -> Option<(u64, u64)> {
    let id = id.parse::<u64>().ok()?;
    let (issue, k) = (id / 100, id % 100);
    ((1..=ctx.p.records).contains(&issue) && (1..=COMMENTS_PER_ISSUE).contains(&k))
        .then_some((issue, k))
}

async fn get_comment(
    State(ctx): State<Ctx>,
    Path((owner, name, id)): Path<(String, String, String)>,
) -> Response {
    match comment_of(&ctx, &id) {
        Some((issue, k)) => web::ok(comment(&ctx, &owner, &name, issue, k)),
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn update_comment(
    State(ctx): State<Ctx>,
    Path((owner, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let text = match comment_body(&ctx, &body) {
        Ok(text) => text,
        Err(response) => return response,
    };
    match comment_of(&ctx, &id) {
        Some((issue, k)) => {
            let mut updated = comment(&ctx, &owner, &name, issue, k);
            updated["body"] = json!(text);
            web::ok(updated)
        }
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn delete_comment(
    State(ctx): State<Ctx>,
    Path((_owner, _name, id)): Path<(String, String, String)>,
) -> Response {
    match comment_of(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found(ctx.p.provider, "Not Found"),
    }
}

async fn list_assignees(
    State(ctx): State<Ctx>,
    Path((owner, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let path = format!("/repos/{owner}/{name}/assignees");
    let all = Selection::All(ctx.p.records);
    paginate(&ctx, &path, raw.as_deref(), &all, user)
}

async fn get_user(State(ctx): State<Ctx>, Path(username): Path<String>) -> Response {
    let n = username
        .strip_prefix("user")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| (1..=ctx.p.records).contains(n));
    match n {
        Some(n) => {
            let (first, last, email) = person(n);
            let mut full = user(n);
            full["name"] = json!(format!("{first} {last}"));
            full["email"] = json!(email);
            full["created_at"] = json!(created_iso(n));
            full["updated_at"] = json!(updated_iso(n));
            web::ok(full)
        }
        None => not_found(ctx.p.provider, "Not Found"),
    }
}
