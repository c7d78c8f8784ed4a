//! Shared helpers: the catalog snippets under `examples/webhooks/`.
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use patchbay_config::webhook::{SignatureVerification, WebhookConfig};

/// Loads `examples/webhooks/<name>.json` and checks that it round-trips exactly.
pub fn example(name: &str) -> WebhookConfig {
    let path = format!(
        "{}/../../examples/webhooks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let raw: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let config: WebhookConfig = serde_json::from_value(raw.clone()).expect("valid webhook config");
    assert_eq!(
        serde_json::to_value(&config).expect("serializes"),
        raw,
        "{name} round-trips"
    );
    config
}

/// The `signature_verification` of an example.
pub fn signature(name: &str) -> SignatureVerification {
    example(name)
        .signature_verification
        .expect("has signature_verification")
}

/// `secs` after the Unix epoch.
pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A Zoom request with `body`, signed as Zoom signs it:
/// `x-zm-signature: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>"))`.
pub fn zoom_signed(body: &[u8], secret: &str, timestamp: u64) -> patchbay_webhook::InboundRequest {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let signature = hex::encode(mac.finalize().into_bytes());
    patchbay_webhook::InboundRequest::new("POST", "https://h/zoom")
        .with_header("content-type", "application/json")
        .with_header("x-zm-request-timestamp", timestamp.to_string())
        .with_header("x-zm-signature", format!("v0={signature}"))
        .with_body(body.to_vec())
}
