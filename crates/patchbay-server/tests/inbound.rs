//! Inbound webhooks (`/integrated-account-webhook/{id}`,
//! `/environment-integration-webhook/{id}`) over real HTTP on loopback, with a
//! SQLite store in a temp dir. Provider configs are the catalog's
//! (`examples/webhooks/*.json`); signatures are computed here with SHA-256.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_server::store::OutboxDelivery;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use support::{TestServer, id_of};

const GITHUB_SECRET: &str = "gh-hook-SECRET-1";
const SLACK_SECRET: &str = "slack-signing-SECRET-2";
const STRIPE_SECRET: &str = "whsec_stripe-SECRET-3";
const INSTALL_SECRET: &str = "install-hook-SECRET-4";
const ALL_SECRETS: [&str; 4] = [GITHUB_SECRET, SLACK_SECRET, STRIPE_SECRET, INSTALL_SECRET];

const GITHUB: &str = include_str!("../../../examples/webhooks/github.json");
const SLACK: &str = include_str!("../../../examples/webhooks/slack.json");
const STRIPE: &str = include_str!("../../../examples/webhooks/stripe.json");
const META: &str = include_str!("../../../examples/webhooks/meta.json");

/// HMAC-SHA256 (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(Sha256::digest(key).as_slice());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner.as_slice())
        .finalize()
        .to_vec()
}

