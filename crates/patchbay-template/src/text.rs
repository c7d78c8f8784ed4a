//! Handlebars text templates for bodies that need logic.

use std::fmt;
use std::sync::Arc;

use handlebars::{Context, Handlebars};
use serde_json::Value;

use crate::TemplateError;

const NAME: &str = "t";

/// A handlebars template for text that needs logic (`{{#if}}`, `{{#each}}`),
/// such as raw or XML request bodies.
///
/// Compiled once; rendering is strict (a missing variable is an error, not an
/// empty string) and never HTML-escapes, since the output is a request body, not
/// a web page. `Send + Sync`, cheap to clone.
///
/// ```
/// use patchbay_template::TextTemplate;
/// use serde_json::json;
///
/// let t = TextTemplate::compile("<ids>{{#each ids}}<id>{{this}}</id>{{/each}}</ids>").unwrap();
/// assert_eq!(t.render(&json!({"ids": [1, 2]})).unwrap(), "<ids><id>1</id><id>2</id></ids>");
/// assert!(t.render(&json!({})).is_err());
/// ```
#[derive(Clone)]
pub struct TextTemplate {
    registry: Arc<Handlebars<'static>>,
    source: Arc<str>,
}

impl fmt::Debug for TextTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TextTemplate").field(&self.source).finish()
    }
}

/// A text template that failed to render (a missing variable in strict mode, a
/// helper error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("text template failed to render: {message}")]
pub struct TextRenderError {
    /// What handlebars reported.
    pub message: String,
}

impl TextTemplate {
    /// Compiles `source`.
    ///
    /// # Errors
    ///
    /// [`TemplateError::Text`] with handlebars' message (line and column) when
    /// the template does not compile.
    pub fn compile(source: &str) -> Result<Self, TemplateError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_escape_fn(handlebars::no_escape);
        registry
            .register_template_string(NAME, source)
            .map_err(|e| TemplateError::Text {
                message: e.to_string(),
            })?;
        Ok(Self {
            registry: Arc::new(registry),
            source: source.into(),
        })
    }

    /// The template text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders against `data`.
    ///
    /// # Errors
    ///
    /// [`TextRenderError`] when a variable is missing (strict mode) or a helper fails.
    pub fn render(&self, data: &Value) -> Result<String, TextRenderError> {
        let context = Context::wraps(data).map_err(|e| TextRenderError {
            message: e.to_string(),
        })?;
        self.registry
            .render_with_context(NAME, &context)
            .map_err(|e| TextRenderError {
                message: e.to_string(),
            })
    }
}
