//! The unified models and mappings that ship (`examples/unified/`) over the catalog
//! configs (`examples/catalog/`), run through the facade against the provider simulator:
//! for every mapping, list through every page (exactly the simulator's dataset), get,
//! create, update and delete where the mapping has them, and each filter it declares
//! (the filtered list is exactly the records the filter selects). Every mapped record
//! is checked against its unified schema by [`schema_violations`], which names the JSON
//! path of a violation; an undeclared filter is a 400 naming it and the integration.
#![cfg(feature = "simulator")]

mod support;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use patchbay::config::{AuthenticationMethod, apply_override, load_integration_config};
use patchbay::simulator::{Provider, ProviderSetup, RunningSimulator, Simulator};
use patchbay::unified::{
    MappingRow, Required, TrutoSchema, UnifiedModel, UnifiedRequest, load_mapping_row,
    load_unified_model, nest_query,
};
use patchbay::{Error, UnifiedBody};
use serde_json::{Value, json};
use support::{Harness, catalog_text, harness, object, token_context};

/// Records of every simulated dataset; pages of [`PAGE`] make three pages.
const RECORDS: u64 = 23;
const PAGE: u64 = 10;
/// Comments the simulator gives every ticket (Zendesk, Jira, GitHub).
const COMMENTS: u64 = 3;

// ---------------------------------------------------------------- the shipped files

fn unified_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/unified")
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `examples/unified/{model}/model.json`, validated.
fn shipped_model(model: &str) -> UnifiedModel {
    let path = unified_dir().join(model).join("model.json");
    load_unified_model(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `examples/unified/{model}/{integration}.json`: an array of mapping rows, each validated.
fn shipped_rows(model: &str, integration: &str) -> Vec<MappingRow> {
    let path = unified_dir()
        .join(model)
        .join(format!("{integration}.json"));
    let rows: Vec<Value> = serde_json::from_str(&read(&path))
        .unwrap_or_else(|e| panic!("{}: not a JSON array: {e}", path.display()));
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let row = load_mapping_row(&row.to_string())
                .unwrap_or_else(|e| panic!("{}[{i}]: {e}", path.display()));
            assert_eq!(row.integration_name, integration, "{}[{i}]", path.display());
            row
        })
        .collect()
}

/// Every `(model, integration)` that ships, read from the directory.
fn shipped_pairs() -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for model in std::fs::read_dir(unified_dir()).expect("examples/unified") {
        let model = model.expect("entry").path();
        if !model.is_dir() {
            continue;
        }
        let name = model.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&model).expect("model directory") {
            let stem = file.expect("entry").path();
            let stem = stem.file_stem().unwrap().to_string_lossy().into_owned();
            if stem != "model" {
                pairs.push((name.clone(), stem));
            }
        }
    }
    pairs.sort();
    pairs
}

// ---------------------------------------------------------------- the schema checker

/// The JSON type name of `value` as JSON Schema names it (`integer` for whole numbers).
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every way `value` breaks `schema` (Truto's dialect), each naming its JSON path from
/// `path`: a wrong type (`expected string, got null`), a value outside `enum`, a
/// `date-time`/`date` that does not parse, a missing required property, a property the
/// schema does not declare.
fn schema_violations(schema: &TrutoSchema, value: &Value, path: &str) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, value, path, &mut found);
    found
}

