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
