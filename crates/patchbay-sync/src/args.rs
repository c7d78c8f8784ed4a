//! `args_schema`: the arguments a run accepts, and the check of a run's `args`.

use chrono::{DateTime, NaiveDate};
use patchbay_config::{JsonPath, ValidationError, ValidationErrorKind};
use serde_json::{Map, Value};

use crate::validate::rule;

/// The JSON types an argument may declare.
const TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// One declared argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgSpec {
    /// The argument's name (`args.<name>`).
    pub name: String,
    /// Its JSON type, when declared.
    pub arg_type: Option<String>,
    /// Its format (`date`, `date-time`, `updated_at`, `integrated_account_id`, ...).
    pub format: Option<String>,
    /// Whether a run must give it.
    pub required: bool,
    /// The value used when a run does not give it.
    pub default: Option<Value>,
}

/// The arguments of a job, read from either form of `args_schema`: the JSON Schema
/// object `{type: "object", properties: {name: {...}}, required: [...]}` or Truto's flat
/// map `{name: {type, format, required}}`. `required` may be a list on the object or a
/// boolean on a property.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArgsSpec {
    /// The declared arguments, in order.
    pub args: Vec<ArgSpec>,
    /// Whether arguments that are not declared are refused (`additionalProperties:
    /// false`).
    pub closed: bool,
}

impl ArgsSpec {
    /// Reads `schema` (the job's `args_schema`), reporting problems under `path`.
    pub(crate) fn read(
        schema: &Value,
        path: &JsonPath,
        problems: &mut Vec<ValidationError>,
    ) -> Self {
        let Some(object) = schema.as_object() else {
            problems.push(wrong_type(path.clone(), "object", schema));
            return Self::default();
        };
        let json_schema =
            object.contains_key("properties") || object.get("type") == Some(&"object".into());
        if !json_schema {
            let args = object
                .iter()
                .filter_map(|(name, spec)| arg(name, spec, false, &path.key(name), problems))
                .collect();
            return Self {
                args,
                closed: false,
            };
        }
        let listed: Vec<&str> = match object.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let properties_path = path.key("properties");
        let args = match object.get("properties") {
            None => Vec::new(),
            Some(Value::Object(properties)) => properties
                .iter()
                .filter_map(|(name, spec)| {
                    arg(
                        name,
                        spec,
                        listed.contains(&name.as_str()),
                        &properties_path.key(name),
                        problems,
                    )
                })
                .collect(),
            Some(other) => {
                problems.push(wrong_type(properties_path, "object", other));
                Vec::new()
            }
        };
        for name in &listed {
            if !args.iter().any(|a: &ArgSpec| a.name == *name) {
                problems.push(rule(
                    path.key("required"),
                    format!("`{name}` is required but not a property"),
                ));
            }
        }
        let closed = object.get("additionalProperties") == Some(&Value::Bool(false));
        Self { args, closed }
    }

    /// Whether `name` is a declared argument.
    pub fn declares(&self, name: &str) -> bool {
        self.args.iter().any(|a| a.name == name)
    }

    /// Checks a run's `args` and fills the declared defaults: every problem at once,
    /// with paths under `args`.
    ///
    /// # Errors
    ///
    /// A missing required argument, a value of the wrong type or format, an undeclared
    /// argument when the schema is closed.
    pub fn check(
        &self,
        args: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<ValidationError>> {
        let root = JsonPath::root().key("args");
        let mut problems = Vec::new();
        let mut filled = args.clone();
        for spec in &self.args {
            let path = root.key(&spec.name);
            match args.get(&spec.name) {
                None | Some(Value::Null) if spec.default.is_some() => {
                    filled.insert(spec.name.clone(), spec.default.clone().unwrap_or_default());
                }
                None if spec.required => problems.push(ValidationError {
                    path,
                    kind: ValidationErrorKind::MissingKey {
                        key: spec.name.clone(),
                    },
                }),
                None => {}
                Some(value) => problems.extend(spec.check(value, path)),
            }
        }
        if self.closed {
            for key in args.keys().filter(|k| !self.declares(k)) {
                problems.push(ValidationError {
                    path: root.key(key),
                    kind: ValidationErrorKind::UnknownKey {
                        key: key.clone(),
                        suggestion: None,
                    },
                });
            }
        }
        if problems.is_empty() {
            Ok(filled)
        } else {
            Err(problems)
        }
    }
}

impl ArgSpec {
    fn check(&self, value: &Value, path: JsonPath) -> Option<ValidationError> {
        if let Some(expected) = &self.arg_type
            && !has_type(value, expected)
        {
            return Some(wrong_type(path, expected, value));
        }
        let text = value.as_str()?;
        let valid = match self.format.as_deref() {
            Some("date-time" | "updated_at") => DateTime::parse_from_rfc3339(text).is_ok(),
            Some("date") => {
                NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
                    || DateTime::parse_from_rfc3339(text).is_ok()
            }
            _ => true,
        };
        (!valid).then(|| {
            rule(
                path,
                format!(
                    "`{text}` is not a valid {} (expected ISO 8601)",
                    self.format.as_deref().unwrap_or_default()
                ),
            )
        })
    }
}

fn arg(
    name: &str,
    spec: &Value,
    listed: bool,
    path: &JsonPath,
    problems: &mut Vec<ValidationError>,
) -> Option<ArgSpec> {
    let Some(spec) = spec.as_object() else {
        problems.push(wrong_type(path.clone(), "object", spec));
        return None;
    };
    let arg_type = match spec.get("type") {
        None => None,
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => Some(t.clone()),
        Some(other) => {
            problems.push(ValidationError {
                path: path.key("type"),
                kind: ValidationErrorKind::BadEnumValue {
                    value: other.to_string(),
                    expected: TYPES.iter().map(|t| (*t).to_owned()).collect(),
                    suggestion: None,
                },
            });
            None
        }
    };
    let required = listed || spec.get("required") == Some(&Value::Bool(true));
    Some(ArgSpec {
        name: name.to_owned(),
        arg_type,
        format: spec
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_owned),
        required,
        default: spec.get("default").cloned(),
    })
}

fn has_type(value: &Value, expected: &str) -> bool {
    match expected {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn wrong_type(path: JsonPath, expected: &str, found: &Value) -> ValidationError {
    ValidationError {
        path,
        kind: ValidationErrorKind::WrongType {
            expected: expected.to_owned(),
            found: patchbay_config::json_kind(found),
        },
    }
}
