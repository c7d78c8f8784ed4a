//! The facade end to end against loopback HTTP (wiremock): accounts in the
//! store, token refresh persisted, needs_reauth and events, actions, sandbox.

mod support;

use std::sync::Arc;

use futures_util::StreamExt;
use patchbay::config::{AccountStatus, AuthenticationMethod};
use patchbay::{AccountStore, CallInput, Error, ListOptions, MemoryAccountStore, Patchbay};
use serde_json::{Value, json};
use support::{Harness, account, harness, object, on};
use wiremock::matchers::{body_string_contains, header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn oauth_config(base: &str) -> patchbay::config::IntegrationConfig {
    support::config(json!({
        "base_url": base,
        "credentials": {"format": "oauth2", "config": {
            "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
            "auth": {"tokenHost": base, "tokenPath": "/oauth/token"},
            "options": {"authorizationMethod": "body"}
        }},
        "authorization": {"format": "bearer"},
        "pagination": {"format": "page", "config": {"page_key": "page", "limit_key": "per_page"}},
        "resources": {"contacts": {
            "list": {"path": "/contacts", "response_path": "data"},
            "create": {"method": "post", "path": "/contacts", "body": {"name": "{{body.name}}"}, "pagination": null}
        }},
        "actions": {
            "post_install": {"steps": [
                {"type": "request", "config": {"path": "/me", "pagination": null}},
                {"type": "transform", "config": "{ 'label': company & ' (' & $context.tenant_label & ')' }"},
                {"type": "update_context"}
            ]},
            "validation": {"type": "request", "config": {"path": "/validate", "pagination": null}}
        }
    }))
}

fn expired_tokens() -> Value {
    json!({"tenant_label": "acme", "oauth": {"token": {"access_token": "old", "refresh_token": "r1", "expires_at": "2020-01-01T00:00:00.000Z"}}})
}

fn variables() -> serde_json::Map<String, Value> {
    object(json!({"client_id": "app-id", "client_secret": "app-secret"}))
}

/// A harness with [`oauth_config`] at `server` installed as `crm`.
fn crm(server: &MockServer) -> Harness {
    let h = harness();
    h.patchbay
        .install("crm", oauth_config(&server.uri()), variables())
        .unwrap();
    h
}

/// [`expired_tokens`] refreshable with `refresh`.
fn expired_with_refresh(refresh: &str) -> Value {
    let mut context = expired_tokens();
    context["oauth"]["token"]["refresh_token"] = json!(refresh);
    context
}

#[tokio::test]
async fn lists_with_refreshed_tokens_saved_to_the_store_first() {
    let server = MockServer::start().await;
    on("POST", "/oauth/token")
        .and(body_string_contains("refresh_token=r1"))
        .and(body_string_contains("client_secret=app-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "new", "refresh_token": "r2", "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    on("GET", "/contacts")
        .and(header("authorization", "Bearer new"))
        .respond_with(move |req: &wiremock::Request| {
            let page: u64 = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .map_or(1, |(_, v)| v.parse().unwrap());
            let data: Vec<Value> = if page <= 2 {
                (0..3).map(|i| json!({"id": (page - 1) * 3 + i})).collect()
            } else {
                vec![]
            };
            ResponseTemplate::new(200).set_body_json(json!({"data": data}))
        })
        .mount(&server)
        .await;
    let h = crm(&server);
    h.put("a1", "crm", AuthenticationMethod::OAuth2, expired_tokens())
        .await;

    let stream = h
        .patchbay
        .list(
            "a1",
            "contacts",
            "list",
            &CallInput::new(),
            ListOptions {
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let records: Vec<Value> = stream.map(Result::unwrap).collect().await;
    assert_eq!(records.len(), 6);

    let stored = h.stored("a1").await;
    assert_eq!(stored.context["oauth"]["token"]["access_token"], "new");
    assert_eq!(
        stored.context["oauth"]["token"]["refresh_token"], "r2",
        "rotated refresh token persisted"
    );
    assert!(
        !stored.context.contains_key("client_secret"),
        "host variables are not copied into the account"
    );
}

#[tokio::test]
async fn a_rejected_refresh_marks_needs_reauth_and_emits_the_event_but_5xx_does_not() {
    let server = MockServer::start().await;
    on("POST", "/oauth/token")
        .and(body_string_contains("refresh_token=revoked"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "revoked"})),
        )
        .mount(&server)
        .await;
    on("POST", "/oauth/token")
        .and(body_string_contains("refresh_token=flaky"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let h = crm(&server);
    for id in ["revoked", "flaky"] {
        h.put(
            id,
            "crm",
            AuthenticationMethod::OAuth2,
            expired_with_refresh(id),
        )
        .await;
    }

    let err = h.first_page("revoked", "contacts").await.unwrap_err();
    assert!(matches!(err, Error::Executor(_)), "{err}");
    h.assert_needs_reauth("revoked", "invalid_grant").await;
    let events = h.events.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "integrated_account:authentication_error");
    assert_eq!(events[0].payload["id"], "revoked");
    assert!(
        events[0].payload.get("context").is_none(),
        "no secrets in event payloads"
    );

    assert!(h.first_page("flaky", "contacts").await.is_err());
    assert_eq!(h.stored("flaky").await.status, AccountStatus::Active);
    assert!(
        h.events.take().is_empty(),
        "a 5xx from the token endpoint is not an authentication error"
    );
}

#[tokio::test]
async fn connect_runs_post_install_and_validation_and_sets_statuses() {
    let server = MockServer::start().await;
    Mock::given(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "new", "refresh_token": "r2", "expires_in": 3600}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"company": "Acme Inc"})))
        .mount(&server)
        .await;
    Mock::given(path("/validate"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/validate"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"message": "missing scope"})))
        .mount(&server)
        .await;
    let h = crm(&server);
    h.put("a1", "crm", AuthenticationMethod::OAuth2, expired_tokens())
        .await;

    assert_eq!(
        h.patchbay.connect("a1").await.unwrap(),
        AccountStatus::Active
    );
    let stored = h.stored("a1").await;
    assert_eq!(stored.context["label"], "Acme Inc (acme)");
    assert_eq!(
        h.events
            .take()
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["integrated_account:active"]
    );

    // The second validation answers 403: the account is marked, with the reason.
    assert_eq!(
        h.patchbay.connect("a1").await.unwrap(),
        AccountStatus::ValidationError
    );
    let stored = h.stored("a1").await;
    assert!(
        stored.last_error.as_deref().unwrap().contains("403"),
        "{:?}",
        stored.last_error
    );
    assert_eq!(
        h.events.take()[0].name,
        "integrated_account:validation_error"
    );
}

#[tokio::test]
async fn sandbox_accounts_refuse_writes_and_unknown_ids_are_clear_errors() {
    let server = MockServer::start().await;
    let h = crm(&server);
    let mut sandbox = account("sb", "crm", AuthenticationMethod::OAuth2, expired_tokens());
    sandbox.is_sandbox = true;
    h.accounts.put(sandbox).await.unwrap();
    let err = h
        .patchbay
        .call(
            "sb",
            "contacts",
            "create",
            &CallInput::new().body(json!({"name": "x"})),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "integrated account `sb` is a sandbox account and refuses write operations"
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    let err = h
        .patchbay
        .call("nope", "contacts", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no integrated account `nope`");
    h.put("orphan", "gone", AuthenticationMethod::ApiKey, json!({}))
        .await;
    let err = h
        .patchbay
        .call("orphan", "contacts", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "no integration named `gone` is registered");
    let err = h.patchbay.run_action("sb", "nope").await.unwrap_err();
    assert_eq!(err.to_string(), "the integration has no action `nope`");
}

#[tokio::test]
async fn body_and_page_bounds_are_set_through_the_facade_and_failures_have_a_stable_kind() {
    let server = MockServer::start().await;
    on("GET", "/contacts")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"results": [{"id": "x".repeat(500)}]})),
        )
        .mount(&server)
        .await;
    let accounts = Arc::new(MemoryAccountStore::new());
    let patchbay = Patchbay::builder()
        .account_store(accounts.clone())
        .max_body_bytes(100)
        .build();
    let config = support::config(json!({
        "base_url": server.uri(),
        "resources": {"contacts": {"list": {"method": "get", "path": "/contacts", "response_path": "results"}}}
    }));
    patchbay.install("crm", config, Default::default()).unwrap();
    accounts
        .put(account(
            "a1",
            "crm",
            AuthenticationMethod::ApiKey,
            json!({}),
        ))
        .await
        .unwrap();
    let error = patchbay
        .call("a1", "contacts", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), patchbay::ErrorKind::Transport, "{error}");
    assert!(error.provider_response().is_none());

    let missing = patchbay
        .call("a1", "contacts", "nope", &CallInput::new())
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), patchbay::ErrorKind::NotFound, "{missing}");
    assert!(missing.is_not_found());

    // Without the body bound the call answers; a one-page bound stops a list of a provider
    // that always has a next page after that page, with a cursor to resume from.
    on("GET", "/pages")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"results": [{"id": 1}], "next": "again"})),
        )
        .mount(&server)
        .await;
    let bounded = Patchbay::builder()
        .account_store(accounts.clone())
        .max_pages(Some(1))
        .build();
    let config = support::config(json!({
        "base_url": server.uri(),
        "pagination": {"format": "cursor", "config": {"cursor_path": "next", "cursor_key": "after"}},
        "resources": {"contacts": {
            "list": {"method": "get", "path": "/contacts", "response_path": "results"},
            "pages": {"method": "get", "path": "/pages", "response_path": "results"}
        }}
    }));
    bounded.install("crm", config, Default::default()).unwrap();
    let response = bounded
        .call("a1", "contacts", "list", &CallInput::new())
        .await
        .expect("within the default body bound");
    assert_eq!(response.status, 200);
    let mut records = bounded
        .list(
            "a1",
            "contacts",
            "pages",
            &CallInput::new(),
            ListOptions::default(),
        )
        .await
        .unwrap();
    let mut seen = Vec::new();
    let stopped = loop {
        match records
            .next()
            .await
            .expect("the stream ends with the bound's error")
        {
            Ok(record) => seen.push(record),
            Err(error) => break error,
        }
    };
    // The bounded page's records are delivered before the bound stops the list.
    assert_eq!(seen, [json!({"id": 1})]);
    assert!(stopped.to_string().contains("max_pages"), "{stopped}");
    assert!(records.next_cursor().is_some(), "the list can resume");
}
