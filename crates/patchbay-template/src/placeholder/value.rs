//! Rendering whole JSON values: every string leaf is a template, keys are not.

use serde_json::{Map, Value};

use super::merge::{deepmerge, drop_proto_keys};
use super::{Template, TemplateError};

const MERGE_KEY: &str = "$truto_merge";

/// A JSON value whose string leaves were parsed as [`Template`]s.
///
/// Rendering walks the value leaf by leaf and never renders JSON text, so data
/// can only ever land inside a string or replace a whole leaf. Subtrees without
/// placeholders are cloned as they are.
///
/// ```
/// use patchbay_template::ValueTemplate;
/// use serde_json::json;
///
/// let body = ValueTemplate::parse(&json!({
///     "user_id": "{{context.user_id:int}}",
///     "items": "{{context.items:json}}",
///     "note": "{{missing:undefined}}",
///     "$truto_merge": "{{extra:json}}"
/// })).unwrap();
/// let data = json!({"context": {"user_id": "7", "items": [1, 2]}, "extra": {"flag": true}});
/// assert_eq!(
///     body.render(&data),
///     Some(json!({"user_id": 7, "items": [1, 2], "flag": true}))
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ValueTemplate {
    root: Node,
    merges: bool,
    /// Where the rendered value loses its `__proto__` keys.
    strip: Strip,
}

/// Where `__proto__` keys are dropped after rendering. The reference renders an array
/// document item by item, and copies a whole item once more when it has a `$truto_merge`
/// key anywhere; the copies lose their `__proto__` keys, data included.
#[derive(Debug, Clone, PartialEq)]
enum Strip {
    Nothing,
    All,
    Items(Vec<Strip>),
}

impl Strip {
    fn of(node: &Node) -> Strip {
        match node {
            Node::Array(items) => Strip::Items(items.iter().map(Strip::of).collect()),
            node if has_merge_key(node) => Strip::All,
            _ => Strip::Nothing,
        }
    }

    fn apply(&self, value: &mut Value) {
        match (self, value) {
            (Strip::Nothing, _) => {}
            (Strip::Items(strips), Value::Array(items)) => {
                for (strip, item) in strips.iter().zip(items) {
                    strip.apply(item);
                }
            }
            (Strip::Items(_), _) => {}
            (Strip::All, value) => drop_proto_keys(value),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree with no placeholders.
    Constant(Value),
    String(Template),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl ValueTemplate {
    /// Parses every string leaf of `value`.
    ///
    /// # Errors
    ///
    /// The first leaf that does not parse (see [`Template::parse`]).
    ///
    /// Any JSON value is accepted, so that single values (a query parameter's `100`) can be
    /// rendered too; see [`ValueTemplate::parse_document`] for Truto's rules on a whole
    /// document. Keys named `__proto__` are dropped, as the reference implementation's copy
    /// of the template drops them (assigning `__proto__` sets an object's prototype).
    pub fn parse(value: &Value) -> Result<Self, TemplateError> {
        let mut merges = false;
        let root = parse_node(value, &mut merges)?;
        let strip = Strip::of(&root);
        Ok(Self {
            root,
            merges,
            strip,
        })
    }

    /// Parses a whole document as `replacePlaceholders(document, data)` takes it: a
    /// string, an object, or an array of such values (arrays are rendered item by item).
    ///
    /// # Errors
    ///
    /// [`TemplateError::InvalidType`] for a number, boolean or `null` in those places, where
    /// the reference throws "Invalid type"; otherwise as [`ValueTemplate::parse`].
    ///
    /// ```
    /// use patchbay_template::{TemplateError, ValueTemplate};
    /// use serde_json::json;
    ///
    /// assert!(ValueTemplate::parse_document(&json!({"a": 1})).is_ok());
    /// assert!(matches!(
    ///     ValueTemplate::parse_document(&json!(["{{a}}", 5])),
    ///     Err(TemplateError::InvalidType { .. })
    /// ));
    /// ```
    pub fn parse_document(value: &Value) -> Result<Self, TemplateError> {
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::String(_) | Value::Object(_) => {}
                Value::Array(items) => stack.extend(items),
                scalar => {
                    return Err(TemplateError::InvalidType {
                        value: scalar.to_string(),
                    });
                }
            }
        }
        Self::parse(value)
    }

    /// Whether any leaf contains a placeholder.
    pub fn has_placeholders(&self) -> bool {
        !matches!(self.root, Node::Constant(_))
    }

    /// Every lookup path the string leaves read, leaf by leaf in document order (see
    /// [`Template::paths`]).
    ///
    /// ```
    /// use patchbay_template::ValueTemplate;
    /// use serde_json::json;
    /// let t = ValueTemplate::parse(&json!({"a": "{{x.y}}", "b": ["k", "{{z:int}}"]})).unwrap();
    /// assert_eq!(t.paths(), ["x.y", "z"]);
    /// ```
    pub fn paths(&self) -> Vec<&str> {
        let mut paths = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match node {
                Node::Constant(_) => {}
                Node::String(template) => paths.extend(template.paths()),
                Node::Array(items) => stack.extend(items.iter().rev()),
                Node::Object(entries) => stack.extend(entries.iter().rev().map(|(_, n)| n)),
            }
        }
        paths
    }

    /// Renders against `data`. `None` when the whole value is one `:undefined`
    /// placeholder with no value. Object keys whose value renders undefined are
    /// dropped; array items that render undefined become `null` (as
    /// `JSON.stringify` writes them). `$truto_merge` keys are applied last.
    pub fn render(&self, data: &Value) -> Option<Value> {
        let mut rendered = render_node(&self.root, data)?;
        if self.merges {
            apply_merges(&mut rendered);
        }
        self.strip.apply(&mut rendered);
        Some(rendered)
    }
}

