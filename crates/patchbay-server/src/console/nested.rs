//! What the repeatable groups of the integration form (resources and their
//! methods, actions and their steps: [`super::resource_inputs`],
//! [`super::action_inputs`]) share: reading inputs by name, name/value rows,
//! and the JSON text area of the keys no input holds.
//!
//! A group's inputs are named `{prefix}-{index}-{key}` (e.g.
//! `resources-0-methods-1-path`): names and keys of the config are never
//! part of an input's name, so any resource or method name works.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::resource_inputs::HTTP_METHODS;
use super::structured::{Inputs, Problem, row_indexes};

/// The column of a group's keys no input holds, as a JSON object.
pub(super) const MORE: &str = "more";

/// The text of the input `name` (empty when absent).
pub(super) fn text<'a>(inputs: &'a Inputs, name: &str) -> &'a str {
    inputs.get(name).map_or("", String::as_str)
}

/// The indexes of the groups `{prefix}-{index}-...` in `inputs`, in order.
pub(super) fn indexes(inputs: &Inputs, prefix: &str) -> BTreeSet<usize> {
    row_indexes(inputs, prefix)
}

/// Whether every input of the group `prefix` is blank.
pub(super) fn is_blank(inputs: &Inputs, prefix: &str) -> bool {
    let start = format!("{prefix}-");
    inputs
        .iter()
        .filter(|(name, _)| name.starts_with(&start))
        .all(|(_, text)| text.trim().is_empty())
}

/// The keys of a JSON pointer inside a field (`/a~1b/c` → `["a/b", "c"]`).
pub(super) fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// `map` as name/value rows `{prefix}-{i}-name` / `-value`, when every value
/// is a string and there is at least one.
pub(super) fn split_pairs(prefix: &str, map: &Map<String, Value>) -> Option<Inputs> {
    if map.is_empty() || !map.values().all(Value::is_string) || !map.keys().all(|k| plain(k)) {
        return None;
    }
    let mut inputs = Inputs::new();
    for (index, (name, value)) in map.iter().enumerate() {
        inputs.insert(format!("{prefix}-{index}-name"), name.clone());
        let value = value.as_str().unwrap_or_default().to_owned();
        inputs.insert(format!("{prefix}-{index}-value"), value);
    }
    Some(inputs)
}

