//! `/unified/{model}/{resource}...`: unified calls of an integrated account,
//! through the mappings of the environment's installed unified model
//! ([`Patchbay::unified_with_override`](patchbay::Patchbay::unified_with_override)).
//!
//! | route | unified method |
//! |---|---|
//! | `GET /unified/{model}/{resource}` | `list`, one page → `{result, next_cursor, prev_cursor, result_count, is_partial_response}` |
//! | `POST /unified/{model}/{resource}` | `create` |
//! | `GET /unified/{model}/{resource}/{id}` | `get` |
//! | `PATCH /unified/{model}/{resource}/{id}` | `update` |
//! | `DELETE /unified/{model}/{resource}/{id}` | `delete` |
//! | `POST /unified/{model}/{resource}/{method}` | the custom method `{method}`, answered `{result}` |
//!
//! The mappings are layered base row → environment override row → the
//! account's `unified_model_override`. Every route needs
//! `integrated_account_id`; the other query parameters reach the mappings
//! nested (`updated_at[gt]=x` → `query.updated_at.gt`), with the `truto_*`
//! and `remote_query[...]` parameters and `limit` / `next_cursor` as
//! `docs/unified.md` describes. Errors carry `truto_error_insight`; sandbox
//! accounts refuse `create`, `update` and `delete` (405); a provider 401 marks
//! the account `needs_reauth` and queues `integrated_account:authentication_error`,
//! as proxy calls do.

use axum::Json;
use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use patchbay::unified::{AccountOverride, UnifiedRequest, nest_query};
use serde_json::{Map, Value, json};

use super::proxy::facade_error;
use super::responses::{
    SandboxErrors, UnifiedAccount, UnifiedErrors, UnifiedRecord, UnifiedResource,
};
use super::views::UnifiedListView;
use crate::auth::Env;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::query::QueryParams;
use crate::state::AppState;

/// Request headers never shown to mappings: the caller's credentials.
const PRIVATE_HEADERS: [&str; 4] = [
    "authorization",
    "cookie",
    "proxy-authorization",
    "x-api-key",
];

/// Answer headers a `response_header_mapping` may not set: the server frames
/// the JSON answer itself.
const FRAMING_HEADERS: [&str; 4] = [
    "connection",
    "content-length",
    "content-type",
    "transfer-encoding",
];

/// One unified call as the route received it: the environment, the path's model,
/// resource and last segment (a record id, or a custom method's name), the query, the
/// headers and the body.
pub struct UnifiedCall {
    state: AppState,
    env: String,
    model: String,
    resource: String,
    segment: Option<String>,
    raw_query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl FromRequest<AppState> for UnifiedCall {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let (mut parts, body) = request.into_parts();
        let Env(env) = Env::from_request_parts(&mut parts, state).await?;
        let Path(mut params) =
            Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
                .await
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let mut take = |name: &str| params.remove(name);
        let (Some(model), Some(resource)) = (take("model"), take("resource")) else {
            return Err(ApiError::not_found("no such route"));
        };
        let segment = take("id");
        let raw_query = parts.uri.query().map(str::to_owned);
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| ApiError::new(e.status(), e.body_text()))?;
        Ok(Self {
            state: state.clone(),
            env,
            model,
            resource,
            segment,
            raw_query,
            headers,
            body,
        })
    }
}

impl UnifiedCall {
    /// Runs the call for the account named in the query and answers the
    /// unified body (custom methods' wrapped in `{result}`) with the headers
    /// of the mapping's `response_header_mapping`.
    async fn run(self, method: &str, id: Option<String>, custom: bool) -> ApiResult<Response> {
        let (state, env) = (&self.state, self.env.as_str());
        let query = QueryParams::parse(self.raw_query.as_deref())?;
        let account_id = query.required("integrated_account_id")?;
        let target = state
            .runtimes
            .for_unified(env, account_id, &self.model)
            .await?;
        if !target.model.resources.contains_key(&self.resource) {
            return Err(ApiError::not_found(format!(
                "unified model `{}` has no resource `{}`",
                self.model, self.resource
            )));
        }
        let account_override = account_override(state, env, account_id).await?;
        let request = UnifiedRequest {
            id,
            query: nest_query(query.without(&["integrated_account_id"])),
            body: body_of(&self.body)?,
            headers: visible_headers(&self.headers),
            ..UnifiedRequest::default()
        };
        let response = target
            .patchbay
            .unified_with_override(
                account_id,
                &self.model,
                &self.resource,
                method,
                request,
                account_override.as_ref(),
            )
            .await
            .map_err(|e| unified_error(e, &target.integration_name))?;
        let mut body = response.body.into_json();
        if custom {
            body = json!({ "result": body });
        }
        let mut answer = Json(body).into_response();
        for (name, value) in &response.headers {
            if FRAMING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                continue;
            }
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                answer.headers_mut().insert(name, value);
            }
        }
        Ok(answer)
    }
}

