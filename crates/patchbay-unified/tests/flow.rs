//! The mapping steps of a unified request, on the reference's mapping rows.

use patchbay_unified::{
    CompiledMapping, MappingConfig, MappingLayers, RawPage, StepScope, UnifiedError,
    UnifiedRequest, load_mapping_row, nest_query, validate_mapping_config,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> CompiledMapping {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let row = load_mapping_row(&text).unwrap();
    CompiledMapping::compile(&row.resource_name, &row.method_name, &row.config).unwrap()
}

fn config(value: Value) -> MappingConfig {
    validate_mapping_config(&value).unwrap()
}

fn compile(value: Value) -> CompiledMapping {
    CompiledMapping::compile("contacts", "list", &config(value)).unwrap()
}

fn request(pairs: &[(&str, &str)]) -> UnifiedRequest {
    UnifiedRequest {
        query: nest_query(pairs.iter().copied()),
        ..UnifiedRequest::default()
    }
}

fn hubspot_record() -> Value {
    json!({"id": "51", "properties": {"firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": null, "jobtitle": "Analyst", "hubspot_owner_id": "9"}, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-02-01T00:00:00Z"})
}

#[test]
fn hubspot_list_picks_list_or_search_and_maps_the_filter() {
    let mapping = fixture("hubspot-contacts-list.json");
    let plain = mapping.prepare(request(&[("limit", "10")])).unwrap();
    assert_eq!(plain.call.method, "list");
    assert_eq!(
        json!(plain.call.query),
        json!({"properties": "firstname,lastname,email,phone,jobtitle,hubspot_owner_id,createdate,lastmodifieddate", "limit": "10"})
    );
    let filtered = mapping
        .prepare(request(&[
            ("updated_at[gt]", "2024-01-01T00:00:00.000Z"),
            ("search_term", "ada"),
        ]))
        .unwrap();
    assert_eq!(filtered.call.method, "search");
    assert_eq!(filtered.call.query["query"], "ada");
    assert_eq!(
        filtered.call.query["filterGroups"],
        json!([{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": "1704067200000"}]}])
    );
}

#[test]
fn hubspot_records_map_with_remote_data() {
    let mapping = fixture("hubspot-contacts-list.json");
    let prepared = mapping.prepare(request(&[])).unwrap();
    let page = RawPage {
        records: vec![hubspot_record()],
        next_cursor: Some("after-51".into()),
        prev_cursor: None,
    };
    let list = mapping.map_list(&prepared, page, &json!({})).unwrap();
    assert_eq!(list.result_count, 1);
    assert_eq!(list.next_cursor.as_deref(), Some("after-51"));
    assert_eq!(
        list.result[0],
        json!({"id": "51", "first_name": "Ada", "last_name": "Lovelace", "name": "Ada Lovelace", "title": "Analyst",
               "email_addresses": [{"email": "ada@example.com", "type": "work"}], "phone_numbers": [],
               "owner": {"id": "9"}, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-02-01T00:00:00Z",
               "remote_data": hubspot_record()})
    );
}

#[test]
fn truto_parameters_shape_the_result() {
    let mapping = fixture("hubspot-contacts-list.json");
    let prepared = mapping
        .prepare(request(&[
            ("truto_ignore_remote_data", "true"),
            ("truto_exclude_fields", "title,owner"),
            ("truto_key_by", "id"),
            ("remote_query[archived]", "true"),
            ("next_cursor", "after-1"),
            ("truto_ignore_limit", "true"),
            ("limit", "5"),
        ]))
        .unwrap();
    assert_eq!(prepared.call.query["archived"], "true");
    assert_eq!(prepared.call.cursor.as_deref(), Some("after-1"));
    assert_eq!(prepared.call.limit, None);
    assert!(!prepared.call.query.contains_key("limit"));
    let page = RawPage {
        records: vec![hubspot_record()],
        ..RawPage::default()
    };
    let list = mapping.map_list(&prepared, page, &json!({})).unwrap();
    let record = &list.result["51"];
    assert_eq!(record["first_name"], "Ada");
    for gone in ["remote_data", "title", "owner"] {
        assert!(record.get(gone).is_none(), "{gone} should be dropped");
    }

    let raw = mapping
        .prepare(request(&[("truto_response_format", "raw")]))
        .unwrap();
    let list = mapping
        .map_list(
            &raw,
            RawPage {
                records: vec![hubspot_record()],
                ..RawPage::default()
            },
            &json!({}),
        )
        .unwrap();
    assert_eq!(list.result, json!([hubspot_record()]));

    let err = mapping
        .prepare(request(&[("truto_response_format", "xml")]))
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("truto_response_format"), "{err}");
    let err = mapping.prepare(request(&[("limit", "ten")])).unwrap_err();
    assert!(
        err.to_string().starts_with("query parameter `limit`"),
        "{err}"
    );
}

#[test]
fn key_by_names_a_record_without_the_field() {
    let mapping = fixture("hubspot-contacts-list.json");
    let prepared = mapping
        .prepare(request(&[("truto_key_by", "etag")]))
        .unwrap();
    let err = mapping
        .map_list(
            &prepared,
            RawPage {
                records: vec![hubspot_record()],
                ..RawPage::default()
            },
            &json!({}),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("record 0 has no string or number field `etag`"),
        "{err}"
    );
}

#[test]
fn salesforce_builds_soql_from_date_filters() {
    let mapping = fixture("salesforce-contacts-list.json");
    let prepared = mapping
        .prepare(request(&[
            ("updated_at[gt]", "2024-01-01T00:00:00Z"),
            ("created_at[gt]", "2023-01-01T00:00:00Z"),
        ]))
        .unwrap();
    assert_eq!(
        prepared.call.query["q"],
        "SELECT Id, FirstName, LastName, Name, Title, Email, Phone, AccountId, OwnerId, CreatedDate, LastModifiedDate FROM Contact WHERE LastModifiedDate > 2024-01-01T00:00:00Z AND CreatedDate > 2023-01-01T00:00:00Z"
    );
    let unfiltered = mapping.prepare(request(&[])).unwrap();
    assert!(
        unfiltered.call.query["q"]
            .as_str()
            .unwrap()
            .ends_with("FROM Contact")
    );
}

#[test]
fn zendesk_maps_status_and_errors() {
    let mapping = fixture("zendesk-tickets-list.json");
    let prepared = mapping.prepare(request(&[("limit", "25")])).unwrap();
    assert_eq!(
        json!(prepared.call.query),
        json!({"per_page": "25", "sort_by": "updated_at"})
    );
    let raw = json!({"id": 35436, "subject": "Help", "description": "d", "status": "hold", "assignee_id": null, "submitter_id": 1, "requester_id": 2, "group_id": 3, "created_at": "c", "updated_at": "u"});
    let list = mapping
        .map_list(
            &prepared,
            RawPage {
                records: vec![raw.clone()],
                ..RawPage::default()
            },
            &json!({}),
        )
        .unwrap();
    let ticket = &list.result[0];
    assert_eq!(ticket["id"], "35436");
    assert_eq!(ticket["status"], json!({"id": "hold", "name": "pending"}));
    assert_eq!(ticket["team"], json!({"id": "3"}));
    assert_eq!(ticket["remote_data"], raw);

    let mapped = mapping
        .map_error(
            &prepared,
            422,
            &json!({}),
            &json!({"error": "RecordInvalid", "description": "Record validation errors"}),
        )
        .unwrap();
    assert_eq!(mapped.status, 422);
    assert_eq!(mapped.body["message"], "Record validation errors");
    assert_eq!(
        mapped.body["truto_error_insight"]["remote_error"]["value"]["status"],
        422
    );
}

#[test]
fn a_mapped_status_sets_the_answer_and_remote_error_keeps_the_providers() {
    let mapping =
        compile(json!({"error_mapping": "{ \"message\": error.detail, \"status\": 410 }"}));
    let prepared = mapping.prepare(request(&[])).unwrap();
    let mapped = mapping
        .map_error(&prepared, 404, &json!({}), &json!({"detail": "gone"}))
        .unwrap();
    assert_eq!(mapped.status, 410);
    assert_eq!(mapped.body["message"], "gone");
    assert_eq!(
        mapped.body["truto_error_insight"]["remote_error"]["value"]["status"],
        404
    );
}

#[test]
fn errors_without_a_mapping_keep_the_provider_message() {
    let mapping = compile(json!({}));
    let prepared = mapping.prepare(request(&[])).unwrap();
    let mapped = mapping
        .map_error(&prepared, 429, &json!({}), &json!({"message": "slow down"}))
        .unwrap();
    assert_eq!(mapped.body["message"], "slow down");
    assert!(mapped.body["truto_error_insight"]["rate_limit_error"].is_object());
    let mapped = mapping
        .map_error(&prepared, 500, &json!({}), &Value::Null)
        .unwrap();
    assert_eq!(
        mapped.body["message"],
        "the provider answered with status 500"
    );
}

#[test]
fn hubspot_create_maps_the_body() {
    let mapping = fixture("hubspot-contacts-create.json");
    let prepared = mapping
        .prepare(UnifiedRequest {
            body: Some(
                json!({"first_name": "Ada", "email_addresses": [{"email": "ada@example.com"}]}),
            ),
            ..UnifiedRequest::default()
        })
        .unwrap();
    assert_eq!(
        (
            prepared.call.resource.as_str(),
            prepared.call.method.as_str()
        ),
        ("contacts", "create")
    );
    // The reference's constructed example wraps the object in `$removeEmpty`, which in
    // truto-jsonata keeps only values with a truthy `length`: an object gives undefined,
    // so its key is dropped (docs/unified.md). JSONata drops undefined keys by itself.
    assert_eq!(prepared.call.body, Some(json!({})));
    let corrected = compile(
        json!({"request_body_mapping": "{ \"properties\": { \"firstname\": body.first_name, \"lastname\": body.last_name, \"email\": body.email_addresses[0].email } }"}),
    );
    let body = corrected
        .prepare(UnifiedRequest {
            body: Some(
                json!({"first_name": "Ada", "email_addresses": [{"email": "ada@example.com"}]}),
            ),
            ..UnifiedRequest::default()
        })
        .unwrap()
        .call
        .body;
    assert_eq!(
        body,
        Some(json!({"properties": {"firstname": "Ada", "email": "ada@example.com"}}))
    );
    let created = mapping
        .map_item(&prepared, hubspot_record(), &json!({}))
        .unwrap();
    assert_eq!(created["id"], "51");
    assert_eq!(created["remote_data"]["id"], "51");
}

#[test]
fn required_fields_are_caught_before_any_call() {
    let mapping = CompiledMapping::compile(
        "contacts",
        "create",
        &config(json!({
            "query_schema": {"type": "object", "properties": {"owner_id": {"type": "string", "required": true}}},
            "request_body_schema": {"type": "object", "properties": {
                "first_name": {"type": "string", "required": true},
                "account": {"type": "object", "properties": {"id": {"required": true}}}
            }},
            "query_mapping": "$error('must not run')"
        })),
    )
    .unwrap();
    let err = mapping
        .prepare(UnifiedRequest {
            body: Some(json!({"account": {}})),
            ..UnifiedRequest::default()
        })
        .unwrap_err();
    assert!(matches!(err, UnifiedError::MissingRequired { .. }));
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.to_string(),
        "missing required query parameters: owner_id; missing required body fields: first_name, account.id"
    );
    let insight = err.insight().unwrap();
    assert_eq!(
        insight["missing_required_query_parameters"]["value"],
        json!(["owner_id"])
    );
    assert_eq!(
        insight["missing_required_body_fields"]["value"],
        json!(["first_name", "account.id"])
    );
}

/// A closed `query_schema` declaring only `updated_at[gt]` and `search_term`.
fn closed_filters() -> CompiledMapping {
    CompiledMapping::compile(
        "tickets",
        "list",
        &config(json!({
            "query_schema": {"type": "object", "additionalProperties": false, "properties": {
                "search_term": {"type": "string"},
                "updated_at": {"type": "object", "additionalProperties": false,
                               "properties": {"gt": {"type": "string", "format": "date-time"}}},
                "owner": {"type": "object"}
            }},
            "query_mapping": "$error('must not run for an unsupported filter')"
        })),
    )
    .unwrap()
    .with_integration("zendesk")
}

#[test]
fn a_closed_query_schema_refuses_undeclared_filters_naming_them_and_the_integration() {
    let mapping = closed_filters();
    assert_eq!(mapping.integration_name(), Some("zendesk"));
    let err = mapping
        .prepare(request(&[
            ("updated_at[gt]", "2024-01-01T00:00:00Z"),
            ("updated_at[lt]", "2024-02-01T00:00:00Z"),
            ("created_at[gte]", "2024-01-01T00:00:00Z"),
        ]))
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.to_string(),
        "unsupported query parameters for integration `zendesk`: `updated_at[lt]`, `created_at` (it cannot filter on them)"
    );
    assert_eq!(
        err.insight().unwrap()["unsupported_query_parameters"]["value"],
        json!(["updated_at[lt]", "created_at"])
    );
    // check_required (what a host runs before any step) refuses it too, even with the
    // flow's own parameters still in the query.
    let err = mapping
        .check_required(&request(&[("limit", "5"), ("status", "open")]))
        .unwrap_err();
    assert!(
        matches!(&err, UnifiedError::UnsupportedQuery { parameters, .. } if parameters == &["status"]),
        "{err:?}"
    );
}

#[test]
fn a_closed_query_schema_accepts_declared_filters_flow_parameters_and_open_objects() {
    let mapping = closed_filters();
    let accepted = request(&[
        ("updated_at[gt]", "2024-01-01T00:00:00Z"),
        ("search_term", "printer"),
        ("owner[id]", "7"),
        ("owner[anything][deep]", "x"),
        ("limit", "5"),
        ("next_cursor", "c"),
        ("truto_ignore_remote_data", "true"),
        ("remote_query[foo]", "bar"),
        ("integrated_account_id", "a1"),
    ]);
    mapping.check_required(&accepted).unwrap();
    // Without the facade's name the message still says who refused.
    let anonymous = CompiledMapping::compile(
        "tickets",
        "list",
        &config(json!({"query_schema": {"type": "object", "additionalProperties": false}})),
    )
    .unwrap();
    let err = anonymous
        .check_required(&request(&[("search_term", "x")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported query parameters for this integration: `search_term` (it cannot filter on them)"
    );
    // A declared date filter must be a date.
    let err = mapping
        .check_required(&request(&[("updated_at[gt]", "last tuesday")]))
        .unwrap_err();
    assert_eq!(err.status(), 400);
    assert_eq!(
        err.to_string(),
        "query parameter `updated_at[gt]`: `last tuesday` is not an ISO 8601 date-time"
    );
    for date in [
        "2024-01-01",
        "2024-01-01T05:00:00",
        "2024-01-01T05:00:00.250+02:00",
    ] {
        mapping
            .check_required(&request(&[("updated_at[gt]", date)]))
            .unwrap_or_else(|e| panic!("{date}: {e}"));
    }
    // An open query_schema (the default) checks nothing but required fields.
    compile(json!({"query_schema": {"type": "object", "properties": {}}}))
        .check_required(&request(&[("anything[gt]", "1")]))
        .unwrap();
}

#[test]
fn pickers_stay_within_their_allow_list() {
    let mapping = compile(
        json!({"resource": {"expression": "query.kind", "resources": ["people", "leads"]}}),
    );
    assert_eq!(
        mapping
            .prepare(request(&[("kind", "leads")]))
            .unwrap()
            .call
            .resource,
        "leads"
    );
    let err = mapping.prepare(request(&[("kind", "users")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`resource` chose `users`, which is not one of people, leads"
    );
    let err = mapping.prepare(request(&[])).unwrap_err();
    assert!(
        err.to_string().contains("must return a string, not null"),
        "{err}"
    );
}

#[test]
fn defaults_headers_path_and_bindings() {
    let mapping = compile(json!({
        "query": {"fields": "{{context.fields}}", "static": 1},
        "body": {"source": "patchbay"},
        "request_body_mapping": "{ \"name\": body.name, \"page\": query.page_size, \"raw\": rawQuery.limit, \"first\": before[0].token }",
        "query_mapping": "{ \"page_size\": query.limit, \"who\": id }",
        "request_header_mapping": "{ \"x-request-for\": headers.`x-user` }",
        "path_mapping": "'/v2/people/' & id"
    }));
    let prepared = mapping
        .prepare(UnifiedRequest {
            id: Some("p1".into()),
            query: nest_query([("limit", "3")]),
            body: Some(json!({"name": "Ada"})),
            headers: json!({"x-user": "u1"}).as_object().unwrap().clone(),
            context: json!({"fields": "a,b"}).as_object().unwrap().clone(),
            before: vec![json!({"token": "t"})],
        })
        .unwrap();
    let call = prepared.call;
    assert_eq!(
        json!(call.query),
        json!({"fields": "a,b", "static": 1, "page_size": "3", "who": "p1"})
    );
    assert_eq!(
        call.body,
        Some(json!({"source": "patchbay", "name": "Ada", "page": "3", "raw": "3", "first": "t"}))
    );
    assert_eq!(json!(call.headers), json!({"x-request-for": "u1"}));
    assert_eq!(call.path.as_deref(), Some("/v2/people/p1"));
    assert_eq!((call.id.as_deref(), call.limit), (Some("p1"), Some(3)));
}

#[test]
fn without_a_body_mapping_the_unified_body_is_sent() {
    let mapping = compile(json!({}));
    let prepared = mapping
        .prepare(UnifiedRequest {
            body: Some(json!({"a": 1})),
            ..UnifiedRequest::default()
        })
        .unwrap();
    assert_eq!(prepared.call.body, Some(json!({"a": 1})));
    assert_eq!(
        (
            prepared.call.resource.as_str(),
            prepared.call.method.as_str()
        ),
        ("contacts", "list")
    );
    assert!(
        prepared.call.query.is_empty(),
        "the unified query is not forwarded without query_mapping"
    );
}

#[test]
fn partial_responses_array_mode_and_dropped_records() {
    let mapping = compile(json!({
        "response_mapping_method": "array",
        "response_mapping": "response[active].{ \"id\": $string(id) }",
        "is_partial_expression": "$count(data) > 1"
    }));
    let prepared = mapping.prepare(request(&[])).unwrap();
    let records = vec![
        json!({"id": 1, "active": true}),
        json!({"id": 2, "active": false}),
    ];
    let list = mapping
        .map_list(
            &prepared,
            RawPage {
                records,
                ..RawPage::default()
            },
            &json!({}),
        )
        .unwrap();
    assert!(list.is_partial_response);
    assert_eq!(
        list.result,
        json!([{"id": "1"}]),
        "unpaired outputs get no remote_data"
    );

    let per_item = compile(
        json!({"response_mapping": "response.active ? { \"id\": $string(response.id), \"etag\": headers.etag }"}),
    );
    let prepared = per_item.prepare(request(&[])).unwrap();
    let records = vec![
        json!({"id": 1, "active": true}),
        json!({"id": 2, "active": false}),
    ];
    let mapped = per_item
        .map_records(&prepared, records, &json!({"etag": "e1"}))
        .unwrap();
    assert_eq!(
        mapped,
        vec![json!({"id": "1", "etag": "e1", "remote_data": {"id": 1, "active": true}})]
    );

    let bad = compile(json!({"response_mapping": "'text'"}));
    let prepared = bad.prepare(request(&[])).unwrap();
    let err = bad
        .map_records(&prepared, vec![json!({})], &json!({}))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`response_mapping` of contacts.list must return an object per record, not a string"
    );
}

#[test]
fn layers_merge_and_the_account_mapping_runs_beside() {
    let base = config(json!({
        "resource": "employees", "method": "list",
        "query": {"expand": "personal"},
        "query_mapping": "{ \"page\": query.page, \"name\": query.name }",
        "response_mapping": "{ \"id\": response.id, \"first_name\": response.first }"
    }));
    let environment = config(json!({"method": "search", "query": {"include": "all"}}));
    let account = config(json!({
        "query_mapping": "{ \"fullName\": query.name }",
        "response_mapping": "{ \"date_of_birth\": response.personal.shortBirthDate, \"first_name\": $uppercase(response.first) }"
    }));
    let mapping = MappingLayers {
        base: Some(&base),
        environment: Some(&environment),
        account: Some(&account),
    }
    .compile("employees", "list")
    .unwrap();
    let prepared = mapping
        .prepare(request(&[("name", "Ada"), ("page", "2")]))
        .unwrap();
    assert_eq!(prepared.call.method, "search");
    assert_eq!(
        json!(prepared.call.query),
        json!({"expand": "personal", "include": "all", "page": "2", "name": "Ada", "fullName": "Ada"})
    );
    let raw = json!({"id": "e1", "first": "ada", "personal": {"shortBirthDate": "1815-12-10"}});
    let record = mapping
        .map_item(&prepared, raw.clone(), &json!({}))
        .unwrap();
    assert_eq!(
        record,
        json!({"id": "e1", "first_name": "ADA", "date_of_birth": "1815-12-10", "remote_data": raw})
    );

    let err = MappingLayers::default()
        .compile("employees", "list")
        .unwrap_err();
    assert_eq!(
        err.errors()[0].to_string(),
        "(root): no mapping for employees.list"
    );
}

#[test]
fn an_environment_layer_replaces_expressions_whole_and_null_keeps_the_base() {
    let base =
        config(json!({"query_mapping": "{ \"a\": 1, \"b\": 2 }", "path_mapping": "'/base'"}));
    let environment = config(json!({"query_mapping": "{ \"a\": 3 }"}));
    let mapping = MappingLayers {
        base: Some(&base),
        environment: Some(&environment),
        account: None,
    }
    .compile("contacts", "list")
    .unwrap();
    let prepared = mapping.prepare(request(&[])).unwrap();
    assert_eq!(json!(prepared.call.query), json!({"a": 3}));
    assert_eq!(prepared.call.path.as_deref(), Some("/base"));
}

#[test]
fn steps_are_planned_with_their_bindings() {
    let mapping = compile(json!({
        "before": [
            {"type": "request", "run_if": "$exists(query.owner)", "config": {"resource": "owners", "method": "get", "id": "{{query.owner}}"}},
            {"type": "request", "config": "{ \"resource\": \"teams\", \"method\": \"list\", \"query\": { \"owner\": step.name } }"}
        ]
    }));
    let steps = mapping.before_steps();
    let with_owner = request(&[("owner", "o1")]);
    let first = mapping
        .plan_step(&steps[0], &StepScope::before(&with_owner, None))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            first.resource.as_str(),
            first.method.as_str(),
            first.id.as_deref()
        ),
        ("owners", "get", Some("o1"))
    );
    assert!(
        mapping
            .plan_step(&steps[0], &StepScope::before(&request(&[]), None))
            .unwrap()
            .is_none()
    );
    let second = mapping
        .plan_step(
            &steps[1],
            &StepScope::before(&with_owner, Some(json!({"name": "Grace"}))),
        )
        .unwrap()
        .unwrap();
    assert_eq!(json!(second.query), json!({"owner": "Grace"}));
}

#[test]
fn response_headers_map_from_the_provider_answer() {
    let mapping = compile(
        json!({"response_header_mapping": "{ \"x-total\": headers.`x-total-count`, \"n\": $count(response) }"}),
    );
    let prepared = mapping.prepare(request(&[])).unwrap();
    let headers = mapping
        .map_response_headers(&prepared, &json!({"x-total-count": "12"}), &json!([1, 2]))
        .unwrap();
    assert_eq!(json!(headers), json!({"x-total": "12", "n": 2}));
}

#[test]
fn side_loads_are_planned_per_record_and_fill_their_key() {
    let mapping = compile(json!({
        "response_mapping": "{ \"id\": response.id, \"owner\": { \"id\": response.owner_id } }",
        "side_load": {"owner": {"resource": "users", "method": "get", "id": "{{record.owner.id}}", "query": {"fields": "{{context.fields}}"},
                                "response_mapping": "{ \"id\": $string(response.id), \"name\": response.full_name }"}}
    }));
    let prepared = mapping
        .prepare(UnifiedRequest {
            context: json!({"fields": "name"}).as_object().unwrap().clone(),
            ..UnifiedRequest::default()
        })
        .unwrap();
    let mut record = mapping
        .map_item(&prepared, json!({"id": "c1", "owner_id": 9}), &json!({}))
        .unwrap();
    let call = mapping.plan_side_load(&prepared, "owner", &record).unwrap();
    assert_eq!(
        (
            call.resource.as_str(),
            call.method.as_str(),
            call.id.as_deref()
        ),
        ("users", "get", Some("9"))
    );
    assert_eq!(json!(call.query), json!({"fields": "name"}));
    mapping
        .apply_side_load(
            &prepared,
            "owner",
            &mut record,
            json!({"id": 9, "full_name": "Grace Hopper"}),
        )
        .unwrap();
    assert_eq!(record["owner"], json!({"id": "9", "name": "Grace Hopper"}));
    let err = mapping
        .plan_side_load(&prepared, "team", &record)
        .unwrap_err();
    assert_eq!(err.to_string(), "contacts.list has no side_load `team`");
}

#[test]
fn empty_answers_of_deletes() {
    let plain = compile(json!({}));
    let prepared = plain
        .prepare(UnifiedRequest {
            id: Some("c1".into()),
            ..UnifiedRequest::default()
        })
        .unwrap();
    assert_eq!(
        plain.map_item(&prepared, Value::Null, &json!({})).unwrap(),
        Value::Null
    );
    let mapped = compile(json!({"response_mapping": "{ \"id\": id }"}));
    let prepared = mapped
        .prepare(UnifiedRequest {
            id: Some("c1".into()),
            ..UnifiedRequest::default()
        })
        .unwrap();
    assert_eq!(
        mapped.map_item(&prepared, Value::Null, &json!({})).unwrap(),
        json!({"id": "c1", "remote_data": null})
    );
}

#[test]
fn a_row_compiles_itself() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/zendesk-tickets-list.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mapping = load_mapping_row(&text).unwrap().compile().unwrap();
    assert_eq!(
        (mapping.resource_name(), mapping.method_name()),
        ("tickets", "list")
    );
}

#[test]
fn unshaped_records_shape_like_map_list() {
    let mapping =
        compile(json!({"response_mapping": "response.{ \"id\": $string(id), \"n\": n }"}));
    let prepared = mapping
        .prepare(request(&[
            ("truto_key_by", "id"),
            ("truto_exclude_fields", "n"),
            ("truto_ignore_remote_data", "true"),
        ]))
        .unwrap();
    let page = || RawPage {
        records: vec![json!({"id": 1, "n": "a"}), json!({"id": 2, "n": "b"})],
        ..RawPage::default()
    };
    let direct = mapping.map_list(&prepared, page(), &json!({})).unwrap();
    let unshaped = mapping
        .map_list(&prepared.unshaped(), page(), &json!({}))
        .unwrap();
    assert_eq!(
        unshaped.result[0]["remote_data"],
        json!({"id": 1, "n": "a"})
    );
    let Value::Array(records) = unshaped.result else {
        panic!("unshaped lists are arrays")
    };
    assert_eq!(prepared.shape_list(records).unwrap(), direct.result);
    assert_eq!(direct.result, json!({"1": {"id": "1"}, "2": {"id": "2"}}));
}
