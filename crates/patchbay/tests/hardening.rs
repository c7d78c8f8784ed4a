//! Issue #8 hardening through the facade, against loopback HTTP (wiremock):
//! an expired token reported in a 200 body (Slack) behaves like a 401.

use std::sync::Arc;

use patchbay::config::{
    AccountStatus, AuthenticationMethod, IntegratedAccount, load_integration_config,
};
use patchbay::{AccountStore, CallInput, Error, MemoryAccountStore, MemoryEvents, Patchbay};
use serde_json::{Map, Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Harness {
    patchbay: Patchbay,
    accounts: Arc<MemoryAccountStore>,
    events: Arc<MemoryEvents>,
}

fn harness() -> Harness {
    let accounts = Arc::new(MemoryAccountStore::new());
    let events = Arc::new(MemoryEvents::new());
    let patchbay = Patchbay::builder()
        .account_store(accounts.clone())
        .event_sink(events.clone())
        .build();
    Harness {
        patchbay,
        accounts,
        events,
    }
}

/// `examples/catalog/{slug}.json` with its provider host replaced by `base`.
fn catalog_at(slug: &str, host: &str, base: &str) -> patchbay::config::IntegrationConfig {
    let path = format!(
        "{}/../../examples/catalog/{slug}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    load_integration_config(&text.replace(host, base)).unwrap_or_else(|e| panic!("{e}"))
}

fn account(id: &str, method: AuthenticationMethod, context: Value) -> IntegratedAccount {
    serde_json::from_value(json!({
        "id": id,
        "tenant_id": "tenant-1",
        "environment_integration_id": "slack",
        "context": context,
        "authentication_method": method.as_str(),
        "status": "active",
        "created_at": "2025-01-01T00:00:00.000Z",
        "updated_at": "2025-01-01T00:00:00.000Z",
    }))
    .unwrap()
}

fn oauth_app() -> Map<String, Value> {
    json!({"client_id": "cid", "client_secret": "csecret"})
        .as_object()
        .unwrap()
        .clone()
}

/// A token the account believes is good for another hour.
fn live_token(access: &str, refresh: Option<&str>) -> Value {
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut token = json!({
        "access_token": access,
        "expires_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    if let Some(refresh) = refresh {
        token["refresh_token"] = json!(refresh);
    }
    json!({"oauth": {"token": token}})
}

/// Slack: `conversations.list` answers `200 {"ok": false, "error": <expired>}`
/// unless the token is `xoxe.xoxp-new`, which the token endpoint hands out.
async fn slack(expired: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth.v2.access"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=xoxe-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "access_token": "xoxe.xoxp-new", "refresh_token": "xoxe-2", "expires_in": 43200
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/conversations.list"))
        .and(header("authorization", "Bearer xoxe.xoxp-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": ""}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/conversations.list"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": expired})),
        )
        .mount(&server)
        .await;
    server
}

async fn token_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/oauth.v2.access")
        .count()
}

#[tokio::test]
async fn a_token_expired_200_refreshes_once_and_the_retried_call_succeeds() {
    for expired in ["token_expired", "invalid_auth"] {
        let server = slack(expired).await;
        let h = harness();
        let config = catalog_at("slack", "https://slack.com", &server.uri());
        h.patchbay.install("slack", config, oauth_app()).unwrap();
        h.accounts
            .put(account(
                "sl",
                AuthenticationMethod::OAuth2,
                live_token("xoxe.xoxp-old", Some("xoxe-1")),
            ))
            .await
            .unwrap();

        let page = h
            .patchbay
            .list_page(
                "sl",
                "channels",
                "list",
                &CallInput::new(),
                Default::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("{expired}: {e}"));
        assert_eq!(page.records, vec![json!({"id": "C1"})]);
        assert_eq!(token_requests(&server).await, 1, "{expired}: one refresh");
        let stored = h.accounts.get("sl").await.unwrap().unwrap();
        assert_eq!(
            stored.context["oauth"]["token"]["access_token"],
            "xoxe.xoxp-new"
        );
        assert_eq!(stored.status, AccountStatus::Active);
        assert!(h.events.take().is_empty());
    }
}

#[tokio::test]
async fn a_token_expired_200_without_a_refresh_token_marks_needs_reauth_and_emits_the_event() {
    let server = slack("token_expired").await;
    let h = harness();
    let config = catalog_at("slack", "https://slack.com", &server.uri());
    h.patchbay.install("slack", config, oauth_app()).unwrap();
    h.accounts
        .put(account(
            "no-refresh",
            AuthenticationMethod::OAuth2,
            live_token("xoxb-bot", None),
        ))
        .await
        .unwrap();

    let err = h
        .patchbay
        .call("no-refresh", "channels", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Executor(patchbay::executor::ExecutorError::Auth(_))
        ),
        "{err}"
    );
    assert_eq!(token_requests(&server).await, 0);
    let stored = h.accounts.get("no-refresh").await.unwrap().unwrap();
    assert_eq!(stored.status, AccountStatus::NeedsReauth);
    let events = h.events.take();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].name, "integrated_account:authentication_error");
    assert_eq!(events[0].payload["id"], "no-refresh");
}

