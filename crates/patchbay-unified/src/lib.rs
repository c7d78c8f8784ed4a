//! Truto-format unified models and mapping rows: the library core of
//! Patchbay's unified API.
//!
//! A unified model (`crm`, `ticketing`, ...) names resources with one schema
//! each; a mapping row says, for one integration, how a unified method runs:
//! which integration resource and method to call and the JSONata that turns
//! the unified query and body into the provider's, and the provider's records
//! into unified ones. This crate holds
//!
//! * the serde model of both formats ([`UnifiedModel`], [`MappingRow`],
//!   [`MappingConfig`]), loading Truto's JSON unchanged, with validation that
//!   reports every problem with its JSON path ([`load_unified_model`],
//!   [`load_mapping_row`]) and published JSON Schemas ([`unified_model_schema`],
//!   [`mapping_row_schema`]);
//! * layering: base → environment override → account override
//!   ([`MappingLayers`], [`UnifiedModel::with_override`]);
//! * the mapping steps of a unified request as pure functions on a
//!   [`CompiledMapping`] (every expression compiled once, at load):
//!   [`CompiledMapping::prepare`] turns a [`UnifiedRequest`] into the
//!   [`IntegrationCall`] to run through the integration pipeline, and
//!   [`CompiledMapping::map_list`] / [`map_item`](CompiledMapping::map_item) /
//!   [`map_error`](CompiledMapping::map_error) turn its answer into the unified one.
//!
//! ```
//! use patchbay_unified::{CompiledMapping, RawPage, UnifiedRequest, load_mapping_row, nest_query};
//! use serde_json::json;
//!
//! let row = load_mapping_row(r#"{
//!   "resource_name": "tickets", "integration_name": "zendesk", "method_name": "list",
//!   "config": {
//!     "resource": "tickets", "method": "list",
//!     "query_mapping": "{ \"per_page\": query.limit, \"sort_by\": \"updated_at\" }",
//!     "response_mapping": "response.{ \"id\": $string(id), \"name\": subject }"
//!   }
//! }"#)?;
//! let mapping = CompiledMapping::compile(&row.resource_name, &row.method_name, &row.config)?;
//!
//! let request = UnifiedRequest {
//!     query: nest_query([("limit", "2"), ("truto_exclude_fields[]", "remote_data")]),
//!     ..UnifiedRequest::default()
//! };
//! let prepared = mapping.prepare(request)?;
//! assert_eq!((prepared.call.resource.as_str(), prepared.call.method.as_str()), ("tickets", "list"));
//! assert_eq!(json!(prepared.call.query), json!({"per_page": "2", "sort_by": "updated_at"}));
//! assert_eq!(prepared.call.limit, Some(2));
//!
//! // ... the host runs `prepared.call` through the pipeline and gets a page ...
//! let page = RawPage {
//!     records: vec![json!({"id": 7, "subject": "Printer on fire"})],
//!     next_cursor: Some("c2".into()),
//!     prev_cursor: None,
//! };
//! let list = mapping.map_list(&prepared, page, &json!({}))?;
//! assert_eq!(json!(list), json!({
//!     "result": [{"id": "7", "name": "Printer on fire"}],
//!     "next_cursor": "c2", "prev_cursor": null, "result_count": 1, "is_partial_response": false
//! }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! See `docs/unified.md` for the formats, the bindings of each mapping and
//! the decisions taken where Truto's behaviour is unverified.
#![warn(missing_docs, unreachable_pub)]

mod compile;
mod error;
mod eval;
mod layers;
mod load;
mod mapping;
mod model;
mod params;
mod request;
mod response;
mod schema;
mod side_load;
mod truto_schema;

pub use compile::{
    CompiledMapping, CompiledSideLoad, CompiledStep, CompiledStepCall, Layered, Selector,
};
pub use error::UnifiedError;
pub use layers::MappingLayers;
pub use load::{
    load_mapping_row, load_unified_model, validate_account_override,
    validate_environment_unified_model, validate_mapping_config, validate_mapping_row,
    validate_unified_model,
};
pub use mapping::{
    InlineMappings, MappingConfig, MappingRow, MethodSelector, ResourceSelector,
    ResponseMappingMethod, SideLoad, Step, StepCallConfig, StepConfig, StepKind,
};
pub use model::{
    AccountOverride, EnvironmentUnifiedModel, ModelOverride, UnifiedModel, UnifiedResource,
};
pub use params::{ResponseFormat, TrutoParams, nest_query};
/// The validation error types, shared with integration configs.
pub use patchbay_config::{
    JsonPath, PathSegment, ValidationError, ValidationErrorKind, ValidationErrors,
};
pub use request::{IntegrationCall, PreparedCall, StepCall, StepScope, UnifiedRequest};
pub use response::{MappedError, RawPage, UnifiedList};
pub use schema::{
    account_override_schema, environment_unified_model_schema, mapping_config_schema,
    mapping_row_schema, unified_model_schema,
};
pub use truto_schema::{Required, TrutoSchema};
