//! Validation errors.

use std::fmt;

use patchbay_template::TemplateError;

use super::JsonPath;

/// One problem in a config, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct ValidationError {
    /// Where the problem is.
    pub path: JsonPath,
    /// What the problem is.
    pub kind: ValidationErrorKind,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationErrorKind {
    /// The text is not JSON.
    #[error("not valid JSON: {message} (line {line}, column {column})")]
    Syntax {
        /// What the parser reported.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A key the format does not have.
    #[error("unknown key `{key}`{}", suggestion_text(.suggestion))]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The closest valid key, if one is close.
        suggestion: Option<String>,
    },
    /// A required key is missing.
    #[error("required key `{key}` is missing")]
    MissingKey {
        /// The missing key.
        key: String,
    },
    /// A value of the wrong JSON type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// The expected type(s), e.g. `string` or `object or null`.
        expected: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// A value outside an enumeration.
    #[error("unknown value {value}; expected one of {}{}", expected.join(", "), suggestion_text(.suggestion))]
    BadEnumValue {
        /// The value as written (JSON).
        value: String,
        /// The allowed values.
        expected: Vec<String>,
        /// The closest allowed value, if one is close.
        suggestion: Option<String>,
    },
    /// A number below its minimum.
    #[error("{value} is below the minimum {minimum}")]
    BelowMinimum {
        /// The value.
        value: String,
        /// The minimum.
        minimum: String,
    },
    /// A JSONata expression that does not compile.
    #[error("{message}")]
    Expression {
        /// The JSONata error code, e.g. `S0202`.
        code: Option<String>,
        /// What the engine reported.
        message: String,
    },
    /// A `{{ }}` placeholder that does not parse.
    #[error("{0}")]
    Placeholder(TemplateError),
    /// A rule that spans several keys.
    #[error("{0}")]
    Rule(String),
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// Every problem found in a config, in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// The problems.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "invalid config: {one}"),
            many => {
                write!(f, "invalid config: {} problems", many.len())?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ValidationErrors {}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
