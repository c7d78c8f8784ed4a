//! Validating configs: every problem, with its JSON path.

mod error;
mod path;
mod rules;
mod suggest;
mod walk;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use error::{ValidationError, ValidationErrorKind, ValidationErrors};
pub use path::{JsonPath, PathSegment};

/// Parses JSON text, reporting a syntax error with line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value, ValidationErrors> {
    serde_json::from_str(text).map_err(|e| {
        ValidationErrors(vec![ValidationError {
            path: JsonPath::root(),
            kind: ValidationErrorKind::Syntax {
                message: e
                    .to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                line: e.line(),
                column: e.column(),
            },
        }])
    })
}

/// Checks `value` against `schema` (structure, enums, templates, JSONata), then
/// deserializes it. Every problem is reported, not only the first.
pub(crate) fn validate_with_schema<T: DeserializeOwned>(
    value: &Value,
    schema: &Value,
) -> Result<T, ValidationErrors> {
    let mut walker = walk::Walker::new(schema);
    walker.walk(value, schema, &mut JsonPath::root());
    if !walker.errors.is_empty() {
        return Err(ValidationErrors(walker.errors));
    }
    deserialize(value)
}

/// Deserializes with the failing path, for the rare shape the schema admits
/// but serde does not.
pub(crate) fn deserialize<T: DeserializeOwned>(value: &Value) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = JsonPath::root();
        for segment in e.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => path.push_index(*index),
                serde_path_to_error::Segment::Map { key } => path.push_key(key),
                serde_path_to_error::Segment::Enum { variant } => path.push_key(variant),
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        ValidationErrors(vec![ValidationError {
            path,
            kind: ValidationErrorKind::Rule(e.into_inner().to_string()),
        }])
    })
}

pub(crate) use rules::check_integration_rules;
