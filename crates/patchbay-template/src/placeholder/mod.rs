//! `{{ }}` placeholders with Truto's semantics.
//!
//! A [`Template`] is a string parsed once into literal text and placeholders and
//! rendered many times against a data object (usually the integrated account's
//! context plus `id`, `query` and `body`). [`ValueTemplate`] does the same for a
//! whole JSON value (a body, a header map), rendering each string leaf on its
//! own: JSON text is never rendered, so a value can never inject structure.
//!
//! # Semantics
//!
//! These follow Truto's reference implementation (`@truto/replace-placeholders`),
//! checked by a differential test against it:
//!
//! * **Paths**: `{{a.b.0}}`, negative indices (`{{items.-1}}`), keys with `-`
//!   (`{{headers.x-api-key}}`), whitespace around the path is ignored.
//! * **Fallbacks**: `{{a|b|c}}`: the first path whose value is not missing wins
//!   (`null` counts as found).
//! * **Defaults**: `{{a?:fallback}}` is used only when every path is missing; its
//!   text is taken verbatim (not trimmed) and may be typed: `{{a?:1:int}}`.
//! * **Types**: `str` (default), `int`, `num`, `bool`, `json`, `any`, `null`,
//!   `undefined`, `ignore-empty-str`; see [`PlaceholderType`].
//! * **Whole string vs embedded**: a placeholder that is the entire string yields
//!   a typed JSON value (`"{{n:int}}"` → `42`); embedded placeholders are
//!   substituted as text (`"id={{n:int}}"` → `"id=42"`). Without a type the cast
//!   is `str` even for a whole string: use `:json` or `:any` to keep objects.
//! * **Missing values** leave the placeholder text as it is, unless `:null`
//!   (→ `null`), `:undefined` (→ undefined: the key is dropped; embedded → "")
//!   or a default says otherwise.
//! * **`$truto_merge`**: in a [`ValueTemplate`], an object key `$truto_merge`
//!   whose value (a string or array of strings, usually `{{x:json}}`) resolves to
//!   objects deep-merges them into its parent object (later wins, arrays are
//!   concatenated) and disappears. The merge is `deepmerge`'s, prototype-named keys
//!   (`constructor`, `toString`, `__proto__`, …) included (see `placeholder/merge.rs`).
//! * **`:json`** parses as `JSON.parse` does (see `placeholder/json_parse.rs`); **`:int`**
//!   rounds as `parseInt` does.
//!
//! Two deliberate differences from the JavaScript implementation, both to keep
//! substituted values inert: a substituted value is never scanned for further
//! placeholders, and `$&`-style replacement patterns in values are not
//! interpreted. Unknown types and empty paths are rejected when the template is
//! parsed rather than when a value happens to be found.
//!
//! ```
//! use patchbay_template::Template;
//! use serde_json::json;
//!
//! let data = json!({"user": {"id": 42, "tags": ["a", "b"]}, "page": "3"});
//! let t = Template::parse("/users/{{user.id}}/tags/{{user.tags.-1}}").unwrap();
//! assert_eq!(t.render_to_string(&data), "/users/42/tags/b");
//!
//! // A whole-string typed placeholder keeps its JSON type.
//! assert_eq!(Template::parse("{{page:int}}").unwrap().render(&data), Some(json!(3)));
//! // Missing values leave the text alone, unless a default is given.
//! assert_eq!(Template::parse("{{nope}}").unwrap().render_to_string(&data), "{{nope}}");
//! assert_eq!(Template::parse("{{nope?:10:int}}").unwrap().render(&data), Some(json!(10)));
//! ```

mod cast;
mod js;
mod json_parse;
mod merge;
pub(crate) use js::to_js_string;
mod path;
mod syntax;
mod value;

use std::fmt;
use std::ops::Range;

use serde_json::Value;

pub use value::ValueTemplate;

use syntax::Placeholder;

/// The type a placeholder casts its value to (`{{path:type}}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlaceholderType {
    /// `str` (the default): the value as text (arrays comma-joined, objects as
    /// `[object Object]`).
    Str,
    /// `int`: the leading integer of the value (`"1.1"` → `1`), else the value unchanged.
    Int,
    /// `num`: the leading number of the value, else the value unchanged.
    Num,
    /// `bool`: `true`/`false` (booleans or strings), else the value unchanged.
    Bool,
    /// `json`: whole-string only: objects and arrays as they are, strings parsed
    /// as JSON (unparseable strings unchanged).
    Json,
    /// `any`: the value as it is.
    Any,
    /// `null`: a missing value becomes `null`; the string `"null"` becomes `null`.
    Null,
    /// `undefined`: a missing value becomes undefined (the key is dropped).
    Undefined,
    /// `ignore-empty-str`: empty strings count as missing, so a fallback can win.
    IgnoreEmptyStr,
}

