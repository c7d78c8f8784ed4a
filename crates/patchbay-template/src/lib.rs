//! Placeholders, text templates and JSONata expressions for Patchbay.
//!
//! Three template languages appear in Truto-format integration configs, and this
//! crate gives each one a parse-once, render-many type:
//!
//! * [`Template`] / [`ValueTemplate`]: `{{ }}` placeholders with Truto's exact
//!   semantics (types, `|` fallbacks, `?:` defaults, type-preserving whole-string
//!   substitution, `$truto_merge`).
//! * [`UrlTemplate`]: placeholders in a URL, percent-encoded for their position,
//!   with values that cannot change the URL's host.
//! * [`TextTemplate`]: handlebars (strict, no HTML escaping) for text bodies that
//!   need logic such as `{{#if}}` and `{{#each}}`.
//! * [`expression`]: JSONata expressions behind one engine trait.
#![warn(missing_docs, unreachable_pub)]

pub mod expression;
pub mod placeholder;
mod text;
mod url_template;

pub use expression::{
    Bindings, Expression, ExpressionEngine, ExpressionError, Limits, default_engine,
};
pub use placeholder::{PlaceholderType, Template, TemplateError, ValueTemplate};
pub use text::{TextRenderError, TextTemplate};
pub use url_template::{UrlError, UrlPosition, UrlTemplate};
