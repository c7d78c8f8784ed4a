//! Jira Cloud (through `api.atlassian.com/ex/jira/{cloudId}`): project search with
//! `startAt`/`maxResults` → `values`, `total`, `isLast`, `nextPage`; issue search with
//! JQL (`GET /rest/api/3/search/jql`: `jql`, `fields`, `maxResults`, `nextPageToken` →
//! `issues`, `nextPageToken`, `isLast`, no `total`); issue get/create/update/delete;
//! issue comments (PageBean `startAt`/`maxResults` → `comments`, `total`) and comment
//! create; user search (a bare array, `startAt`/`maxResults`) and get
//! (`/user?accountId=`); `{errorMessages, errors}` errors.
//!
//! JQL: clauses joined by `AND`: `created`/`updated` compared (`=`, `>`, `>=`, `<`,
//! `<=`) with a quoted `"yyyy-MM-dd HH:mm"` (or `yyyy/MM/dd`, UTC), `text ~ "x"` and
//! `summary ~ "x"` (substring), `project = SIM`; `ORDER BY` is accepted and ignored.
//! An issue search returns only ids unless `fields` names some (`*all`, `*navigable`
//! or a comma-separated list).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Provider;
use crate::data::{
    Window, created_iso, created_unix, cursor, iso8601, person, uncursor, updated_unix, uuid_for,
};
use crate::filter::{Cmp, Filter, Pattern, parse_time};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, json_body, url_with};

/// Comments on every issue.
pub(crate) const COMMENTS_PER_ISSUE: u64 = 3;
const TAG: &str = "jira-jql";
const USER_NS: u32 = 0x4a49_5241;
const STATUSES: [(&str, &str); 3] = [
    ("To Do", "new"),
    ("In Progress", "indeterminate"),
    ("Done", "done"),
];

pub(crate) fn routes(r: Routes) -> Routes {
    let root = "/ex/jira/{cloud_id}/rest/api/3";
    r.api(&format!("{root}/project/search"), get(list))
        .api(&format!("{root}/search/jql"), get(search_jql))
        .api(&format!("{root}/issue"), post(create_issue))
        .api(
            &format!("{root}/issue/{{id}}"),
            get(get_issue).put(update_issue).delete(delete_issue),
        )
        .api(
            &format!("{root}/issue/{{id}}/comment"),
            get(list_comments).post(create_comment),
        )
        .api(&format!("{root}/users/search"), get(list_users))
        .api(&format!("{root}/user"), get(get_user))
}

fn project(base: &str, n: u64) -> Value {
    let id = (10_000 + n).to_string();
    json!({
        "id": id, "key": format!("P{n}"), "name": format!("Project {n}"),
        "self": format!("{base}/rest/api/3/project/{id}"),
        "projectTypeKey": "software", "simplified": false, "style": "classic", "isPrivate": false
    })
}

/// Jira's timestamp format: `2024-01-01T00:01:00.000+0000`.
fn jira_time(unix: u64) -> String {
    iso8601(unix).replace('Z', ".000+0000")
}

fn account_id(n: u64) -> String {
    format!("712020:{}", uuid_for(USER_NS, n))
}

fn user(base: &str, n: u64) -> Value {
    let (first, last, email) = person(n);
    let id = account_id(n);
    json!({
        "self": format!("{base}/rest/api/3/user?accountId={id}"), "accountId": id,
        "accountType": "atlassian", "emailAddress": email,
        "displayName": format!("{first} {last}"), "active": !n.is_multiple_of(9),
        "timeZone": "UTC"
    })
}

/// A one-paragraph Atlassian Document Format document.
fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

