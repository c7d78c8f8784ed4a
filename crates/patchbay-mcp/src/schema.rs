//! Input JSON Schemas of tools.

use serde_json::{Map, Value, json};

/// Which argument goes where: the parts of an input schema a call routes by.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Routing {
    /// The `id` argument is the record id and is required.
    pub(crate) takes_id: bool,
    /// The `id` argument is the record id (required or not).
    pub(crate) accepts_id: bool,
    /// A list method: `limit` and `next_cursor` drive pagination.
    pub(crate) list: bool,
    /// Arguments sent as query parameters.
    pub(crate) query_keys: Vec<String>,
    /// Arguments sent in the body.
    pub(crate) body_keys: Vec<String>,
    /// Where other arguments go: the body (`true`, methods that send one) or the query.
    pub(crate) extra_to_body: bool,
}

/// Names the tool arguments reserve: they never become query or body keys.
pub(crate) const RESERVED: [&str; 3] = ["id", "limit", "next_cursor"];

/// Builds an input schema: `{type: object, properties, required}`.
#[derive(Debug, Default)]
pub(crate) struct SchemaBuilder {
    properties: Map<String, Value>,
    required: Vec<String>,
}

impl SchemaBuilder {
    /// Adds the required record `id`.
    pub(crate) fn id(&mut self) {
        self.optional_id();
        self.required.push("id".into());
    }

    /// Adds the record `id`, not required.
    pub(crate) fn optional_id(&mut self) {
        self.properties.insert(
            "id".into(),
            json!({"type": "string", "description": "The id of the record."}),
        );
    }

    /// Adds `limit` and `next_cursor`.
    pub(crate) fn pagination(&mut self) {
        self.properties.insert(
            "limit".into(),
            json!({"type": "integer", "minimum": 1,
                   "description": "How many records to return in this page (the provider may cap it)."}),
        );
        self.properties.insert(
            "next_cursor".into(),
            json!({"type": "string",
                   "description": "The `next_cursor` of the previous page, to get the page after it. Leave it out for the first page."}),
        );
    }

    /// Adds the properties (and `required`) of a config's JSON Schema (`query_schema`,
    /// `body_schema`), returning the keys added. A schema without `properties` adds none.
    pub(crate) fn add_schema(&mut self, schema: &Value) -> Vec<String> {
        let mut keys = Vec::new();
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            return keys;
        };
        for (key, property) in properties {
            if RESERVED.contains(&key.as_str()) || self.properties.contains_key(key) {
                continue;
            }
            self.properties.insert(key.clone(), property.clone());
            keys.push(key.clone());
        }
        let required = schema.get("required").and_then(Value::as_array);
        for key in required.into_iter().flatten().filter_map(Value::as_str) {
            if keys.iter().any(|k| k == key) && !self.required.iter().any(|r| r == key) {
                self.required.push(key.to_owned());
            }
        }
        keys
    }

    /// Adds the properties of `schema` as [`add_schema`](Self::add_schema) does, none of
    /// them required (a record's schema used as an input).
    pub(crate) fn add_optional_schema(&mut self, schema: &Value) -> Vec<String> {
        let required = self.required.len();
        let keys = self.add_schema(schema);
        self.required.truncate(required);
        keys
    }

    /// Adds optional properties for keys a method's placeholders read, described as
    /// `place` (`query parameter`, `body field`), returning the keys added.
    pub(crate) fn add_placeholders(&mut self, keys: &[String], place: &str) -> Vec<String> {
        let mut added = Vec::new();
        for key in keys {
            if RESERVED.contains(&key.as_str()) || self.properties.contains_key(key) {
                continue;
            }
            self.properties.insert(
                key.clone(),
                json!({"description": format!("Sent as the {place} `{key}`.")}),
            );
            added.push(key.clone());
        }
        added
    }

    /// The schema.
    pub(crate) fn build(self) -> Map<String, Value> {
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(self.properties));
        if !self.required.is_empty() {
            schema.insert(
                "required".into(),
                Value::Array(self.required.into_iter().map(Value::String).collect()),
            );
        }
        schema
    }
}
