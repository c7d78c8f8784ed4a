//! The integration form's model: seed 002's nine steps as fields, to and from
//! the JSON config the API takes, and the validator's problems mapped to the
//! field they belong to.
//!
//! Each top-level key of the config is one field: text for `label`, `logo`,
//! `icon` and `base_url`, a choice for `query_array_format`, one input per
//! key for credentials (and their variables), authorization, headers, query,
//! pagination and rate limit ([`super::structured`], shapes in
//! [`super::field_shapes`]) with a JSON text area for what those inputs do
//! not cover, and repeatable groups for resources and their methods
//! ([`super::resource_inputs`]) and actions and their steps
//! ([`super::action_inputs`]), again with JSON for the rest. Keys the steps do not name
//! (`error_expression`, `webhook`, `tool_tags`, ...) are kept in one JSON
//! field, "Other settings", so going from the raw JSON to the form and back
//! loses nothing. An empty field leaves its key out.

use std::collections::BTreeMap;

use patchbay::config::PathSegment;
use serde_json::{Map, Value};

use super::field_shapes::{AUTHORIZATION, CREDENTIALS, NAME_VALUES, PAGINATION, RATE_LIMIT};
use super::form::Form;
use super::structured::{self, Inputs, Problem, Shape};
use super::{action_inputs, resource_inputs};

/// How a field is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// One line of text (a string value).
    Text,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// JSON.
    Json,
    /// One input per key of this shape, and JSON for the rest.
    Inputs(&'static Shape),
    /// Repeatable groups, and JSON for the rest.
    Groups(Groups),
}

impl Kind {
    /// The inputs of `value` (the field `key`'s) and what they do not hold:
    /// all of it for a field without inputs.
    fn split(self, key: &str, value: &Value) -> (Inputs, Option<Value>) {
        match self {
            Self::Inputs(shape) => structured::split(key, shape, value),
            Self::Groups(groups) => groups.split(value),
            Self::Text | Self::Choice(_) | Self::Json => (Inputs::new(), Some(value.clone())),
        }
    }

    /// The value the inputs of the field `key` make with `more` (its JSON
    /// text area): `more` itself for a field without inputs.
    fn join(
        self,
        key: &str,
        inputs: &Inputs,
        more: Option<Value>,
    ) -> Result<Option<Value>, Vec<Problem>> {
        match self {
            Self::Inputs(shape) => structured::join(key, shape, inputs, more),
            Self::Groups(groups) => groups.join(inputs, more),
            Self::Text | Self::Choice(_) | Self::Json => Ok(more),
        }
    }
}

/// The fields edited as repeatable groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Groups {
    /// `resources`: a group per resource and per method.
    Resources,
    /// `actions`: a group per action and per step.
    Actions,
}

impl Groups {
    /// The groups' inputs of `value`, and what no group holds.
    fn split(self, value: &Value) -> (Inputs, Option<Value>) {
        match self {
            Self::Resources => resource_inputs::split(value),
            Self::Actions => action_inputs::split(value),
        }
    }

    /// The value the groups make with `more` (the field's JSON text area).
    fn join(self, inputs: &Inputs, more: Option<Value>) -> Result<Option<Value>, Vec<Problem>> {
        match self {
            Self::Resources => resource_inputs::join(inputs, more),
            Self::Actions => action_inputs::join(inputs, more),
        }
    }

