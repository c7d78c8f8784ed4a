//! Unified API calls (reference §1.6) through the facade: the host registers an install's
//! unified mappings once ([`Patchbay::install_unified`]) and runs unified requests
//! ([`Patchbay::unified`]); each runs the mapping steps of `patchbay-unified` around the
//! integration pipeline (`call` / `list_page`).

mod registry;
mod steps;

use patchbay_executor::{CallInput, ListOptions};
use patchbay_unified::{
    AccountOverride, CompiledMapping, MappingRow, PreparedCall, RawPage, ResponseFormat,
    UnifiedList, UnifiedModel, UnifiedRequest,
};
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use crate::response_path::at_response_path;
use crate::{Error, Patchbay};

pub(crate) use registry::UnifiedRegistry;

/// The answer of a unified call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UnifiedResponse {
    /// The body.
    pub body: UnifiedBody,
    /// Headers for the unified answer, from `response_header_mapping` (empty without one).
    pub headers: Map<String, Value>,
}

/// The body of a unified answer.
#[derive(Debug, Clone, PartialEq)]
pub enum UnifiedBody {
    /// A `list`: `{result, next_cursor, prev_cursor, result_count, is_partial_response}`.
    List(UnifiedList),
    /// `get`, `create`, `update`, `delete` and custom methods: the mapped record (or what
    /// the mapping made of the answer; the provider's body with `truto_response_format=raw`).
    Item(Value),
}

impl UnifiedBody {
    /// The JSON body to answer (Truto wraps custom methods' answers in `{result}`; that is
    /// the host's, which knows the method is custom).
    pub fn into_json(self) -> Value {
        match self {
            UnifiedBody::List(list) => serde_json::to_value(list).unwrap_or(Value::Null),
            UnifiedBody::Item(item) => item,
        }
    }
}

/// The [`CallInput::request_type`] of the provider calls a unified call makes.
pub(crate) const UNIFIED_REQUEST: &str = "unified";

/// Unified methods that write: refused at once for sandbox accounts.
const WRITES: [&str; 3] = ["create", "update", "delete"];

/// Response headers as the mappings see them: lowercase names, string values (several
/// values of one name joined with `, `; values that are not text are left out).
fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !values.is_empty() {
            map.insert(name.as_str().to_owned(), Value::String(values.join(", ")));
        }
    }
    Value::Object(map)
}

impl Patchbay {
    /// Registers the unified model `model` for the install `environment_integration_id`
    /// of the integration `integration_name`: every method is compiled here, once, and
    /// kept next to the install. Replaces what the install had for this model; survives a
    /// new [`install`](Self::install) under the same id.
    ///
    /// `model` is the model as the environment sees it (its environment override applied
    /// with [`UnifiedModel::with_override`]). `base` are the model's mapping rows and
    /// `environment` the environment's override rows; rows of other integrations are
    /// skipped. A `(resource, method)` is registered when a row or the model's inline
    /// `integration_mapping` names it; base row (else inline mapping) and environment row
    /// are layered as [`MappingLayers`](crate::unified::MappingLayers) describes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUnifiedMapping`] naming the first method that does not compile
    /// (nothing is registered then).
    pub fn install_unified(
        &self,
        environment_integration_id: &str,
        model: &UnifiedModel,
        integration_name: &str,
        base: &[MappingRow],
        environment: &[MappingRow],
    ) -> Result<(), Error> {
        self.unified.register(
            environment_integration_id,
            model,
            integration_name,
            base,
            environment,
        )
    }

