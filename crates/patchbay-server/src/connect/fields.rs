//! A credential's `fields` as a form: rendering inputs and turning submitted
//! values into context keys.
//!
//! Rules, per [`Field`]: a field is required unless `required: false`; an
//! empty value takes `default` when there is one; `single_select` values must
//! be one of `options`; `format` (email, number, uuid, url) and `pattern` (a
//! regular expression that must match, anywhere unless it anchors itself, as
//! JavaScript's `RegExp.test`) are checked; `transform`
//! (lowercase, uppercase, sha256) is applied last. `number` values are stored
//! as JSON numbers, everything else as strings. Password values are never
//! written back into a re-rendered form.

use std::collections::HashMap;
use std::fmt::Write as _;

use patchbay::config::{Field, FieldFormat, FieldTransform, FieldType};
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::html::escape;

/// The form input name of a field (prefixed so it cannot collide with the
/// flow's own inputs such as `link_token`).
pub(crate) fn input_name(field: &Field) -> String {
    format!("field.{}", field.name)
}

/// One field's problem, shown next to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldProblem {
    /// The field's `name`.
    pub(crate) field: String,
    /// What is wrong, for the user.
    pub(crate) message: String,
}

fn label_of(field: &Field) -> &str {
    field.label.as_deref().unwrap_or(&field.name)
}

fn is_required(field: &Field) -> bool {
    field.required != Some(false)
}

/// Checks `submitted` (input name → value) against `fields`; answers the
/// context keys to store, or every problem at once.
pub(crate) fn collect(
    fields: &[Field],
    submitted: &HashMap<String, String>,
) -> Result<Map<String, Value>, Vec<FieldProblem>> {
    let mut context = Map::new();
    let mut problems = Vec::new();
    for field in fields {
        let raw = submitted
            .get(&input_name(field))
            .map(|v| v.trim())
            .unwrap_or("");
        let problem = |message: String| FieldProblem {
            field: field.name.clone(),
            message,
        };
        if raw.is_empty() {
            if let Some(default) = field.default.clone().filter(|d| !d.is_null()) {
                context.insert(field.name.clone(), default);
            } else if is_required(field) {
                problems.push(problem(format!("{} is required.", label_of(field))));
            }
            continue;
        }
        match check(field, raw) {
            Ok(value) => {
                context.insert(field.name.clone(), value);
            }
            Err(message) => problems.push(problem(message)),
        }
    }
    if problems.is_empty() {
        Ok(context)
    } else {
        Err(problems)
    }
}

/// The `format: url` values of `collected` that lead to an address the
/// destination `policy` refuses (an IP literal, or a name every address of
/// which is refused), each as a problem of its field. End users choose these
/// URLs, and a config may send requests to them (`base_url:
/// "{{instance_url}}"`), so they are held to the server's policy before the
/// account is created: an end user cannot point the server at an internal
/// service. (Requests are checked again when they are sent.)
pub(crate) async fn refused_destinations(
    fields: &[Field],
    collected: &Map<String, Value>,
    policy: &std::sync::Arc<patchbay::egress::DestinationPolicy>,
) -> Vec<FieldProblem> {
    let resolver = patchbay::egress::PolicyResolver::new(policy.clone());
    let mut problems = Vec::new();
    for field in fields.iter().filter(|f| f.format == Some(FieldFormat::Url)) {
        let Some(url) = collected
            .get(&field.name)
            .and_then(Value::as_str)
            .and_then(crate::web_url::parse_web_url)
        else {
            continue;
        };
        let refused = match policy.check_url(&url) {
            Err(e) => Some(e.to_string()),
            Ok(()) => match url.host() {
                Some(url::Host::Domain(name)) => resolver.resolve_host(name).await.err().map(|e| {
                    match e.downcast_ref::<patchbay::egress::DestinationError>() {
                        Some(refused) => refused.to_string(),
                        None => format!("`{name}` cannot be resolved"),
                    }
                }),
                _ => None,
            },
        };
        if let Some(reason) = refused {
            problems.push(FieldProblem {
                field: field.name.clone(),
                message: format!(
                    "{} must be an address this service may reach ({reason}).",
                    label_of(field)
                ),
            });
        }
    }
    problems
}

/// The stored value of a non-empty `raw` input, or what is wrong with it.
fn check(field: &Field, raw: &str) -> Result<Value, String> {
    let label = label_of(field);
    if field.field_type == Some(FieldType::SingleSelect)
        && let Some(options) = &field.options
    {
        let chosen = options.iter().find(|o| option_text(&o.value) == raw);
        return match chosen {
            Some(option) => Ok(option.value.clone()),
            None => Err(format!("{label} must be one of the listed choices.")),
        };
    }
    let mut value = Value::String(raw.to_owned());
    match field.format {
        Some(FieldFormat::Email) => {
            let valid = raw
                .split_once('@')
                .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
                && !raw.contains(char::is_whitespace);
            if !valid {
                return Err(format!("{label} must be an email address."));
            }
        }
        Some(FieldFormat::Number) => {
            let number = raw
                .parse::<i64>()
                .map(Number::from)
                .ok()
                .or_else(|| raw.parse::<f64>().ok().and_then(Number::from_f64))
                .ok_or_else(|| format!("{label} must be a number."))?;
            value = Value::Number(number);
        }
        Some(FieldFormat::Uuid) if uuid::Uuid::parse_str(raw).is_err() => {
            return Err(format!("{label} must be a UUID."));
        }
        Some(FieldFormat::Url) => {
            if crate::web_url::parse_web_url(raw).is_none() {
                return Err(format!("{label} must be an http or https URL."));
            }
        }
        Some(FieldFormat::Uuid) | None => {}
    }
    if let Some(pattern) = &field.pattern {
        // As JavaScript's `RegExp.test`: a match anywhere; anchor with `^`/`$` in the pattern.
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(raw) => {}
            Ok(_) => return Err(format!("{label} is not in the expected format.")),
            Err(e) => {
                tracing::warn!(field = %field.name, error = %e, "a field's pattern does not compile; not checked");
            }
        }
    }
    if let (Some(transform), Value::String(text)) = (field.transform, &value) {
        value = Value::String(match transform {
            FieldTransform::Lowercase => text.to_lowercase(),
            FieldTransform::Uppercase => text.to_uppercase(),
            FieldTransform::Sha256 => hex::encode(Sha256::digest(text.as_bytes())),
        });
    }
    Ok(value)
}

