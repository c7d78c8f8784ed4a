//! `handle_verification` handshakes and `payload_transform`.

mod common;

use common::{at, example, zoom_signed};
use patchbay_webhook::{Handled, InboundRequest, WebhookError, WebhookHandler};
use serde_json::json;

#[test]
fn slack_url_verification_then_events() {
    let handler =
        WebhookHandler::new(&example("slack"), &json!({"signing_secret": "s"})).expect("compiles");
    let req = InboundRequest::new("POST", "https://h/slack")
        .with_header("content-type", "application/json")
        .with_body(br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#.to_vec());
    // Slack signs url_verification, but the answer only echoes the challenge, so an
    // unsigned one is answered too (an echo handshake).
    let response = handler
        .authenticate(&req, at(0))
        .expect("evaluates")
        .expect("is a handshake");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    assert_eq!(response.header("content-type"), Some("application/json"));

    // A normal (unsigned) event is not a handshake and fails verification.
    let event = InboundRequest::new("POST", "https://h/slack")
        .with_header("content-type", "application/json")
        .with_body(
            br#"{"type":"event_callback","team_id":"T1","event":{"type":"message"}}"#.to_vec(),
        );
    assert!(matches!(
        handler.handle(&event, at(0)),
        Err(WebhookError::Verification(_))
    ));
    // payload_transform on the same request, as after verification.
    assert_eq!(
        handler.transform_payload(&event).expect("transforms"),
        vec![json!({"event_type": "message", "team_id": "T1", "raw": {"type": "message"}})]
    );
}

#[test]
fn zoom_endpoint_url_validation() {
    // python3: hmac.new(b'zoom-secret-token', b'qgg8vlvZRS6UYooatFL8Aw', hashlib.sha256).hexdigest()
    // Zoom signs the validation request like any event; the answer is given to
    // verified requests only (tests/signing_oracle.rs covers the unsigned case).
    let ctx = json!({"secret_token": "zoom-secret-token"});
    let handler = WebhookHandler::new(&example("zoom"), &ctx).expect("compiles");
    let body =
        br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event":"endpoint.url_validation"}"#;
    let req = zoom_signed(body, "zoom-secret-token", 1_700_000_000);
    let Handled::Handshake(response) = handler.handle(&req, at(1_700_000_000)).expect("handles")
    else {
        panic!("expected a handshake");
    };
    assert_eq!(
        response.body,
        json!({
            "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
            "encryptedToken": "d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3"
        })
    );
}

#[test]
fn zoom_config_verifies_signed_events() {
    // Zoom signs events like Slack: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>")).
    // python3: hmac.new(b'zoom-secret-token', b'v0:1700000000:{"event":"meeting.started"}', hashlib.sha256).hexdigest()
    let sv = example("zoom").signature_verification.expect("present");
    let ctx = json!({"secret_token": "zoom-secret-token"});
    let req = |body: &[u8]| {
        InboundRequest::new("POST", "https://h/zoom")
            .with_header("x-zm-request-timestamp", "1700000000")
            .with_header(
                "x-zm-signature",
                "v0=786c4446a640d95353b44534c52c31a8be0a5eadf45b4a1715cb39d62fa6acd1",
            )
            .with_body(body.to_vec())
    };
    let now = at(1_700_000_000);
    assert_eq!(
        patchbay_webhook::verify(&sv, &req(br#"{"event":"meeting.started"}"#), &ctx, now),
        Ok(())
    );
    assert!(
        patchbay_webhook::verify(&sv, &req(br#"{"event":"meeting.ended"}"#), &ctx, now).is_err()
    );
}

#[test]
fn microsoft_graph_validation_token() {
    let handler = WebhookHandler::new(&example("microsoft-graph"), &json!({})).expect("compiles");
    let req = InboundRequest::new(
        "POST",
        "https://h/graph?validationToken=Validation%3A%20Testing%20client%20application",
    );
    let Handled::Handshake(response) = handler.handle(&req, at(0)).expect("handles") else {
        panic!("expected a handshake");
    };
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body_bytes(),
        b"Validation: Testing client application"
    );
    assert_eq!(response.header("content-type"), Some("text/plain"));

    let notification = InboundRequest::new("POST", "https://h/graph")
        .with_header("content-type", "application/json")
        .with_body(br#"{"value":[{"changeType":"created","clientState":"cs","resourceData":{"id":"m1"}},{"changeType":"updated","clientState":"cs","resourceData":{"id":"m2"}}]}"#.to_vec());
    let Handled::Events(events) = handler.handle(&notification, at(0)).expect("handles") else {
        panic!("expected events");
    };
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["event_type"], "updated");
    assert_eq!(events[1]["resource_id"], "m2");
}

#[test]
fn meta_hub_challenge() {
    let ctx = json!({"app_secret": "meta-app-secret", "verify_token": "my-verify-token"});
    let handler = WebhookHandler::new(&example("meta"), &ctx).expect("compiles");
    let get = |token: &str| {
        InboundRequest::new(
            "GET",
            format!(
                "https://h/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={token}"
            ),
        )
    };
    let Handled::Handshake(ok) = handler
        .handle(&get("my-verify-token"), at(0))
        .expect("handles")
    else {
        panic!("expected a handshake");
    };
    assert_eq!((ok.status, ok.body_bytes()), (200, b"1158201444".to_vec()));
    let Handled::Handshake(denied) = handler.handle(&get("wrong"), at(0)).expect("handles") else {
        panic!("expected a handshake");
    };
    assert_eq!(denied.status, 403);
}

#[test]
fn seed_handle_verification_is_a_no_op_path() {
    // The official example's `handle_verification` is a bare JSONata path: undefined on
    // every request, so processing continues.
    let config = serde_json::from_value(json!({"handle_verification": "verify_webhook_signature"}))
        .expect("parses");
    let handler = WebhookHandler::new(&config, &json!({})).expect("compiles");
    let req = InboundRequest::new("POST", "https://h").with_body(br#"{"a":1}"#.to_vec());
    assert_eq!(
        handler.handle(&req, at(0)).expect("handles"),
        Handled::Events(vec![json!({"a": 1})])
    );
}

#[test]
fn invalid_handshake_and_event_shapes_are_errors() {
    let config =
        serde_json::from_value(json!({"handle_verification": "'just text'"})).expect("parses");
    let handler = WebhookHandler::new(&config, &json!({})).expect("compiles");
    assert!(matches!(
        handler.handle(&InboundRequest::new("POST", "https://h"), at(0)),
        Err(WebhookError::InvalidHandshake { .. })
    ));
    let config = serde_json::from_value(json!({"payload_transform": "[1, 2]"})).expect("parses");
    let handler = WebhookHandler::new(&config, &json!({})).expect("compiles");
    assert!(matches!(
        handler.handle(&InboundRequest::new("POST", "https://h"), at(0)),
        Err(WebhookError::InvalidEvents { .. })
    ));
    let config = serde_json::from_value(json!({"payload_transform": "body.("})).expect("parses");
    assert!(matches!(
        WebhookHandler::new(&config, &json!({})),
        Err(WebhookError::Expression {
            field: "payload_transform",
            ..
        })
    ));
}
