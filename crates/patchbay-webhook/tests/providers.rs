//! Each provider's catalog config verifies a real signature and rejects a tampered one.
//!
//! Vectors marked "published" come from the provider's documentation; the others were
//! computed once with python3's `hmac` module from the provider's documented algorithm
//! (the command is quoted in each test) and pasted here.

mod common;

use common::{at, signature};
use patchbay_webhook::{Check, InboundRequest, VerificationError, verify};
use serde_json::json;

fn check_of(result: Result<(), VerificationError>) -> Check {
    result.expect_err("must be rejected").check()
}

#[test]
fn github_published_vector() {
    // Published in GitHub's "Validating webhook deliveries" docs.
    let config = signature("github");
    let ctx = json!({"webhook_secret": "It's a Secret to Everybody"});
    let req = |sig: &str, body: &[u8]| {
        InboundRequest::new("POST", "https://hooks.example.com/github")
            .with_header("X-Hub-Signature-256", sig)
            .with_body(body.to_vec())
    };
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    assert_eq!(
        verify(&config, &req(good, b"Hello, World!"), &ctx, at(0)),
        Ok(())
    );
    assert_eq!(
        check_of(verify(&config, &req(good, b"Hello, World?"), &ctx, at(0))),
        Check::Signature
    );
    let flipped = good.replace("757107", "757108");
    assert_eq!(
        check_of(verify(
            &config,
            &req(&flipped, b"Hello, World!"),
            &ctx,
            at(0)
        )),
        Check::Signature
    );
    let wrong_ctx = json!({"webhook_secret": "another secret"});
    assert_eq!(
        check_of(verify(
            &config,
            &req(good, b"Hello, World!"),
            &wrong_ctx,
            at(0)
        )),
        Check::Signature
    );
}

#[test]
fn stripe_multi_signature_and_tolerance() {
    // python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_test_secret',b'1700000000.'+BODY,hashlib.sha256).hexdigest())"
    let config = signature("stripe");
    let ctx = json!({"webhook_secret": "whsec_test_secret"});
    let body = br#"{"id":"evt_test_webhook","object":"event","type":"payment_intent.succeeded"}"#;
    let sig = "130dc37d5a27b1b232a61e4f2ff00ed245f498112c11e8b747aff3d0fb754056";
    let req = |header: String| {
        InboundRequest::new("POST", "https://hooks.example.com/stripe")
            .with_header("Stripe-Signature", header)
            .with_body(body.to_vec())
    };
    // A rolled secret: Stripe sends one v1 per active secret, plus a legacy v0.
    let header = format!("t=1700000000,v1={},v1={sig},v0=deadbeef", "00".repeat(32));
    assert_eq!(
        verify(&config, &req(header.clone()), &ctx, at(1_700_000_100)),
        Ok(())
    );
    // Tampered timestamp: the signature covers it.
    let shifted = header.replace("t=1700000000", "t=1700000001");
    assert_eq!(
        check_of(verify(&config, &req(shifted), &ctx, at(1_700_000_100))),
        Check::Signature
    );
    // Replay after the 300 s tolerance.
    assert_eq!(
        verify(&config, &req(header.clone()), &ctx, at(1_700_000_301)),
        Err(VerificationError::StaleTimestamp {
            age_seconds: 301,
            tolerance_seconds: 300
        })
    );
    // No v1 at all.
    assert_eq!(
        check_of(verify(
            &config,
            &req("t=1700000000,v0=ab".into()),
            &ctx,
            at(1_700_000_000)
        )),
        Check::SignatureFormat
    );
}

#[test]
fn slack_published_vector() {
    // Published in Slack's "Verifying requests from Slack" docs.
    let config = signature("slack");
    let ctx = json!({"signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"});
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let req = |ts: &str, body: &str| {
        InboundRequest::new("POST", "https://hooks.example.com/slack")
            .with_header("X-Slack-Request-Timestamp", ts)
            .with_header(
                "X-Slack-Signature",
                "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
            )
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_body(body.as_bytes().to_vec())
    };
    let now = at(1_531_420_618 + 10);
    assert_eq!(verify(&config, &req("1531420618", body), &ctx, now), Ok(()));
    assert_eq!(
        check_of(verify(&config, &req("1531420619", body), &ctx, now)),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("1531420618", &body.replace("foobar", "foobaz")),
            &ctx,
            now
        )),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("1531420618", body),
            &ctx,
            at(1_531_420_618 + 301)
        )),
        Check::TimestampFreshness
    );
}

