//! `GET /openapi.json` over real HTTP: the document is served without a token,
//! documents exactly the routes the router serves (checked against the live
//! server and against `src/lib.rs`), and its schemas match real answers.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every (method, path) the router serves. Adding a route without documenting
/// it (or documenting one that is not routed) fails the tests below.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/ping"),
    ("get", "/log"),
    ("post", "/integrated-account/token"),
    ("patch", "/integrated-account/{id}/credentials"),
    ("get", "/environment"),
    ("get", "/environment/{id}"),
    ("patch", "/environment/{id}"),
    ("get", "/api-token"),
    ("post", "/api-token"),
    ("get", "/api-token/{id}"),
    ("delete", "/api-token/{id}"),
    ("post", "/integration/validate"),
    ("get", "/schema/integration-config.json"),
    ("get", "/openapi.json"),
    ("get", "/link-sdk.js"),
    ("get", "/integration"),
    ("post", "/integration"),
    ("get", "/integration/{id}"),
    ("patch", "/integration/{id}"),
    ("delete", "/integration/{id}"),
    ("get", "/environment-integration"),
    ("post", "/environment-integration"),
    ("get", "/environment-integration/{id}"),
    ("patch", "/environment-integration/{id}"),
    ("delete", "/environment-integration/{id}"),
    ("get", "/integrated-account"),
    ("post", "/integrated-account"),
    ("get", "/integrated-account/{id}"),
    ("patch", "/integrated-account/{id}"),
    ("delete", "/integrated-account/{id}"),
    ("post", "/integrated-account/refresh-credentials"),
    ("post", "/integrated-account/run-post-install-actions"),
    ("get", "/integrated-account/{id}/mcp"),
    ("post", "/integrated-account/{id}/mcp"),
    ("delete", "/integrated-account/{id}/mcp/{server_id}"),
    ("get", "/integrated-account/{id}/mcp/{server_id}"),
    ("patch", "/integrated-account/{id}/mcp/{server_id}"),
    ("post", "/mcp/{token}"),
    ("post", "/link-token"),
    ("get", "/webhook"),
    ("post", "/webhook"),
    ("post", "/webhook/test"),
    ("get", "/webhook/{id}"),
    ("patch", "/webhook/{id}"),
    ("delete", "/webhook/{id}"),
    ("get", "/sync-job"),
    ("post", "/sync-job"),
    ("get", "/sync-job/{id}"),
    ("patch", "/sync-job/{id}"),
    ("delete", "/sync-job/{id}"),
    ("get", "/sync-job-run"),
    ("post", "/sync-job-run"),
    ("get", "/sync-job-run/{id}"),
    ("delete", "/sync-job-run/{id}"),
    ("get", "/sync-job-cron-trigger"),
    ("post", "/sync-job-cron-trigger"),
    ("get", "/sync-job-cron-trigger/{id}"),
    ("patch", "/sync-job-cron-trigger/{id}"),
    ("delete", "/sync-job-cron-trigger/{id}"),
    ("post", "/sync-job-cron-trigger/{id}/schedule"),
    ("delete", "/sync-job-cron-trigger/{id}/schedule"),
    ("patch", "/sync-job-run/{id}"),
    ("get", "/sync-job-run-state"),
    ("put", "/sync-job-run-state"),
    ("post", "/sync-job-run-state"),
    ("get", "/sync-job-run-state/{key}"),
    ("delete", "/sync-job-run-state/{key}"),
    ("get", "/datastore"),
    ("post", "/datastore"),
    ("get", "/datastore/{id}"),
    ("patch", "/datastore/{id}"),
    ("delete", "/datastore/{id}"),
    ("get", "/proxy/{resource}"),
    ("post", "/proxy/{resource}"),
    ("get", "/proxy/{resource}/{id}"),
    ("patch", "/proxy/{resource}/{id}"),
    ("delete", "/proxy/{resource}/{id}"),
    ("post", "/proxy/{resource}/{id}"),
    ("get", "/unified-model"),
    ("post", "/unified-model"),
    ("get", "/unified-model/{id}"),
    ("patch", "/unified-model/{id}"),
    ("delete", "/unified-model/{id}"),
    ("get", "/unified-model-resource-method"),
    ("post", "/unified-model-resource-method"),
    ("get", "/unified-model-resource-method/{id}"),
    ("patch", "/unified-model-resource-method/{id}"),
    ("delete", "/unified-model-resource-method/{id}"),
    ("get", "/environment-unified-model"),
    ("post", "/environment-unified-model"),
    ("get", "/environment-unified-model/{id}"),
    ("patch", "/environment-unified-model/{id}"),
    ("delete", "/environment-unified-model/{id}"),
    ("get", "/environment-unified-model-resource-method"),
    ("post", "/environment-unified-model-resource-method"),
    ("get", "/environment-unified-model-resource-method/{id}"),
    ("patch", "/environment-unified-model-resource-method/{id}"),
    ("delete", "/environment-unified-model-resource-method/{id}"),
    ("get", "/unified/{model}/{resource}"),
    ("post", "/unified/{model}/{resource}"),
    ("get", "/unified/{model}/{resource}/{id}"),
    ("patch", "/unified/{model}/{resource}/{id}"),
    ("delete", "/unified/{model}/{resource}/{id}"),
    ("post", "/unified/{model}/{resource}/{id}"),
    ("get", "/unified/{model}/{resource}/meta/{method}"),
    ("get", "/unified/{model}/{resource}/{id}/meta/{method}"),
    ("get", "/unified/meta/{model}/{integration}"),
    (
        "post",
        "/integrated-account-webhook/{integrated_account_id}",
    ),
    ("get", "/integrated-account-webhook/{integrated_account_id}"),
    (
        "post",
        "/environment-integration-webhook/{environment_integration_id}",
    ),
    (
        "get",
        "/environment-integration-webhook/{environment_integration_id}",
    ),
    ("get", "/connect-account"),
    ("post", "/connect-account"),
    ("get", "/connect/{integration}/callback"),
];

