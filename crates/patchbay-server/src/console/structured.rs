//! One input per key for the JSON fields of the integration form: a field's
//! [`Shape`] names the keys it has inputs for; [`split`] spreads a value over
//! them and [`join`] puts it back together.
//!
//! Nothing is lost either way: a key an input cannot hold exactly (an
//! unknown key, a value of another type, a row with extra keys, a format the
//! shape does not know) stays in the field's own JSON text area ("more
//! settings"), which [`join`] merges with the inputs. The raw JSON view stays
//! the source of truth: going from it to the inputs and back gives the same
//! config.
//!
//! Inputs are named `{field}-{group}-{pointer}`: the field's key, the
//! variant group (for keys that belong to some formats only) and the key's
//! JSON pointer inside the field with `-` for `/`, e.g.
//! `pagination-cursor-config-cursor_path`; rows add their index and column,
//! e.g. `credentials-fields-0-name`. The field's own text area is named after
//! the field (`pagination`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// How one input holds a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Input {
    /// A string.
    Text,
    /// A whole number.
    Number,
    /// `true`, `false` or unset (a choice, so unset stays unset).
    Flag,
    /// One of these strings.
    Choice(&'static [&'static str]),
    /// An array of strings, typed comma-separated.
    Words,
}

/// One key of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Part {
    /// Its JSON pointer inside the field's value, e.g. `/config/cursor_path`.
    pub(super) pointer: &'static str,
    /// The label shown.
    pub(super) label: &'static str,
    /// How it is typed.
    pub(super) input: Input,
}

/// The keys of some formats only (the field's `format`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Variant {
    /// Part of the input names, e.g. `cursor`.
    pub(super) name: &'static str,
    /// The formats it applies to.
    pub(super) formats: &'static [&'static str],
    /// Its keys.
    pub(super) parts: &'static [Part],
}

/// An array of objects edited as rows, one input per column.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Rows {
    /// Part of the input names, e.g. `fields`.
    pub(super) name: &'static str,
    /// Its JSON pointer inside the field's value.
    pub(super) pointer: &'static str,
    /// What a row is, e.g. "Variables".
    pub(super) label: &'static str,
    /// The columns: (key, label, input).
    pub(super) columns: &'static [(&'static str, &'static str, Input)],
}

/// The inputs of one JSON field.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Shape {
    /// The choices of the field's `format` key, when it has one.
    pub(super) formats: &'static [&'static str],
    /// Keys of every format.
    pub(super) common: &'static [Part],
    /// Keys of some formats.
    pub(super) variants: &'static [Variant],
    /// An array of objects edited as rows.
    pub(super) rows: Option<Rows>,
    /// The whole value is an object of strings, edited as name/value rows.
    pub(super) map: bool,
}

/// The input of the `format` key.
pub(super) const FORMAT: Part = Part {
    pointer: "/format",
    label: "Format",
    input: Input::Choice(&[]),
};

/// Input texts by input name.
pub(super) type Inputs = BTreeMap<String, String>;

/// A problem: the input it belongs to and what is wrong.
pub(super) type Problem = (String, String);

impl Shape {
    /// The variants that apply to `format`.
    pub(super) fn variants_of<'a>(&'a self, format: &'a str) -> impl Iterator<Item = &'a Variant> {
        self.variants
            .iter()
            .filter(move |v| v.formats.contains(&format))
    }
}

/// The name of the input of `part` of `field` (in `variant`, if any).
pub(super) fn input_name(field: &str, variant: Option<&str>, part: &Part) -> String {
    let mut name = field.to_owned();
    if let Some(variant) = variant {
        name.push('-');
        name.push_str(variant);
    }
    name.push_str(&part.pointer.replace('/', "-"));
    name
}

/// The name of the input of column `column` in row `index` of `rows` (an
/// index, or a placeholder the script replaces).
pub(super) fn cell_name(field: &str, rows: &str, index: impl fmt::Display, column: &str) -> String {
    format!("{field}-{rows}-{index}-{column}")
}

/// The input names of a field's name/value rows.
pub(super) fn map_cell_name(field: &str, index: impl fmt::Display, column: &str) -> String {
    cell_name(field, "entries", index, column)
}

