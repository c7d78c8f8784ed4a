//! What the API never returns: credentials.
//!
//! * **Integrated-account `context`**: the answer keeps only non-secret keys.
//!   Dropped: `oauth` (tokens), every key that a `type: password` field
//!   declares ([`password_fields`]: the fields of the credential and of every
//!   credential of a credentials map), and every
//!   key whose name contains `token`, `secret`, `password` or `key`
//!   (case-insensitive), at any depth. Dropped keys are left out entirely.
//! * **Environment-integration `override`**: secret values are replaced by
//!   [`MASK`] (`"********"`), so the answer shows that a value is set without
//!   hinting at its length ([`mask_override`]). Masked: every value inside a
//!   `headers` object, every value inside the top-level `authorization.config`,
//!   and every value whose key looks like a secret ([`override_key_is_secret`]).
//!   A `PATCH` that sends a mask back keeps the stored value at that path
//!   ([`restore_masked`]); a mask with no stored value behind it is refused.
//! * **Webhook `target_url`**: the values of its query string are masked
//!   ([`mask_url_query`]); user info in the URL is refused on input.
//!
//! The answers' views ([`crate::routes::views`]) apply these functions.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::FieldError;

/// What a secret value is answered as. Fixed length, so it says that a
/// value is set and nothing about the value.
pub const MASK: &str = "********";

const CONTEXT_SECRET_WORDS: [&str; 4] = ["token", "secret", "password", "key"];

/// Parts of a (normalized: lowercase, without `_`, `-`, `.`) override key
/// that make its value a secret wherever they appear in the key.
const OVERRIDE_SECRET_PARTS: [&str; 10] = [
    "secret",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "privatekey",
    "apikey",
    "accesskey",
    "signingkey",
    "credential",
];

/// The names of the `type: password` fields of `config` (an integration
/// config as JSON): those of the credential (`credentials.config.fields`) and
/// of every credential of a credentials map (`credentials.<name>.config.fields`).
/// (Action `form` steps, which could declare fields too, are refused by
/// config validation.)
pub fn password_fields(config: &Value) -> HashSet<String> {
    let mut names = HashSet::new();
    if let Some(credentials) = config.get("credentials").and_then(Value::as_object) {
        let single = credentials.get("config").into_iter();
        let named = credentials.values().filter_map(|c| c.get("config"));
        for credential_config in single.chain(named) {
            collect_password_fields(credential_config.get("fields"), &mut names);
        }
    }
    names
}

/// Adds the names of the `type: password` entries of `fields` (an array of
/// field declarations) to `names`.
fn collect_password_fields(fields: Option<&Value>, names: &mut HashSet<String>) {
    let fields = fields.and_then(Value::as_array).into_iter().flatten();
    for field in fields {
        if field.get("type").and_then(Value::as_str) == Some("password")
            && let Some(name) = field.get("name").and_then(Value::as_str)
        {
            names.insert(name.to_owned());
        }
    }
}

fn context_key_is_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    CONTEXT_SECRET_WORDS.iter().any(|w| lower.contains(w))
}