/// The methods OpenAPI path items can hold that axum routes explicitly.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The router's fallbacks (`with_fallbacks` in `src/lib.rs`).
const NO_ROUTE: &str = "no such route";
const NO_METHOD: &str = "this route does not support this HTTP method";

mod support;

use support::TestServer;

/// The shared harness, with requests that may go without the token and
/// answers kept as text (the fallbacks and HTML pages are not JSON).
struct Server(TestServer);

impl Server {
    async fn start() -> Self {
        Self(TestServer::start().await)
    }

    /// Sends `method path` (with the API token if `token`) and `body`; answers
    /// the status and the body as text.
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: bool,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let mut request = self.0.client.request(method, self.0.url(path));
        if token {
            request = request.bearer_auth(&self.0.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.0.request(request).await
    }

    /// Sends with the token and a JSON body; answers the status and JSON.
    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, text) = self.send(method, path, true, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn document(&self) -> Value {
        let (status, text) = self.send("get", "/openapi.json", false, None).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }
}

/// `{name}` segments replaced by a dummy id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "dummy-id"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every (method, path) of the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_owned(), path.clone()));
            }
        }
    }
    out
}

/// The answer is one of the router's fallbacks.
fn is_fallback(status: StatusCode, text: &str) -> bool {
    let message = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (status == 404 && message == NO_ROUTE) || (status == 405 && message == NO_METHOD)
}

/// The paths `src/lib.rs` routes (`.route("...", ...)`, possibly wrapped).
fn routed_paths() -> BTreeSet<String> {
    let source = include_str!("../src/lib.rs");
    let mut out = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let trimmed = rest.trim_start();
        let literal = trimmed.strip_prefix('"').unwrap_or_else(|| {
            panic!(
                "a `.route(` without a string literal: {}",
                &trimmed[..40.min(trimmed.len())]
            )
        });
        let end = literal.find('"').unwrap();
        out.insert(literal[..end].to_owned());
    }
    out
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_public() {
    let server = Server::start().await;
    let doc = server.document().await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "{version}");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["info"]["license"]["name"], "MIT");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    // Operation ids are unique.
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let id = doc["paths"][&path][&method]["operationId"]
            .as_str()
            .unwrap();
        assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
    }
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes() {
    let server = Server::start().await;
    let doc = server.document().await;
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(expected.len(), ROUTES.len(), "ROUTES has duplicates");
    assert_eq!(documented(&doc), expected);

    // Every path `src/lib.rs` routes is in the list (and so documented), and
    // the list names no other path.
    let listed: BTreeSet<String> = ROUTES.iter().map(|(_, p)| (*p).to_owned()).collect();
    assert_eq!(routed_paths(), listed);
}

