//! `{{ }}` placeholder resolution of config strings against the account context.

use patchbay_template::Template;
use serde_json::Value;

use crate::error::ConfigError;

/// Resolves the placeholders of `text` (the value of config field `field`) against
/// `context`, with Truto semantics.
///
/// # Errors
/// [`ConfigError::InvalidPlaceholder`] for bad placeholder syntax and
/// [`ConfigError::UnresolvedPlaceholder`] when a placeholder has no value (Truto would
/// leave the placeholder text in place, which must never become a key). Neither error
/// shows the text, which may be a secret.
pub(crate) fn resolve(
    text: &str,
    context: &Value,
    field: &'static str,
) -> Result<String, ConfigError> {
    let template = Template::parse(text).map_err(|_| ConfigError::InvalidPlaceholder { field })?;
    if !template.has_placeholders() {
        return Ok(text.to_owned());
    }
    let rendered = template.render_to_string(context);
    let leftover = Template::parse(&rendered)
        .map(|t| t.has_placeholders())
        .unwrap_or(true);
    if leftover {
        return Err(ConfigError::UnresolvedPlaceholder { field });
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resolves_and_rejects_missing() {
        let ctx = json!({"webhook_secret": "s3cr3t", "nested": {"k": "v"}});
        assert_eq!(
            resolve("{{webhook_secret}}", &ctx, "secret"),
            Ok("s3cr3t".into())
        );
        assert_eq!(resolve("a-{{nested.k}}", &ctx, "secret"), Ok("a-v".into()));
        assert_eq!(resolve("plain", &ctx, "secret"), Ok("plain".into()));
        assert_eq!(
            resolve("{{missing}}", &ctx, "secret"),
            Err(ConfigError::UnresolvedPlaceholder { field: "secret" })
        );
    }
}
