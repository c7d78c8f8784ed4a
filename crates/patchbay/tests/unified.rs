//! Unified calls through the facade against loopback HTTP (wiremock): a crm `contacts`
//! mapping over an integration's `contacts` resource; list pages with the provider's
//! cursor passed through, get, create with a body mapping, error mapping, required
//! fields refused before any request, `truto_*` parameters, sandbox writes.

mod support;

use patchbay::config::AuthenticationMethod;
use patchbay::unified::{
    AccountOverride, MappingRow, UnifiedModel, UnifiedRequest, load_mapping_row,
    load_unified_model, nest_query,
};
use patchbay::{Error, ErrorKind, UnifiedBody, UnifiedResponse};
use serde_json::{Value, json};
use support::{Harness, account, harness, on};
use wiremock::matchers::{body_json, query_param, query_param_is_missing};
use wiremock::{MockServer, ResponseTemplate};

fn integration(base: &str) -> patchbay::config::IntegrationConfig {
    support::config(json!({
        "base_url": base,
        "resources": {"people": {
            "list": {"method": "get", "path": "/people", "response_path": "results",
                     "pagination": {"format": "cursor", "config": {"cursor_path": "next", "cursor_key": "after"}}},
            "get": {"method": "get", "path": "/people/{{id}}"},
            "create": {"method": "post", "path": "/people"}
        }}
    }))
}

fn model() -> UnifiedModel {
    load_unified_model(
        r#"{"name": "crm", "resources": {"contacts": {"methods": ["list", "get", "create"]}}}"#,
    )
    .unwrap()
}

const RESPONSE: &str = r#"response.{ "id": $string(id), "first_name": props.first, "email_addresses": props.email ? [{ "email": props.email }] : [] }"#;

