//! The caller's query: nesting `foo[bar]=x` and taking out the `truto_*` parameters.

use serde_json::{Map, Value};

use crate::UnifiedError;

/// Nests query pairs as Truto parses them: `foo[bar]=x` → `{"foo": {"bar": "x"}}`,
/// `foo[]=a&foo[]=b` → `{"foo": ["a", "b"]}`; a repeated plain key becomes an array.
///
/// ```
/// use patchbay_unified::nest_query;
/// use serde_json::json;
/// let q = nest_query([("updated_at[gt]", "2024-01-01"), ("ids[]", "1"), ("ids[]", "2"), ("limit", "10")]);
/// assert_eq!(serde_json::Value::Object(q), json!({"updated_at": {"gt": "2024-01-01"}, "ids": ["1", "2"], "limit": "10"}));
/// ```
pub fn nest_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in pairs {
        let key = key.as_ref();
        let (head, rest) = match key.find('[') {
            Some(i) if key.ends_with(']') && i > 0 => (&key[..i], &key[i + 1..key.len() - 1]),
            _ => (key, ""),
        };
        let segments: Vec<&str> = if rest.is_empty() && !key.ends_with("[]") {
            Vec::new()
        } else {
            rest.split("][").collect()
        };
        insert(
            &mut root,
            head,
            &segments,
            Value::String(value.as_ref().to_owned()),
        );
    }
    root
}

fn insert(map: &mut Map<String, Value>, key: &str, segments: &[&str], value: Value) {
    match segments.split_first() {
        None => match map.get_mut(key) {
            Some(Value::Array(items)) => items.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            None => {
                map.insert(key.to_owned(), value);
            }
        },
        Some((&"", _)) => match map.get_mut(key) {
            Some(Value::Array(items)) => items.push(value),
            _ => {
                map.insert(key.to_owned(), Value::Array(vec![value]));
            }
        },
        Some((next, rest)) => {
            let slot = map
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(inner) = slot {
                insert(inner, next, rest, value);
            }
        }
    }
}

/// `truto_response_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// Mappings applied (the default; `normalized` is read as this too).
    #[default]
    Unified,
    /// The upstream records as they came, unmapped.
    Raw,
}

/// The Truto-specific and paging parameters of a unified request, taken out
/// of its query before any mapping sees it (`limit` stays visible to mappings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrutoParams {
    /// `truto_response_format`.
    pub response_format: ResponseFormat,
    /// `truto_key_by`: return `result` as an object keyed by this field.
    pub key_by: Option<String>,
    /// `truto_ignore_limit`.
    pub ignore_limit: bool,
    /// `truto_ignore_remote_data`: leave `remote_data` out of records.
    pub ignore_remote_data: bool,
    /// `truto_exclude_fields` (`[]` array or comma-separated): top-level fields dropped from records.
    pub exclude_fields: Vec<String>,
    /// `remote_query[...]`: sent to the provider untransformed, after mapping.
    pub remote_query: Map<String, Value>,
    /// `limit` (page size), unless `truto_ignore_limit`.
    pub limit: Option<u64>,
    /// `next_cursor`: resume a list.
    pub cursor: Option<String>,
}

fn flag(name: &str, value: &Value) -> Result<bool, UnifiedError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" || s == "1" || s.is_empty() => Ok(true),
        Value::String(s) if s == "false" || s == "0" => Ok(false),
        other => Err(invalid(
            name,
            format!("expected true or false, found {other}"),
        )),
    }
}

fn invalid(name: &str, reason: String) -> UnifiedError {
    UnifiedError::InvalidParameter {
        name: name.to_owned(),
        reason,
    }
}

fn text(name: &str, value: Value) -> Result<String, UnifiedError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(invalid(name, format!("expected a string, found {other}"))),
    }
}