/// The text of `value` for `input`, when it holds such a value exactly.
fn text_of(input: Input, value: &Value) -> Option<String> {
    match (input, value) {
        (Input::Text, Value::String(s)) => Some(s.clone()),
        (Input::Choice(choices), Value::String(s))
            if choices.is_empty() || choices.contains(&s.as_str()) =>
        {
            Some(s.clone())
        }
        (Input::Number, Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        (Input::Flag, Value::Bool(b)) => Some(b.to_string()),
        (Input::Words, Value::Array(items)) => {
            let words: Option<Vec<&str>> = items
                .iter()
                .map(|i| i.as_str().filter(|w| !w.is_empty() && !w.contains(',')))
                .collect();
            words.map(|w| w.join(", "))
        }
        _ => None,
    }
}

/// The value `text` typed into `input` stands for; `None` for an empty input.
fn value_of(input: Input, text: &str) -> Result<Option<Value>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match input {
        Input::Text | Input::Choice(_) => Ok(Some(Value::String(text.to_owned()))),
        Input::Number => text
            .parse::<i64>()
            .map(|n| Some(Value::from(n)))
            .map_err(|_| "must be a whole number".to_owned()),
        Input::Flag => match text {
            "true" => Ok(Some(Value::Bool(true))),
            "false" => Ok(Some(Value::Bool(false))),
            _ => Err("must be yes, no or unset".to_owned()),
        },
        Input::Words => Ok(Some(Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(|w| Value::String(w.to_owned()))
                .collect(),
        ))),
    }
}

/// Removes the value at `pointer` from `root`, and the objects that are
/// empty only because of it.
fn take(root: &mut Value, pointer: &str) -> Option<Value> {
    let (parent, key) = pointer.rsplit_once('/')?;
    let object = root.pointer_mut(parent)?.as_object_mut()?;
    let taken = object.shift_remove(key)?;
    if object.is_empty() && !parent.is_empty() {
        take(root, parent);
    }
    Some(taken)
}

/// Sets `value` at `pointer` in `root`, making the objects on the way.
fn put(root: &mut Value, pointer: &str, value: Value) {
    let mut here = root;
    for key in pointer.split('/').skip(1) {
        if !here.is_object() {
            *here = Value::Object(Map::new());
        }
        here = here
            .as_object_mut()
            .expect("just made an object")
            .entry(key.to_owned())
            .or_insert(Value::Null);
    }
    *here = value;
}

/// Fills `into` with what `from` has and `into` lacks, object by object.
fn merge_missing(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        for (key, value) in from {
            match into.get_mut(&key) {
                Some(existing) => merge_missing(existing, value),
                None => {
                    into.insert(key, value);
                }
            }
        }
    }
}

/// Spreads `value` (the field `field`'s) over the inputs of `shape`; answers
/// them and what no input holds.
pub(super) fn split(field: &str, shape: &Shape, value: &Value) -> (Inputs, Option<Value>) {
    let mut inputs = Inputs::new();
    let mut rest = value.clone();
    if shape.map {
        if let Some(entries) = value
            .as_object()
            .filter(|o| o.values().all(Value::is_string))
        {
            for (index, (name, text)) in entries.iter().enumerate() {
                inputs.insert(map_cell_name(field, index, "name"), name.clone());
                let text = text.as_str().unwrap_or_default().to_owned();
                inputs.insert(map_cell_name(field, index, "value"), text);
            }
            return (inputs, None);
        }
        return (inputs, Some(rest));
    }
    if !rest.is_object() {
        return (inputs, Some(rest));
    }
    let mut take_part = |variant: Option<&str>, part: &Part, input: Input, rest: &mut Value| {
        if let Some(text) = rest.pointer(part.pointer).and_then(|v| text_of(input, v)) {
            take(rest, part.pointer);
            inputs.insert(input_name(field, variant, part), text);
        }
    };
    let format = value["format"].as_str().unwrap_or_default().to_owned();
    if !shape.formats.is_empty() {
        take_part(None, &FORMAT, Input::Choice(shape.formats), &mut rest);
    }
    for part in shape.common {
        take_part(None, part, part.input, &mut rest);
    }
    for variant in shape.variants_of(&format) {
        for part in variant.parts {
            take_part(Some(variant.name), part, part.input, &mut rest);
        }
    }
    if let Some(rows) = &shape.rows
        && let Some(cells) = rest.pointer(rows.pointer).and_then(|v| row_cells(rows, v))
    {
        take(&mut rest, rows.pointer);
        for (index, row) in cells.into_iter().enumerate() {
            for (column, text) in row {
                inputs.insert(cell_name(field, rows.name, index, column), text);
            }
        }
    }
    let rest = (rest != Value::Object(Map::new())).then_some(rest);
    (inputs, rest)
}