#[test]
fn shopify_base64_body_hmac() {
    // python3: base64.b64encode(hmac.new(b'shpss_test_secret', BODY, hashlib.sha256).digest())
    let config = signature("shopify");
    let ctx = json!({"webhook_secret": "shpss_test_secret"});
    let body = br#"{"id":820982911946154508,"email":"jon@example.com","topic":"orders/create"}"#;
    let req = |body: &[u8]| {
        InboundRequest::new("POST", "https://hooks.example.com/shopify")
            .with_header(
                "X-Shopify-Hmac-Sha256",
                "sTt9RaOhi2L8h63HdzGr3K+oErwk988IFB3KhRdvUIU=",
            )
            .with_body(body.to_vec())
    };
    assert_eq!(verify(&config, &req(body), &ctx, at(0)), Ok(()));
    let mut tampered = body.to_vec();
    tampered[10] ^= 1;
    assert_eq!(
        check_of(verify(&config, &req(&tampered), &ctx, at(0))),
        Check::Signature
    );
}

#[test]
fn zendesk_seed_format_with_timestamp_header() {
    // Zendesk documents this fixed secret for test deliveries of unsaved webhooks.
    // python3: base64.b64encode(hmac.new(SECRET, b'2021-06-08T16:25:53Z'+BODY, hashlib.sha256).digest())
    let config = signature("zendesk");
    let ctx = json!({"webhook_secret": "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3RpbmdfcHVycG9zZXNfb25seQ=="});
    let body = br#"{"type":"zen:event-type:ticket.created","detail":{"id":"35436"}}"#;
    let req = |ts: &str| {
        InboundRequest::new("POST", "https://hooks.example.com/zendesk")
            .with_header(
                "X-Zendesk-Webhook-Signature",
                "AQ7ZTgzxZ3vQpIqSL9YL2XB9ULJeBBAQOT+Q9NLQI9M=",
            )
            .with_header("X-Zendesk-Webhook-Signature-Timestamp", ts)
            .with_body(body.to_vec())
    };
    let now = at(1_623_169_553 + 60); // 2021-06-08T16:26:53Z
    assert_eq!(
        verify(&config, &req("2021-06-08T16:25:53Z"), &ctx, now),
        Ok(())
    );
    assert_eq!(
        check_of(verify(&config, &req("2021-06-08T16:25:54Z"), &ctx, now)),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(&config, &req("yesterday"), &ctx, now)),
        Check::TimestampFormat
    );
}

#[test]
fn hubspot_v3_method_url_body_timestamp() {
    // python3: base64(hmac(b'hubspot-client-secret', 'POST'+URL+BODY+'1700000000000', sha256))
    let config = signature("hubspot");
    let ctx = json!({"client_secret": "hubspot-client-secret"});
    let body = br#"[{"eventId":1,"subscriptionType":"contact.creation","objectId":123}]"#;
    let req = |method: &str, url: &str| {
        InboundRequest::new(method, url)
            .with_header(
                "X-HubSpot-Signature-v3",
                "P8ffhW42IBARkRwr37349YbuVKB4rQT5/GoXN72xp2w=",
            )
            .with_header("X-HubSpot-Request-Timestamp", "1700000000000")
            .with_body(body.to_vec())
    };
    let url = "https://hooks.example.com/webhooks/hubspot";
    let now = at(1_700_000_030);
    assert_eq!(verify(&config, &req("POST", url), &ctx, now), Ok(()));
    assert_eq!(
        check_of(verify(&config, &req("PUT", url), &ctx, now)),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("POST", "https://hooks.example.com/webhooks/hubspot2"),
            &ctx,
            now
        )),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(&config, &req("POST", url), &ctx, at(1_700_000_301))),
        Check::TimestampFreshness
    );
}

#[test]
fn twilio_published_vector() {
    // Published in Twilio's request-validation docs (twilio-php): auth token 12345.
    let config = signature("twilio");
    let ctx = json!({"auth_token": "12345"});
    let form = "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212";
    let req = |url: &str, form: &str| {
        InboundRequest::new("POST", url)
            .with_header("X-Twilio-Signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
            .with_header("Content-Type", "application/x-www-form-urlencoded")
            .with_body(form.as_bytes().to_vec())
    };
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(verify(&config, &req(url, form), &ctx, at(0)), Ok(()));
    // Parameter order in the body does not matter: Twilio signs them sorted.
    let reordered = "To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE&From=%2B14158675309&Caller=%2B14158675309";
    assert_eq!(verify(&config, &req(url, reordered), &ctx, at(0)), Ok(()));
    assert_eq!(
        check_of(verify(
            &config,
            &req(url, &form.replace("1234&", "1235&")),
            &ctx,
            at(0)
        )),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("https://mycompany.com/myapp.php?foo=1&bar=3", form),
            &ctx,
            at(0)
        )),
        Check::Signature
    );
}

