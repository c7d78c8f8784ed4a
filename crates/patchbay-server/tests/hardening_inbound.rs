//! Hardening of the inbound webhook routes, over real HTTP on loopback with a
//! SQLite store:
//!
//! * F1: no handshake is a signing oracle. The review's forged Zoom flow
//!   (ask the unauthenticated `endpoint.url_validation` to sign
//!   `v0:<ts>:<forged body>`, then send the forged body with that signature)
//!   is refused on both inbound routes, while a genuine signed validation is
//!   answered.
//! * F10: unauthenticated requests cost a light lookup and a signature check:
//!   bad-signature requests never merge, validate or compile the install's
//!   (large) config again.

mod support;

use std::sync::Arc;
use std::time::Instant;

use patchbay_server::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::TestServer;
use support::inbound::{InstalledAccount, NO_HEADERS, hmac_hex, now_secs};

const ZOOM: &str = include_str!("../../../examples/webhooks/zoom.json");
const ZOOM_SECRET: &str = "zoom-secret-TOKEN-f1";
/// The Zoom handshake the review attacked (`examples/webhooks/zoom.json` before
/// the fix): it signs any `plainToken`, so only the order of the checks stops
/// the attack. The shipped example also refuses tokens not shaped like Zoom's.
const REVIEW_HANDSHAKE: &str = "body.event = 'endpoint.url_validation' ? { 'statusCode': 200, 'body': { 'plainToken': body.payload.plainToken, 'encryptedToken': $sign(body.payload.plainToken, 'SHA-256', $context.secret_token, 'hex') } }";
const FORGED: &str = r#"{"event": "meeting.deleted", "payload": {"object": {"id": "123"}}}"#;

/// Zoom's signature headers for `body` at `ts`.
fn zoom_headers(body: &[u8], ts: u64, secret: &str) -> Vec<(&'static str, String)> {
    let mut message = format!("v0:{ts}:").into_bytes();
    message.extend_from_slice(body);
    vec![
        ("x-zm-request-timestamp", ts.to_string()),
        (
            "x-zm-signature",
            format!("v0={}", hmac_hex(secret, &message)),
        ),
    ]
}

/// The review's F1 attack on `path`: answers the status of the unauthenticated
/// handshake and, when it handed out a signature, the status of the forged
/// event sent with it.
async fn forged_flow(server: &TestServer, path: &str) -> (StatusCode, Option<StatusCode>) {
    let ts = now_secs();
    let validation = json!({
        "event": "endpoint.url_validation",
        "payload": {"plainToken": format!("v0:{ts}:{FORGED}")}
    })
    .to_string();
    let (status, text) = server.hook(path, NO_HEADERS, validation.as_bytes()).await;
    if status != StatusCode::OK {
        assert!(!text.contains("encryptedToken"), "{text}");
        return (status, None);
    }
    let answer: Value = serde_json::from_str(&text).unwrap();
    let signature = answer["encryptedToken"].as_str().unwrap_or_default();
    let headers = [
        ("x-zm-request-timestamp", ts.to_string()),
        ("x-zm-signature", format!("v0={signature}")),
    ];
    let (event, _) = server
        .post_unauthenticated(&server.url(path), &headers, FORGED.as_bytes())
        .await;
    (status, Some(event))
}

/// The F1 attack on `path` (the install `name`'s) gets no signature and
/// queues no event, while a genuine signed validation is still answered.
async fn assert_forged_flow_refused(server: &TestServer, name: &str, path: &str) {
    let (handshake, event) = forged_flow(server, path).await;
    assert_eq!(handshake, StatusCode::UNAUTHORIZED, "{name}");
    assert_eq!(event, None, "{name}: no signature may be handed out");
    assert!(server.queued().await.is_empty(), "{name}: no forged event");
    assert_signed_validation_is_answered(server, path).await;
}

