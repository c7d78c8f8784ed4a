//! The management and proxy API over real HTTP on loopback, with a SQLite store
//! in a temp dir and wiremock standing in for the provider.

mod support;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::{Installed, TestServer};

const API_TOKEN: &str = "zd-api-token-SECRET-1";
const PIN: &str = "pin-SECRET-2";
const ACCESS_TOKEN: &str = "access-SECRET-3";
const NESTED_SECRET: &str = "nested-SECRET-4";
const CLIENT_SECRET: &str = "client-SECRET-5";
const ALL_SECRETS: [&str; 5] = [API_TOKEN, PIN, ACCESS_TOKEN, NESTED_SECRET, CLIENT_SECRET];

/// A `POST /integration` body for `config`, in the helpdesk category.
fn integration(name: &str, config: Value) -> Value {
    json!({"name": name, "category": "helpdesk", "config": config})
}

/// The import fields of an account with every secret in its context.
fn account_fields(sandbox: bool) -> Value {
    json!({
        "is_sandbox": sandbox,
        "context": {
            "email": "agent@acme.test",
            "api_token": API_TOKEN,
            "pin": PIN,
            "oauth": {"token": {"access_token": ACCESS_TOKEN}},
            "settings": {"client_secret": NESTED_SECRET, "locale": "en"}
        }
    })
}

/// A Zendesk-like config against `base_url`, with two password fields.
fn helpdesk_config(base_url: &str) -> Value {
    json!({
        "label": "Helpdesk",
        "base_url": format!("{base_url}/api/v2"),
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "email", "label": "Email", "type": "text", "required": true},
            {"name": "api_token", "label": "API token", "type": "password", "required": true},
            {"name": "pin", "label": "PIN", "type": "password"}
        ]}},
        "authorization": {"format": "basic", "config": {"username": "{{email}}/token", "password": "{{api_token}}"}},
        "pagination": {"format": "cursor", "config": {"cursor_path": "meta.after_cursor", "cursor_key": "page[after]", "has_next_path": "meta.has_more", "limit_key": "page[size]", "max_limit": 100}},
        "error_expression": "status >= 400 ? (body.description ? body.description : body.error)",
        "resources": {"tickets": {
            "list": {"path": "/tickets", "response_path": "tickets"},
            "get": {"path": "/tickets/{{id}}", "response_path": "ticket", "pagination": null},
            "create": {"method": "post", "path": "/tickets", "body": {"ticket": "{{body:json}}"}, "response_path": "ticket", "pagination": null},
            "update": {"method": "put", "path": "/tickets/{{id}}", "body": {"ticket": "{{body:json}}"}, "pagination": null},
            "delete": {"method": "delete", "path": "/tickets/{{id}}", "pagination": null},
            "merge": {"method": "post", "path": "/tickets/{{id}}/merge", "pagination": null}
        }}
    })
}

fn assert_error(body: &Value, status: u16, needle: &str) {
    assert_eq!(body["statusCode"], status, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "`{needle}` not in {body}");
}

