//! Truto's JSON Schema dialect for unified resources and mapping schemas.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A schema in Truto's dialect: JSON Schema keywords where `required` may be a
/// **boolean on a property** (Truto's usual form) or a JSON-Schema array of
/// names on the object. Keywords this type does not name are kept in
/// [`extra`](Self::extra), so schemas round-trip.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrutoSchema {
    /// `type`: a type name or an array of them.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    /// `$ref`.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What the field holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fields of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<IndexMap<String, TrutoSchema>>,
    /// The schema of an array's items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<TrutoSchema>>,
    /// `true` on a property that must be present, or the names of the required
    /// properties of an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Required>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// `additionalProperties`.
    #[serde(
        rename = "additionalProperties",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_properties: Option<Value>,
    /// Any other keyword (`enum`, `format`, `nullable`, ...), kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The two forms of `required` in Truto schemas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Required {
    /// On a property: whether it must be present.
    Flag(bool),
    /// On an object: the names of its required properties.
    Names(Vec<String>),
}

impl TrutoSchema {
    /// The dotted paths (`address.city`) of the required fields that `value`
    /// lacks. A nested object's required fields are checked only when the
    /// object itself is present. `null` counts as missing.
    ///
    /// ```
    /// use patchbay_unified::TrutoSchema;
    /// use serde_json::json;
    /// let schema: TrutoSchema = serde_json::from_value(json!({"type": "object", "properties": {
    ///     "name": {"type": "string", "required": true},
    ///     "owner": {"type": "object", "properties": {"id": {"required": true}}},
    ///     "city": {"type": "string"}
    /// }})).unwrap();
    /// assert_eq!(schema.missing_required(&json!({"owner": {}})), vec!["name", "owner.id"]);
    /// assert!(schema.missing_required(&json!({"name": "x"})).is_empty());
    /// ```
    pub fn missing_required(&self, value: &Value) -> Vec<String> {
        let mut missing = Vec::new();
        self.collect_missing(value, "", &mut missing);
        missing
    }

    /// This schema as standard JSON Schema, for clients that do not read Truto's dialect
    /// (MCP tool inputs): a property's `required: true` becomes its name in the
    /// object's `required` array (after the names the object lists itself); `$ref`, which
    /// points into documents the client does not have, is left out. Every other keyword
    /// is kept as written.
    ///
    /// ```
    /// use patchbay_unified::TrutoSchema;
    /// use serde_json::json;
    /// let schema: TrutoSchema = serde_json::from_value(json!({"type": "object", "properties": {
    ///     "email": {"type": "string", "required": true},
    ///     "tags": {"type": "array", "items": {"properties": {"name": {"required": true}}}}
    /// }})).unwrap();
    /// assert_eq!(schema.to_json_schema(), json!({"type": "object", "properties": {
    ///     "email": {"type": "string"},
    ///     "tags": {"type": "array", "items": {"properties": {"name": {}}, "required": ["name"]}}
    /// }, "required": ["email"]}));
    /// ```
    pub fn to_json_schema(&self) -> Value {
        let mut out = self.extra.clone();
        if let Some(kind) = &self.kind {
            out.insert("type".into(), kind.clone());
        }
        if let Some(description) = &self.description {
            out.insert("description".into(), description.clone().into());
        }
        if let Some(default) = &self.default {
            out.insert("default".into(), default.clone());
        }
        if let Some(additional) = &self.additional_properties {
            out.insert("additionalProperties".into(), additional.clone());
        }
        if let Some(items) = &self.items {
            out.insert("items".into(), items.to_json_schema());
        }
        let mut required: Vec<String> = match &self.required {
            Some(Required::Names(names)) => names.clone(),
            _ => Vec::new(),
        };
        if let Some(properties) = &self.properties {
            let mut converted = Map::new();
            for (name, property) in properties {
                if property.required == Some(Required::Flag(true)) && !required.contains(name) {
                    required.push(name.clone());
                }
                converted.insert(name.clone(), property.to_json_schema());
            }
            out.insert("properties".into(), Value::Object(converted));
        }
        if !required.is_empty() {
            out.insert(
                "required".into(),
                Value::Array(required.into_iter().map(Value::String).collect()),
            );
        }
        Value::Object(out)
    }

    /// Whether this object schema refuses properties it does not declare
    /// (`additionalProperties: false`).
    pub fn is_closed(&self) -> bool {
        self.additional_properties == Some(Value::Bool(false))
    }