fn check(schema: &TrutoSchema, value: &Value, path: &str, found: &mut Vec<String>) {
    let actual = type_name(value);
    let allowed: Vec<&str> = match &schema.kind {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = |t: &&str| *t == actual || (*t == "number" && actual == "integer");
    if !allowed.is_empty() && !allowed.iter().any(fits) {
        found.push(format!(
            "{path}: expected {}, got {actual}",
            allowed.join(" or ")
        ));
        return;
    }
    if let Some(Value::Array(options)) = schema.extra.get("enum")
        && !options.contains(value)
    {
        found.push(format!(
            "{path}: {value} is not one of {}",
            Value::Array(options.clone())
        ));
    }
    if let (Some(format), Value::String(text)) = (schema.extra.get("format"), value) {
        let parses = match format.as_str() {
            Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            _ => true,
        };
        if !parses {
            let format = format.as_str().unwrap_or_default();
            found.push(format!("{path}: {text:?} is not a {format}"));
        }
    }
    match value {
        Value::Object(map) => {
            let Some(properties) = &schema.properties else {
                return;
            };
            let names: &[String] = match &schema.required {
                Some(Required::Names(names)) => names,
                _ => &[],
            };
            for (name, property) in properties {
                let required =
                    property.required == Some(Required::Flag(true)) || names.contains(name);
                match map.get(name) {
                    Some(inner) => check(property, inner, &format!("{path}.{name}"), found),
                    None if required => found.push(format!("{path}.{name}: required, missing")),
                    None => {}
                }
            }
            for name in map.keys().filter(|k| !properties.contains_key(*k)) {
                found.push(format!("{path}.{name}: not declared in the schema"));
            }
        }
        Value::Array(items) => {
            if let Some(item) = &schema.items {
                for (i, inner) in items.iter().enumerate() {
                    check(item, inner, &format!("{path}[{i}]"), found);
                }
            }
        }
        _ => {}
    }
}

/// Panics naming every violation of `records` (numbered from `first`) against the
/// schema of `model.resource`.
fn assert_valid(model: &UnifiedModel, resource: &str, records: &[Value], first: usize) {
    let schema = model.resources[resource]
        .schema
        .as_ref()
        .unwrap_or_else(|| panic!("{}.{resource} has a schema", model.name));
    let violations: Vec<String> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            schema_violations(
                schema,
                r,
                &format!("{}.{resource}[{}]", model.name, first + i),
            )
        })
        .collect();
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

// ---------------------------------------------------------------- the rig

/// The simulator serving every provider a mapping ships for, and a facade with each
/// catalog config installed (as its slug), its unified mappings registered and one
/// account (`acct-{slug}`).
struct Rig {
    _sim: RunningSimulator,
    h: Harness,
    models: HashMap<String, UnifiedModel>,
}

const PROVIDERS: [Provider; 6] = [
    Provider::Salesforce,
    Provider::Hubspot,
    Provider::Zendesk,
    Provider::Jira,
    Provider::Github,
    Provider::Keka,
];

fn account_of(provider: Provider) -> String {
    format!("acct-{}", provider.slug())
}

async fn rig() -> Rig {
    let mut builder = Simulator::builder();
    for provider in PROVIDERS {
        builder = builder.setup(
            ProviderSetup::new(provider)
                .records(RECORDS)
                .page_size(PAGE),
        );
    }
    let sim = builder.start().await.expect("simulator starts");
    let h = harness();
    let mut models = HashMap::new();
    let pairs = shipped_pairs();
    for provider in PROVIDERS {
        let slug = provider.slug();
        let catalog: Value = serde_json::from_str(&catalog_text(slug)).expect("catalog JSON");
        let merged = apply_override(&catalog, &sim.catalog_override(provider, &catalog));
        let config =
            load_integration_config(&merged.to_string()).unwrap_or_else(|e| panic!("{slug}: {e}"));
        let app = object(
            json!({"client_id": format!("{slug}-client-id"), "client_secret": format!("{slug}-client-secret")}),
        );
        h.patchbay
            .install(slug, config, app)
            .unwrap_or_else(|e| panic!("{slug}: {e}"));
        for (model, integration) in pairs.iter().filter(|(_, i)| i == slug) {
            let unified = models
                .entry(model.clone())
                .or_insert_with(|| shipped_model(model));
            h.patchbay
                .install_unified(
                    slug,
                    unified,
                    integration,
                    &shipped_rows(model, integration),
                    &[],
                )
                .unwrap_or_else(|e| panic!("{model}/{integration}: {e}"));
        }
        let (method, context) = account_context(&sim, provider);
        h.put(&account_of(provider), slug, method, context).await;
    }
    Rig {
        _sim: sim,
        h,
        models,
    }
}