fn hmac_hex(key: &str, message: &[u8]) -> String {
    hex::encode(hmac_sha256(key.as_bytes(), message))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A running server with an outbound webhook subscribed to every `record:*`
/// event, so queued events become observable deliveries (no worker runs in
/// these tests).
async fn start() -> TestServer {
    let server = TestServer::start().await;
    server
        .subscribe("http://127.0.0.1:9/hook", &["record:*"])
        .await;
    server
}

/// Creates an integration `name` with `config`, installs it with `override_`;
/// answers the install id.
async fn install(
    server: &TestServer,
    name: &str,
    config: Value,
    override_: Option<Value>,
) -> String {
    server
        .install(json!({"name": name, "config": config}), override_)
        .await
        .install_id
}

/// Imports an account of `install_id` with `context`; answers its id.
async fn import(server: &TestServer, install_id: &str, tenant: &str, context: Value) -> String {
    id_of(
        &server
            .import(install_id, tenant, json!({"context": context}))
            .await,
    )
}

/// POSTs `body` (raw bytes) to `path` without an API token.
async fn hook(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, String) {
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    server.request(request).await
}

/// The record events queued so far (claimed, so each is seen once).
async fn queued(server: &TestServer) -> Vec<OutboxDelivery> {
    server
        .store
        .claim_due(100, Duration::from_secs(60))
        .await
        .unwrap()
}

fn config_with_webhook(webhook: Option<Value>) -> Value {
    let mut config = json!({"label": "Provider", "base_url": "https://api.example.com"});
    if let Some(webhook) = webhook {
        config["webhook"] = webhook;
    }
    config
}

fn catalog(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Asserts Truto's error body with `status` and a message containing `needle`.
fn assert_error(text: &str, status: u16, needle: &str) {
    let body: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(body["statusCode"], status, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "`{needle}` not in {body}");
}

#[test]
fn hmac_matches_rfc_4231_case_1() {
    assert_eq!(
        hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
}

#[tokio::test]
async fn github_signature_queues_a_record_event_and_tampering_is_401() {
    let server = start().await;
    let install = install(
        &server,
        "github",
        config_with_webhook(Some(catalog(GITHUB))),
        None,
    )
    .await;
    let account = import(
        &server,
        &install,
        "tenant-1",
        json!({"webhook_secret": GITHUB_SECRET}),
    )
    .await;
    let path = format!("/integrated-account-webhook/{account}");
    let body = br#"{"action":"opened","issue":{"number":7}}"#;
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, body));
    let headers = [
        ("x-hub-signature-256", signature.as_str()),
        ("x-github-event", "issues"),
        ("x-github-delivery", "d-1"),
    ];

    let (status, text) = hook(&server, &path, &headers, body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 1})
    );
    let deliveries = queued(&server).await;
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(delivery.event_type, "record:issues");
    assert_eq!(delivery.environment_id, server.environment_id);
    assert_eq!(delivery.payload["integrated_account_id"], account.as_str());
    assert_eq!(delivery.payload["tenant_id"], "tenant-1");
    assert_eq!(
        delivery.payload["environment_integration_id"],
        install.as_str()
    );
    assert_eq!(delivery.payload["delivery_id"], "d-1");
    assert_eq!(
        delivery.payload["raw"],
        json!({"action": "opened", "issue": {"number": 7}})
    );

    // One byte changed: the signature no longer matches.
    let tampered = br#"{"action":"opened","issue":{"number":8}}"#;
    let (status, text) = hook(&server, &path, &headers, tampered).await;
    assert_eq!(status, 401, "{text}");
    assert_error(&text, 401, "signature mismatch");
    assert!(!text.contains(&hmac_hex(GITHUB_SECRET, tampered)), "{text}");
    assert!(!text.contains(&signature), "{text}");

    // A wrong secret.
    let forged = format!("sha256={}", hmac_hex("not-the-secret", body));
    let (status, text) = hook(
        &server,
        &path,
        &[("x-hub-signature-256", forged.as_str())],
        body,
    )
    .await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "signature mismatch");

    // No signature header at all.
    let (status, text) = hook(&server, &path, &[("x-github-event", "issues")], body).await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "missing header `x-hub-signature-256`");

    assert!(
        queued(&server).await.is_empty(),
        "rejected calls queue nothing"
    );
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn slack_handshake_is_answered_and_stale_timestamps_are_401() {
    let server = start().await;
    let install = install(
        &server,
        "slack",
        config_with_webhook(Some(catalog(SLACK))),
        None,
    )
    .await;
    let account = import(
        &server,
        &install,
        "tenant-s",
        json!({"signing_secret": SLACK_SECRET}),
    )
    .await;
    let path = format!("/integrated-account-webhook/{account}");

    // The url_verification handshake is answered (unsigned, as Slack sends it).
    let (status, text) = hook(
        &server,
        &path,
        &[],
        br#"{"type":"url_verification","challenge":"c-123"}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"challenge": "c-123"})
    );
    assert!(
        queued(&server).await.is_empty(),
        "a handshake queues nothing"
    );

    let body =
        br#"{"type":"event_callback","team_id":"T1","event":{"type":"message","text":"hi"}}"#;
    let sign = |ts: u64| {
        let mut message = format!("v0:{ts}:").into_bytes();
        message.extend_from_slice(body);
        format!("v0={}", hmac_hex(SLACK_SECRET, &message))
    };
    let ts = now_secs().to_string();
    let signature = sign(now_secs());
    let (status, text) = hook(
        &server,
        &path,
        &[
            ("x-slack-request-timestamp", ts.as_str()),
            ("x-slack-signature", signature.as_str()),
        ],
        body,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let deliveries = queued(&server).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].event_type, "record:message");
    assert_eq!(deliveries[0].payload["team_id"], "T1");
    assert_eq!(
        deliveries[0].payload["integrated_account_id"],
        account.as_str()
    );

    // Authentic but ten minutes old: a replay.
    let old = now_secs() - 600;
    let (old_ts, old_signature) = (old.to_string(), sign(old));
    let (status, text) = hook(
        &server,
        &path,
        &[
            ("x-slack-request-timestamp", old_ts.as_str()),
            ("x-slack-signature", old_signature.as_str()),
        ],
        body,
    )
    .await;
    assert_eq!(status, 401, "{text}");
    assert_error(&text, 401, "stale timestamp");
    assert!(queued(&server).await.is_empty());
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn stripe_signature_with_several_v1_values() {
    let server = start().await;
    let install = install(
        &server,
        "stripe",
        config_with_webhook(Some(catalog(STRIPE))),
        None,
    )
    .await;
    let account = import(
        &server,
        &install,
        "tenant-p",
        json!({"webhook_secret": STRIPE_SECRET}),
    )
    .await;
    let body = br#"{"type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
    let t = now_secs();
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    let header = format!(
        "t={t},v1={},v1={}",
        hmac_hex("an-old-secret", &message),
        hmac_hex(STRIPE_SECRET, &message)
    );
    let (status, text) = hook(
        &server,
        &format!("/integrated-account-webhook/{account}"),
        &[("stripe-signature", header.as_str())],
        body,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let deliveries = queued(&server).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].event_type, "record:customer_created");
    assert_eq!(deliveries[0].payload["resource_id"], "cus_1");
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn unknown_ids_missing_config_disabled_installs_and_big_bodies() {
    let server = start().await;
    let (status, text) = hook(
        &server,
        "/integrated-account-webhook/no-such-account",
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 404);
    assert_error(&text, 404, "no-such-account");
    let (status, text) = hook(
        &server,
        "/environment-integration-webhook/no-such-install",
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 404);
    assert_error(&text, 404, "no-such-install");

    // An integration without a `webhook` key accepts no webhooks.
    let plain = install(&server, "plain", config_with_webhook(None), None).await;
    let account = import(&server, &plain, "tenant-x", json!({})).await;
    let (status, text) = hook(
        &server,
        &format!("/integrated-account-webhook/{account}"),
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 404);
    assert_error(&text, 404, "no `webhook` config");
    let (status, text) = hook(
        &server,
        &format!("/environment-integration-webhook/{plain}"),
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 404);
    assert_error(&text, 404, "no `webhook` config");

    // A disabled install: 409, as for proxy calls.
    let github = install(
        &server,
        "github",
        config_with_webhook(Some(catalog(GITHUB))),
        None,
    )
    .await;
    let account = import(
        &server,
        &github,
        "tenant-g",
        json!({"webhook_secret": GITHUB_SECRET}),
    )
    .await;
    let (status, body) = server
        .send(
            Method::PATCH,
            &format!("/environment-integration/{github}"),
            Some(json!({"is_enabled": false})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, text) = hook(
        &server,
        &format!("/integrated-account-webhook/{account}"),
        &[],
        b"{}",
    )
    .await;
    assert_eq!(status, 409);
    assert_error(&text, 409, "disabled");

    // Over 1 MiB: 413 in Truto's shape, before anything is verified.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, text) = hook(
        &server,
        &format!("/integrated-account-webhook/{account}"),
        &[],
        &big,
    )
    .await;
    assert_eq!(status, 413);
    assert_error(&text, 413, "larger than");
    assert!(queued(&server).await.is_empty());
    server.assert_no_secret_answered(&ALL_SECRETS);
}

