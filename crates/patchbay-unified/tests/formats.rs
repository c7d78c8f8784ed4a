//! The formats: Truto JSON loads unchanged, every problem is reported with its
//! path, and the published schemas are fresh.

use patchbay_unified::{
    CompiledMapping, MappingConfig, MethodSelector, ResourceSelector, load_mapping_row,
    load_unified_model, mapping_row_schema, unified_model_schema, validate_account_override,
    validate_environment_unified_model,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn messages(err: patchbay_unified::ValidationErrors) -> Vec<String> {
    err.errors().iter().map(|e| e.to_string()).collect()
}

#[test]
fn reference_mapping_rows_load_unchanged_and_compile() {
    for name in [
        "hubspot-contacts-list.json",
        "hubspot-contacts-create.json",
        "salesforce-contacts-list.json",
        "zendesk-tickets-list.json",
    ] {
        let text = fixture(name);
        let row = load_mapping_row(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_value(&row).unwrap(),
            original,
            "{name} round-trips"
        );
        CompiledMapping::compile(&row.resource_name, &row.method_name, &row.config)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn hubspot_row_reads_its_method_picker() {
    let row = load_mapping_row(&fixture("hubspot-contacts-list.json")).unwrap();
    assert_eq!(
        row.config.resource,
        Some(ResourceSelector::Name("contacts".into()))
    );
    assert!(matches!(
        row.config.method,
        Some(MethodSelector::Expression { methods: None, .. })
    ));
    assert_eq!(row.unified_model_id.as_deref(), Some("<crm>"));
}

#[test]
fn reference_model_loads_unchanged() {
    let text = fixture("crm-model.json");
    let model = load_unified_model(&text).unwrap();
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        serde_json::from_str::<Value>(&text).unwrap()
    );
    let contacts = &model.resources["contacts"];
    let schema = contacts.schema.as_ref().unwrap();
    assert_eq!(
        schema.missing_required(&json!({"first_name": "Ada"})),
        vec!["id"]
    );
    assert!(
        model
            .inline_mapping("contacts", "hubspot", "list")
            .is_some()
    );
}

#[test]
fn every_problem_of_a_row_is_reported_with_its_path() {
    let err = load_mapping_row(
        r#"{
          "resource_name": "contacts", "integration_name": "hubspot", "method_name": "list",
          "config": {
            "resource": {"expression": "query.x ? 'a' : 'b'", "resources": ["a", "b"]},
            "method": {"expression": "'list' &"},
            "respone_mapping": "response",
            "query_schema": {"properties": {"limit": {"required": "yes"}}},
            "response_mapping_method": "each",
            "before": [{"type": "request", "run_if": "(", "config": {"resource": "owners", "method": "list"}}],
            "side_load": {"owner": {"resource": "owners", "method": "get", "response_mapping": "response.{"}}
          }
        }"#,
    )
    .unwrap_err();
    let m = messages(err);
    let starts = [
        "config.method.expression: ",
        "config.respone_mapping: unknown key `respone_mapping` (did you mean `response_mapping`?)",
        "config.query_schema.properties.limit.required: expected boolean or array",
        "config.response_mapping_method: unknown value \"each\"; expected one of array, item",
        "config.before[0].run_if: ",
        "config.side_load.owner.response_mapping: ",
    ];
    assert_eq!(m.len(), starts.len(), "{m:#?}");
    for (message, start) in m.iter().zip(starts) {
        assert!(
            message.starts_with(start),
            "{message} should start with {start}"
        );
    }
}

#[test]
fn rules_beyond_the_schema_are_reported_together() {
    let err = load_mapping_row(
        r#"{"resource_name": "contacts", "integration_name": "x", "method_name": "list",
            "config": {"resource": {"expression": "'a'", "resources": []}, "body": [1]}}"#,
    )
    .unwrap_err();
    assert_eq!(
        messages(err),
        [
            "config.resource.resources: the allow-list of a resource picker must name at least one resource",
            "config.body: the default body must be an object or null"
        ]
    );
    let err = load_unified_model(
        r#"{"name": "CRM", "resources": {"Contacts": {}, "ok_name": {"schema": {"required": "yes"}}},
            "webhooks": {"contacts": "body.("}}"#,
    )
    .unwrap_err();
    let m = messages(err);
    assert_eq!(m.len(), 2, "{m:#?}");
    assert!(
        m[0].starts_with("resources.ok_name.schema.required: "),
        "{m:#?}"
    );
    assert!(m[1].starts_with("webhooks.contacts: "), "{m:#?}");
    let err = load_unified_model(r#"{"name": "CRM", "resources": {"Contacts": {}}}"#).unwrap_err();
    assert_eq!(
        messages(err),
        [
            "name: model name `CRM` must be kebab-case (lowercase letters, digits and `-`)",
            "resources.Contacts: resource name `Contacts` must be snake_case (lowercase letters, digits and `_`)"
        ]
    );
}

#[test]
fn syntax_errors_have_line_and_column() {
    let m = messages(load_mapping_row("{\n  \"resource_name\": }").unwrap_err());
    assert!(m[0].contains("line 2"), "{m:?}");
}

#[test]
fn environment_and_account_overrides_validate() {
    let installed = validate_environment_unified_model(&json!({
        "id": "e1", "unified_model_id": "m1", "environment_id": "env",
        "override": {
            "resources": {"contacts": {"integration_mapping": {"salesforce": {"list": {"path_mapping": "'/services/data/v59.0/query'"}}}}},
            "scopes": {"salesforce": ["api"]},
            "webhooks": {"salesforce": "body.sobject = 'Contact'"},
            "docs": {"salesforce": {"note": "x"}}
        }
    }))
    .unwrap();
    assert!(installed.model_override.unwrap().resources.is_some());
    let layer = validate_account_override(&json!({"hris": {"employees": {"list": {
        "query_mapping": "{ \"fullName\": query.name }",
        "response_mapping": "{ \"date_of_birth\": response.personal.shortBirthDate }"
    }}}}))
    .unwrap();
    let config: &MappingConfig = &layer["hris"]["employees"]["list"];
    assert!(config.response_mapping.is_some());
    let err = validate_account_override(
        &json!({"hris": {"employees": {"list": {"query_mapping": "{"}}}}),
    )
    .unwrap_err();
    assert!(messages(err)[0].starts_with("hris.employees.list.query_mapping: "));
}

fn check_fresh(file: &str, schema: &Value) {
    let path = format!("{}/../../docs/{file}", env!("CARGO_MANIFEST_DIR"));
    let generated = serde_json::to_string_pretty(schema).unwrap() + "\n";
    if std::env::var_os("PATCHBAY_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "docs/{file} is stale: run `PATCHBAY_UPDATE_SCHEMA=1 cargo test -p patchbay-unified --test formats`"
    );
}

/// Fails when the published schemas differ from the ones the types generate.
#[test]
fn published_schemas_are_fresh() {
    check_fresh("unified-model.schema.json", unified_model_schema());
    check_fresh("unified-mapping.schema.json", mapping_row_schema());
}

#[test]
fn schemas_mark_expressions_and_templates() {
    let row = serde_json::to_string(mapping_row_schema()).unwrap();
    assert!(row.contains(r#""x-patchbay":"jsonata""#));
    assert!(row.contains(r#""x-patchbay":"value-template""#));
    let model = serde_json::to_string(unified_model_schema()).unwrap();
    assert!(model.contains(r#""x-patchbay":"jsonata""#));
}
