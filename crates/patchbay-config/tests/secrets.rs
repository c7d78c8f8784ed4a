//! Secrets in configs never show in Debug output.

use patchbay_config::load_integration_config;

#[test]
fn client_secrets_are_redacted_in_debug_output() {
    let config = load_integration_config(
        r#"{"credentials": {"format": "oauth2", "config": {"client": {"id": "app", "secret": "s3cr3t-value"}}}}"#,
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t-value"), "{debug}");
    assert!(debug.contains("[REDACTED]"));
    // Serialization keeps the value so configs round-trip through storage.
    assert!(
        serde_json::to_string(&config)
            .unwrap()
            .contains("s3cr3t-value")
    );
}

#[test]
fn account_contexts_are_redacted_in_debug_output() {
    let account = patchbay_config::load_integrated_account(include_str!(
        "fixtures/seed_integrated_account.json"
    ))
    .unwrap();
    let mut account = account;
    account
        .context
        .insert("api_key".into(), serde_json::json!("sk_live_very_secret"));
    let debug = format!("{account:?}");
    assert!(!debug.contains("sk_live_very_secret"), "{debug}");
    assert!(debug.contains("api_key"), "keys stay visible: {debug}");
    let request: patchbay_config::ImportAccountRequest =
        serde_json::from_str(include_str!("fixtures/seed_import_request.json")).unwrap();
    assert!(!format!("{request:?}").contains("secret_foo_bar"));
}
