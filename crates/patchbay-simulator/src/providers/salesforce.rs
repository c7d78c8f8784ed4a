//! Salesforce REST: SOQL `query` returning `totalSize`, `done`, `records` and a
//! host-relative `nextRecordsUrl`; sObject get/create/update; `[{message, errorCode}]`
//! errors. Batch size: the setup's page size, or `Sforce-Query-Options: batchSize=N`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Provider;
use crate::data::{Window, created_unix, iso8601, person};
use crate::problem::{bad_request, missing_field, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, header_str, json_body};

pub(crate) fn routes(r: Routes) -> Routes {
    r.api_and_root("/services/data/{version}/query", get(query))
        .api_and_root("/services/data/{version}/query/{locator}", get(query_more))
        .api_and_root(
            "/services/data/{version}/sobjects/{object}",
            axum::routing::post(create),
        )
        .api_and_root(
            "/services/data/{version}/sobjects/{object}/{id}",
            get(get_one).patch(update),
        )
}

/// The parsed part of a SOQL statement we honour: selected fields and the object.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Soql {
    object: String,
    fields: Vec<String>,
}

fn parse_soql(q: &str) -> Option<Soql> {
    let words: Vec<&str> = q.split_whitespace().collect();
    if !words.first()?.eq_ignore_ascii_case("select") {
        return None;
    }
    let from = words.iter().position(|w| w.eq_ignore_ascii_case("from"))?;
    let fields: Vec<String> = words[1..from]
        .join(" ")
        .split(',')
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    let object = words.get(from + 1)?.to_string();
    let valid = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    (!fields.is_empty() && valid(&object) && fields.iter().all(|f| valid(f)))
        .then_some(Soql { object, fields })
}

fn key_prefix(object: &str) -> &'static str {
    match object.to_ascii_lowercase().as_str() {
        "account" => "001",
        "contact" => "003",
        "opportunity" => "006",
        "lead" => "00Q",
        _ => "a00",
    }
}

/// 18-character id: key prefix, `SIM`, 12-digit record number.
fn sf_id(object: &str, n: u64) -> String {
    format!("{}SIM{n:012}", key_prefix(object))
}

fn sf_number(id: &str) -> Option<u64> {
    if id.len() != 18 || id.get(3..6) != Some("SIM") {
        return None;
    }
    id.get(6..)?.parse().ok()
}

fn record(version: &str, soql: &Soql, n: u64) -> Value {
    let id = sf_id(&soql.object, n);
    let (first, last, email) = person(n);
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        json!({"type": soql.object, "url": format!("/services/data/{version}/sobjects/{}/{id}", soql.object)}),
    );
    for field in &soql.fields {
        let value = match field.to_ascii_lowercase().as_str() {
            "id" => json!(id),
            "name" => json!(format!("{} {n}", soql.object)),
            "firstname" => json!(first),
            "lastname" => json!(last),
            "email" => json!(email),
            "createddate" | "lastmodifieddate" | "systemmodstamp" => {
                json!(iso8601(created_unix(n)).replace('Z', ".000+0000"))
            }
            _ => Value::Null,
        };
        map.insert(field.clone(), value);
    }
    Value::Object(map)
}

/// Stateless query locator: `01g` + base64url(`object|fields|batch`) + `-` + offset.
fn locator(soql: &Soql, batch: u64, offset: u64) -> String {
    let inner = format!("{}|{}|{batch}", soql.object, soql.fields.join(","));
    format!("01g{}-{offset}", URL_SAFE_NO_PAD.encode(inner))
}

fn unlocator(raw: &str) -> Option<(Soql, u64, u64)> {
    let (head, offset) = raw.strip_prefix("01g")?.rsplit_once('-')?;
    let inner = String::from_utf8(URL_SAFE_NO_PAD.decode(head).ok()?).ok()?;
    let mut parts = inner.split('|');
    let object = parts.next()?.to_owned();
    let fields = parts.next()?.split(',').map(str::to_owned).collect();
    let batch = parts.next()?.parse().ok()?;
    Some((Soql { object, fields }, batch, offset.parse().ok()?))
}