/// A signed validation with a Zoom-shaped token gets Zoom's answer on `path`.
async fn assert_signed_validation_is_answered(server: &TestServer, path: &str) {
    let body =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let (status, text) = server
        .post_unauthenticated(
            &server.url(path),
            &zoom_headers(body, now_secs(), ZOOM_SECRET),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answer,
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": hmac_hex(ZOOM_SECRET, b"qgg8vlvZRS6UYooatFL8Aw")
        })
    );
}

/// The Zoom webhook config as the review found it (see [`REVIEW_HANDSHAKE`]).
fn review_zoom() -> Value {
    let mut webhook: Value = serde_json::from_str(ZOOM).unwrap();
    webhook["handle_verification"] = json!(REVIEW_HANDSHAKE);
    webhook
}

fn zoom_config(webhook: Value) -> Value {
    json!({
        "label": "Zoom",
        "base_url": "https://api.zoom.us/v2",
        "webhook": webhook
    })
}

#[tokio::test]
async fn f1_forged_zoom_flow_is_refused_on_the_account_route() {
    let server = TestServer::start_observing_records().await;
    for (name, webhook) in [
        ("zoom-review", review_zoom()),
        ("zoom-example", serde_json::from_str(ZOOM).unwrap()),
    ] {
        let account = server
            .install_with_account(
                name,
                zoom_config(webhook),
                None,
                "victim",
                json!({"secret_token": ZOOM_SECRET}),
            )
            .await
            .account_id;
        let path = format!("/integrated-account-webhook/{account}");

        assert_forged_flow_refused(&server, name, &path).await;
        // A genuine signed event still passes.
        let event = br#"{"event":"meeting.started","payload":{"object":{"id":"9"}}}"#;
        let (status, text) = server
            .post_unauthenticated(
                &server.url(&path),
                &zoom_headers(event, now_secs(), ZOOM_SECRET),
                event,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {text}");
        let deliveries = server.queued().await;
        assert_eq!(deliveries.len(), 1, "{name}");
        assert_eq!(deliveries[0].event_type, "record:meeting_started");
    }
    // Nothing the server answered carries the secret.
    for seen in server.seen.lock().unwrap().iter() {
        assert!(!seen.contains(ZOOM_SECRET), "{seen}");
    }
}

#[tokio::test]
async fn f1_forged_zoom_flow_is_refused_on_the_install_route() {
    let server = TestServer::start_observing_records().await;
    // One app-level URL: the secret is the install's (the override's client
    // secret, a host variable), and the routed variant sends events to the
    // account whose context holds the Zoom account id.
    let app_level: Value = serde_json::from_str(
        &review_zoom()
            .to_string()
            .replace("secret_token", "client_secret"),
    )
    .unwrap();
    let mut routed = app_level.clone();
    routed["signature_verification"]["config"]["context_lookup_field_name"] =
        json!("zoom_account_id");
    routed["signature_verification"]["config"]["context_lookup_field_value"] =
        json!("body.payload.account_id");
    let override_ =
        json!({"credentials": {"config": {"client": {"id": "zoom-app", "secret": ZOOM_SECRET}}}});
    for (name, webhook) in [("zoom-routed", routed), ("zoom-install", app_level)] {
        let mut config = zoom_config(webhook);
        config["credentials"] = json!({"format": "oauth2", "config": {
            "client": {"id": "{{client_id}}", "secret": "{{client_secret}}"},
            "auth": {"tokenHost": "https://zoom.us", "tokenPath": "/oauth/token"}
        }});
        let install = server
            .install(
                json!({"name": name, "config": config}),
                Some(override_.clone()),
            )
            .await
            .install_id;
        let path = format!("/environment-integration-webhook/{install}");
        assert_forged_flow_refused(&server, name, &path).await;
    }
}

/// An integration config of about 2 MB (1,200 resources with two methods
/// each), with a GitHub-style `webhook`.
fn large_config() -> Value {
    let mut resources = serde_json::Map::new();
    for i in 0..1200 {
        let query: serde_json::Map<String, Value> = (0..14)
            .map(|q| {
                (
                    format!("filter_{q}"),
                    json!(format!("{{{{query.filter_{q}_of_resource_number_{i}}}}}")),
                )
            })
            .collect();
        resources.insert(
            format!("resource_{i}"),
            json!({
                "list": {"method": "get", "path": format!("/api/v1/resource_{i}"), "query": query},
                "get": {"method": "get", "path": format!("/api/v1/resource_{i}/{{{{id}}}}"), "query": query}
            }),
        );
    }
    json!({
        "label": "Large",
        "base_url": "https://api.example.com",
        "resources": resources,
        "webhook": {
            "signature_verification": {
                "format": "hmac",
                "config": {
                    "algorithm": "sha256",
                    "secret": "{{webhook_secret}}",
                    "parts": ["$body"],
                    "compare_with": "sha256=$header.x-hub-signature-256"
                }
            }
        }
    })
}

/// A second server over `server`'s store, whose state the test keeps to read
/// how often it compiled a config; answers that state and the server's base URL.
async fn second_server(server: &TestServer) -> (AppState, String) {
    let state = AppState::new(server.store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = patchbay_server::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, base)
}

#[tokio::test]
async fn f10_bad_signatures_do_not_recompile_a_large_config() {
    let server = TestServer::start_observing_records().await;
    let config = large_config();
    let size = config.to_string().len();
    assert!(size > 1_900_000, "the config is {size} bytes");
    let InstalledAccount {
        install_id: install,
        account_id: account,
    } = server
        .install_with_account(
            "large",
            config,
            None,
            "t",
            json!({"webhook_secret": "large-SECRET"}),
        )
        .await;
    let (state, base) = second_server(&server).await;
    let runtimes = Arc::clone(&state.runtimes);

    let path = format!("/integrated-account-webhook/{account}");
    let body = br#"{"action":"opened"}"#;
    let bad = [("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))];
    let started = Instant::now();
    for _ in 0..50 {
        let (status, text) = server
            .post_unauthenticated(&format!("{base}{path}"), &bad, body)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    }
    let elapsed = started.elapsed();
    eprintln!("50 bad-signature requests with a {size}-byte config: {elapsed:?}");
    assert_eq!(runtimes.compiles(), 1, "compiled once, then reused");

    let good = [(
        "x-hub-signature-256",
        format!("sha256={}", hmac_hex("large-SECRET", body)),
    )];
    let (status, text) = server
        .post_unauthenticated(&format!("{base}{path}"), &good, body)
        .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(runtimes.compiles(), 1);

    // A change to the install is seen on the next request.
    server
        .patch_ok(
            &format!("/environment-integration/{install}"),
            json!({"show_in_catalog": false}),
        )
        .await;
    let (status, _) = server
        .post_unauthenticated(&format!("{base}{path}"), &bad, body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(runtimes.compiles(), 2, "a new revision compiles again");
    let (status, _) = server
        .post_unauthenticated(&format!("{base}{path}"), &bad, body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(runtimes.compiles(), 2);
}

#[tokio::test]
async fn f10_an_invalid_config_is_not_validated_again_per_request() {
    let server = TestServer::start_observing_records().await;
    let install = server
        .install(
            json!({"name": "broken", "config": {
                "label": "Broken", "base_url": "https://api.example.com",
                "webhook": {"handle_verification": "{'body': $sign(body.t, 'SHA-256', 'k', 'hex')}"}
            }}),
            None,
        )
        .await;
    let (state, base) = second_server(&server).await;
    let path = format!("/environment-integration-webhook/{}", install.install_id);
    for _ in 0..5 {
        let (status, text) = server
            .post_unauthenticated(&format!("{base}{path}"), NO_HEADERS, b"{}")
            .await;
        // A signing handshake without `signature_verification` cannot be used.
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{text}");
        assert!(text.contains("signature_verification"), "{text}");
    }
    assert_eq!(state.runtimes.compiles(), 1, "the error is cached too");
}