    /// The input a problem at `pointer` inside the field belongs to.
    fn locate(self, inputs: &Inputs, pointer: &str) -> String {
        match self {
            Self::Resources => resource_inputs::locate(inputs, pointer),
            Self::Actions => action_inputs::locate(inputs, pointer),
        }
    }
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
        label: "Credentials",
        hint: "",
        kind: Kind::Inputs(&CREDENTIALS),
        step: 2,
    },
    Field {
        key: "authorization",
        label: "Authorization",
        hint: "",
        kind: Kind::Inputs(&AUTHORIZATION),
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
        label: "Headers",
        hint: "An object of header names and values.",
        kind: Kind::Inputs(&NAME_VALUES),
        step: 4,
    },
    Field {
        key: "query",
        label: "Query parameters",
        hint: "An object of names and values.",
        kind: Kind::Inputs(&NAME_VALUES),
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
        label: "Pagination",
        hint: "",
        kind: Kind::Inputs(&PAGINATION),
        step: 6,
    },
    Field {
        key: "rate_limit",
        label: "Rate limit",
        hint: "",
        kind: Kind::Inputs(&RATE_LIMIT),
        step: 7,
    },
    Field {
        key: "resources",
        label: "Resources",
        hint: "",
        kind: Kind::Groups(Groups::Resources),
        step: 8,
    },
    Field {
        key: "actions",
        label: "Actions",
        hint: "",
        kind: Kind::Groups(Groups::Actions),
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
    /// Each input's text, by name: a config field's key, or the name of one
    /// of its inputs ([`structured`]).
    pub(super) values: Inputs,
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
            values: Inputs::new(),
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
                        (Kind::Inputs(_) | Kind::Groups(_), _) => {
                            let (inputs, rest) = field.kind.split(field.key, value);
                            self.values.extend(inputs);
                            match rest {
                                Some(rest) => pretty(&rest),
                                None => continue,
                            }
                        }
                        _ => pretty(value),
                    };
                    self.values.insert(field.key.to_owned(), text);
                }
                None => {
                    other.insert(key.clone(), value.clone());
                }
            }
        }
        if !other.is_empty() {
            self.values
                .insert(OTHER.to_owned(), pretty(&Value::Object(other)));
        }
    }

    /// The draft a submitted form holds.
    pub(super) fn from_form(form: &Form) -> Self {
        let mut values = Inputs::new();
        for field in &FIELDS {
            if let Some(text) = form.get(field.key) {
                values.insert(field.key.to_owned(), text.to_owned());
            }
            if let Kind::Inputs(_) | Kind::Groups(_) = field.kind {
                let prefix = format!("{}-", field.key);
                for (name, text) in form.entries().filter(|(n, _)| n.starts_with(&prefix)) {
                    values.insert(name.to_owned(), text.to_owned());
                }
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
            if let Kind::Inputs(_) | Kind::Groups(_) = field.kind {
                let more = match text {
                    "" => None,
                    text => match serde_json::from_str::<Value>(text) {
                        Ok(value) => Some(value),
                        Err(e) => {
                            problems
                                .entry(field.key.to_owned())
                                .or_default()
                                .push(format!("is not JSON: {e}"));
                            continue;
                        }
                    },
                };
                match field.kind.join(field.key, &self.values, more) {
                    Ok(Some(value)) => {
                        config.insert(field.key.to_owned(), value);
                    }
                    Ok(None) => {}
                    Err(found) => {
                        for (input, problem) in found {
                            problems.entry(input).or_default().push(problem);
                        }
                    }
                }
                continue;
            }
            if text.is_empty() {
                continue;
            }
            match field.kind {
                Kind::Text | Kind::Choice(_) => {
                    config.insert(field.key.to_owned(), Value::String(text.to_owned()));
                }
                Kind::Inputs(_) | Kind::Groups(_) => {}
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

/// The field a top-level key belongs to (its key and kind): its own,
/// "Other settings" for the keys no step names.
fn field_of(key: &str) -> (&'static str, Kind) {
    FIELDS
        .iter()
        .find(|f| f.key == key && f.key != OTHER)
        .map_or((OTHER, Kind::Json), |f| (f.key, f.kind))
}

impl Draft {
    /// The input a validator path of `config` (the config this draft made)
    /// belongs to: the input of that key when it has one, else its field;
    /// [`GENERAL`] for the root.
    pub(super) fn input_of(&self, config: &Value, path: &[PathSegment]) -> String {
        let Some((PathSegment::Key(key), inside)) = path.split_first() else {
            return GENERAL.to_owned();
        };
        let (field, kind) = field_of(key);
        let pointer: String = inside
            .iter()
            .map(|segment| match segment {
                PathSegment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                PathSegment::Index(i) => format!("/{i}"),
            })
            .collect();
        match kind {
            Kind::Inputs(shape) => {
                structured::locate(field, shape, &config[field], &self.values, &pointer)
            }
            Kind::Groups(groups) => groups.locate(&self.values, &pointer),
            _ => field.to_owned(),
        }
    }

    /// The validator's problems of `config` (the config this draft made), by
    /// input (`None` when it is valid).
    pub(super) fn validate(&self, config: &Value) -> Option<Problems> {
        let errors = patchbay::config::validate_integration_config(config).err()?;
        let mut problems = Problems::new();
        for error in errors.errors() {
            let path = error.path.to_string();
            let input = self.input_of(config, error.path.segments());
            let text = if path == "(root)" {
                error.kind.to_string()
            } else {
                format!("{path}: {}", error.kind)
            };
            problems.entry(input).or_default().push(text);
        }
        Some(problems)
    }
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
        let dir = format!("{}/../../examples/catalog", env!("CARGO_MANIFEST_DIR"));
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(slug) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let config = catalog(slug);
            let draft = Draft::of(slug, None, false, &config);
            assert_eq!(draft.config().unwrap(), config, "{slug}");
            // Through the form as a browser sends it: every input, blank ones too.
            let mut form = draft.values.clone();
            form.insert("resources-99-name".into(), String::new());
            form.insert("actions-99-steps-0-type".into(), String::new());
            let posted = Draft {
                values: form,
                ..Draft::default()
            };
            assert_eq!(posted.config().unwrap(), config, "{slug}, posted");
            count += 1;
        }
        assert!(count >= 10, "{count} catalog configs");
    }

    #[test]
    fn resources_and_actions_get_groups_and_nothing_is_left_as_json() {
        let draft = Draft::of("salesforce", None, false, &catalog("salesforce"));
        assert_eq!(draft.value("resources-1-name"), "accounts");
        assert_eq!(
            draft.value("resources-1-methods-0-response_path"),
            "records"
        );
        assert_eq!(
            draft.value("resources-1-methods-0-query-0-value"),
            "SELECT Id, Name FROM Account"
        );
        assert_eq!(draft.value("resources"), "", "every resource in a group");
        assert_eq!(draft.value("actions-0-name"), "post_install");
        assert_eq!(draft.value("actions-0-steps-1-type"), "transform");
        assert_eq!(draft.value("actions"), "", "every action in a group");
        let raw = serde_json::json!({"resources": {"bad": [1]}, "actions": {"x": 1}});
        let draft = Draft::of("x", None, false, &raw);
        assert!(draft.value("resources").contains("bad"));
        assert_eq!(draft.config().unwrap(), raw);
    }

    fn input_of(draft: &Draft, config: &Value, path: &[&str]) -> String {
        let segments: Vec<PathSegment> = path
            .iter()
            .map(|s| match s.parse() {
                Ok(i) => PathSegment::Index(i),
                Err(_) => PathSegment::Key((*s).to_owned()),
            })
            .collect();
        draft.input_of(config, &segments)
    }

    #[test]
    fn paths_map_to_their_input() {
        let config = catalog("salesforce");
        let draft = Draft::of("salesforce", None, false, &config);
        let at = |path: &[&str]| input_of(&draft, &config, path);
        assert_eq!(
            at(&["pagination", "config", "cursor_path"]),
            "pagination-cursor-config-cursor_path"
        );
        assert_eq!(at(&["pagination", "format"]), "pagination-format");
        assert_eq!(
            at(&["credentials", "config", "auth", "tokenHost"]),
            "credentials-oauth-config-auth-tokenHost"
        );
        assert_eq!(
            at(&["resources", "accounts", "list"]),
            "resources-1-methods-0-name"
        );
        assert_eq!(
            at(&["resources", "accounts", "list", "path"]),
            "resources-1-methods-0-path"
        );
        assert_eq!(
            at(&["resources", "accounts", "create", "body"]),
            "resources-1-methods-2-more"
        );
        assert_eq!(
            at(&["actions", "post_install", "steps", "1", "config"]),
            "actions-0-steps-1-expression"
        );
        assert_eq!(at(&["base_url"]), "base_url");
        assert_eq!(at(&["error_expression"]), OTHER);
        assert_eq!(at(&[]), GENERAL);
    }

    #[test]
    fn validator_problems_land_on_their_inputs() {
        let mut config = catalog("salesforce");
        config["pagination"] = serde_json::json!({"format": "cursor", "config": {"is_link": true}});
        config["base_url"] = serde_json::json!(5);
        config["resources"]["accounts"]["list"]["method"] = serde_json::json!("fetch");
        config["resources"]["users"]["get"]
            .as_object_mut()
            .unwrap()
            .remove("path");
        config["actions"]["post_install"]["steps"][1]["config"] = serde_json::json!("$$$(");
        let draft = Draft::of("salesforce", None, false, &config);
        let problems = draft.validate(&config).expect("invalid");
        // An HTTP method the select does not have stays in the method's JSON.
        assert!(
            problems.contains_key("resources-1-methods-0-more"),
            "{problems:?}"
        );
        assert!(
            problems.contains_key("resources-3-methods-0-path"),
            "{problems:?}"
        );
        assert!(
            problems.contains_key("actions-0-steps-1-expression"),
            "{problems:?}"
        );
        assert!(
            problems.contains_key("pagination-cursor-config-cursor_path"),
            "{problems:?}"
        );
        assert!(problems.contains_key("base_url"), "{problems:?}");
    }

    #[test]
    fn salesforce_pagination_and_credentials_get_an_input_per_key() {
        let draft = Draft::of("salesforce", None, false, &catalog("salesforce"));
        assert_eq!(draft.value("pagination-format"), "cursor");
        assert_eq!(
            draft.value("pagination-cursor-config-cursor_path"),
            "nextRecordsUrl"
        );
        assert_eq!(draft.value("pagination-cursor-config-include_path"), "true");
        assert_eq!(draft.value("pagination"), "", "nothing left for the JSON");
        assert_eq!(
            draft.value("credentials-oauth-config-scope"),
            "api, refresh_token"
        );
        assert_eq!(draft.value("authorization-format"), "bearer");
        let zendesk = Draft::of("zendesk", None, false, &catalog("zendesk"));
        assert!(
            zendesk
                .values
                .keys()
                .any(|k| k.starts_with("credentials-fields-0-")),
            "{:?}",
            zendesk.values
        );
    }

    #[test]
    fn fields_that_are_not_json_are_reported_each() {
        let mut draft = Draft::default();
        draft.values.insert("pagination".into(), "{".into());
        draft.values.insert("resources".into(), "[1,".into());
        draft.values.insert(OTHER.into(), "[]".into());
        let problems = draft.config().unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