#[tokio::test]
async fn every_documented_operation_is_served_and_no_other_method() {
    let server = Server::start().await;
    let doc = server.document().await;
    let ops = documented(&doc);
    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (method, path) in &ops {
        by_path.entry(path).or_default().insert(method);
    }
    for (path, methods) in &by_path {
        let url = concrete(path);
        for method in METHODS {
            // With a token, so the token layer cannot hide a fallback.
            let (status, text) = server.send(method, &url, true, None).await;
            if methods.contains(method) {
                assert!(
                    !is_fallback(status, &text),
                    "{method} {path} is documented but not routed: {status} {text}"
                );
            } else {
                assert!(
                    status == 405 && is_fallback(status, &text),
                    "{method} {path} is routed but not documented: {status} {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn security_requirements_match_the_token_layer() {
    let server = Server::start().await;
    let doc = server.document().await;
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][&method];
        let public = operation["security"] == json!([{}]);
        let (status, text) = server.send(&method, &concrete(&path), false, None).await;
        if public {
            assert_ne!(status, 401, "{method} {path} is documented public: {text}");
        } else {
            assert!(
                operation.get("security").is_none(),
                "{method} {path}: {operation}"
            );
            assert_eq!(status, 401, "{method} {path} needs a token: {text}");
        }
    }
}

#[tokio::test]
async fn the_error_schema_is_documented_and_referenced() {
    let server = Server::start().await;
    let doc = server.document().await;
    let error = &doc["components"]["schemas"]["ErrorBody"];
    let required: BTreeSet<&str> = error["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, BTreeSet::from(["statusCode", "error", "message"]));
    for field in ["errors", "truto_is_remote_error", "raw_response"] {
        assert!(error["properties"].get(field).is_some(), "{field}");
    }
    let field = &doc["components"]["schemas"]["FieldErrorBody"];
    assert_eq!(field["required"], json!(["path", "message"]));

    let unprocessable = &doc["paths"]["/integration"]["post"]["responses"]["422"];
    assert_eq!(
        unprocessable["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    // Every operation documents its errors with the error body (the connect
    // pages answer HTML).
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][&method];
        let html = operation["tags"][0] == "connect";
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('2') || status.starts_with('3') {
                continue;
            }
            let content = response["content"].as_object().unwrap();
            if html {
                assert!(
                    content.contains_key("text/html"),
                    "{method} {path} {status}"
                );
            } else {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
    // The answers of real bad requests fit it.
    let (status, body) = server
        .json("post", "/integration", Some(json!({"nmae": "x"})))
        .await;
    assert_eq!(status, 422);
    assert_fits(&doc, error, &body);
}

/// The schema's properties (following `$ref` and `allOf`) and required names.
fn shape(doc: &Value, schema: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return shape(doc, &doc["components"]["schemas"][name]);
    }
    let mut properties: BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut required: BTreeSet<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r) = shape(doc, part);
        properties.extend(p);
        required.extend(r);
    }
    (properties, required)
}

/// Every key of `value` is a property of `schema` and every required one is there.
fn assert_fits(doc: &Value, schema: &Value, value: &Value) {
    let (properties, required) = shape(doc, schema);
    assert!(!properties.is_empty(), "no properties in {schema}");
    let keys: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
    assert!(
        keys.is_subset(&properties),
        "{value} has keys not in {properties:?}"
    );
    assert!(
        required.is_subset(&keys),
        "{value} lacks some of {required:?}"
    );
}

/// The JSON schema of `method path`'s `status` answer.
fn answer_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn answer_schemas_match_real_answers() {
    let server = Server::start().await;
    let doc = server.document().await;
    let config = json!({
        "label": "Helpdesk",
        "base_url": "https://helpdesk.example/api",
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_token", "label": "API token", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "basic", "config": {"username": "x", "password": "{{api_token}}"}},
        "resources": {"tickets": {"list": {"path": "/tickets"}}}
    });
    let checks: Vec<(&str, &str, u16, Option<Value>)> = vec![("get", "/health", 200, None)];
    for (method, path, status, body) in checks {
        let (got, answer) = server.json(method, path, body).await;
        assert_eq!(got, status);
        assert_fits(&doc, answer_schema(&doc, method, path, status), &answer);
    }

    let (status, integration) = server
        .json(
            "post",
            "/integration",
            Some(json!({"name": "helpdesk", "category": "helpdesk", "sharing": "allow", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{integration}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/integration", 201),
        &integration,
    );
    let (_, list) = server.json("get", "/integration", None).await;
    assert_fits(&doc, answer_schema(&doc, "get", "/integration", 200), &list);

    let (status, install) = server
        .json(
            "post",
            "/environment-integration",
            Some(json!({"integration_id": integration["id"], "override": {"label": "Ours"}})),
        )
        .await;
    assert_eq!(status, 201, "{install}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/environment-integration", 201),
        &install,
    );

    let (status, account) = server
        .json(
            "post",
            "/integrated-account",
            Some(json!({
                "tenant_id": "acme",
                "environment_integration_id": install["id"],
                "authentication_method": "api_key",
                "context": {"api_token": "secret", "subdomain": "acme"},
                "region": "eu"
            })),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/integrated-account", 201),
        &account,
    );
    let (_, accounts) = server.json("get", "/integrated-account", None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/integrated-account", 200),
        &accounts,
    );

    let (status, link) = server
        .json("post", "/link-token", Some(json!({"tenant_id": "acme"})))
        .await;
    assert_eq!(status, 201, "{link}");
    assert_fits(&doc, answer_schema(&doc, "post", "/link-token", 201), &link);

    let (status, webhook) = server
        .json(
            "post",
            "/webhook",
            Some(json!({"target_url": "https://example.com/hooks", "event_types": ["*"]})),
        )
        .await;
    assert_eq!(status, 201, "{webhook}");
    assert_fits(&doc, answer_schema(&doc, "post", "/webhook", 201), &webhook);
    let path = format!("/webhook/{}", webhook["id"].as_str().unwrap());
    let (_, got) = server.json("get", &path, None).await;
    assert_fits(&doc, answer_schema(&doc, "get", "/webhook/{id}", 200), &got);
    let (status, test) = server
        .json("post", "/webhook/test", Some(json!({"id": webhook["id"]})))
        .await;
    assert_eq!(status, 202, "{test}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/webhook/test", 202),
        &test,
    );
    let (_, deleted) = server.json("delete", &path, None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "delete", "/webhook/{id}", 200),
        &deleted,
    );

    let (status, job) = server
        .json(
            "post",
            "/sync-job",
            Some(json!({"integration_name": "helpdesk", "label": "Tickets",
                        "resources": [{"resource": "tickets", "method": "list"}]})),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_fits(&doc, answer_schema(&doc, "post", "/sync-job", 201), &job);
    let path = format!("/sync-job/{}", job["id"].as_str().unwrap());
    let (_, got) = server.json("get", &path, None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/sync-job/{id}", 200),
        &got,
    );
    let (_, list) = server.json("get", "/sync-job", None).await;
    assert_fits(&doc, answer_schema(&doc, "get", "/sync-job", 200), &list);
    let (status, invalid) = server
        .json("post", "/sync-job", Some(json!({"resources": []})))
        .await;
    assert_eq!(status, 400, "{invalid}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/sync-job", 400),
        &invalid,
    );
    let (_, runs) = server.json("get", "/sync-job-run", None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/sync-job-run", 200),
        &runs,
    );
    let (status, entry) = server
        .json(
            "put",
            "/sync-job-run-state?state_key=s",
            Some(json!({"key": "k", "value": {"n": 1}})),
        )
        .await;
    assert_eq!(status, 200, "{entry}");
    assert_fits(
        &doc,
        answer_schema(&doc, "put", "/sync-job-run-state", 200),
        &entry,
    );
    let (_, got) = server
        .json("get", "/sync-job-run-state/k?state_key=s", None)
        .await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/sync-job-run-state/{key}", 200),
        &got,
    );
    let (_, entries) = server
        .json("get", "/sync-job-run-state?state_key=s", None)
        .await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/sync-job-run-state", 200),
        &entries,
    );

    let (status, datastore) = server
        .json(
            "post",
            "/datastore",
            Some(json!({"type": "patchbay_database", "label": "warehouse"})),
        )
        .await;
    assert_eq!(status, 201, "{datastore}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/datastore", 201),
        &datastore,
    );
    let path = format!("/datastore/{}", datastore["id"].as_str().unwrap());
    let (_, got) = server.json("get", &path, None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "get", "/datastore/{id}", 200),
        &got,
    );
    let (_, patched) = server
        .json("patch", &path, Some(json!({"label": null})))
        .await;
    assert_fits(
        &doc,
        answer_schema(&doc, "patch", "/datastore/{id}", 200),
        &patched,
    );
    let (_, list) = server.json("get", "/datastore", None).await;
    assert_fits(&doc, answer_schema(&doc, "get", "/datastore", 200), &list);
    let (status, invalid) = server
        .json("post", "/datastore", Some(json!({"type": "s3"})))
        .await;
    assert_eq!(status, 422, "{invalid}");
    assert_fits(
        &doc,
        answer_schema(&doc, "post", "/datastore", 422),
        &invalid,
    );
    let (_, deleted) = server.json("delete", &path, None).await;
    assert_fits(
        &doc,
        answer_schema(&doc, "delete", "/datastore/{id}", 200),
        &deleted,
    );
}

#[tokio::test]
async fn ping_checks_the_token_as_truto_python_sdk_calls_it() {
    let server = Server::start().await;
    let doc = server.document().await;
    let (status, answer) = server.json("get", "/ping", None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer,
        json!({"status": "ok", "environment_id": server.0.environment_id})
    );
    assert_fits(&doc, answer_schema(&doc, "get", "/ping", 200), &answer);

    let (status, _) = server.send("get", "/ping", false, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = server
        .0
        .client
        .get(server.0.url("/ping"))
        .bearer_auth("pb_not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}
