//! The published JSON Schemas, generated from the types.

use std::sync::OnceLock;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde_json::Value;

use crate::{
    AccountOverride, EnvironmentUnifiedModel, MappingConfig, MappingRow, UnifiedModel,
    UnifiedResource,
};

fn generate<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

macro_rules! schema_fn {
    ($(#[$doc:meta])* $vis:vis $name:ident, $ty:ty) => {
        $(#[$doc])*
        $vis fn $name() -> &'static Value {
            static SCHEMA: OnceLock<Value> = OnceLock::new();
            SCHEMA.get_or_init(generate::<$ty>)
        }
    };
}

schema_fn!(
    /// The JSON Schema (draft 2020-12) of unified models. As with integration
    /// configs, `x-patchbay: "jsonata"` marks JSONata strings and
    /// `x-patchbay: "value-template"` values with `{{ }}` placeholders.
    /// `docs/unified-model.schema.json` is this schema; a test fails when it is stale.
    pub unified_model_schema,
    UnifiedModel
);

schema_fn!(
    /// The JSON Schema of mapping rows. `docs/unified-mapping.schema.json` is
    /// this schema; a test fails when it is stale.
    pub mapping_row_schema,
    MappingRow
);

schema_fn!(
    /// The JSON Schema of a mapping row's `config` alone (an override layer).
    pub mapping_config_schema,
    MappingConfig
);

schema_fn!(
    /// The JSON Schema of environment unified models (install + `override`).
    pub environment_unified_model_schema,
    EnvironmentUnifiedModel
);

schema_fn!(
    /// The JSON Schema of an account's `unified_model_override`.
    pub account_override_schema,
    AccountOverride
);

schema_fn!(
    /// The schema of a model's `resources` map, for merged models.
    pub(crate) resources_schema,
    IndexMap<String, UnifiedResource>
);