/// A Slack-like install-level webhook: one signing secret for the install
/// (literal, in the install's override), events routed by `team_id`.
fn routed_webhook() -> Value {
    json!({
        "signature_verification": {
            "format": "hmac",
            "config": {
                "algorithm": "sha256",
                "secret": "{{signing_secret}}",
                "parts": ["$body"],
                "compare_with": "sha256=$header.x-signature",
                "context_lookup_field_name": "team.id",
                "context_lookup_field_value": "body.team_id"
            }
        },
        "handle_verification": "body.type = 'url_verification' ? { 'statusCode': 200, 'body': body.challenge }",
        "payload_transform": "{ 'event': 'created', 'resource': 'messages', 'team_name': $context.team.name, 'text': body.event.text }"
    })
}

#[tokio::test]
async fn environment_integration_webhook_routes_by_context_lookup() {
    let server = start().await;
    let override_ =
        json!({"webhook": {"signature_verification": {"config": {"secret": INSTALL_SECRET}}}});
    let install = install(
        &server,
        "chat",
        config_with_webhook(Some(routed_webhook())),
        Some(override_),
    )
    .await;
    let _a = import(
        &server,
        &install,
        "tenant-a",
        json!({"team": {"id": "T1", "name": "Alpha"}}),
    )
    .await;
    let b = import(
        &server,
        &install,
        "tenant-b",
        json!({"team": {"id": "T2", "name": "Beta"}}),
    )
    .await;
    let path = format!("/environment-integration-webhook/{install}");
    let send = |body: &'static [u8]| {
        let signature = format!("sha256={}", hmac_hex(INSTALL_SECRET, body));
        let server = &server;
        let path = path.clone();
        async move { hook(server, &path, &[("x-signature", signature.as_str())], body).await }
    };

    // Handshake (plain text body).
    let (status, text) = hook(
        &server,
        &path,
        &[],
        br#"{"type":"url_verification","challenge":"ch-9"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(text, "ch-9");

    let (status, text) = send(br#"{"team_id":"T2","event":{"text":"hello"}}"#).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 1})
    );
    let deliveries = queued(&server).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].event_type, "record:created");
    assert_eq!(
        deliveries[0].payload,
        json!({
            "event": "created",
            "resource": "messages",
            "team_name": "Beta",
            "text": "hello",
            "environment_integration_id": install,
            "integrated_account_id": b,
            "tenant_id": "tenant-b"
        })
    );

    // No account with that team: accepted, nothing queued.
    let (status, text) = send(br#"{"team_id":"T9","event":{"text":"x"}}"#).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 0})
    );
    assert!(queued(&server).await.is_empty());

    // Signed with another key: rejected before any account is looked at.
    let body = br#"{"team_id":"T2","event":{"text":"forged"}}"#;
    let forged = format!("sha256={}", hmac_hex("other", body));
    let (status, text) = hook(&server, &path, &[("x-signature", forged.as_str())], body).await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "signature mismatch");
    assert!(queued(&server).await.is_empty());
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn environment_integration_webhook_without_lookup_is_install_level() {
    let server = start().await;
    let webhook = json!({
        "payload_transform": "body.changes.{ 'event': action, 'resource': 'contacts', 'id': id }"
    });
    let install = install(&server, "crm", config_with_webhook(Some(webhook)), None).await;
    let (status, text) = hook(
        &server,
        &format!("/environment-integration-webhook/{install}"),
        &[],
        br#"{"changes":[{"action":"created","id":1},{"action":"deleted","id":2}]}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 2})
    );
    let mut deliveries = queued(&server).await;
    deliveries.sort_by_key(|d| d.payload["id"].as_i64());
    let types: Vec<&str> = deliveries.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(types, ["record:created", "record:deleted"]);
    assert_eq!(
        deliveries[0].payload,
        json!({"event": "created", "resource": "contacts", "id": 1, "environment_integration_id": install})
    );
}

#[tokio::test]
async fn meta_get_handshake_echoes_the_challenge_for_the_right_verify_token() {
    let server = start().await;
    let install = install(
        &server,
        "meta",
        config_with_webhook(Some(catalog(META))),
        None,
    )
    .await;
    let account = import(
        &server,
        &install,
        "tenant-m",
        json!({"app_secret": "meta-app-secret", "verify_token": "vt-1"}),
    )
    .await;
    let get = |query: &'static str| {
        let url = server.url(&format!("/integrated-account-webhook/{account}?{query}"));
        async { server.request(server.client.get(url)).await }
    };
    let (status, text) =
        get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=vt-1").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text, "1158201444", "the challenge as plain text");
    let (status, text) =
        get("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong").await;
    assert_eq!(status, 403, "{text}");
    assert!(!text.contains("1158201444"), "{text}");
    // A GET that is not a handshake must pass signature verification, and cannot.
    let (status, text) = get("hello=1").await;
    assert_error(&text, 401, "verification failed");
    assert_eq!(status, 401);
    assert!(queued(&server).await.is_empty(), "nothing was queued");
    server.assert_no_secret_answered(&["meta-app-secret", "vt-1"]);
}