impl PlaceholderType {
    /// Every type name, as written in templates.
    pub const NAMES: [&'static str; 9] = [
        "str",
        "int",
        "num",
        "bool",
        "json",
        "any",
        "null",
        "undefined",
        "ignore-empty-str",
    ];

    /// The type a name denotes, or `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "str" => Self::Str,
            "int" => Self::Int,
            "num" => Self::Num,
            "bool" => Self::Bool,
            "json" => Self::Json,
            "any" => Self::Any,
            "null" => Self::Null,
            "undefined" => Self::Undefined,
            "ignore-empty-str" => Self::IgnoreEmptyStr,
            _ => return None,
        })
    }
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A placeholder names a type that does not exist.
    #[error(
        "unsupported type `{type_name}` in placeholder `{placeholder}` at byte {offset} (expected one of: str, int, num, bool, json, any, null, undefined, ignore-empty-str)"
    )]
    UnsupportedType {
        /// The unknown type name, exactly as written.
        type_name: String,
        /// The whole placeholder.
        placeholder: String,
        /// Byte offset of the placeholder in the template.
        offset: usize,
    },
    /// A placeholder (or one of its `|` alternatives) has no path.
    #[error("placeholder `{placeholder}` at byte {offset} has an empty path")]
    EmptyPath {
        /// The whole placeholder.
        placeholder: String,
        /// Byte offset of the placeholder in the template.
        offset: usize,
    },
    /// A whole document ([`ValueTemplate::parse_document`]) holds a number, boolean or
    /// `null` where the reference implementation throws "Invalid type".
    #[error(
        "Invalid type: a template document is a string, an object or an array of them, not {value}"
    )]
    InvalidType {
        /// The offending value, as JSON.
        value: String,
    },
    /// A handlebars text template does not compile.
    #[error("text template does not compile: {message}")]
    Text {
        /// What handlebars reported.
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(Range<usize>),
    Placeholder(Box<Placeholder>),
}

/// A string parsed into literal text and `{{ }}` placeholders.
///
/// Parse once with [`Template::parse`], render many times. Rendering never fails:
/// missing values follow the placeholder's rules (see the [module docs](crate::placeholder)).
#[derive(Clone, PartialEq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

/// The result of resolving one placeholder.
enum Resolved {
    Value(Value),
    Undefined,
}