impl TrutoParams {
    /// Removes the `truto_*`, `remote_query` and `next_cursor` parameters from
    /// `query` and reads them; reads `limit` and keeps it in `query` (removes it
    /// under `truto_ignore_limit`). Other `truto_*` parameters (`truto_super_query`,
    /// `truto_body_passthrough`, `integrated_account_id`) are removed and ignored.
    ///
    /// # Errors
    ///
    /// [`UnifiedError::InvalidParameter`] naming the parameter for a value it cannot take.
    pub fn take(query: &mut Map<String, Value>) -> Result<Self, UnifiedError> {
        let mut params = TrutoParams::default();
        if let Some(format) = query.remove("truto_response_format") {
            params.response_format = match text("truto_response_format", format)?.as_str() {
                "unified" | "normalized" => ResponseFormat::Unified,
                "raw" => ResponseFormat::Raw,
                other => {
                    return Err(invalid(
                        "truto_response_format",
                        format!("`{other}` is not one of unified, normalized, raw"),
                    ));
                }
            };
        }
        if let Some(key) = query.remove("truto_key_by") {
            params.key_by = Some(text("truto_key_by", key)?);
        }
        if let Some(v) = query.remove("truto_ignore_limit") {
            params.ignore_limit = flag("truto_ignore_limit", &v)?;
        }
        if let Some(v) = query.remove("truto_ignore_remote_data") {
            params.ignore_remote_data = flag("truto_ignore_remote_data", &v)?;
        }
        if let Some(v) = query.remove("truto_exclude_fields") {
            let items = match v {
                Value::Array(items) => items,
                single => vec![single],
            };
            for item in items {
                let item = text("truto_exclude_fields", item)?;
                params.exclude_fields.extend(
                    item.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
            }
        }
        match query.remove("remote_query") {
            None => {}
            Some(Value::Object(map)) => params.remote_query = map,
            Some(other) => {
                return Err(invalid(
                    "remote_query",
                    format!("expected remote_query[name]=value pairs, found {other}"),
                ));
            }
        }
        if let Some(cursor) = query.remove("next_cursor") {
            params.cursor = Some(text("next_cursor", cursor)?);
        }
        for other in [
            "truto_super_query",
            "truto_body_passthrough",
            "integrated_account_id",
        ] {
            query.remove(other);
        }
        if params.ignore_limit {
            query.remove("limit");
        } else if let Some(limit) = query.get("limit") {
            let parsed = match limit {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            params.limit = Some(parsed.filter(|n| *n > 0).ok_or_else(|| {
                invalid(
                    "limit",
                    format!("expected a positive whole number, found {limit}"),
                )
            })?);
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn take(query: Value) -> Result<(TrutoParams, Value), UnifiedError> {
        let mut map = query.as_object().unwrap().clone();
        let params = TrutoParams::take(&mut map)?;
        Ok((params, Value::Object(map)))
    }

    #[test]
    fn parameters_leave_the_query_and_limit_stays() {
        let (params, rest) = take(json!({
            "truto_exclude_fields": ["id", "name,title"], "truto_ignore_remote_data": "false",
            "truto_super_query": "apac", "integrated_account_id": "a1", "limit": 20, "name": "x"
        }))
        .unwrap();
        assert_eq!(params.exclude_fields, ["id", "name", "title"]);
        assert!(!params.ignore_remote_data);
        assert_eq!(params.limit, Some(20));
        assert_eq!(rest, json!({"limit": 20, "name": "x"}));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        for (query, name) in [
            (json!({"truto_ignore_limit": "maybe"}), "truto_ignore_limit"),
            (json!({"remote_query": "x"}), "remote_query"),
            (json!({"limit": "0"}), "limit"),
            (json!({"truto_key_by": {"a": 1}}), "truto_key_by"),
        ] {
            match take(query) {
                Err(UnifiedError::InvalidParameter { name: found, .. }) => assert_eq!(found, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn nested_keys_and_repeats() {
        let q = nest_query([("a[b][c]", "1"), ("tag", "x"), ("tag", "y")]);
        assert_eq!(
            Value::Object(q),
            json!({"a": {"b": {"c": "1"}}, "tag": ["x", "y"]})
        );
    }
}
