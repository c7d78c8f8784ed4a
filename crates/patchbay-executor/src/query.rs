//! Writing JSON values as query-string (or form) pairs, as the `qs` library does.

use patchbay_config::QueryArrayFormat;
use serde_json::Value;

/// The array format used when a config sets none: `indices`, the default of
/// the `qs` library that Truto uses (`a[0]=1&a[1]=2`).
pub(crate) const DEFAULT_ARRAY_FORMAT: QueryArrayFormat = QueryArrayFormat::Indices;

/// Flattens `(key, value)` pairs into string pairs, unencoded (the URL or form
/// encoder escapes them).
///
/// Scalars print as JavaScript would (`true`, `1.5`); `null` gives an empty
/// value; objects nest with brackets (`filter[status]=open`); arrays follow
/// `format`: `comma` (`a=1,2`), `brackets` (`a[]=1&a[]=2`), `indices`
/// (`a[0]=1&a[1]=2`) or `repeat` (`a=1&a=2`).
pub(crate) fn flatten_query<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a Value)>,
    format: QueryArrayFormat,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in params {
        push(&mut out, key.to_owned(), value, format);
    }
    out
}

fn push(out: &mut Vec<(String, String)>, key: String, value: &Value, format: QueryArrayFormat) {
    match value {
        Value::Array(items) => match format {
            QueryArrayFormat::Comma if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                out.push((key, items.iter().map(scalar).collect::<Vec<_>>().join(",")));
            }
            QueryArrayFormat::Brackets => {
                for item in items {
                    push(out, format!("{key}[]"), item, format);
                }
            }
            QueryArrayFormat::Repeat => {
                for item in items {
                    push(out, key.clone(), item, format);
                }
            }
            // `indices`, and `comma` over structured items.
            _ => {
                for (i, item) in items.iter().enumerate() {
                    push(out, format!("{key}[{i}]"), item, format);
                }
            }
        },
        Value::Object(map) => {
            for (sub, item) in map {
                push(out, format!("{key}[{sub}]"), item, format);
            }
        }
        scalar_value => out.push((key, scalar(scalar_value))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn brackets_nest_objects_and_repeat_array_keys() {
        use serde_json::json;
        let ids = json!([1, 2]);
        let filter = json!({"state": "open"});
        let pairs = flatten_query(
            [("ids", &ids), ("filter", &filter)],
            QueryArrayFormat::Brackets,
        );
        assert_eq!(
            pairs,
            [("ids[]", "1"), ("ids[]", "2"), ("filter[state]", "open")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }
    use super::*;
    use serde_json::json;

    fn pairs(value: Value, format: QueryArrayFormat) -> Vec<String> {
        flatten_query([("a", &value)], format)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    #[test]
    fn every_array_format() {
        assert_eq!(pairs(json!([1, "x"]), QueryArrayFormat::Comma), ["a=1,x"]);
        assert_eq!(
            pairs(json!([1, "x"]), QueryArrayFormat::Brackets),
            ["a[]=1", "a[]=x"]
        );
        assert_eq!(
            pairs(json!([1, "x"]), QueryArrayFormat::Indices),
            ["a[0]=1", "a[1]=x"]
        );
        assert_eq!(
            pairs(json!([1, "x"]), QueryArrayFormat::Repeat),
            ["a=1", "a=x"]
        );
    }

    #[test]
    fn nested_values_use_brackets() {
        assert_eq!(
            pairs(json!({"b": {"c": [true, null]}}), QueryArrayFormat::Indices),
            ["a[b][c][0]=true", "a[b][c][1]="]
        );
        assert_eq!(
            pairs(json!([{"x": 1}]), QueryArrayFormat::Comma),
            ["a[0][x]=1"]
        );
        assert_eq!(pairs(json!(1.5), QueryArrayFormat::Comma), ["a=1.5"]);
    }
}
