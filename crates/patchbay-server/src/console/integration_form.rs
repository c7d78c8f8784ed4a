//! The integration form's model: seed 002's nine steps as fields, to and from
//! the JSON config the API takes, and the validator's problems mapped to the
//! field they belong to.
//!
//! Each top-level key of the config is one field: text for `label`, `logo`,
//! `icon` and `base_url`, a choice for `query_array_format`, JSON for the
//! structured keys (credentials and their variables, authorization, headers,
//! query, pagination, rate limit, resources, actions). Keys the steps do not
//! name (`error_expression`, `webhook`, `tool_tags`, ...) are kept in one JSON
//! field, "Other settings", so going from the raw JSON to the form and back
//! loses nothing. An empty field leaves its key out.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::form::Form;

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// One line of text (a string value).
    Text,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// JSON.
    Json,
}

/// One field: a top-level key of the config.
pub(super) struct Field {
    /// The config key, also the form field's name.
    pub(super) key: &'static str,
    /// The label shown.
    pub(super) label: &'static str,
    /// What to put there.
    pub(super) hint: &'static str,
    /// How it is edited.
    pub(super) kind: Kind,
    /// The step (1..=9) it belongs to.
    pub(super) step: usize,
}

/// The steps of seed 002: (title, what it is for).
pub(super) const STEPS: [(&str, &str); 9] = [
    (
        "Basic details",
        "The integration's identifier (its name: in the OAuth callback URL, link tokens and unified mappings) and how it is shown.",
    ),
    (
        "Authentication and variables",
        "How accounts authenticate: a credential (`format` oauth2, api_key, keka_oauth, oauth2_client_credentials, ...) with its `config` (OAuth hosts and paths, token details) and the `fields` (variables such as a subdomain) people fill in when they connect; or several credentials by name.",
    ),
    (
        "Authorization",
        "How requests carry the credentials, e.g. {\"format\": \"bearer\"}.",
    ),
    (
        "Base URL and headers",
        "Where every request goes (placeholders such as {{subdomain}} read the account's variables) and the headers sent with each.",
    ),
    (
        "Query parameters",
        "Query parameters sent with every request, and how arrays are written.",
    ),
    (
        "Pagination",
        "How list methods page, e.g. {\"format\": \"cursor\", \"config\": {\"cursor_path\": \"nextRecordsUrl\", \"is_link\": true}}.",
    ),
    (
        "Rate limiting",
        "JSONata expressions that recognise a rate-limited answer and how long to wait; empty: a 429 with Retry-After.",
    ),
    (
        "Resources",
        "The API surface: {resource: {method: {method, path, response_path, ...}}}.",
    ),
    (
        "Actions",
        "Steps run after an account connects (post_install), to validate it, or on demand.",
    ),
];

/// Every field of the config, in the order of the steps.
pub(super) const FIELDS: [Field; 14] = [
    Field {
        key: "label",
        label: "Label",
        hint: "The name shown in the catalog and on the connect page, e.g. Salesforce.",
        kind: Kind::Text,
        step: 1,
    },
    Field {
        key: "logo",
        label: "Logo URL",
        hint: "Optional.",
        kind: Kind::Text,
        step: 1,
    },
    Field {
        key: "icon",
        label: "Icon URL",
        hint: "Optional.",
        kind: Kind::Text,
        step: 1,
    },
    Field {
        key: "credentials",
        label: "Credentials (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 2,
    },
    Field {
        key: "authorization",
        label: "Authorization (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 3,
    },
    Field {
        key: "base_url",
        label: "Base URL",
        hint: "e.g. https://{{subdomain}}.my.salesforce.com or {{instance_url}}.",
        kind: Kind::Text,
        step: 4,
    },
    Field {
        key: "headers",
        label: "Headers (JSON)",
        hint: "An object of header names and values.",
        kind: Kind::Json,
        step: 4,
    },
    Field {
        key: "query",
        label: "Query parameters (JSON)",
        hint: "An object of names and values.",
        kind: Kind::Json,
        step: 5,
    },
    Field {
        key: "query_array_format",
        label: "Arrays in query strings",
        hint: "comma: a=1,2 · brackets: a[]=1&a[]=2 · indices: a[0]=1 · repeat: a=1&a=2.",
        kind: Kind::Choice(&["comma", "brackets", "indices", "repeat"]),
        step: 5,
    },
    Field {
        key: "pagination",
        label: "Pagination (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 6,
    },
    Field {
        key: "rate_limit",
        label: "Rate limit (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 7,
    },
    Field {
        key: "resources",
        label: "Resources (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 8,
    },
    Field {
        key: "actions",
        label: "Actions (JSON)",
        hint: "",
        kind: Kind::Json,
        step: 9,
    },
    Field {
        key: OTHER,
        label: "Other settings (JSON)",
        hint: "Every other top-level key, e.g. error_expression, webhook, tool_tags.",
        kind: Kind::Json,
        step: 9,
    },
];

