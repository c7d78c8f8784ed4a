//! Serde model, validation and JSON Schema of Truto-format integration configs.
//!
//! Patchbay reads the integration config format of Truto: one JSON document per
//! third-party API describing its base URL, credentials, authorization,
//! pagination, rate limits, resources, webhooks and actions. This crate is the
//! typed model of that format plus the integrated-account model, with
//! validation that reports **every** problem with its JSON path:
//!
//! ```
//! use patchbay_config::load_integration_config;
//!
//! let err = load_integration_config(r#"{
//!   "base_url": "https://api.example.com",
//!   "resources": {"users": {"list": {
//!     "path": "/users",
//!     "pagination": {"format": "cursor", "config": {"curser_path": "meta.next"}},
//!     "error_expression": "body.ok = false and"
//!   }}}
//! }"#).unwrap_err();
//! let messages: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
//! assert_eq!(messages[0], "resources.users.list.pagination.config.cursor_path: required key `cursor_path` is missing");
//! assert!(messages[1].starts_with("resources.users.list.pagination.config.curser_path: unknown key `curser_path` (did you mean `cursor_path`?)"));
//! assert!(messages[2].starts_with("resources.users.list.error_expression: "));
//! ```
//!
//! Resolution of method-level settings over integration-level ones is
//! [`IntegrationConfig::method`]; environment overrides are [`apply_override`].
#![warn(missing_docs, unreachable_pub)]

mod account;
mod action;
mod authorization;
mod credentials;
mod integration;
mod json_kind;
mod languages;
mod nullable;
mod overlay;
mod pagination;
mod rate_limit;
mod resource;
mod schema;
mod secret;
mod tagged;
mod validate;
pub mod webhook;

use serde_json::Value;

pub use account::{
    AccountStatus, AuthenticationMethod, ImportAccountRequest, IntegratedAccount, Integration,
    Region, Sharing,
};
pub use action::{Action, ActionStep, ActionSteps, Actions, names as action_names};
pub use authorization::{Authorization, BasicConfig, BearerConfig, HeaderConfig};
pub use credentials::{
    ApiKeyConfig, ClientAuthMethod, Credential, Credentials, CredentialsEncodingMode, Field,
    FieldFormat, FieldOption, FieldTransform, FieldType, OAuth2Client, OAuth2Config,
    OAuth2Endpoints, OAuth2Options, Scopes, TokenBodyFormat,
};
pub use integration::{IntegrationConfig, ResolvedMethod};
pub use json_kind::json_kind;
pub use languages::{
    BoolOrJsonata, Jsonata, StringOrNumber, TemplateString, TemplateValue, UrlTemplateString,
};
pub use nullable::Nullable;
pub use overlay::apply_override;
pub use pagination::{
    CursorConfig, CursorSource, DynamicConfig, LinkHeaderConfig, OffsetConfig, PageConfig,
    Pagination, RangeConfig,
};
pub use rate_limit::RateLimit;
pub use resource::{
    BodyFormat, HttpMethod, MethodExamples, QueryArrayFormat, Resource, ResourceMethod,
};
pub use schema::{
    import_account_request_schema, integrated_account_schema, integration_config_schema,
};
pub use secret::SecretString;
pub use validate::{JsonPath, PathSegment, ValidationError, ValidationErrorKind, ValidationErrors};

/// Parses and validates an integration config from JSON text.
///
/// # Errors
///
/// [`ValidationErrors`] listing every problem: JSON syntax (with line and
/// column), unknown keys (with the closest valid name), missing keys, wrong
/// types, bad enum values, JSONata that does not compile, placeholders that do
/// not parse, and rules spanning several keys, each with its JSON path.
pub fn load_integration_config(text: &str) -> Result<IntegrationConfig, ValidationErrors> {
    validate_integration_config(&validate::parse_json(text)?)
}

/// Validates an integration config given as JSON. See [`load_integration_config`].
///
/// # Errors
///
/// As [`load_integration_config`], without syntax errors.
pub fn validate_integration_config(value: &Value) -> Result<IntegrationConfig, ValidationErrors> {
    let config: IntegrationConfig =
        validate::validate_with_schema(value, integration_config_schema())?;
    let problems = validate::check_integration_rules(&config);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ValidationErrors(problems))
    }
}

/// Parses and validates an integrated account from JSON text.
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path.
pub fn load_integrated_account(text: &str) -> Result<IntegratedAccount, ValidationErrors> {
    validate::validate_with_schema(&validate::parse_json(text)?, integrated_account_schema())
}

/// Validates the body of an import-account request.
///
/// # Errors
///
/// [`ValidationErrors`] with every problem and its JSON path.
pub fn validate_import_request(value: &Value) -> Result<ImportAccountRequest, ValidationErrors> {
    validate::validate_with_schema(value, import_account_request_schema())
}
