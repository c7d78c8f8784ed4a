//! Bad input gets a typed error naming the failed check, and no error leaks the secret
//! or the expected signature.

mod common;

use common::{at, signature};
use patchbay_config::webhook::SignatureVerification;
use patchbay_webhook::{Check, ConfigError, InboundRequest, VerificationError, Verifier, verify};
use serde_json::json;

const SECRET: &str = "It's a Secret to Everybody";
const EXPECTED_HEX: &str = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

fn assert_no_leak(error: &dyn std::fmt::Debug, display: &str) {
    let debug = format!("{error:?}");
    for text in [display, debug.as_str()] {
        assert!(!text.contains(SECRET), "secret leaked: {text}");
        assert!(
            !text.contains(EXPECTED_HEX),
            "expected signature leaked: {text}"
        );
        assert!(
            !text.contains(&EXPECTED_HEX[..16]),
            "expected signature prefix leaked: {text}"
        );
    }
}

fn github(sig: Option<&str>, body: &[u8]) -> InboundRequest {
    let mut req = InboundRequest::new("POST", "https://h/github").with_body(body.to_vec());
    if let Some(sig) = sig {
        req = req.with_header("x-hub-signature-256", sig);
    }
    req
}

#[test]
fn each_bad_input_names_its_check() {
    let config = signature("github");
    let ctx = json!({"webhook_secret": SECRET});
    let cases: Vec<(InboundRequest, Check, &str)> = vec![
        (
            github(None, b"Hello, World!"),
            Check::Presence,
            "missing header `x-hub-signature-256`",
        ),
        (
            github(Some("sha256=xyz"), b"Hello, World!"),
            Check::SignatureFormat,
            "not valid hex",
        ),
        (
            github(Some("md5=abcd"), b"Hello, World!"),
            Check::SignatureFormat,
            "expected prefix",
        ),
        (
            github(
                Some(&format!("sha256={}", "0".repeat(64))),
                b"Hello, World!",
            ),
            Check::Signature,
            "signature mismatch",
        ),
    ];
    for (req, check, text) in cases {
        let err = verify(&config, &req, &ctx, at(0)).expect_err("rejected");
        assert_eq!(err.check(), check, "{err}");
        assert!(err.to_string().contains(text), "{err}");
        assert_no_leak(&err, &err.to_string());
    }
}

#[test]
fn oversized_body_is_rejected_before_hashing() {
    let verifier = Verifier::from_config(&signature("github"), &json!({"webhook_secret": SECRET}))
        .expect("compiles")
        .with_max_body_bytes(8);
    let err = verifier
        .verify(&github(Some("sha256=00"), b"Hello, World!"), at(0))
        .expect_err("too big");
    assert_eq!(
        err,
        VerificationError::BodyTooLarge {
            limit: 8,
            actual: 13
        }
    );
    assert_eq!(err.check(), Check::BodySize);
}

#[test]
fn stale_timestamp_names_freshness() {
    // Slack's published vector, replayed 10 minutes late.
    let config = signature("slack");
    let req = InboundRequest::new("POST", "https://h")
        .with_header("x-slack-request-timestamp", "1531420618")
        .with_header(
            "x-slack-signature",
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        )
        .with_body(b"x".to_vec());
    // The body differs from the vector, so first prove that the order of checks puts the
    // signature before freshness:
    let err = verify(
        &config,
        &req,
        &json!({"signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"}),
        at(1_531_421_218),
    )
    .expect_err("rejected");
    assert_eq!(err.check(), Check::Signature);
    let malformed = InboundRequest::new("POST", "https://h")
        .with_header("x-slack-request-timestamp", "15314206l8")
        .with_header("x-slack-signature", "v0=00")
        .with_body(b"x".to_vec());
    let err =
        verify(&config, &malformed, &json!({"signing_secret": "s"}), at(0)).expect_err("rejected");
    assert_eq!(err.check(), Check::TimestampFormat);
    assert!(
        err.to_string().contains("x-slack-request-timestamp"),
        "{err}"
    );
}