fn parse_node(value: &Value, merges: &mut bool) -> Result<Node, TemplateError> {
    Ok(match value {
        Value::String(s) => {
            let template = Template::parse(s)?;
            if !template.has_placeholders() {
                return Ok(Node::Constant(value.clone()));
            }
            *merges |= template.may_yield_structure();
            Node::String(template)
        }
        Value::Array(items) => {
            let nodes = items
                .iter()
                .map(|v| parse_node(v, merges))
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Constant(_))) {
                Node::Constant(value.clone())
            } else {
                Node::Array(nodes)
            }
        }
        Value::Object(map) => {
            *merges |= map.contains_key(MERGE_KEY);
            let nodes = map
                .iter()
                .filter(|(k, _)| *k != "__proto__")
                .map(|(k, v)| Ok((k.clone(), parse_node(v, merges)?)))
                .collect::<Result<Vec<_>, TemplateError>>()?;
            if nodes.iter().all(|(_, n)| matches!(n, Node::Constant(_)))
                && !map.contains_key(MERGE_KEY)
                && !map.contains_key("__proto__")
            {
                Node::Constant(value.clone())
            } else {
                Node::Object(nodes)
            }
        }
        other => Node::Constant(other.clone()),
    })
}

fn render_node(node: &Node, data: &Value) -> Option<Value> {
    match node {
        Node::Constant(v) => Some(v.clone()),
        Node::String(t) => t.render(data),
        Node::Array(items) => Some(Value::Array(
            items
                .iter()
                .map(|n| render_node(n, data).unwrap_or(Value::Null))
                .collect(),
        )),
        Node::Object(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for (key, node) in entries {
                if let Some(v) = render_node(node, data) {
                    map.insert(key.clone(), v);
                }
            }
            Some(Value::Object(map))
        }
    }
}

/// Whether any object of the template `node` has a `$truto_merge` key (such objects are
/// never constants).
fn has_merge_key(node: &Node) -> bool {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match node {
            Node::Object(entries) => {
                if entries.iter().any(|(key, _)| key == MERGE_KEY) {
                    return true;
                }
                stack.extend(entries.iter().map(|(_, node)| node));
            }
            Node::Array(items) => stack.extend(items),
            Node::Constant(_) | Node::String(_) => {}
        }
    }
    false
}

/// Applies `$truto_merge` keys top-down: an object's own merge first, then its
/// (new) children. The object without its merge key is deep-merged with each merge value
/// that is an object, in order, as `deepmerge` does it (see [`super::merge`]).
fn apply_merges(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(merge) = map.shift_remove(MERGE_KEY) {
                let sources = match merge {
                    Value::Array(items) => items,
                    single => vec![single],
                };
                map.shift_remove("__proto__");
                let mut merged = Value::Object(std::mem::take(map));
                for source in sources.iter().filter(|source| source.is_object()) {
                    merged = deepmerge(&merged, source);
                }
                if let Value::Object(merged) = merged {
                    *map = merged;
                }
            }
            map.values_mut().for_each(apply_merges);
        }
        Value::Array(items) => items.iter_mut().for_each(apply_merges),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: Value, data: Value) -> Option<Value> {
        ValueTemplate::parse(&template).unwrap().render(&data)
    }

    #[test]
    fn drops_undefined_keys_and_nulls_undefined_items() {
        let out = render(
            json!(["{{t:any}}", "{{m:undefined}}", {"k": "{{m:undefined}}"}]),
            json!({"t": true}),
        );
        assert_eq!(out, Some(json!([true, null, {}])));
    }

    #[test]
    fn merges_objects_and_skips_other_values() {
        let out = render(
            json!({"a": {"$truto_merge": "{{t}}", "z": 1}, "b": {"$truto_merge": "{{nope:json}}"}}),
            json!({"t": true}),
        );
        assert_eq!(out, Some(json!({"a": {"z": 1}, "b": {}})));
    }

    #[test]
    fn merge_concatenates_arrays_and_replaces_mismatches() {
        let out = render(
            json!({"a": [1], "$truto_merge": ["{{m1:json}}", "{{m2:json}}"]}),
            json!({"m1": {"a": {"x": 1}}, "m2": {"a": [2], "b": null}}),
        );
        assert_eq!(out, Some(json!({"a": [2], "b": null})));
        let out = render(
            json!({"x": {"k": [1]}, "$truto_merge": "{{m:json}}"}),
            json!({"m": {"x": {"k": [2], "j": 3}, "y": 4}}),
        );
        assert_eq!(out, Some(json!({"x": {"k": [1, 2], "j": 3}, "y": 4})));
    }

    #[test]
    fn merged_in_merge_keys_at_the_same_level_stay() {
        let out = render(
            json!({"a": {"x": [1]}, "$truto_merge": "{{m:json}}"}),
            json!({"m": {"a": {"x": {"y": 1}}, "$truto_merge": "{{t}}"}}),
        );
        assert_eq!(
            out,
            Some(json!({"a": {"x": {"y": 1}}, "$truto_merge": "{{t}}"}))
        );
    }

    #[test]
    fn values_never_inject_structure() {
        let out = render(
            json!({"name": "{{n}}"}),
            json!({"n": "\", \"admin\": true, \"x\": \""}),
        );
        assert_eq!(out, Some(json!({"name": "\", \"admin\": true, \"x\": \""})));
    }
}
