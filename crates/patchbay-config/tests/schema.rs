//! The published JSON Schema in docs/ is generated from the types and kept fresh.

use patchbay_config::integration_config_schema;

const PUBLISHED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/integration-config.schema.json"
);

/// Fails when docs/integration-config.schema.json differs from the schema the
/// types generate. Regenerate with `PATCHBAY_UPDATE_SCHEMA=1 cargo test -p patchbay-config --test schema`.
#[test]
fn published_schema_is_fresh() {
    let generated = serde_json::to_string_pretty(integration_config_schema()).unwrap() + "\n";
    if std::env::var_os("PATCHBAY_UPDATE_SCHEMA").is_some() {
        std::fs::write(PUBLISHED, &generated).unwrap();
        return;
    }
    let published = std::fs::read_to_string(PUBLISHED).unwrap_or_default();
    assert!(
        published == generated,
        "docs/integration-config.schema.json is stale: run `PATCHBAY_UPDATE_SCHEMA=1 cargo test -p patchbay-config --test schema`"
    );
}

#[test]
fn schema_marks_templated_and_expression_fields() {
    let schema = serde_json::to_string(integration_config_schema()).unwrap();
    for marker in [
        "\"x-patchbay\":\"jsonata\"",
        "\"x-patchbay\":\"template\"",
        "\"x-patchbay\":\"url-template\"",
        "\"x-patchbay\":\"value-template\"",
    ] {
        assert!(schema.contains(marker), "missing {marker}");
    }
    let root = integration_config_schema();
    assert_eq!(
        root["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(root["additionalProperties"], false);
}
