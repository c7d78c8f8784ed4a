//! `$convertQueryToSql`: a Truto query object (`{"status": "open", "amount": {"gt": 5}}`) as a
//! SQL-like `WHERE` condition text (`status = 'open' AND amount > 5`), for APIs that take
//! SOQL, COQL and similar query languages.
//!
//! Values are quoted according to `dataTypes[key]`: `"string"` quotes them, an object maps
//! them through `$mapValues` first, anything else leaves them bare. The package's date types
//! (`"dotnetdate"`, `"date"`, `"date|<format>"`) format with Luxon and are not supported
//! here: a value of such a key fails with an explanation.

use serde_json::{Map, Value};

use super::js::{is_truthy, number_to_js_string};
use super::values::map_values;
use super::{Args, ExtensionError, Outcome};

/// The package's operators and their SQL text.
const OPERATORS: &[(&str, &str)] = &[
    ("eq", "="),
    ("ne", "<>"),
    ("gt", ">"),
    ("gte", ">="),
    ("lt", "<"),
    ("lte", "<="),
    ("in", "in"),
    ("nin", "not in"),
    ("like", "like"),
];

/// The most condition texts one call may build, and their total length.
const MAX_OUTPUT_BYTES: usize = 1024 * 1024;

/// `String(value)` for data from JSON: objects print as `[object Object]`, `undefined` and
/// `null` as their names, arrays joined with `,` (missing members as empty text).
fn js_text(value: Option<&Value>) -> String {
    match value {
        None => "undefined".to_owned(),
        Some(Value::Null) => "null".to_owned(),
        Some(Value::Bool(flag)) => flag.to_string(),
        Some(Value::Number(number)) => number_to_js_string(number.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(_)) => "[object Object]".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Null => String::new(),
                other => js_text(Some(other)),
            })
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// `value[key]` as JavaScript reads it from JSON data; `None` for `undefined`.
fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|index| items.get(index)),
        _ => None,
    }
}

/// [`member`], plus the characters of a text (`"ab"[1]` is `"b"`).
fn member_value(value: &Value, key: &str) -> Option<Value> {
    match value {
        Value::String(text) => key
            .parse::<usize>()
            .ok()
            .and_then(|index| text.chars().nth(index))
            .map(|c| Value::String(c.to_string())),
        other => member(other, key).cloned(),
    }
}

/// The options that change the output.
struct Options {
    conjunction: String,
    use_double_quotes: bool,
    no_quotes: bool,
    escape_single_quotes: bool,
    space: bool,
    use_or_for_in: bool,
    group_in_brackets: bool,
}

impl Options {
    fn new(options: &Value) -> Self {
        let flag = |key: &str| is_truthy(member(options, key));
        let conjunction = member(options, "conjunction")
            .filter(|value| is_truthy(Some(value)))
            .map_or_else(|| "AND".to_owned(), |value| js_text(Some(value)));
        Options {
            conjunction,
            use_double_quotes: flag("useDoubleQuotes"),
            no_quotes: flag("noQuotes"),
            escape_single_quotes: flag("escapeSingleQuotes"),
            space: !flag("noSpaceBetweenOperator"),
            use_or_for_in: flag("useOrForIn"),
            group_in_brackets: flag("groupComparisonInBrackets"),
        }
    }
}

/// One call's fixed arguments.
struct Converter<'a> {
    args: &'a Args<'a>,
    mapping: &'a Value,
    data_types: &'a Value,
    custom_operators: &'a Value,
    options: Options,
    written: usize,
}

/// A value ready to be written: text, or `None` when the package skips it.
type Rendered = Option<String>;

