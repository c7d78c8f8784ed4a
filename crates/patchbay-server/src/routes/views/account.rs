//! Integrated accounts as answered: the context without its secrets.

use std::collections::HashSet;

use chrono::{DateTime, SecondsFormat, Utc};
use patchbay::config::IntegratedAccount;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{AccountStatus, AuthenticationMethod, Region};
use crate::redact::redact_context;

// Serialized as Truto's account: the keys of `IntegratedAccount` in its
// order, absent optional ones left out, timestamps with milliseconds (the
// test below pins it). The doc comment is the schema's description.
/// A tenant's connection. `context` is answered with its non-secret keys only.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IntegratedAccount)]
pub struct AccountView {
    /// The id.
    pub id: String,
    /// The tenant (the host app's customer) that owns the connection.
    pub tenant_id: String,
    /// The installed integration.
    pub environment_integration_id: String,
    /// The environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_id: Option<String>,
    /// The non-secret context keys: no `oauth`, no password fields, no key
    /// whose name contains `token`, `secret`, `password` or `key`.
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// How the account authenticates.
    pub authentication_method: AuthenticationMethod,
    /// Connection state.
    pub status: AccountStatus,
    /// The last error of post-install, validation or refresh.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Results of the post-install and validation actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub last_action_result: Option<Value>,
    /// Data region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Sandbox accounts refuse writes through the proxy (405).
    pub is_sandbox: bool,
    /// Context keys kept in an external object store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_store_context_keys: Option<Vec<String>>,
    /// When it was created (RFC 3339 with milliseconds).
    #[serde(serialize_with = "millis")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// When it was last changed (RFC 3339 with milliseconds).
    #[serde(serialize_with = "millis")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// The account's unified mapping overrides, `{model: {resource: {method:
    /// config}}}`, layered over the environment's mappings in its unified calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub unified_model_override: Option<Value>,
}

impl AccountView {
    /// The account as answered: its context without secrets
    /// ([`redact_context`]; `password_fields` are the names of the
    /// password-type fields of the account's integration config), and
    /// without the embedded integration.
    pub fn redacted(account: IntegratedAccount, password_fields: &HashSet<String>) -> Self {
        let IntegratedAccount {
            id,
            tenant_id,
            environment_integration_id,
            environment_id,
            context,
            authentication_method,
            status,
            last_error,
            last_action_result,
            region,
            is_sandbox,
            object_store_context_keys,
            integration: _,
            created_at,
            updated_at,
        } = account;
        Self {
            id,
            tenant_id,
            environment_integration_id,
            environment_id,
            context: redact_context(&context, password_fields),
            authentication_method,
            status,
            last_error,
            last_action_result,
            region,
            is_sandbox,
            object_store_context_keys,
            created_at,
            updated_at,
            unified_model_override: None,
        }
    }

    /// The view with the account's `unified_model_override`.
    pub fn with_unified_override(mut self, value: Option<Value>) -> Self {
        self.unified_model_override = value;
        self
    }
}

/// An RFC 3339 timestamp in UTC with milliseconds (`2021-08-10T10:00:00.000Z`),
/// as Truto writes account timestamps.
fn millis<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The view answers the account exactly as the config type serializes it,
    /// minus the secrets and the embedded integration.
    #[test]
    fn the_view_serializes_like_the_account_without_its_secrets() {
        let account: IntegratedAccount = serde_json::from_value(json!({
            "id": "ia_1",
            "tenant_id": "acme",
            "environment_integration_id": "ei_1",
            "context": {"subdomain": "acme", "api_token": "t", "pin": "1", "oauth": {"token": {}}},
            "authentication_method": "oauth2_client_credentials",
            "status": "needs_reauth",
            "last_error": "refused",
            "region": "apac",
            "is_sandbox": true,
            "created_at": "2026-01-02T03:04:05.678Z",
            "updated_at": "2026-01-02T03:04:06Z"
        }))
        .unwrap();
        let mut expected = serde_json::to_value(&account).unwrap();
        expected["context"] = json!({"subdomain": "acme"});
        let fields = HashSet::from(["pin".to_owned()]);
        let view = serde_json::to_string(&AccountView::redacted(account, &fields)).unwrap();
        assert_eq!(view, expected.to_string());
    }
}
