//! Inbound webhooks through the facade: `Patchbay::install_webhook` (routed to an
//! account by `context_lookup_field_*`) and `Patchbay::account_webhook`.

use std::time::SystemTime;

use patchbay::config::{IntegratedAccount, IntegrationConfig};
use patchbay::webhook::{Handled, InboundRequest, Routed, VerificationError, WebhookError};
use patchbay::{Error, ErrorKind, Patchbay};
use serde_json::{Map, Value, json};

const SIGNED: &str = "Basic aG9vazpwdw=="; // hook:pw
const WRONG: &str = "Basic aG9vazpubw=="; // hook:no

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// A config whose webhook checks `hook:{{password}}` and turns the body into one
/// event; routed by `team.id` = `body.team_id` when `routed`.
fn config(routed: bool) -> IntegrationConfig {
    let mut verification = json!({"username": "hook", "password": "{{password}}"});
    if routed {
        verification["context_lookup_field_name"] = json!("team.id");
        verification["context_lookup_field_value"] = json!("body.team_id");
    }
    serde_json::from_value(json!({
        "label": "Hooks",
        "base_url": "https://api.example.com",
        "webhook": {
            "signature_verification": {"format": "basic", "config": verification},
            "handle_verification": "body.type = 'url_verification' ? {'statusCode': 200, 'body': body.challenge}",
            "payload_transform": "{'event': body.type, 'team': $context.team.name, 'app': $context.app}"
        }
    }))
    .expect("a config")
}

/// A facade with `config` installed as `hooks`, host variables `password` and `app`.
fn patchbay(config: IntegrationConfig) -> Patchbay {
    let patchbay = Patchbay::builder().build();
    patchbay
        .install(
            "hooks",
            config,
            map(json!({"password": "pw", "app": "ours"})),
        )
        .expect("installs");
    patchbay
}

fn request(body: Value, authorization: &str) -> InboundRequest {
    InboundRequest::new("POST", "https://hooks.example.com/hooks")
        .with_header("authorization", authorization)
        .with_header("content-type", "application/json")
        .with_body(body.to_string().into_bytes())
}

fn account(context: Value) -> IntegratedAccount {
    serde_json::from_value(json!({
        "id": "acct-1", "tenant_id": "t1", "environment_integration_id": "hooks",
        "authentication_method": "api_key", "status": "active", "context": context,
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"
    }))
    .expect("an account")
}

/// `body` sent to the install-level URL of `patchbay`'s `hooks` with `authorization`.
fn install_webhook(patchbay: &Patchbay, body: Value, authorization: &str) -> Result<Routed, Error> {
    patchbay.install_webhook("hooks", &request(body, authorization), SystemTime::now())
}

#[test]
fn an_install_webhook_is_routed_to_the_account_its_lookup_value_names() {
    let routed = install_webhook(
        &patchbay(config(true)),
        json!({"type": "created", "team_id": 7}),
        SIGNED,
    )
    .expect("routes");
    let Routed::NeedsAccount(lookup) = routed else {
        panic!("expected an account lookup, got {routed:?}");
    };
    assert_eq!((lookup.field(), lookup.value()), ("team.id", &json!(7)));
    let blue = map(json!({"team": {"id": "7", "name": "Blue"}}));
    assert!(lookup.matches(&blue));
    assert!(!lookup.matches(&map(json!({"team": {"id": 8}}))));
    assert_eq!(
        lookup.transform_for(&blue).expect("transforms"),
        vec![json!({"event": "created", "team": "Blue", "app": "ours"})]
    );
}

#[test]
fn an_install_webhook_without_a_lookup_value_needs_no_account() {
    let routed = install_webhook(&patchbay(config(true)), json!({"type": "created"}), SIGNED)
        .expect("routes");
    assert!(matches!(routed, Routed::NoLookupValue), "{routed:?}");
}

#[test]
fn an_install_webhook_without_lookup_fields_is_the_installs() {
    let routed = install_webhook(
        &patchbay(config(false)),
        json!({"type": "created", "team_id": 7}),
        SIGNED,
    )
    .expect("routes");
    let Routed::Events(events) = routed else {
        panic!("expected install-level events, got {routed:?}");
    };
    assert_eq!(events, vec![json!({"event": "created", "app": "ours"})]);
}

#[test]
fn a_handshake_is_answered_even_unsigned() {
    let handshake = json!({"type": "url_verification", "challenge": "c-1"});
    let routed = install_webhook(&patchbay(config(true)), handshake, WRONG).expect("answers");
    let Routed::Handshake(response) = routed else {
        panic!("expected a handshake, got {routed:?}");
    };
    assert_eq!(
        (response.status, response.body_bytes()),
        (200, b"c-1".to_vec())
    );
}

#[test]
fn a_failed_verification_is_a_caller_error() {
    let error = install_webhook(
        &patchbay(config(true)),
        json!({"type": "created", "team_id": 7}),
        WRONG,
    )
    .expect_err("refused");
    assert!(
        matches!(
            error,
            Error::Webhook(WebhookError::Verification(
                VerificationError::CredentialsMismatch { .. }
            ))
        ),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Caller);
    assert!(!error.to_string().contains("pw"));
}

#[test]
fn an_account_webhook_uses_the_accounts_context_over_the_host_variables() {
    let patchbay = patchbay(config(true));
    // The account's own password replaces the host's.
    let acct = account(json!({"password": "mine", "team": {"name": "Blue"}}));
    let mine = "Basic aG9vazptaW5l"; // hook:mine
    let outcome = patchbay
        .account_webhook(
            &acct,
            &request(json!({"type": "updated"}), mine),
            SystemTime::now(),
        )
        .expect("handles");
    assert_eq!(
        outcome,
        Handled::Events(vec![
            json!({"event": "updated", "team": "Blue", "app": "ours"})
        ])
    );
    let error = patchbay
        .account_webhook(
            &acct,
            &request(json!({"type": "updated"}), SIGNED),
            SystemTime::now(),
        )
        .expect_err("the host's password is not the account's");
    assert_eq!(error.kind(), ErrorKind::Caller);
}

#[test]
fn installs_without_a_usable_webhook_config_refuse_webhooks() {
    let patchbay = Patchbay::builder().build();
    let plain: IntegrationConfig = serde_json::from_value(json!({
        "label": "Plain", "base_url": "https://api.example.com"
    }))
    .expect("a config");
    patchbay
        .install("plain", plain, Map::new())
        .expect("installs");
    let body = request(json!({}), SIGNED);
    let error = patchbay
        .install_webhook("plain", &body, SystemTime::now())
        .expect_err("no webhook");
    assert!(matches!(error, Error::NoWebhook(_)), "{error:?}");
    assert!(error.is_not_found());

    // A signing handshake without verification does not compile; the install
    // still succeeds and every webhook gets the compile error.
    let signing: IntegrationConfig = serde_json::from_value(json!({
        "label": "Signing", "base_url": "https://api.example.com",
        "webhook": {"handle_verification": "{'body': $sign(body.t, 'SHA-256', 'k', 'hex')}"}
    }))
    .expect("a config");
    patchbay
        .install("signing", signing, Map::new())
        .expect("installs");
    let error = patchbay
        .install_webhook("signing", &body, SystemTime::now())
        .expect_err("cannot be used");
    assert!(matches!(error, Error::InvalidWebhook { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(
        error.to_string().contains("signature_verification"),
        "{error}"
    );

    let error = patchbay
        .install_webhook("nope", &body, SystemTime::now())
        .expect_err("unknown");
    assert!(matches!(error, Error::UnknownIntegration(_)), "{error:?}");
}