impl Template {
    /// Parses `source`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::UnsupportedType`] when a placeholder names an unknown type
    /// (`{{a:integer}}`), [`TemplateError::EmptyPath`] for `{{ }}` or `{{a| }}`.
    /// Text between braces that is not a placeholder (`{{$x}}`, `{{a[0]}}`) is
    /// literal text, not an error, as in Truto.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut last = 0;
        for range in syntax::find_placeholders(source) {
            if range.start > last {
                segments.push(Segment::Literal(last..range.start));
            }
            let placeholder = syntax::parse_placeholder(&source[range.clone()], range.start)?;
            segments.push(Segment::Placeholder(Box::new(placeholder)));
            last = range.end;
        }
        if last < source.len() {
            segments.push(Segment::Literal(last..source.len()));
        }
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// The text this template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template contains at least one placeholder.
    pub fn has_placeholders(&self) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Placeholder(_)))
    }

    /// Whether the template is exactly one placeholder (so it renders to a typed value).
    pub fn is_whole_placeholder(&self) -> bool {
        matches!(self.segments.as_slice(), [Segment::Placeholder(_)])
    }

    /// The root keys the placeholders read (`user` for `{{user.id}}`), for
    /// validation and documentation.
    pub fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Placeholder(p) => Some(p.text.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Every lookup path the placeholders read, in order: each `|` alternative and each
    /// space-separated alternative of it, without types or defaults (`{{a.b|c:int?:1}}`
    /// reads `a.b` and `c`). For validating what a template may read.
    ///
    /// ```
    /// use patchbay_template::Template;
    /// let t = Template::parse("/x/{{args.id|context.id:int}}/{{resources.tickets.id?:0}}").unwrap();
    /// assert_eq!(t.paths().collect::<Vec<_>>(), ["args.id", "context.id", "resources.tickets.id"]);
    /// ```
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.segments
            .iter()
            .filter_map(|s| match s {
                Segment::Placeholder(p) => Some(p),
                Segment::Literal(_) => None,
            })
            .flat_map(|p| p.alternatives.iter().flat_map(|a| a.path.sources()))
    }

    /// Whether rendering can yield an object or array (a whole-string placeholder
    /// with a type other than `str`), which `$truto_merge` must then look into.
    pub(crate) fn may_yield_structure(&self) -> bool {
        match self.segments.as_slice() {
            [Segment::Placeholder(p)] => {
                p.alternatives
                    .iter()
                    .any(|a| a.cast != PlaceholderType::Str)
                    || p.default
                        .as_ref()
                        .is_some_and(|d| d.cast != PlaceholderType::Str)
            }
            _ => false,
        }
    }

    /// Renders against `data`. `None` means undefined (a `:undefined`
    /// placeholder with no value): callers drop the key, header or parameter.
    ///
    /// A template without placeholders renders to its text; a whole-string
    /// placeholder renders to a typed value; anything else to a string.
    pub fn render(&self, data: &Value) -> Option<Value> {
        match self.segments.as_slice() {
            [Segment::Placeholder(p)] => match resolve(p, data, true) {
                Resolved::Value(v) => Some(v),
                Resolved::Undefined => None,
            },
            _ => Some(Value::String(self.render_embedded(data))),
        }
    }

    /// Renders to text: a typed whole-string result is converted as JavaScript's
    /// `String()` would (`42` → `"42"`, `null` → `"null"`), undefined becomes `""`.
    pub fn render_to_string(&self, data: &Value) -> String {
        match self.segments.as_slice() {
            [Segment::Placeholder(p)] => match resolve(p, data, true) {
                Resolved::Value(Value::String(s)) => s,
                Resolved::Value(v) => js::to_js_string(&v),
                Resolved::Undefined => String::new(),
            },
            _ => self.render_embedded(data),
        }
    }

    /// Renders each segment through `encode`, which receives the literal text
    /// before it and the placeholder's resolved value (`None` when undefined).
    pub(crate) fn render_with<E>(
        &self,
        data: &Value,
        mut encode: impl FnMut(&mut String, RenderedPart<'_>) -> Result<(), E>,
    ) -> Result<String, E> {
        let mut out = String::with_capacity(self.source.len());
        let whole = self.is_whole_placeholder();
        for segment in &self.segments {
            match segment {
                Segment::Literal(range) => {
                    encode(&mut out, RenderedPart::Literal(&self.source[range.clone()]))?
                }
                Segment::Placeholder(p) => {
                    let value = match resolve(p, data, whole) {
                        Resolved::Value(v) => Some(v),
                        Resolved::Undefined => None,
                    };
                    encode(
                        &mut out,
                        RenderedPart::Value {
                            placeholder: &p.text,
                            value,
                        },
                    )?;
                }
            }
        }
        Ok(out)
    }

    fn render_embedded(&self, data: &Value) -> String {
        let mut out = String::with_capacity(self.source.len());
        for segment in &self.segments {
            match segment {
                Segment::Literal(range) => out.push_str(&self.source[range.clone()]),
                Segment::Placeholder(p) => match resolve(p, data, false) {
                    Resolved::Value(Value::String(s)) => out.push_str(&s),
                    Resolved::Value(v) => out.push_str(&js::to_js_string(&v)),
                    Resolved::Undefined => {}
                },
            }
        }
        out
    }
}

/// A piece of a template being rendered, for position-aware encoders.
pub(crate) enum RenderedPart<'a> {
    Literal(&'a str),
    Value {
        placeholder: &'a str,
        value: Option<Value>,
    },
}

fn resolve(p: &Placeholder, data: &Value, whole: bool) -> Resolved {
    for alternative in &p.alternatives {
        match alternative.path.lookup(data).as_deref() {
            Some(Value::String(s)) if s.is_empty() && p.ignore_empty_strings => continue,
            Some(found) => return Resolved::Value(cast::cast(found, alternative.cast, whole)),
            None => {}
        }
    }
    if let Some(default) = &p.default {
        return Resolved::Value(cast::cast(
            &Value::String(default.text.clone()),
            default.cast,
            whole,
        ));
    }
    if p.undefined_if_missing {
        return if whole {
            Resolved::Undefined
        } else {
            Resolved::Value(Value::String(String::new()))
        };
    }
    if p.null_if_missing {
        return Resolved::Value(Value::Null);
    }
    Resolved::Value(Value::String(p.text.clone()))
}
