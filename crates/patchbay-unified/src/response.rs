//! The response half of a unified call (reference §1.6 steps 8-9): provider
//! records → unified records with `remote_data`, list envelopes, error mapping.

use serde::Serialize;
use serde_json::{Map, Value, json};

use patchbay_template::Bindings;

use crate::eval::{Scope, truthy};
use crate::{CompiledMapping, PreparedCall, ResponseFormat, ResponseMappingMethod, UnifiedError};

/// One page of an integration list, as the pipeline returns it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawPage {
    /// The page's records (`response_path` applied).
    pub records: Vec<Value>,
    /// The integration's cursor to the next page, passed through.
    pub next_cursor: Option<String>,
    /// The integration's cursor to the previous page, passed through.
    pub prev_cursor: Option<String>,
}

/// The body of a unified `list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnifiedList {
    /// The records: an array, or an object keyed by `truto_key_by`.
    pub result: Value,
    /// Pass back as `next_cursor` for the next page.
    pub next_cursor: Option<String>,
    /// Pass back as `next_cursor` for the previous page.
    pub prev_cursor: Option<String>,
    /// How many records `result` holds.
    pub result_count: usize,
    /// Whether the records are partial (`is_partial_expression`); fetch `get`
    /// for the full record.
    pub is_partial_response: bool,
}

/// A provider error turned into a unified one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappedError {
    /// The HTTP status to answer: the mapped body's numeric `status` when it
    /// has one, else the provider's.
    pub status: u16,
    /// The unified error body, with `truto_error_insight`.
    pub body: Value,
}

impl PreparedCall {
    fn response_scope<'a>(&'a self, headers: &'a Value) -> Scope<'a> {
        let mut scope: Scope<'a> = vec![
            ("query", &self.query),
            ("rawQuery", &self.raw_query),
            ("body", &self.body),
            ("context", &self.context),
            ("before", &self.before),
            ("headers", headers),
        ];
        if let Some(id) = &self.id {
            scope.push(("id", id));
        }
        scope
    }
}

impl PreparedCall {
    /// This call with the record-shaping parameters (`truto_ignore_remote_data`,
    /// `truto_exclude_fields`, `truto_key_by`) turned off. A host that works on
    /// the mapped records before answering (e.g. `side_load` calls, which may read
    /// `remote_data`) maps them with this call, then applies the caller's
    /// parameters with [`shape_record`](Self::shape_record) or
    /// [`shape_list`](Self::shape_list).
    pub fn unshaped(&self) -> PreparedCall {
        let mut call = self.clone();
        call.params.ignore_remote_data = false;
        call.params.exclude_fields.clear();
        call.params.key_by = None;
        call
    }

    /// Applies `truto_ignore_remote_data` and `truto_exclude_fields` to one
    /// record mapped with [`unshaped`](Self::unshaped) (values that are not
    /// objects are left as they are).
    pub fn shape_record(&self, record: &mut Value) {
        let Value::Object(map) = record else {
            return;
        };
        if self.params.ignore_remote_data {
            map.remove("remote_data");
        }
        for field in &self.params.exclude_fields {
            map.remove(field);
        }
    }

    /// Shapes the records of a list mapped with [`unshaped`](Self::unshaped)
    /// as [`CompiledMapping::map_list`] would have: each record by
    /// [`shape_record`](Self::shape_record) (not with `truto_response_format=raw`),
    /// then the `result` array, or an
    /// object keyed by `truto_key_by`.
    ///
    /// # Errors
    ///
    /// [`UnifiedError::InvalidParameter`] when a record has no `truto_key_by` field.
    pub fn shape_list(&self, mut records: Vec<Value>) -> Result<Value, UnifiedError> {
        if self.params.response_format != ResponseFormat::Raw {
            for record in &mut records {
                self.shape_record(record);
            }
        }
        match &self.params.key_by {
            None => Ok(Value::Array(records)),
            Some(key) => key_by(records, key),
        }
    }
}

