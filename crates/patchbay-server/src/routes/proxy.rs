//! `/proxy/...`: calls a resource method of an integrated account's
//! integration and answers the provider's data.
//!
//! | route | method called |
//! |---|---|
//! | `GET /proxy/{resource}` | `list`, one page → `{result, next_cursor}` |
//! | `POST /proxy/{resource}` | `create` |
//! | `GET /proxy/{resource}/{id}` | `get` |
//! | `PATCH /proxy/{resource}/{id}` | `update` |
//! | `DELETE /proxy/{resource}/{id}` | `delete` |
//! | `POST /proxy/{resource}/{method}` | the custom method `{method}` |
//!
//! Every route needs the `integrated_account_id` query parameter (400 without
//! it, 404 for an account of another environment). Other query parameters are
//! passed to the method as `query` (`limit` and `next_cursor` drive list
//! pagination). Provider errors answer with the provider's status plus
//! `truto_is_remote_error: true` and `raw_response`; sandbox accounts refuse
//! writes with 405.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use patchbay::ErrorKind;
use patchbay::{CallInput, ListOptions, Patchbay};
use serde_json::{Map, Value};

use super::responses::{
    ProviderBody, ProxyAccount, ProxyErrors, ProxyRecord, ProxyResource, SandboxErrors,
};
use super::views::ProxyPage;
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::query::QueryParams;
use crate::state::AppState;

/// Query parameters the proxy consumes itself.
const RESERVED: [&str; 3] = ["integrated_account_id", "limit", "next_cursor"];

/// A parsed proxy request: the facade, the account and the method's input.
struct Call {
    patchbay: Patchbay,
    account_id: String,
    input: CallInput,
    query: QueryParams,
}

async fn prepare(state: &AppState, env: &str, raw: Option<&str>) -> ApiResult<Call> {
    let query = QueryParams::parse(raw)?;
    let account_id = query.required("integrated_account_id")?.to_owned();
    let patchbay = state.runtimes.for_account(env, &account_id).await?;
    let mut input = CallInput::new();
    input.query = query
        .without(&RESERVED)
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect::<Map<String, Value>>();
    Ok(Call {
        patchbay,
        account_id,
        input,
        query,
    })
}

impl Call {
    /// The call on the record `id` (if any).
    fn on(mut self, id: Option<String>) -> Self {
        self.input.id = id;
        self
    }

    /// The call with the request body `bytes` as the method's body, or none
    /// when the request has no body.
    ///
    /// # Errors
    ///
    /// 400 for malformed JSON, 422 for JSON of the wrong shape.
    fn with_body(mut self, bytes: &[u8]) -> ApiResult<Self> {
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            self.input.body = Some(parse_json(bytes)?);
        }
        Ok(self)
    }

    /// Runs `method` of `resource` once and answers the provider's (mapped) body.
    async fn run(self, resource: &str, method: &str) -> ApiResult<Json<Value>> {
        let response = self
            .patchbay
            .call(&self.account_id, resource, method, &self.input)
            .await
            .map_err(facade_error)?;
        Ok(Json(response.body))
    }
}

/// `GET /proxy/{resource}`: one page of `list`.
#[utoipa::path(
    get,
    path = "/proxy/{resource}",
    operation_id = "proxy_list",
    summary = "Proxy: list records",
    description = "Calls the resource's `list` method for one page: the records after the config's `response_path` and the cursor of the next page.",
    tag = "proxy",
    params(
        ProxyResource,
        ProxyAccount,
        ("limit" = Option<u32>, Query, description = "Page size, 1 to 5000."),
        ("next_cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "One page: the records after the config's `response_path`.", body = ProxyPage),
        ProxyErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<ProxyPage>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    let options = ListOptions {
        limit: call.query.limit()?,
        cursor: call
            .query
            .get("next_cursor")
            .filter(|c| !c.is_empty())
            .map(str::to_owned),
        cancel: None,
    };
    let page = call
        .patchbay
        .list_page(&call.account_id, &resource, "list", &call.input, options)
        .await
        .map_err(facade_error)?;
    Ok(Json(ProxyPage {
        result: page.records,
        next_cursor: page.next_cursor,
        // Only methods whose pagination has `prev_cursor_path` have one.
        prev_cursor: page.prev_cursor,
    }))
}

/// `POST /proxy/{resource}`: `create` with the request body.
#[utoipa::path(
    post,
    path = "/proxy/{resource}",
    operation_id = "proxy_create",
    summary = "Proxy: create a record",
    description = "Calls the resource's `create` method with the request body and answers the provider's body.",
    tag = "proxy",
    params(ProxyResource, ProxyAccount),
    request_body(content = Option<serde_json::Value>, description = "The JSON body passed to the method as its `body` (optional)."),
    responses(
        ProviderBody,
        ProxyErrors,
        SandboxErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    call.with_body(&body)?.run(&resource, "create").await
}

/// `GET /proxy/{resource}/{id}`: `get`.
#[utoipa::path(
    get,
    path = "/proxy/{resource}/{id}",
    operation_id = "proxy_get",
    summary = "Proxy: get a record",
    description = "Calls the resource's `get` method and answers the provider's body as it came.",
    tag = "proxy",
    params(ProxyRecord, ProxyAccount),
    responses(ProviderBody, ProxyErrors,)
)]
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    call.on(Some(id)).run(&resource, "get").await
}