/// The account's `unified_model_override`, read for each call (it is
/// validated when set, so it parses).
///
/// # Errors
///
/// 404 for an account not in the environment, 422 for a stored override
/// that does not parse.
pub(crate) async fn account_override(
    state: &AppState,
    env: &str,
    account_id: &str,
) -> ApiResult<Option<AccountOverride>> {
    let Some(value) = state
        .store
        .account_unified_override(env, account_id)
        .await?
    else {
        return Ok(None);
    };
    serde_json::from_value(value).map(Some).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the account's stored `unified_model_override` cannot be read: {e}"),
        )
    })
}

/// The request body, `None` when there is none.
fn body_of(bytes: &[u8]) -> ApiResult<Option<Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    parse_json(bytes).map(Some)
}

/// The caller's headers as the mappings see them (lowercase names, text
/// values), without its credentials.
fn visible_headers(headers: &HeaderMap) -> Map<String, Value> {
    headers
        .iter()
        .filter(|(name, _)| !PRIVATE_HEADERS.contains(&name.as_str()))
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            Some((name.as_str().to_owned(), Value::String(value.to_owned())))
        })
        .collect()
}

/// A facade error as the unified routes answer it (see the module docs).
fn unified_error(error: patchbay::Error, integration: &str) -> ApiError {
    if let Some(mapped) = error.unified_error() {
        let status = StatusCode::from_u16(mapped.status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .unwrap_or(StatusCode::BAD_GATEWAY);
        let body = match mapped.body {
            Value::Object(body) => body,
            other => {
                let mut body = Map::new();
                body.insert("message".into(), error.to_string().into());
                body.insert("error_body".into(), other);
                body
            }
        };
        return ApiError::Unified { status, body };
    }
    match error {
        patchbay::Error::UnknownUnifiedMethod {
            model,
            resource,
            method,
            ..
        } => ApiError::not_found(format!(
            "unified model `{model}` has no mapping of {resource} method `{method}` for integration `{integration}`"
        )),
        error @ patchbay::Error::InvalidUnifiedMapping { .. } => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
        }
        other => facade_error(other),
    }
}

/// `GET /unified/{model}/{resource}`: one page of `list`.
#[utoipa::path(
    get,
    path = "/unified/{model}/{resource}",
    operation_id = "unified_list",
    summary = "Unified: list records",
    description = "Runs the unified `list` of the resource for the account: the mapped query goes to the integration's method, one page comes back mapped. Pass `next_cursor` back for the next page. `truto_response_format`, `truto_key_by`, `truto_ignore_limit`, `truto_ignore_remote_data`, `truto_exclude_fields` and `remote_query[...]` apply as in Truto.",
    tag = "unified",
    params(
        UnifiedResource,
        UnifiedAccount,
        ("limit" = Option<u32>, Query, description = "Page size (also `query.limit` for the mappings)."),
        ("next_cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page."),
    ),
    responses(
        (status = 200, description = "One page of unified records.", body = UnifiedListView),
        UnifiedErrors,
    ),
)]
pub async fn list(call: UnifiedCall) -> ApiResult<Response> {
    call.run("list", None, false).await
}

