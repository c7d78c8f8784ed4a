//! What a method reads of the caller's input, found in its placeholders.

use patchbay_config::ResourceMethod;
use patchbay_template::Template;
use serde_json::Value;

/// The caller inputs a method's templates read.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Inputs {
    /// `{{id}}` appears.
    pub(crate) id: bool,
    /// Keys read as `{{query.<key>}}`, in order of appearance.
    pub(crate) query: Vec<String>,
    /// Keys read as `{{body.<key>}}`, in order of appearance.
    pub(crate) body: Vec<String>,
    /// The whole body is read (`{{body}}`, `{{body:json}}`).
    pub(crate) whole_body: bool,
}

impl Inputs {
    /// The inputs of every template of `method`: path, base URL, headers, query, body.
    pub(crate) fn of(method: &ResourceMethod) -> Self {
        let mut inputs = Self::default();
        inputs.scan(method.path.as_str());
        if let Some(base) = &method.base_url {
            inputs.scan(base.as_str());
        }
        for header in method.headers.iter().flat_map(|h| h.values().flatten()) {
            inputs.scan(header.as_str());
        }
        for value in method.query.iter().flat_map(|q| q.values().flatten()) {
            inputs.scan_value(&value.0);
        }
        if let Some(body) = &method.body {
            inputs.scan_value(&body.0);
        }
        inputs
    }

    fn scan_value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.scan(text),
            Value::Array(items) => items.iter().for_each(|v| self.scan_value(v)),
            Value::Object(map) => map.values().for_each(|v| self.scan_value(v)),
            _ => {}
        }
    }

    fn scan(&mut self, text: &str) {
        // A template that does not parse fails validation elsewhere; it reads nothing here.
        let Ok(template) = Template::parse(text) else {
            return;
        };
        for placeholder in template.placeholders() {
            for path in alternatives(placeholder) {
                self.read(path);
            }
        }
    }

    fn read(&mut self, path: &str) {
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or_default();
        let key = segments.next().filter(|k| !k.is_empty());
        match (root, key) {
            ("id", None) => self.id = true,
            ("query", Some(key)) => push_unique(&mut self.query, key),
            ("body", Some(key)) => push_unique(&mut self.body, key),
            ("body", None) => self.whole_body = true,
            _ => {}
        }
    }
}

fn push_unique(keys: &mut Vec<String>, key: &str) {
    if !keys.iter().any(|k| k == key) {
        keys.push(key.to_owned());
    }
}

/// The paths of a placeholder's alternatives: `{{query.a:int|body.b ?: 1}}` →
/// `query.a`, `body.b` (types and the default dropped).
fn alternatives(placeholder: &str) -> impl Iterator<Item = &str> {
    let inner = placeholder
        .strip_prefix("{{")
        .and_then(|p| p.strip_suffix("}}"))
        .unwrap_or(placeholder);
    let choices = inner.split("?:").next().unwrap_or_default();
    choices
        .split('|')
        .map(|choice| choice.split(':').next().unwrap_or_default().trim())
        .filter(|path| !path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn method(value: Value) -> ResourceMethod {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn id_query_and_body_keys_are_found_in_every_template() {
        let inputs = Inputs::of(&method(json!({
            "path": "/repos/{{owner}}/{{repo}}/issues/{{id}}",
            "headers": {"x-team": "{{query.team}}"},
            "query": {"state": "{{query.state|query.status ?: open}}", "n": "{{query.per_page:int}}"},
            "body": {"title": "{{body.title}}", "labels": ["{{body.labels:json}}"]}
        })));
        assert!(inputs.id);
        assert_eq!(inputs.query, ["team", "state", "status", "per_page"]);
        assert_eq!(inputs.body, ["title", "labels"]);
        assert!(!inputs.whole_body);
    }

    #[test]
    fn a_whole_body_placeholder_is_seen() {
        let inputs = Inputs::of(&method(
            json!({"path": "/t", "body": {"ticket": "{{body:json}}"}}),
        ));
        assert!(inputs.whole_body);
        assert!(!inputs.id);
        assert!(inputs.body.is_empty());
    }
}
