//! HubSpot CRM v3 `contacts` and `companies`: list with `limit` + `after` → `results`,
//! `paging.next.after` (absent on the last page); get, create (`{properties}`), update
//! (`PATCH`, properties merged), delete (204); search via `POST .../search` with
//! `filterGroups` (groups ORed, filters ANDed: `GT`/`GTE`/`LT`/`LTE`/`EQ` on the date
//! properties with epoch milliseconds or ISO values, `EQ`/`CONTAINS_TOKEN` on text
//! properties), full-text `query`, and `after`/`limit` in the body. Owners
//! (`/crm/v3/owners`) list and get. `{status:"error", message, category}` errors.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Provider;
use crate::data::{created_iso, person, updated_iso};
use crate::filter::{Cmp, Filter, Pattern, Selection, Stamp, parse_time};
use crate::problem::{bad_request, not_found};
use crate::routes::Routes;
use crate::state::Ctx;
use crate::web::{self, Params, json_body, url_with};

const INDUSTRIES: [&str; 3] = ["COMPUTER_SOFTWARE", "FINANCIAL_SERVICES", "RETAIL"];

/// The CRM objects served, by path segment.
const OBJECTS: [Object; 2] = [Object::Contacts, Object::Companies];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Object {
    Contacts,
    Companies,
}

