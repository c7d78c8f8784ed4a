//! The destination policy (F5) and the loop guard (F6) through the real server.

mod support;

use std::time::{Duration, Instant};

use patchbay::egress::{DestinationPolicy, HOP_HEADER};
use reqwest::Method;
use serde_json::{Value, json};
use support::TestServer;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An integration with one `items` list at `base_url`, authorized by an API
/// key header.
fn config(base_url: &str) -> Value {
    json!({
        "name": format!("internal-{}", base_url.replace(|c: char| !c.is_ascii_alphanumeric(), "-")),
        "category": "other",
        "config": {
            "label": "Internal",
            "base_url": base_url,
            "credentials": {"format": "api_key", "config": {"fields": [
                {"name": "api_key", "label": "API key", "type": "password", "required": true}
            ]}},
            "authorization": {"format": "header", "config": {"header_name": "X-Api-Key", "header_value": "{{api_key}}"}},
            "resources": {"items": {"list": {"path": "/items", "pagination": null}}}
        }
    })
}

/// Installs [`config`] at `base_url`, imports an account and lists its items
/// through the proxy; the answer.
async fn list_items(server: &TestServer, base_url: &str) -> (reqwest::StatusCode, Value) {
    let installed = server.install(config(base_url), None).await;
    let account = server
        .import(
            &installed.install_id,
            "acme",
            json!({"context": {"api_key": "K"}}),
        )
        .await;
    let path = format!(
        "/proxy/items?integrated_account_id={}",
        support::id_of(&account)
    );
    server.send(Method::GET, &path, None).await
}

async fn catcher() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 1}])))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn by_default_a_provider_on_an_internal_address_is_never_called() {
    let internal = catcher().await;
    let server = TestServer::builder()
        .destinations(DestinationPolicy::public_only())
        .start()
        .await;
    let port = internal.address().port();
    // A name that resolves to loopback, and loopback written as an IP literal.
    for base_url in [
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        let (status, body) = list_items(&server, &base_url).await;
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{base_url}: {status} {body}"
        );
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("destination policy") && message.contains("loopback"),
            "{base_url}: {body}"
        );
        assert!(!message.contains("/items"), "no path in the error: {body}");
    }
    assert!(
        internal
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "the internal server was never reached"
    );
}

#[tokio::test]
async fn an_allow_listed_network_is_reached() {
    let internal = catcher().await;
    let server = TestServer::builder()
        .destinations(DestinationPolicy::from_allow_list("127.0.0.0/8").unwrap())
        .start()
        .await;
    let (status, body) = list_items(&server, &internal.uri()).await;
    assert_eq!(status, 200, "{body}");
    let received = internal.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].headers[HOP_HEADER], "1",
        "outbound requests carry the hop marker"
    );
}

#[tokio::test]
async fn a_config_pointing_at_the_server_itself_makes_one_hop_not_a_chain() {
    let server = TestServer::start().await;
    // The integration calls this server's own proxy route for the same
    // account, with the server's own API token.
    let installed = server
        .install(
            json!({"name": "self", "category": "other", "config": {
                "label": "Self",
                "base_url": server.base,
                "headers": {"Authorization": format!("Bearer {}", server.token)},
                "resources": {"loop": {"list": {"path": "/proxy/loop", "pagination": null,
                    "query": {"integrated_account_id": "{{account_id}}"}}}}
            }}),
            None,
        )
        .await;
    let account = server
        .import(&installed.install_id, "acme", json!({"context": {}}))
        .await;
    let id = support::id_of(&account);
    let (status, _) = server
        .send(
            Method::PATCH,
            &format!("/integrated-account/{id}"),
            Some(json!({"context": {"account_id": id}})),
        )
        .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(20),
        server.send(
            Method::GET,
            &format!("/proxy/loop?integrated_account_id={id}"),
            None,
        ),
    )
    .await
    .expect("the call ends instead of recursing");
    assert!(!status.is_success(), "{status} {body}");
    assert!(
        body.to_string().contains("Patchbay server"),
        "the provider error is the loop guard's: {body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // Any request carrying the marker is refused before authentication.
    let answer = server
        .client
        .get(server.url("/integration"))
        .header(HOP_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 508);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["statusCode"], 508, "{body}");
}

/// An OAuth2 integration whose token host is `base`, with `auth.revokePath`.
fn revocable(base: &str) -> Value {
    json!({"name": "revocable", "category": "other", "config": {
        "label": "Revocable",
        "base_url": base,
        "credentials": {"format": "oauth2", "config": {
            "client": {"id": "cid", "secret": "csecret"},
            "auth": {"tokenHost": base, "tokenPath": "/oauth/token", "revokePath": "/oauth/revoke"},
            "options": {"authorizationMethod": "body"}
        }},
        "authorization": {"format": "bearer"},
        "resources": {"me": {"get": {"path": "/me", "pagination": null}}}
    }})
}

fn oauth_context(access: &str, refresh: &str) -> Value {
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    json!({"authentication_method": "oauth2", "context": {"oauth": {"token": {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": expires.to_rfc3339(),
    }}}})
}

/// Imports an OAuth account of a revocable integration whose token host is
/// `provider` and deletes it (the delete succeeds whatever the revocation
/// does).
async fn import_and_delete(server: &TestServer, provider: &str) {
    let installed = server.install(revocable(provider), None).await;
    let account = server
        .import(
            &installed.install_id,
            "acme",
            oauth_context("ACCESS_1", "REFRESH_1"),
        )
        .await;
    let id = support::id_of(&account);
    let (status, _) = server
        .send(Method::DELETE, &format!("/integrated-account/{id}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send(Method::GET, &format!("/integrated-account/{id}"), None)
        .await;
    assert_eq!(status, 404, "the account is gone");
}

#[tokio::test]
async fn deleting_an_account_revokes_its_tokens_first() {
    let provider = MockServer::start().await;
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/oauth/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&provider)
        .await;
    let server = TestServer::start().await;
    import_and_delete(&server, &provider.uri()).await;
    let bodies: Vec<String> = provider
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies[0].contains("token=REFRESH_1"), "{bodies:?}");
    assert!(bodies[1].contains("token=ACCESS_1"), "{bodies:?}");
}

#[tokio::test]
async fn a_failed_revocation_does_not_keep_the_account_and_token_urls_follow_the_policy() {
    let provider = catcher().await;
    // The token host is on loopback, which this server's policy refuses: the
    // revocation is refused before sending, and the delete goes on.
    let server = TestServer::builder()
        .destinations(DestinationPolicy::public_only())
        .start()
        .await;
    import_and_delete(&server, &provider.uri()).await;
    assert!(
        provider
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "no token request reached the refused host"
    );
}
