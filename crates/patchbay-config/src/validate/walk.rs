//! Validation by walking a value alongside the JSON Schema generated from the types.
//!
//! The schema is the single source of truth for structure (keys, types, enums,
//! tagged unions); its `x-patchbay` markers say which strings are templates or
//! JSONata, which this walk parses or compiles. Every problem is collected, so a
//! config author sees all of them at once.

use patchbay_template::{Template, UrlTemplate};
use serde_json::{Map, Value};

use super::{JsonPath, ValidationError, ValidationErrorKind, suggest};
use crate::languages::{Jsonata, kind};

/// Walks `value` against `schema`, whose `$ref`s point into `root["$defs"]`.
pub(crate) struct Walker<'s> {
    root: &'s Value,
    pub(crate) errors: Vec<ValidationError>,
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "number" => value.is_number(),
        other => other == type_name(value),
    }
}

impl<'s> Walker<'s> {
    pub(crate) fn new(root: &'s Value) -> Self {
        Self {
            root,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, path: &JsonPath, kind: ValidationErrorKind) {
        self.errors.push(ValidationError {
            path: path.clone(),
            kind,
        });
    }

    fn resolve(&self, schema: &'s Value) -> &'s Value {
        let mut schema = schema;
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference
                .strip_prefix("#/$defs/")
                .and_then(|name| self.root.get("$defs").and_then(|defs| defs.get(name)));
            match target {
                Some(t) => schema = t,
                None => break,
            }
        }
        schema
    }

    /// The JSON types a schema accepts at its top level, if it says.
    fn accepted_types(&self, schema: &'s Value) -> Option<Vec<String>> {
        let schema = self.resolve(schema);
        match schema.get("type") {
            Some(Value::String(t)) => Some(vec![t.clone()]),
            Some(Value::Array(ts)) => Some(
                ts.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => {
                let branches = schema
                    .get("anyOf")
                    .or_else(|| schema.get("oneOf"))?
                    .as_array()?;
                let mut all = Vec::new();
                for branch in branches {
                    all.extend(self.accepted_types(branch)?);
                }
                Some(all)
            }
        }
    }

    pub(crate) fn walk(&mut self, value: &Value, schema: &'s Value, path: &mut JsonPath) {
        let schema = self.resolve(schema);
        if schema.as_bool() == Some(true) {
            return;
        }
        if let Some(tag) = schema.get("x-patchbay-tag").and_then(Value::as_str) {
            return self.walk_tagged(value, schema, tag, path);
        }
        if let Some(branches) = schema
            .get("anyOf")
            .or_else(|| schema.get("oneOf"))
            .and_then(Value::as_array)
        {
            return self.walk_branches(value, branches, path);
        }
        if let Some(types) = self.accepted_types(schema)
            && !types.iter().any(|t| type_matches(t, value))
        {
            let expected = types.join(" or ");
            self.error(
                path,
                ValidationErrorKind::WrongType {
                    expected,
                    found: type_name(value),
                },
            );
            return;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            self.bad_enum(value, allowed, path);
            return;
        }
        if let Some(constant) = schema.get("const")
            && constant != value
        {
            self.bad_enum(value, std::slice::from_ref(constant), path);
            return;
        }
        if let (Some(minimum), Some(n)) = (
            schema.get("minimum").and_then(Value::as_f64),
            value.as_f64(),
        ) && n < minimum
        {
            self.error(
                path,
                ValidationErrorKind::BelowMinimum {
                    value: value.to_string(),
                    minimum: minimum.to_string(),
                },
            );
        }
        if let Some(marker) = schema.get("x-patchbay").and_then(Value::as_str) {
            self.check_language(value, marker, path);
        }
        match value {
            Value::Object(map) => self.walk_object(map, schema, path),
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        path.push_index(i);
                        self.walk(item, item_schema, path);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    fn walk_object(&mut self, map: &Map<String, Value>, schema: &'s Value, path: &mut JsonPath) {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(key) {
                    path.push_key(key);
                    self.error(
                        path,
                        ValidationErrorKind::MissingKey {
                            key: key.to_owned(),
                        },
                    );
                    path.pop();
                }
            }
        }
        let additional = schema.get("additionalProperties");
        for (key, item) in map {
            path.push_key(key);
            match (properties.and_then(|p| p.get(key)), additional) {
                (Some(property), _) => self.walk(item, property, path),
                (None, Some(Value::Bool(false))) => {
                    let known = properties
                        .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                        .unwrap_or_default();
                    let suggestion = suggest::closest_key(key, &known);
                    self.error(
                        path,
                        ValidationErrorKind::UnknownKey {
                            key: key.clone(),
                            suggestion,
                        },
                    );
                }
                (None, Some(extra)) if extra.is_object() => self.walk(item, extra, path),
                (None, _) => {}
            }
            path.pop();
        }
    }

    /// A `{tag, content}` union: pick the branch by its tag.
    fn walk_tagged(&mut self, value: &Value, schema: &'s Value, tag: &str, path: &mut JsonPath) {
        let Some(map) = value.as_object() else {
            self.error(
                path,
                ValidationErrorKind::WrongType {
                    expected: "object".into(),
                    found: type_name(value),
                },
            );
            return;
        };
        let branches = schema
            .get("oneOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let tag_of =
            |branch: &'s Value| branch.pointer(&format!("/properties/{tag}/const")).cloned();
        let names: Vec<Value> = branches.iter().filter_map(tag_of).collect();
        match map.get(tag) {
            None => {
                path.push_key(tag);
                self.error(
                    path,
                    ValidationErrorKind::MissingKey {
                        key: tag.to_owned(),
                    },
                );
                path.pop();
            }
            Some(found) => match branches.iter().find(|b| tag_of(b).as_ref() == Some(found)) {
                Some(branch) => self.walk(value, branch, path),
                None => {
                    path.push_key(tag);
                    if found.is_string() {
                        self.bad_enum(found, &names, path);
                    } else {
                        self.error(
                            path,
                            ValidationErrorKind::WrongType {
                                expected: "string".into(),
                                found: type_name(found),
                            },
                        );
                    }
                    path.pop();
                }
            },
        }
    }

    /// `anyOf`/`oneOf` without a tag: valid if any branch is; otherwise report
    /// the errors of the branch that fits best.
    fn walk_branches(&mut self, value: &Value, branches: &'s [Value], path: &mut JsonPath) {
        // A unit enum with documented values: `oneOf` of `const` branches.
        let constants: Option<Vec<Value>> = branches
            .iter()
            .map(|b| self.resolve(b).get("const").cloned())
            .collect();
        if let Some(constants) = constants {
            if !constants.contains(value) {
                self.bad_enum(value, &constants, path);
            }
            return;
        }
        let mut best: Option<Vec<ValidationError>> = None;
        let mut expected_types = Vec::new();
        for branch in branches {
            if let Some(types) = self.accepted_types(branch)
                && !types.iter().any(|t| type_matches(t, value))
            {
                expected_types.extend(types);
                continue;
            }
            let mut trial = Walker::new(self.root);
            trial.walk(value, branch, path);
            if trial.errors.is_empty() {
                return;
            }
            // Fewer errors fit better; among equals, errors deeper in the value
            // mean the branch matched more of its structure.
            let rank = |errors: &[ValidationError]| {
                let depth = errors
                    .iter()
                    .map(|e| e.path.segments().len())
                    .max()
                    .unwrap_or(0);
                (errors.len(), std::cmp::Reverse(depth))
            };
            if best.as_ref().is_none_or(|b| rank(&trial.errors) < rank(b)) {
                best = Some(trial.errors);
            }
        }
        match best {
            Some(errors) => self.errors.extend(errors),
            None => {
                expected_types.dedup();
                let expected = expected_types.join(" or ");
                self.error(
                    path,
                    ValidationErrorKind::WrongType {
                        expected,
                        found: type_name(value),
                    },
                );
            }
        }
    }

    fn bad_enum(&mut self, value: &Value, allowed: &[Value], path: &JsonPath) {
        let expected: Vec<String> = allowed
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        let suggestion = value.as_str().and_then(|s| {
            suggest::closest_key(s, &expected.iter().map(String::as_str).collect::<Vec<_>>())
        });
        self.error(
            path,
            ValidationErrorKind::BadEnumValue {
                value: value.to_string(),
                expected,
                suggestion,
            },
        );
    }

    /// Parses or compiles a string written in one of the config's languages.
    fn check_language(&mut self, value: &Value, marker: &str, path: &mut JsonPath) {
        match (marker, value) {
            (kind::TEMPLATE, Value::String(s)) => {
                if let Err(e) = Template::parse(s) {
                    self.error(path, ValidationErrorKind::Placeholder(e));
                }
            }
            (kind::URL_TEMPLATE, Value::String(s)) => {
                if let Err(e) = UrlTemplate::parse(s) {
                    self.error(path, ValidationErrorKind::Placeholder(e));
                }
            }
            (kind::JSONATA, Value::String(s)) => {
                if let Err(e) = Jsonata(s.clone()).compile() {
                    let code = e.code().map(str::to_owned);
                    self.error(
                        path,
                        ValidationErrorKind::Expression {
                            code,
                            message: e.to_string(),
                        },
                    );
                }
            }
            (kind::VALUE_TEMPLATE, _) => self.check_value_template(value, path),
            _ => {}
        }
    }

    fn check_value_template(&mut self, value: &Value, path: &mut JsonPath) {
        match value {
            Value::String(s) => {
                if let Err(e) = Template::parse(s) {
                    self.error(path, ValidationErrorKind::Placeholder(e));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push_index(i);
                    self.check_value_template(item, path);
                    path.pop();
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    path.push_key(key);
                    self.check_value_template(item, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }
}
