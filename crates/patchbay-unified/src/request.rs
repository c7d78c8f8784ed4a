//! The request half of a unified call (reference §1.6 steps 3-6): required
//! fields, `before` step plans, resource/method pickers, query, body, header
//! and path mappings → the integration call to make.

use serde_json::{Map, Value};

use crate::compile::{CompiledStep, CompiledStepCall, Selector};
use crate::eval::{Scope, truthy};
use crate::{CompiledMapping, TrutoParams, UnifiedError};

/// A unified request as the caller made it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnifiedRequest {
    /// The record id of `get`/`update`/`delete` and custom methods.
    pub id: Option<String>,
    /// The caller's query, nested (see [`nest_query`](crate::nest_query)), `truto_*` parameters included.
    pub query: Map<String, Value>,
    /// The caller's body.
    pub body: Option<Value>,
    /// The caller's headers (lowercase names), for `request_header_mapping`.
    pub headers: Map<String, Value>,
    /// The account context (installation variables and account context).
    pub context: Map<String, Value>,
    /// The outputs of the mapping's `before` steps, in order (`null` for a
    /// skipped step), bound as `before`; empty when it has none.
    pub before: Vec<Value>,
}

/// The integration call a unified request maps to; a host runs it through the
/// integration pipeline (`Patchbay::call` / `list_page`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntegrationCall {
    /// Integration resource.
    pub resource: String,
    /// Integration method.
    pub method: String,
    /// Record id (`{{id}}` in the integration's path).
    pub id: Option<String>,
    /// Query to send: the rendered default `query`, the `query_mapping`
    /// result over it, then `remote_query` over both.
    pub query: Map<String, Value>,
    /// Body to send, when there is one.
    pub body: Option<Value>,
    /// Headers from `request_header_mapping`.
    pub headers: Map<String, Value>,
    /// Upstream path from `path_mapping`, replacing the method's own.
    pub path: Option<String>,
    /// Page size for a list (`limit`).
    pub limit: Option<u64>,
    /// Cursor to resume a list (`next_cursor`).
    pub cursor: Option<String>,
}

/// A request after its mapping: the call to make, and what the response
/// half needs (the bindings and the `truto_*` parameters).
#[derive(Debug, Clone)]
pub struct PreparedCall {
    /// The integration call.
    pub call: IntegrationCall,
    /// The `truto_*` parameters.
    pub params: TrutoParams,
    pub(crate) raw_query: Value,
    pub(crate) query: Value,
    pub(crate) body: Value,
    pub(crate) mapped_body: Value,
    pub(crate) context: Value,
    pub(crate) before: Value,
    pub(crate) id: Option<Value>,
}

/// A `before`/`after` step's call, to run like the main one.
#[derive(Debug, Clone, PartialEq)]
pub struct StepCall {
    /// Integration resource.
    pub resource: String,
    /// Integration method.
    pub method: String,
    /// Record id.
    pub id: Option<String>,
    /// Query.
    pub query: Map<String, Value>,
    /// Body.
    pub body: Option<Value>,
}

/// What a step expression sees: `id`, `query`, `body`, `context`, `data`
/// (the main response, `after` steps only) and `step` (the previous step's output).
#[derive(Debug, Clone, Default)]
pub struct StepScope {
    /// `id`.
    pub id: Option<Value>,
    /// `query` (the caller's).
    pub query: Value,
    /// `body` (the caller's).
    pub body: Value,
    /// `context`.
    pub context: Value,
    /// `data`.
    pub data: Option<Value>,
    /// `step`.
    pub step: Option<Value>,
}

impl StepScope {
    /// The scope of a `before` step of `request` after `previous`.
    pub fn before(request: &UnifiedRequest, previous: Option<Value>) -> Self {
        StepScope {
            id: request.id.clone().map(Value::String),
            query: Value::Object(request.query.clone()),
            body: request.body.clone().unwrap_or(Value::Null),
            context: Value::Object(request.context.clone()),
            data: None,
            step: previous,
        }
    }

    /// The scope of an `after` step of `prepared` after `previous`: `data` is the
    /// call's answer, `query` the caller's query without its `truto_*` parameters.
    pub fn after(prepared: &PreparedCall, data: Value, previous: Option<Value>) -> Self {
        StepScope {
            id: prepared.id.clone(),
            query: prepared.raw_query.clone(),
            body: prepared.body.clone(),
            context: prepared.context.clone(),
            data: Some(data),
            step: previous,
        }
    }

    fn entries(&self) -> Scope<'_> {
        let mut scope: Scope<'_> = vec![
            ("query", &self.query),
            ("body", &self.body),
            ("context", &self.context),
        ];
        for (name, value) in [("id", &self.id), ("data", &self.data), ("step", &self.step)] {
            if let Some(v) = value {
                scope.push((name, v));
            }
        }
        scope
    }
}

