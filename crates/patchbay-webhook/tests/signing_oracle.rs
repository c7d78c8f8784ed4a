//! F1: no handshake is a signing oracle. A handshake that computes a signature answers
//! verified requests only; echo handshakes still answer unsigned requests.

mod common;

use common::{at, example, zoom_signed};
use patchbay_webhook::{
    Handled, HandshakeKind, InboundRequest, VerificationError, WebhookError, WebhookHandler,
};
use serde_json::{Value, json};

const SECRET: &str = "zoom-secret-token";
const TS: u64 = 1_700_000_000;

fn zoom() -> WebhookHandler {
    WebhookHandler::new(&example("zoom"), &json!({"secret_token": SECRET})).expect("compiles")
}

/// The attack of the security review (F1): ask the unauthenticated handshake to sign
/// `v0:<ts>:<forged body>`, then send the forged body with that signature. Returns
/// the outcome of each step.
fn forged_flow(
    handler: &WebhookHandler,
) -> (
    Result<Handled, WebhookError>,
    Option<Result<Handled, WebhookError>>,
) {
    let forged = r#"{"event": "meeting.deleted", "payload": {"object": {"id": "123"}}}"#;
    let validation = json!({
        "event": "endpoint.url_validation",
        "payload": {"plainToken": format!("v0:{TS}:{forged}")}
    });
    let handshake = InboundRequest::new("POST", "https://h/zoom")
        .with_header("content-type", "application/json")
        .with_body(validation.to_string().into_bytes());
    let first = handler.handle(&handshake, at(TS));
    let second = match &first {
        Ok(Handled::Handshake(answer)) => {
            let signature = answer.body["encryptedToken"].as_str().unwrap_or_default();
            let event = InboundRequest::new("POST", "https://h/zoom")
                .with_header("content-type", "application/json")
                .with_header("x-zm-request-timestamp", TS.to_string())
                .with_header("x-zm-signature", format!("v0={signature}"))
                .with_body(forged.as_bytes().to_vec());
            Some(handler.handle(&event, at(TS)))
        }
        _ => None,
    };
    (first, second)
}

#[test]
fn an_unsigned_zoom_url_validation_is_refused_and_no_forged_event_passes() {
    let (handshake, event) = forged_flow(&zoom());
    assert!(
        matches!(
            handshake,
            Err(WebhookError::Verification(
                VerificationError::MissingHeader { .. }
            ))
        ),
        "the unsigned handshake must fail verification, got {handshake:?}"
    );
    assert!(
        event.is_none(),
        "no signature was handed out, so no forged event: {event:?}"
    );
}

#[test]
fn a_zoom_url_validation_with_a_wrong_signature_is_refused() {
    let body = br#"{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}"#;
    let request = zoom_signed(body, "not-the-secret", TS);
    assert!(matches!(
        zoom().handle(&request, at(TS)),
        Err(WebhookError::Verification(
            VerificationError::SignatureMismatch { .. }
        ))
    ));
}

#[test]
fn a_signed_zoom_url_validation_gets_its_answer() {
    // python3: hmac.new(b'zoom-secret-token', b'qgg8vlvZRS6UYooatFL8Aw', hashlib.sha256).hexdigest()
    let body =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let Handled::Handshake(answer) = zoom()
        .handle(&zoom_signed(body, SECRET, TS), at(TS))
        .expect("a verified handshake is answered")
    else {
        panic!("expected a handshake");
    };
    assert_eq!(
        answer.body["encryptedToken"],
        Value::from("d9e0d764a78494688ba3f2d5c0ed4ca311394b4834d959759213424d2df961e3")
    );
    // And a signed event still becomes an event.
    let event = br#"{"event":"meeting.started","payload":{"object":{"id":"1"}}}"#;
    assert!(matches!(
        zoom().handle(&zoom_signed(event, SECRET, TS), at(TS)),
        Ok(Handled::Events(events)) if events.len() == 1
    ));
}

#[test]
fn echo_handshakes_still_answer_unsigned_requests() {
    let meta = WebhookHandler::new(
        &example("meta"),
        &json!({"app_secret": "s", "verify_token": "vt"}),
    )
    .expect("compiles");
    assert_eq!(meta.handshake_kind(), HandshakeKind::Echo);
    let get = InboundRequest::new(
        "GET",
        "https://h/meta?hub.mode=subscribe&hub.challenge=42&hub.verify_token=vt",
    );
    assert!(matches!(
        meta.handle(&get, at(TS)),
        Ok(Handled::Handshake(answer)) if answer.body_bytes() == b"42"
    ));
    // An unsigned request that is not a handshake still fails verification.
    let post = InboundRequest::new("POST", "https://h/meta").with_body(br#"{"entry":[]}"#.to_vec());
    assert!(matches!(
        meta.handle(&post, at(TS)),
        Err(WebhookError::Verification(_))
    ));
}

#[test]
fn a_signing_handshake_without_signature_verification_is_refused() {
    let config = serde_json::from_value(json!({
        "handle_verification": "{'body': {'token': $sign(body.t, 'SHA-256', $context.s, 'hex')}}"
    }))
    .expect("parses");
    let error = WebhookHandler::new(&config, &json!({"s": "secret"})).expect_err("refused");
    assert!(matches!(error, WebhookError::UnverifiedSigningHandshake));
    assert!(
        error.to_string().contains("signature_verification"),
        "{error}"
    );
    // `$digest` and `$eval` can sign too.
    for source in ["$digest($context.s & body.t)", "$eval(body.code)"] {
        assert_eq!(
            HandshakeKind::of(source),
            HandshakeKind::Signing,
            "{source}"
        );
    }
    assert_eq!(
        HandshakeKind::of(
            "body.type = 'url_verification' ? {'body': {'challenge': body.challenge}}"
        ),
        HandshakeKind::Echo
    );
}

#[test]
fn the_zoom_example_signs_only_zoom_shaped_tokens() {
    // Defence in depth: even a verified validation request cannot get the example to
    // sign an event message (`v0:<ts>:<body>` has `:` and braces, a Zoom token has not).
    let forged = json!({
        "event": "endpoint.url_validation",
        "payload": {"plainToken": format!("v0:{TS}:{{\"event\":\"meeting.deleted\"}}")}
    })
    .to_string();
    assert!(matches!(
        zoom().handle(&zoom_signed(forged.as_bytes(), SECRET, TS), at(TS)),
        Ok(Handled::Events(_))
    ));
}