/// The column of a row's keys no other column holds, as a JSON object.
pub(super) const MORE: &str = "more";

/// The cells of `value` as `rows` (every row an object), by column; a row's
/// keys no column holds exactly are in its [`MORE`] cell.
fn row_cells(rows: &Rows, value: &Value) -> Option<Vec<Vec<(&'static str, String)>>> {
    value
        .as_array()?
        .iter()
        .map(|row| {
            let row = row.as_object()?;
            let mut cells = Vec::new();
            let mut more = Map::new();
            for (key, value) in row {
                let cell = rows
                    .columns
                    .iter()
                    .find(|(c, ..)| c == key)
                    .and_then(|(column, _, input)| Some((*column, text_of(*input, value)?)));
                match cell {
                    Some(cell) => cells.push(cell),
                    None => {
                        more.insert(key.clone(), value.clone());
                    }
                }
            }
            if !more.is_empty() {
                cells.push((MORE, Value::Object(more).to_string()));
            }
            Some(cells)
        })
        .collect()
}

/// The row indexes `prefix-{index}-...` inputs use, in order.
pub(super) fn row_indexes(inputs: &Inputs, prefix: &str) -> BTreeSet<usize> {
    inputs
        .keys()
        .filter_map(|name| name.strip_prefix(prefix)?.strip_prefix('-'))
        .filter_map(|rest| rest.split('-').next()?.parse().ok())
        .collect()
}

