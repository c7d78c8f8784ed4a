//! Inbound webhooks (`/integrated-account-webhook/{id}`,
//! `/environment-integration-webhook/{id}`) over real HTTP on loopback, with a
//! SQLite store in a temp dir. Provider configs are the catalog's
//! (`examples/webhooks/*.json`); signatures are computed here with SHA-256.

mod support;

use serde_json::{Value, json};

use support::inbound::{
    InstalledAccount, NO_HEADERS, assert_error_text as assert_error, hmac_hex, hmac_sha256,
    now_secs,
};
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

/// A server observing record events (see
/// [`TestServer::start_observing_records`]) with an account of the catalog's
/// provider `name`, as [`catalog_account`] makes it.
async fn start_with_provider(
    name: &str,
    catalog: &str,
    tenant: &str,
    context: Value,
) -> (TestServer, InstalledAccount) {
    let server = TestServer::start_observing_records().await;
    let installed = catalog_account(&server, name, catalog, tenant, context).await;
    (server, installed)
}

/// Installs the catalog's provider `name` (its webhook config `catalog`) and
/// imports an account of it for `tenant` with `context`.
async fn catalog_account(
    server: &TestServer,
    name: &str,
    catalog: &str,
    tenant: &str,
    context: Value,
) -> InstalledAccount {
    let config = config_with_webhook(Some(serde_json::from_str(catalog).unwrap()));
    server
        .install_with_account(name, config, None, tenant, context)
        .await
}

