//! `side_load`: per-record enrichment calls and the mapping of their answers.

use serde_json::{Map, Value};

use crate::{CompiledMapping, PreparedCall, StepCall, UnifiedError};

impl CompiledMapping {
    fn side_load_entry(&self, key: &str) -> Result<&crate::CompiledSideLoad, UnifiedError> {
        self.side_load
            .get(key)
            .ok_or_else(|| UnifiedError::UnknownSideLoad {
                key: key.to_owned(),
                resource: self.resource_name.clone(),
                method: self.method_name.clone(),
            })
    }

    /// The call of the `side_load` entry `key` for one unified `record`: its
    /// `id` and `query` templates are rendered against `{record, query, rawQuery,
    /// body, context}` (`record` the unified record, `remote_data` included).
    ///
    /// # Errors
    ///
    /// [`UnifiedError::UnknownSideLoad`] when the mapping has no such entry.
    pub fn plan_side_load(
        &self,
        prepared: &PreparedCall,
        key: &str,
        record: &Value,
    ) -> Result<StepCall, UnifiedError> {
        let entry = self.side_load_entry(key)?;
        let data: Map<String, Value> = [
            ("record", record),
            ("query", &prepared.query),
            ("rawQuery", &prepared.raw_query),
            ("body", &prepared.body),
            ("context", &prepared.context),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
        let data = Value::Object(data);
        let id = entry
            .id
            .as_ref()
            .and_then(|t| t.render(&data))
            .and_then(|v| match v {
                Value::String(s) => Some(s),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let query = match entry.query.as_ref().and_then(|t| t.render(&data)) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Ok(StepCall {
            resource: entry.resource.clone(),
            method: entry.method.clone(),
            id,
            query,
            body: None,
        })
    }

    /// Fills `record[key]` from the answer of a side-load call: its
    /// `response_mapping` (bindings `response`, `query`, `rawQuery`, `body`), or
    /// the response itself without one. An undefined result leaves the key unset.
    ///
    /// # Errors
    ///
    /// [`UnifiedError::UnknownSideLoad`]; a failing mapping; a `record` that is not an object.
    pub fn apply_side_load(
        &self,
        prepared: &PreparedCall,
        key: &str,
        record: &mut Value,
        response: Value,
    ) -> Result<(), UnifiedError> {
        let entry = self.side_load_entry(key)?;
        let value = match &entry.response_mapping {
            None => Some(response),
            Some(expression) => {
                let scope = vec![
                    ("response", &response),
                    ("query", &prepared.query),
                    ("rawQuery", &prepared.raw_query),
                    ("body", &prepared.body),
                ];
                self.run("side_load.response_mapping", expression, &scope)?
            }
        };
        let Value::Object(map) = record else {
            return Err(self.wrong("side_load", "an object record", record));
        };
        if let Some(value) = value {
            map.insert(key.to_owned(), value);
        }
        Ok(())
    }
}