#[tokio::test]
async fn a_token_still_expired_after_the_refresh_marks_needs_reauth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/oauth.v2.access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "access_token": "xoxe.xoxp-also-dead", "refresh_token": "xoxe-2", "expires_in": 43200
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/conversations.list"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "token_expired"})),
        )
        .mount(&server)
        .await;
    let h = harness();
    let config = catalog_at("slack", "https://slack.com", &server.uri());
    h.patchbay.install("slack", config, oauth_app()).unwrap();
    h.accounts
        .put(account(
            "sl",
            AuthenticationMethod::OAuth2,
            live_token("xoxe.xoxp-old", Some("xoxe-1")),
        ))
        .await
        .unwrap();

    let err = h
        .patchbay
        .call("sl", "channels", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Executor(patchbay::executor::ExecutorError::Auth(_))
        ),
        "{err}"
    );
    assert_eq!(
        token_requests(&server).await,
        1,
        "refreshed once, not in a loop"
    );
    let calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/conversations.list")
        .count();
    assert_eq!(calls, 2, "the call and one retry");
    assert_eq!(
        h.accounts.get("sl").await.unwrap().unwrap().status,
        AccountStatus::NeedsReauth
    );
    let events = h.events.take();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].name, "integrated_account:authentication_error");
}

// ---------------------------------------------------------------- auth.revokePath

fn revocable(base: &str, revoke_path: Option<&str>) -> patchbay::config::IntegrationConfig {
    let mut auth = json!({"tokenHost": base, "tokenPath": "/oauth/token"});
    if let Some(path) = revoke_path {
        auth["revokePath"] = json!(path);
    }
    load_integration_config(
        &json!({
            "base_url": base,
            "credentials": {"format": "oauth2", "config": {
                "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
                "auth": auth,
                "options": {"authorizationMethod": "body"}
            }},
            "authorization": {"format": "bearer"},
            "resources": {"me": {"get": {"path": "/me"}}}
        })
        .to_string(),
    )
    .unwrap()
}

#[tokio::test]
async fn revoke_credentials_posts_both_tokens_to_the_revoke_path() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .and(body_string_contains("client_id=cid"))
        .and(body_string_contains("client_secret=csecret"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let h = harness();
    h.patchbay
        .install(
            "slack",
            revocable(&server.uri(), Some("/oauth/revoke")),
            oauth_app(),
        )
        .unwrap();
    h.accounts
        .put(account(
            "a1",
            AuthenticationMethod::OAuth2,
            live_token("ACCESS_1", Some("REFRESH_1")),
        ))
        .await
        .unwrap();

    let done = h.patchbay.revoke_credentials("a1").await.unwrap();
    assert_eq!(done, patchbay::Revocation::Revoked { tokens: 2 });
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        bodies[0].contains("token=REFRESH_1")
            && bodies[0].contains("token_type_hint=refresh_token"),
        "{bodies:?}"
    );
    assert!(
        bodies[1].contains("token=ACCESS_1") && bodies[1].contains("token_type_hint=access_token"),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn revoke_failures_are_reported_and_change_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let h = harness();
    h.patchbay
        .install(
            "slack",
            revocable(&server.uri(), Some("/oauth/revoke")),
            oauth_app(),
        )
        .unwrap();
    h.accounts
        .put(account(
            "a1",
            AuthenticationMethod::OAuth2,
            live_token("ACCESS_1", None),
        ))
        .await
        .unwrap();
    let err = h.patchbay.revoke_credentials("a1").await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert!(!err.to_string().contains("ACCESS_1"), "{err}");
    assert_eq!(
        h.accounts.get("a1").await.unwrap().unwrap().status,
        AccountStatus::Active
    );
    assert!(h.events.take().is_empty());

    // Without auth.revokePath nothing is sent.
    let quiet = MockServer::start().await;
    h.patchbay
        .install("slack", revocable(&quiet.uri(), None), oauth_app())
        .unwrap();
    assert_eq!(
        h.patchbay.revoke_credentials("a1").await.unwrap(),
        patchbay::Revocation::NotConfigured
    );
    assert!(quiet.received_requests().await.unwrap().is_empty());
}