/// The object the name/value rows `prefix` make (`None` when every row is
/// blank). A value without a name, or a name twice, is a problem.
pub(super) fn join_pairs(
    inputs: &Inputs,
    prefix: &str,
    problems: &mut Vec<Problem>,
) -> Option<Map<String, Value>> {
    let mut map = Map::new();
    for index in indexes(inputs, prefix) {
        let name_input = format!("{prefix}-{index}-name");
        let name = text(inputs, &name_input).trim();
        let value = text(inputs, &format!("{prefix}-{index}-value"));
        if name.is_empty() {
            if !value.trim().is_empty() {
                problems.push((name_input, "a name is required".to_owned()));
            }
            continue;
        }
        if map.contains_key(name) {
            problems.push((name_input, format!("`{name}` is already in a row above")));
            continue;
        }
        map.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    (!map.is_empty()).then_some(map)
}

/// The value input of the row of `prefix` named `key`.
pub(super) fn pair_input(inputs: &Inputs, prefix: &str, key: &str) -> Option<String> {
    indexes(inputs, prefix)
        .into_iter()
        .find(|i| text(inputs, &format!("{prefix}-{i}-name")).trim() == key)
        .map(|i| format!("{prefix}-{i}-value"))
}

/// The group of `prefix` whose `name` input holds `key` (trimmed).
pub(super) fn group_named(inputs: &Inputs, prefix: &str, key: &str) -> Option<usize> {
    indexes(inputs, prefix)
        .into_iter()
        .find(|i| text(inputs, &format!("{prefix}-{i}-name")).trim() == key)
}

/// Whether an input holds `text` exactly: inputs are read trimmed, and an
/// empty input means "not set".
pub(super) fn plain(text: &str) -> bool {
    !text.is_empty() && text.trim() == text
}

/// Moves `key` of `map` into the input `{prefix}-{key}` when an input holds
/// its value exactly: a [`plain`] string, and for `method` one of the HTTP
/// methods its select offers. Whether it moved.
pub(super) fn take_input(
    map: &mut Map<String, Value>,
    key: &str,
    prefix: &str,
    inputs: &mut Inputs,
) -> bool {
    let held = match map.get(key) {
        Some(Value::String(s)) if key == "method" => HTTP_METHODS.contains(&s.as_str()),
        Some(Value::String(s)) => plain(s),
        _ => false,
    };
    if held && let Some(Value::String(s)) = map.shift_remove(key) {
        inputs.insert(format!("{prefix}-{key}"), s);
        return true;
    }
    false
}

/// Puts the keys of `rest` no input of the group `prefix` holds into its JSON
/// text area (nothing when there are none).
pub(super) fn put_more(prefix: &str, rest: &Map<String, Value>, inputs: &mut Inputs) {
    let more = more_text(rest);
    if !more.is_empty() {
        inputs.insert(format!("{prefix}-{MORE}"), more);
    }
}

/// The JSON text of the keys no input holds (empty for none).
pub(super) fn more_text(rest: &Map<String, Value>) -> String {
    if rest.is_empty() {
        String::new()
    } else {
        serde_json::to_string_pretty(rest).unwrap_or_default()
    }
}

/// The object typed into the JSON text area `name` (`None` when blank); not
/// an object is a problem.
pub(super) fn parse_more(
    inputs: &Inputs,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<Map<String, Value>> {
    match text(inputs, name).trim() {
        "" => None,
        typed => match serde_json::from_str::<Value>(typed) {
            Ok(Value::Object(more)) => Some(more),
            Ok(_) => {
                problems.push((name.to_owned(), "must be a JSON object".to_owned()));
                None
            }
            Err(e) => {
                problems.push((name.to_owned(), format!("is not JSON: {e}")));
                None
            }
        },
    }
}

/// Fills `into` with the keys of `from` it lacks, object by object.
pub(super) fn merge_missing(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Object(existing)), Value::Object(value)) => merge_missing(existing, value),
            (Some(_), _) => {}
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// The field's value: the groups' `made` (`None` when none was typed) with
/// `more`, the field's own JSON text area (what no group holds).
pub(super) fn with_more(
    field: &str,
    made: Option<Map<String, Value>>,
    more: Option<Value>,
) -> Result<Option<Value>, Vec<Problem>> {
    match (made, more) {
        (None, more) => Ok(more),
        (Some(made), None) => Ok(Some(Value::Object(made))),
        (Some(mut made), Some(Value::Object(more))) => {
            merge_missing(&mut made, more);
            Ok(Some(Value::Object(made)))
        }
        (Some(_), Some(_)) => Err(vec![(
            field.to_owned(),
            "must be a JSON object to go with the inputs above".to_owned(),
        )]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs_hold_objects_of_strings_and_report_what_is_wrong() {
        let map = json!({"q": "SELECT Id FROM Account", "a/b": ""});
        let inputs = split_pairs("x", map.as_object().unwrap()).unwrap();
        let mut problems = Vec::new();
        let joined = join_pairs(&inputs, "x", &mut problems).unwrap();
        assert_eq!(Value::Object(joined), map);
        assert!(problems.is_empty());
        assert_eq!(
            pair_input(&inputs, "x", "a/b").as_deref(),
            Some("x-1-value")
        );
        assert!(split_pairs("x", json!({"n": 1}).as_object().unwrap()).is_none());
        assert!(split_pairs("x", &Map::new()).is_none());

        let typed: Inputs = [
            ("x-0-name", "a"),
            ("x-1-name", "a"),
            ("x-2-name", " "),
            ("x-2-value", "orphan"),
            ("x-3-name", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let joined = join_pairs(&typed, "x", &mut problems);
        assert_eq!(joined, json!({"a": ""}).as_object().cloned());
        let names: Vec<&str> = problems.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x-1-name", "x-2-name"]);
    }

    #[test]
    fn the_json_area_must_be_an_object_and_fills_what_is_missing() {
        let inputs: Inputs = [("m", "[1]"), ("n", "{"), ("o", " ")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let mut problems = Vec::new();
        assert!(parse_more(&inputs, "m", &mut problems).is_none());
        assert!(parse_more(&inputs, "n", &mut problems).is_none());
        assert!(parse_more(&inputs, "o", &mut problems).is_none());
        assert_eq!(problems.len(), 2, "{problems:?}");
        let made = json!({"a": {"x": 1}}).as_object().cloned();
        let merged = with_more("f", made, Some(json!({"a": {"x": 2, "y": 3}, "b": 4})));
        assert_eq!(
            merged.unwrap(),
            Some(json!({"a": {"x": 1, "y": 3}, "b": 4}))
        );
        assert!(with_more("f", Some(Map::new()), Some(json!([]))).is_err());
        assert_eq!(
            with_more("f", None, Some(json!([]))).unwrap(),
            Some(json!([]))
        );
    }
}
