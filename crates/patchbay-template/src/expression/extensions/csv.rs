//! `$jsonToCsv(value[, options])`: npm `@json2csv/plainjs` 7.0.6 as truto-jsonata 3.0.6
//! calls it.
//!
//! The package first drops falsy members (`compact(castArray(value))`) and returns `""`
//! when nothing is left. json2csv then takes the columns from the `fields` option or from
//! the keys of every row (first appearance order, JavaScript key order within a row), writes
//! a header of quoted labels, and one line per row: strings quoted with `"` doubled,
//! numbers and booleans as JavaScript prints them, objects and arrays as quoted
//! `JSON.stringify` text, `null`/missing as empty. Rows whose line is empty are left out.
//!
//! Supported options: `fields` (names/paths or `{label, value, default}` with a string
//! `value`), `defaultValue`, `delimiter`, `eol`, `header`, `includeEmptyRows`, `withBOM`.
//! `transforms` and `formatters` take JavaScript functions, which a JSONata value cannot
//! carry: a non-empty one is an error.

use serde_json::{Map, Value};

use super::bounds::MAX_TEXT_BYTES;
use super::js::{is_truthy, js_entries, js_string, json_stringify, number_to_js_string};
use super::{Args, Outcome};

/// One column: its header label and how to read its cell.
struct Field {
    label: Value,
    path: String,
    default: Option<Value>,
}

struct Settings {
    fields: Option<Vec<Field>>,
    default_value: Option<Value>,
    delimiter: String,
    eol: String,
    header: bool,
    include_empty_rows: bool,
    with_bom: bool,
}

/// `$jsonToCsv(value[, options])`.
pub(crate) fn json_to_csv(args: &Args<'_>) -> Outcome {
    let rows: Vec<&Value> = match args.get(0) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|item| is_truthy(Some(item))).collect(),
        Some(other) => [other]
            .into_iter()
            .filter(|item| is_truthy(Some(item)))
            .collect(),
    };
    if rows.is_empty() {
        return Ok(Some(Value::String(String::new())));
    }
    let settings = settings(args.get(1)).map_err(|message| args.failed(message))?;
    csv(&rows, settings)
        .map(|text| Some(Value::String(text)))
        .map_err(|message| args.failed(message))
}

fn option<'v>(options: Option<&'v Map<String, Value>>, name: &str) -> Option<&'v Value> {
    options.and_then(|options| options.get(name))
}

/// `opts.name || fallback` for a text option.
fn text_option(options: Option<&Map<String, Value>>, name: &str, fallback: &str) -> String {
    match option(options, name) {
        Some(value) if is_truthy(Some(value)) => js_string(value),
        _ => fallback.to_owned(),
    }
}

fn settings(options: Option<&Value>) -> Result<Settings, String> {
    let options = match options {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    };
    for name in ["transforms", "formatters"] {
        match option(options, name) {
            None => {}
            Some(Value::Array(items)) if items.is_empty() => {}
            Some(Value::Object(map)) if map.is_empty() => {}
            Some(value) if !is_truthy(Some(value)) => {}
            Some(_) => {
                return Err(format!(
                    "the {name} option takes JavaScript functions, which JSONata values cannot carry"
                ));
            }
        }
    }
    let default_value = option(options, "defaultValue").cloned();
    let fields = match option(options, "fields") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| field(item, default_value.as_ref()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(value) if !is_truthy(Some(value)) => None,
        Some(_) => return Err("fields.map is not a function".to_owned()),
    };
    Ok(Settings {
        fields,
        default_value,
        delimiter: text_option(options, "delimiter", ","),
        eol: text_option(options, "eol", "\n"),
        header: option(options, "header") != Some(&Value::Bool(false)),
        include_empty_rows: is_truthy(option(options, "includeEmptyRows")),
        with_bom: is_truthy(option(options, "withBOM")),
    })
}

/// One entry of the `fields` option.
fn field(item: &Value, global_default: Option<&Value>) -> Result<Field, String> {
    match item {
        Value::String(path) => Ok(Field {
            label: item.clone(),
            path: path.clone(),
            default: global_default.cloned(),
        }),
        Value::Object(info) => {
            let default = if info.contains_key("default") {
                info.get("default").cloned()
            } else {
                global_default.cloned()
            };
            match info.get("value") {
                Some(Value::String(path)) => Ok(Field {
                    label: match info.get("label") {
                        Some(label) if is_truthy(Some(label)) => label.clone(),
                        _ => Value::String(path.clone()),
                    },
                    path: path.clone(),
                    default,
                }),
                _ => Err(format!(
                    "Invalid field info option. {}",
                    json_stringify(item)
                )),
            }
        }
        Value::Null => Err("Cannot read properties of null (reading 'value')".to_owned()),
        other => Err(format!(
            "Invalid field info option. {}",
            json_stringify(other)
        )),
    }
}

/// json2csv's default string formatter: quoted, with `"` doubled.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A cell: json2csv's formatter for the value's JavaScript type (`None` = `undefined`).
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(text)) => quote(text),
        Some(other) => quote(&json_stringify(other)),
    }
}