impl CompiledMapping {
    /// Maps provider records to unified records: `response_mapping` per
    /// record (or once on the array with `response_mapping_method: array`,
    /// outputs paired with inputs by position), `null`/undefined outputs
    /// dropped, each output given its raw record as `remote_data` (unless
    /// `truto_ignore_remote_data`), `truto_exclude_fields` removed. With
    /// `truto_response_format=raw` the records come back untouched.
    ///
    /// # Errors
    ///
    /// A failing `response_mapping`, or one returning neither an object nor
    /// an array of objects.
    pub fn map_records(
        &self,
        prepared: &PreparedCall,
        records: Vec<Value>,
        headers: &Value,
    ) -> Result<Vec<Value>, UnifiedError> {
        if prepared.params.response_format == ResponseFormat::Raw {
            return Ok(records);
        }
        let mut out = Vec::with_capacity(records.len());
        if self.response_mapping.is_empty() {
            for record in records {
                // Without a mapping, records that are not objects (an empty
                // delete answer, a text body) pass through unchanged.
                if record.is_object() {
                    out.push(self.finish(prepared, record.clone(), Some(record))?);
                } else {
                    out.push(record);
                }
            }
            return Ok(out);
        }
        match self.response_mapping_method {
            ResponseMappingMethod::Item => {
                // Every record is mapped first (the scope and the evaluators set up once
                // for the page), then each output gets its record as `remote_data`:
                // moved into the last output of its record, copied for any others.
                let mut mapped = Vec::with_capacity(records.len());
                {
                    let none = Bindings::new();
                    let mut batch =
                        self.layered_batch("response_mapping", &self.response_mapping, &none);
                    let mut scope = prepared.response_scope(headers);
                    let slot = scope.len();
                    for record in &records {
                        scope.truncate(slot);
                        scope.push(("response", record));
                        let items = flatten(batch.run(&scope)?);
                        if let Some(wrong) = items.iter().find(|item| !item.is_object()) {
                            return Err(self.wrong(
                                "response_mapping",
                                "an object per record",
                                wrong,
                            ));
                        }
                        mapped.push(items);
                    }
                }
                for (record, items) in records.into_iter().zip(mapped) {
                    let mut record = Some(record);
                    let last = items.len().saturating_sub(1);
                    for (i, item) in items.into_iter().enumerate() {
                        let raw = if i == last {
                            record.take()
                        } else {
                            record.clone()
                        };
                        out.push(self.finish(prepared, item, raw)?);
                    }
                }
            }
            ResponseMappingMethod::Array => {
                let all = Value::Array(records);
                let mut scope = prepared.response_scope(headers);
                scope.push(("response", &all));
                let mapped =
                    self.run_layered("response_mapping", &self.response_mapping, &scope)?;
                let Value::Array(records) = all else {
                    unreachable!("built as an array")
                };
                let outputs: Vec<Value> = match mapped {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items,
                    Some(single) => vec![single],
                };
                let paired = outputs.len() == records.len();
                for (i, item) in outputs.into_iter().enumerate() {
                    if item.is_null() {
                        continue;
                    }
                    let raw = paired.then(|| records[i].clone());
                    out.push(self.finish(prepared, item, raw)?);
                }
            }
        }
        Ok(out)
    }

    fn finish(
        &self,
        prepared: &PreparedCall,
        record: Value,
        raw: Option<Value>,
    ) -> Result<Value, UnifiedError> {
        let Value::Object(mut map) = record else {
            return Err(self.wrong("response_mapping", "an object per record", &record));
        };
        if let Some(raw) = raw.filter(|_| !prepared.params.ignore_remote_data) {
            map.insert("remote_data".into(), raw);
        }
        for field in &prepared.params.exclude_fields {
            map.remove(field);
        }
        Ok(Value::Object(map))
    }