/// The field holding the keys no step names.
pub(super) const OTHER: &str = "other";
/// The field of the raw JSON view.
pub(super) const RAW: &str = "raw";
/// Problems that belong to no field.
pub(super) const GENERAL: &str = "";

/// What the form holds: the integration's own fields and each config field
/// as typed.
#[derive(Debug, Default, Clone)]
pub(super) struct Draft {
    /// The identifier (the integration's `name`).
    pub(super) name: String,
    /// The category.
    pub(super) category: String,
    /// The beta flag.
    pub(super) is_beta: bool,
    /// Each config field's text, by key.
    pub(super) values: BTreeMap<&'static str, String>,
}

/// Problems by field key ([`GENERAL`] for none, [`RAW`] for the raw view).
pub(super) type Problems = BTreeMap<String, Vec<String>>;

impl Draft {
    /// The draft of a stored integration.
    pub(super) fn of(name: &str, category: Option<&str>, is_beta: bool, config: &Value) -> Self {
        let mut draft = Self {
            name: name.to_owned(),
            category: category.unwrap_or_default().to_owned(),
            is_beta,
            values: BTreeMap::new(),
        };
        draft.set_config(config);
        draft
    }

    /// Puts `config`'s keys into the fields.
    pub(super) fn set_config(&mut self, config: &Value) {
        self.values.clear();
        let empty = Map::new();
        let object = config.as_object().unwrap_or(&empty);
        let mut other = Map::new();
        for (key, value) in object {
            match FIELDS.iter().find(|f| f.key == key && f.key != OTHER) {
                Some(field) => {
                    let text = match (field.kind, value) {
                        (Kind::Text | Kind::Choice(_), Value::String(s)) => s.clone(),
                        _ => pretty(value),
                    };
                    self.values.insert(field.key, text);
                }
                None => {
                    other.insert(key.clone(), value.clone());
                }
            }
        }
        if !other.is_empty() {
            self.values.insert(OTHER, pretty(&Value::Object(other)));
        }
    }

    /// The draft a submitted form holds.
    pub(super) fn from_form(form: &Form) -> Self {
        let mut values = BTreeMap::new();
        for field in &FIELDS {
            if let Some(text) = form.get(field.key) {
                values.insert(field.key, text.to_owned());
            }
        }
        Self {
            name: form.get("name").unwrap_or_default().trim().to_owned(),
            category: form.get("category").unwrap_or_default().trim().to_owned(),
            is_beta: form.get("is_beta").is_some(),
            values,
        }
    }

