//! The API's routes, one module per object kind.
//!
//! Every handler here runs behind [`crate::auth::require_token`] and acts only
//! in the authenticated environment, except [`meta`] and [`validate`] (no
//! token, no storage), [`inbound`]: providers call it without a token and
//! it resolves the environment from the id in the path, and [`mcp`]: the MCP
//! server's token in the path is the credential.
//!
//! Handlers answer [`views`] (never raw JSON built by hand), read bodies into
//! request types that validate themselves, and document their errors with
//! the shared sets of [`responses`].

pub mod account_actions;
pub mod account_credentials;
pub mod accounts;
pub mod datastores;
pub mod environment_unified_models;
pub mod environments;
pub mod inbound;
pub mod installs;
pub mod integrations;
pub mod link_tokens;
pub mod logs;
pub mod mcp;
pub mod mcp_servers;
pub mod meta;
pub mod proxy;
pub mod responses;
pub mod sync_job_cron_triggers;
pub mod sync_job_run_states;
pub mod sync_job_runs;
pub mod sync_jobs;
pub mod unified;
pub mod unified_mappings;
pub mod unified_meta;
pub mod unified_models;
pub mod validate;
pub mod views;
pub mod webhooks;

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};

use views::Deleted;

/// For `PATCH` fields where `null` means "clear": absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`. Use with `#[serde(default)]`.
pub(crate) fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The answer of a successful `DELETE`: `{id}`.
pub(crate) fn deleted(id: String) -> Json<Deleted> {
    Json(Deleted { id })
}

/// The answer of a successful create: 201 with the new object's view.
pub(crate) fn created<T>(view: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(view))
}