    /// Runs the unified `method` of `model`'s `resource` for the account `account_id`
    /// (reference §1.6), with the mappings registered for the account's install by
    /// [`install_unified`](Self::install_unified):
    ///
    /// 1. `query_schema` / `request_body_schema` required fields are checked: nothing is
    ///    sent when one is missing ([`Error::Unified`], status 400);
    /// 2. `before` steps run, their outputs bound as `before`;
    /// 3. the request is mapped ([`CompiledMapping::prepare`]; `request.context` and
    ///    `request.before` are filled here: the context is the install's host variables
    ///    overlaid with the account's);
    /// 4. the integration call runs through the pipeline: `list` through
    ///    [`list_page`](Self::list_page) with the caller's `limit` and `next_cursor`
    ///    (the provider's cursor, passed through both ways), every other method through
    ///    [`call`](Self::call);
    /// 5. a provider error is mapped by `error_mapping` into [`Error::UnifiedProvider`];
    /// 6. the answer is mapped (`remote_data`, `truto_response_format`,
    ///    `truto_ignore_remote_data`, `truto_exclude_fields`, `truto_key_by`), `side_load`
    ///    calls fill their keys (not with `truto_response_format=raw`), and
    ///    `response_header_mapping` gives [`UnifiedResponse::headers`];
    /// 7. `after` steps run with `data` = the unified body.
    ///
    /// Sandbox accounts refuse `create`, `update` and `delete` before anything is sent,
    /// and any writing integration call as [`call`](Self::call) does. `list` answers see
    /// no provider response headers (the pipeline's pages carry none).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownUnifiedMethod`], [`Error::Unified`] (caller or mapping error),
    /// [`Error::UnifiedProvider`] (the provider's error, mapped), [`Error::SandboxWrite`],
    /// and the errors of [`call`](Self::call). [`Error::unified_error`] gives the unified error body.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// use patchbay::unified::{UnifiedRequest, load_mapping_row, load_unified_model, nest_query};
    /// use patchbay::{Error, ErrorKind};
    ///
    /// let patchbay = patchbay::Patchbay::builder().build();
    /// let config = patchbay::config::load_integration_config(r#"{
    ///     "base_url": "https://api.example.com",
    ///     "resources": {"people": {"create": {"method": "post", "path": "/people"}}}
    /// }"#)?;
    /// patchbay.install("example-prod", config, Default::default())?;
    /// let model = load_unified_model(r#"{"name": "crm", "resources": {"contacts": {}}}"#)?;
    /// let row = load_mapping_row(r#"{
    ///     "resource_name": "contacts", "integration_name": "example", "method_name": "create",
    ///     "config": {
    ///         "resource": "people",
    ///         "request_body_schema": {"type": "object", "properties": {"email": {"type": "string", "required": true}}},
    ///         "request_body_mapping": "{ \"mail\": body.email }",
    ///         "response_mapping": "response.{ \"id\": $string(id), \"email\": mail }"
    ///     }
    /// }"#)?;
    /// patchbay.install_unified("example-prod", &model, "example", &[row], &[])?;
    ///
    /// // ... put an integrated account "acct-1" of "example-prod" in the account store ...
    /// # use patchbay::AccountStore;
    /// # let account: patchbay::config::IntegratedAccount = serde_json::from_value(serde_json::json!({
    /// #     "id": "acct-1", "tenant_id": "t", "environment_integration_id": "example-prod",
    /// #     "context": {}, "authentication_method": "api_key", "status": "active",
    /// #     "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    /// # }))?;
    /// # patchbay.accounts().put(account).await?;
    /// // A request without the required `email` is refused before any HTTP request.
    /// let request = UnifiedRequest { body: Some(serde_json::json!({})), ..Default::default() };
    /// let error = patchbay.unified("acct-1", "crm", "contacts", "create", request).await.unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::Caller);
    /// let answer = error.unified_error().unwrap();
    /// assert_eq!(answer.status, 400);
    /// assert_eq!(answer.body["truto_error_insight"]["missing_required_body_fields"]["value"][0], "email");
    /// # Ok(()) }
    /// ```
    pub async fn unified(
        &self,
        account_id: &str,
        model: &str,
        resource: &str,
        method: &str,
        request: UnifiedRequest,
    ) -> Result<UnifiedResponse, Error> {
        self.unified_with_override(account_id, model, resource, method, request, None)
            .await
    }

    /// [`unified`](Self::unified) with the account's `unified_model_override` (kept by
    /// the host): its `<model>.<resource>.<method>` config, when present, is layered on
    /// top of the registered mapping (compiled for this call).
    ///
    /// # Errors
    ///
    /// As [`unified`](Self::unified); [`Error::InvalidUnifiedMapping`] when the
    /// account's layer does not compile.
    pub async fn unified_with_override(
        &self,
        account_id: &str,
        model: &str,
        resource: &str,
        method: &str,
        mut request: UnifiedRequest,
        account_override: Option<&AccountOverride>,
    ) -> Result<UnifiedResponse, Error> {
        let (account, installed, owned) = self.load(account_id).await?;
        let layer = account_override
            .and_then(|o| o.get(model))
            .and_then(|resources| resources.get(resource))
            .and_then(|methods| methods.get(method));
        let mapping = self
            .unified
            .get(&account.environment_integration_id, model, resource, method)?
            .with_account(model, layer)?;
        if account.is_sandbox && WRITES.contains(&method) {
            return Err(Error::SandboxWrite(account.id));
        }
        request.context = owned.context;
        mapping.check_required(&request).map_err(Error::Unified)?;
        request.before = self
            .run_before_steps(account_id, &mapping, &request)
            .await?;
        let prepared = mapping.prepare(request).map_err(Error::Unified)?;
        let answer = if method == "list" {
            self.unified_list(account_id, &mapping, &prepared).await?
        } else {
            let config = installed.integration.config();
            let response_path = config
                .method(&prepared.call.resource, &prepared.call.method)
                .and_then(|m| m.method.response_path.clone());
            self.unified_item(account_id, &mapping, &prepared, response_path.as_deref())
                .await?
        };
        let headers = mapping
            .map_response_headers(&prepared, &answer.headers, &answer.raw)
            .map_err(Error::Unified)?;
        if !mapping.after_steps().is_empty() {
            let data = match &answer.body {
                UnifiedBody::List(list) => list.result.clone(),
                UnifiedBody::Item(item) => item.clone(),
            };
            self.run_after_steps(account_id, &mapping, &prepared, &data)
                .await?;
        }
        Ok(UnifiedResponse {
            body: answer.body,
            headers,
        })
    }

