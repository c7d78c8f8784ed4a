//! What the API never returns: credentials.
//!
//! * **Integrated-account `context`**: the answer keeps only non-secret keys.
//!   Dropped: `oauth` (tokens), every key that the integration's credential
//!   `fields` declare with `type: password`, and every key whose name contains
//!   `token`, `secret`, `password` or `key` (case-insensitive), at any depth.
//! * **Environment-integration `override`**: keys whose name contains
//!   `secret` or `password`, and the keys `api_key`, `apikey`, `access_token`,
//!   `refresh_token` are dropped at any depth (e.g. `credentials.config.client.secret`).
//!
//! Dropped keys are left out entirely (not masked), so a response never hints
//! at a secret's length.

use std::collections::HashSet;

use patchbay::config::IntegratedAccount;
use serde_json::{Map, Value};

use crate::store::EnvironmentIntegration;

const CONTEXT_SECRET_WORDS: [&str; 4] = ["token", "secret", "password", "key"];
const OVERRIDE_SECRET_WORDS: [&str; 2] = ["secret", "password"];
const OVERRIDE_SECRET_NAMES: [&str; 4] = ["api_key", "apikey", "access_token", "refresh_token"];

/// The names of the credential fields of `config` (an integration config as
/// JSON) whose `type` is `password`.
pub fn password_fields(config: &Value) -> HashSet<String> {
    config
        .pointer("/credentials/config/fields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|field| field.get("type").and_then(Value::as_str) == Some("password"))
        .filter_map(|field| field.get("name").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn context_key_is_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    CONTEXT_SECRET_WORDS.iter().any(|w| lower.contains(w))
}

fn override_key_is_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    OVERRIDE_SECRET_WORDS.iter().any(|w| lower.contains(w))
        || OVERRIDE_SECRET_NAMES.contains(&lower.as_str())
}

/// Removes, at every depth, the keys `is_secret` accepts.
fn drop_keys(map: &mut Map<String, Value>, is_secret: &dyn Fn(&str) -> bool) {
    map.retain(|key, _| !is_secret(key));
    for value in map.values_mut() {
        drop_in_value(value, is_secret);
    }
}

fn drop_in_value(value: &mut Value, is_secret: &dyn Fn(&str) -> bool) {
    match value {
        Value::Object(map) => drop_keys(map, is_secret),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| drop_in_value(item, is_secret)),
        _ => {}
    }
}

/// The context without secrets (see the module docs); `password_fields` from
/// [`password_fields`] of the account's integration.
pub fn redact_context(
    context: &Map<String, Value>,
    password_fields: &HashSet<String>,
) -> Map<String, Value> {
    let mut kept: Map<String, Value> = context
        .iter()
        .filter(|(key, _)| key.as_str() != "oauth" && !password_fields.contains(key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    drop_keys(&mut kept, &context_key_is_secret);
    kept
}

/// An account as the API answers it: the context without secrets.
pub fn account_json(account: &IntegratedAccount, password_fields: &HashSet<String>) -> Value {
    let mut account = account.clone();
    account.context = redact_context(&account.context, password_fields);
    account.integration = None;
    serde_json::to_value(&account).unwrap_or(Value::Null)
}

/// An environment integration as the API answers it: `override` without secrets.
pub fn environment_integration_json(install: &EnvironmentIntegration) -> Value {
    let mut install = install.clone();
    if let Some(map) = install.override_.as_mut() {
        drop_keys(map, &override_key_is_secret);
    }
    serde_json::to_value(&install).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn context_keeps_only_non_secret_keys() {
        let context = json!({
            "oauth": {"token": {"access_token": "a"}},
            "subdomain": "acme",
            "api_token": "t",
            "pin": "1234",
            "nested": {"client_secret": "s", "region": "eu"},
            "API_KEY": "k"
        });
        let fields = HashSet::from(["pin".to_owned()]);
        let kept = redact_context(context.as_object().unwrap(), &fields);
        assert_eq!(
            Value::Object(kept),
            json!({"subdomain": "acme", "nested": {"region": "eu"}})
        );
    }

    #[test]
    fn override_drops_client_secret_but_keeps_config() {
        let value = json!({
            "credentials": {"config": {"client": {"id": "ours", "secret": "s"}}},
            "pagination": {"config": {"cursor_key": "page[after]"}}
        });
        let mut map = value.as_object().unwrap().clone();
        drop_keys(&mut map, &override_key_is_secret);
        assert_eq!(
            Value::Object(map),
            json!({
                "credentials": {"config": {"client": {"id": "ours"}}},
                "pagination": {"config": {"cursor_key": "page[after]"}}
            })
        );
    }

    #[test]
    fn password_fields_come_from_the_config() {
        let config = json!({"credentials": {"format": "api_key", "config": {"fields": [
            {"name": "subdomain", "type": "text"},
            {"name": "pin", "type": "password"}
        ]}}});
        assert_eq!(password_fields(&config), HashSet::from(["pin".to_owned()]));
    }
}