impl Object {
    fn segment(self) -> &'static str {
        match self {
            Object::Contacts => "contacts",
            Object::Companies => "companies",
        }
    }

    /// The property holding the last-modified time.
    fn modified_property(self) -> &'static str {
        match self {
            Object::Contacts => "lastmodifieddate",
            Object::Companies => "hs_lastmodifieddate",
        }
    }

    /// The properties HubSpot's full-text `query` searches.
    fn searched(self) -> &'static [&'static str] {
        match self {
            Object::Contacts => &["firstname", "lastname", "email", "phone"],
            Object::Companies => &["name", "domain", "website", "phone"],
        }
    }

    fn properties(self, n: u64) -> Map<String, Value> {
        let (first, last, email) = person(n);
        let phone = (!n.is_multiple_of(4)).then(|| format!("+1-555-{:04}", n % 10_000));
        let owner = (n % 5 + 1).to_string();
        let value = match self {
            Object::Contacts => json!({
                "createdate": created_iso(n), "email": email, "firstname": first,
                "lastname": last, "phone": phone,
                "jobtitle": if n.is_multiple_of(3) { "Engineer" } else { "Analyst" },
                "hubspot_owner_id": owner, "hs_object_id": n.to_string(),
                "lastmodifieddate": updated_iso(n)
            }),
            Object::Companies => json!({
                "createdate": created_iso(n), "name": format!("Company {n}"),
                "domain": format!("company{n}.example.com"),
                "website": format!("https://company{n}.example.com"),
                "industry": INDUSTRIES[(n % 3) as usize],
                "numberofemployees": (n * 10).to_string(), "phone": phone,
                "description": format!("Simulated company {n}"),
                "hubspot_owner_id": owner, "hs_object_id": n.to_string(),
                "hs_lastmodifieddate": updated_iso(n)
            }),
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn record(self, n: u64) -> Value {
        json!({
            "id": n.to_string(), "properties": self.properties(n),
            "createdAt": created_iso(n), "updatedAt": updated_iso(n), "archived": false
        })
    }
}

pub(crate) fn routes(r: Routes) -> Routes {
    let mut r = r;
    for object in OBJECTS {
        let base = format!("/crm/v3/objects/{}", object.segment());
        r = r
            .api(
                &base,
                get(move |ctx, q| list(object, ctx, q))
                    .post(move |ctx, body| create(object, ctx, body)),
            )
            .api(
                &format!("{base}/search"),
                post(move |ctx, body| search(object, ctx, body)),
            )
            .api(
                &format!("{base}/{{id}}"),
                get(move |ctx, id| get_one(object, ctx, id))
                    .patch(move |ctx, id, body| update(object, ctx, id, body))
                    .delete(delete),
            );
    }
    r.api("/crm/v3/owners", get(list_owners))
        .api("/crm/v3/owners/{id}", get(get_owner))
}

fn owner(n: u64) -> Value {
    let (first, last, email) = person(n);
    json!({
        "id": n.to_string(), "email": email, "firstName": first, "lastName": last,
        "userId": 9000 + n, "createdAt": created_iso(n), "updatedAt": updated_iso(n),
        "archived": false
    })
}

/// `after` is the 1-based position to start at (HubSpot's cursors look like ids).
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

fn invalid(message: impl Into<String>) -> Response {
    bad_request(Provider::Hubspot, "VALIDATION_ERROR", message)
}

/// A page of `selection` starting at position `after`, records made by `make`.
fn page(
    ctx: &Ctx,
    path: &str,
    selection: &Selection,
    after: u64,
    limit: u64,
    make: impl Fn(u64) -> Value,
    with_total: bool,
) -> Value {
    let (numbers, more) = selection.page(after - 1, limit);
    let results: Vec<Value> = numbers.iter().map(|n| make(*n)).collect();
    let mut body = json!({"results": results});
    if with_total {
        body["total"] = json!(selection.len());
    }
    if more {
        let next = (after + numbers.len() as u64).to_string();
        let params = Params::default()
            .with("limit", limit.to_string())
            .with("after", next.clone());
        body["paging"] = json!({"next": {"after": next, "link": url_with(&format!("{}{path}", ctx.url()), &params)}});
    }
    body
}

fn list_params(ctx: &Ctx, raw: Option<&str>) -> Result<(u64, u64), Response> {
    let q = Params::parse(raw);
    let limit = q.number("limit").map_err(invalid)?;
    let after = parse_after(q.get("after")).map_err(invalid)?;
    Ok((after, ctx.p.limit(limit)))
}

async fn list(object: Object, State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    match list_params(&ctx, raw.as_deref()) {
        Ok((after, limit)) => web::ok(page(
            &ctx,
            &format!("/crm/v3/objects/{}", object.segment()),
            &Selection::All(ctx.p.records),
            after,
            limit,
            |n| object.record(n),
            false,
        )),
        Err(response) => response,
    }
}

async fn list_owners(State(ctx): State<Ctx>, RawQuery(raw): RawQuery) -> Response {
    match list_params(&ctx, raw.as_deref()) {
        Ok((after, limit)) => web::ok(page(
            &ctx,
            "/crm/v3/owners",
            &Selection::All(ctx.p.records),
            after,
            limit,
            owner,
            false,
        )),
        Err(response) => response,
    }
}

/// One filter of a `filterGroups` entry, added to `filter`.
fn add_filter(object: Object, filter: &mut Filter, spec: &Value) -> Result<(), String> {
    let property = spec["propertyName"].as_str().unwrap_or_default();
    let operator = spec["operator"].as_str().unwrap_or_default();
    let value = match &spec["value"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => {
            return Err(format!(
                "filter on {property}: value {other} is not a string or number"
            ));
        }
    };
    let stamp = if property == "createdate" {
        Some(Stamp::Created)
    } else if property == object.modified_property() {
        Some(Stamp::Updated)
    } else {
        None
    };
    if let Some(stamp) = stamp {
        let cmp = match operator {
            "GT" => Cmp::Gt,
            "GTE" => Cmp::Gte,
            "LT" => Cmp::Lt,
            "LTE" => Cmp::Lte,
            "EQ" => Cmp::Eq,
            other => return Err(format!("operator {other} is not supported on {property}")),
        };
        let at = value
            .parse::<i64>()
            .map(|ms| ms.div_euclid(1000))
            .ok()
            .or_else(|| parse_time(&value))
            .ok_or_else(|| format!("{value} is not a valid date for {property}"))?;
        filter.time(stamp, cmp, at);
        return Ok(());
    }
    if !object.properties(1).contains_key(property) {
        return Err(format!("Property \"{property}\" does not exist"));
    }
    match operator {
        "EQ" => filter.field(property, Pattern::Equals(value.to_lowercase())),
        "CONTAINS_TOKEN" => filter.field(
            property,
            Pattern::like(&format!("%{}%", value.trim_matches('*'))),
        ),
        other => return Err(format!("operator {other} is not supported on {property}")),
    }
    Ok(())
}

/// The records matching `filterGroups` (ORed groups of ANDed filters) and `query`.
fn select(ctx: &Ctx, object: Object, input: &Value) -> Result<Selection, String> {
    let groups = match &input["filterGroups"] {
        Value::Null => Vec::new(),
        Value::Array(groups) => groups.clone(),
        _ => return Err("filterGroups must be an array".into()),
    };
    let mut base = Filter::default();
    if let Some(text) = input["query"].as_str().filter(|t| !t.is_empty()) {
        base.search(text);
    }
    let mut filters = Vec::new();
    for group in &groups {
        let mut filter = base.clone();
        for spec in group["filters"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            add_filter(object, &mut filter, spec)?;
        }
        filters.push(filter);
    }
    if filters.is_empty() {
        filters.push(base);
    }
    let text = |n: u64, field: Option<&str>| {
        let properties = object.properties(n);
        let text_of = |name: &str| {
            properties
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match field {
            Some(name) => text_of(name),
            None => Some(
                object
                    .searched()
                    .iter()
                    .filter_map(|name| text_of(name))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    };
    if let [only] = filters.as_slice() {
        return Ok(only.select(ctx.p.records, &text));
    }
    let mut numbers: Vec<u64> = (1..=ctx.p.records)
        .filter(|n| {
            filters
                .iter()
                .any(|f| f.matches(*n, &|field| text(*n, field)))
        })
        .collect();
    numbers.dedup();
    Ok(Selection::Some(numbers))
}

async fn search(object: Object, State(ctx): State<Ctx>, body: Bytes) -> Response {
    let input = match json_body(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return invalid("Invalid input JSON: expected an object"),
        Err(e) => return invalid(format!("Invalid input JSON: {e}")),
    };
    let limit = match input.get("limit") {
        None | Some(Value::Null) => ctx.p.limit(None),
        Some(v) => match v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        {
            Some(l) => ctx.p.limit(Some(l)),
            None => return invalid("Invalid input JSON: 'limit' must be an integer"),
        },
    };
    let after = match input.get("after") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let after = match parse_after(Some(&after)) {
        Ok(after) => after,
        Err(message) => return invalid(message),
    };
    match select(&ctx, object, &input) {
        Ok(selection) => web::ok(page(
            &ctx,
            &format!("/crm/v3/objects/{}/search", object.segment()),
            &selection,
            after,
            limit,
            |n| object.record(n),
            true,
        )),
        Err(message) => invalid(message),
    }
}

fn number(ctx: &Ctx, id: &str) -> Option<u64> {
    id.parse::<u64>()
        .ok()
        .filter(|n| (1..=ctx.p.records).contains(n))
}

fn missing() -> Response {
    not_found(
        Provider::Hubspot,
        "Object not found.  objectId are usually numeric.",
    )
}

async fn get_one(object: Object, State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match number(&ctx, &id) {
        Some(n) => web::ok(object.record(n)),
        None => missing(),
    }
}

async fn get_owner(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match number(&ctx, &id) {
        Some(n) => web::ok(owner(n)),
        None => not_found(Provider::Hubspot, "Owner not found"),
    }
}

/// The `properties` object of a create or update body.
fn input_properties(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match json_body(body) {
        Ok(Value::Object(mut map)) => match map.remove("properties") {
            Some(Value::Object(properties)) => Ok(properties),
            _ => Err(invalid(
                "Invalid input JSON: 'properties' must be an object",
            )),
        },
        Ok(_) => Err(invalid("Invalid input JSON: expected an object")),
        Err(e) => Err(invalid(format!("Invalid input JSON: {e}"))),
    }
}

/// Record `n` with `properties` written over its own.
fn written(object: Object, n: u64, properties: Map<String, Value>) -> Value {
    let mut record = object.record(n);
    if let Some(own) = record["properties"].as_object_mut() {
        own.extend(properties);
    }
    record
}

async fn create(object: Object, State(ctx): State<Ctx>, body: Bytes) -> Response {
    match input_properties(&body) {
        Ok(properties) => web::json(
            StatusCode::CREATED,
            written(object, ctx.p.next_created(), properties),
        ),
        Err(response) => response,
    }
}

async fn update(
    object: Object,
    State(ctx): State<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let properties = match input_properties(&body) {
        Ok(properties) => properties,
        Err(response) => return response,
    };
    match number(&ctx, &id) {
        Some(n) => web::ok(written(object, n, properties)),
        None => missing(),
    }
}

async fn delete(State(ctx): State<Ctx>, Path(id): Path<String>) -> Response {
    match number(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => missing(),
    }
}
