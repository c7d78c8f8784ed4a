//! Rules that span several keys, checked on the typed config.

use crate::IntegrationConfig;
use crate::authorization::Authorization;
use crate::credentials::FieldType;
use crate::pagination::Pagination;

use super::{JsonPath, ValidationError, ValidationErrorKind};

/// Checks the rules the schema cannot express; returns every violation.
pub(crate) fn check_integration_rules(config: &IntegrationConfig) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    let mut rule = |path: JsonPath, message: String| {
        errors.push(ValidationError {
            path,
            kind: ValidationErrorKind::Rule(message),
        })
    };
    let root = JsonPath::root();

    if let Some(auth) = &config.authorization {
        check_authorization(auth, root.key("authorization"), &mut rule);
    }
    if let Some(p) = config.pagination.as_value() {
        check_pagination(p, root.key("pagination"), &mut rule);
    }
    if let Some(credentials) = &config.credentials {
        let base = match credentials {
            crate::Credentials::Single(_) => None,
            crate::Credentials::Map(_) => Some(()),
        };
        for (name, credential) in credentials.iter() {
            let path = match base {
                Some(()) => root
                    .key("credentials")
                    .key(name)
                    .key("config")
                    .key("fields"),
                None => root.key("credentials").key("config").key("fields"),
            };
            let mut seen = std::collections::HashSet::new();
            for (i, field) in credential.fields().iter().enumerate() {
                if !seen.insert(field.name.as_str()) {
                    rule(
                        path.index(i).key("name"),
                        format!("duplicate field name `{}`", field.name),
                    );
                }
                if field.field_type == Some(FieldType::SingleSelect)
                    && field.options.as_ref().is_none_or(Vec::is_empty)
                {
                    rule(
                        path.index(i).key("options"),
                        "a `single_select` field needs `options`".into(),
                    );
                }
            }
        }
    }
    check_unsupported(config, &mut rule);
    for (resource, methods) in config.resources.iter().flatten() {
        for (name, method) in methods {
            let path = root.key("resources").key(resource).key(name);
            if let Some(auth) = &method.authorization {
                check_authorization(auth, path.key("authorization"), &mut rule);
            }
            if let Some(p) = method.pagination.as_value() {
                check_pagination(p, path.key("pagination"), &mut rule);
            }
        }
    }
    errors
}

fn check_authorization(
    auth: &Authorization,
    path: JsonPath,
    rule: &mut impl FnMut(JsonPath, String),
) {
    match auth {
        Authorization::Header(c) => {
            let pair = c.header_name.is_some() && c.header_value.is_some();
            match (pair, c.expression.is_some()) {
                (true, true) => rule(path.key("config"), "give either `header_name` with `header_value`, or `expression`, not both".into()),
                (false, false) => rule(path.key("config"), "`header` authorization needs `header_name` and `header_value`, or `expression`".into()),
                _ => {}
            }
        }
        Authorization::Basic(c) if c.username.is_none() => {
            rule(
                path.key("config").key("username"),
                "`basic` authorization needs a `username`".into(),
            );
        }
        _ => {}
    }
}

fn check_pagination(p: &Pagination, path: JsonPath, rule: &mut impl FnMut(JsonPath, String)) {
    if let Pagination::Cursor(c) = p {
        if c.include_path == Some(true) && c.is_link != Some(true) {
            rule(
                path.key("config").key("include_path"),
                "`include_path` only applies to link cursors: set `is_link: true`".into(),
            );
        }
        if c.add_to_body == Some(true) && c.add_to_query == Some(true) {
            rule(
                path.key("config"),
                "`add_to_body` and `add_to_query` cannot both be true".into(),
            );
        }
    }
}

/// Keys and values the model parses but Patchbay cannot honour yet: refused
/// with a message naming them, rather than accepted and silently ignored.
fn check_unsupported(config: &IntegrationConfig, rule: &mut impl FnMut(JsonPath, String)) {
    let root = JsonPath::root();
    for (name, action) in config.actions.iter().flatten() {
        let path = root.key("actions").key(name);
        let steps: Vec<(JsonPath, &crate::ActionStep)> = match action {
            crate::Action::Step(step) => vec![(path.clone(), step)],
            crate::Action::Steps(s) => s
                .steps
                .iter()
                .enumerate()
                .map(|(i, step)| (path.key("steps").index(i), step))
                .collect(),
        };
        for (path, step) in steps {
            if matches!(step, crate::ActionStep::Form(_)) {
                rule(
                    path.key("type"),
                    "action steps of type `form` are not supported yet: Patchbay cannot ask \
                     the user for fields in the middle of an action; put the fields in the \
                     credential's `fields` instead"
                        .into(),
                );
            }
        }
    }
    let verification = config
        .webhook
        .as_ref()
        .and_then(|w| w.signature_verification.as_ref());
    if verification
        .and_then(|v| v.config.as_ref())
        .is_some_and(|c| c.verification_content.is_some())
    {
        rule(
            root.key("webhook")
                .key("signature_verification")
                .key("config")
                .key("verification_content"),
            "`verification_content` is not supported yet: its meaning is not published and \
             the signature verifier would ignore it; remove it"
                .into(),
        );
    }
}