    /// One page of a unified list: the prepared call through `list_page`, mapped, side
    /// loads run, shaped.
    async fn unified_list(
        &self,
        account_id: &str,
        mapping: &CompiledMapping,
        prepared: &PreparedCall,
    ) -> Result<Answer, Error> {
        let view = View::new(mapping, prepared);
        let call = &prepared.call;
        let options = ListOptions {
            limit: call.limit,
            cursor: call.cursor.clone(),
            cancel: None,
        };
        let page = self
            .list_page(
                account_id,
                &call.resource,
                &call.method,
                &input(prepared),
                options,
            )
            .await
            .map_err(|e| provider_failure(mapping, prepared, e))?;
        let raw = if mapping.maps_response_headers() {
            Value::Array(page.records.clone())
        } else {
            Value::Null
        };
        let page = RawPage {
            records: page.records,
            next_cursor: page.next_cursor,
            prev_cursor: page.prev_cursor,
        };
        let mut list = mapping
            .map_list(view.prepared(prepared), page, &Value::Object(Map::new()))
            .map_err(Error::Unified)?;
        if let Some(unshaped) = &view.0 {
            self.run_side_loads(account_id, mapping, unshaped, &mut list.result)
                .await?;
            let records = match list.result.take() {
                Value::Array(records) => records,
                other => vec![other],
            };
            list.result = prepared.shape_list(records).map_err(Error::Unified)?;
        }
        Ok(Answer {
            body: UnifiedBody::List(list),
            raw,
            headers: Value::Object(Map::new()),
        })
    }

    /// A unified get/create/update/delete/custom call: the prepared call through `call`,
    /// the record at the integration method's `response_path` mapped (`response` is one
    /// record, as for lists), side loads run, shaped.
    async fn unified_item(
        &self,
        account_id: &str,
        mapping: &CompiledMapping,
        prepared: &PreparedCall,
        response_path: Option<&str>,
    ) -> Result<Answer, Error> {
        let view = View::new(mapping, prepared);
        let call = &prepared.call;
        let response = self
            .call(account_id, &call.resource, &call.method, &input(prepared))
            .await
            .map_err(|e| provider_failure(mapping, prepared, e))?;
        let headers = headers_json(&response.headers);
        let record = at_response_path(response.body.clone(), response_path)
            .map_err(|e| Error::Executor(patchbay_executor::ExecutorError::Config(e)))?;
        let mut item = mapping
            .map_item(view.prepared(prepared), record, &headers)
            .map_err(Error::Unified)?;
        if let Some(unshaped) = &view.0 {
            self.run_side_loads(account_id, mapping, unshaped, &mut item)
                .await?;
            match &mut item {
                Value::Array(items) => items.iter_mut().for_each(|i| prepared.shape_record(i)),
                record => prepared.shape_record(record),
            }
        }
        Ok(Answer {
            body: UnifiedBody::Item(item),
            raw: response.body,
            headers,
        })
    }
}

/// What the integration call of a unified call gave: the unified body, and the provider's
/// body (a list's raw records, when `response_header_mapping` needs them) and response
/// headers for `response_header_mapping`.
struct Answer {
    body: UnifiedBody,
    raw: Value,
    headers: Value,
}

/// The call to map records with: when the mapping has `side_load` entries (and the format
/// is not `raw`), [`PreparedCall::unshaped`], so side loads see `remote_data` and the
/// caller's shaping parameters apply after them.
struct View(Option<PreparedCall>);

impl View {
    fn new(mapping: &CompiledMapping, prepared: &PreparedCall) -> Self {
        let side_loads = !mapping.side_loads().is_empty()
            && prepared.params.response_format != ResponseFormat::Raw;
        View(side_loads.then(|| prepared.unshaped()))
    }

    fn prepared<'a>(&'a self, prepared: &'a PreparedCall) -> &'a PreparedCall {
        self.0.as_ref().unwrap_or(prepared)
    }
}

/// The pipeline input of a prepared call.
fn input(prepared: &PreparedCall) -> CallInput {
    CallInput {
        id: prepared.call.id.clone(),
        query: prepared.call.query.clone(),
        body: prepared.call.body.clone(),
        headers: prepared.call.headers.clone(),
        path: prepared.call.path.clone(),
        request_type: Some(UNIFIED_REQUEST),
    }
}

/// A provider's error answer mapped by the mapping's `error_mapping`
/// ([`Error::UnifiedProvider`]); other errors unchanged. A failing `error_mapping` is an
/// [`Error::Unified`].
fn provider_failure(mapping: &CompiledMapping, prepared: &PreparedCall, error: Error) -> Error {
    let Error::Executor(source) = error else {
        return error;
    };
    let Some(provider) = source.provider_error().filter(|p| p.status >= 400) else {
        return Error::Executor(source);
    };
    match mapping.map_error(
        prepared,
        provider.status,
        &headers_json(&provider.headers),
        &provider.body,
    ) {
        Ok(mapped) => Error::UnifiedProvider {
            mapped: Box::new(mapped),
            source,
        },
        Err(error) => Error::Unified(error),
    }
}
