//! Issue #8 hardening through the facade, against loopback HTTP (wiremock):
//! an expired token reported in a 200 body (Slack) behaves like a 401.

mod support;

use patchbay::config::{AccountStatus, AuthenticationMethod, load_integration_config};
use patchbay::{CallInput, Error};
use serde_json::{Map, Value, json};
use support::{Harness, bodies, catalog_text, harness, object, on, requests_to, token_context};
use wiremock::matchers::{body_string_contains, header};
use wiremock::{MockServer, ResponseTemplate};

/// `examples/catalog/{slug}.json` with its provider host replaced by `base`.
fn catalog_at(slug: &str, host: &str, base: &str) -> patchbay::config::IntegrationConfig {
    load_integration_config(&catalog_text(slug).replace(host, base))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn oauth_app() -> Map<String, Value> {
    object(json!({"client_id": "cid", "client_secret": "csecret"}))
}

/// A token the account believes is good for another hour.
fn live_token(access: &str, refresh: Option<&str>) -> Value {
    token_context(access, refresh, chrono::Duration::hours(1))
}

/// A harness with `config` installed as `slack` and an OAuth account `id` of it holding
/// `context`.
async fn slack_install(
    config: patchbay::config::IntegrationConfig,
    id: &str,
    context: Value,
) -> Harness {
    let h = harness();
    h.patchbay.install("slack", config, oauth_app()).unwrap();
    h.put(id, "slack", AuthenticationMethod::OAuth2, context)
        .await;
    h
}

/// The Slack catalog config pointed at `server`, installed with an OAuth account `id`.
async fn slack_account(server: &MockServer, id: &str, context: Value) -> Harness {
    let config = catalog_at("slack", "https://slack.com", &server.uri());
    slack_install(config, id, context).await
}

fn is_auth_error(err: &Error) -> bool {
    matches!(
        err,
        Error::Executor(patchbay::executor::ExecutorError::Auth(_))
    )
}

/// Slack: `conversations.list` answers `200 {"ok": false, "error": <expired>}`
/// unless the token is `xoxe.xoxp-new`, which the token endpoint hands out.
async fn slack(expired: &str) -> MockServer {
    let server = MockServer::start().await;
    on("POST", "/api/oauth.v2.access")
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=xoxe-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "access_token": "xoxe.xoxp-new", "refresh_token": "xoxe-2", "expires_in": 43200
        })))
        .mount(&server)
        .await;
    on("GET", "/api/conversations.list")
        .and(header("authorization", "Bearer xoxe.xoxp-new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channels": [{"id": "C1"}], "response_metadata": {"next_cursor": ""}}),
        ))
        .mount(&server)
        .await;
    on("GET", "/api/conversations.list")
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": expired})),
        )
        .mount(&server)
        .await;
    server
}

async fn token_requests(server: &MockServer) -> usize {
    requests_to(server, "/api/oauth.v2.access").await
}

#[tokio::test]
async fn a_token_expired_200_refreshes_once_and_the_retried_call_succeeds() {
    for expired in ["token_expired", "invalid_auth"] {
        let server = slack(expired).await;
        let h = slack_account(&server, "sl", live_token("xoxe.xoxp-old", Some("xoxe-1"))).await;

        let page = h
            .first_page("sl", "channels")
            .await
            .unwrap_or_else(|e| panic!("{expired}: {e}"));
        assert_eq!(page.records, vec![json!({"id": "C1"})]);
        assert_eq!(token_requests(&server).await, 1, "{expired}: one refresh");
        let stored = h.stored("sl").await;
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
    let h = slack_account(&server, "no-refresh", live_token("xoxb-bot", None)).await;

    let err = h
        .patchbay
        .call("no-refresh", "channels", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert!(is_auth_error(&err), "{err}");
    assert_eq!(token_requests(&server).await, 0);
    assert_eq!(
        h.stored("no-refresh").await.status,
        AccountStatus::NeedsReauth
    );
    h.assert_one_authentication_error("no-refresh");
}

#[tokio::test]
async fn a_token_still_expired_after_the_refresh_marks_needs_reauth() {
    let server = MockServer::start().await;
    on("POST", "/api/oauth.v2.access")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "access_token": "xoxe.xoxp-also-dead", "refresh_token": "xoxe-2", "expires_in": 43200
        })))
        .mount(&server)
        .await;
    on("GET", "/api/conversations.list")
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "token_expired"})),
        )
        .mount(&server)
        .await;
    let h = slack_account(&server, "sl", live_token("xoxe.xoxp-old", Some("xoxe-1"))).await;

    let err = h
        .patchbay
        .call("sl", "channels", "list", &CallInput::new())
        .await
        .unwrap_err();
    assert!(is_auth_error(&err), "{err}");
    assert_eq!(
        token_requests(&server).await,
        1,
        "refreshed once, not in a loop"
    );
    assert_eq!(
        requests_to(&server, "/api/conversations.list").await,
        2,
        "the call and one retry"
    );
    assert_eq!(h.stored("sl").await.status, AccountStatus::NeedsReauth);
    h.assert_one_authentication_error("sl");
}

// ---------------------------------------------------------------- auth.revokePath

fn revocable(base: &str, revoke_path: Option<&str>) -> patchbay::config::IntegrationConfig {
    let mut auth = json!({"tokenHost": base, "tokenPath": "/oauth/token"});
    if let Some(path) = revoke_path {
        auth["revokePath"] = json!(path);
    }
    support::config(json!({
        "base_url": base,
        "credentials": {"format": "oauth2", "config": {
            "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
            "auth": auth,
            "options": {"authorizationMethod": "body"}
        }},
        "authorization": {"format": "bearer"},
        "resources": {"me": {"get": {"path": "/me"}}}
    }))
}

#[tokio::test]
async fn revoke_credentials_posts_both_tokens_to_the_revoke_path() {
    let server = MockServer::start().await;
    on("POST", "/oauth/revoke")
        .and(body_string_contains("client_id=cid"))
        .and(body_string_contains("client_secret=csecret"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount(&server)
        .await;
    let h = slack_install(
        revocable(&server.uri(), Some("/oauth/revoke")),
        "a1",
        live_token("ACCESS_1", Some("REFRESH_1")),
    )
    .await;

    let done = h.patchbay.revoke_credentials("a1").await.unwrap();
    assert_eq!(done, patchbay::Revocation::Revoked { tokens: 2 });
    let bodies = bodies(&server).await;
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
    on("POST", "/oauth/revoke")
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let h = slack_install(
        revocable(&server.uri(), Some("/oauth/revoke")),
        "a1",
        live_token("ACCESS_1", None),
    )
    .await;
    let err = h.patchbay.revoke_credentials("a1").await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err}");
    assert!(err.to_string().contains("503"), "{err}");
    assert!(!err.to_string().contains("ACCESS_1"), "{err}");
    assert_eq!(h.stored("a1").await.status, AccountStatus::Active);
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
