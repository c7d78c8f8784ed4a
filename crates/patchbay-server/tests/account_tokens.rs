//! Integrated-account tokens (`POST /integrated-account/token`), CORS for browsers that
//! use them, and `PATCH /integrated-account/{id}/credentials`, over real HTTP on loopback.

mod support;

use chrono::{Duration, Utc};
use patchbay_server::CorsOrigins;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use support::TestServer;

const KEY_A: &str = "key-A-SECRET";
const KEY_B: &str = "key-B-SECRET";

/// A config whose `tickets` answer with the caller's key, so answers tell accounts apart.
fn config(base_url: &str) -> Value {
    json!({
        "base_url": base_url,
        "credentials": {"format": "api_key", "config": {"fields": [
            {"name": "api_key", "label": "API key", "type": "password", "required": true}
        ]}},
        "authorization": {"format": "bearer", "config": {"token": "{{api_key}}"}},
        "resources": {"tickets": {"list": {"path": "/tickets", "response_path": "tickets"}}}
    })
}

async fn provider() -> MockServer {
    let provider = MockServer::start().await;
    for (key, tenant) in [(KEY_A, "a"), (KEY_B, "b"), ("key-A2-SECRET", "a2")] {
        Mock::given(method("GET"))
            .and(path("/tickets"))
            .and(header("authorization", format!("Bearer {key}").as_str()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"tickets": [{"tenant": tenant}]})),
            )
            .mount(&provider)
            .await;
    }
    provider
}

/// Two accounts (`a`, `b`) of one install; their ids.
async fn accounts(server: &TestServer, provider: &MockServer) -> (String, String) {
    let installed = server
        .install(
            json!({"name": "desk", "config": config(&provider.uri())}),
            None,
        )
        .await;
    let mut ids = Vec::new();
    for (tenant, key) in [("a", KEY_A), ("b", KEY_B)] {
        let account = server
            .import(
                &installed.install_id,
                tenant,
                json!({"context": {"api_key": key}}),
            )
            .await;
        ids.push(account["id"].as_str().unwrap().to_owned());
    }
    (ids.remove(0), ids.remove(0))
}