fn svix_request(signature: &str, timestamp: &str) -> InboundRequest {
    InboundRequest::new("POST", "https://hooks.example.com/svix")
        .with_header("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
        .with_header("webhook-timestamp", timestamp)
        .with_header("webhook-signature", signature)
        .with_body(br#"{"test": 2432232314}"#.to_vec())
}

#[test]
fn standard_webhooks_published_vector_generic_and_shorthand() {
    // Published in the Standard Webhooks spec / Svix docs.
    let ctx = json!({"webhook_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
    let good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let now = at(1_614_265_330 + 5);
    for name in ["standard-webhooks", "svix"] {
        let config = signature(name);
        assert_eq!(
            verify(&config, &svix_request(good, "1614265330"), &ctx, now),
            Ok(()),
            "{name}"
        );
        // Several space-separated signatures; one valid is enough.
        let several = format!("v1,AAAA v2,zzz {good}");
        assert_eq!(
            verify(&config, &svix_request(&several, "1614265330"), &ctx, now),
            Ok(()),
            "{name}"
        );
        assert_eq!(
            check_of(verify(
                &config,
                &svix_request(good, "1614265331"),
                &ctx,
                now
            )),
            Check::Signature
        );
        assert_eq!(
            check_of(verify(
                &config,
                &svix_request(good, "1614265330"),
                &ctx,
                at(1_614_265_330 + 400)
            )),
            Check::TimestampFreshness
        );
    }
    // Svix's legacy `svix-*` header names work with the shorthand format.
    let legacy = InboundRequest::new("POST", "https://hooks.example.com/svix")
        .with_header("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
        .with_header("svix-timestamp", "1614265330")
        .with_header("svix-signature", good)
        .with_body(br#"{"test": 2432232314}"#.to_vec());
    assert_eq!(verify(&signature("svix"), &legacy, &ctx, now), Ok(()));
}

#[test]
fn intercom_sha1_hex() {
    // python3: hmac.new(b'intercom-client-secret', BODY, hashlib.sha1).hexdigest()
    let config = signature("intercom");
    let ctx = json!({"client_secret": "intercom-client-secret"});
    let body =
        br#"{"type":"notification_event","topic":"conversation.user.created","id":"notif_1"}"#;
    let req = |sig: &str| {
        InboundRequest::new("POST", "https://hooks.example.com/intercom")
            .with_header("X-Hub-Signature", sig)
            .with_body(body.to_vec())
    };
    assert_eq!(
        verify(
            &config,
            &req("sha1=5361c7b3fff66a3d43b6ec4c6d2542b71bfa1641"),
            &ctx,
            at(0)
        ),
        Ok(())
    );
    // Upper-case hex is accepted.
    assert_eq!(
        verify(
            &config,
            &req("sha1=5361C7B3FFF66A3D43B6EC4C6D2542B71BFA1641"),
            &ctx,
            at(0)
        ),
        Ok(())
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("sha1=5361c7b3fff66a3d43b6ec4c6d2542b71bfa1640"),
            &ctx,
            at(0)
        )),
        Check::Signature
    );
    assert_eq!(
        check_of(verify(
            &config,
            &req("sha256=5361c7b3fff66a3d43b6ec4c6d2542b71bfa1641"),
            &ctx,
            at(0)
        )),
        Check::SignatureFormat
    );
}

#[test]
fn official_seed_example_parses_and_explains_what_it_lacks() {
    // The official example has no signature location; Patchbay says so instead of guessing.
    let config: patchbay_config::webhook::WebhookConfig = serde_json::from_value(json!({
        "signature_verification": {"format": "HMAC-SHA256", "config": {"secret": "your-webhook-secret", "algorithm": "sha256", "parts": ["header", "body"]}},
        "handle_verification": "verify_webhook_signature"
    }))
    .expect("parses");
    let sv = config.signature_verification.expect("present");
    let err = patchbay_webhook::Verifier::from_config(&sv, &json!({})).expect_err("incomplete");
    assert_eq!(
        err.to_string(),
        "`signed_headers` is required for format `HMAC-SHA256`"
    );
}
