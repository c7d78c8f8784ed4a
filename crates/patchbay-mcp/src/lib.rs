//! MCP tools generated from Truto-format integration configs.
//!
//! Every resource × method of an integration config becomes one [`Tool`]: a snake_case
//! name in Truto's style ([`naming`]), a description from the method's `description`
//! and `api_documentation_url` (with pagination explained for `list`), and an input JSON
//! Schema built from the method's `query_schema` / `body_schema` when the config has them,
//! else from the placeholders the method reads (`{{id}}`, `{{query.x}}`, `{{body.x}}`).
//! A [`ToolFilter`] selects tools by method kind (`read`, `write`, `custom`) or exact
//! method name, and by the resource's `tool_tags`, combined with AND as Truto does.
//!
//! Where a unified model is installed, [`unified_tool`] makes one tool per unified
//! resource × method the install maps (`list_all_crm_contacts`, ...), tagged
//! [`UNIFIED_TAG`]; its calls carry the model ([`ToolCall::model`]) so the host runs them
//! as unified calls.
//!
//! [`Tool::route`] turns a call's JSON arguments into a [`ToolCall`]: the record id,
//! query parameters, body, and for lists the page size and cursor. Running the call is
//! the host's (the `patchbay` facade's `Patchbay::call_tool` runs it through the pipeline).
//! This crate knows nothing of MCP transports: it produces plain data that any MCP
//! implementation can serve.
//!
//! ```
//! use patchbay_mcp::{ToolFilter, tools};
//! use serde_json::json;
//!
//! let config = patchbay_config::load_integration_config(r#"{
//!     "base_url": "https://{{subdomain}}.zendesk.com/api/v2",
//!     "resources": {"tickets": {
//!         "list": {"path": "/tickets", "response_path": "tickets"},
//!         "get": {"path": "/tickets/{{id}}", "response_path": "ticket"},
//!         "create": {"method": "post", "path": "/tickets", "body": {"ticket": "{{body:json}}"}}
//!     }}
//! }"#).unwrap();
//! let all = tools("zendesk", &config);
//! let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
//! assert_eq!(names, ["list_all_zendesk_tickets", "get_single_zendesk_ticket_by_id", "create_a_zendesk_ticket"]);
//!
//! let read_only = ToolFilter::new().methods(["read"]);
//! assert_eq!(all.iter().filter(|t| read_only.matches(t)).count(), 2);
//!
//! let call = all[1].route(json!({"id": "42"}).as_object().unwrap()).unwrap();
//! assert_eq!(call.id.as_deref(), Some("42"));
//! ```
#![warn(missing_docs, unreachable_pub)]

mod arguments;
mod filter;
mod kind;
pub mod naming;
mod placeholders;
mod result;
mod schema;
mod tool;
mod unified;

pub use arguments::{ArgumentError, ToolCall};
pub use filter::ToolFilter;
pub use kind::MethodKind;
pub use result::ToolResult;
pub use tool::{Tool, tools, unique_names};
pub use unified::{UNIFIED_TAG, UnifiedMethod, unified_tool};