/// How the simulator's default credentials authenticate an account of `provider`.
fn account_context(sim: &RunningSimulator, provider: Provider) -> (AuthenticationMethod, Value) {
    let token = |extra: Value| {
        let mut context = token_context(
            &format!("{}-static-token", provider.slug()),
            None,
            chrono::Duration::days(1),
        );
        context["oauth"]["token"]["token_type"] = json!("bearer");
        for (k, v) in object(extra) {
            context[k] = v;
        }
        (AuthenticationMethod::OAuth2, context)
    };
    match provider {
        Provider::Salesforce => {
            token(json!({"instance_url": sim.api_base_url(Provider::Salesforce)}))
        }
        Provider::Jira => token(json!({"cloud_id": "11223344-aaaa-bbbb-cccc-556677889900"})),
        Provider::Zendesk => (
            AuthenticationMethod::ApiKey,
            json!({"subdomain": "acme", "email": "agent@example.com", "api_token": "zendesk-api-token"}),
        ),
        Provider::Github => (
            AuthenticationMethod::ApiKey,
            json!({"api_key": "ghp_simulator"}),
        ),
        Provider::Keka => (
            AuthenticationMethod::KekaOauth,
            json!({"company": "acme", "client_id": "keka-client-id",
                   "client_secret": "keka-client-secret", "api_key": "keka-api-key"}),
        ),
        _ => token(json!({})),
    }
}

/// One unified call.
struct Call<'a> {
    provider: Provider,
    model: &'a str,
    resource: &'a str,
    query: Vec<(String, String)>,
}

impl Call<'_> {
    fn request(
        &self,
        extra: &[(&str, &str)],
        id: Option<&str>,
        body: Option<Value>,
    ) -> UnifiedRequest {
        let pairs = self
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra.iter().copied());
        UnifiedRequest {
            id: id.map(str::to_owned),
            query: nest_query(pairs),
            body,
            ..UnifiedRequest::default()
        }
    }
}

impl Rig {
    fn model(&self, name: &str) -> &UnifiedModel {
        &self.models[name]
    }

    async fn run(
        &self,
        call: &Call<'_>,
        method: &str,
        request: UnifiedRequest,
    ) -> Result<Value, Error> {
        let response = self
            .h
            .patchbay
            .unified(
                &account_of(call.provider),
                call.model,
                call.resource,
                method,
                request,
            )
            .await?;
        Ok(match response.body {
            UnifiedBody::List(list) => serde_json::to_value(list).expect("a list serializes"),
            UnifiedBody::Item(item) => item,
        })
    }