    /// Maps one page of a list to the unified list body: records as
    /// [`map_records`](Self::map_records), cursors passed through,
    /// `is_partial_response` from `is_partial_expression` (bindings `data` =
    /// the raw records, `query`, `rawQuery`, `before`, `id`, `requestBody` =
    /// the body sent, `rawBody` = the caller's body), `result` keyed by
    /// `truto_key_by` when asked.
    ///
    /// # Errors
    ///
    /// As [`map_records`](Self::map_records); [`UnifiedError::InvalidParameter`]
    /// when a record has no `truto_key_by` field.
    pub fn map_list(
        &self,
        prepared: &PreparedCall,
        page: RawPage,
        headers: &Value,
    ) -> Result<UnifiedList, UnifiedError> {
        let is_partial_response = match &self.is_partial {
            None => false,
            Some(expression) => {
                let data = Value::Array(page.records.clone());
                let mut scope: Scope<'_> = vec![
                    ("data", &data),
                    ("query", &prepared.query),
                    ("rawQuery", &prepared.raw_query),
                    ("before", &prepared.before),
                    ("requestBody", &prepared.mapped_body),
                    ("rawBody", &prepared.body),
                ];
                if let Some(id) = &prepared.id {
                    scope.push(("id", id));
                }
                truthy(
                    self.run("is_partial_expression", expression, &scope)?
                        .as_ref(),
                )
            }
        };
        let records = self.map_records(prepared, page.records, headers)?;
        let result_count = records.len();
        let result = match &prepared.params.key_by {
            None => Value::Array(records),
            Some(key) => key_by(records, key)?,
        };
        Ok(UnifiedList {
            result,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
            result_count,
            is_partial_response,
        })
    }

    /// Maps the response of a `get`/`create`/`update`/`delete` or custom
    /// method: one record (an array response maps to an array). `null` when
    /// the mapping drops the record. The mapping runs even on an empty (`null`)
    /// answer, so a delete mapping can answer from its bindings (`{ "id": id }`);
    /// without a mapping such an answer comes back as it is.
    ///
    /// # Errors
    ///
    /// As [`map_records`](Self::map_records).
    pub fn map_item(
        &self,
        prepared: &PreparedCall,
        raw: Value,
        headers: &Value,
    ) -> Result<Value, UnifiedError> {
        match raw {
            Value::Array(records) => {
                Ok(Value::Array(self.map_records(prepared, records, headers)?))
            }
            single => Ok(self
                .map_records(prepared, vec![single], headers)?
                .into_iter()
                .next()
                .unwrap_or(Value::Null)),
        }
    }

    /// The headers of the unified response from `response_header_mapping`
    /// (bindings `headers` = the provider's response headers, `response` = its
    /// body, `query`, `rawQuery`, `body`, `context`); empty without one.
    ///
    /// # Errors
    ///
    /// A failing mapping, or one not returning an object.
    pub fn map_response_headers(
        &self,
        prepared: &PreparedCall,
        headers: &Value,
        response: &Value,
    ) -> Result<Map<String, Value>, UnifiedError> {
        let mut scope = prepared.response_scope(headers);
        scope.push(("response", response));
        Ok(self
            .run_object(
                "response_header_mapping",
                &self.response_header_mapping,
                &scope,
            )?
            .unwrap_or_default())
    }

    /// Turns a provider error (status, headers, parsed body) into the unified
    /// error: `error_mapping`'s object (bindings `error` = the body, `headers`,
    /// `body`, `query`, `rawQuery`, `context`, `before`, `id`), or without one
    /// `{"message": ...}` from the body's `message`/`error` or the status.
    /// `truto_error_insight.remote_error` carries the provider's status and
    /// body; a 429 adds `rate_limit_error`.
    ///
    /// # Errors
    ///
    /// A failing `error_mapping`, or one not returning an object.
    pub fn map_error(
        &self,
        prepared: &PreparedCall,
        status: u16,
        headers: &Value,
        error: &Value,
    ) -> Result<MappedError, UnifiedError> {
        let mut scope = prepared.response_scope(headers);
        scope.push(("error", error));
        let mut body = match self.run_object("error_mapping", &self.error_mapping, &scope)? {
            Some(map) => map,
            None => {
                let message = ["message", "error"]
                    .iter()
                    .find_map(|k| error.get(k).and_then(Value::as_str))
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("the provider answered with status {status}"));
                let mut map = Map::new();
                map.insert("message".into(), Value::String(message));
                map
            }
        };
        let answer = body
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (400..600).contains(s))
            .unwrap_or(status);
        let mut insight = Map::new();
        insight.insert(
            "remote_error".into(),
            json!({"description": "The error the integration's API returned.", "value": {"status": status, "body": error}}),
        );
        if status == 429 {
            insight.insert(
                "rate_limit_error".into(),
                json!({"description": "The integration's API rate limited the request."}),
            );
        }
        body.insert("truto_error_insight".into(), Value::Object(insight));
        Ok(MappedError {
            status: answer,
            body: Value::Object(body),
        })
    }
}

fn flatten(mapped: Option<Value>) -> Vec<Value> {
    match mapped {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.into_iter().filter(|i| !i.is_null()).collect(),
        Some(single) => vec![single],
    }
}

fn key_by(records: Vec<Value>, key: &str) -> Result<Value, UnifiedError> {
    let mut keyed = Map::new();
    for (i, record) in records.into_iter().enumerate() {
        let name = match record.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(UnifiedError::InvalidParameter {
                    name: "truto_key_by".into(),
                    reason: format!("record {i} has no string or number field `{key}`"),
                });
            }
        };
        keyed.insert(name, record);
    }
    Ok(Value::Object(keyed))
}