#[tokio::test]
async fn bootstrap_token_authenticates_and_others_are_401() {
    let server = TestServer::start().await;
    let (status, body) = server.send(Method::GET, "/integration", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"result": [], "next_cursor": null}));

    let (status, body) = server.raw(Method::GET, "/integration", None, None).await;
    assert_eq!(status, 401);
    assert_error(&body, 401, "Authorization");
    assert_eq!(body["error"], "Unauthorized");

    let (status, body) = server
        .raw(
            Method::GET,
            "/integrated-account",
            Some("pb_not-a-token"),
            None,
        )
        .await;
    assert_eq!(status, 401);
    assert_error(&body, 401, "invalid");

    // The stateless routes stay open.
    let (status, _) = server.raw(Method::GET, "/health", None, None).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn integration_crud_with_validation_and_optimistic_locking() {
    let server = TestServer::start().await;
    let config = helpdesk_config("https://helpdesk.example");
    let (status, created) = server
        .send(
            Method::POST,
            "/integration",
            Some(json!({"name": "helpdesk", "config": config})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap();

    let (status, got) = server
        .send(Method::GET, &format!("/integration/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["name"], "helpdesk");
    assert_eq!(
        got["config"]["resources"]["tickets"]["list"]["path"],
        "/tickets"
    );

    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("/integration/{id}"),
            Some(json!({"version": 1, "category": "crm", "is_beta": true})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["category"], "crm");

    let (status, stale) = server
        .send(
            Method::PATCH,
            &format!("/integration/{id}"),
            Some(json!({"version": 1, "is_beta": false})),
        )
        .await;
    assert_eq!(status, 409);
    assert_error(&stale, 409, "conflict");

    let (status, bad) = server
        .send(
            Method::POST,
            "/integration",
            Some(json!({"name": "broken", "config": {
                "base_url": "https://x.example",
                "resources": {"users": {"list": {"path": "/users", "method": "gett"}}}
            }})),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(
        bad["errors"][0]["path"],
        "config.resources.users.list.method"
    );
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `get`"),
        "{bad}"
    );

    let (status, bad_patch) = server
        .send(
            Method::PATCH,
            &format!("/integration/{id}"),
            Some(json!({"version": 2, "config": {"base_url": 5, "resources": {}}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(bad_patch["errors"][0]["path"], "config.base_url");

    let (status, list) = server.send(Method::GET, "/integration?limit=1", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["result"].as_array().unwrap().len(), 1);
    assert!(list["next_cursor"].is_null());

    let (status, gone) = server
        .send(Method::DELETE, &format!("/integration/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone, json!({"id": id}));
    let (status, missing) = server
        .send(Method::GET, &format!("/integration/{id}"), None)
        .await;
    assert_eq!(status, 404);
    assert_error(&missing, 404, id);
}

#[tokio::test]
async fn another_environment_sees_nothing_and_changes_nothing() {
    let server = TestServer::start().await;
    let Installed {
        integration_id,
        install_id,
    } = server
        .install(
            integration("helpdesk", helpdesk_config("https://helpdesk.example")),
            None,
        )
        .await;
    let account = server
        .import(&install_id, "acme", account_fields(false))
        .await;
    let account_id = account["id"].as_str().unwrap();
    let other = server.other_environment_token().await;

    for (path, patch) in [
        (
            format!("/integration/{integration_id}"),
            json!({"version": 1, "is_beta": true}),
        ),
        (
            format!("/environment-integration/{install_id}"),
            json!({"is_enabled": false}),
        ),
        (
            format!("/integrated-account/{account_id}"),
            json!({"is_sandbox": true}),
        ),
    ] {
        let kind_root = path.rsplit_once('/').unwrap().0.to_owned();
        let (_, missing) = server
            .send_as(
                &other,
                Method::GET,
                &format!("{kind_root}/no-such-id"),
                None,
            )
            .await;
        for (method, body) in [
            (Method::GET, None),
            (Method::PATCH, Some(patch)),
            (Method::DELETE, None),
        ] {
            let (status, answer) = server
                .send_as(&other, method.clone(), &path, body.clone())
                .await;
            assert_eq!(status, 404, "{method} {path}: {answer}");
            // Indistinguishable from a missing id.
            let id = path.rsplit('/').next().unwrap();
            assert_eq!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .replace(id, "no-such-id"),
                missing["message"],
                "{method} {path}"
            );
        }
    }
    for list in [
        "/integration",
        "/environment-integration",
        "/integrated-account",
    ] {
        let (status, body) = server.send_as(&other, Method::GET, list, None).await;
        assert_eq!(status, 200);
        assert_eq!(body["result"], json!([]), "{list}");
    }
    let (status, body) = server
        .send_as(
            &other,
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={account_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // An import into the first environment's install fails in the second.
    let (status, _) = server
        .send_as(
            &other,
            Method::POST,
            "/integrated-account",
            Some(json!({"tenant_id": "t", "environment_integration_id": install_id, "authentication_method": "api_key"})),
        )
        .await;
    assert!(status == 404 || status == 409, "{status}");

    // Everything is intact for the owner.
    let (status, still) = server
        .send(
            Method::GET,
            &format!("/integrated-account/{account_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(still["is_sandbox"], false);
    let (_, integration) = server
        .send(Method::GET, &format!("/integration/{integration_id}"), None)
        .await;
    assert_eq!(integration["version"], 1);
}

#[tokio::test]
async fn accounts_import_list_filters_cursor_and_never_show_secrets() {
    let server = TestServer::start().await;
    let install_id = server
        .install(
            integration("helpdesk", helpdesk_config("https://helpdesk.example")),
            None,
        )
        .await
        .install_id;
    // An OAuth integration installed with the team's client secret in its override.
    let hubspot: Value =
        serde_json::from_str(include_str!("../../../examples/catalog/hubspot.json")).unwrap();
    let oauth_install_id = server
        .install(
            integration("hubspot", hubspot),
            Some(json!({"credentials": {"config": {"client": {"id": "our-client", "secret": CLIENT_SECRET}}}})),
        )
        .await
        .install_id;
    let first = server
        .import(&install_id, "acme", account_fields(false))
        .await;
    server
        .import(&install_id, "acme", account_fields(true))
        .await;
    server
        .import(&install_id, "globex", account_fields(false))
        .await;

    assert_eq!(first["status"], "active");
    assert_eq!(first["region"], "wnam");
    assert_eq!(
        first["context"],
        json!({"email": "agent@acme.test", "settings": {"locale": "en"}})
    );

    let count = |body: &Value| body["result"].as_array().unwrap().len();
    let (_, acme) = server
        .send(Method::GET, "/integrated-account?tenant_id=acme", None)
        .await;
    assert_eq!(count(&acme), 2);
    let (_, sandbox) = server
        .send(Method::GET, "/integrated-account?is_sandbox=true", None)
        .await;
    assert_eq!(count(&sandbox), 1);
    assert_eq!(sandbox["result"][0]["tenant_id"], "acme");
    let (_, live_acme) = server
        .send(
            Method::GET,
            &format!("/integrated-account?tenant_id=acme&is_sandbox=false&environment_integration_id={install_id}&status=active"),
            None,
        )
        .await;
    assert_eq!(count(&live_acme), 1);
    let (_, none) = server
        .send(Method::GET, "/integrated-account?status=needs_reauth", None)
        .await;
    assert_eq!(count(&none), 0);

    // Paging with next_cursor visits every account once.
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/integrated-account?limit=2&next_cursor={c}"),
            None => "/integrated-account?limit=2".to_owned(),
        };
        let (status, page) = server.send(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{page}");
        for account in page["result"].as_array().unwrap() {
            ids.push(account["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], first["id"].as_str().unwrap());

    let (status, bad) = server
        .send(Method::GET, "/integrated-account?status=happy", None)
        .await;
    assert_eq!(status, 400);
    assert_error(&bad, 400, "`status`");
    let (status, bad) = server
        .send(Method::GET, "/integrated-account?limit=0", None)
        .await;
    assert_eq!(status, 400);
    assert_error(&bad, 400, "`limit`");

    // PATCH merges context keys and keeps the secrets stored.
    let id = first["id"].as_str().unwrap();
    let (status, patched) = server
        .send(
            Method::PATCH,
            &format!("/integrated-account/{id}"),
            Some(json!({"context": {"subdomain": "acme"}, "region": "eu"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["region"], "eu");
    assert_eq!(patched["context"]["subdomain"], "acme");
    let stored = server
        .store
        .get_account(first["environment_id"].as_str().unwrap(), id)
        .await
        .unwrap();
    assert_eq!(stored.context["api_token"], API_TOKEN);

    // The install answers without its client secret.
    let (_, install) = server
        .send(
            Method::GET,
            &format!("/environment-integration/{oauth_install_id}"),
            None,
        )
        .await;
    assert_eq!(
        install["override"],
        json!({"credentials": {"config": {"client": {"id": "our-client", "secret": "********"}}}})
    );
    let (_, installs) = server
        .send(Method::GET, "/environment-integration", None)
        .await;
    assert_eq!(installs["result"][1]["override"], install["override"]);
    // PATCH replaces the override wholesale.
    let (status, replaced) = server
        .send(
            Method::PATCH,
            &format!("/environment-integration/{oauth_install_id}"),
            Some(json!({"override": {"label": "Ours"}, "show_in_catalog": false})),
        )
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["override"], json!({"label": "Ours"}));
    assert_eq!(replaced["show_in_catalog"], false);

    // An invalid import names the problems.
    let (status, bad) = server
        .send(
            Method::POST,
            "/integrated-account",
            Some(json!({"environment_integration_id": install_id, "authentication_method": "api-key"})),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    let paths: Vec<&str> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(paths.contains(&"authentication_method"), "{bad}");
    assert!(bad.to_string().contains("tenant_id"), "{bad}");

    let (status, gone) = server
        .send(Method::DELETE, &format!("/integrated-account/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone, json!({"id": id}));

    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn proxy_calls_reach_the_provider_and_map_its_errors() {
    let provider = MockServer::start().await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("agent@acme.test/token:{API_TOKEN}"))
    );
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets"))
        .and(header("authorization", basic.as_str()))
        .and(query_param("status", "open"))
        .and(query_param("page[size]", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "tickets": [{"id": 1, "subject": "a"}, {"id": 2, "subject": "b"}],
            "meta": {"has_more": true, "after_cursor": "c2"}
        })))
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/1"))
        .and(header("authorization", basic.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 1, "subject": "a"}})),
        )
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/999"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"error": "RecordNotFound", "description": "Not found"})),
        )
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets"))
        .and(body_json(json!({"ticket": {"subject": "new"}})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"ticket": {"id": 3, "subject": "new"}})),
        )
        .expect(1)
        .mount(&provider)
        .await;

    let server = TestServer::start().await;
    let install_id = server
        .install(
            integration("helpdesk", helpdesk_config(&provider.uri())),
            None,
        )
        .await
        .install_id;
    let live = server
        .import(&install_id, "acme", account_fields(false))
        .await;
    let sandbox = server
        .import(&install_id, "acme", account_fields(true))
        .await;
    let live_id = live["id"].as_str().unwrap();
    let sandbox_id = sandbox["id"].as_str().unwrap();

    let (status, page) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={live_id}&status=open&limit=2"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["result"],
        json!([{"id": 1, "subject": "a"}, {"id": 2, "subject": "b"}])
    );
    assert!(page["next_cursor"].is_string(), "{page}");

    let (status, ticket) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets/1?integrated_account_id={live_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{ticket}");
    // The provider's body as is.
    assert_eq!(ticket, json!({"ticket": {"id": 1, "subject": "a"}}));

    let (status, missing) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets/999?integrated_account_id={live_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(missing["error"], "Not Found");
    assert_eq!(missing["truto_is_remote_error"], true);
    assert_eq!(
        missing["raw_response"],
        json!({"error": "RecordNotFound", "description": "Not found"})
    );
    assert!(
        missing["message"].as_str().unwrap().contains("Not found"),
        "{missing}"
    );

    let (status, created) = server
        .send(
            Method::POST,
            &format!("/proxy/tickets?integrated_account_id={live_id}"),
            Some(json!({"subject": "new"})),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created, json!({"ticket": {"id": 3, "subject": "new"}}));

    // Update, delete and a custom method reach their paths with the id and body.
    Mock::given(method("PUT"))
        .and(path("/api/v2/tickets/1"))
        .and(body_json(json!({"ticket": {"status": "solved"}})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ticket": {"id": 1, "status": "solved"}})),
        )
        .expect(1)
        .mount(&provider)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/tickets/2"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/tickets/1/merge"))
        .and(body_json(json!({"ids": [2]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"merged": true})))
        .expect(1)
        .mount(&provider)
        .await;
    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("/proxy/tickets/1?integrated_account_id={live_id}"),
            Some(json!({"status": "solved"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["ticket"]["status"], "solved");
    let (status, deleted) = server
        .send(
            Method::DELETE,
            &format!("/proxy/tickets/2?integrated_account_id={live_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{deleted}");
    let (status, merged) = server
        .send(
            Method::POST,
            &format!("/proxy/tickets/merge?integrated_account_id={live_id}&id=1"),
            Some(json!({"ids": [2]})),
        )
        .await;
    assert_eq!(status, 200, "{merged}");
    assert_eq!(merged, json!({"merged": true}));

    // Sandbox accounts read but never write.
    let (status, refused) = server
        .send(
            Method::POST,
            &format!("/proxy/tickets?integrated_account_id={sandbox_id}"),
            Some(json!({"subject": "new"})),
        )
        .await;
    assert_eq!(status, 405, "{refused}");
    assert_error(&refused, 405, "sandbox");
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/proxy/tickets/1?integrated_account_id={sandbox_id}"),
            None,
        )
        .await;
    assert_eq!(status, 405);
    let (status, _) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets/1?integrated_account_id={sandbox_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);

    let (status, no_account) = server.send(Method::GET, "/proxy/tickets", None).await;
    assert_eq!(status, 400);
    assert_error(&no_account, 400, "integrated_account_id");
    let (status, unknown) = server
        .send(
            Method::GET,
            "/proxy/tickets?integrated_account_id=nope",
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&unknown, 404, "nope");
    let (status, no_method) = server
        .send(
            Method::GET,
            &format!("/proxy/users?integrated_account_id={live_id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{no_method}");
    assert_error(&no_method, 404, "users");

    server.assert_no_secret_answered(&ALL_SECRETS);
}

/// The compiled install is reused between calls, so a change must show on
/// the very next call: a new override, a new integration version, disabling.
#[tokio::test]
async fn proxy_calls_follow_config_changes_at_once() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    for (provider, subject) in [(&first, "from first"), (&second, "from second")] {
        Mock::given(method("GET"))
            .and(path("/api/v2/tickets/1"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ticket": {"id": 1, "subject": subject}})),
            )
            .mount(provider)
            .await;
    }
    let server = TestServer::start().await;
    let installed = server
        .install(integration("helpdesk", helpdesk_config(&first.uri())), None)
        .await;
    let account = server
        .import(&installed.install_id, "acme", account_fields(false))
        .await;
    let get = || async {
        server
            .send(
                Method::GET,
                &format!(
                    "/proxy/tickets/1?integrated_account_id={}",
                    account["id"].as_str().unwrap()
                ),
                None,
            )
            .await
    };
    let subject = |answer: &Value| {
        answer["ticket"]["subject"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let (status, answer) = get().await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(subject(&answer), "from first");
    assert_eq!(subject(&get().await.1), "from first", "the cached install");

    // A new override moves the base URL.
    let (status, _) = server
        .send(
            Method::PATCH,
            &format!("/environment-integration/{}", installed.install_id),
            Some(json!({"override": {"base_url": format!("{}/api/v2", second.uri())}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(subject(&get().await.1), "from second");

    // A new integration version moves it back (the override is cleared first).
    server
        .send(
            Method::PATCH,
            &format!("/environment-integration/{}", installed.install_id),
            Some(json!({"override": null})),
        )
        .await;
    assert_eq!(subject(&get().await.1), "from first");
    let (status, updated) = server
        .send(
            Method::PATCH,
            &format!("/integration/{}", installed.integration_id),
            Some(json!({"version": 1, "config": helpdesk_config(&second.uri())})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(subject(&get().await.1), "from second");

    // Disabling the install stops calls.
    server
        .send(
            Method::PATCH,
            &format!("/environment-integration/{}", installed.install_id),
            Some(json!({"is_enabled": false})),
        )
        .await;
    let (status, answer) = get().await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("disabled"),
        "{answer}"
    );
}

#[tokio::test]
async fn bad_bodies_get_clear_errors() {
    let server = TestServer::start().await;
    let token = server.token.clone();
    let post = |body: &'static str| {
        server.raw(
            Method::POST,
            "/integration",
            Some(&token),
            Some(body.to_owned()),
        )
    };

    let (status, body) = post("{\"name\": \"x\",\n \"config\": {").await;
    assert_eq!(status, 400);
    assert_error(&body, 400, "malformed JSON at line 2, column");

    let (status, body) = post(r#"{"name": "x", "config": {}, "nmae": 1}"#).await;
    assert_eq!(status, 422);
    assert_error(&body, 422, "unknown field `nmae`");

    let (status, body) = post(r#"{"name": 5, "config": {}}"#).await;
    assert_eq!(status, 422);
    assert_error(&body, 422, "invalid type: integer `5`, expected a string");
    assert_eq!(body["errors"][0]["path"], "name");

    let (status, body) = post(r#"{"name": "x"}"#).await;
    assert_eq!(status, 422);
    assert_error(&body, 422, "missing field `config`");

    let (status, body) = post("").await;
    assert_eq!(status, 400);
    assert_error(&body, 400, "empty");

    let (status, body) = post(r#"{"name": "x", "config": {}} trailing"#).await;
    assert_eq!(status, 400);
    assert_error(&body, 400, "malformed JSON");

    let (status, body) = server
        .raw(
            Method::PATCH,
            "/environment-integration/x",
            Some(&token),
            Some(r#"{"is_enabled": "yes"}"#.to_owned()),
        )
        .await;
    assert_eq!(status, 422);
    assert_error(&body, 422, "is_enabled");

    let (status, body) = server
        .raw(Method::PUT, "/integration", Some(&token), None)
        .await;
    assert_eq!(status, 405);
    assert_eq!(body["statusCode"], 405);
}