/// Whether the value of an override key named `key` is a secret.
///
/// The key is lowercased and stripped of `_`, `-` and `.`; it is a secret when
/// it contains one of `secret`, `password`, `passwd`, `passphrase`,
/// `authorization`, `privatekey`, `apikey`, `accesskey`, `signingkey`,
/// `credential`, ends with `token` (`access_token`, `api_token`) or is `key`.
/// Config keys that only mention a token or a key (`tokenHost`,
/// `tokenPath`, `cursor_key`) stay readable.
pub fn override_key_is_secret(key: &str) -> bool {
    let normalized: String = key
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    OVERRIDE_SECRET_PARTS.iter().any(|p| normalized.contains(p))
        || normalized.ends_with("token")
        || normalized == "key"
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

/// Replaces every scalar (not `null`) inside `value` by [`MASK`].
fn mask_all(value: &mut Value) {
    match value {
        Value::Null => {}
        Value::Object(map) => map.values_mut().for_each(mask_all),
        Value::Array(items) => items.iter_mut().for_each(mask_all),
        scalar => *scalar = Value::String(MASK.to_owned()),
    }
}

/// Masks the secrets of the override value `value`, found at `path` (the
/// keys from the override's root).
fn mask_secrets(value: &mut Value, path: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let is_headers = key.eq_ignore_ascii_case("headers");
                let is_auth_config = path == ["authorization"] && key == "config";
                let secret_scalar =
                    !item.is_object() && !item.is_array() && override_key_is_secret(key);
                if is_headers || is_auth_config || secret_scalar {
                    mask_all(item);
                } else {
                    let mut inner = path.to_vec();
                    inner.push(key);
                    mask_secrets(item, &inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| mask_secrets(item, path)),
        _ => {}
    }
}

/// `override` as answered: its secrets replaced by [`MASK`] (see the module
/// docs for which values are secrets).
pub fn mask_override(override_: &Map<String, Value>) -> Map<String, Value> {
    let mut value = Value::Object(override_.clone());
    mask_secrets(&mut value, &[]);
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Puts the stored secret back wherever `sent` (a new override) holds
/// [`MASK`] at a path where the answer for `stored` (the current override)
/// shows the mask, so an answer sent back unchanged keeps every secret.
///
/// # Errors
///
/// Every path (`override.headers.Authorization`) where `sent` holds the mask
/// but no secret is stored behind it: the mask would replace a secret.
pub fn restore_masked(
    sent: &mut Map<String, Value>,
    stored: Option<&Map<String, Value>>,
) -> Result<(), Vec<FieldError>> {
    let stored = stored.cloned().map(Value::Object).unwrap_or(Value::Null);
    let mut masked = stored.clone();
    mask_secrets(&mut masked, &[]);
    let mut sent_value = Value::Object(std::mem::take(sent));
    let mut errors = Vec::new();
    restore_at(&mut sent_value, &stored, &masked, "override", &mut errors);
    if let Value::Object(map) = sent_value {
        *sent = map;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn restore_at(
    sent: &mut Value,
    stored: &Value,
    masked: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    match sent {
        Value::String(text) if text == MASK => {
            if masked.as_str() == Some(MASK) {
                *sent = stored.clone();
            } else {
                errors.push(FieldError {
                    path: path.to_owned(),
                    message: format!(
                        "is the mask `{MASK}`, which stands for a stored secret, but none is \
                         stored here; send the secret itself"
                    ),
                });
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                restore_at(
                    item,
                    stored.get(key).unwrap_or(&Value::Null),
                    masked.get(key).unwrap_or(&Value::Null),
                    &format!("{path}.{key}"),
                    errors,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                restore_at(
                    item,
                    stored.get(i).unwrap_or(&Value::Null),
                    masked.get(i).unwrap_or(&Value::Null),
                    &format!("{path}[{i}]"),
                    errors,
                );
            }
        }
        _ => {}
    }
}

/// `url` with the value of every query parameter (and the fragment, if any)
/// replaced by [`MASK`]; scheme, host, port, path and parameter names are
/// kept. A query often carries a token (`?token=…`). Text that is not a URL
/// is answered as the mask.
pub fn mask_url_query(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return MASK.to_owned();
    };
    if parsed.query().is_some() {
        let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
        parsed
            .query_pairs_mut()
            .clear()
            .extend_pairs(names.iter().map(|name| (name.as_str(), MASK)));
    }
    if parsed.fragment().is_some() {
        parsed.set_fragment(Some(MASK));
    }
    parsed.to_string()
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
    fn override_masks_secrets_but_keeps_config() {
        let value = json!({
            "credentials": {"config": {
                "client": {"id": "ours", "secret": "s"},
                "auth": {"tokenHost": "https://h", "tokenPath": "/t"}
            }},
            "pagination": {"config": {"cursor_key": "page[after]"}},
            "headers": {"Authorization": "Bearer S", "X-Private-Key": "K", "Accept": "json"},
            "authorization": {"format": "bearer", "config": {"token": "S"}},
            "resources": {"users": {"list": {"query": {"api_token": "t", "per_page": 50},
                                             "headers": {"X-Sig": "x"}}}},
            "label": null,
            "api_key": null
        });
        let masked = mask_override(value.as_object().unwrap());
        assert_eq!(
            Value::Object(masked),
            json!({
                "credentials": {"config": {
                    "client": {"id": "ours", "secret": MASK},
                    "auth": {"tokenHost": "https://h", "tokenPath": "/t"}
                }},
                "pagination": {"config": {"cursor_key": "page[after]"}},
                "headers": {"Authorization": MASK, "X-Private-Key": MASK, "Accept": MASK},
                "authorization": {"format": "bearer", "config": {"token": MASK}},
                "resources": {"users": {"list": {"query": {"api_token": MASK, "per_page": 50},
                                                 "headers": {"X-Sig": MASK}}}},
                "label": null,
                "api_key": null
            })
        );
    }

    #[test]
    fn a_mask_sent_back_restores_the_stored_secret_and_a_stray_mask_is_refused() {
        let stored = json!({"headers": {"Authorization": "Bearer S"}, "label": "x"});
        let stored = stored.as_object().unwrap();
        let mut sent = mask_override(stored);
        sent.insert("label".into(), json!("y"));
        restore_masked(&mut sent, Some(stored)).unwrap();
        assert_eq!(
            Value::Object(sent),
            json!({"headers": {"Authorization": "Bearer S"}, "label": "y"})
        );

        let mut stray = json!({"label": MASK, "headers": {"X-New": MASK}});
        let errors = restore_masked(stray.as_object_mut().unwrap(), Some(stored)).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["override.label", "override.headers.X-New"]);
        assert!(restore_masked(&mut mask_override(stored), None).is_err());
    }

    #[test]
    fn url_query_values_are_masked() {
        assert_eq!(
            mask_url_query("https://h.example/p/q?token=abc&x=1#frag"),
            format!("https://h.example/p/q?token={MASK}&x={MASK}#{MASK}")
        );
        assert_eq!(mask_url_query("https://h.example/p"), "https://h.example/p");
    }

    #[test]
    fn password_fields_of_every_credential() {
        let config = json!({
            "credentials": {
                "api_key": {"format": "api_key", "config": {"fields": [
                    {"name": "pin", "type": "password"}, {"name": "region", "type": "text"}
                ]}},
                "basic": {"format": "basic", "config": {"fields": [
                    {"name": "passphrase", "type": "password"}
                ]}}
            }
        });
        let names: HashSet<String> = ["pin", "passphrase"].map(str::to_owned).into();
        assert_eq!(password_fields(&config), names);
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