    /// The text of the field `key`.
    pub(super) fn value(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    /// The config the fields make, or the problems of fields that are not
    /// JSON (or not the JSON they must be).
    pub(super) fn config(&self) -> Result<Value, Problems> {
        let mut config = Map::new();
        let mut problems = Problems::new();
        for field in &FIELDS {
            let text = self.value(field.key).trim();
            if text.is_empty() {
                continue;
            }
            match field.kind {
                Kind::Text | Kind::Choice(_) => {
                    config.insert(field.key.to_owned(), Value::String(text.to_owned()));
                }
                Kind::Json => match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(keys)) if field.key == OTHER => config.extend(keys),
                    Ok(_) if field.key == OTHER => {
                        problems
                            .entry(OTHER.to_owned())
                            .or_default()
                            .push("must be a JSON object of top-level keys".to_owned());
                    }
                    Ok(value) => {
                        config.insert(field.key.to_owned(), value);
                    }
                    Err(e) => problems
                        .entry(field.key.to_owned())
                        .or_default()
                        .push(format!("is not JSON: {e}")),
                },
            }
        }
        if problems.is_empty() {
            Ok(Value::Object(in_step_order(config)))
        } else {
            Err(problems)
        }
    }

    /// Problems of the integration's own fields.
    pub(super) fn own_problems(&self) -> Problems {
        let mut problems = Problems::new();
        if self.name.is_empty() {
            problems
                .entry("name".to_owned())
                .or_default()
                .push("an identifier is required".to_owned());
        } else if !self
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            problems.entry("name".to_owned()).or_default().push(
                "use lowercase letters, digits, `-` and `_` only (it is part of the OAuth callback URL)"
                    .to_owned(),
            );
        }
        problems
    }
}

/// `config`'s keys in the order of the steps (the others after them).
fn in_step_order(mut config: Map<String, Value>) -> Map<String, Value> {
    let mut ordered = Map::new();
    for field in &FIELDS {
        if let Some(value) = config.shift_remove(field.key) {
            ordered.insert(field.key.to_owned(), value);
        }
    }
    ordered.extend(config);
    ordered
}

/// `value` as indented JSON.
pub(super) fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The field a validator path (`pagination.config.cursor_path`, `(root)`)
/// belongs to: its first segment's field, "Other settings" for the keys no
/// step names, [`GENERAL`] for the root.
pub(super) fn field_of(path: &str) -> &'static str {
    let first = path
        .split(['.', '['])
        .next()
        .unwrap_or_default()
        .trim_start_matches('/');
    if first.is_empty() || first == "(root)" {
        return GENERAL;
    }
    FIELDS
        .iter()
        .find(|f| f.key == first && f.key != OTHER)
        .map_or(OTHER, |f| f.key)
}

/// The validator's problems of `config`, by field (`None` when it is valid).
pub(super) fn validate(config: &Value) -> Option<Problems> {
    let errors = patchbay::config::validate_integration_config(config).err()?;
    let mut problems = Problems::new();
    for error in errors.errors() {
        let path = error.path.to_string();
        let field = field_of(&path);
        let text = if path == "(root)" {
            error.kind.to_string()
        } else {
            format!("{path}: {}", error.kind)
        };
        problems.entry(field.to_owned()).or_default().push(text);
    }
    Some(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(slug: &str) -> Value {
        let path = format!(
            "{}/../../examples/catalog/{slug}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_catalog_config_goes_through_the_form_unchanged() {
        for slug in ["salesforce", "slack", "github", "zendesk", "stripe"] {
            let config = catalog(slug);
            let draft = Draft::of(slug, None, false, &config);
            assert_eq!(draft.config().unwrap(), config, "{slug}");
        }
    }

    #[test]
    fn paths_map_to_their_field() {
        assert_eq!(field_of("pagination.config.cursor_path"), "pagination");
        assert_eq!(field_of("resources.accounts.list"), "resources");
        assert_eq!(field_of("base_url"), "base_url");
        assert_eq!(field_of("error_expression"), OTHER);
        assert_eq!(field_of("(root)"), GENERAL);
        assert_eq!(field_of("credentials[0]"), "credentials");
    }

    #[test]
    fn validator_problems_land_on_their_fields() {
        let mut config = catalog("salesforce");
        config["pagination"] = serde_json::json!({"format": "cursor", "config": {"is_link": true}});
        config["base_url"] = serde_json::json!(5);
        let problems = validate(&config).expect("invalid");
        assert!(problems.contains_key("pagination"), "{problems:?}");
        assert!(problems.contains_key("base_url"), "{problems:?}");
    }

    #[test]
    fn fields_that_are_not_json_are_reported_each() {
        let mut draft = Draft::default();
        draft.values.insert("pagination", "{".into());
        draft.values.insert("resources", "[1,".into());
        draft.values.insert(OTHER, "[]".into());
        let problems = draft.config().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