fn config_with_webhook(webhook: Option<Value>) -> Value {
    let mut config = json!({"label": "Provider", "base_url": "https://api.example.com"});
    if let Some(webhook) = webhook {
        config["webhook"] = webhook;
    }
    config
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
    let (server, provider) = start_with_provider(
        "github",
        GITHUB,
        "tenant-1",
        json!({"webhook_secret": GITHUB_SECRET}),
    )
    .await;
    let InstalledAccount {
        install_id: install,
        account_id: account,
    } = provider;
    let path = format!("/integrated-account-webhook/{account}");
    let body = br#"{"action":"opened","issue":{"number":7}}"#;
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, body));
    let headers = [
        ("x-hub-signature-256", signature.as_str()),
        ("x-github-event", "issues"),
        ("x-github-delivery", "d-1"),
    ];

    let (status, text) = server.hook(&path, &headers, body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 1})
    );
    let deliveries = server.queued().await;
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
    let (status, text) = server.hook(&path, &headers, tampered).await;
    assert_eq!(status, 401, "{text}");
    assert_error(&text, 401, "signature mismatch");
    assert!(!text.contains(&hmac_hex(GITHUB_SECRET, tampered)), "{text}");
    assert!(!text.contains(&signature), "{text}");

    // A wrong secret.
    let forged = format!("sha256={}", hmac_hex("not-the-secret", body));
    let (status, text) = server
        .hook(&path, &[("x-hub-signature-256", forged.as_str())], body)
        .await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "signature mismatch");

    // No signature header at all.
    let (status, text) = server
        .hook(&path, &[("x-github-event", "issues")], body)
        .await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "missing header `x-hub-signature-256`");

    assert!(
        server.queued().await.is_empty(),
        "rejected calls queue nothing"
    );
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn slack_handshake_is_answered_and_stale_timestamps_are_401() {
    let (server, provider) = start_with_provider(
        "slack",
        SLACK,
        "tenant-s",
        json!({"signing_secret": SLACK_SECRET}),
    )
    .await;
    let account = provider.account_id;
    let path = format!("/integrated-account-webhook/{account}");

    // The url_verification handshake is answered (unsigned, as Slack sends it).
    let (status, text) = server
        .hook(
            &path,
            NO_HEADERS,
            br#"{"type":"url_verification","challenge":"c-123"}"#,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"challenge": "c-123"})
    );
    assert!(
        server.queued().await.is_empty(),
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
    let (status, text) = server
        .hook(
            &path,
            &[
                ("x-slack-request-timestamp", ts.as_str()),
                ("x-slack-signature", signature.as_str()),
            ],
            body,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let deliveries = server.queued().await;
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
    let (status, text) = server
        .hook(
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
    assert!(server.queued().await.is_empty());
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn stripe_signature_with_several_v1_values() {
    let (server, provider) = start_with_provider(
        "stripe",
        STRIPE,
        "tenant-p",
        json!({"webhook_secret": STRIPE_SECRET}),
    )
    .await;
    let account = provider.account_id;
    let body = br#"{"type":"customer.created","data":{"object":{"id":"cus_1"}}}"#;
    let t = now_secs();
    let mut message = format!("{t}.").into_bytes();
    message.extend_from_slice(body);
    let header = format!(
        "t={t},v1={},v1={}",
        hmac_hex("an-old-secret", &message),
        hmac_hex(STRIPE_SECRET, &message)
    );
    let (status, text) = server
        .hook(
            &format!("/integrated-account-webhook/{account}"),
            &[("stripe-signature", header.as_str())],
            body,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let deliveries = server.queued().await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].event_type, "record:customer_created");
    assert_eq!(deliveries[0].payload["resource_id"], "cus_1");
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn unknown_ids_missing_config_disabled_installs_and_big_bodies() {
    let server = TestServer::start_observing_records().await;
    // Unknown ids are 404, and so is an integration without a `webhook` key:
    // it accepts no webhooks.
    let plain = server
        .install_with_account(
            "plain",
            config_with_webhook(None),
            None,
            "tenant-x",
            json!({}),
        )
        .await;
    for (path, needle) in [
        (
            "/integrated-account-webhook/no-such-account".to_owned(),
            "no-such-account",
        ),
        (
            "/environment-integration-webhook/no-such-install".to_owned(),
            "no-such-install",
        ),
        (
            format!("/integrated-account-webhook/{}", plain.account_id),
            "no `webhook` config",
        ),
        (
            format!("/environment-integration-webhook/{}", plain.install_id),
            "no `webhook` config",
        ),
    ] {
        let (status, text) = server.hook(&path, NO_HEADERS, b"{}").await;
        assert_eq!(status, 404, "{path}: {text}");
        assert_error(&text, 404, needle);
    }

    // A disabled install: 409, as for proxy calls.
    let InstalledAccount {
        install_id: github,
        account_id: account,
    } = catalog_account(
        &server,
        "github",
        GITHUB,
        "tenant-g",
        json!({"webhook_secret": GITHUB_SECRET}),
    )
    .await;
    server
        .patch_ok(
            &format!("/environment-integration/{github}"),
            json!({"is_enabled": false}),
        )
        .await;
    let (status, text) = server
        .hook(
            &format!("/integrated-account-webhook/{account}"),
            NO_HEADERS,
            b"{}",
        )
        .await;
    assert_eq!(status, 409);
    assert_error(&text, 409, "disabled");

    // Over 1 MiB: 413 in Truto's shape, before anything is verified.
    let big = vec![b' '; 1024 * 1024 + 1];
    let (status, text) = server
        .hook(
            &format!("/integrated-account-webhook/{account}"),
            NO_HEADERS,
            &big,
        )
        .await;
    assert_eq!(status, 413);
    assert_error(&text, 413, "larger than");
    assert!(server.queued().await.is_empty());
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
    let server = TestServer::start_observing_records().await;
    let override_ =
        json!({"webhook": {"signature_verification": {"config": {"secret": INSTALL_SECRET}}}});
    let install = server
        .install_with_account(
            "chat",
            config_with_webhook(Some(routed_webhook())),
            Some(override_),
            "tenant-a",
            json!({"team": {"id": "T1", "name": "Alpha"}}),
        )
        .await
        .install_id;
    let b = id_of(
        &server
            .import(
                &install,
                "tenant-b",
                json!({"context": {"team": {"id": "T2", "name": "Beta"}}}),
            )
            .await,
    );
    let path = format!("/environment-integration-webhook/{install}");
    let send = |body: &'static [u8]| {
        let signature = format!("sha256={}", hmac_hex(INSTALL_SECRET, body));
        let server = &server;
        let path = path.clone();
        async move {
            server
                .hook(&path, &[("x-signature", signature.as_str())], body)
                .await
        }
    };

    // Handshake (plain text body).
    let (status, text) = server
        .hook(
            &path,
            NO_HEADERS,
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
    let deliveries = server.queued().await;
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
    assert!(server.queued().await.is_empty());

    // Signed with another key: rejected before any account is looked at.
    let body = br#"{"team_id":"T2","event":{"text":"forged"}}"#;
    let forged = format!("sha256={}", hmac_hex("other", body));
    let (status, text) = server
        .hook(&path, &[("x-signature", forged.as_str())], body)
        .await;
    assert_eq!(status, 401);
    assert_error(&text, 401, "signature mismatch");
    assert!(server.queued().await.is_empty());
    server.assert_no_secret_answered(&ALL_SECRETS);
}

#[tokio::test]
async fn environment_integration_webhook_without_lookup_is_install_level() {
    let server = TestServer::start_observing_records().await;
    let webhook = json!({
        "payload_transform": "body.changes.{ 'event': action, 'resource': 'contacts', 'id': id }"
    });
    let install = server
        .install(
            json!({"name": "crm", "config": config_with_webhook(Some(webhook))}),
            None,
        )
        .await
        .install_id;
    let (status, text) = server
        .hook(
            &format!("/environment-integration-webhook/{install}"),
            NO_HEADERS,
            br#"{"changes":[{"action":"created","id":1},{"action":"deleted","id":2}]}"#,
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"ok": true, "events": 2})
    );
    let mut deliveries = server.queued().await;
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
    let (server, provider) = start_with_provider(
        "meta",
        META,
        "tenant-m",
        json!({"app_secret": "meta-app-secret", "verify_token": "vt-1"}),
    )
    .await;
    let account = provider.account_id;
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
    assert!(server.queued().await.is_empty(), "nothing was queued");
    server.assert_no_secret_answered(&["meta-app-secret", "vt-1"]);
}