    /// The parameters of `value` that a closed schema (`additionalProperties: false`,
    /// at any depth) does not declare, in the query-string form the caller wrote
    /// (`updated_at[lt]`). Keys of an open object are not checked, nor is anything
    /// below them; top-level names for which `ignore` is true are skipped.
    ///
    /// ```
    /// use patchbay_unified::TrutoSchema;
    /// use serde_json::json;
    /// let schema: TrutoSchema = serde_json::from_value(json!({
    ///     "type": "object", "additionalProperties": false, "properties": {
    ///         "search_term": {"type": "string"},
    ///         "updated_at": {"type": "object", "additionalProperties": false,
    ///                        "properties": {"gt": {"type": "string"}}}
    /// }})).unwrap();
    /// let query = json!({"updated_at": {"gt": "2024-01-01", "lt": "2025-01-01"}, "owner": "x", "limit": "5"});
    /// assert_eq!(schema.undeclared(&query, |name| name == "limit"), vec!["updated_at[lt]", "owner"]);
    /// ```
    pub fn undeclared(&self, value: &Value, ignore: impl Fn(&str) -> bool) -> Vec<String> {
        let mut found = Vec::new();
        let Value::Object(map) = value else {
            return found;
        };
        for (name, inner) in map {
            if !ignore(name) {
                self.collect_undeclared(name, inner, name, &mut found);
            }
        }
        found
    }

    /// The first parameter of `value` whose property says `"format": "date-time"` and
    /// whose value is not an ISO 8601 date or date-time (`2024-01-01`,
    /// `2024-01-01T05:00:00`, RFC 3339), with its value; in the query-string form
    /// (`updated_at[gt]`). Top-level names for which `ignore` is true are skipped.
    ///
    /// ```
    /// use patchbay_unified::TrutoSchema;
    /// use serde_json::json;
    /// let schema: TrutoSchema = serde_json::from_value(json!({"properties": {
    ///     "updated_at": {"properties": {"gt": {"type": "string", "format": "date-time"}}}
    /// }})).unwrap();
    /// assert_eq!(schema.malformed_date_time(&json!({"updated_at": {"gt": "2024-01-01T00:00:00Z"}}), |_| false), None);
    /// assert_eq!(
    ///     schema.malformed_date_time(&json!({"updated_at": {"gt": "last week"}}), |_| false),
    ///     Some(("updated_at[gt]".to_owned(), "last week".to_owned()))
    /// );
    /// ```
    pub fn malformed_date_time(
        &self,
        value: &Value,
        ignore: impl Fn(&str) -> bool,
    ) -> Option<(String, String)> {
        let Value::Object(map) = value else {
            return None;
        };
        map.iter()
            .filter(|(name, _)| !ignore(name))
            .find_map(|(name, inner)| self.find_malformed(name, inner, name))
    }

    fn find_malformed(&self, name: &str, value: &Value, path: &str) -> Option<(String, String)> {
        let property = self.properties.as_ref()?.get(name)?;
        match value {
            Value::String(text)
                if property.extra.get("format") == Some(&Value::from("date-time"))
                    && !is_iso_date_time(text) =>
            {
                Some((path.to_owned(), text.clone()))
            }
            Value::Object(map) => map.iter().find_map(|(key, inner)| {
                property.find_malformed(key, inner, &format!("{path}[{key}]"))
            }),
            _ => None,
        }
    }

    fn collect_undeclared(&self, name: &str, value: &Value, path: &str, found: &mut Vec<String>) {
        if !self.is_closed() {
            return;
        }
        let Some(property) = self.properties.as_ref().and_then(|p| p.get(name)) else {
            found.push(path.to_owned());
            return;
        };
        if let Value::Object(map) = value {
            for (key, inner) in map {
                property.collect_undeclared(key, inner, &format!("{path}[{key}]"), found);
            }
        }
    }

    fn collect_missing(&self, value: &Value, prefix: &str, missing: &mut Vec<String>) {
        let Some(properties) = &self.properties else {
            return;
        };
        let names: &[String] = match &self.required {
            Some(Required::Names(names)) => names,
            _ => &[],
        };
        for (name, property) in properties {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let required = property.required == Some(Required::Flag(true)) || names.contains(name);
            match value.get(name) {
                None | Some(Value::Null) if required => missing.push(path),
                Some(inner @ Value::Object(_)) => property.collect_missing(inner, &path, missing),
                _ => {}
            }
        }
        for name in names.iter().filter(|n| !properties.contains_key(*n)) {
            if matches!(value.get(name), None | Some(Value::Null)) {
                missing.push(if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}.{name}")
                });
            }
        }
    }
}

/// Whether `text` is an ISO 8601 date (`2024-01-01`), local date-time
/// (`2024-01-01T05:00:00[.fff]`) or RFC 3339 date-time: forms JSONata's `$toMillis` reads.
fn is_iso_date_time(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}
