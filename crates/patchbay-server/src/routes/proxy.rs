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
use patchbay::executor::ExecutorError;
use patchbay::{CallInput, ListOptions, Patchbay};
use serde_json::{Map, Value, json};

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
    let account = state.store.get_account(env, &account_id).await?;
    let patchbay = state.runtimes.for_account(env, &account).await?;
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

/// The JSON body, or none when the request has no body.
fn optional_body(bytes: &[u8]) -> ApiResult<Option<Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(None)
    } else {
        parse_json(bytes).map(Some)
    }
}

/// Runs `method` once and answers the provider's (mapped) body.
async fn call(call: Call, resource: &str, method: &str) -> ApiResult<Json<Value>> {
    let response = call
        .patchbay
        .call(&call.account_id, resource, method, &call.input)
        .await
        .map_err(facade_error)?;
    Ok(Json(response.body))
}

/// `GET /proxy/{resource}`: one page of `list`.
pub async fn list(
    State(state): State<AppState>,
    Env(env): Env,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(
        json!({"result": page.records, "next_cursor": page.next_cursor}),
    ))
}

/// `POST /proxy/{resource}`: `create` with the request body.
pub async fn create(
    State(state): State<AppState>,
    Env(env): Env,
    Path(resource): Path<String>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut call_ = prepare(&state, &env, raw.as_deref()).await?;
    call_.input.body = optional_body(&body)?;
    call(call_, &resource, "create").await
}

/// `GET /proxy/{resource}/{id}`: `get`.
pub async fn get(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut call_ = prepare(&state, &env, raw.as_deref()).await?;
    call_.input.id = Some(id);
    call(call_, &resource, "get").await
}

/// `PATCH /proxy/{resource}/{id}`: `update` with the request body.
pub async fn update(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut call_ = prepare(&state, &env, raw.as_deref()).await?;
    call_.input.id = Some(id);
    call_.input.body = optional_body(&body)?;
    call(call_, &resource, "update").await
}

/// `DELETE /proxy/{resource}/{id}`: `delete`.
pub async fn delete(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Value>> {
    let mut call_ = prepare(&state, &env, raw.as_deref()).await?;
    call_.input.id = Some(id);
    call(call_, &resource, "delete").await
}

/// `POST /proxy/{resource}/{method}`: a custom method with the request body
/// (`id` in the query, if given, is the record id).
pub async fn custom(
    State(state): State<AppState>,
    Env(env): Env,
    Path((resource, method)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut call_ = prepare(&state, &env, raw.as_deref()).await?;
    call_.input.id = call_.query.get("id").map(str::to_owned);
    call_.input.body = optional_body(&body)?;
    call(call_, &resource, &method).await
}

/// Maps a facade error to the answer (see the module docs).
fn facade_error(error: patchbay::Error) -> ApiError {
    match error {
        patchbay::Error::UnknownAccount(id) => {
            ApiError::not_found(format!("no integrated account `{id}`"))
        }
        patchbay::Error::SandboxWrite(_) => {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, error.to_string())
        }
        patchbay::Error::Executor(error) => executor_error(error),
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

fn executor_error(error: ExecutorError) -> ApiError {
    if let Some(provider) = error.provider_error() {
        let status = StatusCode::from_u16(provider.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::BAD_GATEWAY);
        return ApiError::Remote {
            status,
            message: error.to_string(),
            raw_response: provider.body.clone(),
        };
    }
    let status = match &error {
        ExecutorError::UnknownMethod { .. } => StatusCode::NOT_FOUND,
        ExecutorError::Auth(_) => StatusCode::UNAUTHORIZED,
        ExecutorError::Template(_)
        | ExecutorError::Url(_)
        | ExecutorError::Body(_)
        | ExecutorError::Config(_)
        | ExecutorError::Pagination(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, error.to_string())
}
