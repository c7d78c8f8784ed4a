//! Salesforce REST: SOQL `query` (`SELECT fields FROM Object [WHERE cond AND ...]
//! [ORDER BY ...]`) returning `totalSize`, `done`, `records` and a host-relative
//! `nextRecordsUrl`; sObject get/create/update/delete for `Contact`, `Account`, `User`
//! (and any other object, with generic fields); `[{message, errorCode}]` errors.
//! Batch size: the setup's page size, or `Sforce-Query-Options: batchSize=N`.
//!
//! `WHERE` takes conditions joined by `AND`: `CreatedDate`, `LastModifiedDate` and
//! `SystemModstamp` compared (`=`, `>`, `>=`, `<`, `<=`) with a datetime literal
//! (`2024-01-01T00:00:00Z`), and text fields compared with `=` or `LIKE` against a
//! quoted string (`Name LIKE '%ada%'`, `\'` escapes a quote).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::Provider;
use crate::data::{created_unix, iso8601, person, updated_unix};
use crate::filter::{Cmp, Filter, Pattern, Stamp, parse_time};
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
            get(get_one).patch(update).delete(delete),
        )
}

/// The parsed part of a SOQL statement we honour: selected fields, the object and the
/// `WHERE` conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Soql {
    object: String,
    fields: Vec<String>,
    filter: Filter,
}

/// A SOQL token: a word (field, keyword, literal), a quoted string, an operator or a comma.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(String),
    Comma,
}