/// Parameters of the request flow, never filters: always accepted by a closed `query_schema`.
fn is_flow_parameter(name: &str) -> bool {
    matches!(
        name,
        "limit" | "next_cursor" | "remote_query" | "integrated_account_id"
    ) || name.starts_with("truto_")
}

fn as_id(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl CompiledMapping {
    /// Checks the caller's query and body against `query_schema` and
    /// `request_body_schema`. Run it before any call (before steps included);
    /// [`prepare`](Self::prepare) runs it too.
    ///
    /// A closed `query_schema` (`additionalProperties: false`, at any depth)
    /// declares every parameter the integration can apply: any other one
    /// (`updated_at[lt]` when only `updated_at.gt` is declared) is refused.
    /// The parameters of the request flow itself (`limit`, `next_cursor`,
    /// `truto_*`, `remote_query`, `integrated_account_id`) are always accepted.
    /// A parameter whose property says `"format": "date-time"` must be an ISO 8601 date
    /// or date-time, so a mapping's `$toMillis` never sees anything else.
    ///
    /// # Errors
    ///
    /// [`UnifiedError::UnsupportedQuery`] naming every undeclared parameter, then
    /// [`UnifiedError::InvalidParameter`] for a parameter declared `"format": "date-time"`
    /// whose value is not an ISO 8601 date or date-time, then
    /// [`UnifiedError::MissingRequired`] naming every missing field.
    pub fn check_required(&self, request: &UnifiedRequest) -> Result<(), UnifiedError> {
        let query = Value::Object(request.query.clone());
        if let Some(schema) = &self.query_schema {
            let parameters = schema.undeclared(&query, is_flow_parameter);
            if !parameters.is_empty() {
                return Err(UnifiedError::UnsupportedQuery {
                    parameters,
                    integration: self.integration.clone(),
                });
            }
            if let Some((name, value)) = schema.malformed_date_time(&query, is_flow_parameter) {
                return Err(UnifiedError::InvalidParameter {
                    name,
                    reason: format!("`{value}` is not an ISO 8601 date-time"),
                });
            }
        }
        let missing_query = self
            .query_schema
            .as_ref()
            .map(|s| s.missing_required(&query))
            .unwrap_or_default();
        let body = request.body.clone().unwrap_or(Value::Object(Map::new()));
        let missing_body = self
            .request_body_schema
            .as_ref()
            .map(|s| s.missing_required(&body))
            .unwrap_or_default();
        if missing_query.is_empty() && missing_body.is_empty() {
            Ok(())
        } else {
            Err(UnifiedError::MissingRequired {
                query: missing_query,
                body: missing_body,
            })
        }
    }

    /// Plans a `before`/`after` step: `None` when its `run_if` is falsy.
    ///
    /// # Errors
    ///
    /// An expression that fails, or a `config` expression that does not
    /// return `{resource, method, ...}`.
    pub fn plan_step(
        &self,
        step: &CompiledStep,
        scope: &StepScope,
    ) -> Result<Option<StepCall>, UnifiedError> {
        let entries = scope.entries();
        if let Some(run_if) = &step.run_if
            && !truthy(self.run("run_if", run_if, &entries)?.as_ref())
        {
            return Ok(None);
        }
        let data = Value::Object(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).clone()))
                .collect(),
        );
        match &step.call {
            CompiledStepCall::Fixed {
                resource,
                method,
                id,
                query,
                body,
            } => Ok(Some(StepCall {
                resource: resource.clone(),
                method: method.clone(),
                id: id.as_ref().and_then(|t| t.render(&data)).and_then(as_id),
                query: match query.as_ref().and_then(|t| t.render(&data)) {
                    Some(Value::Object(map)) => map,
                    _ => Map::new(),
                },
                body: body.as_ref().and_then(|t| t.render(&data)),
            })),
            CompiledStepCall::Expression(expression) => {
                let result = self
                    .run("config", expression, &entries)?
                    .unwrap_or(Value::Null);
                let name = |key: &str| result.get(key).and_then(Value::as_str).map(str::to_owned);
                let (Some(resource), Some(method)) = (name("resource"), name("method")) else {
                    return Err(self.wrong(
                        "config",
                        "an object with `resource` and `method`",
                        &result,
                    ));
                };
                Ok(Some(StepCall {
                    resource,
                    method,
                    id: result.get("id").cloned().and_then(as_id),
                    query: result
                        .get("query")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    body: result.get("body").cloned(),
                }))
            }
        }
    }

    fn select(
        &self,
        mapping: &'static str,
        selector: &Selector,
        scope: &Scope<'_>,
    ) -> Result<String, UnifiedError> {
        match selector {
            Selector::Fixed(name) => Ok(name.clone()),
            Selector::Picked {
                expression,
                allowed,
            } => {
                let chosen = match self.run(mapping, expression, scope)? {
                    Some(Value::String(s)) => s,
                    other => {
                        return Err(self.wrong(mapping, "a string", &other.unwrap_or(Value::Null)));
                    }
                };
                match allowed {
                    Some(allowed) if !allowed.contains(&chosen) => Err(UnifiedError::NotAllowed {
                        mapping,
                        chosen,
                        allowed: allowed.clone(),
                    }),
                    _ => Ok(chosen),
                }
            }
        }
    }

    /// Maps a unified request to its integration call (reference §1.6 steps
    /// 5-6): takes out the `truto_*` parameters, checks required fields, picks
    /// the integration resource and method, renders the default `query` and
    /// `body`, and runs `query_mapping`, `request_body_mapping`,
    /// `request_header_mapping` and `path_mapping` with the bindings of §1.5.
    /// Fill [`UnifiedRequest::before`] first when the mapping has `before` steps.
    ///
    /// # Errors
    ///
    /// [`UnifiedError::InvalidParameter`], [`UnifiedError::MissingRequired`]
    /// (before anything is evaluated), and expression failures.
    pub fn prepare(&self, mut request: UnifiedRequest) -> Result<PreparedCall, UnifiedError> {
        let params = TrutoParams::take(&mut request.query)?;
        self.check_required(&request)?;
        let raw_query = Value::Object(request.query);
        let body = request.body.unwrap_or(Value::Null);
        let context = Value::Object(request.context);
        let before = Value::Array(request.before);
        let id = request.id.map(Value::String);
        let headers = Value::Object(request.headers);

        let mut scope: Scope<'_> = vec![
            ("query", &raw_query),
            ("rawQuery", &raw_query),
            ("body", &body),
            ("context", &context),
            ("before", &before),
        ];
        if let Some(id) = &id {
            scope.push(("id", id));
        }
        let resource = self.select("resource", &self.resource, &scope)?;
        let method = self.select("method", &self.method, &scope)?;

        let template_data = {
            let mut data = Map::new();
            for (name, value) in &scope {
                data.insert((*name).to_owned(), (*value).clone());
            }
            Value::Object(data)
        };
        let mut query = match self
            .default_query
            .as_ref()
            .and_then(|t| t.render(&template_data))
        {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        if let Some(mapped) = self.run_object("query_mapping", &self.query_mapping, &scope)? {
            query.extend(mapped.into_iter().filter(|(_, v)| !v.is_null()));
        }
        query.extend(params.remote_query.clone());
        let mapped_query = Value::Object(query.clone());

        let mut scope: Scope<'_> = vec![
            ("query", &mapped_query),
            ("rawQuery", &raw_query),
            ("body", &body),
            ("context", &context),
            ("before", &before),
        ];
        if let Some(id) = &id {
            scope.push(("id", id));
        }
        let default_body = self
            .default_body
            .as_ref()
            .and_then(|t| t.render(&template_data));
        let mapped = if self.request_body_mapping.is_empty() {
            (!body.is_null()).then(|| body.clone())
        } else {
            self.run_layered("request_body_mapping", &self.request_body_mapping, &scope)?
        };
        let mapped_body = match (default_body, mapped) {
            (Some(Value::Object(mut lower)), Some(Value::Object(upper))) => {
                lower.extend(upper);
                Some(Value::Object(lower))
            }
            (lower, upper) => upper.or(lower),
        };
        if let Some(found) = mapped_body
            .as_ref()
            .filter(|b| b.is_number() || b.is_boolean())
        {
            return Err(self.wrong("request_body_mapping", "an object, array or string", found));
        }
        let mapped_body_value = mapped_body.clone().unwrap_or(Value::Null);

        let mut header_scope = scope.clone();
        header_scope.push(("headers", &headers));
        let call_headers = self
            .run_object(
                "request_header_mapping",
                &self.request_header_mapping,
                &header_scope,
            )?
            .unwrap_or_default();
        let path = match &self.path_mapping {
            None => None,
            Some(expression) => match self.run("path_mapping", expression, &header_scope)? {
                None | Some(Value::Null) => None,
                Some(Value::String(path)) => Some(path),
                Some(other) => return Err(self.wrong("path_mapping", "a string", &other)),
            },
        };
        Ok(PreparedCall {
            call: IntegrationCall {
                resource,
                method,
                id: id.as_ref().and_then(|v| v.as_str()).map(str::to_owned),
                query,
                body: mapped_body,
                headers: call_headers,
                path,
                limit: params.limit,
                cursor: params.cursor.clone(),
            },
            params,
            raw_query,
            query: mapped_query,
            body,
            mapped_body: mapped_body_value,
            context,
            before,
            id,
        })
    }
}