    /// Lists through every page with `extra` query parameters; checks each page and
    /// record against the schema. Returns the records and the number of pages.
    async fn list_all(&self, call: &Call<'_>, extra: &[(&str, &str)]) -> (Vec<Value>, usize) {
        let what = format!("{}.{} via {}", call.model, call.resource, call.provider);
        let limit = if call.resource == "comments" {
            "2"
        } else {
            "10"
        };
        let mut cursor: Option<String> = None;
        let (mut records, mut pages) = (Vec::new(), 0);
        loop {
            let mut query: Vec<(&str, &str)> = extra.to_vec();
            query.push(("limit", limit));
            if let Some(c) = &cursor {
                query.push(("next_cursor", c.as_str()));
            }
            let page = self
                .run(call, "list", call.request(&query, None, None))
                .await
                .unwrap_or_else(|e| panic!("{what} {extra:?} page {pages}: {e}"));
            let result = page["result"].as_array().expect("result array").clone();
            assert_eq!(page["result_count"], result.len(), "{what}");
            assert_valid(
                self.model(call.model),
                call.resource,
                &result,
                records.len(),
            );
            for record in &result {
                assert!(
                    record.get("remote_data").is_some_and(Value::is_object),
                    "{what}: remote_data on {record}"
                );
            }
            records.extend(result);
            pages += 1;
            assert!(pages <= 30, "{what}: too many pages");
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        (records, pages)
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            r["id"]
                .as_str()
                .unwrap_or_else(|| panic!("string id in {r}"))
                .to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------- the cases

/// What one shipped list mapping can do, and what to send to exercise it.
struct Case {
    provider: Provider,
    model: &'static str,
    resource: &'static str,
    /// Query parameters every call needs (repository, ticket).
    base: &'static [(&'static str, &'static str)],
    /// Records the full list returns.
    total: u64,
    /// Date filters the mapping declares: (field, operators).
    dates: &'static [(&'static str, &'static [&'static str])],
    /// A search term and how many of the dataset's records it selects.
    search: Option<(&'static str, usize)>,
    /// A filter the mapping does not declare, and the parameter the error names (the
    /// outermost one the query_schema does not declare).
    unsupported: (&'static str, &'static str),
}

const ALL_OPS: &[&str] = &["gt", "gte", "lt", "lte"];
const BOTH_DATES: &[(&str, &[&str])] = &[("updated_at", ALL_OPS), ("created_at", ALL_OPS)];
const GH_REPO: &[(&str, &str)] = &[
    ("workspace_id", "octocat"),
    ("collection_id", "hello-world"),
];

/// Every list mapping that ships, with its filters. `ada` is the first name of records
/// 8 and 16 (the simulator cycles through eight first names); `7` is in the names of
/// records 7 and 17.
fn cases() -> Vec<Case> {
    use Provider::*;
    let case = |provider, model, resource, total, dates, search, unsupported| Case {
        provider,
        model,
        resource,
        base: &[],
        total,
        dates,
        search,
        unsupported,
    };
    vec![
        case(
            Salesforce,
            "crm",
            "contacts",
            RECORDS,
            BOTH_DATES,
            Some(("ada", 2)),
            ("email=x", "email"),
        ),
        case(
            Salesforce,
            "crm",
            "accounts",
            RECORDS,
            BOTH_DATES,
            Some(("7", 2)),
            ("industry=Retail", "industry"),
        ),
        case(
            Salesforce,
            "crm",
            "users",
            RECORDS,
            BOTH_DATES,
            Some(("ada", 2)),
            ("is_active=true", "is_active"),
        ),
        case(
            Hubspot,
            "crm",
            "contacts",
            RECORDS,
            BOTH_DATES,
            Some(("ada", 2)),
            ("owner=1", "owner"),
        ),
        case(
            Hubspot,
            "crm",
            "accounts",
            RECORDS,
            BOTH_DATES,
            Some(("7", 2)),
            ("updated_at[ne]=2024-01-01T00:00:00Z", "updated_at[ne]"),
        ),
        case(
            Hubspot,
            "crm",
            "users",
            RECORDS,
            &[],
            None,
            ("updated_at[gt]=2024-01-01T00:00:00Z", "updated_at"),
        ),
        case(
            Zendesk,
            "ticketing",
            "tickets",
            RECORDS,
            BOTH_DATES,
            Some(("7", 2)),
            ("status=open", "status"),
        ),
        case(
            Zendesk,
            "ticketing",
            "users",
            RECORDS,
            BOTH_DATES,
            Some(("ada", 2)),
            ("role=agent", "role"),
        ),
        Case {
            base: &[("ticket_id", "3")],
            ..case(
                Zendesk,
                "ticketing",
                "comments",
                COMMENTS,
                &[],
                None,
                ("created_at[gt]=2024-01-01T00:00:00Z", "created_at"),
            )
        },
        case(
            Jira,
            "ticketing",
            "tickets",
            RECORDS,
            BOTH_DATES,
            Some(("7", 2)),
            ("assignee=x", "assignee"),
        ),
        Case {
            base: &[("ticket_id", "10003")],
            ..case(
                Jira,
                "ticketing",
                "comments",
                COMMENTS,
                &[],
                None,
                ("search_term=x", "search_term"),
            )
        },
        case(
            Jira,
            "ticketing",
            "users",
            RECORDS,
            &[],
            None,
            ("search_term=ada", "search_term"),
        ),
        Case {
            base: GH_REPO,
            ..case(
                Github,
                "ticketing",
                "tickets",
                RECORDS,
                &[("updated_at", &["gte"])],
                None,
                ("created_at[gt]=2024-01-01T00:00:00Z", "created_at"),
            )
        },
        Case {
            base: &[
                ("workspace_id", "octocat"),
                ("collection_id", "hello-world"),
                ("ticket_id", "3"),
            ],
            ..case(
                Github,
                "ticketing",
                "comments",
                COMMENTS,
                &[],
                None,
                ("updated_at[gte]=2024-01-01T00:00:00Z", "updated_at"),
            )
        },
        Case {
            base: GH_REPO,
            ..case(
                Github,
                "ticketing",
                "users",
                RECORDS,
                &[],
                None,
                ("search_term=ada", "search_term"),
            )
        },
        case(
            Keka,
            "hris",
            "employees",
            RECORDS,
            &[("updated_at", &["gt"])],
            None,
            ("updated_at[lt]=2024-01-01T00:00:00Z", "updated_at[lt]"),
        ),
    ]
}

fn call_of(case: &Case) -> Call<'static> {
    Call {
        provider: case.provider,
        model: case.model,
        resource: case.resource,
        query: case
            .base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// The simulator's times of record `n`: created one minute apart from
/// 2024-01-01T00:00:00Z, updated 30 minutes after creation.
fn created(n: u64) -> i64 {
    1_704_067_200 + 60 * n as i64
}

fn updated(n: u64) -> i64 {
    created(n) + 1800
}

fn iso(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .expect("in range")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn holds(op: &str, left: i64, right: i64) -> bool {
    match op {
        "gt" => left > right,
        "gte" => left >= right,
        "lt" => left < right,
        "lte" => left <= right,
        other => panic!("operator {other}"),
    }
}

fn unix_of(record: &Value, field: &str) -> Option<i64> {
    record[field].as_str().map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("checked date-time")
            .timestamp()
    })
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn every_shipped_list_mapping_lists_the_whole_dataset_page_by_page() {
    let rig = rig().await;
    let listed: BTreeSet<(String, String, String)> = cases()
        .iter()
        .map(|c| {
            (
                c.model.to_owned(),
                c.provider.slug().to_owned(),
                c.resource.to_owned(),
            )
        })
        .collect();
    for (model, integration) in shipped_pairs() {
        for row in shipped_rows(&model, &integration) {
            if row.method_name == "list" {
                let key = (
                    model.clone(),
                    integration.clone(),
                    row.resource_name.clone(),
                );
                assert!(listed.contains(&key), "no case lists {key:?}");
            }
        }
    }
    for case in cases() {
        let call = call_of(&case);
        let (records, pages) = rig.list_all(&call, &[]).await;
        let what = format!("{}.{} via {}", case.model, case.resource, case.provider);
        assert_eq!(records.len() as u64, case.total, "{what}: every record");
        let unique: BTreeSet<String> = ids(&records).into_iter().collect();
        assert_eq!(unique.len() as u64, case.total, "{what}: no duplicates");
        assert!(pages > 1, "{what}: listed over several pages ({pages})");
    }
}

#[tokio::test]
async fn date_filters_select_exactly_the_records_in_range() {
    let rig = rig().await;
    // Boundaries at record 9 (9 records at or before it, 14 after) and a closed range.
    let k = 9;
    for case in cases() {
        let call = call_of(&case);
        for (field, ops) in case.dates {
            let at = |n| {
                if *field == "updated_at" {
                    updated(n)
                } else {
                    created(n)
                }
            };
            for op in *ops {
                let param = format!("{field}[{op}]");
                let value = iso(at(k));
                let (records, _) = rig
                    .list_all(&call, &[(param.as_str(), value.as_str())])
                    .await;
                let expected = (1..=case.total)
                    .filter(|n| holds(op, at(*n), at(k)))
                    .count();
                let what = format!(
                    "{}.{} via {} {param}={value}",
                    case.model, case.resource, case.provider
                );
                assert_eq!(records.len(), expected, "{what}");
                for record in &records {
                    if let Some(t) = unix_of(record, field) {
                        assert!(holds(op, t, at(k)), "{what}: {record}");
                    }
                }
            }
            if ops.len() == 4 {
                let (from, to) = (iso(at(5)), iso(at(9)));
                let gte = format!("{field}[gte]");
                let lt = format!("{field}[lt]");
                let (records, _) = rig
                    .list_all(
                        &call,
                        &[(gte.as_str(), from.as_str()), (lt.as_str(), to.as_str())],
                    )
                    .await;
                assert_eq!(records.len(), 4, "{} {field} in [5, 9)", case.provider);
            }
        }
    }
}

#[tokio::test]
async fn search_terms_are_translated_to_each_query_language() {
    let rig = rig().await;
    for case in cases() {
        let Some((term, expected)) = case.search else {
            continue;
        };
        let call = call_of(&case);
        let (records, _) = rig.list_all(&call, &[("search_term", term)]).await;
        let what = format!(
            "{}.{} via {} search {term}",
            case.model, case.resource, case.provider
        );
        assert_eq!(records.len(), expected, "{what}: {:?}", ids(&records));
        for record in &records {
            let name = record["name"].as_str().unwrap_or_default().to_lowercase();
            assert!(name.contains(term), "{what}: {record}");
        }
        // Quotes and backslashes are escaped into the query language, not parsed by it.
        let hostile = r#"it's "quoted" \ ' OR Name LIKE '%"#;
        let (records, _) = rig.list_all(&call, &[("search_term", hostile)]).await;
        assert!(
            records.is_empty(),
            "{what}: {hostile} matched {:?}",
            ids(&records)
        );
    }
}

#[tokio::test]
async fn an_undeclared_filter_is_a_400_naming_it_and_the_integration() {
    let rig = rig().await;
    for case in cases() {
        let call = call_of(&case);
        let (param, reported) = case.unsupported;
        let (name, value) = param.split_once('=').expect("name=value");
        let err = rig
            .run(&call, "list", call.request(&[(name, value)], None, None))
            .await
            .expect_err(param);
        let mapped = err.unified_error().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(mapped.status, 400, "{}: {err}", case.provider);
        let message = mapped.body["message"].as_str().expect("message");
        assert!(
            message.contains(&format!("`{reported}`"))
                && message.contains(&format!("integration `{}`", case.provider.slug())),
            "{message}"
        );
        assert_eq!(
            mapped.body["truto_error_insight"]["unsupported_query_parameters"]["value"],
            json!([reported])
        );
    }
}

#[tokio::test]
async fn a_malformed_date_filter_is_a_400_before_any_call() {
    let rig = rig().await;
    for case in cases().iter().filter(|c| !c.dates.is_empty()) {
        let call = call_of(case);
        let (field, ops) = case.dates[0];
        let param = format!("{field}[{}]", ops[0]);
        let err = rig
            .run(
                &call,
                "list",
                call.request(&[(param.as_str(), "last tuesday")], None, None),
            )
            .await
            .expect_err("not a date");
        let mapped = err.unified_error().unwrap_or_else(|| panic!("{err}"));
        assert_eq!(mapped.status, 400, "{}: {err}", case.provider);
        assert_eq!(
            mapped.body["message"],
            format!("query parameter `{param}`: `last tuesday` is not an ISO 8601 date-time")
        );
    }
}

/// A record of each kind to create and a change to make, per model and resource.
fn writes(model: &str, resource: &str) -> (Value, Value) {
    match (model, resource) {
        ("crm", "contacts") => (
            json!({"first_name": "Ada", "last_name": "Lovelace", "title": "Countess",
                   "email_addresses": [{"email": "ada@example.com", "type": "work"}]}),
            json!({"title": "Analyst", "phone_numbers": [{"number": "+44 20 0000 0000"}]}),
        ),
        ("crm", "accounts") => (
            json!({"name": "Analytical Engines Ltd", "website": "https://engines.example.com", "number_of_employees": 12}),
            json!({"industry": "Technology"}),
        ),
        ("ticketing", "tickets") => (
            json!({"name": "Printer on fire", "description": "Smoke everywhere", "collections": [{"id": "SIM"}],
                   "tags": [{"name": "hardware"}]}),
            json!({"name": "Printer no longer on fire", "status": {"name": "closed"}}),
        ),
        ("ticketing", "comments") => (
            json!({"body": "Have you tried turning it off?"}),
            json!({"body": "And on again?"}),
        ),
        other => panic!("no writes for {other:?}"),
    }
}

#[tokio::test]
async fn get_create_update_delete_run_for_every_mapping_that_has_them() {
    let rig = rig().await;
    let mut ran = BTreeSet::new();
    for case in cases() {
        let call = call_of(&case);
        let rows = shipped_rows(case.model, case.provider.slug());
        let has = |method: &str| {
            rows.iter()
                .any(|r| r.resource_name == case.resource && r.method_name == method)
        };
        let what = format!("{}.{} via {}", case.model, case.resource, case.provider);
        let (records, _) = rig.list_all(&call, &[]).await;
        let id = records[2]["id"].as_str().expect("id").to_owned();
        // The ticket a comment list is for goes in the body of a create, and nowhere else.
        let call = Call {
            query: call
                .query
                .iter()
                .filter(|(k, _)| k != "ticket_id")
                .cloned()
                .collect(),
            ..call
        };
        let model = rig.model(case.model);
        let single = |value: &Value, method: &str| {
            assert!(
                value.get("remote_data").is_some(),
                "{what} {method}: {value}"
            );
            assert_valid(model, case.resource, std::slice::from_ref(value), 0);
        };
        if has("get") {
            let got = rig
                .run(&call, "get", call.request(&[], Some(&id), None))
                .await
                .unwrap_or_else(|e| panic!("{what} get: {e}"));
            assert_eq!(got["id"], id.as_str(), "{what} get: {got}");
            single(&got, "get");
            ran.insert(format!("{} get", what));
        }
        let ticket = case
            .base
            .iter()
            .find(|(k, _)| *k == "ticket_id")
            .map(|(_, v)| *v);
        let (mut create, update) = if has("create") || has("update") {
            writes(case.model, case.resource)
        } else {
            (Value::Null, Value::Null)
        };
        if has("create") {
            if let Some(ticket) = ticket {
                create["ticket"] = json!({"id": ticket});
            }
            let created = rig
                .run(&call, "create", call.request(&[], None, Some(create)))
                .await
                .unwrap_or_else(|e| panic!("{what} create: {e}"));
            let new_id = created["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{what} create: {created}"));
            assert!(
                !new_id.is_empty() && !records.iter().any(|r| r["id"] == new_id),
                "{what}: a new id"
            );
            single(&created, "create");
            ran.insert(format!("{} create", what));
        }
        if has("update") {
            let updated = rig
                .run(&call, "update", call.request(&[], Some(&id), Some(update)))
                .await
                .unwrap_or_else(|e| panic!("{what} update: {e}"));
            assert_eq!(updated["id"], id.as_str(), "{what} update");
            single(&updated, "update");
            ran.insert(format!("{} update", what));
        }
        if has("delete") {
            let deleted = rig
                .run(&call, "delete", call.request(&[], Some(&id), None))
                .await
                .unwrap_or_else(|e| panic!("{what} delete: {e}"));
            assert_eq!(deleted["id"], id.as_str(), "{what} delete");
            ran.insert(format!("{} delete", what));
        }
    }
    // Every shipped row ran (list rows in the listing test).
    for (model, integration) in shipped_pairs() {
        for row in shipped_rows(&model, &integration) {
            if row.method_name != "list" {
                let key = format!(
                    "{model}.{} via {integration} {}",
                    row.resource_name, row.method_name
                );
                assert!(ran.contains(&key), "{key} did not run");
            }
        }
    }
}

#[tokio::test]
async fn a_provider_error_is_mapped_for_a_missing_record() {
    let rig = rig().await;
    let cases = cases();
    let case = cases
        .iter()
        .find(|c| (c.provider, c.resource) == (Provider::Zendesk, "tickets"))
        .expect("the Zendesk tickets case");
    let call = call_of(case);
    let err = rig
        .run(&call, "get", call.request(&[], Some("999999"), None))
        .await
        .expect_err("no such ticket");
    let mapped = err.unified_error().expect("a mapped error");
    assert_eq!(mapped.status, 404);
    assert_eq!(mapped.body["message"], "Not found");
}

#[test]
fn the_schema_checker_names_the_json_path_of_each_violation() {
    let crm = shipped_model("crm");
    let schema = crm.resources["contacts"].schema.clone().expect("schema");
    let good = json!({"id": "1", "name": "Ada Lovelace", "email_addresses": [{"email": "ada@example.com", "type": "work"}],
                      "created_at": "2024-01-01T00:00:00Z", "remote_data": {}});
    assert!(schema_violations(&schema, &good, "crm.contacts[3]").is_empty());

    let mut bad = good.clone();
    bad["email_addresses"][0]["email"] = Value::Null;
    assert_eq!(
        schema_violations(&schema, &bad, "crm.contacts[3]"),
        vec!["crm.contacts[3].email_addresses[0].email: expected string, got null"]
    );
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("id");
    bad["created_at"] = json!("2024-01-01T00:00:00.000+0000");
    bad["nickname"] = json!("Ada");
    bad["phone_numbers"] = json!([{"type": "work"}]);
    assert_eq!(
        schema_violations(&schema, &bad, "crm.contacts[0]"),
        vec![
            "crm.contacts[0].id: required, missing",
            "crm.contacts[0].phone_numbers[0].number: required, missing",
            "crm.contacts[0].created_at: \"2024-01-01T00:00:00.000+0000\" is not a date-time",
            "crm.contacts[0].nickname: not declared in the schema",
        ]
    );
    let ticketing = shipped_model("ticketing");
    let tickets = ticketing.resources["tickets"]
        .schema
        .clone()
        .expect("schema");
    assert_eq!(
        schema_violations(
            &tickets,
            &json!({"id": "1", "status": {"name": "on fire"}}),
            "t"
        ),
        vec![
            "t.status.name: \"on fire\" is not one of [\"active\",\"closed\",\"open\",\"pending\",\"spam\",\"resolved\",\"archived\",\"deleted\",\"completed\"]"
        ]
    );
    let panicked = std::panic::catch_unwind(|| {
        assert_valid(&crm, "contacts", &[good.clone(), bad.clone()], 0)
    });
    let message = panicked.expect_err("assert_valid fails on a violation");
    let text = message.downcast_ref::<String>().expect("a formatted panic");
    assert!(
        text.contains("crm.contacts[1].id: required, missing"),
        "{text}"
    );
}

#[test]
fn the_shipped_files_load_and_every_row_names_a_model_resource_and_method() {
    let pairs = shipped_pairs();
    for (model, integration) in [
        ("crm", "salesforce"),
        ("crm", "hubspot"),
        ("ticketing", "zendesk"),
        ("ticketing", "jira"),
        ("ticketing", "github"),
        ("hris", "keka"),
    ] {
        assert!(
            pairs.contains(&(model.to_owned(), integration.to_owned())),
            "{model}/{integration} ships"
        );
    }
    for (model, integration) in pairs {
        let unified = shipped_model(&model);
        assert_eq!(unified.name, model);
        for row in shipped_rows(&model, &integration) {
            let resource = unified
                .resources
                .get(&row.resource_name)
                .unwrap_or_else(|| {
                    panic!("{model}/{integration}: no resource {}", row.resource_name)
                });
            let methods = resource.methods.as_deref().unwrap_or_default();
            assert!(
                methods.contains(&row.method_name),
                "{model}/{integration}: {}.{} is not a method of the model",
                row.resource_name,
                row.method_name
            );
            // Every list mapping declares its filters (a closed query_schema).
            if row.method_name == "list" {
                let schema = row.config.query_schema.as_ref().unwrap_or_else(|| {
                    panic!(
                        "{model}/{integration}: {}.list has no query_schema",
                        row.resource_name
                    )
                });
                assert!(
                    schema.is_closed(),
                    "{model}/{integration}: {}.list",
                    row.resource_name
                );
            }
        }
    }
}