/// `row[key]` as JavaScript reads it.
fn member<'v>(value: &'v Value, key: &str) -> Option<std::borrow::Cow<'v, Value>> {
    use std::borrow::Cow;
    match value {
        Value::Object(map) => map.get(key).map(Cow::Borrowed),
        Value::Array(items) => {
            if key == "length" {
                return Some(Cow::Owned(Value::from(items.len())));
            }
            super::js::array_index(key)
                .and_then(|index| items.get(index as usize))
                .map(Cow::Borrowed)
        }
        Value::String(text) => {
            let units: Vec<u16> = text.encode_utf16().collect();
            if key == "length" {
                return Some(Cow::Owned(Value::from(units.len())));
            }
            super::js::array_index(key)
                .and_then(|index| units.get(index as usize))
                .map(|unit| Cow::Owned(Value::String(String::from_utf16_lossy(&[*unit]))))
        }
        _ => None,
    }
}

/// json2csv's `castPath`: `a.b[0]["c"]` → `a`, `b`, `0`, `c`.
fn path_segments(path: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let quoted = inner.chars().next().filter(|c| *c == '"' || *c == '\'');
            if let Some(q) = quoted
                && let Some(close) = inner[1..].find(q)
            {
                segments.push(inner[1..1 + close].to_owned());
                rest = inner[1 + close + 1..].strip_prefix(']').unwrap_or("");
            } else if let Some(close) = inner.find(']') {
                segments.push(inner[..close].trim().to_owned());
                rest = &inner[close + 1..];
            } else {
                segments.push(rest.to_owned());
                break;
            }
        } else if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else {
            let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
            if end == 0 {
                rest = &rest[1..];
                continue;
            }
            segments.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    segments
}

/// json2csv's `getProp`: the key itself first, then the path; `default` where the value
/// is `undefined`.
fn lookup(row: &Value, field: &Field) -> Result<Option<Value>, String> {
    if !matches!(row, Value::Object(_) | Value::Array(_)) {
        return Err(format!(
            "Cannot use 'in' operator to search for '{}' in {}",
            field.path,
            js_string(row)
        ));
    }
    if let Some(value) = member(row, &field.path) {
        return Ok(Some(value.into_owned()));
    }
    Ok(walk(row, &path_segments(&field.path)).or_else(|| field.default.clone()))
}

/// The value at `keys` under `value` (`None` where a step is missing), cloning only the
/// value found.
fn walk(value: &Value, keys: &[String]) -> Option<Value> {
    let Some((first, rest)) = keys.split_first() else {
        return Some(value.clone());
    };
    match member(value, first)? {
        std::borrow::Cow::Borrowed(next) => walk(next, rest),
        std::borrow::Cow::Owned(next) => walk(&next, rest),
    }
}

/// The keys `Object.keys` lists for one row.
fn keys_of(row: &Value) -> Vec<String> {
    match row {
        Value::Object(map) => js_entries(map)
            .into_iter()
            .map(|(key, _)| key.to_owned())
            .collect(),
        Value::Array(items) => (0..items.len()).map(|index| index.to_string()).collect(),
        Value::String(text) => (0..text.encode_utf16().count())
            .map(|index| index.to_string())
            .collect(),
        _ => Vec::new(),
    }
}

fn csv(rows: &[&Value], settings: Settings) -> Result<String, String> {
    let fields = match settings.fields {
        Some(fields) => fields,
        None => {
            if !matches!(rows.first(), Some(Value::Object(_) | Value::Array(_))) {
                return Err(
                    "Data items should be objects or the \"fields\" option should be included"
                        .to_owned(),
                );
            }
            let mut names: Vec<String> = Vec::new();
            for row in rows {
                for key in keys_of(row) {
                    if !names.contains(&key) {
                        names.push(key);
                    }
                }
            }
            names
                .into_iter()
                .map(|name| Field {
                    label: Value::String(name.clone()),
                    path: name,
                    default: settings.default_value.clone(),
                })
                .collect()
        }
    };
    let header = if settings.header {
        fields
            .iter()
            .map(|field| match &field.label {
                Value::String(label) => Ok(quote(label)),
                _ => Err("value.includes is not a function".to_owned()),
            })
            .collect::<Result<Vec<_>, _>>()?
            .join(&settings.delimiter)
    } else {
        String::new()
    };
    let mut lines: Vec<String> = Vec::new();
    let mut size = header.len();
    for row in rows {
        let mut cells = Vec::with_capacity(fields.len());
        for field in &fields {
            let value = lookup(row, field)?;
            let text = cell(value.as_ref());
            size += text.len() + settings.delimiter.len();
            cells.push(text);
        }
        if size > MAX_TEXT_BYTES {
            return Err(format!(
                "the CSV text would be more than the limit of {MAX_TEXT_BYTES} bytes"
            ));
        }
        if !settings.include_empty_rows && cells.iter().all(String::is_empty) {
            continue;
        }
        let line = cells.join(&settings.delimiter);
        if !line.is_empty() {
            size += settings.eol.len();
            lines.push(line);
        }
    }
    let body = lines.join(&settings.eol);
    let separator = if !header.is_empty() && !body.is_empty() {
        settings.eol.as_str()
    } else {
        ""
    };
    let bom = if settings.with_bom { "\u{feff}" } else { "" };
    Ok(format!("{bom}{header}{separator}{body}"))
}
