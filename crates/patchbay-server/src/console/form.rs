//! Submitted forms and query strings, read the same way.

use std::collections::HashMap;

/// The fields of a form body or a query string; a repeated name keeps its
/// last value.
#[derive(Debug, Default)]
pub(super) struct Form(HashMap<String, String>);

impl Form {
    /// `a=1&b=2` (a form body or a query string).
    pub(super) fn parse(encoded: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(encoded).into_owned().collect())
    }

    /// The field `name`, as sent.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every field, in no particular order.
    pub(super) fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The field `name` trimmed, `None` when it is absent or blank.
    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}