impl Converter<'_> {
    fn fail(&self, message: impl Into<String>) -> ExtensionError {
        self.args.failed(message)
    }

    /// The SQL text of an operator: the custom mapping's, else the package's.
    fn operator(&self, operator: &str) -> Option<String> {
        member(self.custom_operators, operator)
            .filter(|value| is_truthy(Some(value)))
            .map(|value| js_text(Some(value)))
            .or_else(|| {
                OPERATORS
                    .iter()
                    .find(|(name, _)| *name == operator)
                    .map(|(_, sql)| (*sql).to_owned())
            })
    }

    /// The package's `convertToDataType`: `None` for `null`/`undefined` values.
    fn render(&self, value: Option<&Value>, key: &str) -> Result<Rendered, ExtensionError> {
        let Some(value) = value.filter(|value| !value.is_null()) else {
            return Ok(None);
        };
        let quote = |text: String| -> String {
            if self.options.no_quotes {
                text
            } else if self.options.use_double_quotes {
                format!("\"{text}\"")
            } else {
                format!("'{text}'")
            }
        };
        let data_type = member(self.data_types, key);
        match data_type {
            Some(Value::String(kind)) if kind == "string" => {
                if self.options.no_quotes || self.options.use_double_quotes {
                    return Ok(Some(quote(js_text(Some(value)))));
                }
                if self.options.escape_single_quotes {
                    let Value::String(text) = value else {
                        return Err(self.fail("value.replace is not a function"));
                    };
                    return Ok(Some(format!("'{}'", text.replace('\'', "\\'"))));
                }
                Ok(Some(format!("'{}'", js_text(Some(value)))))
            }
            Some(Value::String(kind)) if kind == "dotnetdate" || kind.starts_with("date") => {
                Err(self.fail(format!(
                    "the date data type \"{kind}\" of \"{key}\" is not supported (it formats \
                     with Luxon)"
                )))
            }
            Some(table @ (Value::Object(_) | Value::Array(_) | Value::Null)) => {
                let call = [Some(value.clone()), Some(table.clone())];
                let mapped = map_values(&Args::new("mapValues", &call))?;
                match mapped {
                    Some(Value::String(text)) => Ok(Some(quote(text))),
                    other => Ok(other
                        .filter(|value| !value.is_null())
                        .map(|value| js_text(Some(&value)))),
                }
            }
            // `dataTypeKey.startsWith` of a truthy non-text throws.
            Some(kind @ (Value::Number(_) | Value::Bool(true))) if is_truthy(Some(kind)) => {
                Err(self.fail("dataTypeKey.startsWith is not a function"))
            }
            _ => Ok(Some(js_text(Some(value)))),
        }
    }

    /// `key operator value`, with or without spaces; counted against the size limit.
    fn condition(
        &mut self,
        key: &str,
        operator: &str,
        value: &str,
    ) -> Result<String, ExtensionError> {
        let space = if self.options.space { " " } else { "" };
        let text = format!("{key}{space}{operator}{space}{value}");
        self.written += text.len();
        if self.written > MAX_OUTPUT_BYTES {
            return Err(self.fail(format!(
                "the condition would exceed {MAX_OUTPUT_BYTES} bytes"
            )));
        }
        Ok(text)
    }

    /// The package's `convertQueryToSql` on one query object.
    fn convert(
        &mut self,
        query: Option<&Value>,
        keys: &[String],
    ) -> Result<String, ExtensionError> {
        let mut statements = Vec::new();
        for key in keys {
            let Some(query) = query else {
                return Err(self.fail(format!(
                    "Cannot read properties of undefined (reading '{key}')"
                )));
            };
            if query.is_null() {
                return Err(self.fail(format!("Cannot read properties of null (reading '{key}')")));
            }
            if key == "or" {
                // The package recurses with the same key list, so the nested query must
                // itself hold "or", endlessly: with JSON data this always ends in a
                // property read of `undefined`.
                let inner = self.convert(member(query, key), keys)?;
                statements.push(format!("({inner})"));
                continue;
            }
            let comparison = member_value(query, key);
            let comparison = comparison.as_ref();
            let operators: Vec<String> = match comparison {
                Some(Value::Array(_)) => vec!["in".to_owned()],
                Some(Value::Null) => {
                    return Err(self.fail("Cannot convert undefined or null to object"));
                }
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                _ => vec!["eq".to_owned()],
            };
            let sql_key = member(self.mapping, key)
                .filter(|value| is_truthy(Some(value)))
                .map_or_else(|| key.clone(), |value| js_text(Some(value)));
            for operator in operators {
                let comparator = self.operator(&operator);
                if operator != "in" && operator != "nin" {
                    let Some(comparator) = comparator else {
                        return Err(self.fail(format!("Unknown operator: {operator}")));
                    };
                    let value = match comparison {
                        Some(Value::Object(map)) => map.get(&operator),
                        other => other,
                    };
                    if let Some(rendered) = self.render(value, key)? {
                        let text = self.condition(&sql_key, &comparator, &rendered)?;
                        statements.push(text);
                    }
                    continue;
                }
                let list = match comparison {
                    Some(Value::Array(items)) => Some(items),
                    Some(Value::Object(map)) => match map.get(&operator) {
                        Some(Value::Array(items)) => Some(items),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(list) = list else {
                    return Err(self.fail(format!(
                        "the \"{operator}\" value of \"{key}\" must be an array"
                    )));
                };
                if self.options.use_or_for_in {
                    let equals = self.operator("eq").unwrap_or_else(|| "=".to_owned());
                    let mut parts = Vec::new();
                    for item in list {
                        if let Some(rendered) = self.render(Some(item), key)? {
                            parts.push(self.condition(&sql_key, &equals, &rendered)?);
                        }
                    }
                    statements.push(format!("({})", parts.join(" OR ")));
                    continue;
                }
                let mut rendered = Vec::with_capacity(list.len());
                for item in list {
                    rendered.push(self.render(Some(item), key)?.unwrap_or_default());
                }
                let comparator = comparator.unwrap_or_else(|| operator.clone());
                let text =
                    self.condition(&sql_key, &comparator, &format!("({})", rendered.join(",")))?;
                statements.push(text);
            }
        }
        let conjunction = &self.options.conjunction;
        if self.options.group_in_brackets
            && let Some((first, rest)) = statements.split_first()
        {
            return Ok(rest.iter().fold(first.clone(), |acc, condition| {
                format!("({acc} {conjunction} {condition})")
            }));
        }
        Ok(statements.join(&format!(" {conjunction} ")))
    }
}

/// The keys the package walks: `keysToMap` when it has a length, else the query's own keys
/// (array indices first, as JavaScript lists them).
fn keys_of(args: &Args<'_>, query: Option<&Value>) -> Result<Vec<String>, ExtensionError> {
    let explicit: Vec<String> = match args.get(1) {
        None => Vec::new(),
        Some(Value::Null) => {
            return Err(args.failed("Cannot read properties of null (reading 'length')"));
        }
        Some(Value::Array(keys)) => keys.iter().map(|key| js_text(Some(key))).collect(),
        Some(Value::String(text)) => text.chars().map(String::from).collect(),
        Some(_) => Vec::new(),
    };
    if !explicit.is_empty() {
        return Ok(explicit);
    }
    match query {
        None | Some(Value::Null) => Err(args.failed("Cannot convert undefined or null to object")),
        Some(Value::Object(map)) => Ok(js_key_order(map)),
        Some(Value::Array(items)) => Ok((0..items.len()).map(|index| index.to_string()).collect()),
        Some(Value::String(text)) => Ok((0..text.encode_utf16().count())
            .map(|index| index.to_string())
            .collect()),
        Some(_) => Ok(Vec::new()),
    }
}

/// An object's keys in JavaScript order: array indices ascending, then the rest.
fn js_key_order(map: &Map<String, Value>) -> Vec<String> {
    let index_of = |key: &str| -> Option<u32> {
        let canonical = key == "0" || (!key.starts_with('0') && !key.is_empty());
        key.parse::<u32>().ok().filter(|index| {
            canonical && *index < u32::MAX && key.bytes().all(|b| b.is_ascii_digit())
        })
    };
    let mut indices: Vec<(u32, &String)> = map
        .keys()
        .filter_map(|key| index_of(key).map(|index| (index, key)))
        .collect();
    indices.sort_unstable_by_key(|(index, _)| *index);
    let mut keys: Vec<String> = indices.into_iter().map(|(_, key)| key.clone()).collect();
    keys.extend(map.keys().filter(|key| index_of(key).is_none()).cloned());
    keys
}

/// An optional object argument: `{}` when missing; `null` fails as property reads of
/// `null` do.
fn object_arg(args: &Args<'_>, index: usize, reading: &str) -> Result<Value, ExtensionError> {
    match args.get(index) {
        None => Ok(Value::Object(Map::new())),
        Some(Value::Null) => Err(args.failed(format!(
            "Cannot read properties of null (reading '{reading}')"
        ))),
        Some(value) => Ok(value.clone()),
    }
}

/// `$convertQueryToSql(query, keysToMap = [], mapping = {}, dataTypes = {},
/// customOperatorMapping = {}, options = {})`: the conditions of `query` joined with
/// `options.conjunction` (default `AND`). Each key's value is compared with `=`, an array
/// with `in (…)`, and an object `{operator: value}` with each operator (`eq`, `ne`, `gt`,
/// `gte`, `lt`, `lte`, `in`, `nin`, `like`, or one from `customOperatorMapping`). `mapping`
/// renames keys; `keysToMap` picks and orders them. `null`/missing values are left out.
/// Options: `useDoubleQuotes`, `noQuotes`, `noQuotesForDate`, `escapeSingleQuotes`,
/// `noSpaceBetweenOperator`, `useOrForIn`, `groupComparisonInBrackets`, `conjunction`.
/// An `or` key fails, as it always does in the package (it recurses with the same keys).
pub(crate) fn convert_query_to_sql(args: &Args<'_>) -> Outcome {
    let query = args.get(0);
    let keys = keys_of(args, query)?;
    if keys.is_empty() {
        return Ok(Some(Value::String(String::new())));
    }
    let options_value = object_arg(args, 5, "conjunction")?;
    let mapping = object_arg(args, 2, keys.first().map_or("", String::as_str))?;
    let data_types = object_arg(args, 3, keys.first().map_or("", String::as_str))?;
    let custom_operators = object_arg(args, 4, "eq")?;
    let mut converter = Converter {
        args,
        mapping: &mapping,
        data_types: &data_types,
        custom_operators: &custom_operators,
        options: Options::new(&options_value),
        written: 0,
    };
    let text = converter.convert(query, &keys)?;
    Ok(Some(Value::String(text)))
}
