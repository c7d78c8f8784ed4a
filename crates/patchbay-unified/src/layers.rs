//! Layering (reference §1.3): base → environment override → account override.

use patchbay_config::{
    JsonPath, ValidationError, ValidationErrorKind, ValidationErrors, apply_override,
};
use serde_json::Value;

use crate::{CompiledMapping, MappingConfig, ModelOverride, UnifiedModel};

/// The config layers of one (resource, integration, method), lowest first.
///
/// * `base`: the base mapping row's `config`, or else the model's inline
///   `resources.<r>.integration_mapping.<integration>.<method>` (after the
///   environment's model override).
/// * `environment`: the environment override row's `config`.
/// * `account`: `unified_model_override.<model>.<resource>.<method>` of the account.
///
/// `base` and `environment` are deep-merged as integration-config overrides
/// are ([`apply_override`]): objects merge key by key, any other value
/// (every expression string, every array) replaces the lower one, and `null`
/// keeps the lower value. The account layer follows Truto's official guide:
/// its object-producing mappings (`query_mapping`, `request_body_mapping`,
/// `response_mapping`, both header mappings, `error_mapping`) are evaluated
/// **beside** the lower layers' on the same input and their result's
/// top-level keys overwrite or extend the lower result; its other keys
/// deep-merge like the environment layer.
#[derive(Debug, Clone, Default)]
pub struct MappingLayers<'a> {
    /// The base config.
    pub base: Option<&'a MappingConfig>,
    /// The environment override row's config.
    pub environment: Option<&'a MappingConfig>,
    /// The account's override.
    pub account: Option<&'a MappingConfig>,
}

const EVALUATED_BESIDE: [&str; 6] = [
    "query_mapping",
    "request_body_mapping",
    "response_mapping",
    "request_header_mapping",
    "response_header_mapping",
    "error_mapping",
];

fn to_json(config: &MappingConfig) -> Value {
    serde_json::to_value(config).unwrap_or(Value::Null)
}

impl MappingLayers<'_> {
    /// Merges and compiles the layers for the unified `resource_name`/`method_name`.
    ///
    /// # Errors
    ///
    /// [`ValidationErrors`] when no layer exists (path `(root)`), or when an
    /// expression or template does not compile; paths start with the layer
    /// (`account.response_mapping`) for the account's expressions.
    pub fn compile(
        &self,
        resource_name: &str,
        method_name: &str,
    ) -> Result<CompiledMapping, ValidationErrors> {
        if self.base.is_none() && self.environment.is_none() && self.account.is_none() {
            return Err(ValidationErrors(vec![ValidationError {
                path: JsonPath::root(),
                kind: ValidationErrorKind::Rule(format!(
                    "no mapping for {resource_name}.{method_name}"
                )),
            }]));
        }
        let mut merged = self
            .base
            .map(to_json)
            .unwrap_or_else(|| Value::Object(Default::default()));
        if let Some(environment) = self.environment {
            merged = apply_override(&merged, &to_json(environment));
        }
        if let Some(account) = self.account {
            let mut rest = to_json(account);
            if let Some(map) = rest.as_object_mut() {
                for key in EVALUATED_BESIDE {
                    map.remove(key);
                }
            }
            merged = apply_override(&merged, &rest);
        }
        let merged: MappingConfig = patchbay_config::validate_against_schema(
            &merged,
            crate::schema::mapping_config_schema(),
        )?;
        CompiledMapping::compile_layers(
            resource_name,
            method_name,
            &merged,
            self.account.map(|a| (a, JsonPath::root().key("account"))),
        )
    }
}

impl UnifiedModel {
    /// This model with an environment's `override` applied: `resources` and
    /// `docs` deep-merged by key ([`apply_override`]), `scopes` appended to the
    /// base's list of the same key (duplicates dropped), `webhooks` replaced
    /// by key.
    ///
    /// ```
    /// use patchbay_unified::{ModelOverride, UnifiedModel};
    /// use serde_json::json;
    /// let model: UnifiedModel = serde_json::from_value(json!({"name": "crm",
    ///     "resources": {"contacts": {"description": "People", "methods": ["list"]}},
    ///     "scopes": {"contacts": ["crm.read"]}})).unwrap();
    /// let ours: ModelOverride = serde_json::from_value(json!({
    ///     "resources": {"contacts": {"description": "Our people"}},
    ///     "scopes": {"contacts": ["crm.write"]}})).unwrap();
    /// let merged = model.with_override(&ours).unwrap();
    /// assert_eq!(merged.resources["contacts"].description.as_deref(), Some("Our people"));
    /// assert_eq!(merged.resources["contacts"].methods.as_ref().unwrap(), &["list"]);
    /// assert_eq!(merged.scopes.unwrap()["contacts"], ["crm.read", "crm.write"]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationErrors`] if the merged model is not valid (an override can
    /// replace a value with one of another type only where the format allows it).
    pub fn with_override(&self, layer: &ModelOverride) -> Result<UnifiedModel, ValidationErrors> {
        let mut merged = self.clone();
        if let Some(resources) = &layer.resources {
            let base = serde_json::to_value(&self.resources).unwrap_or(Value::Null);
            let ours = serde_json::to_value(resources).unwrap_or(Value::Null);
            merged.resources = patchbay_config::validate_against_schema(
                &apply_override(&base, &ours),
                crate::schema::resources_schema(),
            )?;
        }
        if let Some(docs) = &layer.docs {
            let all = merged.docs.get_or_insert_with(Default::default);
            for (key, value) in docs {
                let layered = match all.get(key) {
                    Some(existing) => apply_override(existing, value),
                    None => value.clone(),
                };
                all.insert(key.clone(), layered);
            }
        }
        if let Some(scopes) = &layer.scopes {
            let all = merged.scopes.get_or_insert_with(Default::default);
            for (key, extra) in scopes {
                let list = all.entry(key.clone()).or_default();
                for scope in extra {
                    if !list.contains(scope) {
                        list.push(scope.clone());
                    }
                }
            }
        }
        if let Some(webhooks) = &layer.webhooks {
            let all = merged.webhooks.get_or_insert_with(Default::default);
            for (key, expression) in webhooks {
                all.insert(key.clone(), expression.clone());
            }
        }
        Ok(merged)
    }

    /// The inline `integration_mapping` config of a resource, integration and
    /// method, if the model has one.
    pub fn inline_mapping(
        &self,
        resource: &str,
        integration: &str,
        method: &str,
    ) -> Option<&MappingConfig> {
        self.resources
            .get(resource)?
            .integration_mapping
            .as_ref()?
            .get(integration)?
            .get(method)
    }
}