fn row(method: &str, config: Value) -> MappingRow {
    let mut config = config;
    config["resource"] = json!("people");
    config["response_mapping"] = json!(RESPONSE);
    load_mapping_row(
        &json!({"resource_name": "contacts", "integration_name": "acme", "method_name": method, "config": config})
            .to_string(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn rows() -> Vec<MappingRow> {
    vec![
        row("list", json!({
            "query_mapping": r#"{ "size": query.limit, "q": query.search_term }"#,
            "response_header_mapping": r#"{ "x-page-records": $string($count(response)) }"#
        })),
        row("get", json!({"error_mapping": r#"{ "message": "No such contact: " & error.detail, "code": error.code }"#})),
        row("create", json!({
            "request_body_schema": {"type": "object", "properties": {"first_name": {"type": "string", "required": true}}},
            "request_body_mapping": r#"{ "props": { "first": body.first_name, "email": body.email_addresses[0].email } }"#
        })),
        // Another integration's row is skipped.
        load_mapping_row(r#"{"resource_name": "contacts", "integration_name": "other", "method_name": "delete", "config": {}}"#).unwrap(),
    ]
}

/// A facade with the integration at `server` installed as `acme-prod`, the crm mappings
/// registered for it, and an account `a1` (a sandbox when `sandbox`).
async fn setup(server: &MockServer, sandbox: bool) -> Harness {
    let h = harness();
    h.patchbay
        .install("acme-prod", integration(&server.uri()), Default::default())
        .unwrap();
    h.patchbay
        .install_unified("acme-prod", &model(), "acme", &rows(), &[])
        .unwrap();
    let mut a1 = account("a1", "acme-prod", AuthenticationMethod::ApiKey, json!({}));
    a1.is_sandbox = sandbox;
    patchbay::AccountStore::put(h.accounts.as_ref(), a1)
        .await
        .unwrap();
    h
}

/// `method` of the crm model's `contacts` for account `a1`.
async fn contacts(
    h: &Harness,
    method: &str,
    request: UnifiedRequest,
) -> Result<UnifiedResponse, Error> {
    h.patchbay
        .unified("a1", "crm", "contacts", method, request)
        .await
}

/// A request for the record `id`.
fn by_id(id: &str) -> UnifiedRequest {
    UnifiedRequest {
        id: Some(id.into()),
        ..UnifiedRequest::default()
    }
}

fn query(pairs: &[(&str, &str)]) -> UnifiedRequest {
    UnifiedRequest {
        query: nest_query(pairs.iter().copied()),
        ..UnifiedRequest::default()
    }
}

fn list_of(response: UnifiedResponse) -> Value {
    match response.body {
        UnifiedBody::List(list) => serde_json::to_value(list).unwrap(),
        other => panic!("expected a list, got {other:?}"),
    }
}

fn item_of(response: UnifiedResponse) -> Value {
    match response.body {
        UnifiedBody::Item(item) => item,
        other => panic!("expected an item, got {other:?}"),
    }
}

#[tokio::test]
async fn list_maps_two_provider_pages_passing_the_cursor_through() {
    let server = MockServer::start().await;
    on("GET", "/people")
        .and(query_param_is_missing("after"))
        .and(query_param("size", "1"))
        .and(query_param("q", "ada"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"results": [{"id": 1, "props": {"first": "Ada", "email": "ada@example.com"}}], "next": "c2"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/people")
        .and(query_param("after", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"results": [{"id": 2, "props": {"first": "Grace"}}], "next": null}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;

    let first = contacts(&h, "list", query(&[("limit", "1"), ("search_term", "ada")]))
        .await
        .unwrap();
    let mut first = list_of(first);
    // The pipeline's opaque cursor (it encodes the provider's `c2`), passed through.
    let cursor = first["next_cursor"].take();
    let cursor = cursor.as_str().expect("a next page").to_owned();
    assert_eq!(
        first,
        json!({
            "result": [{"id": "1", "first_name": "Ada", "email_addresses": [{"email": "ada@example.com"}],
                        "remote_data": {"id": 1, "props": {"first": "Ada", "email": "ada@example.com"}}}],
            "next_cursor": null, "prev_cursor": null, "result_count": 1, "is_partial_response": false
        })
    );

    let second = h
        .patchbay
        .unified(
            "a1",
            "crm",
            "contacts",
            "list",
            query(&[
                ("next_cursor", cursor.as_str()),
                ("truto_ignore_remote_data", "true"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        list_of(second),
        json!({
            "result": [{"id": "2", "first_name": "Grace", "email_addresses": []}],
            "next_cursor": null, "prev_cursor": null, "result_count": 1, "is_partial_response": false
        })
    );
}

#[tokio::test]
async fn raw_format_and_key_by_shape_the_list() {
    let server = MockServer::start().await;
    on("GET", "/people")
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"results": [{"id": 1, "props": {"first": "Ada"}}, {"id": 2, "props": {"first": "Grace"}}]}),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;

    let raw = contacts(&h, "list", query(&[("truto_response_format", "raw")]))
        .await
        .unwrap();
    assert_eq!(raw.headers["x-page-records"], "2");
    let raw = list_of(raw);
    assert_eq!(
        raw["result"],
        json!([{"id": 1, "props": {"first": "Ada"}}, {"id": 2, "props": {"first": "Grace"}}])
    );
    assert_eq!(raw["result_count"], 2);

    let keyed = h
        .patchbay
        .unified(
            "a1",
            "crm",
            "contacts",
            "list",
            query(&[
                ("truto_key_by", "id"),
                ("truto_exclude_fields", "remote_data,email_addresses"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        list_of(keyed)["result"],
        json!({"1": {"id": "1", "first_name": "Ada"}, "2": {"id": "2", "first_name": "Grace"}})
    );
}

#[tokio::test]
async fn get_maps_the_record_with_its_remote_data() {
    let server = MockServer::start().await;
    on("GET", "/people/7")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 7, "props": {"first": "Ada"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;
    let request = by_id("7");
    let got = contacts(&h, "get", request).await.unwrap();
    assert!(got.headers.is_empty());
    assert_eq!(
        item_of(got),
        json!({"id": "7", "first_name": "Ada", "email_addresses": [],
               "remote_data": {"id": 7, "props": {"first": "Ada"}}})
    );
}

#[tokio::test]
async fn create_sends_the_mapped_body() {
    let server = MockServer::start().await;
    on("POST", "/people")
        .and(body_json(
            json!({"props": {"first": "Ada", "email": "ada@example.com"}}),
        ))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(
                json!({"id": 9, "props": {"first": "Ada", "email": "ada@example.com"}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;
    let request = UnifiedRequest {
        body: Some(json!({"first_name": "Ada", "email_addresses": [{"email": "ada@example.com"}]})),
        ..UnifiedRequest::default()
    };
    let created = contacts(&h, "create", request).await.unwrap();
    let created = item_of(created);
    assert_eq!(created["id"], "9");
    assert_eq!(
        created["email_addresses"],
        json!([{"email": "ada@example.com"}])
    );
}

#[tokio::test]
async fn a_provider_404_is_mapped_by_error_mapping() {
    let server = MockServer::start().await;
    on("GET", "/people/404")
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"detail": "gone", "code": "E_GONE"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;
    let request = by_id("404");
    let error = contacts(&h, "get", request).await.unwrap_err();
    assert!(matches!(error, Error::UnifiedProvider { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Provider);
    assert_eq!(error.provider_response().map(|p| p.status), Some(404));
    let answer = error.unified_error().unwrap();
    assert_eq!(answer.status, 404);
    assert_eq!(answer.body["message"], "No such contact: gone");
    assert_eq!(answer.body["code"], "E_GONE");
    assert_eq!(
        answer.body["truto_error_insight"]["remote_error"]["value"]["body"],
        json!({"detail": "gone", "code": "E_GONE"})
    );
}

#[tokio::test]
async fn a_missing_required_field_is_refused_before_any_request() {
    let server = MockServer::start().await;
    on("POST", "/people")
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;
    let request = UnifiedRequest {
        body: Some(json!({"email_addresses": [{"email": "ada@example.com"}]})),
        ..UnifiedRequest::default()
    };
    let error = contacts(&h, "create", request).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Caller);
    let answer = error.unified_error().unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["truto_error_insight"]["missing_required_body_fields"]["value"],
        json!(["first_name"])
    );
}

#[tokio::test]
async fn sandbox_accounts_refuse_unified_writes_and_unknown_methods_are_not_found() {
    let server = MockServer::start().await;
    on("POST", "/people")
        .respond_with(ResponseTemplate::new(201))
        .expect(0)
        .mount(&server)
        .await;
    let h = setup(&server, true).await;
    let request = UnifiedRequest {
        body: Some(json!({"first_name": "Ada"})),
        ..UnifiedRequest::default()
    };
    let error = contacts(&h, "create", request).await.unwrap_err();
    assert!(matches!(error, Error::SandboxWrite(_)), "{error:?}");

    for (model, method) in [("crm", "delete"), ("ticketing", "list")] {
        let error = h
            .patchbay
            .unified("a1", model, "contacts", method, UnifiedRequest::default())
            .await
            .unwrap_err();
        assert!(error.is_not_found(), "{error:?}");
    }
    let bad = query(&[("truto_response_format", "stream")]);
    let error = contacts(&h, "list", bad).await.unwrap_err();
    assert_eq!(error.unified_error().map(|a| a.status), Some(400));
}

#[tokio::test]
async fn an_account_override_is_layered_for_its_call() {
    let server = MockServer::start().await;
    on("GET", "/people/7")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "props": {"first": "Ada", "nick": "ace"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = setup(&server, false).await;
    let layer: AccountOverride = serde_json::from_value(json!({"crm": {"contacts": {"get": {
        "response_mapping": r#"{ "nickname": response.props.nick }"#
    }}}}))
    .unwrap();
    let request = UnifiedRequest {
        id: Some("7".into()),
        query: nest_query([("truto_ignore_remote_data", "true")]),
        ..UnifiedRequest::default()
    };
    let got = h
        .patchbay
        .unified_with_override("a1", "crm", "contacts", "get", request, Some(&layer))
        .await
        .unwrap();
    assert_eq!(
        item_of(got),
        json!({"id": "7", "first_name": "Ada", "email_addresses": [], "nickname": "ace"})
    );
}

#[test]
fn a_mapping_that_does_not_compile_is_not_registered() {
    let h = harness();
    let broken = load_mapping_row(
        r#"{"resource_name": "contacts", "integration_name": "acme", "method_name": "get", "config": {}}"#,
    )
    .unwrap();
    let mut broken = broken;
    broken.config.response_mapping = Some("response.{".into());
    let error = h
        .patchbay
        .install_unified("acme-prod", &model(), "acme", &[broken], &[])
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config, "{error}");
}

#[tokio::test]
async fn steps_and_side_loads_run_through_the_pipeline() {
    let server = MockServer::start().await;
    let config = support::config(json!({
        "base_url": server.uri(),
        "resources": {
            "people": {"get": {"method": "get", "path": "/people/{{id}}"}},
            "users": {"get": {"method": "get", "path": "/users/{{id}}"}},
            "audit": {"create": {"method": "post", "path": "/audit"}}
        }
    }));
    on("GET", "/users/me")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u0", "region": "eu"})))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/people/7")
        .and(query_param("region", "eu"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 7, "props": {"first": "Ada"}, "manager": "u1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/users/u1")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "u1", "name": "Grace"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    on("POST", "/audit")
        .and(body_json(json!({"seen": "7"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let h = harness();
    h.patchbay
        .install("acme-prod", config, Default::default())
        .unwrap();
    let row = row(
        "get",
        json!({
            "before": [{"type": "request", "config": {"resource": "users", "method": "get", "id": "me"}}],
            "query_mapping": r#"{ "region": before.region }"#,
            "side_load": {"manager": {"resource": "users", "method": "get", "id": "{{record.remote_data.manager}}",
                                      "response_mapping": r#"{ "id": response.id, "name": response.name }"#}},
            "after": [{"type": "request", "config": {"resource": "audit", "method": "create", "body": {"seen": "{{data.id}}"}}}]
        }),
    );
    h.patchbay
        .install_unified("acme-prod", &model(), "acme", &[row], &[])
        .unwrap();
    h.put("a1", "acme-prod", AuthenticationMethod::ApiKey, json!({}))
        .await;
    let request = UnifiedRequest {
        id: Some("7".into()),
        query: nest_query([("truto_exclude_fields", "remote_data")]),
        ..UnifiedRequest::default()
    };
    let got = contacts(&h, "get", request).await.unwrap();
    assert_eq!(
        item_of(got),
        json!({"id": "7", "first_name": "Ada", "email_addresses": [], "manager": {"id": "u1", "name": "Grace"}})
    );
}

#[tokio::test]
async fn header_and_path_mappings_shape_the_provider_request() {
    let server = MockServer::start().await;
    on("GET", "/v2/people/42/profile")
        .and(wiremock::matchers::header("x-tenant", "acme-eu"))
        .and(wiremock::matchers::header("x-api-version", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 42, "props": {"first": "Ada"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let h = harness();
    h.patchbay
        .install("acme-prod", integration(&server.uri()), Default::default())
        .unwrap();
    let get = row(
        "get",
        json!({
            "request_header_mapping": r#"{ "x-tenant": headers."x-tenant", "x-api-version": 2 }"#,
            "path_mapping": r#""/v2/people/" & id & "/profile""#
        }),
    );
    h.patchbay
        .install_unified("acme-prod", &model(), "acme", &[get], &[])
        .unwrap();
    patchbay::AccountStore::put(
        h.accounts.as_ref(),
        account("a1", "acme-prod", AuthenticationMethod::ApiKey, json!({})),
    )
    .await
    .unwrap();

    let mut request = by_id("42");
    request.headers.insert("x-tenant".into(), json!("acme-eu"));
    let record = item_of(contacts(&h, "get", request).await.unwrap());
    assert_eq!(record["id"], "42");
    assert_eq!(record["first_name"], "Ada");

    // A path that would leave the base URL's host is refused; nothing is sent.
    let escape = row(
        "get",
        json!({"path_mapping": r#""//evil.example/people/" & id"#}),
    );
    h.patchbay
        .install_unified("acme-prod", &model(), "acme", &[escape], &[])
        .unwrap();
    let error = contacts(&h, "get", by_id("42")).await.unwrap_err();
    assert!(error.to_string().contains("single `/`"), "{error}");
}
