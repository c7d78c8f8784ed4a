//! The data `{{ }}` placeholders in credential and authorization configs read.
//!
//! Truto's configs read account context keys at the root (`{{client_id}}`,
//! `{{oauth.token.access_token}}`) and under `context` (`{{context.client_id}}`),
//! so the data object holds both.

use patchbay_template::{Template, ValueTemplate};
use serde_json::{Map, Value};

use crate::AuthError;

/// Builds the placeholder data for an account context: every context key at
/// the top level, and the whole context again under `context`.
///
/// A context key named `context` is shadowed by the whole context, as in
/// Truto, where `{{context.x}}` always means the account's `x`.
///
/// Host variables that are not part of the account (an OAuth app's
/// `client_id` and `client_secret`, say) belong in the context passed in.
///
/// ```
/// use patchbay_auth::placeholder_data;
/// use serde_json::json;
///
/// let context = json!({"subdomain": "acme", "oauth": {"token": {"access_token": "t"}}});
/// let data = placeholder_data(context.as_object().unwrap());
/// assert_eq!(data["subdomain"], "acme");
/// assert_eq!(data["context"]["subdomain"], "acme");
/// assert_eq!(data["oauth"]["token"]["access_token"], "t");
/// ```
pub fn placeholder_data(context: &Map<String, Value>) -> Value {
    let mut data = context.clone();
    data.insert("context".to_owned(), Value::Object(context.clone()));
    Value::Object(data)
}

/// Renders a `{{ }}` string for a credential or header. Fails when a
/// placeholder has no value (Truto would send the placeholder text verbatim,
/// which no provider accepts) or when the result is empty.
///
/// `what` names the config field in errors; values never appear in them.
pub(crate) fn render_required(source: &str, data: &Value, what: &str) -> Result<String, AuthError> {
    let template = parse(source, what)?;
    let rendered = template.render_to_string(data);
    if let Some(missing) = unresolved(&template, &rendered) {
        return Err(AuthError::missing(format!("{missing} (for {what})")));
    }
    if rendered.is_empty() {
        return Err(AuthError::missing(format!("{what} is empty")));
    }
    Ok(rendered)
}

/// Renders a JSON value whose string leaves may hold placeholders (token
/// parameters). `None` when the value renders undefined (a `:undefined`
/// placeholder without a value): the parameter is dropped.
pub(crate) fn render_value(
    value: &Value,
    data: &Value,
    what: &str,
) -> Result<Option<Value>, AuthError> {
    let template =
        ValueTemplate::parse(value).map_err(|e| AuthError::config(format!("{what}: {e}")))?;
    let rendered = template.render(data);
    if let Some(Value::String(text)) = &rendered
        && let Value::String(source) = value
        && let Some(missing) = unresolved(&parse(source, what)?, text)
    {
        return Err(AuthError::missing(format!("{missing} (for {what})")));
    }
    Ok(rendered)
}

fn parse(source: &str, what: &str) -> Result<Template, AuthError> {
    Template::parse(source).map_err(|e| AuthError::config(format!("{what}: {e}")))
}

/// The first placeholder whose text survived rendering, i.e. had no value.
fn unresolved<'t>(template: &'t Template, rendered: &str) -> Option<&'t str> {
    template.placeholders().find(|p| rendered.contains(p))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn missing_placeholder_is_an_error_naming_the_path_not_values() {
        let data = json!({"present": "s3cr3t"});
        let error = render_required("{{present}}:{{absent}}", &data, "basic password").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("{{absent}}"), "{message}");
        assert!(message.contains("basic password"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    #[test]
    fn fallbacks_and_context_root_resolve() {
        let context = json!({"api_key": "k"});
        let data = placeholder_data(context.as_object().unwrap());
        assert_eq!(
            render_required("{{oauth.token.access_token|api_key}}", &data, "token").unwrap(),
            "k"
        );
        assert_eq!(
            render_required("{{context.api_key}}", &data, "token").unwrap(),
            "k"
        );
    }

    #[test]
    fn empty_result_is_missing() {
        let data = json!({"api_key": ""});
        assert!(matches!(
            render_required("{{api_key}}", &data, "token"),
            Err(AuthError::MissingCredential { .. })
        ));
    }

    #[test]
    fn typed_values_keep_their_type_and_undefined_drops() {
        let data = json!({"n": "5"});
        assert_eq!(
            render_value(&json!("{{n:int}}"), &data, "p").unwrap(),
            Some(json!(5))
        );
        assert_eq!(
            render_value(&json!("{{nope:undefined}}"), &data, "p").unwrap(),
            None
        );
        assert!(render_value(&json!("{{nope}}"), &data, "p").is_err());
    }
}
