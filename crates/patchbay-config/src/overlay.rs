//! Applying an environment's `override` over an integration config.

use serde_json::Value;

/// Layers `override_value` over `config` (both as JSON) and returns the result,
/// which should then be validated.
///
/// Objects merge key by key, recursively; any other override value replaces the
/// base value; a `null` in the override leaves the base value in place (Truto
/// treats a `null` slot as "revert to the base"). Arrays are replaced, not
/// concatenated.
///
/// ```
/// use patchbay_config::apply_override;
/// use serde_json::json;
/// let base = json!({"base_url": "https://a", "credentials": {"format": "oauth2", "config": {"client": {"id": "x", "secret": "y"}}}});
/// let ours = json!({"credentials": {"config": {"client": {"id": "ours"}}}, "base_url": null});
/// assert_eq!(
///     apply_override(&base, &ours),
///     json!({"base_url": "https://a", "credentials": {"format": "oauth2", "config": {"client": {"id": "ours", "secret": "y"}}}})
/// );
/// ```
pub fn apply_override(config: &Value, override_value: &Value) -> Value {
    match (config, override_value) {
        (_, Value::Null) => config.clone(),
        (Value::Object(base), Value::Object(overlay)) => {
            let mut merged = base.clone();
            for (key, value) in overlay {
                let layered = match base.get(key) {
                    Some(existing) => apply_override(existing, value),
                    None if value.is_null() => continue,
                    None => value.clone(),
                };
                merged.insert(key.clone(), layered);
            }
            Value::Object(merged)
        }
        (_, other) => other.clone(),
    }
}
