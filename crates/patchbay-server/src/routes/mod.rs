//! The API's routes, one module per object kind.
//!
//! Every handler here runs behind [`crate::auth::require_token`] and acts only
//! in the authenticated environment, except [`meta`] and [`validate`] (no
//! token, no storage) and [`inbound`]: providers call it without a token and
//! it resolves the environment from the id in the path.

pub mod account_actions;
pub mod accounts;
pub mod inbound;
pub mod installs;
pub mod integrations;
pub mod link_tokens;
pub mod meta;
pub mod proxy;
pub mod validate;
pub mod webhooks;

use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

/// For `PATCH` fields where `null` means "clear": absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`. Use with `#[serde(default)]`.
pub(crate) fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The body of a successful `DELETE`: `{id}`.
pub(crate) fn deleted(id: &str) -> axum::Json<Value> {
    axum::Json(json!({ "id": id }))
}