fn tokenize(q: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == ',' {
            chars.next();
            tokens.push(Token::Comma);
        } else if c == '\'' {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(escaped) => text.push(escaped),
                        None => return Err("unterminated string literal".into()),
                    },
                    Some('\'') => break,
                    Some(other) => text.push(other),
                    None => return Err("unterminated string literal".into()),
                }
            }
            tokens.push(Token::Quoted(text));
        } else if matches!(c, '<' | '>' | '=' | '!') {
            let mut op = String::from(c);
            chars.next();
            if chars.peek() == Some(&'=') {
                op.push('=');
                chars.next();
            }
            tokens.push(Token::Op(op));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || matches!(c, ',' | '\'' | '<' | '>' | '=' | '!') {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

fn is_keyword(token: Option<&Token>, keyword: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Why a statement is refused: Salesforce's error code and message.
type SoqlError = (&'static str, String);

fn parse_soql(q: &str) -> Result<Soql, SoqlError> {
    let malformed = |m: String| ("MALFORMED_QUERY", m);
    let tokens = tokenize(q).map_err(malformed)?;
    let mut at = 0;
    if !is_keyword(tokens.first(), "select") {
        return Err(malformed(format!("unexpected token in query: {q}")));
    }
    at += 1;
    let mut fields = Vec::new();
    loop {
        match tokens.get(at) {
            Some(Token::Word(w)) if valid_name(w) && !w.eq_ignore_ascii_case("from") => {
                fields.push(w.clone());
                at += 1;
            }
            _ => return Err(malformed(format!("unexpected token in query: {q}"))),
        }
        match tokens.get(at) {
            Some(Token::Comma) => at += 1,
            _ => break,
        }
    }
    if !is_keyword(tokens.get(at), "from") {
        return Err(malformed(format!("expected FROM in query: {q}")));
    }
    let object = match tokens.get(at + 1) {
        Some(Token::Word(w)) if valid_name(w) => w.clone(),
        _ => return Err(malformed(format!("expected an object after FROM: {q}"))),
    };
    at += 2;
    let mut filter = Filter::default();
    if is_keyword(tokens.get(at), "where") {
        at += 1;
        loop {
            at = condition(&tokens, at, &mut filter)?;
            if is_keyword(tokens.get(at), "and") {
                at += 1;
            } else {
                break;
            }
        }
    }
    // ORDER BY and LIMIT are accepted and not applied (records come in id order).
    if is_keyword(tokens.get(at), "order") || is_keyword(tokens.get(at), "limit") {
        at = tokens.len();
    }
    if at < tokens.len() {
        return Err(malformed(format!(
            "unexpected token: {:?}",
            tokens.get(at).map(|t| format!("{t:?}"))
        )));
    }
    Ok(Soql {
        object,
        fields,
        filter,
    })
}

/// Parses `Field op value` at `at` into `filter`; returns the position after it.
fn condition(tokens: &[Token], at: usize, filter: &mut Filter) -> Result<usize, SoqlError> {
    let malformed = |m: String| ("MALFORMED_QUERY", m);
    let (Some(Token::Word(field)), Some(op), Some(value)) =
        (tokens.get(at), tokens.get(at + 1), tokens.get(at + 2))
    else {
        return Err(malformed("incomplete WHERE condition".into()));
    };
    let stamp = match field.to_ascii_lowercase().as_str() {
        "createddate" => Some(Stamp::Created),
        "lastmodifieddate" | "systemmodstamp" => Some(Stamp::Updated),
        _ => None,
    };
    match (stamp, op, value) {
        (Some(stamp), Token::Op(op), Token::Word(literal)) => {
            let cmp = Cmp::from_symbol(op)
                .ok_or_else(|| malformed(format!("unexpected operator {op}")))?;
            let at_time = parse_time(literal).ok_or_else(|| {
                (
                    "INVALID_QUERY_FILTER_OPERATOR",
                    format!("value of filter criterion for field '{field}' must be of type dateTime and should not be enclosed in quotes"),
                )
            })?;
            filter.time(stamp, cmp, at_time);
        }
        (None, Token::Op(op), Token::Quoted(text)) if op == "=" && searchable(field) => {
            filter.field(field, Pattern::Equals(text.to_lowercase()));
        }
        (None, Token::Word(like), Token::Quoted(text))
            if like.eq_ignore_ascii_case("like") && searchable(field) =>
        {
            filter.field(field, Pattern::like(text));
        }
        (None, _, _) if !searchable(field) => {
            return Err((
                "INVALID_FIELD",
                format!("No such column '{field}' usable in a filter"),
            ));
        }
        _ => return Err(malformed(format!("unsupported condition on {field}"))),
    }
    Ok(at + 3)
}

fn searchable(field: &str) -> bool {
    matches!(
        field.to_ascii_lowercase().as_str(),
        "name" | "firstname" | "lastname" | "email" | "title" | "industry" | "username"
    )
}

fn key_prefix(object: &str) -> &'static str {
    match object.to_ascii_lowercase().as_str() {
        "account" => "001",
        "contact" => "003",
        "user" => "005",
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

const INDUSTRIES: [&str; 4] = ["Technology", "Finance", "Retail", "Healthcare"];

/// Salesforce's datetime format: `2024-01-01T00:01:00.000+0000`.
fn sf_time(unix: u64) -> String {
    iso8601(unix).replace('Z', ".000+0000")
}

/// The value of `field` (any case) of record `n` of `object`; `Null` for a field the
/// simulator does not generate.
fn field_value(object: &str, field: &str, n: u64) -> Value {
    let (first, last, email) = person(n);
    let contact = object.eq_ignore_ascii_case("contact");
    let user = object.eq_ignore_ascii_case("user");
    match field.to_ascii_lowercase().as_str() {
        "id" => json!(sf_id(object, n)),
        "name" if contact || user => json!(format!("{first} {last}")),
        "name" => json!(format!("{object} {n}")),
        "firstname" => json!(first),
        "lastname" => json!(last),
        "email" => json!(email),
        "username" if user => json!(email),
        "isactive" if user => json!(!n.is_multiple_of(10)),
        "title" => json!(if n.is_multiple_of(3) {
            "Engineer"
        } else {
            "Analyst"
        }),
        "phone" if !n.is_multiple_of(4) => json!(format!("+1-555-{:04}", n % 10_000)),
        "accountid" if contact => json!(sf_id("Account", n % 50 + 1)),
        "ownerid" if !user => json!(sf_id("User", n % 5 + 1)),
        "industry" => json!(INDUSTRIES[(n % 4) as usize]),
        "website" => json!(format!("https://account{n}.example.com")),
        "numberofemployees" => json!(n * 10),
        "description" => json!(format!("Simulated {object} {n}")),
        "createddate" => json!(sf_time(created_unix(n))),
        "lastmodifieddate" | "systemmodstamp" => json!(sf_time(updated_unix(n))),
        _ => Value::Null,
    }
}

/// Every field the simulator generates for `object`, as `get` returns them.
fn all_fields(object: &str) -> &'static [&'static str] {
    match object.to_ascii_lowercase().as_str() {
        "contact" => &[
            "Id",
            "FirstName",
            "LastName",
            "Name",
            "Title",
            "Email",
            "Phone",
            "AccountId",
            "OwnerId",
            "CreatedDate",
            "LastModifiedDate",
        ],
        "user" => &[
            "Id",
            "FirstName",
            "LastName",
            "Name",
            "Email",
            "Username",
            "IsActive",
            "Title",
            "CreatedDate",
            "LastModifiedDate",
        ],
        _ => &[
            "Id",
            "Name",
            "Description",
            "Industry",
            "Website",
            "Phone",
            "NumberOfEmployees",
            "OwnerId",
            "CreatedDate",
            "LastModifiedDate",
        ],
    }
}

fn record<S: AsRef<str>>(version: &str, object: &str, fields: &[S], n: u64) -> Value {
    let id = sf_id(object, n);
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        json!({"type": object, "url": format!("/services/data/{version}/sobjects/{object}/{id}")}),
    );
    for field in fields {
        let field = field.as_ref();
        map.insert(field.to_owned(), field_value(object, field, n));
    }
    Value::Object(map)
}

/// Stateless query locator: `01g` + base64url(`batch|statement`) + `-` + offset into the
/// statement's matching records.
fn locator(text: &str, batch: u64, offset: u64) -> String {
    format!(
        "01g{}-{offset}",
        URL_SAFE_NO_PAD.encode(format!("{batch}|{text}"))
    )
}

fn unlocator(raw: &str) -> Option<(String, u64, u64)> {
    let (head, offset) = raw.strip_prefix("01g")?.rsplit_once('-')?;
    let inner = String::from_utf8(URL_SAFE_NO_PAD.decode(head).ok()?).ok()?;
    let (batch, text) = inner.split_once('|')?;
    Some((text.to_owned(), batch.parse().ok()?, offset.parse().ok()?))
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

fn page(ctx: &Ctx, version: &str, text: &str, batch: u64, offset: u64) -> Response {
    let soql = match parse_soql(text) {
        Ok(soql) => soql,
        Err((code, message)) => return bad_request(Provider::Salesforce, code, message),
    };
    let selection = soql.filter.select(ctx.p.records, &|n, field| {
        field.map(|f| {
            field_value(&soql.object, f, n)
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
    });
    let (numbers, more) = selection.page(offset, batch);
    let records: Vec<Value> = numbers
        .iter()
        .map(|n| record(version, &soql.object, &soql.fields, *n))
        .collect();
    let mut body = json!({"totalSize": selection.len(), "done": !more, "records": records});
    if more {
        body["nextRecordsUrl"] = json!(format!(
            "/services/data/{version}/query/{}",
            locator(text, batch, offset + numbers.len() as u64)
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
    page(&ctx, &version, text, batch_size(&ctx, &headers), 0)
}

async fn query_more(
    State(ctx): State<Ctx>,
    Path((version, loc)): Path<(String, String)>,
) -> Response {
    match unlocator(&loc) {
        Some((text, batch, offset)) if offset <= ctx.p.records => {
            page(&ctx, &version, &text, batch.max(1), offset)
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

fn missing_record() -> Response {
    not_found(
        Provider::Salesforce,
        "The requested resource does not exist",
    )
}

async fn get_one(
    State(ctx): State<Ctx>,
    Path((version, object, id)): Path<(String, String, String)>,
) -> Response {
    match exists(&ctx, &id) {
        Some(n) => web::ok(record(&version, &object, all_fields(&object), n)),
        None => missing_record(),
    }
}

fn json_object(body: &Bytes) -> Result<Map<String, Value>, String> {
    match json_body(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("Expected a JSON object".into()),
        Err(e) => Err(e),
    }
}

/// The field an object cannot be created without (`Name` of an Account, `LastName` of
/// a Contact).
fn required_field(object: &str) -> Option<&'static str> {
    match object.to_ascii_lowercase().as_str() {
        "account" => Some("Name"),
        "contact" => Some("LastName"),
        _ => None,
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
    if let Some(field) = required_field(&object) {
        let given = map
            .get(field)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty());
        if !given {
            return missing_field(
                Provider::Salesforce,
                field,
                format!("Required fields are missing: [{field}]"),
            );
        }
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
        return missing_record();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete(
    State(ctx): State<Ctx>,
    Path((_version, _object, id)): Path<(String, String, String)>,
) -> Response {
    match exists(&ctx, &id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => missing_record(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_and_locator_round_trip() {
        let soql = parse_soql("SELECT Id, Name FROM Account").expect("valid soql");
        assert_eq!(soql.fields, vec!["Id", "Name"]);
        assert_eq!(soql.object, "Account");
        assert!(soql.filter.is_empty());
        let text = "SELECT Id FROM Contact WHERE Name LIKE '%it\\'s%'";
        assert_eq!(
            unlocator(&locator(text, 200, 400)),
            Some((text.to_owned(), 200, 400))
        );
        assert!(parse_soql("DELETE FROM Account").is_err());
        assert!(unlocator("01gnot-base64!-3").is_none());
        assert_eq!(sf_number(&sf_id("Account", 42)), Some(42));
    }

    #[test]
    fn where_clauses_filter_on_times_and_text() {
        let soql = parse_soql(
            "SELECT Id FROM Contact WHERE LastModifiedDate > 2024-01-01T00:30:00Z AND CreatedDate <= 2024-01-01T00:05:00.000+0000 ORDER BY Id",
        )
        .expect("valid");
        let text = |n: u64, f: Option<&str>| {
            f.map(|f| {
                field_value("Account", f, n)
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
        };
        // updated = created + 30 min: updated > 00:30 means created > 00:00, i.e. n >= 1.
        assert_eq!(
            soql.filter.select(100, &text).page(0, 10).0,
            vec![1, 2, 3, 4, 5]
        );
        let like = parse_soql("SELECT Id FROM Account WHERE Name LIKE '%nt 1%'").unwrap();
        assert_eq!(like.filter.select(20, &text).len(), 11);
        assert_eq!(
            parse_soql("SELECT Id FROM Contact WHERE Foo = 'x'")
                .unwrap_err()
                .0,
            "INVALID_FIELD"
        );
        assert_eq!(
            parse_soql("SELECT Id FROM Contact WHERE CreatedDate > 'x'")
                .unwrap_err()
                .0,
            "MALFORMED_QUERY"
        );
        assert_eq!(
            parse_soql("SELECT Id FROM Contact WHERE CreatedDate > yesterday")
                .unwrap_err()
                .0,
            "INVALID_QUERY_FILTER_OPERATOR"
        );
    }
}