/// The value the inputs of `field` make with `more` (the field's own JSON
/// text area, already parsed); `None` when everything is empty. Problems
/// name the input they belong to.
pub(super) fn join(
    field: &str,
    shape: &Shape,
    inputs: &Inputs,
    more: Option<Value>,
) -> Result<Option<Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut value = Value::Object(Map::new());
    let mut typed = false;
    let text = |name: &str| inputs.get(name).map_or("", String::as_str);
    // Puts the input `name`'s value at `pointer` in `value`; whether it had one.
    let read = |problems: &mut Vec<Problem>,
                name: String,
                input: Input,
                pointer: &str,
                value: &mut Value| {
        match value_of(input, text(&name)) {
            Ok(Some(v)) => {
                put(value, pointer, v);
                true
            }
            Ok(None) => false,
            Err(problem) => {
                problems.push((name, problem));
                true
            }
        }
    };
    if shape.map {
        for index in row_indexes(inputs, &format!("{field}-entries")) {
            let name = map_cell_name(field, index, "name");
            let key = text(&name).trim().to_owned();
            let entry = text(&map_cell_name(field, index, "value")).to_owned();
            if key.is_empty() {
                if !entry.trim().is_empty() {
                    problems.push((name, "a name is required".to_owned()));
                }
                continue;
            }
            if let Value::Object(entries) = &mut value {
                entries.insert(key, Value::String(entry));
            }
            typed = true;
        }
    } else {
        if !shape.formats.is_empty() {
            typed |= read(
                &mut problems,
                input_name(field, None, &FORMAT),
                Input::Text,
                FORMAT.pointer,
                &mut value,
            );
        }
        for part in shape.common {
            let name = input_name(field, None, part);
            typed |= read(&mut problems, name, part.input, part.pointer, &mut value);
        }
        let format = value["format"]
            .as_str()
            .or_else(|| more.as_ref().and_then(|m| m["format"].as_str()))
            .unwrap_or_default()
            .to_owned();
        for variant in shape.variants_of(&format) {
            for part in variant.parts {
                let name = input_name(field, Some(variant.name), part);
                typed |= read(&mut problems, name, part.input, part.pointer, &mut value);
            }
        }
        if let Some(rows) = &shape.rows {
            let mut list = Vec::new();
            for index in row_indexes(inputs, &format!("{field}-{}", rows.name)) {
                let mut row = Value::Object(Map::new());
                for (column, _, input) in rows.columns {
                    let name = cell_name(field, rows.name, index, column);
                    read(&mut problems, name, *input, &format!("/{column}"), &mut row);
                }
                let name = cell_name(field, rows.name, index, MORE);
                match text(&name).trim() {
                    "" => {}
                    more => match serde_json::from_str::<Value>(more) {
                        Ok(more @ Value::Object(_)) => merge_missing(&mut row, more),
                        _ => problems.push((name, "must be a JSON object".to_owned())),
                    },
                }
                if row != Value::Object(Map::new()) {
                    list.push(row);
                }
            }
            if !list.is_empty() {
                put(&mut value, rows.pointer, Value::Array(list));
                typed = true;
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    match more {
        None if !typed => Ok(None),
        None => Ok(Some(value)),
        Some(more) if !typed => Ok(Some(more)),
        Some(more @ Value::Object(_)) => {
            merge_missing(&mut value, more);
            Ok(Some(value))
        }
        Some(_) => Err(vec![(
            field.to_owned(),
            "must be a JSON object to go with the inputs above".to_owned(),
        )]),
    }
}

/// The input a problem at `pointer` (inside the field `field`, whose value is
/// `value`, typed into `inputs`) belongs to: the input of that key or of a
/// row's cell, else the first input under it, else the field's own text area.
pub(super) fn locate(
    field: &str,
    shape: &Shape,
    value: &Value,
    inputs: &Inputs,
    pointer: &str,
) -> String {
    let under = |part: &str| {
        part == pointer || pointer.is_empty() || part.starts_with(&format!("{pointer}/"))
    };
    if shape.map {
        // `/{name}`: the value of that entry's row.
        let key = pointer
            .trim_start_matches('/')
            .replace("~1", "/")
            .replace("~0", "~");
        return row_indexes(inputs, &format!("{field}-entries"))
            .into_iter()
            .find(|i| {
                inputs
                    .get(&map_cell_name(field, *i, "name"))
                    .map(|n| n.trim())
                    == Some(&key)
            })
            .map_or_else(
                || field.to_owned(),
                |index| map_cell_name(field, index, "value"),
            );
    }
    let format = value["format"].as_str().unwrap_or_default();
    let mut candidates: Vec<String> = Vec::new();
    let mut exact = None;
    let parts = (!shape.formats.is_empty())
        .then_some((None, &FORMAT))
        .into_iter()
        .chain(shape.common.iter().map(|p| (None, p)))
        .chain(
            shape
                .variants_of(format)
                .flat_map(|v| v.parts.iter().map(move |p| (Some(v.name), p))),
        );
    for (variant, part) in parts {
        if part.pointer == pointer {
            exact = Some(input_name(field, variant, part));
        } else if under(part.pointer) {
            candidates.push(input_name(field, variant, part));
        }
    }
    if let Some(name) = exact {
        return name;
    }
    if let Some(rows) = &shape.rows
        && let Some(rest) = pointer.strip_prefix(rows.pointer)
    {
        let mut segments = rest.split('/').skip(1);
        let index = segments.next().and_then(|i| i.parse().ok()).unwrap_or(0);
        let column = match segments.next() {
            None => rows.columns[0].0,
            Some(key) => rows
                .columns
                .iter()
                .find(|(column, ..)| *column == key)
                .map_or(MORE, |column| column.0),
        };
        return cell_name(field, rows.name, index, column);
    }
    candidates
        .into_iter()
        .next()
        .unwrap_or_else(|| field.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHAPE: Shape = Shape {
        formats: &["cursor", "page"],
        common: &[Part {
            pointer: "/note",
            label: "Note",
            input: Input::Text,
        }],
        variants: &[Variant {
            name: "cursor",
            formats: &["cursor"],
            parts: &[
                Part {
                    pointer: "/config/cursor_path",
                    label: "Cursor path",
                    input: Input::Text,
                },
                Part {
                    pointer: "/config/is_link",
                    label: "Is a link",
                    input: Input::Flag,
                },
                Part {
                    pointer: "/config/max_limit",
                    label: "Largest page",
                    input: Input::Number,
                },
            ],
        }],
        rows: Some(Rows {
            name: "fields",
            pointer: "/config/fields",
            label: "Variables",
            columns: &[
                ("name", "Name", Input::Text),
                ("required", "Required", Input::Flag),
            ],
        }),
        map: false,
    };

    fn round_trip(value: Value) -> (Inputs, Option<Value>) {
        let (inputs, more) = split("p", &SHAPE, &value);
        let joined = join("p", &SHAPE, &inputs, more.clone()).unwrap();
        assert_eq!(joined, Some(value), "{inputs:?} {more:?}");
        (inputs, more)
    }

    #[test]
    fn known_keys_get_inputs_and_the_rest_stays_json() {
        let (inputs, more) = round_trip(json!({
            "format": "cursor",
            "config": {"cursor_path": "next", "is_link": false, "max_limit": 100, "extra": {"a": 1},
                       "fields": [{"name": "subdomain", "required": true}]}
        }));
        assert_eq!(inputs["p-format"], "cursor");
        assert_eq!(inputs["p-cursor-config-cursor_path"], "next");
        assert_eq!(inputs["p-cursor-config-is_link"], "false");
        assert_eq!(inputs["p-cursor-config-max_limit"], "100");
        assert_eq!(inputs["p-fields-0-name"], "subdomain");
        assert_eq!(more, Some(json!({"config": {"extra": {"a": 1}}})));
    }

    #[test]
    fn values_inputs_cannot_hold_exactly_stay_json() {
        // A number as text, a row's unknown key, an unknown format, an empty
        // object that was there from the start.
        let (inputs, _) = round_trip(
            json!({"format": "cursor", "config": {"max_limit": "100", "fields": [{"name": "x", "help": "y"}]}}),
        );
        assert_eq!(inputs["p-fields-0-more"], r#"{"help":"y"}"#);
        let (inputs, more) = round_trip(json!({"format": "other", "config": {"cursor_path": "x"}}));
        assert!(!inputs.contains_key("p-format"), "{inputs:?}");
        assert_eq!(more.unwrap()["config"]["cursor_path"], "x");
        round_trip(json!({"format": "page", "config": {}}));
        round_trip(json!([1, 2]));
    }

    #[test]
    fn inputs_make_the_value_and_report_what_is_not_theirs() {
        let mut inputs = Inputs::new();
        inputs.insert("p-format".into(), "cursor".into());
        inputs.insert("p-cursor-config-is_link".into(), "true".into());
        inputs.insert("p-fields-3-name".into(), "region".into());
        inputs.insert("p-fields-4-name".into(), "".into());
        let value = join("p", &SHAPE, &inputs, None).unwrap().unwrap();
        assert_eq!(
            value,
            json!({"format": "cursor", "config": {"is_link": true, "fields": [{"name": "region"}]}})
        );
        inputs.insert("p-cursor-config-max_limit".into(), "ten".into());
        let problems = join("p", &SHAPE, &inputs, None).unwrap_err();
        assert_eq!(problems[0].0, "p-cursor-config-max_limit");
        assert!(join("p", &SHAPE, &Inputs::new(), None).unwrap().is_none());
        let mixed = join(
            "p",
            &SHAPE,
            &inputs_of(&[("p-note", "n")]),
            Some(json!([1])),
        );
        assert!(mixed.is_err());
    }

    fn inputs_of(pairs: &[(&str, &str)]) -> Inputs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn problems_land_on_the_input_of_their_key() {
        let value = json!({"format": "cursor", "config": {"is_link": true}});
        let at = |pointer| locate("p", &SHAPE, &value, &Inputs::new(), pointer);
        assert_eq!(at("/config/cursor_path"), "p-cursor-config-cursor_path");
        assert_eq!(at("/config"), "p-cursor-config-cursor_path");
        assert_eq!(at("/format"), "p-format");
        assert_eq!(at("/config/fields/2/required"), "p-fields-2-required");
        assert_eq!(at("/config/fields/2"), "p-fields-2-name");
        assert_eq!(at("/config/fields/2/help"), "p-fields-2-more");
        assert_eq!(at("/config/unknown"), "p");
    }

    #[test]
    fn name_value_rows_hold_objects_of_strings() {
        let shape = Shape {
            formats: &[],
            common: &[],
            variants: &[],
            rows: None,
            map: true,
        };
        let value = json!({"Accept": "application/json", "X-Id/1": "{{id}}"});
        let (inputs, more) = split("headers", &shape, &value);
        assert!(more.is_none());
        assert_eq!(inputs["headers-entries-1-name"], "X-Id/1");
        assert_eq!(
            join("headers", &shape, &inputs, None).unwrap(),
            Some(value.clone())
        );
        let at = locate("headers", &shape, &value, &inputs, "/X-Id~11");
        assert_eq!(at, "headers-entries-1-value");
        let (_, more) = split("headers", &shape, &json!({"a": 1}));
        assert_eq!(more, Some(json!({"a": 1})));
    }
}
