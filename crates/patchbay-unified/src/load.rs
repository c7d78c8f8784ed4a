//! Loading and validating the formats: every problem at once, with its JSON path.

use patchbay_config::{
    JsonPath, ValidationError, ValidationErrorKind, ValidationErrors, validate_against_schema,
};
use serde_json::Value;

use crate::schema::{
    account_override_schema, environment_unified_model_schema, mapping_config_schema,
    mapping_row_schema, unified_model_schema,
};
use crate::{
    AccountOverride, EnvironmentUnifiedModel, MappingConfig, MappingRow, MethodSelector,
    ResourceSelector, UnifiedModel,
};

fn rule(path: JsonPath, message: String) -> ValidationError {
    ValidationError {
        path,
        kind: ValidationErrorKind::Rule(message),
    }
}

fn finish<T>(value: T, problems: Vec<ValidationError>) -> Result<T, ValidationErrors> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(ValidationErrors(problems))
    }
}

fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_snake(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Parses and validates a unified model from JSON text.
///
/// # Errors
///
/// [`ValidationErrors`] with every problem: syntax, unknown or missing keys,
/// wrong types, JSONata that does not compile (`webhooks`, inline mappings),
/// a model name that is not kebab-case, resource names that are not snake_case.
pub fn load_unified_model(text: &str) -> Result<UnifiedModel, ValidationErrors> {
    validate_unified_model(&patchbay_config::parse_json(text)?)
}

/// Validates a unified model given as JSON. See [`load_unified_model`].
///
/// # Errors
///
/// As [`load_unified_model`], without syntax errors.
pub fn validate_unified_model(value: &Value) -> Result<UnifiedModel, ValidationErrors> {
    let model: UnifiedModel = validate_against_schema(value, unified_model_schema())?;
    let mut problems = Vec::new();
    if !is_kebab(&model.name) {
        problems.push(rule(
            JsonPath::root().key("name"),
            format!(
                "model name `{}` must be kebab-case (lowercase letters, digits and `-`)",
                model.name
            ),
        ));
    }
    for (name, resource) in &model.resources {
        let path = JsonPath::root().key("resources").key(name);
        if !is_snake(name) {
            problems.push(rule(
                path.clone(),
                format!(
                    "resource name `{name}` must be snake_case (lowercase letters, digits and `_`)"
                ),
            ));
        }
        for (integration, methods) in resource.integration_mapping.iter().flatten() {
            for (method, config) in methods {
                let at = path.key("integration_mapping").key(integration).key(method);
                problems.extend(config_rules(config, &at));
            }
        }
    }
    finish(model, problems)
}

/// Parses and validates a mapping row from JSON text.
///
/// ```
/// let err = patchbay_unified::load_mapping_row(r#"{
///   "resource_name": "contacts", "integration_name": "hubspot", "method_name": "list",
///   "config": {"respone_mapping": "response.{ \"id\": id }", "query_mapping": "{ \"limit\": "}
/// }"#).unwrap_err();
/// let messages: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
/// assert!(messages[0].starts_with("config.respone_mapping: unknown key `respone_mapping` (did you mean `response_mapping`?)"), "{messages:?}");
/// assert!(messages[1].starts_with("config.query_mapping: "), "{messages:?}");
/// ```
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path: syntax, unknown
/// keys (with the closest valid name), missing keys, wrong types, JSONata that
/// does not compile, `{{ }}` templates that do not parse, pickers with an empty
/// allow-list.
pub fn load_mapping_row(text: &str) -> Result<MappingRow, ValidationErrors> {
    validate_mapping_row(&patchbay_config::parse_json(text)?)
}

/// Validates a mapping row given as JSON. See [`load_mapping_row`].
///
/// # Errors
///
/// As [`load_mapping_row`], without syntax errors.
pub fn validate_mapping_row(value: &Value) -> Result<MappingRow, ValidationErrors> {
    let row: MappingRow = validate_against_schema(value, mapping_row_schema())?;
    let problems = config_rules(&row.config, &JsonPath::root().key("config"));
    finish(row, problems)
}

/// Validates one `config` (a whole config or an override layer).
///
/// # Errors
///
/// As [`load_mapping_row`], with paths relative to the config.
pub fn validate_mapping_config(value: &Value) -> Result<MappingConfig, ValidationErrors> {
    let config: MappingConfig = validate_against_schema(value, mapping_config_schema())?;
    let problems = config_rules(&config, &JsonPath::root());
    finish(config, problems)
}

/// Validates an environment unified model (install and `override`).
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path.
pub fn validate_environment_unified_model(
    value: &Value,
) -> Result<EnvironmentUnifiedModel, ValidationErrors> {
    let installed: EnvironmentUnifiedModel =
        validate_against_schema(value, environment_unified_model_schema())?;
    let mut problems = Vec::new();
    let resources = installed
        .model_override
        .as_ref()
        .and_then(|o| o.resources.as_ref());
    for (name, resource) in resources.into_iter().flatten() {
        for (integration, methods) in resource.integration_mapping.iter().flatten() {
            for (method, config) in methods {
                let at = JsonPath::root()
                    .key("override")
                    .key("resources")
                    .key(name)
                    .key("integration_mapping")
                    .key(integration)
                    .key(method);
                problems.extend(config_rules(config, &at));
            }
        }
    }
    finish(installed, problems)
}

/// Validates an account's `unified_model_override`.
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path.
pub fn validate_account_override(value: &Value) -> Result<AccountOverride, ValidationErrors> {
    let layer: AccountOverride = validate_against_schema(value, account_override_schema())?;
    let mut problems = Vec::new();
    for (model, resources) in &layer {
        for (resource, methods) in resources {
            for (method, config) in methods {
                let at = JsonPath::root().key(model).key(resource).key(method);
                problems.extend(config_rules(config, &at));
            }
        }
    }
    finish(layer, problems)
}

/// Rules the schema cannot express.
fn config_rules(config: &MappingConfig, path: &JsonPath) -> Vec<ValidationError> {
    let mut problems = Vec::new();
    if let Some(ResourceSelector::Expression { resources, .. }) = &config.resource
        && resources.is_empty()
    {
        problems.push(rule(
            path.key("resource").key("resources"),
            "the allow-list of a resource picker must name at least one resource".into(),
        ));
    }
    if let Some(MethodSelector::Expression {
        methods: Some(methods),
        ..
    }) = &config.method
        && methods.is_empty()
    {
        problems.push(rule(
            path.key("method").key("methods"),
            "the allow-list of a method picker must name at least one method".into(),
        ));
    }
    if let Some(body) = &config.body
        && !(body.0.is_object() || body.0.is_null())
    {
        problems.push(rule(
            path.key("body"),
            "the default body must be an object or null".into(),
        ));
    }
    problems
}