fn batch_size(ctx: &Ctx, headers: &HeaderMap) -> u64 {
    let requested = header_str(headers, "sforce-query-options")
        .and_then(|v| {
            v.split(',')
                .find_map(|o| o.trim().strip_prefix("batchSize="))
        })
        .and_then(|n| n.trim().parse().ok());
    ctx.p.limit(requested)
}

fn page(ctx: &Ctx, version: &str, soql: &Soql, batch: u64, offset: u64) -> Response {
    let window = Window::new(ctx.p.records, offset, batch);
    let records: Vec<Value> = window.numbers().map(|n| record(version, soql, n)).collect();
    let mut body =
        json!({"totalSize": ctx.p.records, "done": !window.has_more(), "records": records});
    if window.has_more() {
        body["nextRecordsUrl"] = json!(format!(
            "/services/data/{version}/query/{}",
            locator(soql, batch, window.last)
        ));
    }
    web::ok(body)
}

async fn query(
    State(ctx): State<Ctx>,
    Path(version): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = Params::parse(raw.as_deref());
    let Some(text) = q.get("q") else {
        return bad_request(
            Provider::Salesforce,
            "MALFORMED_QUERY",
            "The q parameter is required",
        );
    };
    let Some(soql) = parse_soql(text) else {
        return bad_request(
            Provider::Salesforce,
            "MALFORMED_QUERY",
            format!("unexpected token in query: {text}"),
        );
    };
    page(&ctx, &version, &soql, batch_size(&ctx, &headers), 0)
}

async fn query_more(
    State(ctx): State<Ctx>,
    Path((version, loc)): Path<(String, String)>,
) -> Response {
    match unlocator(&loc) {
        Some((soql, batch, offset)) if offset <= ctx.p.records => {
            page(&ctx, &version, &soql, batch.max(1), offset)
        }
        _ => bad_request(
            Provider::Salesforce,
            "INVALID_QUERY_LOCATOR",
            "invalid query locator",
        ),
    }
}

fn exists(ctx: &Ctx, id: &str) -> Option<u64> {
    sf_number(id).filter(|n| *n >= 1 && *n <= ctx.p.records)
}

async fn get_one(
    State(ctx): State<Ctx>,
    Path((version, object, id)): Path<(String, String, String)>,
) -> Response {
    let Some(n) = exists(&ctx, &id) else {
        return not_found(
            Provider::Salesforce,
            "The requested resource does not exist",
        );
    };
    let soql = Soql {
        object,
        fields: vec!["Id".into(), "Name".into(), "CreatedDate".into()],
    };
    web::ok(record(&version, &soql, n))
}

fn json_object(body: &Bytes) -> Result<Map<String, Value>, String> {
    match json_body(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("Expected a JSON object".into()),
        Err(e) => Err(e),
    }
}

async fn create(
    State(ctx): State<Ctx>,
    Path((_version, object)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let map = match json_object(&body) {
        Ok(m) => m,
        Err(e) => return bad_request(Provider::Salesforce, "JSON_PARSER_ERROR", e),
    };
    let named = map
        .get("Name")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if object.eq_ignore_ascii_case("account") && !named {
        return missing_field(
            Provider::Salesforce,
            "Name",
            "Required fields are missing: [Name]",
        );
    }
    let id = sf_id(&object, ctx.p.next_created());
    web::json(
        StatusCode::CREATED,
        json!({"id": id, "success": true, "errors": []}),
    )
}

async fn update(
    State(ctx): State<Ctx>,
    Path((_version, _object, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Err(e) = json_object(&body) {
        return bad_request(Provider::Salesforce, "JSON_PARSER_ERROR", e);
    }
    if exists(&ctx, &id).is_none() {
        return not_found(
            Provider::Salesforce,
            "The requested resource does not exist",
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_and_locator_round_trip() {
        let soql = parse_soql("SELECT Id, Name FROM Account").expect("valid soql");
        assert_eq!(soql.fields, vec!["Id", "Name"]);
        assert_eq!(soql.object, "Account");
        assert_eq!(unlocator(&locator(&soql, 200, 400)), Some((soql, 200, 400)));
        assert!(parse_soql("DELETE FROM Account").is_none());
        assert!(unlocator("01gnot-base64!-3").is_none());
        assert_eq!(sf_number(&sf_id("Account", 42)), Some(42));
    }
}