#[test]
fn config_errors_do_not_show_secrets() {
    let sv = |value: serde_json::Value| -> SignatureVerification {
        serde_json::from_value(value).expect("parses")
    };
    let unresolved = Verifier::from_config(
        &sv(json!({"format": "hmac", "config": {"secret": "{{missing}}", "compare_with": "$header.x"}})),
        &json!({}),
    )
    .expect_err("unresolved");
    assert_eq!(
        unresolved,
        ConfigError::UnresolvedPlaceholder { field: "secret" }
    );

    let bad_b64 = Verifier::from_config(
        &sv(json!({"format": "hmac", "config": {"secret": "not base64 It's a Secret to Everybody", "secret_encoding": "base64", "compare_with": "$header.x"}})),
        &json!({}),
    )
    .expect_err("bad encoding");
    assert_no_leak(&bad_b64, &bad_b64.to_string());

    let verifier = Verifier::from_config(
        &sv(json!({"format": "hmac", "config": {"secret": SECRET, "compare_with": "$header.x"}})),
        &json!({}),
    )
    .expect("compiles");
    assert_no_leak(&verifier, "");

    for (config, expected) in [
        (
            json!({"format": "hmac", "config": {"secret": "s", "algorithm": "md5", "compare_with": "$header.x"}}),
            "unsupported algorithm `md5`",
        ),
        (
            json!({"format": "hmac", "config": {"secret": "s", "compare_with": "$heder.x"}}),
            "unknown token",
        ),
        (
            json!({"format": "hmac", "config": {"secret": "s", "compare_with": "$header.x", "string_type": "binary"}}),
            "unsupported string_type",
        ),
        (
            json!({"format": "HMAC-SHA1", "config": {"secret": "s", "algorithm": "sha256", "compare_with": "$header.x"}}),
            "contradicts",
        ),
        (
            json!({"format": "vendor-x"}),
            "unsupported signature verification format `vendor-x`",
        ),
        (
            json!({"format": "hmac", "config": {"secret": "", "compare_with": "$header.x"}}),
            "`secret` is empty",
        ),
    ] {
        let err = Verifier::from_config(&sv(config), &json!({})).expect_err("invalid");
        assert!(err.to_string().contains(expected), "{err}");
    }
}

#[test]
fn basic_auth() {
    let config: SignatureVerification = serde_json::from_value(json!({
        "format": "basic",
        "config": {"username": "{{hook_user}}", "password": "{{hook_password}}"}
    }))
    .expect("parses");
    let ctx = json!({"hook_user": "truto", "hook_password": "pa:ss w0rd"});
    let with =
        |value: &str| InboundRequest::new("POST", "https://h").with_header("Authorization", value);
    // printf 'truto:pa:ss w0rd' | base64  ->  dHJ1dG86cGE6c3MgdzByZA==
    assert_eq!(
        verify(
            &config,
            &with("Basic dHJ1dG86cGE6c3MgdzByZA=="),
            &ctx,
            at(0)
        ),
        Ok(())
    );
    // printf 'truto:pa:ss w0rD' | base64  ->  dHJ1dG86cGE6c3MgdzByRA==
    let err = verify(
        &config,
        &with("Basic dHJ1dG86cGE6c3MgdzByRA=="),
        &ctx,
        at(0),
    )
    .expect_err("wrong password");
    assert_eq!(err.check(), Check::Credentials);
    assert!(!format!("{err} {err:?}").contains("pa:ss"));
    assert_eq!(
        verify(&config, &with("Bearer abc"), &ctx, at(0)).map_err(|e| e.check()),
        Err(Check::Credentials)
    );
    assert_eq!(
        verify(&config, &with("Basic !!!"), &ctx, at(0)).map_err(|e| e.check()),
        Err(Check::Credentials)
    );
    let none = InboundRequest::new("POST", "https://h");
    assert_eq!(
        verify(&config, &none, &ctx, at(0)).map_err(|e| e.check()),
        Err(Check::Presence)
    );
}

#[test]
fn jwt_hs256() {
    // Token from RFC 7515-style construction, computed with python3:
    //   h = b64url('{"alg":"HS256","typ":"JWT"}'), p = b64url('{"iss":"acme","aud":"patchbay","exp":1700000600,"nbf":1699999900}')
    //   s = b64url(hmac.new(b'jwt-secret', h+'.'+p, sha256).digest())
    let token = include_str!("data/jwt_hs256.txt").trim();
    let config: SignatureVerification = serde_json::from_value(json!({
        "format": "jwt",
        "config": {"secret": "{{jwt_secret}}", "algorithm": "HS256", "issuer": "acme", "audience": "patchbay", "tolerance_seconds": 0}
    }))
    .expect("parses");
    let ctx = json!({"jwt_secret": "jwt-secret"});
    let req = |t: &str| {
        InboundRequest::new("POST", "https://h").with_header("authorization", format!("Bearer {t}"))
    };
    assert_eq!(
        verify(&config, &req(token), &ctx, at(1_700_000_000)),
        Ok(())
    );
    assert_eq!(
        verify(&config, &req(token), &ctx, at(1_700_000_601)).map_err(|e| e.check()),
        Err(Check::TokenClaims)
    );
    assert_eq!(
        verify(&config, &req(token), &ctx, at(1_699_999_000)).map_err(|e| e.check()),
        Err(Check::TokenClaims)
    );
    let mut tampered = token.to_owned();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert!(verify(&config, &req(&tampered), &ctx, at(1_700_000_000)).is_err());
    assert_eq!(
        verify(&config, &req("a.b"), &ctx, at(0)).map_err(|e| e.check()),
        Err(Check::SignatureFormat)
    );
    let wrong_aud: SignatureVerification = serde_json::from_value(json!({
        "format": "jwt", "config": {"secret": "jwt-secret", "audience": "someone-else"}
    }))
    .expect("parses");
    assert_eq!(
        verify(&wrong_aud, &req(token), &ctx, at(1_700_000_000)).map_err(|e| e.check()),
        Err(Check::TokenClaims)
    );
}
