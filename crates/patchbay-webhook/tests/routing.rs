//! `WebhookHandler::route`: install-level webhooks routed to an account by
//! `context_lookup_field_name` / `context_lookup_field_value`.

mod common;

use common::at;
use patchbay_config::webhook::WebhookConfig;
use patchbay_webhook::{
    CompiledWebhook, InboundRequest, Routed, VerificationError, WebhookError, WebhookHandler,
};
use serde_json::{Map, Value, json};

/// Basic auth `hook:<password>`, routed by `team.id` = `body.team_id`.
fn routed_config() -> WebhookConfig {
    serde_json::from_value(json!({
        "signature_verification": {"format": "basic", "config": {
            "username": "hook", "password": "{{hook_password}}",
            "context_lookup_field_name": "team.id",
            "context_lookup_field_value": "body.team_id"}},
        "handle_verification": "body.type = 'url_verification' ? {'statusCode': 200, 'body': body.challenge}",
        "payload_transform": "{'event': 'created', 'team': $context.team.name, 'host': $context.app}"
    }))
    .expect("valid config")
}

fn handler() -> WebhookHandler {
    WebhookHandler::new(
        &routed_config(),
        &json!({"hook_password": "pw", "app": "ours"}),
    )
    .expect("compiles")
}

/// A request with `body`, signed as `hook:pw` unless `authorization` says otherwise.
fn request(body: Value, authorization: &str) -> InboundRequest {
    InboundRequest::new("POST", "https://hooks.example.com/install")
        .with_header("authorization", authorization)
        .with_header("content-type", "application/json")
        .with_body(body.to_string().into_bytes())
}

const SIGNED: &str = "Basic aG9vazpwdw=="; // hook:pw

/// The routed config with `context_lookup_field_value` set to `source`.
fn with_lookup_value(source: Option<&str>) -> WebhookConfig {
    let mut config = routed_config();
    if let Some(verification) = config.signature_verification.as_mut()
        && let Some(fields) = verification.config.as_mut()
    {
        fields.context_lookup_field_value = source.map(str::to_owned);
    }
    config
}

/// Whether `error` is `context_lookup_field_value`'s expression error.
fn is_lookup_expression_error(error: &WebhookError) -> bool {
    matches!(
        error,
        WebhookError::Expression {
            field: "context_lookup_field_value",
            ..
        }
    )
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[test]
fn a_verified_request_needs_the_account_its_lookup_value_names() {
    let routed = handler()
        .route(&request(json!({"team_id": 42}), SIGNED), at(0))
        .expect("routes");
    let Routed::NeedsAccount(lookup) = routed else {
        panic!("expected NeedsAccount, got {routed:?}");
    };
    assert_eq!(lookup.field(), "team.id");
    assert_eq!(lookup.value(), &json!(42));
    // Strings and numbers compare by their text; other accounts do not match.
    assert!(lookup.matches(&map(json!({"team": {"id": "42"}}))));
    assert!(lookup.matches(&map(json!({"team": {"id": 42}}))));
    assert!(!lookup.matches(&map(json!({"team": {"id": 7}}))));
    assert!(!lookup.matches(&map(json!({}))));
    // Debug never shows the request or the context.
    let debug = format!("{lookup:?}");
    assert!(!debug.contains("pw") && !debug.contains("ours"), "{debug}");
}

#[test]
fn the_routed_events_see_the_host_variables_under_the_account_context() {
    let Routed::NeedsAccount(lookup) = handler()
        .route(&request(json!({"team_id": "T1"}), SIGNED), at(0))
        .expect("routes")
    else {
        panic!("expected NeedsAccount");
    };
    let account = map(json!({"team": {"id": "T1", "name": "Blue"}}));
    assert_eq!(
        lookup.transform_for(&account).expect("transforms"),
        vec![json!({"event": "created", "team": "Blue", "host": "ours"})]
    );
    // The account's context wins over a host variable of the same name.
    let shadowing = map(json!({"team": {"name": "Red"}, "app": "theirs"}));
    assert_eq!(
        lookup.transform_for(&shadowing).expect("transforms"),
        vec![json!({"event": "created", "team": "Red", "host": "theirs"})]
    );
}

#[test]
fn a_request_without_a_lookup_value_belongs_to_no_account() {
    for body in [json!({"other": 1}), json!({"team_id": null})] {
        let routed = handler()
            .route(&request(body, SIGNED), at(0))
            .expect("routes");
        assert!(matches!(routed, Routed::NoLookupValue), "{routed:?}");
    }
}

#[test]
fn a_handshake_is_answered_before_any_lookup() {
    let routed = handler()
        .route(
            &request(
                json!({"type": "url_verification", "challenge": "c-1"}),
                "Basic bad",
            ),
            at(0),
        )
        .expect("routes");
    let Routed::Handshake(response) = routed else {
        panic!("expected a handshake, got {routed:?}");
    };
    assert_eq!(response.status, 200);
    assert_eq!(response.body_bytes(), b"c-1");
}

#[test]
fn a_failed_verification_is_an_error_and_names_no_secret() {
    let wrong = "Basic aG9vazpubw=="; // hook:no
    let error = handler()
        .route(&request(json!({"team_id": 42}), wrong), at(0))
        .expect_err("refused");
    assert!(
        matches!(
            error,
            WebhookError::Verification(VerificationError::CredentialsMismatch { .. })
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains("pw"));
}

#[test]
fn without_lookup_fields_the_events_belong_to_the_install() {
    let compiled = CompiledWebhook::new(&with_lookup_value(None)).expect("compiles");
    assert!(!compiled.routes_to_accounts());
    let handler = compiled
        .handler(&json!({"hook_password": "pw", "app": "ours", "team": {"name": "Host"}}))
        .expect("builds");
    let routed = handler
        .route(&request(json!({"team_id": 42}), SIGNED), at(0))
        .expect("routes");
    let Routed::Events(events) = routed else {
        panic!("expected install-level events, got {routed:?}");
    };
    assert_eq!(
        events,
        vec![json!({"event": "created", "team": "Host", "host": "ours"})]
    );
}

#[test]
fn the_lookup_expression_is_compiled_with_the_config() {
    let error =
        CompiledWebhook::new(&with_lookup_value(Some("body.("))).expect_err("does not compile");
    assert!(is_lookup_expression_error(&error), "{error:?}");
    assert!(
        CompiledWebhook::new(&routed_config())
            .expect("compiles")
            .routes_to_accounts()
    );
}

#[test]
fn a_failing_lookup_expression_is_an_expression_error() {
    let config = with_lookup_value(Some("$error('no team')"));
    let handler = WebhookHandler::new(&config, &json!({"hook_password": "pw"})).expect("compiles");
    let error = handler
        .route(&request(json!({"team_id": 42}), SIGNED), at(0))
        .expect_err("fails");
    assert!(is_lookup_expression_error(&error), "{error:?}");
}
