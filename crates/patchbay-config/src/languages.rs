//! String newtypes that say what language a config string is written in.
//!
//! Each serializes as a plain JSON string (or value), so configs round-trip
//! unchanged, and each marks its JSON Schema with an `x-patchbay` keyword that
//! validation uses to parse or compile the string and report errors with its
//! JSON path.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `x-patchbay` keyword value for each kind of templated field.
pub(crate) mod kind {
    pub(crate) const TEMPLATE: &str = "template";
    pub(crate) const URL_TEMPLATE: &str = "url-template";
    pub(crate) const VALUE_TEMPLATE: &str = "value-template";
    pub(crate) const JSONATA: &str = "jsonata";
}

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $description:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The string as written in the config.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "x-patchbay": $kind, "description": $description })
            }
        }
    };
}

string_newtype!(
    /// Text with `{{ }}` placeholders (Truto semantics), e.g. a header value.
    TemplateString,
    kind::TEMPLATE,
    "Text with {{ }} placeholders."
);

string_newtype!(
    /// A URL or path with `{{ }}` placeholders, encoded for their position when rendered.
    UrlTemplateString,
    kind::URL_TEMPLATE,
    "A URL or path with {{ }} placeholders."
);

string_newtype!(
    /// A JSONata expression. As in Truto's published example, a field written as
    /// one `{{path}}` placeholder is accepted and means the path `path`.
    Jsonata,
    kind::JSONATA,
    "A JSONata expression."
);

/// Any JSON value whose string leaves may hold `{{ }}` placeholders (bodies,
/// query values, token parameters).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateValue(pub Value);

impl fmt::Debug for TemplateValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<Value> for TemplateValue {
    fn from(value: Value) -> Self {
        Self(value)
    }
}

impl JsonSchema for TemplateValue {
    fn schema_name() -> Cow<'static, str> {
        "TemplateValue".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "x-patchbay": kind::VALUE_TEMPLATE,
            "description": "Any JSON value; its string leaves may hold {{ }} placeholders."
        })
    }
}

/// `true`/`false`, or a JSONata expression whose truthiness decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BoolOrJsonata {
    /// A constant.
    Bool(bool),
    /// An expression evaluated per response.
    Expression(Jsonata),
}

/// A string or a number (Truto writes some durations as `"3600"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StringOrNumber {
    /// A number.
    Number(serde_json::Number),
    /// A string, usually holding a number.
    String(String),
}

impl StringOrNumber {
    /// The value as a number of seconds, if it holds one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => n.as_f64(),
            Self::String(s) => s.trim().parse().ok(),
        }
    }
}

impl Jsonata {
    /// The JSONata source to compile. A field written as a single `{{path}}`
    /// placeholder (as Truto's published example writes `error_expression`) is
    /// read as the JSONata path `path`, with non-identifier keys backquoted.
    ///
    /// ```
    /// use patchbay_config::Jsonata;
    /// assert_eq!(Jsonata::from("{{response.error}}").expression_source(), "response.error");
    /// assert_eq!(Jsonata::from("{{headers.x-rate-limit}}").expression_source(), "headers.`x-rate-limit`");
    /// assert_eq!(Jsonata::from("status = 429").expression_source(), "status = 429");
    /// ```
    pub fn expression_source(&self) -> Cow<'_, str> {
        let trimmed = self.0.trim();
        let Some(path) = trimmed
            .strip_prefix("{{")
            .and_then(|s| s.strip_suffix("}}"))
            .map(str::trim)
        else {
            return Cow::Borrowed(&self.0);
        };
        let plain_path = !path.is_empty()
            && path.split('.').all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
        if !plain_path {
            return Cow::Borrowed(&self.0);
        }
        let segments: Vec<String> = path
            .split('.')
            .map(|seg| {
                let identifier = seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !seg.as_bytes()[0].is_ascii_digit();
                if identifier {
                    seg.to_owned()
                } else {
                    format!("`{seg}`")
                }
            })
            .collect();
        Cow::Owned(segments.join("."))
    }

    /// Compiles the expression with the default JSONata engine.
    ///
    /// # Errors
    ///
    /// The engine's compile error (syntax errors carry a JSONata code such as `S0202`).
    pub fn compile(
        &self,
    ) -> Result<
        patchbay_template::expression::Expression,
        patchbay_template::expression::ExpressionError,
    > {
        patchbay_template::expression::Expression::compile(&self.expression_source())
    }
}
