//! Notion search: `POST /v1/search` with `start_cursor`/`page_size` (≤ 100) in the JSON
//! body → `{object:"list", results, next_cursor, has_more}`. Requires `Notion-Version`.
//! Errors are `{object:"error", status, code, message}`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::Provider;
use crate::data::{Window, created_iso, uuid_for, uuid_number};
use crate::problem::bad_request;
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, header_str, json_body};

const NS: u32 = 0x6e07_1011;

pub(crate) fn routes(r: Routes) -> Routes {
    r.api("/v1/search", post(search))
}

fn page(n: u64) -> Value {
    let id = uuid_for(NS, n);
    let title = format!("Page {n}");
    let at = created_iso(n);
    json!({
        "object": "page", "id": id, "created_time": at, "last_edited_time": at,
        "archived": false, "in_trash": false, "parent": {"type": "workspace", "workspace": true},
        "url": format!("https://www.notion.so/Page-{n}-{}", id.replace('-', "")),
        "properties": {"title": {"id": "title", "type": "title", "title": [
            {"type": "text", "text": {"content": title, "link": null}, "plain_text": title}
        ]}}
    })
}

fn invalid(message: impl Into<String>) -> Response {
    bad_request(Provider::Notion, "validation_error", message)
}

async fn search(State(ctx): State<Ctx>, headers: HeaderMap, body: Bytes) -> Response {
    if header_str(&headers, "notion-version").is_none_or(str::is_empty) {
        return bad_request(
            Provider::Notion,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
        );
    }
    let input = match json_body(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return invalid("body failed validation: body should be an object."),
        Err(e) => {
            return bad_request(
                Provider::Notion,
                "invalid_json",
                format!("Error parsing JSON body: {e}"),
            );
        }
    };
    let page_size = match input.get("page_size") {
        None | Some(Value::Null) => ctx.p.limit(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=100).contains(&n) => n,
            _ => {
                return invalid(format!(
                    "body failed validation: body.page_size should be a number between 1 and 100, instead was `{v}`."
                ));
            }
        },
    };
    let skip = match input.get("start_cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => {
            match uuid_number(NS, c).filter(|n| *n >= 1 && *n <= ctx.p.records) {
                Some(n) => n - 1,
                None => return invalid(format!("The start_cursor provided is invalid: {c}")),
            }
        }
        Some(other) => {
            return invalid(format!(
                "body failed validation: body.start_cursor should be a string, instead was `{other}`."
            ));
        }
    };
    let only_databases = input.pointer("/filter/value").and_then(Value::as_str) == Some("database");
    let total = if only_databases { 0 } else { ctx.p.records };
    let window = Window::new(total, skip, page_size);
    let results: Vec<Value> = window.numbers().map(page).collect();
    let next = window.has_more().then(|| uuid_for(NS, window.next()));
    web::ok(json!({
        "object": "list", "results": results, "next_cursor": next, "has_more": window.has_more(),
        "type": "page_or_database", "page_or_database": {}
    }))
}
