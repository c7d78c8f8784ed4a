//! Property tests: no input panics; any one-byte change to body, signature header or
//! timestamp fails verification.

mod common;

use common::{at, signature};
use patchbay_config::webhook::WebhookConfig;
use patchbay_webhook::outbound::{DEFAULT_TOLERANCE, sign_event, verify_event};
use patchbay_webhook::{InboundRequest, Verifier, WebhookHandler};
use proptest::prelude::*;
use serde_json::json;

const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const SLACK_TS: &str = "1531420618";
const SLACK_SIG: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const SLACK_BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

fn slack_verifier() -> Verifier {
    Verifier::from_config(
        &signature("slack"),
        &json!({"signing_secret": SLACK_SECRET}),
    )
    .expect("compiles")
}

fn slack_request(ts: &[u8], sig: &[u8], body: &[u8]) -> InboundRequest {
    InboundRequest::new("POST", "https://h/slack")
        .with_header("x-slack-request-timestamp", String::from_utf8_lossy(ts))
        .with_header("x-slack-signature", String::from_utf8_lossy(sig))
        .with_body(body.to_vec())
}

/// Whether flipping `bytes[index % len]` with `mask` only changes the letter case of a
/// hex digit: hex signatures are decoded case-insensitively, so that is the same
/// signature, not a tampered one.
fn is_hex_case_flip(bytes: &[u8], index: usize, mask: u8) -> bool {
    let b = bytes[index % bytes.len()];
    mask == 0x20 && b.is_ascii_hexdigit() && b.is_ascii_alphabetic()
}

fn flip(bytes: &[u8], index: usize, mask: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = index % out.len();
    out[i] ^= mask;
    out
}

#[test]
fn hex_case_is_not_a_change() {
    // Documents why the properties skip case flips of hex letters.
    let upper = SLACK_SIG.to_ascii_uppercase().replacen("V0=", "v0=", 1);
    let req = slack_request(SLACK_TS.as_bytes(), upper.as_bytes(), SLACK_BODY.as_bytes());
    assert_eq!(slack_verifier().verify(&req, at(1_531_420_618)), Ok(()));
}

#[test]
fn baseline_verifies() {
    let now = at(1_531_420_618);
    assert_eq!(
        slack_verifier().verify(
            &slack_request(
                SLACK_TS.as_bytes(),
                SLACK_SIG.as_bytes(),
                SLACK_BODY.as_bytes()
            ),
            now
        ),
        Ok(())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn one_byte_change_to_body_fails(index in any::<usize>(), mask in 1u8..=255) {
        let body = flip(SLACK_BODY.as_bytes(), index, mask);
        let req = slack_request(SLACK_TS.as_bytes(), SLACK_SIG.as_bytes(), &body);
        prop_assert!(slack_verifier().verify(&req, at(1_531_420_618)).is_err());
    }

    #[test]
    fn one_byte_change_to_signature_header_fails(index in any::<usize>(), mask in 1u8..=255) {
        prop_assume!(!is_hex_case_flip(SLACK_SIG.as_bytes(), index, mask));
        let sig = flip(SLACK_SIG.as_bytes(), index, mask);
        // Non-UTF-8 results are replaced when the header is built, still a change.
        let req = slack_request(SLACK_TS.as_bytes(), &sig, SLACK_BODY.as_bytes());
        prop_assert!(slack_verifier().verify(&req, at(1_531_420_618)).is_err());
    }

    #[test]
    fn one_byte_change_to_timestamp_fails(index in any::<usize>(), mask in 1u8..=255) {
        let ts = flip(SLACK_TS.as_bytes(), index, mask);
        let req = slack_request(&ts, SLACK_SIG.as_bytes(), SLACK_BODY.as_bytes());
        prop_assert!(slack_verifier().verify(&req, at(1_531_420_618)).is_err());
    }

    #[test]
    fn outbound_one_byte_change_fails(index in any::<usize>(), mask in 1u8..=255, body in proptest::collection::vec(any::<u8>(), 1..256)) {
        let now = at(1_700_000_000);
        let header = sign_event(b"secret", &body, now).value();
        prop_assert!(verify_event(b"secret", &header, &body, now, DEFAULT_TOLERANCE).is_ok());
        prop_assert!(verify_event(b"secret", &header, &flip(&body, index, mask), now, DEFAULT_TOLERANCE).is_err());
        if !is_hex_case_flip(header.as_bytes(), index, mask) {
            let tampered = String::from_utf8_lossy(&flip(header.as_bytes(), index, mask)).into_owned();
            prop_assert!(verify_event(b"secret", &tampered, &body, now, DEFAULT_TOLERANCE).is_err());
        }
    }

    #[test]
    fn arbitrary_requests_never_panic(
        method in "[A-Za-z]{0,8}",
        url in ".{0,64}",
        headers in proptest::collection::vec(("[a-zA-Z-]{1,24}", ".{0,80}"), 0..8),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        now in any::<u64>(),
    ) {
        let mut req = InboundRequest::new(method, url).with_body(body);
        for (name, value) in headers {
            req = req.with_header(name, value);
        }
        // Also use the headers the configs read, with arbitrary values.
        let now = at(now % 4_000_000_000);
        for name in ["github", "stripe", "slack", "shopify", "zendesk", "hubspot", "twilio", "standard-webhooks", "svix", "intercom"] {
            let ctx = json!({"webhook_secret": "whsec_AQID", "signing_secret": "s", "client_secret": "s", "auth_token": "s"});
            let verifier = Verifier::from_config(&signature(name), &ctx).expect("compiles");
            let _ = verifier.verify(&req, now);
        }
        let _ = verify_event(b"s", req.header("x-patchbay-signature").unwrap_or(""), req.body(), now, DEFAULT_TOLERANCE);
        let config: WebhookConfig = common::example("meta");
        let handler = WebhookHandler::new(&config, &json!({"app_secret": "s", "verify_token": "t"})).expect("compiles");
        let _ = handler.handle(&req, now);
    }

    #[test]
    fn arbitrary_signature_headers_never_panic(sig in ".{0,200}", ts in ".{0,40}") {
        for name in ["stripe", "svix", "zendesk", "hubspot"] {
            let req = InboundRequest::new("POST", "https://h")
                .with_header("stripe-signature", sig.clone())
                .with_header("webhook-signature", sig.clone())
                .with_header("webhook-id", "id")
                .with_header("webhook-timestamp", ts.clone())
                .with_header("x-zendesk-webhook-signature", sig.clone())
                .with_header("x-zendesk-webhook-signature-timestamp", ts.clone())
                .with_header("x-hubspot-signature-v3", sig.clone())
                .with_header("x-hubspot-request-timestamp", ts.clone());
            let ctx = json!({"webhook_secret": "whsec_AQID", "client_secret": "s"});
            let verifier = Verifier::from_config(&signature(name), &ctx).expect("compiles");
            prop_assert!(verifier.verify(&req, at(0)).is_err());
        }
    }
}