fn issue_fields(base: &str, n: u64) -> Map<String, Value> {
    let (status, category) = STATUSES[(n % 3) as usize];
    let fields = json!({
        "summary": format!("Issue {n}"), "description": adf(&format!("Simulated issue {n}")),
        "status": {"name": status, "statusCategory": {"key": category}},
        "issuetype": {"name": "Task"}, "priority": {"name": "Medium"},
        "project": {"id": "10000", "key": "SIM", "name": "Simulated"},
        "assignee": (!n.is_multiple_of(4)).then(|| user(base, n % 5 + 1)),
        "reporter": user(base, n % 5 + 1),
        "created": jira_time(created_unix(n)), "updated": jira_time(updated_unix(n))
    });
    match fields {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Issue `n`, with the fields `wanted` selects (`None`: ids only).
fn issue(base: &str, n: u64, wanted: Option<&str>) -> Value {
    let id = (10_000 + n).to_string();
    let mut record = json!({
        "id": id, "key": format!("SIM-{n}"), "self": format!("{base}/rest/api/3/issue/{id}")
    });
    if let Some(wanted) = wanted {
        let names: Vec<&str> = wanted.split(',').map(str::trim).collect();
        let all = names.iter().any(|w| *w == "*all" || *w == "*navigable");
        let fields: Map<String, Value> = issue_fields(base, n)
            .into_iter()
            .filter(|(k, _)| all || names.contains(&k.as_str()))
            .collect();
        record["fields"] = Value::Object(fields);
    }
    record
}

fn comment(base: &str, issue: u64, k: u64) -> Value {
    let id = (issue * 100 + k).to_string();
    json!({
        "id": id, "self": format!("{base}/rest/api/3/issue/{}/comment/{id}", 10_000 + issue),
        "author": user(base, issue % 5 + 1), "body": adf(&format!("Comment {k} on issue {issue}")),
        "created": jira_time(created_unix(issue + k)), "updated": jira_time(created_unix(issue + k)),
        "jsdPublic": true
    })
}

fn bad(message: impl Into<String>) -> Response {
    bad_request(Provider::Jira, "", message)
}

/// `startAt` and `maxResults` of a PageBean request.
fn offsets(ctx: &Ctx, q: &Params) -> Result<(u64, u64), Response> {
    let start_at = q
        .number("startAt")
        .map_err(|_| bad("The 'startAt' parameter must be a number."))?
        .unwrap_or(0);
    let max_results = q
        .number("maxResults")
        .map_err(|_| bad("The 'maxResults' parameter must be a number."))?;
    Ok((start_at, ctx.p.limit(max_results)))
}

async fn list(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let (start_at, max_results) = match offsets(&ctx, &q) {
        Ok(o) => o,
        Err(response) => return response,
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

/// Splits JQL into words and quoted strings (`"..."`, `\"` escapes a quote).
fn jql_tokens(jql: &str) -> Result<Vec<(bool, String)>, String> {
    let mut tokens = Vec::new();
    let mut chars = jql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\\') => text.extend(chars.next()),
                    Some('"') => break,
                    Some(other) => text.push(other),
                    None => return Err("The quoted string is not terminated.".into()),
                }
            }
            tokens.push((true, text));
        } else if matches!(c, '<' | '>' | '=' | '~' | '!') {
            let mut op = String::from(c);
            chars.next();
            if chars.peek() == Some(&'=') {
                op.push('=');
                chars.next();
            }
            tokens.push((false, op));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || matches!(c, '"' | '<' | '>' | '=' | '~' | '!') {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push((false, word));
        }
    }
    Ok(tokens)
}

/// Parses the JQL subset described in the module docs.
fn parse_jql(jql: &str) -> Result<Filter, String> {
    let tokens = jql_tokens(jql)?;
    let mut filter = Filter::default();
    let mut at = 0;
    while at < tokens.len() {
        if tokens[at].1.eq_ignore_ascii_case("order") {
            break;
        }
        let [(_, field), (_, op), (_, value)] = tokens.get(at..at + 3).ok_or_else(|| {
            format!(
                "Error in the JQL Query: incomplete clause at '{}'",
                tokens[at].1
            )
        })?
        else {
            return Err("Error in the JQL Query".into());
        };
        match (field.to_ascii_lowercase().as_str(), op.as_str()) {
            (stamp @ ("created" | "updated"), op) => {
                let cmp = Cmp::from_symbol(op).ok_or_else(|| {
                    format!("The operator '{op}' is not supported by the '{field}' field.")
                })?;
                let at_time = parse_time(value).ok_or_else(|| {
                    format!("Date value '{value}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'.")
                })?;
                let stamp = if stamp == "created" {
                    crate::filter::Stamp::Created
                } else {
                    crate::filter::Stamp::Updated
                };
                filter.time(stamp, cmp, at_time);
            }
            ("text", "~") => filter.search(value),
            ("summary", "~") => filter.field("summary", Pattern::Contains(value.to_lowercase())),
            ("project", "=") => filter.field("project", Pattern::Equals(value.to_lowercase())),
            (name @ ("text" | "summary" | "project"), op) => {
                return Err(format!(
                    "The operator '{op}' is not supported by the '{name}' field."
                ));
            }
            _ => {
                return Err(format!(
                    "Field '{field}' does not exist or you do not have permission to view it."
                ));
            }
        }
        at += 3;
        if tokens
            .get(at)
            .is_some_and(|(quoted, w)| !quoted && w.eq_ignore_ascii_case("and"))
        {
            at += 1;
        }
    }
    Ok(filter)
}

async fn search_jql(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let filter = match parse_jql(q.get("jql").unwrap_or_default()) {
        Ok(filter) => filter,
        Err(message) => return bad(message),
    };
    let max_results = match q.number("maxResults") {
        Ok(n) => ctx.p.limit(n),
        Err(_) => return bad("The 'maxResults' parameter must be a number."),
    };
    let skip = match q.get("nextPageToken") {
        None | Some("") => 0,
        Some(token) => match uncursor(TAG, token) {
            Some(n) => n,
            None => return bad("The provided next page token is invalid or expired."),
        },
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    let text = |n: u64, field: Option<&str>| match field {
        Some("summary") => Some(format!("Issue {n}")),
        Some("project") => Some("SIM".to_owned()),
        Some(_) => None,
        None => Some(format!("Issue {n} Simulated issue {n}")),
    };
    let selection = filter.select(ctx.p.records, &text);
    let (numbers, more) = selection.page(skip, max_results);
    let issues: Vec<Value> = numbers
        .iter()
        .map(|n| issue(&base, *n, q.get("fields")))
        .collect();
    let mut body = json!({"issues": issues, "isLast": !more});
    if more {
        body["nextPageToken"] = json!(cursor(TAG, skip + numbers.len() as u64));
    }
    web::ok(body)
}

/// Issues `10001..` (ids) or `SIM-1..` (keys).
fn issue_number(ctx: &Ctx, id: &str) -> Option<u64> {
    id.strip_prefix("SIM-")
        .and_then(|k| k.parse::<u64>().ok())
        .or_else(|| id.parse::<u64>().ok().and_then(|i| i.checked_sub(10_000)))
        .filter(|n| (1..=ctx.p.records).contains(n))
}

fn no_issue() -> Response {
    not_found(
        Provider::Jira,
        "Issue does not exist or you do not have permission to see it.",
    )
}

async fn get_issue(
    State(ctx): State<Ctx>,
    Path((cloud_id, id)): Path<(String, String)>,
) -> Response {
    let Some(n) = issue_number(&ctx, &id) else {
        return no_issue();
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    web::ok(issue(&base, n, Some("*all")))
}

/// The `fields` object of an issue create or update body.
fn fields_of(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match json_body(body) {
        Ok(Value::Object(mut map)) => match map.remove("fields") {
            Some(Value::Object(fields)) => Ok(fields),
            None => Ok(Map::new()),
            Some(_) => Err(bad("fields must be an object")),
        },
        Ok(_) => Err(bad("The request body must be a JSON object.")),
        Err(e) => Err(bad(format!(
            "Unexpected character in the request body: {e}"
        ))),
    }
}

async fn create_issue(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = match fields_of(&body) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let summary = fields
        .get("summary")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if summary.is_empty() {
        return missing_field(
            Provider::Jira,
            "summary",
            "You must specify a summary of the issue.",
        );
    }
    if fields.get("project").is_none() {
        return missing_field(
            Provider::Jira,
            "project",
            "Specify a valid project ID or key",
        );
    }
    let n = ctx.p.next_created();
    let id = (10_000 + n).to_string();
    web::json(
        StatusCode::CREATED,
        json!({"id": id, "key": format!("SIM-{n}"),
               "self": format!("{}/ex/jira/{cloud_id}/rest/api/3/issue/{id}", ctx.url())}),
    )
}

async fn update_issue(
    State(ctx): State<Ctx>,
    Path((_cloud_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Err(response) = fields_of(&body) {
        return response;
    }
    match issue_number(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => no_issue(),
    }
}

async fn delete_issue(
    State(ctx): State<Ctx>,
    Path((_cloud_id, id)): Path<(String, String)>,
) -> Response {
    match issue_number(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => no_issue(),
    }
}

async fn list_comments(
    State(ctx): State<Ctx>,
    Path((cloud_id, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(n) = issue_number(&ctx, &id) else {
        return no_issue();
    };
    let q = Params::parse(raw.as_deref());
    let (start_at, max_results) = match offsets(&ctx, &q) {
        Ok(o) => o,
        Err(response) => return response,
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    let window = Window::new(COMMENTS_PER_ISSUE, start_at, max_results);
    let comments: Vec<Value> = window.numbers().map(|k| comment(&base, n, k)).collect();
    web::ok(json!({
        "startAt": start_at, "maxResults": max_results, "total": COMMENTS_PER_ISSUE,
        "comments": comments
    }))
}

async fn create_comment(
    State(ctx): State<Ctx>,
    Path((cloud_id, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(n) = issue_number(&ctx, &id) else {
        return no_issue();
    };
    let input = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("Unexpected character in the request body: {e}")),
    };
    let Some(text) = input.get("body").filter(|b| b.is_object()) else {
        return missing_field(Provider::Jira, "body", "Comment body can not be empty!");
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    let mut created = comment(&base, n, COMMENTS_PER_ISSUE + 1);
    created["body"] = text.clone();
    created["created"] = json!(created_iso(ctx.p.next_created()).replace('Z', ".000+0000"));
    web::json(StatusCode::CREATED, created)
}

async fn list_users(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let (start_at, max_results) = match offsets(&ctx, &q) {
        Ok(o) => o,
        Err(response) => return response,
    };
    let base = format!("{}/ex/jira/{cloud_id}", ctx.url());
    let window = Window::new(ctx.p.records, start_at, max_results);
    web::ok(Value::Array(
        window.numbers().map(|n| user(&base, n)).collect(),
    ))
}

async fn get_user(
    State(ctx): State<Ctx>,
    Path(cloud_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let n = q
        .get("accountId")
        .and_then(|id| id.strip_prefix("712020:"))
        .and_then(|uuid| crate::data::uuid_number(USER_NS, uuid))
        .filter(|n| (1..=ctx.p.records).contains(n));
    match n {
        Some(n) => web::ok(user(&format!("{}/ex/jira/{cloud_id}", ctx.url()), n)),
        None => not_found(
            Provider::Jira,
            "Specified user does not exist or you do not have required permissions",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jql_parses_dates_text_and_order() {
        let filter = parse_jql(r#"updated >= "2024-01-01 00:33" AND created < "2024/01/01 00:06" AND text ~ "issue" ORDER BY updated ASC"#)
            .expect("valid");
        let text = |n: u64, _: Option<&str>| Some(format!("Issue {n}"));
        // updated = created + 30 min: updated >= 00:33 means n >= 3; created < 00:06 means n <= 5.
        assert_eq!(filter.select(20, &text).page(0, 20).0, vec![3, 4, 5]);
        assert!(
            parse_jql("assignee = bob")
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            parse_jql(r#"updated >= "soon""#)
                .unwrap_err()
                .contains("invalid")
        );
        assert!(parse_jql("").expect("empty").is_empty());
    }
}
