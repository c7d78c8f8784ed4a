//! The unified API over real HTTP on loopback, with a SQLite store and wiremock
//! as the provider: the four stored objects (CRUD, filters, versions, 400s with
//! JSON paths that store nothing, deep-merge PATCH), unified calls (every page
//! of a list, get, create, update, delete, a custom method), the layers
//! (environment row, account override, changes on the next call, also through
//! a second server over the same store), sandbox writes, a provider 401, the
//! meta endpoints and the 404s.

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{TestServer, id_of};
use wiremock::matchers::{body_json, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "unified-test-key-0001";

/// An integration `acme` whose `people` resource the crm model maps.
fn acme(base_url: &str) -> Value {
    json!({"name": "acme", "category": "crm", "config": {
        "label": "Acme",
        "base_url": base_url,
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_key", "label": "API key", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "basic", "config": {"username": "{{api_key}}", "password": "x"}},
        "resources": {"people": {
            "list": {"path": "/people", "response_path": "results",
                     "pagination": {"format": "cursor", "config": {"cursor_path": "next", "cursor_key": "after"}}},
            "get": {"path": "/people/{{id}}"},
            "create": {"method": "post", "path": "/people"},
            "update": {"method": "patch", "path": "/people/{{id}}"},
            "delete": {"method": "delete", "path": "/people/{{id}}"},
            "merge": {"method": "post", "path": "/people/{{id}}/merge"}
        }}
    }})
}

fn crm_model() -> Value {
    json!({
        "name": "crm",
        "category": "crm",
        "description": "People and companies",
        "resources": {"contacts": {
            "description": "People",
            "schema": {"type": "object", "properties": {
                "id": {"type": "string", "required": true},
                "first_name": {"type": "string"},
                "email": {"type": "string"},
                "title": {"type": "string"},
                "remote_data": {"type": "object"}
            }},
            "methods": ["list", "get", "create", "update", "delete", "merge"]
        }},
        "docs": {"acme": {"Plan": "Any plan <b>", "Scopes": ["people.read", "people.write"]}}
    })
}

const RECORD: &str = r#"response.{ "id": $string(id), "first_name": first, "email": mail }"#;

/// The base rows of the crm model for `acme`.
fn base_rows(model_id: &str) -> Vec<Value> {
    let row = |method: &str, config: Value| {
        json!({"unified_model_id": model_id, "resource_name": "contacts",
               "integration_name": "acme", "method_name": method, "config": config})
    };
    vec![
        row(
            "list",
            json!({"resource": "people", "response_mapping": RECORD,
                   "query_mapping": "{ \"q\": query.search_term }",
                   "query_schema": {"type": "object", "properties": {"search_term": {"type": "string"}}},
                   "query": {"view": "full"}, "documentation_link": "https://acme.test/docs/people"}),
        ),
        row(
            "get",
            json!({"resource": "people", "response_mapping": RECORD,
                   "response_header_mapping": "{ \"x-record-id\": $string(response.id), \"content-type\": \"text/plain\" }"}),
        ),
        row(
            "create",
            json!({"resource": "people", "response_mapping": RECORD,
                   "request_body_schema": {"type": "object", "properties": {"first_name": {"type": "string", "required": true}}},
                   "request_body_mapping": "{ \"first\": body.first_name, \"mail\": body.email }"}),
        ),
        row(
            "update",
            json!({"resource": "people", "response_mapping": RECORD,
                   "request_body_mapping": "{ \"first\": body.first_name }"}),
        ),
        row(
            "delete",
            json!({"resource": "people", "response_mapping": "{ \"id\": id, \"deleted\": true }"}),
        ),
        row(
            "merge",
            json!({"resource": "people", "method": "merge",
                   "response_mapping": "{ \"merged_into\": $string(response.into) }"}),
        ),
    ]
}

/// A server with `acme` installed against a wiremock provider, the crm model
/// created, installed and mapped, and a live and a sandbox account.
struct Rig {
    server: TestServer,
    provider: MockServer,
    model_id: String,
    env_model_id: String,
    live: String,
    sandbox: String,
}

impl Rig {
    async fn start() -> Self {
        let provider = MockServer::start().await;
        let server = TestServer::start().await;
        Self::over(server, provider).await
    }

    async fn over(server: TestServer, provider: MockServer) -> Self {
        let install_id = server.install(acme(&provider.uri()), None).await.install_id;
        let live = id_of(
            &server
                .import(&install_id, "t1", json!({"context": {"api_key": API_KEY}}))
                .await,
        );
        let sandbox = id_of(
            &server
                .import(
                    &install_id,
                    "t1",
                    json!({"context": {"api_key": API_KEY}, "is_sandbox": true}),
                )
                .await,
        );
        let model_id = id_of(&created(&server, "/unified-model", crm_model()).await);
        for row in base_rows(&model_id) {
            created(&server, "/unified-model-resource-method", row).await;
        }
        let env_model_id = id_of(
            &created(
                &server,
                "/environment-unified-model",
                json!({"unified_model_id": model_id}),
            )
            .await,
        );
        Self {
            server,
            provider,
            model_id,
            env_model_id,
            live,
            sandbox,
        }
    }

    /// `method` of `/unified/crm/contacts{rest}` for the live account.
    async fn unified(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.unified_as(&self.live, method, rest, body).await
    }

    async fn unified_as(
        &self,
        account: &str,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let separator = if rest.contains('?') { '&' } else { '?' };
        self.server
            .send(
                method,
                &format!("/unified/crm/contacts{rest}{separator}integrated_account_id={account}"),
                body,
            )
            .await
    }

    async fn mock_get(&self, id: u64, first: &str) {
        Mock::given(method("GET"))
            .and(path(format!("/people/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": id, "first": first, "mail": "a@acme.test"})),
            )
            .mount(&self.provider)
            .await;
    }
}

