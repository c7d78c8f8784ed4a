//! The published JSON Schemas, generated from the types.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde_json::Value;

use crate::{ImportAccountRequest, IntegratedAccount, IntegrationConfig};

fn generate<T: JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// The JSON Schema (draft 2020-12) of integration configs.
///
/// Besides standard keywords it uses `x-patchbay` (`template`, `url-template`,
/// `value-template`, `jsonata`) to mark strings written in those languages, and
/// `x-patchbay-tag` on `{format, config}` unions. `docs/integration-config.schema.json`
/// is this schema; a test fails when it is stale.
pub fn integration_config_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generate::<IntegrationConfig>)
}

/// The JSON Schema of integrated accounts.
pub fn integrated_account_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generate::<IntegratedAccount>)
}

/// The JSON Schema of the import-account request body.
pub fn import_account_request_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(generate::<ImportAccountRequest>)
}