/// `PATCH /proxy/{resource}/{id}`: `update` with the request body.
#[utoipa::path(
    patch,
    path = "/proxy/{resource}/{id}",
    operation_id = "proxy_update",
    summary = "Proxy: update a record",
    description = "Calls the resource's `update` method with the request body.",
    tag = "proxy",
    params(ProxyRecord, ProxyAccount),
    request_body(content = Option<serde_json::Value>, description = "The JSON body passed to the method as its `body` (optional)."),
    responses(
        ProviderBody,
        ProxyErrors,
        SandboxErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    call.on(Some(id))
        .with_body(&body)?
        .run(&resource, "update")
        .await
}

/// `DELETE /proxy/{resource}/{id}`: `delete`.
#[utoipa::path(
    delete,
    path = "/proxy/{resource}/{id}",
    operation_id = "proxy_delete",
    summary = "Proxy: delete a record",
    description = "Calls the resource's `delete` method.",
    tag = "proxy",
    params(ProxyRecord, ProxyAccount),
    responses(ProviderBody, ProxyErrors, SandboxErrors,)
)]
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    call.on(Some(id)).run(&resource, "delete").await
}

/// `POST /proxy/{resource}/{method}`: a custom method with the request body
/// (`id` in the query, if given, is the record id).
#[utoipa::path(
    post,
    path = "/proxy/{resource}/{id}",
    operation_id = "proxy_custom",
    summary = "Proxy: call a custom method",
    description = "`POST /proxy/{resource}/{method}`: calls the resource's custom method named by the second path segment (documented as `{id}` because the path is shared with the record routes) with the request body; the `id` query parameter, if given, is the record id.",
    tag = "proxy",
    params(
        ProxyResource,
        ("id" = String, Path, description = "The name of the custom method to call (this route shares its path with the record routes)."),
        ProxyAccount,
        ("id" = Option<String>, Query, description = "The record id the custom method acts on, if any."),
    ),
    request_body(content = Option<serde_json::Value>, description = "The JSON body passed to the method as its `body` (optional)."),
    responses(
        ProviderBody,
        ProxyErrors,
        SandboxErrors,
    ),
)]
pub async fn custom(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, method)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let call = prepare(&state, &env, raw.as_deref()).await?;
    let id = call.query.get("id").map(str::to_owned);
    call.on(id).with_body(&body)?.run(&resource, &method).await
}

/// Maps a facade error to the answer (see the module docs).
pub(crate) fn facade_error(error: patchbay::Error) -> ApiError {
    match error {
        patchbay::Error::UnknownAccount(id) => {
            ApiError::not_found(format!("no integrated account `{id}`"))
        }
        patchbay::Error::SandboxWrite(_) => {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, error.to_string())
        }
        error @ patchbay::Error::Executor(_) => pipeline_error(error),
        patchbay::Error::Store(e) => {
            tracing::error!(error = %e, "account store error in a proxy call");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server's storage failed; see the server log",
            )
        }
        other => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

/// A pipeline failure as the API answers it: the provider's own status and body when it
/// answered with an error, else a status by the error's kind.
fn pipeline_error(error: patchbay::Error) -> ApiError {
    if let Some(provider) = error.provider_response() {
        let status = StatusCode::from_u16(provider.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::BAD_GATEWAY);
        return ApiError::Remote {
            status,
            raw_response: provider.body.clone(),
            message: error.to_string(),
        };
    }
    let status = match error.kind() {
        ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Auth => StatusCode::UNAUTHORIZED,
        ErrorKind::Caller | ErrorKind::Config => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, error.to_string())
}