/// `POST /unified/{model}/{resource}`: `create` with the unified body.
#[utoipa::path(
    post,
    path = "/unified/{model}/{resource}",
    operation_id = "unified_create",
    summary = "Unified: create a record",
    description = "Runs the unified `create` with the unified body (required fields of the mapping's `request_body_schema` are checked first: `400` with `truto_error_insight.missing_required_body_fields`, nothing sent). Answers the mapped record.",
    tag = "unified",
    params(UnifiedResource, UnifiedAccount),
    request_body(content = Option<Object>, description = "The unified record to create."),
    responses(
        (status = 200, description = "The mapped record.", body = Object),
        UnifiedErrors,
        SandboxErrors,
    ),
)]
pub async fn create(call: UnifiedCall) -> ApiResult<Response> {
    call.run("create", None, false).await
}

/// `GET /unified/{model}/{resource}/{id}`: `get`.
#[utoipa::path(
    get,
    path = "/unified/{model}/{resource}/{id}",
    operation_id = "unified_get",
    summary = "Unified: get a record",
    description = "Runs the unified `get` of the record and answers it mapped.",
    tag = "unified",
    params(UnifiedRecord, UnifiedAccount),
    responses(
        (status = 200, description = "The mapped record.", body = Object),
        UnifiedErrors,
    ),
)]
pub async fn get(call: UnifiedCall) -> ApiResult<Response> {
    let id = call.segment.clone();
    call.run("get", id, false).await
}

/// `PATCH /unified/{model}/{resource}/{id}`: `update` with the unified body.
#[utoipa::path(
    patch,
    path = "/unified/{model}/{resource}/{id}",
    operation_id = "unified_update",
    summary = "Unified: update a record",
    description = "Runs the unified `update` of the record with the unified body and answers the mapped record.",
    tag = "unified",
    params(UnifiedRecord, UnifiedAccount),
    request_body(content = Option<Object>, description = "The unified fields to change."),
    responses(
        (status = 200, description = "The mapped record.", body = Object),
        UnifiedErrors,
        SandboxErrors,
    ),
)]
pub async fn update(call: UnifiedCall) -> ApiResult<Response> {
    let id = call.segment.clone();
    call.run("update", id, false).await
}

/// `DELETE /unified/{model}/{resource}/{id}`: `delete`.
#[utoipa::path(
    delete,
    path = "/unified/{model}/{resource}/{id}",
    operation_id = "unified_delete",
    summary = "Unified: delete a record",
    description = "Runs the unified `delete` of the record and answers what its mapping makes of the provider's answer.",
    tag = "unified",
    params(UnifiedRecord, UnifiedAccount),
    responses(
        (status = 200, description = "The mapped answer.", body = Object),
        UnifiedErrors,
        SandboxErrors,
    ),
)]
pub async fn delete(call: UnifiedCall) -> ApiResult<Response> {
    let id = call.segment.clone();
    call.run("delete", id, false).await
}

/// `POST /unified/{model}/{resource}/{method}`: a custom method, `{result}`.
#[utoipa::path(
    post,
    path = "/unified/{model}/{resource}/{id}",
    operation_id = "unified_custom",
    summary = "Unified: call a custom method",
    description = "`POST /unified/{model}/{resource}/{method}`: runs the unified custom method named by the last path segment (documented as `{id}` because the path is shared with the record routes) with the unified body; the `id` query parameter, if given, is the record id. Answers `{\"result\": …}` (Truto's wrapping).",
    tag = "unified",
    params(
        ("model" = String, Path, description = "The unified model's name, e.g. `crm`."),
        ("resource" = String, Path, description = "The unified resource, e.g. `contacts`."),
        ("id" = String, Path, description = "The name of the custom method (this route shares its path with the record routes)."),
        UnifiedAccount,
        ("id" = Option<String>, Query, description = "The record id the custom method acts on, if any."),
    ),
    request_body(content = Option<Object>, description = "The unified body."),
    responses(
        (status = 200, description = "`{result}`: the mapped answer.", body = Object),
        UnifiedErrors,
    ),
)]
pub async fn custom(call: UnifiedCall) -> ApiResult<Response> {
    let method = call.segment.clone().unwrap_or_default();
    let id = QueryParams::parse(call.raw_query.as_deref())?
        .get("id")
        .map(str::to_owned);
    call.run(&method, id, true).await
}