/// How an option value appears in the form.
fn option_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The inputs of `fields`, pre-filled from `submitted` (except passwords),
/// with each field's problem under it.
pub(crate) fn render_inputs(
    fields: &[Field],
    submitted: &HashMap<String, String>,
    problems: &[FieldProblem],
) -> String {
    let mut html = String::new();
    for field in fields {
        let name = input_name(field);
        let id = format!("f-{}", escape(&field.name));
        let secret = field.field_type.is_some_and(FieldType::is_secret);
        let previous = if secret {
            ""
        } else {
            submitted.get(&name).map(String::as_str).unwrap_or("")
        };
        let required = if is_required(field) && field.default.is_none() {
            " required"
        } else {
            ""
        };
        let _ = write!(
            html,
            r#"<label for="{id}">{}</label>"#,
            escape(label_of(field))
        );
        match (&field.field_type, &field.options) {
            (Some(FieldType::SingleSelect), Some(options)) => {
                let _ = write!(
                    html,
                    r#"<select id="{id}" name="{}"{required}>"#,
                    escape(&name)
                );
                for option in options {
                    let value = option_text(&option.value);
                    let selected = if value == previous { " selected" } else { "" };
                    let _ = write!(
                        html,
                        r#"<option value="{}"{selected}>{}</option>"#,
                        escape(&value),
                        escape(&option.label)
                    );
                }
                html.push_str("</select>");
            }
            _ => {
                let kind = match (secret, field.format) {
                    (true, _) => "password",
                    (false, Some(FieldFormat::Email)) => "email",
                    (false, Some(FieldFormat::Url)) => "url",
                    _ => "text",
                };
                let placeholder = field
                    .placeholder
                    .as_deref()
                    .map(|p| format!(r#" placeholder="{}""#, escape(p)))
                    .unwrap_or_default();
                let _ = write!(
                    html,
                    r#"<input id="{id}" name="{}" type="{kind}" value="{}" autocomplete="off"{placeholder}{required}>"#,
                    escape(&name),
                    escape(previous)
                );
            }
        }
        if let Some(help) = &field.help_text {
            let _ = write!(html, r#"<p class="hint">{}</p>"#, escape(help));
        }
        for problem in problems.iter().filter(|p| p.field == field.name) {
            let _ = write!(
                html,
                r#"<p class="field-error" role="alert">{}</p>"#,
                escape(&problem.message)
            );
        }
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Vec<Field> {
        serde_json::from_value(value).unwrap()
    }

    fn submitted(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn collects_checks_and_transforms_values() {
        let fields = fields(json!([
            {"name": "subdomain", "label": "Subdomain", "transform": "lowercase", "pattern": "^[a-zA-Z0-9-]+$"},
            {"name": "api_token", "type": "password"},
            {"name": "port", "format": "number", "required": false},
            {"name": "region", "type": "single_select", "options": [{"label": "EU", "value": "eu"}, {"label": "US", "value": "us"}]},
            {"name": "tier", "default": "basic"}
        ]));
        let context = collect(
            &fields,
            &submitted(&[
                ("field.subdomain", " ACME "),
                ("field.api_token", "t0k"),
                ("field.port", "8443"),
                ("field.region", "eu"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(context),
            json!({"subdomain": "acme", "api_token": "t0k", "port": 8443, "region": "eu", "tier": "basic"})
        );
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let fields = fields(json!([
            {"name": "email", "label": "Email", "format": "email"},
            {"name": "api_token", "label": "API token", "type": "password"},
            {"name": "id", "label": "Tenant id", "format": "uuid"},
            {"name": "site", "label": "Site", "format": "url"},
            {"name": "region", "label": "Region", "type": "single_select", "options": [{"label": "EU", "value": "eu"}]}
        ]));
        let problems = collect(
            &fields,
            &submitted(&[
                ("field.email", "not-an-email"),
                ("field.id", "123"),
                ("field.site", "javascript:alert(1)"),
                ("field.region", "mars"),
            ]),
        )
        .unwrap_err();
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "Email must be an email address.",
                "API token is required.",
                "Tenant id must be a UUID.",
                "Site must be an http or https URL.",
                "Region must be one of the listed choices."
            ]
        );
    }

    #[test]
    fn rendering_escapes_values_and_never_refills_passwords() {
        let fields = fields(json!([
            {"name": "subdomain", "help_text": "<b>yours</b>"},
            {"name": "api_token", "type": "password"}
        ]));
        let html = render_inputs(
            &fields,
            &submitted(&[
                ("field.subdomain", "\"><script>"),
                ("field.api_token", "SECRET"),
            ]),
            &[FieldProblem {
                field: "subdomain".into(),
                message: "bad <value>".into(),
            }],
        );
        assert!(html.contains("&quot;&gt;&lt;script&gt;"), "{html}");
        assert!(html.contains("&lt;b&gt;yours&lt;/b&gt;"), "{html}");
        assert!(html.contains("bad &lt;value&gt;"), "{html}");
        assert!(!html.contains("SECRET"), "{html}");
        assert!(html.contains(r#"type="password""#), "{html}");
    }
}