/// POSTs `body` to `path`, asserts 201 and answers the object.
async fn created(server: &TestServer, path: &str, body: Value) -> Value {
    let (status, answer) = server.send(Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "POST {path}: {answer}");
    answer
}

fn paths_of(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {answer}"))
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(page: &Value) -> Vec<String> {
    page["result"]
        .as_array()
        .unwrap_or_else(|| panic!("no result in {page}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn objects_round_trip_with_filters_versions_and_conflicts() {
    let rig = Rig::start().await;
    let server = &rig.server;
    let other = id_of(
        &created(
            server,
            "/unified-model",
            json!({"name": "ticketing", "category": "support", "resources": {"tickets": {}}}),
        )
        .await,
    );

    // The model as stored, with the store's fields.
    let (status, model) = server
        .send(
            Method::GET,
            &format!("/unified-model/{}", rig.model_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(model["name"], "crm");
    assert_eq!(model["version"], 1);
    assert_eq!(model["resources"], crm_model()["resources"]);
    assert_eq!(
        model["installed_environment"],
        json!([server.environment_id])
    );

    // Filters.
    for (query, expected) in [
        ("name=crm", vec![rig.model_id.as_str()]),
        ("category=support", vec![other.as_str()]),
        ("version=1", vec![rig.model_id.as_str(), other.as_str()]),
        ("version=2", vec![]),
    ] {
        let (_, page) = server
            .send(Method::GET, &format!("/unified-model?{query}"), None)
            .await;
        assert_eq!(ids(&page), expected, "{query}");
    }
    let (status, _) = server
        .send(Method::GET, "/unified-model?version=x", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Cursor pagination.
    let (_, first) = server
        .send(Method::GET, "/unified-model?limit=1", None)
        .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = server
        .send(
            Method::GET,
            &format!("/unified-model?limit=1&next_cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&first), [rig.model_id.as_str()]);
    assert_eq!(ids(&second), [other.as_str()]);
    assert!(second["next_cursor"].is_null());

    // PATCH needs the current version: a stale one is a 409 and changes nothing.
    let url = format!("/unified-model/{}", rig.model_id);
    let (status, conflict) = server
        .send(
            Method::PATCH,
            &url,
            Some(json!({"version": 7, "description": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .contains("version 1, not 7"),
        "{conflict}"
    );
    let (status, missing) = server
        .send(Method::PATCH, &url, Some(json!({"description": "x"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("`version` is required")
    );
    let patched = server
        .patch_ok(&url, json!({"version": 1, "description": "Updated"}))
        .await;
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["description"], "Updated");
    assert_eq!(patched["resources"], model["resources"]);
    let (_, read) = server.send(Method::GET, &url, None).await;
    assert_eq!(read["description"], "Updated");

    // Mapping rows: unique per model/resource/integration/method, filters.
    let (status, duplicate) = server
        .send(
            Method::POST,
            "/unified-model-resource-method",
            Some(base_rows(&rig.model_id)[0].clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");
    let (_, rows) = server
        .send(
            Method::GET,
            &format!(
                "/unified-model-resource-method?unified_model_id={}&integration_name=acme",
                rig.model_id
            ),
            None,
        )
        .await;
    assert_eq!(rows["result"].as_array().unwrap().len(), 6);
    let (_, gets) = server
        .send(
            Method::GET,
            "/unified-model-resource-method?method_name=get&resource_name=contacts",
            None,
        )
        .await;
    assert_eq!(gets["result"].as_array().unwrap().len(), 1);
    assert_eq!(gets["result"][0]["config"]["response_mapping"], RECORD);
    assert_eq!(gets["result"][0]["version"], 1);
    let row_id = gets["result"][0]["id"].as_str().unwrap().to_owned();
    let (status, row) = server
        .send(
            Method::GET,
            &format!("/unified-model-resource-method/{row_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(row["unified_model_id"], rig.model_id.as_str());

    // Environment unified models: once per model, filters, the model embedded.
    let (status, again) = server
        .send(
            Method::POST,
            "/environment-unified-model",
            Some(json!({"unified_model_id": rig.model_id})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    for query in [
        format!("unified_model_id={}", rig.model_id),
        "unified_model.name=crm".to_owned(),
        format!("id={}", rig.env_model_id),
        format!("environment_id={}", server.environment_id),
    ] {
        let (_, page) = server
            .send(
                Method::GET,
                &format!("/environment-unified-model?{query}"),
                None,
            )
            .await;
        assert_eq!(ids(&page), [rig.env_model_id.as_str()], "{query}");
        assert_eq!(page["result"][0]["unified_model"]["name"], "crm");
    }
    for query in ["unified_model.name=ticketing", "environment_id=elsewhere"] {
        let (_, page) = server
            .send(
                Method::GET,
                &format!("/environment-unified-model?{query}"),
                None,
            )
            .await;
        assert_eq!(ids(&page), Vec::<String>::new(), "{query}");
    }

    // Override rows belong to an environment unified model.
    let env_row = created(
        server,
        "/environment-unified-model-resource-method",
        json!({"environment_unified_model_id": rig.env_model_id, "resource_name": "contacts",
               "integration_name": "acme", "method_name": "get",
               "config": {"query": {"expand": "all"}}}),
    )
    .await;
    assert_eq!(
        env_row["environment_unified_model_id"],
        rig.env_model_id.as_str()
    );
    let (_, env_rows) = server
        .send(
            Method::GET,
            &format!(
                "/environment-unified-model-resource-method?environment_unified_model_id={}",
                rig.env_model_id
            ),
            None,
        )
        .await;
    assert_eq!(ids(&env_rows), [id_of(&env_row)]);

    // A model cannot be deleted while installed; uninstalling removes its override rows.
    let (status, _) = server.send(Method::DELETE, &url, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/environment-unified-model/{}", rig.env_model_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .send(
            Method::GET,
            &format!(
                "/environment-unified-model-resource-method/{}",
                id_of(&env_row)
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, deleted) = server.send(Method::DELETE, &url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["id"], rig.model_id.as_str());
    let (status, _) = server
        .send(
            Method::GET,
            &format!("/unified-model-resource-method/{row_id}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "base rows go with their model"
    );

    // Another environment sees none of it.
    let token = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &token,
            Method::GET,
            &format!("/unified-model/{other}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_definitions_are_400_with_every_path_and_store_nothing() {
    let rig = Rig::start().await;
    let server = &rig.server;

    let (status, answer) = server
        .send(
            Method::POST,
            "/unified-model",
            Some(json!({"name": "Bad Name", "resources": {"Contacts": {"methods": "list"}}, "colour": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let paths = paths_of(&answer);
    for expected in ["colour", "resources.Contacts.methods"] {
        assert!(
            paths.contains(&expected.to_owned()),
            "{expected} not in {paths:?}"
        );
    }
    let (status, answer) = server
        .send(
            Method::POST,
            "/unified-model",
            Some(json!({"name": "Bad Name", "resources": {"Contacts": {}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(paths_of(&answer), ["name", "resources.Contacts"]);
    let (_, page) = server.send(Method::GET, "/unified-model", None).await;
    assert_eq!(ids(&page), [rig.model_id.as_str()], "nothing stored");

    // A PATCH that makes the model invalid changes nothing, not even the version.
    let url = format!("/unified-model/{}", rig.model_id);
    let (status, answer) = server
        .send(
            Method::PATCH,
            &url,
            Some(json!({"version": 1, "webhooks": {"contacts": "$$$ ("}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(paths_of(&answer), ["webhooks.contacts"]);
    let (_, model) = server.send(Method::GET, &url, None).await;
    assert_eq!(model["version"], 1);
    assert!(model.get("webhooks").is_none());

    // A row with a misspelt key and a JSONata that does not compile.
    let (status, answer) = server
        .send(
            Method::POST,
            "/unified-model-resource-method",
            Some(
                json!({"unified_model_id": rig.model_id, "resource_name": "contacts",
                        "integration_name": "other", "method_name": "list",
                        "config": {"respone_mapping": "x", "query_mapping": "{ \"a\": "}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        paths_of(&answer),
        ["config.respone_mapping", "config.query_mapping"]
    );
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("response_mapping")
    );
    let (_, rows) = server
        .send(
            Method::GET,
            "/unified-model-resource-method?integration_name=other",
            None,
        )
        .await;
    assert_eq!(ids(&rows), Vec::<String>::new(), "nothing stored");
    // The owner is required, and of the right kind.
    let (status, answer) = server
        .send(
            Method::POST,
            "/environment-unified-model-resource-method",
            Some(
                json!({"unified_model_id": rig.model_id, "resource_name": "contacts",
                        "integration_name": "acme", "method_name": "list"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(paths_of(&answer), ["unified_model_id"]);

    // A bad environment override.
    let (status, answer) = server
        .send(
            Method::PATCH,
            &format!("/environment-unified-model/{}", rig.env_model_id),
            Some(json!({"override": {"resources": {"contacts": {"integration_mapping": {"acme": {"get": {"response_mapping": "(("}}}}}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        paths_of(&answer),
        ["override.resources.contacts.integration_mapping.acme.get.response_mapping"]
    );

    // A bad account override: nothing changes on the account.
    let (status, answer) = server
        .send(
            Method::PATCH,
            &format!("/integrated-account/{}", rig.live),
            Some(json!({"unified_model_override": {"crm": {"contacts": {"get": {"response_mapping": "((", "bogus": 1}}}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(
        paths_of(&answer),
        [
            "unified_model_override.crm.contacts.get.response_mapping",
            "unified_model_override.crm.contacts.get.bogus"
        ]
    );
    let (_, account) = server
        .send(
            Method::GET,
            &format!("/integrated-account/{}", rig.live),
            None,
        )
        .await;
    assert!(account.get("unified_model_override").is_none(), "{account}");
}

#[tokio::test]
async fn mapping_row_patch_deep_merges_and_null_deletes() {
    let rig = Rig::start().await;
    let server = &rig.server;
    let (_, rows) = server
        .send(
            Method::GET,
            "/unified-model-resource-method?method_name=list",
            None,
        )
        .await;
    let url = format!(
        "/unified-model-resource-method/{}",
        rows["result"][0]["id"].as_str().unwrap()
    );
    let patched = server
        .patch_ok(
            &url,
            json!({"version": 1, "config": {
                "query": {"view": null, "fields": "all"},
                "query_mapping": null,
                "query_schema": {"properties": {"search_term": {"description": "Free text"}}}
            }}),
        )
        .await;
    assert_eq!(patched["version"], 2);
    let config = &patched["config"];
    assert_eq!(config["query"], json!({"fields": "all"}));
    assert!(config.get("query_mapping").is_none(), "{config}");
    assert_eq!(
        config["query_schema"],
        json!({"type": "object", "properties": {"search_term": {"type": "string", "description": "Free text"}}})
    );
    assert_eq!(config["response_mapping"], RECORD, "untouched keys stay");
    let (_, read) = server.send(Method::GET, &url, None).await;
    assert_eq!(read["config"], *config);

    // A stale version, and a merge that makes the row invalid: 409 / 400, nothing changes.
    let (status, _) = server
        .send(
            Method::PATCH,
            &url,
            Some(json!({"version": 1, "config": {"query": null}})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, answer) = server
        .send(
            Method::PATCH,
            &url,
            Some(json!({"config": {"response_mapping_method": "sideways"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(paths_of(&answer), ["config.response_mapping_method"]);
    let (_, read) = server.send(Method::GET, &url, None).await;
    assert_eq!(read["version"], 2);
    assert_eq!(read["config"], *config);
}

#[tokio::test]
async fn unified_calls_list_every_page_and_run_each_method() {
    let rig = Rig::start().await;
    let provider = &rig.provider;
    Mock::given(method("GET"))
        .and(path("/people"))
        .and(query_param("view", "full"))
        .and(query_param("q", "ann"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": 1, "first": "Ann", "mail": "ann@acme.test"}, {"id": 2, "first": "Bo"}],
            "next": "c2"
        })))
        .mount(provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/people"))
        .and(query_param("after", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"id": 3, "first": "Cy"}], "next": null
        })))
        .mount(provider)
        .await;

    // Every page, following next_cursor.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let rest = match &cursor {
            None => "?search_term=ann".to_owned(),
            Some(c) => format!("?search_term=ann&next_cursor={c}"),
        };
        let (status, page) = rig.unified(Method::GET, &rest, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            page["result_count"],
            page["result"].as_array().unwrap().len()
        );
        assert_eq!(page["is_partial_response"], false);
        seen.extend(ids(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["1", "2", "3"]);
    // Records carry their raw record; truto_* parameters shape them.
    let (_, page) = rig
        .unified(
            Method::GET,
            "?search_term=ann&truto_key_by=id&truto_exclude_fields=email",
            None,
        )
        .await;
    assert_eq!(page["result"]["1"]["first_name"], "Ann");
    assert!(page["result"]["1"].get("email").is_none(), "{page}");
    assert_eq!(page["result"]["1"]["remote_data"]["mail"], "ann@acme.test");

    rig.mock_get(7, "Gus").await;
    let (status, record) = rig.unified(Method::GET, "/7", None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["id"], "7");
    assert_eq!(record["first_name"], "Gus");
    assert_eq!(record["remote_data"]["first"], "Gus");
    // The mapping's answer headers, but not ones that frame the answer.
    let response = rig
        .server
        .client
        .get(rig.server.url(&format!(
            "/unified/crm/contacts/7?integrated_account_id={}",
            rig.live
        )))
        .bearer_auth(&rig.server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-record-id"], "7");
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.json::<Value>().await.unwrap(), record);

    Mock::given(method("POST"))
        .and(path("/people"))
        .and(body_json(json!({"first": "Dee", "mail": "dee@acme.test"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": 8, "first": "Dee", "mail": "dee@acme.test"})),
        )
        .expect(1)
        .mount(provider)
        .await;
    let (status, made) = rig
        .unified(
            Method::POST,
            "",
            Some(json!({"first_name": "Dee", "email": "dee@acme.test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert_eq!(made["id"], "8");
    // Required body fields are checked before anything is sent.
    let (status, missing) = rig
        .unified(Method::POST, "", Some(json!({"email": "x@acme.test"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{missing}");
    assert_eq!(
        missing["truto_error_insight"]["missing_required_body_fields"]["value"],
        json!(["first_name"])
    );

    Mock::given(method("PATCH"))
        .and(path("/people/8"))
        .and(body_json(json!({"first": "Dora"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 8, "first": "Dora"})))
        .expect(1)
        .mount(provider)
        .await;
    let (status, changed) = rig
        .unified(Method::PATCH, "/8", Some(json!({"first_name": "Dora"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["first_name"], "Dora");

    Mock::given(method("DELETE"))
        .and(path("/people/8"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(provider)
        .await;
    let (status, gone) = rig.unified(Method::DELETE, "/8", None).await;
    assert_eq!(status, StatusCode::OK, "{gone}");
    assert_eq!(gone["id"], "8");
    assert_eq!(gone["deleted"], true);

    Mock::given(method("POST"))
        .and(path("/people/8/merge"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"into": 9})))
        .expect(1)
        .mount(provider)
        .await;
    let (status, merged) = rig
        .unified(Method::POST, "/merge?id=8", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(
        merged,
        json!({"result": {"merged_into": "9", "remote_data": {"into": 9}}})
    );

    // A provider error is answered with the unified error and its insight.
    Mock::given(method("GET"))
        .and(path("/people/404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "no person 404"})))
        .mount(provider)
        .await;
    let (status, error) = rig.unified(Method::GET, "/404", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["statusCode"], 404);
    assert_eq!(error["message"], "no person 404");
    assert_eq!(
        error["truto_error_insight"]["remote_error"]["value"]["status"], 404,
        "{error}"
    );
    rig.server.assert_no_secret_answered(&[API_KEY]);
}

#[tokio::test]
async fn environment_and_account_overrides_and_changes_apply_on_the_next_call() {
    let rig = Rig::start().await;
    let server = &rig.server;
    rig.mock_get(5, "Eve").await;
    let (_, plain) = rig.unified(Method::GET, "/5", None).await;
    assert_eq!(plain["first_name"], "Eve");
    assert!(plain.get("title").is_none());

    // The environment's override row replaces the base row's response mapping.
    let env_row = created(
        server,
        "/environment-unified-model-resource-method",
        json!({"environment_unified_model_id": rig.env_model_id, "resource_name": "contacts",
               "integration_name": "acme", "method_name": "get",
               "config": {"response_mapping": "response.{ \"id\": $string(id), \"first_name\": $uppercase(first), \"title\": \"env\" }"}}),
    )
    .await;
    let (_, with_env) = rig.unified(Method::GET, "/5", None).await;
    assert_eq!(with_env["first_name"], "EVE", "{with_env}");
    assert_eq!(with_env["title"], "env");

    // The account's override is evaluated beside it; its keys win.
    server
        .patch_ok(
            &format!("/integrated-account/{}", rig.live),
            json!({"unified_model_override": {"crm": {"contacts": {"get": {
                "response_mapping": "{ \"title\": \"account\", \"email\": response.mail }"
            }}}}}),
        )
        .await;
    let (_, with_account) = rig.unified(Method::GET, "/5", None).await;
    assert_eq!(with_account["first_name"], "EVE");
    assert_eq!(with_account["title"], "account");
    assert_eq!(with_account["email"], "a@acme.test");
    // Only that account's answers change.
    let (_, sandbox) = rig.unified_as(&rig.sandbox, Method::GET, "/5", None).await;
    assert_eq!(sandbox["title"], "env");
    let (_, account) = server
        .send(
            Method::GET,
            &format!("/integrated-account/{}", rig.live),
            None,
        )
        .await;
    assert_eq!(
        account["unified_model_override"]["crm"]["contacts"]["get"]["response_mapping"],
        "{ \"title\": \"account\", \"email\": response.mail }"
    );
    let (_, accounts) = server.send(Method::GET, "/integrated-account", None).await;
    let listed: Vec<(&str, bool)> = accounts["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap(),
                a.get("unified_model_override").is_some(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [(rig.live.as_str(), true), (rig.sandbox.as_str(), false)]
    );
    server
        .patch_ok(
            &format!("/integrated-account/{}", rig.live),
            json!({"unified_model_override": null}),
        )
        .await;

    // A change of the override row, then its deletion, take effect on the next call.
    let env_url = format!(
        "/environment-unified-model-resource-method/{}",
        id_of(&env_row)
    );
    server
        .patch_ok(
            &env_url,
            json!({"config": {"response_mapping": "response.{ \"id\": $string(id), \"title\": \"env 2\" }"}}),
        )
        .await;
    let (_, changed) = rig.unified(Method::GET, "/5", None).await;
    assert_eq!(changed["title"], "env 2", "{changed}");
    let (status, _) = server.send(Method::DELETE, &env_url, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, back) = rig.unified(Method::GET, "/5", None).await;
    assert_eq!(back, plain);

    // A base row change too; a registration happens once per revision.
    let registrations = server_registrations(&rig).await;
    let (_, rows) = server
        .send(
            Method::GET,
            "/unified-model-resource-method?method_name=get",
            None,
        )
        .await;
    server
        .patch_ok(
            &format!(
                "/unified-model-resource-method/{}",
                rows["result"][0]["id"].as_str().unwrap()
            ),
            json!({"config": {"response_mapping": "response.{ \"id\": $string(id), \"title\": \"base 2\" }"}}),
        )
        .await;
    for _ in 0..3 {
        let (_, answer) = rig.unified(Method::GET, "/5", None).await;
        assert_eq!(answer["title"], "base 2");
    }
    assert_eq!(server_registrations(&rig).await, registrations + 1);

    // The environment's override of the model itself (a resource it adds).
    server
        .patch_ok(
            &format!("/environment-unified-model/{}", rig.env_model_id),
            json!({"override": {"resources": {"leads": {"description": "Leads"}}}}),
        )
        .await;
    let env_model_url = format!("/environment-unified-model/{}", rig.env_model_id);
    let (status, answer) = server
        .send(
            Method::PATCH,
            &env_model_url,
            Some(json!({"overide": {"docs": {}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(paths_of(&answer), ["overide"]);
    let kept = server.patch_ok(&env_model_url, json!({})).await;
    assert_eq!(
        kept["override"]["resources"]["leads"]["description"],
        "Leads"
    );
    let (status, answer) = server
        .send(
            Method::GET,
            &format!("/unified/crm/leads/1?integrated_account_id={}", rig.live),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("no mapping of leads method `get` for integration `acme`"),
        "{answer}"
    );
}

/// How many unified registrations the rig's server made (the server's own
/// counter: it is not reachable over HTTP).
async fn server_registrations(rig: &Rig) -> u64 {
    rig.server.runtimes.unified_registrations()
}

#[tokio::test]
async fn a_change_through_one_server_reaches_another_over_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let provider = MockServer::start().await;
    let first = TestServer::builder().data_dir(dir.path()).start().await;
    let token = first.token.clone();
    let rig = Rig::over(first, provider).await;
    let second = TestServer::builder()
        .data_dir(dir.path())
        .token(token)
        .start()
        .await;
    rig.mock_get(6, "Fay").await;
    let url = format!("/unified/crm/contacts/6?integrated_account_id={}", rig.live);
    let (_, before) = second.send(Method::GET, &url, None).await;
    assert_eq!(before["first_name"], "Fay");
    let (_, rows) = rig
        .server
        .send(
            Method::GET,
            "/unified-model-resource-method?method_name=get",
            None,
        )
        .await;
    rig.server
        .patch_ok(
            &format!(
                "/unified-model-resource-method/{}",
                rows["result"][0]["id"].as_str().unwrap()
            ),
            json!({"config": {"response_mapping": "response.{ \"id\": $string(id), \"title\": \"changed elsewhere\" }"}}),
        )
        .await;
    let (_, after) = second.send(Method::GET, &url, None).await;
    assert_eq!(after["title"], "changed elsewhere", "{after}");
}

#[tokio::test]
async fn sandbox_accounts_refuse_writes_and_a_provider_401_marks_the_account() {
    let rig = Rig::start().await;
    let (status, refused) = rig
        .unified_as(
            &rig.sandbox,
            Method::POST,
            "",
            Some(json!({"first_name": "X"})),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{refused}");
    let (status, _) = rig
        .unified_as(&rig.sandbox, Method::DELETE, "/1", None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        rig.provider.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );

    rig.server
        .subscribe(
            "https://hooks.example.test/x",
            &["integrated_account:authentication_error"],
        )
        .await;
    Mock::given(method("GET"))
        .and(path("/people/1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "bad key"})))
        .mount(&rig.provider)
        .await;
    let (status, answer) = rig.unified(Method::GET, "/1", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    let stored = rig
        .server
        .store
        .get_account(&rig.server.environment_id, &rig.live)
        .await
        .unwrap();
    assert_eq!(stored.status.as_str(), "needs_reauth");
    let deliveries = rig
        .server
        .store
        .claim_due(100, Duration::from_secs(600))
        .await
        .unwrap();
    let event = deliveries
        .iter()
        .find(|d| d.event_type == "integrated_account:authentication_error")
        .unwrap_or_else(|| panic!("no authentication_error in {deliveries:?}"));
    assert_eq!(event.payload["id"], rig.live.as_str());
    assert!(!event.payload.to_string().contains(API_KEY));
}

#[tokio::test]
async fn meta_endpoints_answer_the_merged_config_and_the_docs() {
    let rig = Rig::start().await;
    let server = &rig.server;
    created(
        server,
        "/environment-unified-model-resource-method",
        json!({"environment_unified_model_id": rig.env_model_id, "resource_name": "contacts",
               "integration_name": "acme", "method_name": "list",
               "config": {"query": {"view": "compact"}, "body": {"k": 1}}}),
    )
    .await;

    let (status, meta) = server
        .send(Method::GET, "/unified/crm/contacts/acme/meta/list", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    assert_eq!(meta["method"], "list");
    assert_eq!(meta["default_query"], json!({"view": "compact"}));
    assert_eq!(meta["default_body"], json!({"k": 1}));
    assert_eq!(meta["documentation_link"], "https://acme.test/docs/people");
    assert_eq!(
        meta["query_schema"]["properties"]["search_term"]["type"],
        "string"
    );
    assert_eq!(
        meta["schema"],
        crm_model()["resources"]["contacts"]["schema"]
    );
    let filled: Vec<&String> = meta["response_schema"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(filled, ["id", "first_name", "email", "remote_data"]);
    assert!(meta["request_body_schema"].is_null());

    // For an account: its override's query wins.
    server
        .patch_ok(
            &format!("/integrated-account/{}", rig.live),
            json!({"unified_model_override": {"crm": {"contacts": {"list": {"query": {"view": "mine"}}}}}}),
        )
        .await;
    let (status, mine) = server
        .send(
            Method::GET,
            &format!(
                "/unified/crm/contacts/meta/list?integrated_account_id={}",
                rig.live
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["default_query"], json!({"view": "mine"}));
    let (status, _) = server
        .send(Method::GET, "/unified/crm/contacts/meta/list", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Docs in three formats.
    let (status, docs) = server
        .send(Method::GET, "/unified/meta/crm/acme", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{docs}");
    assert_eq!(
        docs,
        json!({"unified_model": "crm", "integration": "acme", "docs": crm_model()["docs"]["acme"]})
    );
    let url = |format: &str| server.url(&format!("/unified/meta/crm/acme?format={format}"));
    let (status, md) = server
        .request(server.client.get(url("md")).bearer_auth(&server.token))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        md,
        "# crm: acme\n\n## Plan\n\nAny plan <b>\n\n## Scopes\n\n- people.read\n- people.write\n\n"
    );
    let response = server
        .client
        .get(url("html"))
        .bearer_auth(&server.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<h2>Plan</h2><p>Any plan &lt;b&gt;</p>"),
        "{page}"
    );
    assert!(!page.contains("<b>"), "{page}");
    let (status, _) = server
        .send(Method::GET, "/unified/meta/crm/acme?format=pdf", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, none) = server
        .send(Method::GET, "/unified/meta/crm/other", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        none["message"]
            .as_str()
            .unwrap()
            .contains("no docs for integration `other`")
    );
}

#[tokio::test]
async fn unknown_and_uninstalled_names_are_404s_naming_what_is_missing() {
    let rig = Rig::start().await;
    let server = &rig.server;
    let call = |path: &str| format!("{path}?integrated_account_id={}", rig.live);
    for (path, needle) in [
        ("/unified/hris/employees", "no unified model named `hris`"),
        (
            "/unified/crm/deals",
            "unified model `crm` has no resource `deals`",
        ),
        ("/unified/crm/contacts/search", ""),
    ] {
        let method = if needle.is_empty() {
            Method::POST
        } else {
            Method::GET
        };
        let (status, answer) = server.send(method, &call(path), Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
        let needle = if needle.is_empty() {
            "no mapping of contacts method `search` for integration `acme`"
        } else {
            needle
        };
        assert!(
            answer["message"].as_str().unwrap().contains(needle),
            "{path}: {answer}"
        );
    }
    let (status, answer) = server
        .send(
            Method::GET,
            "/unified/crm/contacts?integrated_account_id=nobody",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        answer["message"].as_str().unwrap().contains("nobody"),
        "{answer}"
    );
    let (status, answer) = server
        .send(Method::GET, "/unified/crm/contacts", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("integrated_account_id")
    );

    // Uninstalled: the model exists but the environment does not serve it.
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/environment-unified-model/{}", rig.env_model_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server
        .expect_error(
            Method::GET,
            &call("/unified/crm/contacts"),
            None,
            StatusCode::NOT_FOUND,
            "`crm` is not installed",
        )
        .await;
    server
        .expect_error(
            Method::GET,
            "/unified/crm/contacts/other/meta/list",
            None,
            StatusCode::NOT_FOUND,
            "for integration `other`",
        )
        .await;
}