/// The event types queued since the last call, oldest first.
async fn events(server: &TestServer) -> Vec<String> {
    let mut deliveries = server
        .store
        .claim_due(1000, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    deliveries.sort_by_key(|d| d.created_at);
    deliveries.into_iter().map(|d| d.event_type).collect()
}

async fn token_for(server: &TestServer, account_id: &str) -> String {
    let (status, body) = server
        .send(
            Method::POST,
            "/integrated-account/token",
            Some(json!({"integrated_account_id": account_id})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - Utc::now();
    assert!(
        left > Duration::minutes(14) && left <= Duration::minutes(15),
        "{body}"
    );
    body["integrated_account_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_account_token_acts_for_its_account_on_proxy_only() {
    let provider = provider().await;
    let server = TestServer::start().await;
    let (a, b) = accounts(&server, &provider).await;
    let token = token_for(&server, &a).await;
    assert!(token.starts_with("iat_"), "{token}");

    // The account is implied, or named as itself.
    for path in [
        "/proxy/tickets".to_owned(),
        format!("/proxy/tickets?integrated_account_id={a}"),
    ] {
        let (status, body) = server.send_as(&token, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["result"], json!([{"tenant": "a"}]), "{path}");
    }
    // Another account is refused, not served.
    let (status, body) = server
        .send_as(
            &token,
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={b}"),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("another integrated account")
    );

    // Nothing but /proxy and /unified.
    for (verb, path) in [
        (Method::GET, "/integrated-account".to_owned()),
        (Method::GET, format!("/integrated-account/{a}")),
        (Method::POST, "/integrated-account/token".to_owned()),
        (Method::POST, "/api-token".to_owned()),
        (Method::GET, "/log?log_type=unified_proxy_api".to_owned()),
        (Method::GET, "/ping".to_owned()),
        (Method::GET, "/unified-model".to_owned()),
        (Method::GET, "/unified/crm/contacts/meta/list".to_owned()),
        (Method::GET, "/unified/meta/crm/desk".to_owned()),
    ] {
        let (status, body) = server.send_as(&token, verb.clone(), &path, None).await;
        assert_eq!(status, 403, "{verb} {path}: {body}");
    }

    // Forged, altered and expired tokens are refused.
    let mut altered = token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let expired = patchbay_server::account_tokens::issue(
        &server.store,
        &server.environment_id,
        &a,
        Utc::now() - Duration::minutes(16),
    )
    .unwrap()
    .0;
    for (bad, needle) in [
        ("iat_nonsense".to_owned(), "invalid"),
        (altered, "invalid"),
        (expired, "expired"),
    ] {
        let (status, body) = server
            .send_as(&bad, Method::GET, "/proxy/tickets", None)
            .await;
        assert_eq!(status, 401, "{body}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
    }

    // A deleted account's tokens serve nothing.
    let (status, _) = server
        .send(Method::DELETE, &format!("/integrated-account/{a}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .send_as(&token, Method::GET, "/proxy/tickets", None)
        .await;
    assert_eq!(status, 404);

    // Tokens only for accounts of the caller's environment.
    let stranger = server.other_environment_token().await;
    let (status, _) = server
        .send_as(
            &stranger,
            Method::POST,
            "/integrated-account/token",
            Some(json!({"integrated_account_id": b})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, body) = server
        .send(Method::POST, "/integrated-account/token", Some(json!({})))
        .await;
    assert_eq!(status, 422, "{body}");
    server.assert_no_secret_answered(&[KEY_A, KEY_B]);
}

#[tokio::test]
async fn browsers_of_allowed_origins_may_call_with_an_account_token() {
    let provider = provider().await;
    let server = TestServer::builder()
        .cors(CorsOrigins::parse("https://app.example.com").unwrap())
        .start()
        .await;
    let (a, _) = accounts(&server, &provider).await;
    let token = token_for(&server, &a).await;

    // The preflight needs no token.
    let preflight = server
        .client
        .request(Method::OPTIONS, server.url("/proxy/tickets"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(headers.get("access-control-allow-credentials").is_none());

    let call = server
        .client
        .get(server.url("/proxy/tickets"))
        .header("origin", "https://app.example.com")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(call.status(), 200);
    assert_eq!(
        call.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    // Another origin gets no CORS grant.
    let other = server
        .client
        .get(server.url("/proxy/tickets"))
        .header("origin", "https://evil.example")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    for bad in [
        "app.example.com",
        "https://app.example.com/path",
        "ftp://x.example",
    ] {
        assert!(CorsOrigins::parse(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn new_credentials_reconnect_the_account_and_reactivate_it() {
    let provider = provider().await;
    let server = TestServer::start().await;
    let (a, _) = accounts(&server, &provider).await;
    server.subscribe("https://hooks.example/all", &["*"]).await;
    server
        .patch_ok(
            &format!("/integrated-account/{a}"),
            json!({"status": "needs_reauth"}),
        )
        .await;
    events(&server).await;

    let (status, account) = server
        .send(
            Method::PATCH,
            &format!("/integrated-account/{a}/credentials"),
            Some(json!({"context": {"api_key": "key-A2-SECRET"}})),
        )
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["status"], "active");
    assert!(account["last_error"].is_null(), "{account}");
    // The new key is the one used from now on.
    let (status, body) = server
        .send(
            Method::GET,
            &format!("/proxy/tickets?integrated_account_id={a}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], json!([{"tenant": "a2"}]));
    // The change and the reactivation are announced.
    assert_eq!(
        events(&server).await,
        [
            "integrated_account:updated",
            "integrated_account:active",
            "integrated_account:reactivated"
        ]
    );

    for bad in [
        json!({"context": {}}),
        json!({}),
        json!({"context": {"api_key": "x"}, "status": "active"}),
    ] {
        let (status, body) = server
            .send(
                Method::PATCH,
                &format!("/integrated-account/{a}/credentials"),
                Some(bad),
            )
            .await;
        assert_eq!(status, 422, "{body}");
    }
    let (status, _) = server
        .send(
            Method::PATCH,
            "/integrated-account/nope/credentials",
            Some(json!({"context": {"api_key": "x"}})),
        )
        .await;
    assert_eq!(status, 404);
    server.assert_no_secret_answered(&[KEY_A, "key-A2-SECRET"]);
}
